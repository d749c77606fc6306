"""Round 12, English distress (dis15en): the dev set's shape (harmless danger-word lines, emergencies
and plain symptom reports, each kind in both halves)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from assistant.understanding import distress_raise, distress_veto
from assistant.understanding.distress import DistressDetector
from assistant.understanding.normalize import normalize

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


# ---------------------------------------------------------------- the veto reads the lexicon's scope


def test_scope_names_each_cue_whose_it_is_and_the_evidence() -> None:
    detector = DistressDetector("en")
    scope = detector.scope(normalize("my husband fell on tuesday but he's fine now", "en"))
    assert {"#cat:fall", "#who:near", "#ctx:recent", "#ctx:recovered"} <= set(scope)
    assert "#why:past" in scope or "#why:recovered" in scope  # the rules clear it
    standing = detector.scope(normalize("i've fallen in the hall and i can't get up", "en"))
    assert {"#cat:fall", "#who:self", "#why:none", "#ctx:urgent"} <= set(standing)
    assert detector.scope("what time is it") == []


def test_extra_features_change_the_score_only_when_the_model_knows_them() -> None:
    texts = [("i fell", ("#who:self",)), ("he fell", ("#who:far",))] * 4
    model = distress_veto.fit_binary(texts, [True, False] * 4, "en", distress_veto.LR_C)
    veto = distress_veto.DistressVeto(model)
    assert veto.p_emergency("it fell", ("#who:self",)) > veto.p_emergency("it fell", ("#who:far",))
    assert veto.p_emergency("it fell", ("#unknown",)) == pytest.approx(veto.p_emergency("it fell"))


def test_the_veto_with_scope_features_learns_and_keeps_the_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trained in this process (the child process reads the file's constants)."""
    monkeypatch.setitem(distress_veto.EXTRA_DATA, "en", True)
    monkeypatch.setitem(distress_veto.SCOPE_FEATURES, "en", True)
    texts, labels = distress_veto.examples("en")
    assert all(isinstance(t, tuple) for t in texts) and any("#why:none" in t[1] for t in texts)
    veto = distress_veto.DistressVeto(distress_veto.fit_binary(texts, labels, "en", distress_veto.LR_C))
    detector = DistressDetector("en", veto=veto)
    assert detector.detect("my husband's collapsed in the kitchen and he isn't moving").emergency
    assert detector.detect("help, i've cut my arm badly and it won't stop bleeding").emergency
    assert detector.detect("help help").emergency  # a cry is never vetoed


# ---------------------------------------------------------------- generated symptom reports (off)


def test_symptom_reports_are_plain_deterministic_and_cue_free() -> None:
    reports = distress_raise.symptom_reports("en")
    assert len(reports) == distress_raise.SYMPTOM_REPORTS_N and len(set(reports)) == len(reports)
    assert reports == distress_raise.symptom_reports("en")
    detector = DistressDetector("en")
    assert not any(detector.detect(t, normalized=True).any_cue for t in reports)
    assert sum(" and " in t for t in reports) > len(reports) / 2  # mostly two complaints joined
    assert distress_raise.symptom_reports("zh") == []


def test_symptom_reports_equal_no_check_or_fresh_line() -> None:
    from bench.intent import DISTRESS_HALVES

    reports = set(distress_raise.symptom_reports("en"))
    held: set[str] = set()
    for name in DISTRESS_HALVES:
        path = ROOT / "bench" / "data" / f"distress-{name}-en.jsonl"
        if not path.exists():
            continue  # a set written for one language only (distress-dev16: Mandarin)
        lines = [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]
        held |= {normalize(r["text"], "en") for r in lines[1::2]}
    for kind in ("fresh", "fresh2", "fresh3"):
        path = ROOT / "bench" / "data" / f"intent-{kind}-en.jsonl"
        held |= {
            normalize(json.loads(x)["text"], "en") for x in path.read_text("utf-8").splitlines() if x.strip()
        }
    assert not reports & held, "a generated symptom report equals a check or fresh line"


def test_symptom_negatives_are_off_and_name_the_model_when_on(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not distress_raise.SYMPTOM_NEGATIVES["en"]  # off: it cost pooled unseen recall (round 12)
    off = distress_raise.data_hash("en")
    monkeypatch.setitem(distress_raise.SYMPTOM_NEGATIVES, "en", True)
    assert distress_raise.data_hash("en") != off
    texts, labels = distress_raise.examples("en")
    assert set(distress_raise.symptom_reports("en")) <= {
        t for t, y in zip(texts, labels, strict=True) if not y
    }


# ---------------------------------------------------------------- the acute floor of the veto


class _SureItIsHarmless:
    """A veto that would clear anything (p(emergency) 0): what is left standing is the floor's doing."""

    def clears(self, text: str, categories: set[str], scope: object = ()) -> bool:
        return not categories & distress_veto.FLOOR_CATEGORIES


def test_the_acute_floor_keeps_choking_from_any_veto(monkeypatch: pytest.MonkeyPatch) -> None:
    detector = DistressDetector("en", veto=_SureItIsHarmless())  # type: ignore[arg-type]
    acute = "i am choking on a piece of chicken, it's stuck"
    plain = "my husband has collapsed in the kitchen"
    monkeypatch.setitem(distress_veto.ACUTE_FLOOR, "en", False)
    assert not detector.detect(acute).emergency and not detector.detect(plain).emergency
    monkeypatch.setitem(distress_veto.ACUTE_FLOOR, "en", True)
    assert detector.detect(acute).emergency  # choking / stuck: never_mild, never vetoed
    assert not detector.detect(plain).emergency  # other cues: the veto still decides


def test_what_round_12_ships() -> None:
    assert distress_veto.EXTRA_DATA["en"] and distress_veto.ACUTE_FLOOR["en"]  # on: unseen false alarms fell
    assert distress_veto.threshold("en") == 0.15  # 0.2 cleared one emergency with its half left out
    assert not distress_veto.SCOPE_FEATURES["en"] and not distress_raise.SYMPTOM_NEGATIVES["en"]  # off
    # Mandarin: on since round 13 (dis16zh), tests/test_distress_dev16_zh.py
