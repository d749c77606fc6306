"""Everyday Mandarin of older speakers (issue 10, round 11, dev14zh): home readings said as figures,
a clause-final 不 that asks, medicines named by what they treat, a symptom told before an ask to call
or book the doctor, and the callee when two contacts are named — with the real understander."""

from __future__ import annotations

import pytest
from test_understander import _settings

from assistant.pipeline import build_understander
from assistant.understanding import readings
from assistant.understanding.normalize import normalize, standard_zh, tag_questions
from assistant.understanding.readings import find_reading, zh_number
from assistant.understanding.slots import medicine_word_variants
from assistant.understanding.symptoms import SymptomFinder


@pytest.fixture(scope="module")
def zh(tmp_path_factory: pytest.TempPathFactory):
    return build_understander(_settings("zh", tmp_path_factory.mktemp("state")), "zh")


def _std(text: str) -> str:
    return standard_zh(normalize(text, "zh"))


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("一百六", 160.0),
        ("一百六十多", 160.0),
        ("一百零五", 105.0),
        ("一七零", 170.0),
        ("两百", 200.0),
        ("九十五", 95.0),
        ("十一点五", 11.5),
        ("三十八度二", 38.2),
        ("九点多", 9.5),
        ("十二点几", 12.5),
    ],
)
def test_chinese_numerals_are_read_either_way(said: str, value: float) -> None:
    assert zh_number(said) == value


def test_figures_written_as_digits_keep_their_decimals_and_slash() -> None:
    assert normalize("体温37.8", "zh") == "体温三十七点八"
    assert normalize("血压160/95", "zh") == "血压一六零比九十五"


@pytest.mark.parametrize(
    ("text", "symptom"),
    [
        ("早上量的血压，一百六十多", "high_blood_pressure"),
        ("高压170", "high_blood_pressure"),
        ("血压160/95", "high_blood_pressure"),
        ("高压一百三，低压九十五", "high_blood_pressure"),  # the lower figure is the high one
        ("血糖测了一下，十一点五", "high_blood_sugar"),
        ("空腹血糖九点多", "high_blood_sugar"),
        ("刚才测的血糖三点二", "low_blood_sugar"),
        ("刚量了体温，三十八度二", "high_temperature_reading"),
        ("体温37.8", "high_temperature_reading"),
    ],
)
def test_an_out_of_range_reading_names_its_symptom(text: str, symptom: str) -> None:
    found = find_reading(_std(text))
    assert found is not None and found.symptom == symptom


@pytest.mark.parametrize(
    "text",
    [
        "血压一百二，挺好的",  # in range
        "血糖五点六",
        "体温三十六度五",
        "医生说血压要控制在一百四以下",  # a target
        "血糖多少算高",
        "去年我血压一百八，现在好了",  # long ago
        "早上八点量的血压一百三",  # 八点 is the time, 一百三 is in range
        "血压量了一下",  # 一下 is no figure
    ],
)
def test_normal_target_and_past_readings_report_nothing(text: str) -> None:
    assert find_reading(_std(text)) is None


def test_the_symptom_finder_reports_a_reading_only_when_no_symptom_word_was_heard() -> None:
    finder = SymptomFinder("zh")
    found = finder.find("早上量血压一百七十几", normalized=False)
    assert found is not None and found.reading and found.symptom == "high_blood_pressure"
    worded = finder.find("头疼，血压一百七", normalized=False)
    assert worded is not None and not worded.reading and worded.symptom == "headache"


@pytest.mark.parametrize(
    "text", ["早上量的血压，一百六十多", "空腹血糖十点多", "刚测的血糖，十二点几", "量了体温38度6"]
)
def test_a_reading_is_a_symptom_report_not_the_time(zh, text: str) -> None:
    got = zh.match(text)
    assert got.intent == "report_symptom", text
    assert got.slots.get("symptom") in {"high_blood_pressure", "high_blood_sugar", "high_temperature_reading"}


@pytest.mark.parametrize("text", ["我老伴血压一百六", "血压一百二，挺好的", "医生说血糖得控制在七以下"])
def test_someone_elses_normal_or_target_reading_reports_nothing(zh, text: str) -> None:
    assert zh.match(text).intent is None


