"""Regional Mandarin and recogniser homophones (round 10, dev13zh): regional words read the standard
way (``normalize.standard_zh``) by the symptom finder, the rules and a second distress pass (the
model reads the words as said); symptom phrases found by their pinyin when the recogniser wrote
homophones (three characters or more); more sound-alikes of danger words; a medicine named without
asking for it orders nothing."""

from __future__ import annotations

import pytest
from test_understander import _settings

from assistant.pipeline import build_understander
from assistant.understanding.normalize import normalize, standard_zh
from assistant.understanding.symptoms import SymptomFinder


@pytest.fixture(scope="module")
def zh(tmp_path_factory: pytest.TempPathFactory):
    return build_understander(_settings("zh", tmp_path_factory.mktemp("state")), "zh")


def _std(text: str) -> str:
    return standard_zh(normalize(text, "zh"))


@pytest.mark.parametrize(
    ("said", "standard"),
    [
        ("俺咋瞅不清字了", "我怎么看不清字了"),  # 东北
        ("侬今朝好伐", "你今天好伐"),  # 上海
        ("我啱啱食咗饭", "我刚刚吃了饭"),  # 粤
        ("佢哋冇嚟", "他们没来"),
        ("唔使喇，唔该", "不用了谢谢"),
        ("莫得事，脑壳有点昏", "没有事头有点昏"),  # 四川
        ("波棱盖疼", "膝盖疼"),
        ("阿拉屋里厢", "我家里"),
    ],
)
def test_regional_words_are_read_the_standard_way(said: str, standard: str) -> None:
    assert _std(said) == standard


@pytest.mark.parametrize("text", ["喇叭坏了", "伐木工人", "今天天气不错", "我要去超市买菜", "陈医生"])
def test_standard_mandarin_is_left_as_it_is(text: str) -> None:
    assert _std(text) == normalize(text, "zh")


def test_the_words_shown_stay_the_speakers(zh) -> None:
    assert zh.match("俺想瞅瞅陈大夫").text == normalize("俺想瞅瞅陈大夫", "zh")


@pytest.fixture(scope="module")
def finder() -> SymptomFinder:
    return SymptomFinder("zh")


@pytest.mark.parametrize(
    ("text", "symptom"),
    [
        ("脑瓜子疼了一早上", "headache"),  # regional body-part word
        ("这两天膝头哥痛", "knee_pain"),
        ("昨晚拉度子拉了三回", "diarrhoea"),  # homophones: 拉度子 = 拉肚子
        ("头又疼了", "headache"),  # an again-word inside the phrase
    ],
)
def test_regional_and_misheard_symptoms_are_found(finder: SymptomFinder, text: str, symptom: str) -> None:
    found = finder.find(text)
    assert found is not None and found.symptom == symptom


@pytest.mark.parametrize("text", ["我头发少了好多", "嗓子干", "今天去公园转转", "要疼你的孩子"])
def test_two_character_sound_alikes_are_not_symptoms(finder: SymptomFinder, text: str) -> None:
    """发少 sounds like 发烧, 要疼 like 腰疼: two characters are too many words' sound."""
    found = finder.find(text)
    assert found is None or found.symptom not in ("fever", "lower_back_pain", "right_upper_pain")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我头先食咗降压药喇", "medication_taken"),  # 粤: 食咗 = 吃了
        ("唔使打畀安娜住", None),  # 粤: 唔使 = 不用, the call declined
        ("佢喺厨房跌咗，起唔到身", "emergency"),  # 粤: a fall no lexicon word spells
        ("老头子突然抽过去了", "emergency"),  # 东北: 抽过去 = a fit; someone near, not far
        ("小便憋了一晚上憋得难受", "report_symptom"),  # holding water is no breathing trouble
    ],
)
def test_regional_requests_and_emergencies(zh, text: str, intent: str | None) -> None:
    assert zh.match(text).intent == intent


def test_a_bowel_complaint_over_days_is_the_speakers_own(zh) -> None:
    """几天没… is "for days", a statement, not a general question."""
    got = zh.match("大便好些天没解出来了，几天没上厕所")
    assert got.intent == "report_symptom"


@pytest.mark.parametrize(
    ("text", "emergency"),
    [
        ("我穿不上气来了", True),  # 喘 misheard as 穿
        ("我在院子里甩了一跤", True),  # 摔 misheard as 甩
        ("快叫旧护车来", True),  # 救护车
        ("今天冷，毛衣都穿不上了", False),
    ],
)
def test_recogniser_sound_alikes_of_danger_words(text: str, emergency: bool) -> None:
    from assistant.understanding.distress import DistressDetector

    assert DistressDetector("zh").detect(text).emergency is emergency


@pytest.mark.parametrize("text", ["降糖药是那种黄色的小圆片", "我那个降压药挺管用的"])
def test_naming_a_medicine_orders_nothing(zh, text: str) -> None:
    assert zh.match(text).intent != "reorder_medication"


def test_a_medicine_running_low_is_still_an_order(zh) -> None:
    assert zh.match("俺那降压药瓶子快见底了，帮忙再订点").intent == "reorder_medication"
