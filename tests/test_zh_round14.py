"""Round 14 (in17zh, issue 10): southern older speakers' Mandarin — 唔 as the Cantonese "not", southern
kin words for the daughter and the son, and a line the model splits between the two medicine readings."""

from __future__ import annotations

import pytest
from test_matcher import _settings

from assistant.understanding import understander as und
from assistant.understanding.matcher import IntentMatcher
from assistant.understanding.model import OOS, Prediction
from assistant.understanding.normalize import normalize, strip_hedges


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        ("唔要啦", "唔要啦"),  # not wanted: a "no", not 要啦
        ("唔系啊", "唔系啊"),  # not so
        ("唔使喇", "唔使喇"),  # no need
        ("唔该帮我打电话", "唔该帮我打电话"),  # please
        ("唔 帮我打个电话给安娜", "帮我打个电话给安娜"),  # a hesitation before the request
    ],
)
def test_cantonese_not_is_no_hesitation(said: str, kept: str) -> None:
    assert strip_hedges(normalize(said, "zh"), "zh") == normalize(kept, "zh")


@pytest.fixture(scope="module")
def zh() -> IntentMatcher:
    return IntentMatcher.from_settings(_settings("zh"), "zh")


@pytest.mark.parametrize(
    ("text", "contact"),
    [
        ("给女崽打电话", "Anna"),
        ("给查某囝打电话", "Anna"),
        ("给崽伢子打电话", "David"),
        ("给后生仔打电话", "David"),
    ],
)
def test_southern_kin_words_name_the_daughter_and_the_son(zh: IntentMatcher, text: str, contact: str) -> None:
    got = zh.match(text)
    assert got.intent == "call_contact" and got.slots.get("contact") == contact


def _decide(ranked: dict[str, float]):
    stage = und.Understander.__new__(und.Understander)
    stage.lang = "zh"
    prediction = Prediction(tuple(sorted(ranked.items(), key=lambda kv: -kv[1])))
    return stage._decide(prediction, None, frozenset(), "降压药还剩多少")


def test_a_line_split_between_the_medicine_readings_is_the_question(monkeypatch: pytest.MonkeyPatch) -> None:
    split = {"reorder_medication": 0.53, "medication_query": 0.41, OOS: 0.01, "time_query": 0.05}
    intent, p, _ = _decide(split)
    assert intent == "medication_query" and p == pytest.approx(0.94)
    # the out-of-scope class still wins when it outweighs the pair
    assert _decide({"reorder_medication": 0.35, "medication_query": 0.25, OOS: 0.4})[0] is None
    monkeypatch.setattr(und, "MEDICINE_PAIR", {"en": False, "zh": False})
    assert _decide(split)[0] is None