def test_the_reading_rule_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.understanding import symptoms

    monkeypatch.setattr(symptoms, "READINGS", False)
    assert SymptomFinder("zh").find("空腹血糖九点多") is None
    assert readings.LIMITS["sugar"][2] == 7.0  # the limit the docs state


@pytest.mark.parametrize(
    ("said", "asked"),
    [
        ("陈医生今天上班不，你给他打个电话", "陈医生今天上班吗，你给他打个电话"),
        ("闺女在家不？", "闺女在家吗？"),
        ("行不", "行吗"),
    ],
)
def test_a_clause_final_bu_asks(said: str, asked: str) -> None:
    assert tag_questions(said) == asked


@pytest.mark.parametrize("text", ["不，不用", "我不", "他就不，你别劝了", "要不，你给安娜打", "不要，别弄"])
def test_a_bu_that_declines_is_left_alone(text: str) -> None:
    assert tag_questions(text) == text


def test_the_catalog_and_model_keep_the_bu() -> None:
    assert normalize("陈医生今天上班不，你给他打个电话", "zh").count("不") == 1


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        ("我想问一下陈医生今天上班不，你帮我给他打个电话", "call_doctor", {}),
        ("陈医生在不，我想跟他说说话", "call_doctor", {}),
        ("闺女在家不，你给她打个电话", "call_contact", {"contact": "Anna"}),
        ("儿子今天休息不，你给他打一个", "call_contact", {"contact": "David"}),
    ],
)
def test_a_question_first_does_not_decline_the_request_after_it(
    zh, text: str, intent: str, slots: dict
) -> None:
    got = zh.match(text)
    assert got.intent == intent
    assert {k: v for k, v in got.slots.items() if k in slots} == slots


def test_purpose_forms_without_the_word_for_medicine() -> None:
    assert "降血压的那个" in medicine_word_variants("降血压的药", "zh")
    assert "治糖尿病的" in medicine_word_variants("糖尿病的药", "zh")
    assert "管血压的药" in medicine_word_variants("血压的药", "zh")
    assert "血压的那个" not in medicine_word_variants("血压的药", "zh")  # may be the cuff


@pytest.mark.parametrize(
    ("text", "intent", "medication"),
    [
        ("降血压的那个我吃过了", "medication_taken", "amlodipine"),
        ("治糖尿病的快没了，再订一盒", "reorder_medication", "metformin"),
        ("管血压的那个又快吃光了，再买点", "reorder_medication", "amlodipine"),
    ],
)
def test_a_medicine_named_by_what_it_treats(zh, text: str, intent: str, medication: str) -> None:
    got = zh.match(text)
    assert (got.intent, got.slots.get("medication")) == (intent, medication)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我这两天老拉肚子，你帮我叫一下医生", "call_doctor"),
        ("睡不着觉好几天了，你给医生挂个电话", "call_doctor"),
        ("眼睛花得厉害，约一下陈医生", "book_appointment"),
        ("我这两天老拉肚子", "report_symptom"),  # told alone it stays a report
        ("医生说我这是老毛病，腰疼", "report_symptom"),  # the doctor named, nobody asked for
    ],
)
def test_a_symptom_then_an_ask_for_the_doctor_is_the_ask(zh, text: str, intent: str) -> None:
    assert zh.match(text).intent == intent


@pytest.mark.parametrize(
    ("text", "contact"),
    [
        ("儿子手机打不通，打给我闺女", "Anna"),
        ("闺女在上班呢，你给我儿子打吧", "David"),
        ("给闺女打个电话", "Anna"),
    ],
)
def test_the_callee_is_the_contact_the_call_word_governs(zh, text: str, contact: str) -> None:
    got = zh.match(text)
    assert got.intent == "call_contact" and got.slots.get("contact") == contact


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("降压药是不是该买了", "reorder_medication"),
        ("我看降压药是不是又该订了", "reorder_medication"),
        ("是不是该吃药了", "medication_query"),  # taking, not ordering
        ("降压药还剩多少", "medication_query"),
    ],
)
def test_an_order_asked_as_a_question_is_the_order(zh, text: str, intent: str) -> None:
    assert zh.match(text).intent == intent


@pytest.mark.parametrize("text", ["晚上老起夜", "夜里老上厕所，睡不好"])
def test_getting_up_at_night_is_night_urination(text: str) -> None:
    found = SymptomFinder("zh").find(text)
    assert found is not None and found.symptom == "night_urination"
