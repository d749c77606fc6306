"""Round 11, English distress precision (dis14en): the dev set's shape, the raiser yielding to a
confident symptom report, and the measured-but-off mechanisms (they still work when switched on)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from test_matcher import _settings as matcher_settings

from assistant.pipeline import build_understander
from assistant.understanding import distress, distress_veto, understander
from assistant.understanding.catalog import read_yaml
from assistant.understanding.distress import LEARNED, DistressDetector, lexicon_path, parse_lexicon

ROOT = Path(__file__).resolve().parent.parent
DEV14 = ROOT / "bench" / "data" / "distress-dev14-en.jsonl"


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dev14-state")


@pytest.fixture(scope="module")
def en(state: Path):
    return build_understander(dataclasses.replace(matcher_settings("en"), state_dir=str(state)), "en")


def test_dev14_has_the_promised_shape() -> None:
    rows = [json.loads(line) for line in DEV14.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 220
    assert all(set(r) == {"text", "emergency", "note"} and isinstance(r["emergency"], bool) for r in rows)
    assert sum(not r["emergency"] for r in rows) >= 150 and sum(r["emergency"] for r in rows) >= 70
    assert len({r["text"] for r in rows}) == len(rows)
    for half in (rows[0::2], rows[1::2]):  # both halves hold both kinds in like measure
        assert 30 <= sum(r["emergency"] for r in half) <= 50


# ---------------------------------------------------------------- the raiser yields to a symptom report

REPORT_RAISED = "i've no energy and my legs are swollen"
"""A symptom report (dev12-neg's odd half) the raiser calls an emergency (p 0.88) with no danger word."""


def test_with_the_gate_on_a_confident_symptom_report_is_not_a_raised_emergency(
    en, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert en.distress.detect(REPORT_RAISED).category == LEARNED  # the raiser alone would alarm
    monkeypatch.setattr(understander, "RAISED_SYMPTOM_P", 0.5)
    assert en.match(REPORT_RAISED).intent == "report_symptom"


def test_the_gate_is_off_and_the_raiser_alarms(en) -> None:
    assert understander.RAISED_SYMPTOM_P is None  # off: it cost unseen recall (docs/benchmarks/intent.md)
    assert en.match(REPORT_RAISED).intent == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "there's a heaviness on my chest and i've gone all clammy",
        "i'm ever so poorly, nobody's here and i can't reach the door",
    ],
)
def test_raised_emergencies_the_model_does_not_read_as_reports_still_alarm(
    en, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = en.distress.detect(text)
    assert result.emergency and result.category == LEARNED
    monkeypatch.setattr(understander, "RAISED_SYMPTOM_P", 0.5)
    assert en.match(text).intent == "emergency"


# ---------------------------------------------------------------- measured, left off


def test_the_off_mechanisms_are_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not distress.ONLY_ASKING and not distress.ADVICE_QUESTION and not distress.THING_PHRASE
    # the extra-data veto is on since round 12 (with the acute floor): tests/test_distress_dev15.py
    assert distress_veto.EXTRA_DATA["en"] and distress_veto.ACUTE_FLOOR["en"]
    assert distress_veto.threshold("en") == distress_veto.VETO_BELOW_EXTRA["en"]
    monkeypatch.setitem(distress_veto.EXTRA_DATA, "en", False)
    assert (
        distress_veto.extra_files("en") == []
        and distress_veto.threshold("en") == distress_veto.VETO_BELOW["en"]
    )


def test_veto_extra_data_names_the_odd_halves_and_negatives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(distress_veto.EXTRA_DATA, "en", True)
    names = [p.name for p in distress_veto.extra_files("en")]
    assert names == ["distress-odd-en.jsonl", "negatives-en.jsonl"]
    assert distress_veto.threshold("en") == distress_veto.VETO_BELOW_EXTRA["en"]
    monkeypatch.setitem(distress_veto.EXTRA_DATA, "zh", False)
    assert distress_veto.extra_files("zh") == []


def test_only_asking_clears_a_question_when_on(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = read_yaml(lexicon_path("en"), distress.DistressLexiconError, "distress lexicon")
    line = "would you ring an ambulance for a nosebleed that won't stop, just asking"
    off = DistressDetector("en", parse_lexicon(raw, "en.yaml", "en"))
    assert off.detect(line).emergency
    monkeypatch.setattr(distress, "ONLY_ASKING", True)
    on = DistressDetector("en", parse_lexicon(raw, "en.yaml", "en"))
    assert not on.detect(line).emergency
    assert on.detect("i'm just asking for help, i've fallen and can't get up").emergency


def test_advice_question_with_a_condition_when_on(monkeypatch: pytest.MonkeyPatch) -> None:
    detector = DistressDetector("en")
    line = "should i call an ambulance if i bang my head but feel all right"
    assert detector.detect(line).emergency
    monkeypatch.setattr(distress, "ADVICE_QUESTION", True)
    assert not detector.detect(line).emergency
    assert detector.detect("should i call an ambulance").emergency  # no condition: still a cry
    assert detector.detect("help, i've fallen, should i call an ambulance").emergency


def test_thing_with_a_place_when_on(monkeypatch: pytest.MonkeyPatch) -> None:
    detector = DistressDetector("en")
    line = "the shelf in the pantry collapsed and there's jam all over the floor"
    assert detector.detect(line).emergency
    monkeypatch.setattr(distress, "THING_PHRASE", True)
    assert [reason for _, reason in detector.detect(line).cleared] == ["thing"]
    for person in (
        "my husband in the kitchen has collapsed",
        "i'm lying in the hall by the door and i can't get up",
        "the chair in the lounge gave way and i can't get up",
    ):
        assert detector.detect(person).emergency, person
