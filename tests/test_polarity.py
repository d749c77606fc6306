"""Polarity rules alone (no model): a negated or declined request never acts; a complaint that
contains a negation ("I can't hear you", 听不见, 声音不大) is still the request."""

from __future__ import annotations

import pytest

from assistant.understanding.normalize import normalize
from assistant.understanding.polarity import negated


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("不必麻烦陈医生了", "call_doctor", True),
        ("犯不着给医生打电话，歇歇就好", "call_doctor", True),
        ("没必要给儿子打电话", "call_contact", True),
        ("用不着预约，我好了", "book_appointment", True),
        ("甭给我挂号了", "book_appointment", True),
        ("我忘记吃药了", "medication_taken", True),
        ("我还没吃药", "medication_taken", True),
        ("我吃过药了", "medication_taken", False),
        ("声音不用再大了", "volume_up", True),
        ("声音不大，俺听不清", "volume_up", False),
        ("电视开着听不见，你大点声", "volume_up", False),
        ("俺耳朵受不了，小点声", "volume_down", False),
        ("你别那么大声", "volume_down", False),
        ("我今天不头疼了", "report_symptom", True),
        ("我头疼", "report_symptom", False),
        ("我不太舒服，你给医生打个电话", "call_doctor", False),
        ("安娜的电话打不通，再打一次", "call_contact", False),
        ("别给医生打电话", "call_doctor", True),
    ],
)
def test_mandarin_polarity(text: str, intent: str, expected: bool) -> None:
    assert negated(normalize(text, "zh"), intent, "zh") is expected


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("I forgot to take my pills this morning", "medication_taken", True),
        ("I never forget to take my tablets", "medication_taken", False),
        ("I took my pills", "medication_taken", False),
        ("get me a new box of amlodipine", "reorder_medication", False),
        ("I've got a new box of pills, thanks", "reorder_medication", True),
        ("there is a full packet in the drawer", "reorder_medication", True),
        ("no need to ring Anna", "call_contact", True),
        ("I can't hear you", "volume_up", False),
        ("I haven't heard from David all week, ring him", "call_contact", False),
        ("I can't get through to Anna, try her again", "call_contact", False),
        ("I don't want to run out, order my tablets", "reorder_medication", False),
        ("don't ring David", "call_contact", True),
        # round 9: a worry, a state no better or a condition is the reason for asking, not a refusal
        ("I'm not happy with this cough, ring the doctor", "call_doctor", False),
        ("the rash is no better, phone the doctor", "call_doctor", False),
        ("my ankle's not going down, ring the surgery", "call_doctor", False),
        ("she'll worry if I don't ring, so call Anna", "call_contact", False),
        ("I'm not sure I want to ring Anna", "call_contact", True),
        ("don't bother the doctor, it's no better but it's not worth it", "call_doctor", True),
    ],
)
def test_english_polarity(text: str, intent: str, expected: bool) -> None:
    assert negated(normalize(text, "en"), intent, "en") is expected


def test_only_consequential_intents_are_vetoed() -> None:
    assert negated("不要", "no", "zh") is False and negated("not now", "no", "en") is False
