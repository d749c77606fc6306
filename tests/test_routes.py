"""Routes (issue 11.1-2): the ladder as pure state, and what she hears at each step (dialogue, fake clock).

The matrix over real processes (mosquitto, the modem simulator, the daemon) is
tests/test_routes_matrix.py; here every cell's logic is checked without I/O, including the pairing
of each spoken delivery sentence with the event it rests on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re

import pytest

from assistant.conversation import actions as act
from assistant.conversation.care_store import CareStore
from assistant.conversation.dialogue import Dialogue
from assistant.conversation.emergency import MAX_EMERGENCY_CANCEL_S
from assistant.conversation.routes import (
    ALARM_REPEAT_S,
    EmergencyLadder,
    Next,
    RoutePlan,
    Step,
    missing_route,
)
from assistant.ops.clock import ManualClock
from assistant.ops.settings import Backend, Contact, Doctor, Emergency, Person, PhoneFallback, Settings
from assistant.understanding.result import Understanding

NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
ANNA = Contact("Anna", "daughter", phone="+15550111", emergency=True)
DAVID = Contact("David", "son", phone="+15550122", emergency=True)
BACKEND = Backend(url="mqtt://127.0.0.1:1883")
MODEM = PhoneFallback(driver="modem")
LOG = PhoneFallback(driver="log")


def settings(backend: Backend = BACKEND, phone: PhoneFallback = MODEM, **emergency) -> Settings:
    return Settings(
        person=Person("Margaret Lee", "Margaret", "en"),
        doctor=Doctor("Dr. Chen", "+15550100"),
        contacts=(ANNA, DAVID),
        backend=backend,
        phone_fallback=phone,
        emergency=Emergency(**emergency),
    )


def U(intent: str, tier: str | None = None, **slots) -> Understanding:
    return Understanding(intent, "en", intent, slots, 0.9, 0.5, tier)


def says(actions: list) -> list[str]:
    return [a.text for a in actions if isinstance(a, act.Say)]


def prompt_ids(actions: list) -> list[str]:
    return [a.prompt_id for a in actions if isinstance(a, act.Say)]


def calls(actions: list) -> list[act.PhoneCall]:
    return [a for a in actions if isinstance(a, act.PhoneCall)]


def sent(actions: list) -> list[act.SendRequest]:
    return [a for a in actions if isinstance(a, act.SendRequest)]


def emergency(s: Settings) -> tuple[Dialogue, ManualClock, list]:
    """The dialogue after an emergency left the cancel window; returns what that step produced."""
    clock = ManualClock(NOON)
    d = Dialogue(s, None, clock, state=CareStore())
    d.handle(U("emergency", tier="emergency", danger="fall"))
    clock.advance(MAX_EMERGENCY_CANCEL_S)
    return d, clock, d.tick()


def rid(d: Dialogue) -> str:
    (request_id,) = d._ladders
    return request_id


# ---------------------------------------------------------------- the plan and check-config


def test_plan_from_the_config() -> None:
    assert RoutePlan.from_settings(settings()).describe() == (
        "the practice → phone calls → text messages → alarm in the room"
    )
    no_phone = RoutePlan.from_settings(settings(phone=LOG))
    assert no_phone.backend and not no_phone.phone and no_phone.reaches_person
    nothing = RoutePlan.from_settings(settings(backend=Backend(), phone=LOG))
    assert not nothing.reaches_person and nothing.describe() == "alarm in the room"
    nobody_to_call = dataclasses.replace(settings(backend=Backend()), contacts=())
    assert not RoutePlan.from_settings(nobody_to_call).phone


@pytest.mark.parametrize(
    ("backend", "phone", "contacts", "accepted", "problem"),
    [
        (BACKEND, LOG, (ANNA,), False, False),
        (Backend(), MODEM, (ANNA,), False, False),
        (Backend(), LOG, (ANNA,), False, True),
        (Backend(), PhoneFallback(driver="none"), (ANNA,), False, True),
        (Backend(), PhoneFallback(enabled=False, driver="modem"), (ANNA,), False, True),
        (Backend(), MODEM, (), False, True),
        (Backend(), LOG, (ANNA,), True, False),
    ],
)
def test_missing_route_is_an_error_unless_accepted(backend, phone, contacts, accepted, problem) -> None:
    s = dataclasses.replace(
        settings(backend=backend, phone=phone, accept_alarm_only=accepted), contacts=contacts
    )
    found = missing_route(s)
    assert (found is not None) == problem
    if found:
        assert "reach nobody" in found[0] and "accept_alarm_only" in found[1]


def test_check_config_names_the_missing_route_and_the_example_opts_out(tmp_path) -> None:
    from assistant.ops import config

    path = tmp_path / "config.yaml"
    path.write_text(
        'person: {name: "Margaret Lee", address_as: "Margaret"}\ndoctor: {name: "Dr. Chen"}\n'
        'backend:\n  url: ""\nphone_fallback:\n  driver: log\n',
        encoding="utf-8",
    )
    (problem,) = config.check_config(path)
    assert problem.key == "emergency.accept_alarm_only" and problem.line == 4
    path.write_text(path.read_text() + "emergency:\n  accept_alarm_only: true\n", encoding="utf-8")
    assert config.check_config(path) == []
    path.write_text(path.read_text() + "  dial_local_number: true\n", encoding="utf-8")
    (problem,) = config.check_config(path)
    assert problem.key == "emergency.dial_local_number"


# ---------------------------------------------------------------- the ladder, pure


def ladder(**plan) -> EmergencyLadder:
    base = dict(backend=True, phone=True, contacts=(("Anna", "+15550111"),))
    return EmergencyLadder("r", RoutePlan(**{**base, **plan}))


def test_ladder_backend_acknowledges() -> None:
    lad = ladder()
    assert lad.start() is Next.SENDING and lad.backend is Step.TRYING
    assert lad.on_ack("received") is Next.DELIVERED and lad.delivered_by == "backend"
    assert lad.on_ack("in_progress") is Next.NOTHING  # said once


def test_ladder_backend_late_then_phone_then_all_failed_then_a_late_ack() -> None:
    lad = ladder()
    lad.start()
    assert lad.on_late() is Next.CALL and lad.phone is Step.TRYING
    assert lad.on_phone(answered=False, texted=False) is Next.ALL_FAILED
    assert lad.on_phone(answered=False, texted=False) is Next.NOTHING  # told once
    assert lad.on_ack("received") is Next.DELIVERED  # the practice got it after all


def test_ladder_nobody_answered_at_the_practice_goes_on_to_the_phone() -> None:
    lad = ladder()
    lad.start()
    assert lad.on_ack("received") is Next.DELIVERED
    assert lad.on_ack("nobody_answered") is Next.CALL  # stored is not "a person has it"
    assert lad.on_phone(answered=False, texted=True) is Next.DELIVERED and lad.delivered_by == "sms"


def test_ladder_without_backend_phones_at_once_and_without_anything_fails_at_once() -> None:
    assert ladder(backend=False).start() is Next.CALL
    assert ladder(backend=False, phone=False).start() is Next.ALL_FAILED
    lad = ladder(phone=False)
    lad.start()
    assert lad.on_late() is Next.ALL_FAILED


# ---------------------------------------------------------------- what she hears


def test_backend_route_sending_then_they_have_it_only_after_the_ack() -> None:
    d, _clock, out = emergency(settings())
    assert [r.request_type for r in sent(out)] == ["emergency"]
    assert says(out) == [
        "I'm sending your alert to Dr. Chen and your family now. Stay where you are. "
        "I'll tell you as soon as they have it."
    ]
    heard = d.handle(act.BackendAck(rid(d), "received", ""))
    assert says(heard) == ["Dr. Chen's practice has your alert. Help is coming."]
    progress = "Dr. Chen's team has seen your message and is taking care of it."
    heard = d.handle(act.BackendAck(rid(d), "in_progress", progress))
    assert says(heard) == [progress]  # later news from the practice is passed on, nothing is repeated


def test_no_backend_phones_at_once_and_never_pretends_to_send() -> None:
    d, _clock, out = emergency(settings(backend=Backend()))
    assert sent(out) == []
    assert says(out) == ["I'm phoning Anna now. Stay where you are."]
    (call,) = calls(out)
    assert call.contacts == (("Anna", "+15550111"), ("David", "+15550122"))
    assert "Margaret has asked for help" in call.sms_text and call.request_id == rid(d)
    heard = d.handle(act.PhoneResult("failed", sms_sent=("Anna", "David"), request_id=rid(d)))
    assert says(heard) == [
        "Nobody answered the phone, but my text message about your alert reached Anna and David."
    ]


def test_all_routes_failed_tells_her_the_number_and_the_alarm_repeats_until_stop() -> None:
    d, clock, out = emergency(settings(phone=LOG, local_number="999"))
    assert says(out)[0].startswith("I'm sending your alert")
    heard = d.handle(act.DeliveryLate(rid(d), "emergency", "emergency"))
    assert says(heard) == [
        "I could not reach anyone. Please call 999 on your phone now, or call out to a neighbour. "
        "I will keep sounding the alarm until you say stop."
    ]
    assert calls(heard) == []  # never dialled without dial_local_number
    first = d.tick()
    assert act.SetVolume(1.0) in first and act.PlayEarcon("error") in first
    assert says(first) == ["Please call 999 now. Say stop when help is here."]
    clock.advance(ALARM_REPEAT_S - 1)
    assert d.tick() == []
    clock.advance(1)
    assert says(d.tick()) == ["Please call 999 now. Say stop when help is here."]
    assert says(d.handle(U("cancel"))) == ["The alarm is off."]
    clock.advance(ALARM_REPEAT_S * 3)
    assert d.tick() == [] and not d.alarm_sounding


def test_the_local_number_is_dialled_only_when_the_caregiver_turned_it_on() -> None:
    d, _clock, _out = emergency(settings(backend=Backend(), local_number="112", dial_local_number=True))
    heard = d.handle(act.PhoneResult("failed", request_id=rid(d)))
    assert "I am calling 112 for you now." in says(heard)
    (call,) = calls(heard)
    assert call.reason == "local_emergency" and call.contacts == (("112", "112"),)


def test_a_late_ack_after_everything_failed_stops_the_alarm() -> None:
    d, _clock, _out = emergency(settings(phone=LOG))
    d.handle(act.DeliveryLate(rid(d), "emergency", "emergency"))
    d.tick()
    assert d.alarm_sounding
    heard = d.handle(act.BackendAck(rid(d), "received", "Help is on the way. The practice has your alert."))
    assert says(heard) == ["The alarm is off.", "Help is on the way. The practice has your alert."]
    assert not d.alarm_sounding


def test_opt_out_alarm_only_fails_at_once_and_tells_her() -> None:
    d, _clock, out = emergency(settings(backend=Backend(), phone=LOG, accept_alarm_only=True))
    assert sent(out) == [] and calls(out) == []
    assert says(out)[0].startswith("I could not reach anyone. Please call the emergency number")
    assert d.alarm_sounding


# ---------------------------------------------------------------- claims are backed by events

CLAIM_PROMPTS = {
    "emergency.done": "sending",
    "emergency_sending": "sending",
    "emergency_calling": "sending",
    "emergency_trying_phone": "sending",
    "emergency_resumed": "sending",
    "emergency_delivered": "delivered",
    "emergency.delivered": "delivered",
    "phone_answered": "delivered",
    "emergency_texted": "delivered",
    "emergency_all_failed": "nobody_reached",
    "emergency_all_failed_no_number": "nobody_reached",
}
CLAIM_RE = re.compile(r"event=delivery_claim claim=(\w+) basis=(\S+) id=(\S+)")


@pytest.mark.parametrize(
    "script",
    [
        [("ack", "received")],
        [("late",), ("phone", "answered")],
        [("late",), ("phone", "texted")],
        [("late",), ("phone", "failed"), ("ack", "received")],
        [("ack", "received"), ("ack", "nobody_answered"), ("phone", "failed")],
    ],
)
def test_every_delivery_sentence_is_paired_with_a_logged_event(script, caplog) -> None:
    caplog.set_level(logging.INFO, logger="assistant.conversation")
    d, _clock, heard = emergency(settings())
    request_id = rid(d)
    for step in script:
        if step[0] == "ack":
            heard += d.handle(act.BackendAck(request_id, step[1]))
        elif step[0] == "late":
            heard += d.handle(act.DeliveryLate(request_id, "emergency", "emergency"))
        else:
            outcome = "answered" if step[1] == "answered" else "failed"
            texted = ("Anna",) if step[1] == "texted" else ()
            heard += d.handle(act.PhoneResult(outcome, "Anna", texted, request_id))
    claims = [m.groups() for r in caplog.records if (m := CLAIM_RE.search(r.getMessage()))]
    spoken = [CLAIM_PROMPTS[p] for p in prompt_ids(heard) if p in CLAIM_PROMPTS]
    assert spoken, prompt_ids(heard)
    assert [c[0] for c in claims] == spoken  # one logged claim per spoken claim, in order
    assert {c[2] for c in claims} == {request_id}
    for claim, basis, _id in claims:
        if claim == "delivered":
            assert basis in ("ack:received", "phone:answered", "sms:confirmed")
        if claim == "nobody_reached":
            assert basis in ("phone:failed", "late", "ack:nobody_answered", "start")


def test_cancelled_emergencies_are_counted_per_day_and_summarised_next_day() -> None:
    clock = ManualClock(NOON)
    d = Dialogue(settings(), None, clock, state=CareStore())
    d.tick()  # a new speaker: counting starts today
    for _ in range(2):
        d.handle(U("emergency", tier="emergency"))
        d.handle(U("cancel"))
    d.handle(U("emergency", tier="emergency"))
    clock.advance(MAX_EMERGENCY_CANCEL_S)
    d.tick()
    assert d.count_today("false_alarms", add=0) == 2
    clock.advance(24 * 3600)
    (summary,) = [r for r in sent(d.tick()) if r.request_type == "daily_summary"]
    assert summary.slots == {"date": "2026-11-23", "emergencies": 1, "false_alarms": 2}
    assert [r for r in sent(d.tick()) if r.request_type == "daily_summary"] == []  # once a day


def test_status_shows_the_routes_what_is_down_and_the_false_alarms() -> None:
    from assistant.conversation.route_watch import RouteWatch
    from assistant.link.tuning import RelayStatus
    from assistant.ops.status import Status, render

    clock = ManualClock(NOON)
    d = Dialogue(settings(), None, clock, state=CareStore())
    d.handle(U("emergency", tier="emergency"))
    d.handle(U("cancel"))
    watch = RouteWatch(settings(), relay=object(), phone=object())
    offline = RelayStatus("BACKING_OFF", False, 1, 3.0, "broker refused the TCP connection (not running?)")
    down = tuple(watch.down(offline))
    status = Status(
        written_at=NOON.isoformat(), state="running", routes_down=down, last_error=watch.error_code(down),
        error_active=True, **watch.status_fields(d),
    )  # fmt: skip
    screen = render(status, NOON)
    assert "needs attention" in screen
    assert "Emergencies   the practice → phone calls → text messages → alarm in the room" in screen
    assert "Route down    the practice cannot be reached (broker refused the TCP connection" in screen
    assert "False alarms  1 cancelled emergency today" in screen

    alone = RouteWatch(settings(backend=Backend(), phone=LOG, accept_alarm_only=True), relay=None, phone=None)
    fields = alone.status_fields(d)
    assert fields["emergency_routes"] == "alarm in the room only: nobody is called (accepted in the config)"
    assert alone.down(None) == []  # the caregiver's choice is shown, not "down"
    notice = alone.startup(resume=lambda _id: [], say=d.say_prompt)
    assert says(notice) == [
        "Please note: this speaker is not connected to the practice or to a phone. "
        "In an emergency I can only sound an alarm in this room."
    ]
