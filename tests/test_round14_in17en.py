"""Round 14 of issue 10 (in17en, English in scope): the dev17 set's shape (English as a second
language, telegraphic, relayed, recogniser lowercase) and the round's switches, each tried with its
constant on: English-as-a-second-language forms in the normaliser, "they" meaning the medicine, the
purpose told with "of", contacts' pet names, hours as time evidence and telegraphic training copies.
Real components: the normaliser, the speaker checks with the real distress lexicon, the slot index
built from the real catalog, the trainer's example builder."""

from __future__ import annotations

import json
import random
from pathlib import Path

from assistant.understanding import normalize as normalize_module
from assistant.understanding import slots as slots_module
from assistant.understanding import speaker as speaker_module
from assistant.understanding import train as train_module
from assistant.understanding.catalog import load_catalog
from assistant.understanding.distress import load_lexicon
from assistant.understanding.normalize import normalize
from assistant.understanding.slots import config_slot_index, diminutives_en, model_tokens
from assistant.understanding.speaker import Speaker
from assistant.understanding.symptoms import symptom_names

ROOT = Path(__file__).resolve().parent.parent


def _rows() -> list[dict]:
    path = ROOT / "bench" / "data" / "intent-dev17-en.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def test_dev17_covers_every_non_emergency_intent_weighted_to_the_consequential_ones() -> None:
    rows = _rows()
    assert len(rows) >= 330
    assert len({row["text"].lower() for row in rows}) == len(rows)  # no line twice
    catalog = load_catalog("en")
    intents = {i for i in catalog.intent_ids() if not catalog.intents[i].reject} - {
        "emergency",
        "report_symptom",
    }
    counts = {i: sum(row["intent"] == i for row in rows) for i in intents}
    assert min(counts.values()) >= 12, counts
    assert counts["call_contact"] >= 30 and counts["reorder_medication"] >= 28
    assert sum(row["kind"] == "out_of_scope" and row["intent"] is None for row in rows) >= 35
    assert sum(row["kind"] == "symptom" for row in rows) >= 28


def test_dev17_labels_use_configured_names_and_known_symptoms() -> None:
    known = set(symptom_names("en"))
    for row in _rows():
        slots = row.get("slots") or {}
        assert slots.get("contact") in (None, "Anna", "David"), row
        assert slots.get("medication") in (None, "amlodipine", "metformin"), row
        if row["intent"] == "report_symptom":
            assert row["kind"] == "symptom" and slots["symptom"] in known, row


def test_esl_forms_are_said_the_standard_way_only_when_on(monkeypatch) -> None:
    assert normalize("more loud please", "en") == "more loud please"  # off: see ESL_FORMS_EN
    monkeypatch.setattr(normalize_module, "ESL_FORMS_EN", True)
    assert normalize("more loud please", "en") == "louder please"
    assert normalize("Volume more quiet!", "en") == "volume quieter"
    assert normalize("I take already the pressure pill", "en") == "i have already taken the pressure pill"
    assert (
        normalize("just now I swallow the sugar tablet", "en") == "i have already swallowed the sugar tablet"
    )
    assert normalize("I take two a day", "en") == "i take two a day"  # the habit is left alone
    assert normalize("furthermore loud", "en") == "furthermore loud"


def test_they_after_a_medicine_word_is_the_medicine_when_on(monkeypatch) -> None:
    speaker = Speaker("en", load_lexicon("en"))
    said = normalize("more of the pressure ones, they're nearly out", "en")
    assert speaker.someone_else(said)  # off: "they" is taken for people
    monkeypatch.setattr(speaker_module, "MEDICINE_PRONOUN_EN", True)
    assert not speaker.someone_else(said)
    assert speaker.someone_else(normalize("they say the tablets are nearly out", "en"))  # people first
    assert speaker.someone_else(normalize("my neighbour's pills, she says they're nearly out", "en"))


def _index():
    return config_slot_index(load_catalog("en"), train_module._training_settings("en"))


def test_purpose_with_of_reaches_the_medicine_when_on(monkeypatch) -> None:
    said = normalize("order the medicine of the diabetes", "en")
    assert "medication" not in model_tokens(_index(), said)[1]
    monkeypatch.setattr(slots_module, "MEDICINE_OF_EN", True)
    assert model_tokens(_index(), said)[1].get("medication") == "metformin"


def test_pet_names_reach_the_contact(monkeypatch) -> None:
    assert "dave" in diminutives_en("David") and "annie" in diminutives_en("Anna")
    assert diminutives_en("Al") == ()
    assert "anne" not in diminutives_en("Anna") and "mary" not in diminutives_en(
        "Margaret"
    )  # names of their own
    said = normalize("get me Davey on the phone", "en")
    tokens, values = model_tokens(_index(), said)  # on since round 14
    assert values.get("contact") == "David" and "#contact" in tokens
    monkeypatch.setattr(slots_module, "CONTACT_DIMINUTIVES_EN", False)
    assert "contact" not in model_tokens(_index(), said)[1]


def test_telegraphic_copies_drop_function_words_and_keep_negations() -> None:
    texts = ["can you call my daughter for me", "I don't want to ring Anna", "what is the time", "no"]
    labels = ["call_contact", "__negated__", "time_query", "no"]
    copies = train_module._telegraphic_copies(texts, labels, random.Random(1), 1.0)
    assert ("call daughter", "call_contact") in copies
    assert ("what time", "time_query") in copies
    assert all(label != "__negated__" for _, label in copies)  # declined lines are not copied
    assert all(len(text.split()) >= 2 for text, _ in copies)
    assert copies == train_module._telegraphic_copies(texts, labels, random.Random(1), 1.0)
