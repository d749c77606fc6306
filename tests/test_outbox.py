"""The durable outbox: send order, persistence across reopen, the bound and its eviction policy."""

from __future__ import annotations

from pathlib import Path

from assistant.link.outbox import Outbox


def _add(box: Outbox, rid: str, tier: str = "plain", t: float = 0.0) -> tuple[bool, list[str]]:
    return box.add(rid, "call_doctor" if tier != "emergency" else "emergency", tier, rid.encode(), t)


def test_rows_survive_reopen_in_send_order_emergencies_first(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    for rid, tier in [("a", "plain"), ("b", "confirm"), ("c", "emergency"), ("d", "plain")]:
        assert _add(box, rid, tier) == (True, [])
    box.close()
    again = Outbox(tmp_path / "o.sqlite3")
    assert [e.request_id for e in again.pending()] == ["c", "b", "a", "d"]
    assert again.pending(limit=1)[0].payload == b"c"
    assert again.depth() == 4


def test_repeated_id_is_a_no_op_and_remove_reports_existence(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    assert _add(box, "a", t=5.0)[0] is True
    assert _add(box, "a", t=9.0)[0] is False
    assert box.oldest_created_at() == 5.0
    assert box.remove("a") is True
    assert box.remove("a") is False
    assert box.depth() == 0 and box.oldest_created_at() is None


def test_when_full_the_oldest_plain_is_evicted_and_emergencies_never(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3", max_rows=3)
    _add(box, "e1", "emergency")
    _add(box, "c1", "confirm")
    _add(box, "p1", "plain")
    assert _add(box, "p2", "plain") == (True, ["p1"])
    assert _add(box, "p3", "plain") == (True, ["p2"])
    # Next evictions take the confirm tier only when no plain row is left apart from the new one.
    assert _add(box, "e2", "emergency") == (True, ["p3"])
    assert _add(box, "e3", "emergency") == (True, ["c1"])
    assert _add(box, "e4", "emergency") == (True, [])  # past the bound rather than drop an emergency
    assert sorted(e.request_id for e in box.pending()) == ["e1", "e2", "e3", "e4"]
    assert box.evicted == 4
