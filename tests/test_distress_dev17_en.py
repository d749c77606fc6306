"""Round 14, English distress (dis17en): distress-dev17-en's shape and halves, and that no line of it
equals a training sentence, a veto case or a line of an earlier distress set (it is a new writer's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_training_data import _training_sentences

from assistant.understanding import distress
from assistant.understanding.distress import DistressDetector
from assistant.understanding.distress_veto import cases
from assistant.understanding.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
DEV17 = ROOT / "bench" / "data" / "distress-dev17-en.jsonl"
EMERGENCY_KINDS = {
    "understated", "cant-do", "carer", "confusion", "overdose", "self-harm", "allergy", "burn",
    "choking", "cold-heat", "hypo", "fall", "chest-breath", "stroke", "bleeding", "fire-gas-intruder", "other-acute",
}  # fmt: skip
HARMLESS_KINDS = {
    "idiom", "past", "other-people", "media", "question", "hypothetical", "not-acute", "other-sense",
}  # fmt: skip


def _rows(path: Path = DEV17) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_dev17_has_the_promised_shape() -> None:
    rows = _rows()
    assert len(rows) >= 260
    assert all(set(r) == {"text", "emergency", "note"} and isinstance(r["emergency"], bool) for r in rows)
    assert len({normalize(r["text"], "en") for r in rows}) == len(rows)
    assert 105 <= sum(r["emergency"] for r in rows) <= 120
    assert 45 <= sum(r["note"] == "negated" for r in rows) <= 55
    assert not any(r["emergency"] for r in rows if r["note"] in HARMLESS_KINDS | {"negated"})
    assert all(r["emergency"] for r in rows if r["note"] in EMERGENCY_KINDS)
    assert {r["note"] for r in rows} == EMERGENCY_KINDS | HARMLESS_KINDS | {"negated"}
    for half in (rows[0::2], rows[1::2]):  # both halves hold each group in like measure
        assert 52 <= sum(r["emergency"] for r in half) <= 60
        assert 22 <= sum(r["note"] == "negated" for r in half) <= 28


def test_dev17_is_registered_after_dev16() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    from intent import DISTRESS_HALVES, DISTRESS_POOLED_THROUGH

    assert DISTRESS_HALVES.index("dev17") == DISTRESS_HALVES.index("dev16") + 1
    assert DISTRESS_HALVES.index("dev17") > DISTRESS_HALVES.index(DISTRESS_POOLED_THROUGH)


def test_no_dev17_line_is_a_training_sentence() -> None:
    known = _training_sentences("en")
    assert len(known) > 5000
    overlap = [n for n, row in enumerate(_rows(), 1) if normalize(row["text"], "en") in known]
    assert not overlap, f"distress-dev17-en lines {overlap} equal training sentences"


@pytest.mark.parametrize("name", ["dev5", "dev10", "dev11", "dev12", "dev13", "dev14", "dev15", "dev16"])
def test_no_dev17_line_repeats_an_earlier_distress_line_or_a_veto_case(name: str) -> None:
    earlier = {
        normalize(r["text"], "en") for r in _rows(ROOT / "bench" / "data" / f"distress-{name}-en.jsonl")
    }
    earlier |= {normalize(text, "en") for text, _ in cases("en")}
    overlap = [n for n, row in enumerate(_rows(), 1) if normalize(row["text"], "en") in earlier]
    assert not overlap, f"distress-dev17-en lines {overlap} repeat {name} or a veto case"


# ---------------------------------------------------------------- round 14 cues and other senses (lexicon)


@pytest.fixture(scope="module")
def en() -> DistressDetector:
    return DistressDetector("en")  # the lexicon alone: the rules under test


CUES = [
    "the co alarm is beeping and my husband has a thumping head and feels sick",
    "dad has scalded himself with the teapot",
    "my hand, the skin has all peeled off where the oven caught it",
    "i am so cold i can not stop shivering and i can not get up off the settee",
    "my husband is ice cold and he is mumbling nonsense",
    "i have stopped sweating and the room is spinning in this heat",
    "my sugar is down and i am all shaky and sweaty",
    "i think he is going into a hypo, he is not making sense",
    "my puffer is not helping at all and i am struggling more and more",
    "everything has gone double and my head is pounding",
    "i can not lift my head up off the pillow",
    "the pain in my chest is going up into my jaw",
    "i have just come round on the bathroom floor",
    "i am all wheezy and my inhaler is not helping",
    "there is a pain in my chest and my left arm is tingly",
]
OTHER_SENSES = [
    "the carbon monoxide alarm needs a new battery",
    "that comedian had me gasping for breath with laughter",
    "it was so cold at the bus stop, i'm glad to be home in the warm",
    "what are the signs of a hypo, shaking and sweating is it",
    "my inhaler is not working, the counter says empty, order another",
]


@pytest.mark.parametrize("text", CUES)
def test_round14_cues(en: DistressDetector, text: str) -> None:
    assert en.detect(text).emergency, (text, en.detect(text))


@pytest.mark.parametrize("text", OTHER_SENSES)
def test_round14_other_senses(en: DistressDetector, text: str) -> None:
    assert not en.detect(text).emergency, (text, en.detect(text))


def test_a_thing_being_choked_is_a_thing(en: DistressDetector, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "the roses are being choked by the bindweed"
    assert not distress.THING_PASSIVE["en"]  # off: no unseen figure moved (round 14)
    assert en.detect(text).emergency
    monkeypatch.setitem(distress.THING_PASSIVE, "en", True)
    assert not en.detect(text).emergency
    assert en.detect("my husband is being choked by his tie, he can not breathe").emergency  # a person
