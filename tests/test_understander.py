"""The understanding stage as the product builds it (pipeline.build_understander): distress first,
exact catalog phrases, the learned model, polarity, slots people use without being told."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from assistant.ops.settings import Contact, Doctor, Medication, Person, Settings
from assistant.pipeline import build_understander
from assistant.understanding.model import IntentModel, cache_dir, data_hash


def _settings(lang: str, state: Path) -> Settings:
    return Settings(
        person=Person("Margaret Lee", "Margaret", lang),
        doctor=Doctor("Dr. Chen", "+15550100", aliases=("陈医生",)),
        contacts=(
            Contact("Anna", "daughter", phone="+15550101", emergency=True),
            Contact("David", "son", phone="+15550102"),
            Contact("Joan", "mother", phone="+15550103"),
            Contact("Tom", "grandson"),
        ),
        medications=(
            Medication("amlodipine", aliases=("blood pressure pills", "降压药"), times=(dt.time(8),)),
            Medication("metformin", aliases=("diabetes pills", "降糖药"), times=(dt.time(18),)),
            Medication("furosemide", times=(dt.time(9),)),
        ),
        state_dir=str(state),
    )


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="module")
def en(state: Path):
    return build_understander(_settings("en", state), "en")


@pytest.fixture(scope="module")
def zh(state: Path):
    return build_understander(_settings("zh", state), "zh")


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        ("could you ring my mum for me", "call_contact", {"contact": "Joan"}),
        ("get my grandson on the phone", "call_contact", {"contact": "Tom"}),
        ("I'd love a chat with my girl", "call_contact", {"contact": "Anna"}),
        ("I've nearly run out of my water pills", "reorder_medication", {"medication": "furosemide"}),
        ("can you order some more of my sugar tablets", "reorder_medication", {"medication": "metformin"}),
        (
            "my knee hurts when I climb the stairs",
            "report_symptom",
            {"symptom": "knee_pain", "body_part": "knee"},
        ),
        ("there's a rash on my arm", "report_symptom", None),
        ("I've got a sharp pain in my lower stomach", "report_symptom", None),
    ],
)
def test_english_slots_people_use_without_being_told(en, text: str, intent: str, slots: dict | None) -> None:
    u = en.match(text)
    assert u.intent == intent, (text, u)
    if slots is not None:
        assert u.slots == slots, (text, u)
    assert 0.0 <= u.confidence <= 1.0


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        ("给我妈打个电话", "call_contact", {"contact": "Joan"}),
        ("帮我叫孙子给我回个电话", "call_contact", {"contact": "Tom"}),
        ("将压药吃完了", "reorder_medication", {"medication": "amlodipine"}),
        ("我拉肚子", "report_symptom", None),
        ("我头晕眼花", "report_symptom", None),
    ],
)
def test_mandarin_slots_people_use_without_being_told(zh, text: str, intent: str, slots: dict | None) -> None:
    u = zh.match(text)
    assert u.intent == intent, (text, u)
    if slots is not None:
        assert u.slots == slots, (text, u)


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("no need to call Anna", "call_contact"),
        ("I'm not dizzy", "report_symptom"),
        ("don't order anything", "reorder_medication"),
        ("don't call the doctor", "call_doctor"),
        ("I haven't taken my pills yet", "medication_taken"),
        ("I've still got plenty of my blood pressure pills", "reorder_medication"),
    ],
)
def test_english_negated_requests_never_act(en, text: str, forbidden: str) -> None:
    assert en.match(text).intent != forbidden


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [("我今天不需要吃药", "reorder_medication"), ("别给医生打电话", "call_doctor"), ("我还没吃药", "medication_taken"),
     ("不用给女儿打电话", "call_contact")],
)  # fmt: skip
def test_mandarin_negated_requests_never_act(zh, text: str, forbidden: str) -> None:
    assert zh.match(text).intent != forbidden


def test_emergencies_and_their_other_senses(en, zh) -> None:
    for text in ("help!", "help me", "I've slipped in the shower", "I swallowed a whole strip of tablets"):
        assert en.match(text).intent == "emergency", text
    for text in (
        "thanks for the help",
        "he fell asleep during the film",
        "the grandchildren are back from their trip",
    ):
        assert en.match(text).intent != "emergency", text
    assert en.match("how do I get help when I fall?").intent in ("capabilities", None)
    assert zh.match("救命").intent == "emergency" and zh.match("快来人").intent == "emergency"
    for text in ("气死我了", "累死了", "我没摔倒"):
        assert zh.match(text).intent != "emergency", text
    u = en.match("I can't breathe")
    assert u.tier == "emergency" and u.slots == {"danger": "cant_breathe"} and u.confidence <= 1.0


def test_rejected_results_report_confidence_in_unit_range(en, zh) -> None:
    for matcher, text in ((en, "what's the weather like tomorrow"), (en, "play some music"), (zh, "放首歌")):
        u = matcher.match(text)
        assert u.intent is None and u.slots == {} and u.tier is None
        assert 0.0 <= u.confidence <= 1.0 and 0.0 <= u.margin <= 1.0


def test_exact_catalog_phrases_still_win(en) -> None:
    u = en.match("call my daughter")
    assert (u.intent, u.slots, u.confidence) == ("call_contact", {"contact": "Anna"}, 1.0)
    assert en.match("good morning").intent is None  # a reject pattern: out of scope


def test_model_is_cached_in_the_state_dir_by_data_hash(en, state: Path) -> None:
    path = cache_dir(str(state)) / f"intent-en-{data_hash('en')}.bin"
    assert path.exists()
    model = IntentModel.load(path)
    assert "__oos__" in model.classes and "emergency" in model.classes
    probs = model.predict(["call", "#contact"])
    assert abs(sum(p for _, p in probs.ranked) - 1.0) < 1e-6
    assert probs.ranked[0][0] == "call_contact"


def test_broken_cached_model_is_rebuilt(state: Path) -> None:
    from assistant.understanding import model as model_mod

    path = cache_dir(str(state)) / f"intent-zh-{data_hash('zh')}.bin"
    settings = _settings("zh", state)
    build_understander(settings, "zh")
    path.write_bytes(b"garbage")
    model_mod._MODELS.clear()
    fresh = build_understander(dataclasses.replace(settings), "zh")
    assert fresh.match("给女儿打电话").slots == {"contact": "Anna"}
    assert IntentModel.load(path).classes  # rewritten
