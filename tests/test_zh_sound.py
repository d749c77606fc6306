"""Mandarin as a recogniser writes it (issue 10, round 12, dev15zh): spans that sound like one of the
domain's key words but are written otherwise (雪压 / 可嗽 / 遇约 / 点话) are read as the word by the rules
(``normalize.sound_zh``, ``ZH_SOUND_READING``); real words that sound alike stay — with the real
understander."""

from __future__ import annotations

import pytest
from test_understander import _settings

from assistant.pipeline import build_understander
from assistant.understanding import normalize as norm
from assistant.understanding import understander as und
from assistant.understanding.normalize import normalize, sound_zh


@pytest.fixture(scope="module")
def zh(tmp_path_factory: pytest.TempPathFactory):
    return build_understander(_settings("zh", tmp_path_factory.mktemp("state")), "zh")


def _sound(text: str) -> str:
    return sound_zh(normalize(text, "zh"))


@pytest.mark.parametrize(
    ("heard", "read"),
    [
        ("雪压一百七十五", "血压一百七十五"),
        ("可嗽一直好不了", "咳嗽一直好不了"),
        ("要疼直不起来", "腰疼直不起来"),
        ("帮我遇约一下陈医生", "帮我预约一下陈医生"),
        ("你给我女儿打一下点话", "你给我女儿打一下电话"),
        ("将压药快吃完了", "降压药快吃完了"),
        ("现在鸡点了", "现在几点了"),
        ("在说一边", "再说一遍"),
        ("打点声", "大点声"),
    ],
)
def test_sound_alikes_read_as_the_key_word(heard: str, read: str) -> None:
    assert _sound(heard) == read


@pytest.mark.parametrize(
    "said",
    [
        "你跟他说一声",  # 一声 is a word (yi sheng = 医生)
        "我这一生没进过几回医院",
        "外面笑声挺大",  # xiao sheng = 小声
        "小时候上学堂",  # xue tang = 血糖
        "一元钱一斤",  # yi yuan = 医院
        "还要疼几天",  # 还要 …, not 腰疼
        "刚才那个节目里有人流了好多血呀",  # 血呀 is no 血压
        "给我手机充点话费",
        "家医声音太大",  # a key word said as such (声音) is not part of another's sound-alike (医生)
        "血压一百六",  # already the word
        "头发少了",  # fa shao, but 头发 is a word
    ],
)
def test_real_words_that_sound_alike_stay(said: str) -> None:
    assert _sound(said) == normalize(said, "zh")


def test_every_key_word_has_its_own_sound() -> None:
    """Each key word is two characters or more (one syllable, 药 / 要, is too ambiguous) and no keep
    word is itself a key word (it would block the word it keeps)."""
    assert all(len(w) >= 2 for w in norm.ZH_SOUND_WORDS)
    assert not set(norm.ZH_SOUND_KEEP) & set(norm.ZH_SOUND_WORDS)


@pytest.mark.parametrize(
    ("said", "intent", "symptom"),
    [
        ("雪压一百七十五高压", "report_symptom", "high_blood_pressure"),  # a home reading, 血压 misheard
        ("可嗽一直好不了", "report_symptom", "cough"),
        ("西盖疼上楼梯费劲", "report_symptom", "knee_pain"),
    ],
)
def test_misheard_reports_with_the_real_understander(zh, said: str, intent: str, symptom: str) -> None:
    got = zh.match(said)
    assert got.intent == intent and got.slots.get("symptom") == symptom


def test_off_the_rules_read_the_words_as_said(zh, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(und, "ZH_SOUND_READING", False)
    monkeypatch.setattr(und, "ZH_SOUND_FOR_MODEL", False)
    # 雪压 is no 血压: the rules read no blood-pressure figure (the model may still call the line a
    # report: with the Mandarin dev-odd training it has seen this very line, dev15zh's odd line 257)
    assert zh.match("雪压一百七十五高压").slots.get("symptom") != "high_blood_pressure"
    monkeypatch.setattr(und, "ZH_SOUND_READING", True)
    got = zh.match("雪压一百七十五高压")
    assert got.intent == "report_symptom" and got.slots.get("symptom") == "high_blood_pressure"
