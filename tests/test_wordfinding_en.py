"""Round 12 of issue 10 (dev15): English of older people with word-finding trouble and mild memory
problems — memory asides dropped before matching (on); repeated fragments, word-search fragments,
medicines named by the time of day they are taken, an asked call to a named contact, "I'm nearly out"
as an order cue and "my mouth's dry" as a symptom phrase (all off, each measured flat or costly on the
unseen halves). Real components: the normaliser, the symptom vocabulary and the understander as the
product builds it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from test_matcher import _settings as matcher_settings

import assistant.understanding.understander as understander_module
from assistant.ops.settings import Medication
from assistant.pipeline import build_understander
from assistant.understanding import symptoms as symptoms_module
from assistant.understanding import wordfinding
from assistant.understanding.symptoms import SymptomFinder
from assistant.understanding.wordfinding import dose_time_forms, restate_en


@pytest.mark.parametrize(
    ("said", "left"),
    [
        ("when's the chiropodist, I can't remember, is it Monday", "when's the chiropodist, is it Monday"),
        ("ring our David, I asked you this morning didn't I", "ring our David"),
        (
            "what tablets are due, I've forgotten again, the evening ones",
            "what tablets are due, the evening ones",
        ),
        ("what can you do, my grandson showed me but I've forgotten", "what can you do"),
        ("book me in with the doctor, I keep forgetting to", "book me in with the doctor"),
    ],
)
def test_memory_asides_are_dropped(said: str, left: str) -> None:
    assert wordfinding.MEMORY_ASIDES_EN is True
    assert restate_en(said) == left


@pytest.mark.parametrize(
    "said",
    [
        "I can't remember if I took my water tablet, did I",  # the aside is the question: too little left
        "I can never remember to order my tablets, do it for me",  # "remember to" frames the request
        "I keep forgetting things, names and that, it worries me",  # forgetting is the report
        "I can't remember anything these days, can you tell the doctor",
        "I can't remember if I took them",  # one fragment: nothing to drop
    ],
)
def test_lines_whose_memory_words_carry_the_request_stay(said: str) -> None:
    assert restate_en(said) == said


def test_memory_asides_reach_the_understander(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    en = build_understander(dataclasses.replace(matcher_settings("en"), state_dir=str(tmp_path)), "en")
    line = "when is the doctor's, I can't remember writing it down"
    assert en.match(line).intent == "appointment_query"
    monkeypatch.setattr(wordfinding, "MEMORY_ASIDES_EN", False)
    assert en.match(line).intent is None


def test_repeated_and_word_search_fragments_are_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wordfinding, "MEMORY_ASIDES_EN", False)
    repeated = "I want my son, my son, I want to talk to him"
    searching = "get me more of the, oh what do you call it, the sugar ones"
    assert restate_en(repeated) == repeated and restate_en(searching) == searching
    monkeypatch.setattr(wordfinding, "REPEATED_FRAGMENTS_EN", True)
    assert restate_en(repeated) == "I want my son, I want to talk to him"
    assert restate_en("no, no") == "no, no"  # a one-word answer said twice stays
    monkeypatch.setattr(wordfinding, "WORD_SEARCHES_EN", True)
    assert restate_en(searching) == "get me more of the, the sugar ones"


def test_dose_time_forms_name_the_only_medicine_taken_then() -> None:
    both_mornings = (
        Medication("amlodipine", times=(dt.time(8),)),
        Medication("metformin", times=(dt.time(8), dt.time(18))),
    )
    forms = dict(dose_time_forms(both_mornings))
    assert forms["night tablets"] == "metformin" and forms["ones i take with my tea"] == "metformin"
    assert "morning tablets" not in forms  # two are taken in the morning: neither is meant
    forms = dict(dose_time_forms((Medication("amlodipine", times=(dt.time(13),)),)))
    assert forms == {}  # midday names no part of the day here


def test_dose_time_names_are_off_and_reach_the_slot_when_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = dataclasses.replace(matcher_settings("en"), state_dir=str(tmp_path))  # metformin at 18:00
    assert understander_module.DOSE_TIME_NAMES is False and understander_module.OUT_CUE_EN is False
    line, order = "I've had my night tablets", "my evening pills, I'm nearly out"
    off = build_understander(settings, "en")
    assert "medication" not in off.match(line).slots
    assert off.match(order).intent is None
    monkeypatch.setattr(understander_module, "DOSE_TIME_NAMES", True)
    monkeypatch.setattr(understander_module, "OUT_CUE_EN", True)
    on = build_understander(settings, "en")
    got = on.match(line)
    assert (got.intent, got.slots.get("medication")) == ("medication_taken", "metformin")
    got = on.match(order)
    assert (got.intent, got.slots.get("medication")) == ("reorder_medication", "metformin")


@pytest.mark.parametrize(
    ("said", "asked"),
    [
        ("can you call the, the tall fella, my son", True),
        ("ring the lass that does my hair, my daughter", True),
        ("I want to phone the one in Leeds, Anna", True),
        ("I used to ring my son every week", False),
        ("did you ring Anna", False),
        ("my son rang", False),
    ],
)
def test_an_asked_call_starts_the_line(said: str, asked: bool) -> None:
    from assistant.understanding.normalize import normalize

    assert understander_module.CALL_NAMED_EN is False
    assert bool(understander_module._EN_CALL_ASKED.search(normalize(said, "en"))) is asked


def test_contracted_is_in_symptom_phrases_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SymptomFinder("en").find("my mouth's dry since the new tablets") is None
    monkeypatch.setattr(symptoms_module, "SPOKEN_IS_EN", True)
    found = SymptomFinder("en").find("my mouth's dry since the new tablets")
    assert found is not None and found.symptom == "dry_mouth"
