"""Matcher: every intent in both languages (paraphrases, not catalog phrases), config aliases,
out-of-scope rejection, negation, homophones, grammar phrases."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.ops.settings import Contact, Doctor, Medication, Person, Settings
from assistant.understanding.matcher import IntentMatcher


def _settings(lang: str) -> Settings:
    return Settings(
        person=Person("Margaret Lee", "Margaret", lang),
        doctor=Doctor("Dr. Chen", "+15550100", aliases=("陈医生",)),
        contacts=(
            Contact("Anna", "daughter", phone="+15550101", emergency=True),
            Contact("David", "son", phone="+15550102"),
        ),
        medications=(
            Medication("amlodipine", aliases=("blood pressure pills", "降压药"), times=(dt.time(8),)),
            Medication("metformin", aliases=("diabetes pills", "降糖药"), times=(dt.time(18),)),
        ),
    )


@pytest.fixture(scope="module")
def en() -> IntentMatcher:
    return IntentMatcher.from_settings(_settings("en"), "en")


@pytest.fixture(scope="module")
def zh() -> IntentMatcher:
    return IntentMatcher.from_settings(_settings("zh"), "zh")


EN_CASES = [
    ("Could you ring Dr. Chen for me, please?", "call_doctor", {}),
    ("call my daughter", "call_contact", {"contact": "Anna"}),
    ("I'd like to talk to David please", "call_contact", {"contact": "David"}),
    ("Help, I've fallen and I can't get up!", "emergency", None),
    ("I can't breathe", "emergency", None),
    ("my blood pressure pills are nearly finished", "reorder_medication", {"medication": "amlodipine"}),
    ("I've taken my metformin", "medication_taken", {"medication": "metformin"}),
    ("which tablets do I need to take now", "medication_query", {}),
    ("I feel a bit dizzy", "report_symptom", {"symptom": "dizzy"}),
    ("I'd like to book an appointment", "book_appointment", {}),
    ("when's my next appointment", "appointment_query", {}),
    ("what's the time", "time_query", {}),
    ("what can you do for me", "capabilities", {}),
    ("never mind", "cancel", {}),
    ("say that again please", "repeat", {}),
    ("yeah", "yes", {}),
    ("please do", "yes", {}),
    ("nope", "no", {}),
    ("speak up", "volume_up", {}),
    ("you're too loud", "volume_down", {}),
    ("what did you send today", "sent_today_query", {}),
    ("I'm okay thank you", "feeling_fine", {}),
]

ZH_CASES = [
    ("帮我给陈医生打个电话", "call_doctor", {}),
    ("给女儿打电话", "call_contact", {"contact": "Anna"}),
    ("叫儿子给我回个电话", "call_contact", {"contact": "David"}),
    ("救命啊", "emergency", None),
    ("我摔倒了", "emergency", None),
    ("喘不上气", "emergency", None),
    ("降压药快吃完了", "reorder_medication", {"medication": "amlodipine"}),
    ("我刚吃了降糖药", "medication_taken", {"medication": "metformin"}),
    ("我现在该吃什么药", "medication_query", {}),
    ("我有点头晕", "report_symptom", {"symptom": "dizzy"}),
    ("帮我挂个号", "book_appointment", {}),
    ("我的预约是几点", "appointment_query", {}),
    ("现在几点了", "time_query", {}),
    ("你能做什么", "capabilities", {}),
    ("取消吧", "cancel", {}),
    ("你再说一遍", "repeat", {}),
    ("好的", "yes", {}),
    ("可以", "yes", {}),
    ("不用", "no", {}),
    ("大点声", "volume_up", {}),
    ("声音太大了", "volume_down", {}),
    ("你今天发了什么", "sent_today_query", {}),
    ("我很好", "feeling_fine", {}),
]


def _check(matcher: IntentMatcher, text: str, intent: str, slots: dict | None) -> None:
    result = matcher.match(text)
    assert result.intent == intent, (text, result)
    if slots is not None:
        assert result.slots == slots, (text, result)
    assert 0.0 < result.confidence <= 1.0
    assert result.tier == matcher.catalog.intents[intent].tier


@pytest.mark.parametrize(("text", "intent", "slots"), EN_CASES)
def test_english_paraphrases(en, text, intent, slots):
    _check(en, text, intent, slots)


@pytest.mark.parametrize(("text", "intent", "slots"), ZH_CASES)
def test_mandarin_paraphrases(zh, text, intent, slots):
    _check(zh, text, intent, slots)


def test_every_intent_is_covered_in_both_languages(en):
    ids = set(en.catalog.intent_ids())
    assert {c[1] for c in EN_CASES} == ids
    assert {c[1] for c in ZH_CASES} == ids


@pytest.mark.parametrize(
    "text", ["play some music", "what's the weather like", "turn on the lights", "call a taxi"]
)
def test_english_out_of_scope_is_rejected(en, text):
    assert en.match(text).intent is None


@pytest.mark.parametrize(
    "text",
    [
        "放首歌",
        "明天天气怎么样",
        "开灯",
        "帮我叫辆出租车",
        "早上好",
        "晚上好啊",
        "今天几度",
        "外面冷不冷",
        "把空调关了",
    ],
)
def test_mandarin_out_of_scope_is_rejected(zh, text):
    assert zh.match(text).intent is None


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [("I don't need my pills", "reorder_medication"), ("I haven't taken my pills yet", "medication_taken"),
     ("don't call the doctor", "call_doctor")],
)  # fmt: skip
def test_english_negation_does_not_trigger_actions(en, text, forbidden):
    assert en.match(text).intent != forbidden


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("我今天不需要吃药", "reorder_medication"),
        ("我还没吃药", "medication_taken"),
        ("别给医生打电话", "call_doctor"),
    ],
)
def test_mandarin_negation_does_not_trigger_actions(zh, text, forbidden):
    assert zh.match(text).intent != forbidden


def test_mandarin_homophones_match_through_pinyin(zh):
    result = zh.match("将压药吃完了")  # recogniser wrote 将压药 for 降压药
    assert result.intent == "reorder_medication" and result.slots == {"medication": "amlodipine"}
    assert zh.match("讲糖药吃完了").slots == {"medication": "metformin"}


def test_misrecognised_english_names_match_fuzzily(en):
    assert en.match("please order more met for men").slots == {"medication": "metformin"}
    assert en.match("ring doctor chan").intent == "call_doctor"


def test_distress_inside_other_words_is_still_an_emergency(en, zh):
    assert en.match("my husband collapsed help").intent == "emergency"
    assert en.match("help help").intent == "emergency"
    assert zh.match("我胸闷喘不上气").intent == "emergency"


def test_margin_and_rejected_result_shape(en):
    good = en.match("call my son")
    assert good.margin > 0.0
    bad = en.match("tell me a joke")
    assert bad.intent is None and bad.slots == {} and bad.tier is None
    assert bad.to_json()["intent"] is None


def test_grammar_phrases_include_slot_values_and_respect_limit(en, zh):
    phrases = en.grammar_phrases()
    assert "call anna" in phrases and "call my daughter" in phrases
    assert all(p == p.lower() and "{" not in p for p in phrases)
    limited = en.grammar_phrases(limit=40)
    assert len(limited) == 40 and "yes" in limited  # every intent represented early
    assert "降压药吃完" in "".join(zh.grammar_phrases())
    assert {"anna", "doctor", "help"} <= en.vocabulary()


@pytest.mark.parametrize(
    ("text", "intent"),
    [("what are you able to do", "capabilities"), ("what else can you do for me", "capabilities"),
     ("once more please", "repeat"), ("sorry what was that", "repeat"),
     ("would you be able to ring the doctor", "call_doctor"), ("i'd like a word with my gp", "call_doctor"),
     ("could you please give my son a ring", "call_contact"), ("not today thank you", "no"),
     ("go on then", "yes")],
)  # fmt: skip
def test_english_carrier_phrases_and_question_templates(en, text, intent):
    assert en.match(text).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [("你都有些什么功能", "capabilities"), ("你刚刚说的是什么", "repeat"), ("这会儿几点了", "time_query")],
)
def test_mandarin_new_paraphrases(zh, text, intent):
    assert zh.match(text).intent == intent


@pytest.mark.parametrize(
    "text",
    [
        "good morning help me",
        "hello I've fallen",
        "play some music I can't breathe",
        "早上好救命",
        "开灯我摔倒了",
    ],
)
def test_distress_inside_out_of_scope_requests_is_never_rejected(en, zh, text):
    matcher = zh if any("\u4e00" <= ch <= "\u9fff" for ch in text) else en
    assert matcher.match(text).intent == "emergency"


def test_reject_patterns_are_not_in_recogniser_grammar(en):
    assert not any(p.startswith("good morning") for p in en.grammar_phrases())


def test_stemming_matches_inflected_forms_and_slot_aliases() -> None:
    from assistant.understanding.normalize import stem_en

    assert stem_en("hurting") == stem_en("hurts") == stem_en("hurt")
    assert stem_en("phoned") == stem_en("phone") == stem_en("phoning")
    assert stem_en("tablets") == stem_en("pills")
    assert stem_en("#contact") == "#contact"
    assert stem_en("this") == "this"


def test_inflected_medication_alias_fills_the_slot(en: IntentMatcher) -> None:
    u = en.match("my blood pressure tablets are nearly finished")
    assert u.intent == "reorder_medication"
    assert u.slots == {"medication": "amlodipine"}


def test_keyword_evidence_scores_unseen_word_order(en: IntentMatcher) -> None:
    kw = en._keyword_scores(en._prepare("chen doctor ring").key)
    assert max(kw, key=kw.__getitem__) == "call_doctor"
    oov = en._keyword_scores(en._prepare("what is that strange clattering noise").key)
    assert max(oov.values()) < 0.7  # unknown words keep the evidence low


def test_stutters_and_repeated_words_are_collapsed(en: IntentMatcher, zh: IntentMatcher) -> None:
    assert en.match("call call the doctor").intent == "call_doctor"
    assert en.match("uh i i feel dizzy").slots == {"symptom": "dizzy"}
    assert zh.match("是的是的").intent == "yes"
    assert zh.match("我我我头晕").slots == {"symptom": "dizzy"}
    assert en.match("call nine nine nine").intent == "emergency"  # numbers are not stutters


def test_catalog_synonyms_cover_unwritten_words(en: IntentMatcher, zh: IntentMatcher) -> None:
    assert en.match("can you reach my son").slots == {"contact": "David"}
    assert en.match("my hip is killing me").slots == {"symptom": "pain"}
    assert zh.match("侬讲啥").intent == "repeat"  # Shanghainese 侬/啥 read as 你/什么
    assert zh.match("阿拉降压药没了").intent == "reorder_medication"


def test_lone_filler_can_be_an_answer_but_not_a_request(zh: IntentMatcher) -> None:
    assert zh.match("嗯").intent == "yes"
    assert zh.match("呃").intent is None
