"""Round 12 of issue 10: lines said to someone else, read out, one side of a phone call, or not meant
as real (``assistant.understanding.addressed``), alone and in the real understander (catalog, trained
model, rules). Every check is switched on here (``monkeypatch``), whether it ships on or off; the
requests beside each shape must still act. No line is taken from a bench set."""

from __future__ import annotations

import pytest
from test_understander import _settings

from assistant.pipeline import build_understander
from assistant.understanding import addressed
from assistant.understanding.normalize import normalize

SWITCHES = ("VOCATIVE", "DOSE_TENSE", "ALREADY_DONE", "UNREAL", "READ_OUT", "PHONE_SIDE")


@pytest.fixture
def all_on(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SWITCHES:
        for lang in ("en", "zh"):
            monkeypatch.setitem(getattr(addressed, name), lang, True)


@pytest.fixture
def all_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SWITCHES:
        for lang in ("en", "zh"):
            monkeypatch.setitem(getattr(addressed, name), lang, False)


def _n(text: str, lang: str) -> str:
    return normalize(text, lang)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Maureen, pass me the remote, would you", "en", True),
        ("gerald can you nip out for my paper", "en", True),
        ("could you ring the chemist in the morning for me tomorrow, Joan", "en", True),
        ("can you ring joan", "en", False),  # the callee, not the one spoken to
        ("sophie can't find her other shoe", "en", False),  # about her, not to her
        ("anna can you ring the doctor", "en", False),  # a contact is never taken for a vocative
        ("ring david for me", "en", False),
        ("小王，你帮我把药拿过来", "zh", True),
        ("老张去给我买份报纸", "zh", True),
        ("刘姐你明天帮我去医院开点药", "zh", True),
        ("谢谢你帮我", "zh", False),
        ("停停停，你别说了", "zh", False),
        ("乐乐回家了，你给安娜打个电话", "zh", False),  # 乐乐 is the subject of a told event
    ],
)
def test_vocative(all_on: None, text: str, lang: str, expected: bool) -> None:
    assert addressed.vocative(_n(text, lang), lang, {"anna", "david", "安娜", "大卫"}) is expected


def test_vocative_spares_a_relation_word_said_as_the_callee(all_on: None) -> None:
    assert not addressed.vocative(_n("囡囡的电话帮我拨一拨", "zh"), "zh", {"囡囡"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("take two tablets at bedtime with water", True),
        ("i'll have the white one after my porridge", True),
        ("i've taken my tablets", False),
        ("took the blood pressure one with my tea", False),
        ("i made sure to swallow my pills with a glass of water", False),
    ],
)
def test_dose_untold(all_on: None, text: str, expected: bool) -> None:
    assert addressed.dose_untold(_n(text, "en"), "en") is expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("the nurse has already booked me in for friday", "en", True),
        ("my grandson's already ordered the repeat online", "en", True),
        ("i already ordered them but they never came, order them again", "en", False),
        ("护工已经帮我约好了", "zh", True),
        ("药已经订过了，再订一次吧", "zh", False),
    ],
)
def test_already_done(all_on: None, text: str, lang: str, expected: bool) -> None:
    assert addressed.already_done(_n(text, lang), lang) is expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("i'd ring her only she's at work", "en", True),
        ("i nearly rang the doctor last night", "en", True),
        ("should i phone the surgery about it", "en", True),
        ("would you ring her for me", "en", False),
        ("if you would ring the doctor for me", "en", False),
        ("差点就给医生打电话了", "zh", True),
        ("本来想订药，后来找着了", "zh", True),
        ("我早就吃了药了", "zh", False),  # a dose taken long ago is still a dose
    ],
)
def test_unreal(all_on: None, text: str, lang: str, expected: bool) -> None:
    assert addressed.unreal(_n(text, lang), lang) is expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("ask your pharmacist before taking other medicines", "en", True),
        ("dear dad, sorry we missed you, love claire and tom", "en", True),
        ("the letter says see your doctor, so book me in", "en", False),
        ("如出现皮疹请及时就诊", "zh", True),
        ("尊敬的王先生，您的报告已出", "zh", True),
        ("给陈医生打个电话", "zh", False),
    ],
)
def test_read_out(all_on: None, text: str, lang: str, expected: bool) -> None:
    assert addressed.read_out(_n(text, lang), lang) is expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("i'll call you back after tea", "en", True),
        ("put the baby on, let me hear her", "en", True),
        ("what's that you said", "en", False),
        ("speak up, i can't hear you", "en", False),
        ("我一会儿给你回电话", "zh", True),
        ("让你爸接电话", "zh", True),
        ("你大点声", "zh", False),
        ("我戴着助听器还是听不清你说话", "zh", False),
    ],
)
def test_phone_side(all_on: None, text: str, lang: str, expected: bool) -> None:
    assert addressed.phone_side(_n(text, lang), lang) is expected


def test_switched_off_nothing_fires(all_off: None) -> None:
    assert not addressed.vocative("maureen pass me the remote", "en")
    assert not addressed.dose_untold("take two tablets at bedtime", "en")
    assert not addressed.already_done("护工已经帮我约好了", "zh")
    assert not addressed.unreal("i nearly rang the doctor", "en")
    assert not addressed.read_out("ask your pharmacist first", "en")
    assert not addressed.phone_side("i will call you back", "en")


