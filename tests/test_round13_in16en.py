"""Round 13 of issue 10 (in16en, English in scope): the dev16 set's shape, the impersonal polite frames
("I wonder whether it might be possible to …", "would it be too much trouble to …", Indian English
"kindly") read as requests, and the leave-one-set-out bench's ``--tune``. Real components: the
normaliser, the speaker checks with the real distress lexicon, the catalog and symptom list."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from assistant.understanding import normalize as normalize_module
from assistant.understanding import speaker as speaker_module
from assistant.understanding.catalog import load_catalog
from assistant.understanding.distress import load_lexicon
from assistant.understanding.normalize import normalize, strip_hedges
from assistant.understanding.speaker import Speaker
from assistant.understanding.symptoms import symptom_names
from assistant.understanding.understander import ACTS

ROOT = Path(__file__).resolve().parent.parent


def _rows() -> list[dict]:
    path = ROOT / "bench" / "data" / "intent-dev16-en.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def test_dev16_covers_every_non_emergency_intent_with_out_of_scope_and_negated_lines() -> None:
    rows = _rows()
    assert len(rows) >= 320
    assert len({row["text"].lower() for row in rows}) == len(rows)  # no line twice
    intents = {i for i in load_catalog("en").intent_ids() if not load_catalog("en").intents[i].reject}
    counts = {i: sum(row["intent"] == i for row in rows) for i in intents - {"emergency"}}
    assert min(counts.values()) >= 12, counts
    assert sum(row["kind"] == "out_of_scope" and row["intent"] is None for row in rows) >= 30
    negated = [row for row in rows if row["kind"] == "negated"]
    assert len(negated) >= 25
    assert all(row["intent"] is None and row["not_intent"] in ACTS for row in negated)


def test_dev16_labels_use_configured_names_and_known_symptoms() -> None:
    known = set(symptom_names("en"))
    for row in _rows():
        slots = row.get("slots") or {}
        assert slots.get("contact") in (None, "Anna", "David"), row
        assert slots.get("medication") in (None, "amlodipine", "metformin"), row
        if row["intent"] == "report_symptom":
            assert row["kind"] == "symptom" and slots["symptom"] in known, row


def _plain(text: str) -> str:
    return strip_hedges(normalize(text, "en"), "en")


@pytest.mark.parametrize(
    ("said", "plain"),
    [
        (
            "I wonder whether it might be possible to have a word with my daughter",
            "have a word with my daughter",
        ),
        ("Would it be possible to see the doctor this week?", "see the doctor this week"),
        ("Is it at all possible for me to speak with David", "speak with david"),
        ("Kindly order my sugar tablets", "order my sugar tablets"),
    ],
)
def test_impersonal_polite_frames_are_dropped_when_on(said: str, plain: str, monkeypatch) -> None:
    assert _plain(said) != plain  # off (normalize.POLITE_FRAMES_EN): the frame stays
    monkeypatch.setattr(normalize_module, "POLITE_FRAMES_EN", True)
    assert _plain(said) == plain


def test_a_general_possibility_question_keeps_its_words(monkeypatch) -> None:
    monkeypatch.setattr(normalize_module, "POLITE_FRAMES_EN", True)
    said = "is it possible to get shingles twice"  # about anyone: no "for me", no frame
    assert _plain(said) == normalize(said, "en")


@pytest.fixture(scope="module")
def speaker_en() -> Speaker:
    return Speaker("en", load_lexicon("en"))


@pytest.mark.parametrize(
    "said",
    [
        "would it be too much trouble to put a call through to anna",
        "might it be possible to get the doctor on the phone",
    ],
)
def test_polite_impersonal_requests_are_no_general_questions_when_on(
    speaker_en, said: str, monkeypatch
) -> None:
    assert speaker_en.general_question(said)  # off (speaker.POLITE_ASKS_EN): read as a question about anyone
    monkeypatch.setattr(speaker_module, "POLITE_ASKS_EN", True)
    assert speaker_en.involved(said) and not speaker_en.general_question(said)


def test_polite_asks_leave_real_general_questions_alone(speaker_en, monkeypatch) -> None:
    monkeypatch.setattr(speaker_module, "POLITE_ASKS_EN", True)
    assert speaker_en.general_question("would it be sensible to take aspirin for a cold")
    assert speaker_en.general_question("does the chemist deliver on a sunday")


def test_devtrain_tune_sets_a_trainer_constant_and_names_the_models(monkeypatch) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import intent_devtrain

    from assistant.understanding import train

    monkeypatch.setattr(train, "SVC_C", train.SVC_C)  # restored after the test
    tag = intent_devtrain.apply_tuning(["understanding.train.SVC_C=0.5"])
    assert train.SVC_C == 0.5 and tag == "-understanding.train.SVC_C=0.5"
    with pytest.raises(SystemExit):
        intent_devtrain.apply_tuning(["understanding.train.NO_SUCH_CONSTANT=1"])


@pytest.fixture(scope="module")
def en(tmp_path_factory: pytest.TempPathFactory):
    from test_understander import _settings

    from assistant.pipeline import build_understander

    return build_understander(_settings("en", tmp_path_factory.mktemp("state")), "en")


STORY_FIRST = "the post came with a letter from the council, so get David on the phone"


def test_clause_fallback_is_off_and_reads_a_request_after_a_story_when_on(en, monkeypatch) -> None:
    import assistant.understanding.understander as understander_module

    assert not understander_module.CLAUSE_FALLBACK["en"]
    assert en._clause_request(STORY_FIRST, normalize(STORY_FIRST, "en")) is not None  # the method alone
    monkeypatch.setattr(understander_module, "CLAUSE_FALLBACK", {"en": True, "zh": False})
    got = en.match(STORY_FIRST)
    assert got.intent == "call_contact" and got.slots.get("contact") == "David"


@pytest.mark.parametrize(
    "said",
    [
        "pauline, pop round the chemist for me and pick up my prescription",  # said to someone in the room
        "I would ring David, only he's at work all day",  # unreal: nothing asked now
    ],
)
def test_clause_fallback_keeps_the_whole_lines_vetoes(en, said: str, monkeypatch) -> None:
    import assistant.understanding.understander as understander_module

    monkeypatch.setattr(understander_module, "CLAUSE_FALLBACK", {"en": True, "zh": False})
    assert en.match(said).intent is None
    assert en._clause_request(said, normalize(said, "en")) is None


def test_clause_fallback_skips_a_line_the_model_reads_as_declined(en, monkeypatch) -> None:
    import assistant.understanding.understander as understander_module

    display = normalize(STORY_FIRST, "en")
    monkeypatch.setattr(understander_module, "CLAUSE_NEGATED_P", None)
    assert en._clause_request(STORY_FIRST, display) is not None
    monkeypatch.setattr(understander_module, "CLAUSE_NEGATED_P", 0.0)  # every line "declined enough"
    assert en._clause_request(STORY_FIRST, display) is None
