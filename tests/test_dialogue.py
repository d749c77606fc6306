"""Dialogue state machine: confirmations, cancel/repeat, silence → phone offer, emergencies,
backend and phone events, plain answers, both languages. Injected ManualClock, real SQLite."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from assistant.conversation import actions as act
from assistant.conversation.care_store import CareStore
from assistant.conversation.dialogue import MAX_EMERGENCY_CANCEL_S, Dialogue, State
from assistant.ops.clock import ManualClock
from assistant.ops.settings import Backend, Contact, Doctor, Medication, Person, PhoneFallback, Settings
from assistant.ops.settings import Dialogue as DialogueSettings
from assistant.understanding.result import Understanding

UTC = dt.UTC
NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def make_settings(lang: str = "en", **over) -> Settings:
    if lang == "zh":
        person, doctor = Person("王秀兰", "王阿姨", "zh"), Doctor("陈医生", "+8613800000000")
        contacts = (Contact("小丽", "daughter", phone="+8613900000001", emergency=True),)
        meds = (Medication("氨氯地平", ("降压药",), "一片", (dt.time(8, 0),)),)
    else:
        person, doctor = Person("Margaret Lee", "Margaret", "en"), Doctor("Dr. Chen", "+15550100")
        contacts = (
            Contact("Anna", "daughter", phone="+15550111", emergency=True),
            Contact("David", "son", phone="+15550122", emergency=True),
        )
        meds = (Medication("amlodipine", ("blood pressure pills",), "one tablet", (dt.time(8, 0),)),)
    # A practice is configured: the emergency's first route is the backend (routes: test_routes.py).
    # and a modem rings the emergency contacts when the practice does not answer.
    backend = Backend(url="mqtt://127.0.0.1:1883")
    phone = PhoneFallback(driver="modem")
    base = dict(
        person=person,
        doctor=doctor,
        contacts=contacts,
        medications=meds,
        backend=backend,
        phone_fallback=phone,
    )
    base.update(over)
    return Settings(**base)


def make(lang: str = "en", start: dt.datetime = NOON, **over) -> tuple[Dialogue, ManualClock]:
    clock = ManualClock(start)
    return Dialogue(make_settings(lang, **over), None, clock, state=CareStore()), clock


def U(
    intent: str | None, lang: str = "en", text: str = "", tier: str | None = None, **slots
) -> Understanding:
    return Understanding(text or intent or "mumble", lang, intent, slots, 0.9, 0.5, tier)


def says(actions: list) -> list[str]:
    return [a.text for a in actions if isinstance(a, act.Say)]


def sent(actions: list) -> list[act.SendRequest]:
    return [a for a in actions if isinstance(a, act.SendRequest)]


def calls(actions: list) -> list[act.PhoneCall]:
    return [a for a in actions if isinstance(a, act.PhoneCall)]


# ---------------------------------------------------------------- confirm tier


def test_confirm_yes_sends_request_with_names():
    d, _ = make()
    out = d.handle(U("call_doctor", tier="confirm"))
    assert says(out) == ["Shall I ask Dr. Chen to call you?"]
    assert any(isinstance(a, act.ExpectAnswer) for a in out)
    assert sent(out) == [] and d.state is State.AWAITING_CONFIRMATION
    out = d.handle(U("yes"))
    (req,) = sent(out)
    assert req.request_type == "call_doctor" and req.tier == "confirm" and req.call_back_by_phone
    assert "Dr. Chen" in says(out)[0] and d.state is State.IDLE


def test_confirm_no_sends_nothing():
    d, _ = make()
    d.handle(U("call_contact", tier="confirm", contact="Anna"))
    out = d.handle(U("no"))
    assert sent(out) == [] and d.state is State.IDLE
    assert says(out) == ["All right. I won't do that."]


# ---------------------------------------------------------------- heard unsure: "Did you say …?"


def _unsure(intent: str, heard: str, tier: str | None = None, **slots) -> Understanding:
    return dataclasses.replace(U(intent, tier=tier, **slots), transcript=heard, unsure=True)


def test_heard_unsure_asks_did_you_say_and_acts_on_yes():
    d, _ = make()
    out = d.handle(_unsure("time_query", "what time is it"))
    assert says(out) == ["Did you say: what time is it?"] and d.state is State.AWAITING_CONFIRMATION
    out = d.handle(U("yes"))
    assert says(out) and says(out)[0].startswith("It's") and d.state is State.IDLE


def test_heard_unsure_then_no_asks_again_and_does_nothing():
    d, _ = make()
    d.handle(_unsure("call_contact", "call my daughter", tier="confirm", contact="Anna"))
    out = d.handle(U("no"))
    assert sent(out) == [] and d.state is State.IDLE
    assert says(out) == ["Sorry, I didn't catch that. Please say it again."]


def test_heard_unsure_request_is_still_read_back_after_yes():
    d, _ = make()
    d.handle(_unsure("call_doctor", "call my doctor", tier="confirm"))
    out = d.handle(U("yes"))
    assert says(out) == ["Shall I ask Dr. Chen to call you?"] and sent(out) == []
    (req,) = sent(d.handle(U("yes")))
    assert req.request_type == "call_doctor"


def test_an_emergency_heard_unsure_is_never_asked_about():
    d, _ = make()
    out = d.handle(_unsure("emergency", "help me i have fallen", tier="emergency"))
    assert "Did you say" not in " ".join(says(out))
    assert d.state is State.EMERGENCY_CANCEL_WINDOW


def test_call_contact_reads_back_the_name():
    d, _ = make()
    out = d.handle(U("call_contact", tier="confirm", contact="David"))
    assert says(out) == ["Shall I call David?"]
    (req,) = sent(d.handle(U("yes")))
    assert req.slots == {"contact": "David"}


def test_repeat_repeats_the_question_and_keeps_waiting():
    d, _ = make()
    first = d.handle(U("reorder_medication", tier="confirm", medication="amlodipine"))
    again = d.handle(U("repeat"))
    assert says(again) == says(first) == ["Shall I order more amlodipine?"]
    assert d.state is State.AWAITING_CONFIRMATION
    assert sent(d.handle(U("yes")))[0].slots == {"medication": "amlodipine"}


def test_cancel_always_works():
    d, _ = make()
    d.handle(U("book_appointment", tier="confirm"))
    out = d.handle(U("cancel"))
    assert sent(out) == [] and d.state is State.IDLE
    assert says(d.handle(U("cancel"))) == ["There is nothing to cancel."]
    assert sent(d.handle(U("yes"))) == []  # the cancelled request is gone


def test_silence_retries_then_offers_phone_then_calls():
    d, _ = make()
    d.handle(U("call_doctor", tier="confirm"))
    retry = d.handle(act.Silence())
    assert says(retry) == ["Please say yes or no.", "Shall I ask Dr. Chen to call you?"]
    offer = d.handle(act.Silence())
    assert says(offer) == ["Shall I phone Dr. Chen instead?"]
    assert d.state is State.AWAITING_PHONE_OFFER
    out = d.handle(U("yes"))
    (call,) = calls(out)
    assert call.contacts == (("Dr. Chen", "+15550100"),)
    assert sent(out) == []


def test_two_failed_tries_offer_the_phone():
    d, _ = make()
    d.handle(U("call_contact", tier="confirm", contact="Anna"))
    d.handle(U(None))
    out = d.handle(U(None))
    assert says(out) == ["Shall I phone Anna instead?"]
    (call,) = calls(d.handle(U("yes")))
    assert call.contacts == (("Anna", "+15550111"),)


def test_not_understood_twice_offers_phone_to_doctor():
    d, _ = make()
    assert says(d.handle(U(None))) == ["Sorry, I didn't catch that. Please say it again."]
    out = d.handle(U(None))
    assert "Dr. Chen" in says(out)[0] and d.state is State.AWAITING_PHONE_OFFER
    assert says(d.handle(U("no"))) == ["All right. I'm here if you need me."]


def test_new_request_replaces_unanswered_confirmation():
    d, _ = make()
    d.handle(U("call_doctor", tier="confirm"))
    out = d.handle(U("call_contact", tier="confirm", contact="Anna"))
    assert says(out) == ["Shall I call Anna?"]
    assert sent(d.handle(U("yes")))[0].request_type == "call_contact"


def test_missing_contact_asks_which():
    d, _ = make()
    out = d.handle(U("call_contact", tier="confirm"))
    assert says(out) == ["Whom shall I call? Anna or David?"] and d.state is State.IDLE


# ---------------------------------------------------------------- emergency


def test_emergency_acts_at_once_and_sends_when_window_closes():
    d, clock = make()
    out = d.handle(U("emergency", tier="emergency", danger="fall"))
    assert sent(out) == [] and d.state is State.EMERGENCY_CANCEL_WINDOW
    assert "cancel" in says(out)[0].lower()
    clock.advance(d.settings.dialogue.emergency_cancel_s - 1)
    assert sent(d.tick()) == []
    clock.advance(1)
    out = d.tick()
    (req,) = sent(out)
    assert req.request_type == "emergency" and req.tier == "emergency" and req.slots == {"danger": "fall"}
    assert "sending your alert to Dr. Chen" in says(out)[0] and d.state is State.IDLE


def test_emergency_cancelled_in_window_sends_nothing():
    d, clock = make()
    d.handle(U("emergency", tier="emergency"))
    out = d.handle(U("cancel"))
    assert says(out) == ["All right. I did not send the alert."]
    clock.advance(60)
    assert sent(d.tick()) == [] and d.state is State.IDLE


def test_im_fine_in_the_window_cancels_the_alert():
    d, clock = make()
    d.handle(U("emergency", tier="emergency"))
    out = d.handle(U("feeling_fine"))
    assert says(out) == ["All right. I did not send the alert."]
    clock.advance(60)
    assert sent(d.tick()) == [] and d.state is State.IDLE


def test_emergency_yes_or_help_again_sends_immediately():
    d, _ = make()
    d.handle(U("emergency", tier="emergency"))
    assert sent(d.handle(U("emergency", tier="emergency")))[0].request_type == "emergency"
    d.handle(U("emergency", tier="emergency"))
    assert sent(d.handle(U("yes")))[0].request_type == "emergency"


def test_cancel_window_is_capped():
    d, clock = make(dialogue=DialogueSettings(emergency_cancel_s=60))
    out = d.handle(U("emergency", tier="emergency"))
    (expect,) = [a for a in out if isinstance(a, act.ExpectAnswer)]
    assert expect.timeout_s == MAX_EMERGENCY_CANCEL_S
    clock.advance(MAX_EMERGENCY_CANCEL_S)
    assert sent(d.tick())


def test_repeated_help_without_follow_up_is_an_emergency():
    d, clock = make()
    first = d.handle(U(None, text="Help!"))
    assert sent(first) == [] and "help again" in says(first)[0]
    clock.advance(10)
    d.handle(U(None, text="help"))
    assert d.state is State.EMERGENCY_CANCEL_WINDOW


def test_help_then_follow_up_is_not_an_emergency():
    d, clock = make()
    d.handle(U(None, text="help"))
    d.handle(U("time_query"))
    clock.advance(5)
    d.handle(U(None, text="help"))
    assert d.state is not State.EMERGENCY_CANCEL_WINDOW


def test_emergency_interrupts_a_confirmation():
    d, _ = make()
    d.handle(U("call_doctor", tier="confirm"))
    d.handle(U("emergency", tier="emergency"))
    assert d.state is State.EMERGENCY_CANCEL_WINDOW


# ---------------------------------------------------------------- backend and phone events


def _send_emergency(d: Dialogue, clock: ManualClock) -> act.SendRequest:
    d.handle(U("emergency", tier="emergency"))
    clock.advance(MAX_EMERGENCY_CANCEL_S)
    return sent(d.tick())[0]


def test_delivery_late_emergency_says_it_phones_instead_and_phones_contacts_in_order():
    d, clock = make()
    req = _send_emergency(d, clock)
    out = d.handle(act.DeliveryLate(req.request_id, "emergency", "emergency"))
    assert says(out)[0] == "I can't reach Dr. Chen's practice. I'm phoning Anna instead."
    (call,) = calls(out)
    assert call.contacts == (("Anna", "+15550111"), ("David", "+15550122"))


def test_delivery_late_call_doctor_phones_doctor():
    d, _ = make()
    d.handle(U("call_doctor", tier="confirm"))
    req = sent(d.handle(U("yes")))[0]
    (call,) = calls(d.handle(act.DeliveryLate(req.request_id, "call_doctor", "confirm")))
    assert call.contacts == (("Dr. Chen", "+15550100"),)


def test_delivery_late_plain_request_only_says_saved():
    d, _ = make()
    out = d.handle(act.DeliveryLate("x", "medication_taken", "plain"))
    assert calls(out) == [] and "saved your request" in says(out)[0]


def test_ack_text_spoken_and_nobody_answered_phones_down_the_list():
    d, clock = make()
    req = _send_emergency(d, clock)
    out = d.handle(act.BackendAck(req.request_id, "received", "Dr. Chen's team has your alert."))
    assert says(out) == ["Dr. Chen's team has your alert."] and calls(out) == []
    out = d.handle(act.BackendAck(req.request_id, "nobody_answered"))
    assert calls(out)[0].contacts[0] == ("Anna", "+15550111")


def test_phone_result_tells_who_answered_or_nobody():
    d, _ = make()
    assert says(d.handle(act.PhoneResult("answered", "Anna")))[0].startswith("I reached Anna")
    assert "Nobody answered" in says(d.handle(act.PhoneResult("failed")))[0]


def test_backend_say_is_spoken_and_repeatable():
    d, _ = make()
    assert says(d.handle(act.BackendSay("Dr. Chen will call you within 10 minutes."))) == [
        "Dr. Chen will call you within 10 minutes."
    ]
    assert says(d.handle(U("repeat"))) == ["Dr. Chen will call you within 10 minutes."]


# ---------------------------------------------------------------- plain answers


def test_time_query_uses_the_clock():
    d, _ = make(start=dt.datetime(2026, 11, 23, 15, 30, tzinfo=UTC))
    assert says(d.handle(U("time_query"))) == ["It's 3:30 in the afternoon."]


def test_capabilities_and_volume():
    d, _ = make()
    assert "Dr. Chen" in says(d.handle(U("capabilities")))[0]
    out = d.handle(U("volume_up"))
    assert out[0] == act.SetVolume(0.2)
    assert d.handle(U("volume_down"))[0] == act.SetVolume(-0.2)


def test_appointment_query_unknown_offers_booking_then_known_from_backend():
    d, _ = make()
    out = d.handle(U("appointment_query"))
    assert says(out) == ["I don't know of any appointment. Shall I book one?"]
    req = sent(d.handle(U("yes")))[0]
    assert req.request_type == "book_appointment"
    d.handle(act.BackendAck(req.request_id, "booked", "Your appointment is on Tuesday at 10 in the morning."))
    assert says(d.handle(U("appointment_query"))) == ["Your appointment is on Tuesday at 10 in the morning."]


def test_requests_carry_no_transcript_unless_opted_in():
    d, _ = make()
    d.handle(Understanding("call my doctor", "en", "call_doctor", {}, 0.9, 0.5, "confirm", "call my doctor"))
    req = sent(d.handle(U("yes")))[0]
    assert "transcript" not in req.context


# ---------------------------------------------------------------- Mandarin


def test_mandarin_confirmation_and_emergency():
    d, clock = make("zh")
    out = d.handle(U("call_doctor", "zh", tier="confirm"))
    assert says(out) == ["要我请陈医生给您回电话吗？"]
    d.handle(act.Silence())
    assert says(d.handle(act.Silence())) == ["要不要我直接给陈医生打电话？"]
    d.handle(U("no", "zh"))
    out = d.handle(U("emergency", "zh", tier="emergency"))
    assert "取消" in says(out)[0]
    assert "警报没有发出去" in says(d.handle(U("cancel", "zh")))[0]
    clock.advance(30)
    assert sent(d.tick()) == []


def test_mandarin_offline_message_and_time():
    d, _ = make("zh", start=dt.datetime(2026, 11, 23, 8, 5, tzinfo=UTC))
    assert says(d.handle(act.DeliveryLate("x", "check_in", "plain"))) == [
        "现在网络断了。您的请求我已经保存好了，网络一恢复就马上发出去。"
    ]
    assert says(d.handle(U("time_query", "zh"))) == ["现在是早上八点零五分。"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_prompt_key_used_exists(lang):
    from assistant.conversation.prompts import load_prompts

    en, other = load_prompts("en"), load_prompts(lang)
    assert set(en.prompts) == set(other.prompts)
    assert set(en.summaries) == set(other.summaries)


# ---------------------------------------------------------------- behaviour comes from the catalog


def _catalog(tmp_path, body: str):
    from assistant.understanding.catalog import load_catalog

    path = tmp_path / "en.yaml"
    path.write_text("lang: en\nintents:\n" + body, encoding="utf-8")
    return load_catalog("en", path)


def test_tier_confirmation_and_help_words_are_read_from_the_catalog(tmp_path):
    catalog = _catalog(
        tmp_path,
        "  emergency:\n    tier: emergency\n    help_words: [mayday]\n    phrases: [i fell]\n"
        "  call_doctor:\n    tier: confirm\n    confirm: false\n    phrases: [call my doctor]\n"
        "    responses: {confirm: 'Shall I?', done: 'Done.'}\n"
        "  lights_on:\n    tier: plain\n    confirm: true\n    phrases: [lights on]\n"
        "    responses: {confirm: 'Lights on?', done: 'Lights are on.'}\n",
    )
    clock = ManualClock(NOON)
    d = Dialogue(make_settings(), None, clock, state=CareStore(), catalog=catalog)
    out = d.handle(U("call_doctor"))  # confirm: false → sent at once, with the catalog's tier
    assert [(r.request_type, r.tier) for r in sent(out)] == [("call_doctor", "confirm")]
    assert d.state is State.IDLE
    assert says(d.handle(U("lights_on"))) == ["Lights on?"] and d.state is State.AWAITING_CONFIRMATION
    assert [r.tier for r in sent(d.handle(U("yes")))] == ["plain"]
    assert d.handle(U(None, text="help")) == [] or d.state is State.IDLE  # not a help word here
    assert "help again" in says(d.handle(U(None, text="Mayday!")))[0]
    d.handle(U(None, text="mayday"))
    assert d.state is State.EMERGENCY_CANCEL_WINDOW


def test_a_missing_required_slot_from_the_config_is_asked_for(tmp_path):
    d, _ = make()
    assert says(d.handle(U("call_contact", tier="confirm"))) == ["Whom shall I call? Anna or David?"]
    one = make(contacts=(make_settings().contacts[0],))[0]
    out = one.handle(U("call_contact", tier="confirm"))
    assert one.state is State.AWAITING_CONFIRMATION and "Anna" in says(out)[0]
