"""Round 11 of issue 10: talk near the consequential intents that asks for nothing, with the real
understander (catalog, trained model, rules) — and the requests beside it that must still act.

On: a contact said as the one *not* meant gives way to the later one (``slots.NEGATED_FIRST_VALUE``);
a double negative that asks still asks (``polarity._EN_ASKS_ANYWAY``, ``_ZH_NOT_A_NEGATION``); 打给 is
a Mandarin call request. Off (constants, measured without effect on unseen lines), tested switched on:
conversations told as done (``speaker.SPOKEN_CALLS``), the device talked about or a letter read out
(``speaker.TALK_NOT_ASKED``), some-day words (``polarity.SOME_DAY``, Mandarin).
"""

from __future__ import annotations

import pytest
from test_understander import _settings

from assistant.pipeline import build_understander
from assistant.understanding import polarity, speaker
from assistant.understanding.distress import DistressLexicon, load_lexicon
from assistant.understanding.speaker import Speaker


@pytest.fixture(scope="module")
def en(tmp_path_factory: pytest.TempPathFactory):
    return build_understander(_settings("en", tmp_path_factory.mktemp("state")), "en")


@pytest.fixture(scope="module")
def zh(tmp_path_factory: pytest.TempPathFactory):
    return build_understander(_settings("zh", tmp_path_factory.mktemp("state")), "zh")


@pytest.mark.parametrize(
    ("text", "contact"),
    [
        ("not anna, ring david please", "David"),
        ("don't phone david, phone anna", "Anna"),
        ("ring anna, not david", "Anna"),
        ("call david", "David"),
    ],
)
def test_english_contact_said_as_not_meant_gives_way(en, text: str, contact: str) -> None:
    got = en.match(text)
    assert got.intent == "call_contact" and got.slots.get("contact") == contact


@pytest.mark.parametrize(
    ("text", "contact"),
    [("别给女儿打，给儿子打", "David"), ("不是女儿，打给儿子", "David"), ("给女儿打电话", "Anna")],
)
def test_mandarin_contact_said_as_not_meant_gives_way(zh, text: str, contact: str) -> None:
    got = zh.match(text)
    assert got.intent == "call_contact" and got.slots.get("contact") == contact


@pytest.mark.parametrize(
    ("text", "intent", "lang", "negated"),
    [
        ("i can not not ring anna today", "call_contact", "en", False),
        ("i would not say no to you ringing david", "call_contact", "en", False),
        ("no harm in ordering the tablets now", "reorder_medication", "en", False),
        ("do not ring anna", "call_contact", "en", True),
        ("不给闺女打个电话说不过去", "call_contact", "zh", False),
        ("别给闺女打电话", "call_contact", "zh", True),
        ("别打给大卫", "call_contact", "zh", True),
    ],
)
def test_double_negatives_that_ask_are_not_declines(text: str, intent: str, lang: str, negated: bool) -> None:
    assert polarity.negated(text, intent, lang) is negated


def test_da_gei_is_a_call_request_in_a_clause_of_its_own() -> None:
    assert polarity.stands("别打给大卫打给安娜", "call_contact", "zh")
    assert not polarity.stands("我没叫你打给她", "call_contact", "zh")


@pytest.fixture()
def speakers(monkeypatch: pytest.MonkeyPatch) -> dict[str, Speaker]:
    monkeypatch.setattr(speaker, "SPOKEN_CALLS", True)
    monkeypatch.setattr(speaker, "TALK_NOT_ASKED", True)
    lexicons: dict[str, DistressLexicon] = {lang: load_lexicon(lang) for lang in ("en", "zh")}
    return {lang: Speaker(lang, lex) for lang, lex in lexicons.items()}


@pytest.mark.parametrize(
    ("lang", "text", "told"),
    [
        ("en", "i have already talked to my son this morning", True),
        ("en", "i spoke to my daughter last night", True),
        ("en", "i want to talk to my son", False),
        ("zh", "昨天跟儿子通过两回电话了", True),
        ("zh", "闺女上午给我打过电话了", True),
        ("zh", "给我闺女打个电话", False),
    ],
)
def test_conversations_told_as_done_are_past_calls_when_on(
    speakers, lang: str, text: str, told: bool
) -> None:
    assert speakers[lang].past_call(text) is told


@pytest.mark.parametrize(
    ("lang", "text", "talk"),
    [
        ("en", "the speaker on the shelf can phone my daughter", True),
        ("en", "this gadget ordered my tablets all by itself", True),
        ("en", "the letter says please phone the surgery to book your review", True),
        ("en", "can you phone my daughter for me", False),
        ("en", "please order my blood pressure pills", False),
        ("zh", "这个音箱能给我闺女打电话", True),
        ("zh", "大卫说这个小机器能帮我挂号", True),
        ("zh", "通知上写着请预约复查", True),
        ("zh", "你给我闺女打个电话", False),
        ("zh", "帮我约个号", False),
    ],
)
def test_device_talk_and_letters_read_out_ask_nothing_when_on(
    speakers, lang: str, text: str, talk: bool
) -> None:
    assert speakers[lang].not_asked(text) is talk


def test_the_off_constants_change_nothing_while_off() -> None:
    assert not speaker.TALK_NOT_ASKED and not speaker.SPOKEN_CALLS and not polarity.SOME_DAY
    assert not Speaker("en", load_lexicon("en")).not_asked("the speaker on the shelf can phone my daughter")
    assert not Speaker("zh", load_lexicon("zh")).past_call("闺女上午给我打过电话了")


def test_mandarin_some_day_defers_when_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(polarity, "SOME_DAY", True)
    assert polarity.deferred("眼睛的检查我迟早得约一下", "book_appointment", "zh")
    assert not polarity.deferred("降压药早晚各一片，帮我订一盒", "reorder_medication", "zh")
    assert not polarity.deferred("帮我约一下", "book_appointment", "zh")


def test_device_talk_acts_on_nothing_in_the_whole_stage_when_on(
    en, zh, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(speaker, "TALK_NOT_ASKED", True)
    assert en.match("david set the speaker up so it can ring my daughter").intent is None
    assert en.match("can you ring my daughter").intent == "call_contact"
    assert zh.match("儿子给我装的这个音箱，能给闺女打电话").intent is None
    assert zh.match("给闺女打个电话").intent == "call_contact"
