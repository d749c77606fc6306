"""Round 11 of issue 10 (dev14): older people's everyday English wording — polite request frames and
word searches dropped before the model reads a line, medicine names the recogniser split into words,
English skip-bigram features, and the clause fallback (off) for a story before or an afterthought
after a request. Real components: the normaliser, the config slot index, the model's features and
the understander as the product builds it."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_matcher import _settings as matcher_settings

import assistant.understanding.understander as understander_module
from assistant.pipeline import build_understander
from assistant.understanding import model as model_module
from assistant.understanding import normalize as normalize_module
from assistant.understanding import slots as slots_module
from assistant.understanding.catalog import load_catalog
from assistant.understanding.model import features
from assistant.understanding.normalize import normalize, strip_hedges
from assistant.understanding.slots import config_slot_index, model_tokens


def _plain(text: str) -> str:
    return strip_hedges(normalize(text, "en"), "en")


@pytest.mark.parametrize(
    ("said", "plain"),
    [
        ("Would it be any trouble to give David a tinkle?", "give david a tinkle"),
        ("Do me a favour and ring the boy", "ring the boy"),
        ("Is there any chance of phoning our David", "phoning our david"),
        ("I'd be ever so grateful if you'd call Anna", "call anna"),
        ("I was wondering if you could ring the surgery", "ring the surgery"),
        ("Would you be so kind as to order my tablets", "order my tablets"),
        ("Oh what's it called, the, the pills for my pressure", "oh the pills for my pressure"),
        ("Oh what's her name, my daughter, can I speak to her", "oh my daughter can i speak to her"),
        ("call my my daughter", "call my daughter"),
    ],
)
def test_polite_frames_and_word_searches_are_dropped(said: str, plain: str, monkeypatch) -> None:
    assert _plain(said) != plain or said.lower() == plain  # off by default: the frame stays
    monkeypatch.setattr(normalize_module, "POLITE_FRAMES_EN", True)
    assert _plain(said) == plain


@pytest.mark.parametrize(
    "said",
    [
        "what is her name",  # a question of its own, not a word search
        "what is her name again",
        "there's a chance of rain later",  # only "any chance" / "is there a chance" frame a request
        "no no no",  # a repeated answer word is meant
        "what do you call it",
    ],
)
def test_questions_and_answers_keep_their_words(said: str, monkeypatch) -> None:
    monkeypatch.setattr(normalize_module, "POLITE_FRAMES_EN", True)
    assert _plain(said) == normalize(said, "en")


def test_frames_are_english_only_and_a_frame_alone_stays(monkeypatch) -> None:
    monkeypatch.setattr(normalize_module, "POLITE_FRAMES_EN", True)
    assert strip_hedges("不好意思帮我给安娜打个电话", "zh") == "帮我给安娜打个电话"
    assert _plain("would it be any trouble") == "would it be any trouble"


@pytest.fixture(scope="module")
def slot_index():
    return config_slot_index(load_catalog("en"), matcher_settings("en"))


@pytest.mark.parametrize(
    ("said", "medication"),
    [
        ("order more am low dipping", "amlodipine"),  # split name starting on a slot word ("am")
        ("met for men running low", "metformin"),  # starting on a word that is no slot word, as before
    ],
)
def test_a_medicine_name_the_recogniser_split_is_found(
    slot_index, said: str, medication: str, monkeypatch
) -> None:
    monkeypatch.setattr(slots_module, "FUZZY_SPLIT_NAMES", True)
    tokens, found = model_tokens(slot_index, normalize(said, "en"))
    assert found.get("medication") == medication
    assert "#medication" in tokens


@pytest.mark.parametrize("said", ["i am on my tablets", "i am low today", "am i on the list"])
def test_slot_words_alone_make_no_medicine(slot_index, said: str, monkeypatch) -> None:
    monkeypatch.setattr(slots_module, "FUZZY_SPLIT_NAMES", True)
    _, found = model_tokens(slot_index, normalize(said, "en"))
    assert "medication" not in found


def test_skip_bigrams_pair_words_one_apart(monkeypatch) -> None:
    assert not any(f.startswith("s:") for f in features(["ring", "the", "boy"], "en"))  # off
    monkeypatch.setattr(model_module, "SKIP_BIGRAMS_EN", True)
    feats = features(["ring", "the", "boy"], "en")
    assert "s:ring_boy" in feats
    assert "s:ring_the" not in feats  # neighbours are plain bigrams ("b:")
    assert not any(f.startswith("s:") for f in features(["安", "娜"], "zh"))


def test_clauses_split_at_punctuation_and_story_words() -> None:
    clauses = understander_module._clauses_en
    assert clauses("the missus is out so I'd like a word with my son") == [
        "the missus is out",
        "I'd like a word with my son",
    ]
    assert clauses("come again, the wireless was on") == ["come again", "the wireless was on"]
    assert clauses("ring anna") == ["ring anna"]


@pytest.fixture(scope="module")
def en(tmp_path_factory: pytest.TempPathFactory):
    import dataclasses

    state: Path = tmp_path_factory.mktemp("state")
    return build_understander(dataclasses.replace(matcher_settings("en"), state_dir=str(state)), "en")


def test_clause_fallback_is_off_and_changes_nothing(en) -> None:
    assert understander_module.CLAUSE_FALLBACK["en"] is False
    for line in (
        "come again, the wireless was on",
        "the missus is out at the shops so I'd like a word with my son",
    ):
        assert en.match(line) == en._match_whole(line)


def test_clause_fallback_when_on_takes_a_clause_but_never_against_the_line(en, monkeypatch) -> None:
    monkeypatch.setattr(understander_module, "CLAUSE_FALLBACK", {"en": True, "zh": False})
    got = en.match("the missus is out at the shops so I'd like a word with my son")
    assert got.intent == "call_contact"
    assert got.slots.get("contact") == "David"
    assert got.text == normalize("the missus is out at the shops so I'd like a word with my son", "en")
    # a declined, deferred or someone else's request stays no request
    for line in (
        "i was going to ring anna, never mind",
        "my sister is poorly so she rang her doctor yesterday",
        "turn the radio down, it's too loud",
    ):
        assert en.match(line) == en._match_whole(line), line  # the whole line's reading stands


def test_a_split_name_starting_on_a_slot_word_is_left_alone_when_off(slot_index) -> None:
    assert slots_module.FUZZY_SPLIT_NAMES is False
    _, found = model_tokens(slot_index, normalize("order more am low dipping", "en"))
    assert "medication" not in found


def test_everyday_paraphrases_are_off_and_well_formed(monkeypatch) -> None:
    import json

    from assistant import data
    from assistant.understanding import train

    assert train.EVERYDAY_PARAPHRASES["en"] is False
    path = data.intents_dir() / "training" / "paraphrases-everyday-en.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    intents = set(load_catalog("en").intent_ids())
    assert len(rows) >= 150
    assert all(
        set(row) == {"text", "intent"} and (row["intent"] is None or row["intent"] in intents) for row in rows
    )
    monkeypatch.setattr(train, "TELEGRAPHIC_SHARE", {"en": 0.0})  # round 14's copies would add their own
    off, _ = train.examples("en")
    monkeypatch.setattr(train, "EVERYDAY_PARAPHRASES", {"en": True, "zh": False})
    on, labels = train.examples("en")
    assert len(on) == len(off) + len(rows)  # read only when switched on
