"""The request store on both databases: exactly once, migrations, queue order, adherence, bad rows."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backend_helpers import postgres_database

from assistant import cli
from assistant.link import protocol as m
from jiayi_backend import db as dbmod
from jiayi_backend.store import RequestStore


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "store.sqlite3")
    else:
        with postgres_database() as url:
            yield url


def _req(device: str = "dev-1", request_type: str = "call_doctor", **kw) -> m.Request:
    tier = "emergency" if request_type == "emergency" else kw.pop("tier", "plain")
    return m.Request(device_id=device, request_type=request_type, tier=tier, **kw)


def test_exactly_once_per_device_and_message_id_from_many_threads(target: str) -> None:
    stores = [RequestStore(target) for _ in range(4)]  # like four workers, each its own connection
    reqs = [_req(f"dev-{i % 3}") for i in range(60)]
    results: list[bool] = []
    lock = threading.Lock()

    def worker(store: RequestStore, name: str) -> None:
        for req in reqs:  # every worker gets every request: only one insert may win
            new = store.insert(req, req.to_json(), name)
            with lock:
                results.append(new)

    threads = [threading.Thread(target=worker, args=(s, f"w{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count(True) == 60 and results.count(False) == 180
    rows = stores[0].rows()
    assert sorted(r["message_id"] for r in rows) == sorted(r.message_id for r in reqs)
    # The same id from another device is another request (a device cannot pre-empt another's id).
    other = m.Request(device_id="dev-9", message_id=reqs[0].message_id, request_type="check_in")
    assert stores[0].insert(other, other.to_json(), "w0") is True
    assert stores[0].count() == 61
    for s in stores:
        s.close()


def test_migrations_are_versioned_and_run_once_when_workers_start_together(target: str) -> None:
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            RequestStore(target).close()
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=open_one) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    store = RequestStore(target)
    shipped = dbmod.migrations(store.db.dialect)
    assert [v for v, _n, _s in shipped] == list(range(1, len(shipped) + 1))
    rows = store.db.query("SELECT version, name FROM schema_version ORDER BY version")
    assert [(int(v), n) for v, n in rows] == [(v, n) for v, n, _s in shipped]
    assert dbmod.migrate(store.db) == len(shipped)  # nothing left to do
    store.db.query("INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', 0)")
    with pytest.raises(dbmod.DatabaseError, match="newer than this program"):
        dbmod.migrate(store.db)
    store.close()


def test_queue_puts_emergencies_first_then_oldest_and_skips_records(target: str) -> None:
    store = RequestStore(target)
    order = [
        _req("a", "report_symptom"),
        _req("b", "medication_taken"),  # only recorded: not in the queue
        _req("c", "call_doctor"),
        _req("d", "emergency"),
        _req("e", "check_in"),
        _req("f", "emergency"),
    ]
    for req in order:
        store.insert(req, req.to_json(), "w")
        time.sleep(0.002)
    token = store.change_token()
    queue = store.queue()
    assert [q.device_id for q in queue] == ["d", "f", "a", "c"]
    store.set_state(queue[0].id, "closed")
    assert [q.device_id for q in store.queue()] == ["f", "a", "c"]
    assert store.change_token() != token
    store.close()


def test_adherence_counts_taken_and_missed_per_medicine_and_day(target: str) -> None:
    store = RequestStore(target)
    for kind, med in [
        ("medication_taken", "amlodipine"),
        ("medication_taken", "amlodipine"),
        ("medication_missed", "amlodipine"),
        ("medication_taken", "metformin"),
    ]:
        req = _req("dev-1", kind, slots={"medication": med})
        store.insert(req, req.to_json(), "w")
    adherence = store.adherence("dev-1", days=7)
    assert len(adherence.days) == 7
    today = adherence.days[-1]
    assert adherence.by_medication["amlodipine"][today].taken == 2
    assert adherence.by_medication["amlodipine"][today].missed == 1
    assert adherence.by_medication["metformin"][today].taken == 1
    assert store.adherence("dev-2").by_medication == {}
    store.close()


def test_unversioned_sqlite_store_is_adopted_without_losing_a_row(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE requests (message_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, request_type TEXT"
        " NOT NULL, tier TEXT NOT NULL, sent_at TEXT NOT NULL, received_at REAL NOT NULL, worker TEXT"
        " NOT NULL, payload TEXT NOT NULL)"
    )
    req = _req("dev-1", "check_in")
    old.execute(
        "INSERT INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (req.message_id, "dev-1", "check_in", "plain", req.sent_at, 1.0, "w", req.to_json().decode()),
    )
    old.commit()
    old.close()
    store = RequestStore(path)
    assert [r["message_id"] for r in store.rows()] == [req.message_id]
    assert store.insert(req, req.to_json(), "w") is False  # still deduplicated
    store.close()


BAD_ROWS = [
    '{"slots": {"name": "Dr. \\ud800Chen"}}',  # lone surrogate (older versions stored these)
    "{oops",
    "[1, 2]",
    "[" * 4000 + "]" * 4000,
    '{"confidence": NaN}',
]


def test_requests_command_never_crashes_on_anything_stored(target: str, capsys) -> None:
    store = RequestStore(target)
    for i, payload in enumerate(BAD_ROWS):
        store.db.query(
            "INSERT INTO requests (device_id, message_id, request_type, tier, sent_at, received_at, worker,"
            " payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (f"dev-{i}", f"id-{i}", "check_in", "plain", "2026-01-01T00:00:00+00:00", float(i), "w", payload),
        )
    store.close()
    assert cli.main(["backend", "requests", "--json", "--db", target]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(BAD_ROWS)
    assert rows[0]["payload"]["slots"]["name"] == "Dr. \ufffdChen"
    assert all(r["payload"] == {"unreadable": True} for r in rows[1:4])
    assert cli.main(["backend", "requests", "--db", target]) == 0
    out = capsys.readouterr().out
    assert out.count("check_in") == len(BAD_ROWS) and "Dr. \ufffdChen" in out


def test_unreachable_postgres_is_a_plain_error(capsys) -> None:
    assert cli.main(["backend", "requests", "--db", "postgresql://postgres@127.0.0.1:1/none"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach PostgreSQL at postgresql://postgres@127.0.0.1:1/none" in err
    assert "Traceback" not in err


def _open_and_migrate(path: str, results: Any) -> None:
    try:
        dbmod.migrate(dbmod.SqliteDatabase(Path(path)))
        results.put("ok")
    except Exception as err:  # reported to the parent, which asserts on it
        results.put(repr(err))


def test_two_processes_opening_a_new_sqlite_file_together_both_start(tmp_path: Path) -> None:
    # SQLite refuses a concurrent switch to WAL with "database is locked" without waiting; two
    # workers started together failed 8 times in 200 before the switch was retried (CI saw it).
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    failures = []
    for trial in range(40):
        results = ctx.Queue()
        path = str(tmp_path / f"s{trial}.sqlite3")
        procs = [ctx.Process(target=_open_and_migrate, args=(path, results)) for _ in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
        outcome = [results.get(timeout=5) for _ in procs]
        failures += [o for o in outcome if o != "ok"]
    assert failures == []
