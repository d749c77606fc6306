"""Round 13, English distress (dis16en): the dev set's shape, regional English read the standard way,
media as the setting of an earlier clause, the measured-but-off rules (they still work when switched
on), and the veto's extra data obeying the odd-halves cut. Sentences written for these tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.understanding import distress, distress_raise, distress_veto
from assistant.understanding.distress import DistressDetector
from assistant.understanding.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
DEV16 = ROOT / "bench" / "data" / "distress-dev16-en.jsonl"


@pytest.fixture(scope="module")
def en() -> DistressDetector:
    return DistressDetector("en")  # the lexicon alone: the rules under test


def _rows() -> list[dict]:
    return [json.loads(line) for line in DEV16.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_dev16_has_the_promised_shape() -> None:
    rows = _rows()
    assert len(rows) >= 250
    assert all(set(r) == {"text", "emergency", "note"} and isinstance(r["emergency"], bool) for r in rows)
    assert len({r["text"] for r in rows}) == len(rows)
    emergencies = sum(r["emergency"] for r in rows)
    negated = sum(r["note"] == "negated" for r in rows)
    assert 0.40 <= emergencies / len(rows) <= 0.50 and 0.08 <= negated / len(rows) <= 0.12
    assert not any(r["emergency"] for r in rows if r["note"] == "negated")
    kinds = {r["note"] for r in rows if r["emergency"]}
    assert {"scottish", "irish", "indian", "caribbean", "southern-us", "other-now", "overdose"} <= kinds
    for half in (rows[0::2], rows[1::2]):  # shuffled: both halves hold each group in like measure
        assert 55 <= sum(r["emergency"] for r in half) <= 67
        assert 10 <= sum(r["note"] == "negated" for r in half) <= 17


# ---------------------------------------------------------------- regional English (DIALECT, on)

REGIONAL = [
    "ah cannae breathe right, get somebody",  # Scots
    "ma heid's sair and ma airm's gone deid, ah cannae lift it",
    "mi belly a hurt mi bad and mi cyaan stand up",  # Caribbean
    "she done fell off the porch and she ain't movin",  # Southern US
    "he's no breathin, he's went aw grey",
]


@pytest.mark.parametrize("text", REGIONAL)
def test_regional_english_is_read_the_standard_way(en: DistressDetector, text: str) -> None:
    assert distress.DIALECT["en"]
    assert en.detect(text).emergency, (text, en.standard(normalize(text, "en")))


def test_dialect_rewrites_only_its_words(en: DistressDetector, monkeypatch: pytest.MonkeyPatch) -> None:
    assert en.standard("ah cannae get up off the flair") == "i can not get up off the floor"
    assert en.standard("mi chest a hurt mi") == "my chest is hurting me"
    assert en.standard("the bin is in the kitchen") == "the bin is in the kitchen"  # "in" kept
    assert en.standard("i am going in the morning") == "i am going in the morning"
    monkeypatch.setitem(distress.DIALECT, "en", False)
    assert en.standard("ah cannae get up") == "ah cannae get up"
    assert not en.detect("ah cannae breathe right").emergency  # the rules never hear it without


def test_a_broken_dialect_entry_names_the_key() -> None:
    with pytest.raises(distress.DistressLexiconError, match="dialect"):
        distress.parse_lexicon({"cues": {"fall": ["fell"]}, "dialect": [["cannae"]]}, "x.yaml", "en")


# ---------------------------------------------------------------- media as the setting (MEDIA_SETTING, on)

SETTING = "we were watching the news and my husband just slumped over and he won't wake up"
STORY = "on the radio a man's wife slumped over in the studio and she wouldn't wake up"


def test_media_in_an_earlier_clause_is_the_setting(
    en: DistressDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert distress.MEDIA_SETTING["en"]
    assert en.detect(SETTING).emergency
    assert not en.detect(STORY).emergency  # the story itself is on the radio
    assert not en.detect("we were watching the film and in it the hero collapsed").emergency
    monkeypatch.setitem(distress.MEDIA_SETTING, "en", False)
    assert not en.detect(SETTING).emergency  # cleared as media before round 13


# ---------------------------------------------------------------- measured and off

ASKED_FOR = "how do i get someone to come out, my wife has collapsed on the landing"
SPARED = "don't worry about me but i've had a bad fall and my hip is broken"


def test_help_question_is_off_and_works_when_on(
    en: DistressDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not distress.HELP_QUESTION["en"]  # off: no unseen figure moved (round 13)
    assert not en.detect(ASKED_FOR).emergency
    monkeypatch.setitem(distress.HELP_QUESTION, "en", True)
    assert en.detect(ASKED_FOR).emergency
    assert not en.detect("how do i get someone to come out if my wife has collapsed").emergency  # a condition
    assert not en.detect("who do i ring if i have a fall in the night").emergency


def test_reassurance_is_off_and_works_when_on(en: DistressDetector, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not distress.REASSURANCE["en"]  # off: no unseen figure moved (round 13)
    assert not en.detect(SPARED).emergency  # "about" reads as a worry
    monkeypatch.setitem(distress.REASSURANCE, "en", True)
    assert en.detect(SPARED).emergency
    assert not en.detect("i am worried about having a fall on the stairs").emergency  # a real worry


# ---------------------------------------------------------------- round 13 cues and other senses

CUES = [
    "the baby has got into my water tablets and eaten some",
    "i've swallowed everything from the medicine cabinet",
    "i took them all with the vodka, every last one",
    "i've had my sleeping tablets, the whole lot, on purpose",
    "the flames are climbing the curtains",
    "the chip pan's caught, i can't put it out",
    "i want an ambulance, now",
    "send the fire brigade, the hall is full of smoke",
]
OTHER_SENSES = [
    "the hedge is on fire with berries this autumn",
    "the tomatoes have overdosed on plant food, look at them",
    "i'm choking on these forms from the pension office",
    "no, i'm not on the floor, i'm kneeling by the oven to clean it",
    "i want an ambulance to come without sirens if ever i need one",
]


@pytest.mark.parametrize("text", CUES)
def test_round13_cues(en: DistressDetector, text: str) -> None:
    assert en.detect(text).emergency, (text, en.detect(text))


@pytest.mark.parametrize("text", OTHER_SENSES)
def test_round13_other_senses(en: DistressDetector, text: str) -> None:
    assert not en.detect(text).emergency, (text, en.detect(text))


# ---------------------------------------------------------------- the veto obeys the odd-halves cut


def test_the_veto_learns_a_later_odd_half_only_past_the_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(distress_veto.EXTRA_DATA, "en", True)
    rows = [json.loads(x) for x in distress_raise.odd_halves_file("en").read_text("utf-8").splitlines() if x]
    later = [r for r in rows if r["source"] == "distress-dev16 odd"]
    assert len(later) >= 120
    assert distress_raise.ODD_HALVES_UP_TO["en"] == 15  # 16 lost unseen recall (round 13)
    lexicon = DistressDetector("en")
    heard = [r for r in later if lexicon.detect(r["text"]).any_cue]  # the veto learns danger-word lines only
    assert heard
    cut = distress_veto.data_hash("en")
    before = len(distress_veto.examples("en")[0])
    monkeypatch.setitem(distress_raise.ODD_HALVES_UP_TO, "en", 16)
    assert distress_veto.data_hash("en") != cut
    assert len(distress_veto.examples("en")[0]) == before + len(heard)
