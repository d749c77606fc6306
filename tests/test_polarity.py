"""Polarity rules alone (no model): a negated or declined request never acts; a complaint that
contains a negation ("I can't hear you", 听不见, 声音不大) is still the request."""

from __future__ import annotations

import pytest

from assistant.understanding.normalize import normalize
from assistant.understanding.polarity import deferred, negated, stands


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


@pytest.mark.parametrize(
    ("text", "intent", "lang", "expected"),
    [
        # a request in a clause of its own stands, whatever another clause negates
        ("no, not David, phone Anna", "call_contact", "en", True),
        ("the chemist never delivered, please order my tablets", "reorder_medication", "en", True),
        ("my knee is not any better, book me in with the doctor", "book_appointment", "en", True),
        ("I haven't forgotten, I took my tablets at eight", "medication_taken", "en", True),
        ("don't forget to ring Anna", "call_contact", "en", True),
        # … but not when the last request is negated, deferred, conditional or the speaker's own
        ("phone Anna, no wait, don't", "call_contact", "en", False),
        ("I'll tell you when to order, not today", "reorder_medication", "en", False),
        ("not now, maybe ring David at the weekend", "call_contact", "en", False),
        ("if it gets worse I'll ask you to ring the doctor", "call_doctor", "en", False),
        ("no, I'll ring her myself", "call_contact", "en", False),
        ("don't you dare ring the doctor", "call_doctor", "en", False),
        ("no need to give her a ring", "call_contact", "en", False),
        ("不是大卫，你给安娜打", "call_contact", "zh", True),
        ("我不想去诊所，给陈医生打个电话问问", "call_doctor", "zh", True),
        ("药一粒都不剩了，帮我订点", "reorder_medication", "zh", True),
        ("别再给我订药了", "reorder_medication", "zh", False),
        ("先不约，下礼拜再帮我约", "book_appointment", "zh", False),
        ("要是还疼再给医生打", "call_doctor", "zh", False),
        ("我自己给闺女打", "call_contact", "zh", False),
        ("别老去麻烦诊所再约一回", "book_appointment", "zh", False),
    ],
)
def test_a_request_stands_in_a_clause_of_its_own(text: str, intent: str, lang: str, expected: bool) -> None:
    assert stands(normalize(text, lang), intent, lang) is expected
    if expected:
        assert negated(normalize(text, lang), intent, lang) is False


@pytest.mark.parametrize(
    ("text", "intent", "lang"),
    [
        ("scrap the order for my pills", "reorder_medication", "en"),
        ("cancel the refill, I've got loads", "reorder_medication", "en"),
        ("leave the doctor out of it", "call_doctor", "en"),
        ("leave our David be, he's busy", "call_contact", "en"),
        ("forget the appointment, I'm better", "book_appointment", "en"),
        ("phone Anna, no wait, don't", "call_contact", "en"),
        ("there's no reason to phone David", "call_contact", "en"),
        ("call the doctor? heavens no", "call_doctor", "en"),
        ("ring Anna? I'd rather not", "call_contact", "en"),
        ("I'd sooner die than ring the doctor", "call_doctor", "en"),
        ("no appointments for me, thanks", "book_appointment", "en"),
        ("打给大卫？不打", "call_contact", "zh"),
        ("给医生打电话？没那必要", "call_doctor", "zh"),
        ("挂号就不必了", "book_appointment", "zh"),
        ("我不是让你给安娜打", "call_contact", "zh"),
        ("给儿子打电话这事先搁着", "call_contact", "zh"),
        ("我浑身上下都不疼", "report_symptom", "zh"),
        ("我没哪儿不舒服", "report_symptom", "zh"),
    ],
)
def test_refusals_and_whole_denials_decline(text: str, intent: str, lang: str) -> None:
    assert negated(normalize(text, lang), intent, lang) is True


def test_leaving_a_message_is_no_refusal() -> None:
    assert negated(normalize("leave a message for Anna", "en"), "call_contact", "en") is False


@pytest.mark.parametrize(
    ("lang", "text", "intent", "expected"),
    [
        ("en", "if it turns nasty in the night we'll ring the doctor", "call_doctor", True),
        ("en", "should the box run low before easter i'll ask you to order more", "reorder_medication", True),
        ("en", "when my son's home we might book the eye test", "book_appointment", True),
        ("en", "i haven't phoned anna yet, i'll sort it later", "call_contact", True),
        ("en", "ring david, and if he doesn't pick up then try anna", "call_contact", False),
        ("en", "if anna isn't answering then you can ring david", "call_contact", False),
        ("en", "if you would be so kind, order my tablets", "reorder_medication", False),
        ("en", "in case the chemist shuts early, order them now", "reorder_medication", False),
        ("en", "if it's no trouble, phone my son", "call_contact", False),
        ("en", "if it gets worse i will feel awful", "report_symptom", False),  # symptoms are never put off
        ("en", "when i got up i took my tablets then i had my porridge", "medication_taken", False),
        ("en", "when i woke up i was giddy so i'll ring the doctor", "call_doctor", False),
        ("en", "i'll have my evening tablets after my bath", "medication_taken", True),
        ("zh", "万一半夜又疼起来，我就给医生打电话", "call_doctor", True),
        ("zh", "等药快吃完了再订", "reorder_medication", True),
        ("zh", "改天再约吧，今天下雨", "book_appointment", True),
        ("zh", "给儿子的电话先取消", "call_contact", True),
        ("zh", "给大卫打电话，要是他不接再打给安娜", "call_contact", False),
        ("zh", "要是安娜不接，就给大卫打", "call_contact", False),
        ("zh", "等了一个礼拜药也没送来，再订一回", "reorder_medication", False),
        ("zh", "要是可以的话，帮我约陈医生", "book_appointment", False),
    ],
)
def test_a_plan_for_later_is_deferred_a_polite_condition_is_not(
    lang: str, text: str, intent: str, expected: bool
) -> None:
    assert deferred(normalize(text, lang), intent, lang) is expected, text


@pytest.mark.parametrize(
    ("lang", "text", "intent"),
    [
        ("en", "honestly the last thing i need is you ringing the surgery", "call_doctor"),
        ("en", "we'll give the chemist a miss this week", "reorder_medication"),
        ("zh", "我最不愿意的就是你去麻烦医生", "call_doctor"),
    ],
)
def test_refusals_said_as_idioms_are_negated(lang: str, text: str, intent: str) -> None:
    assert negated(normalize(text, lang), intent, lang), text