@pytest.fixture(scope="module")
def en(tmp_path_factory: pytest.TempPathFactory):
    return build_understander(_settings("en", tmp_path_factory.mktemp("state")), "en")


@pytest.fixture(scope="module")
def zh(tmp_path_factory: pytest.TempPathFactory):
    return build_understander(_settings("zh", tmp_path_factory.mktemp("state")), "zh")


@pytest.mark.parametrize(
    "text",
    [
        "gerald, ring your auntie and tell her we're on our way",
        "could you pop to the chemist and collect my prescription tomorrow, linda",
        "my grandson's already ordered the repeat online",
        "i'd ring the doctor only it's sunday",
        "i'll ring you back when the news is over",
    ],
)
def test_english_lines_that_ask_us_nothing(all_on: None, en, text: str) -> None:
    assert en.match(text).intent is None


@pytest.mark.parametrize(
    "text",
    [
        "小王，你到药房帮我把降压药取回来",
        "如出现头晕请咨询医生",
        "护工已经帮我给诊所打过电话了",
        "我一会儿给你回电话，先挂了",
    ],
)
def test_mandarin_lines_that_ask_us_nothing(all_on: None, zh, text: str) -> None:
    assert zh.match(text).intent is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("ring my daughter please", "call_contact"),
        ("the leaflet says see your doctor, so book me an appointment", "book_appointment"),
        ("i've taken my blood pressure tablets", "medication_taken"),
        ("i'm down to my last few tablets, order some more", "reorder_medication"),
        ("i've fallen and i can't get up", "emergency"),  # no check ever touches an emergency
    ],
)
def test_english_requests_still_act(all_on: None, en, text: str, intent: str) -> None:
    assert en.match(text).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("给我女儿打个电话", "call_contact"),
        ("不用叫车了，给我儿子打个电话让他来接", "call_contact"),
        ("降压药吃过了", "medication_taken"),
    ],
)
def test_mandarin_requests_still_act(all_on: None, zh, text: str, intent: str) -> None:
    assert zh.match(text).intent == intent


def test_mandarin_car_hire_is_no_call(zh, monkeypatch: pytest.MonkeyPatch) -> None:
    """``understander.ZH_CAR_HIRE`` (off) switched on: a car hired is no call; a car declined leaves one."""
    from assistant.understanding import understander

    hired = "帮我打个电话叫辆车，我要去女儿家"
    assert zh.match(hired).intent == "call_contact"  # off, as shipped
    calls = understander.EXCLUDED["zh"]["call_contact"]
    monkeypatch.setitem(understander.EXCLUDED["zh"], "call_contact", understander._ZH_CAR_HIRE + "|" + calls)
    assert zh.match(hired).intent != "call_contact"
    assert zh.match("不用叫车了，给我儿子打个电话让他来接").intent == "call_contact"


def test_an_instruction_records_no_dose(all_on: None, en) -> None:
    """``DOSE_TENSE`` (off) switched on: a leaflet's instruction is no dose taken (the model may still
    read a question about medicines, which acts on nothing)."""
    assert en.match("take two tablets every morning with food").intent != "medication_taken"
    assert en.match("took two tablets this morning with my porridge").intent == "medication_taken"


def test_grandchild_talk_is_said_to_us(monkeypatch: pytest.MonkeyPatch) -> None:
    """Round 13 (in16zh), ``GRANDCHILD_TO_US``: 乖孙 opening a request is the speaker talked to as a
    grandchild, not a person in the room; other pet names and names stay vocatives. The grandparent
    words of a line opening with 乖孙 / 小家伙 are the speaker; off, nothing changes."""
    monkeypatch.setitem(addressed.VOCATIVE, "zh", True)
    monkeypatch.setitem(addressed.GRANDCHILD_TO_US, "zh", True)
    assert not addressed.vocative(_n("乖孙，帮姥姥把陈医生叫过来", "zh"), "zh")
    assert addressed.vocative(_n("乖乖，帮我把拖鞋拿过来", "zh"), "zh")
    assert addressed.vocative(_n("小李你帮我挂个号", "zh"), "zh")
    assert addressed.grandparent_self("小家伙，外公的药放哪了", "zh") == "小家伙，我的药放哪了"
    assert addressed.grandparent_self("乖孙 给你爷爷捶捶背", "zh") == "乖孙 给你爷爷捶捶背"  # his grandfather
    assert addressed.grandparent_self("奶奶的降压药没了", "zh") == "奶奶的降压药没了"  # no grandchild talk
    monkeypatch.setitem(addressed.GRANDCHILD_TO_US, "zh", False)
    assert addressed.vocative(_n("乖孙，帮姥姥把陈医生叫过来", "zh"), "zh")
    assert addressed.grandparent_self("小家伙，外公的药放哪了", "zh") == "小家伙，外公的药放哪了"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("乖孙，你帮姥爷跟陈医生约个时间", "book_appointment"),
        ("乖孙子 姥姥的降糖药快没有了 帮我再订点", "reorder_medication"),
    ],
)
def test_mandarin_grandchild_talk_acts(zh, text: str, intent: str) -> None:
    """As shipped (``GRANDCHILD_TO_US`` on): requests said to the speaker as to a grandchild act."""
    assert zh.match(text).intent == intent
