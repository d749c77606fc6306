"""Round 12, English distress (dis15en): the dev set's shape (harmless danger-word lines, emergencies
and plain symptom reports, each kind in both halves)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV15 = ROOT / "bench" / "data" / "distress-dev15-en.jsonl"


def _rows() -> list[dict]:
    return [json.loads(line) for line in DEV15.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_dev15_has_the_promised_shape() -> None:
    rows = _rows()
    assert len(rows) >= 250
    assert all(set(r) == {"text", "emergency", "note"} and isinstance(r["emergency"], bool) for r in rows)
    assert len({r["text"] for r in rows}) == len(rows)
    emergencies = sum(r["emergency"] for r in rows)
    symptoms = sum(r["note"] == "symptom" for r in rows)
    assert not any(r["emergency"] for r in rows if r["note"] == "symptom")
    assert 0.30 <= emergencies / len(rows) <= 0.40 and 0.15 <= symptoms / len(rows) <= 0.25
    harmless_kinds = {r["note"] for r in rows if not r["emergency"] and r["note"] != "symptom"}
    assert len(harmless_kinds) >= 12  # many different kinds, not one
    for half in (rows[0::2], rows[1::2]):  # each kind is split evenly between the halves
        assert 40 <= sum(r["emergency"] for r in half) <= 52
        assert 22 <= sum(r["note"] == "symptom" for r in half) <= 31
    odd, even = Counter(r["note"] for r in rows[0::2]), Counter(r["note"] for r in rows[1::2])
    assert all(abs(odd[k] - even[k]) <= 1 for k in odd | even)
