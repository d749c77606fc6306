"""Whose request is it (assistant/understanding/speaker.py): the speaker's, someone else's, or a
general question — and the understanding stage acting only on the speaker's own requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_matcher import _settings as matcher_settings

from assistant.pipeline import build_understander
from assistant.understanding.distress import load_lexicon
from assistant.understanding.normalize import normalize
from assistant.understanding.speaker import Speaker


@pytest.fixture(scope="module")
def speakers() -> dict[str, Speaker]:
    return {lang: Speaker(lang, load_lexicon(lang)) for lang in ("en", "zh")}


@pytest.mark.parametrize(
    ("lang", "text", "someone_else"),
    [
        ("en", "my brother takes his water tablets at night", True),
        ("en", "the man upstairs has run out of his inhalers", True),
        ("en", "she rings her doctor every other day", True),
        ("en", "my husband has an appointment at the hospital on monday", True),  # "my" owns a person
        ("en", "my husband says i should ring the doctor", False),  # the speaker is in it
        ("en", "can you ring my sister for me", False),  # asked of the assistant
        ("en", "ring my daughter, she's waiting", False),  # an imperative
        ("en", "i've run out of my pills", False),  # nobody else
        ("zh", "他每天早上都吃降压药", True),
        ("zh", "我老伴下礼拜去医院复查", True),  # 我 owns a person
        ("zh", "邻居大妈又给医生打电话了", True),
        ("zh", "给我儿子打个电话，让他回来", False),  # an imperative
        ("zh", "你帮我问问她吃药了没有", False),  # asked of the assistant
        ("zh", "我的降压药吃完了", False),
    ],
)
def test_someone_else_is_another_person_without_the_speaker(
    speakers: dict[str, Speaker], lang: str, text: str, someone_else: bool
) -> None:
    assert speakers[lang].someone_else(normalize(text, lang)) is someone_else


@pytest.mark.parametrize(
    ("lang", "text", "general"),
    [
        ("en", "why do your knees ache when it rains", True),
        ("en", "is it true honey is good for a sore throat", True),
        ("en", "how long does flu usually last, isn't it a week", True),
        ("en", "is it normal for me to feel dizzy in the morning", False),  # the speaker asks about themself
        ("en", "don't bother, i'm fine", False),  # "don't" opens no question
        ("en", "can you tell the doctor my knee hurts", False),
        ("zh", "为什么天冷了关节会疼", True),
        ("zh", "喝牛奶真的能补钙吗", True),
        ("zh", "一般来说高血压要注意什么", True),
        ("zh", "早上起来就头疼是不是上火了", False),  # subject dropped: the speaker wondering
        ("zh", "好几天没睡好了", False),  # 好几天 is no question
        ("zh", "没啥不舒服的", False),  # 没啥 is no question
        ("zh", "拉肚子拉了三天了，怎么办", False),  # a told state before the question: her own
        ("zh", "这两天老咳嗽是怎么回事", False),
        ("zh", "晚上腿抽筋是什么原因", True),  # no told state: a question in general
        ("zh", "电视上说了，感冒一般几天能好", True),  # told by others
    ],
)
def test_general_question_asks_without_the_speaker(
    speakers: dict[str, Speaker], lang: str, text: str, general: bool
) -> None:
    assert speakers[lang].general_question(normalize(text, lang)) is general


@pytest.mark.parametrize(
    ("lang", "text", "past"),
    [
        ("en", "the surgery phoned this morning about the flu jabs", True),
        ("en", "i rang the doctor yesterday, can you ring them again", False),  # asked again
        ("en", "call the doctor", False),
        ("en", "david hasn't rung all week, give him a ring", False),  # a complaint, then the request
        ("zh", "女儿昨天打过电话了", True),
        ("zh", "帮我给医生打个电话", False),
    ],
)
def test_past_call_is_news_not_a_request(
    speakers: dict[str, Speaker], lang: str, text: str, past: bool
) -> None:
    assert speakers[lang].past_call(normalize(text, lang)) is past


@pytest.mark.parametrize(
    ("lang", "text", "long_ago"),
    [
        ("en", "in my day you had to pay to see the doctor", True),
        ("en", "when we were first married we couldn't afford a phone", True),
        ("en", "we used to ring the surgery from the phone box", True),
        ("en", "my knee is worse than it used to be, ring the doctor", False),  # asked now
        ("en", "ring my son please", False),
        ("zh", "以前看病要走十几里路", True),
        ("zh", "当年我们厂里的大夫可好了", True),
        ("zh", "腿比以前肿得厉害了", False),  # 比以前 compares with now
        ("zh", "以前的药吃完了，帮我再订点", False),  # asked now
    ],
)
def test_reminiscing_is_long_ago_and_asks_nothing(
    speakers: dict[str, Speaker], lang: str, text: str, long_ago: bool
) -> None:
    assert speakers[lang].reminiscing(normalize(text, lang)) is long_ago


@pytest.mark.parametrize(
    ("text", "generic"),
    [
        ("can you catch flu from the flu jab", True),
        ("how long should you take antibiotics for", True),
        ("can you get the doctor for me", False),  # a request
        ("can you get my son on the phone", False),
        ("can i get a cold twice in a month", False),  # no generic "you"
        ("do you think i should have the jab", False),  # the speaker asks about themself
    ],
)
def test_generic_you_is_anyone(speakers: dict[str, Speaker], text: str, generic: bool) -> None:
    assert speakers["en"].generic_you(normalize(text, "en")) is generic


def test_your_mother_is_someone_else_not_the_assistant(speakers: dict[str, Speaker]) -> None:
    """你 owning a person (你爸, 您老伴) is said to someone in the room about a third person."""
    zh = speakers["zh"]
    assert zh.someone_else(normalize("你爸最近腰还疼不疼", "zh"))
    assert not zh.involved(normalize("您老伴身体挺好的吧", "zh"))
    assert zh.involved(normalize("你帮我给我女儿打个电话", "zh"))


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> dict:
    import dataclasses

    state: Path = tmp_path_factory.mktemp("state")
    return {
        lang: build_understander(dataclasses.replace(matcher_settings(lang), state_dir=str(state)), lang)
        for lang in ("en", "zh")
    }


@pytest.mark.parametrize(
    ("lang", "text", "forbidden"),
    [
        ("en", "my brother takes his water tablets at night", "medication_taken"),
        ("en", "she rings her doctor every other day", "call_doctor"),
        ("en", "why do your knees ache when it rains", "report_symptom"),
        ("en", "the surgery phoned this morning about the flu jabs", "call_doctor"),
        ("en", "yes that was the year we went to blackpool with the whole street", "yes"),
        ("zh", "邻居大妈又给医生打电话了", "call_doctor"),
        ("zh", "为什么天冷了关节会疼", "report_symptom"),
        ("zh", "对对对，那年我们一起去的北戴河，人可多了", "yes"),
        ("en", "when is her appointment at the eye clinic", "appointment_query"),
        ("zh", "孙子孙女都挺好的", "feeling_fine"),
        ("en", "in my day the doctor would come out to the house at midnight", "book_appointment"),
        ("zh", "以前医生都是上门给人看病", "book_appointment"),
        ("zh", "你爸身体还好吧", "feeling_fine"),
        ("zh", "别啃沙发了，听见没有", "no"),
        ("en", "can you catch a chest infection twice in a winter", "report_symptom"),
        ("zh", "到家了给我打个电话啊", "call_contact"),  # said to a visitor: the speaker is the one called
        ("en", "give me a ring when you're back home", "call_contact"),
        ("zh", "这种天气真让人头疼", "report_symptom"),  # said of anyone: an opinion
        ("en", "all this rain gives everyone a headache", "report_symptom"),
        ("en", "i'm sick and tired of the roadworks", "report_symptom"),
        ("en", "i feel like a nice bit of fish for tea", "report_symptom"),
    ],
)
def test_talk_that_shares_the_domains_words_does_not_act(
    stage: dict, lang: str, text: str, forbidden: str
) -> None:
    assert stage[lang].match(text).intent != forbidden


@pytest.mark.parametrize(
    ("lang", "text", "intent"),
    [
        ("en", "my husband says i should ring the doctor, can you do that", "call_doctor"),
        ("en", "ring my daughter, she's waiting", "call_contact"),
        ("en", "yes please", "yes"),
        ("en", "no thank you", "no"),
        ("zh", "给我儿子打个电话，让他回来", "call_contact"),
        ("zh", "我儿子，大卫，给他打过去", "call_contact"),
        ("zh", "早上起来就头疼是不是上火了", "report_symptom"),
        ("zh", "好的", "yes"),
        ("zh", "哎呀不是不是", "no"),  # ends like 是不是 but is no question
        ("en", "ask anna to ring me back", "call_contact"),  # a contact named: still ours
        ("zh", "没有", "no"),
    ],
)
def test_the_speakers_own_requests_still_act(stage: dict, lang: str, text: str, intent: str) -> None:
    assert stage[lang].match(text).intent == intent
