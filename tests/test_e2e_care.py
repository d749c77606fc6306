"""Care flows end to end (issue 5 §6): the daemon on a ManualClock, the real MQTT relay, a private
mosquitto with the reference backend storing requests in SQLite, and for phone calls the simulated
AT modem on a pty. Each test drives time with ``Harness.advance`` and waits with ``pump_until``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_helpers import Practice, amlodipine, make_settings, practice, running_daemon
from modem_sim import CallScript, ModemSim

from assistant.conversation.phone import ModemDriver, ModemTimeouts
from assistant.link.relay import RelayTuning
from assistant.ops.clock import ManualClock
from assistant.ops.settings import CheckIn, Dialogue
from jiayi_backend.broker import free_port
from jiayi_backend.service import DemoPolicy

DAY = dt.date(2026, 11, 23)
MODEM_FAST = ModemTimeouts(
    command_s=2.0, dial_s=2.0, poll_interval_s=0.02, sms_prompt_s=2.0, sms_send_s=2.0, read_slice_s=0.01
)
RING_S = 0.3
EMERGENCY_DEADLINE_S = 2.0
TUNING = RelayTuning(
    deadlines_s={"emergency": EMERGENCY_DEADLINE_S, "confirm": 120.0, "plain": 600.0},
    resend_after_s=1.0,
    backoff_min_s=0.1,
    backoff_max_s=0.5,
    will_delay_s=0,
)
ANNA_DIAL = "+15550111"
DAVID_DIAL = "+15550122"


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=dt.UTC)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Practice]:
    with practice(tmp_path / "practice") as p:
        yield p


@pytest.fixture
def modem() -> Iterator[ModemSim]:
    scripts = {
        ANNA_DIAL: CallScript(states=(2, 3), end_with="NO ANSWER"),  # Anna does not pick up
        DAVID_DIAL: CallScript(states=(2, 3, 0)),  # David answers
    }
    with ModemSim(scripts=scripts) as sim:
        yield sim


def modem_driver(sim: ModemSim) -> ModemDriver:
    return ModemDriver(sim.port, 115200, ring_timeout_s=RING_S, timeouts=MODEM_FAST)


# ---------------------------------------------------------------- medication


def test_reminder_then_i_took_it_is_stored_as_medication_taken(tmp_path: Path, office: Practice) -> None:
    settings = make_settings(tmp_path / "state", office.url, medications=(amlodipine(),))
    with running_daemon(settings, clock=ManualClock(at(7, 59)), relay_tuning=TUNING) as h:
        h.advance(60, step_s=10)
        h.pump_until(lambda: any("amlodipine" in s for s in h.echo.said()), what="the reminder")
        h.say("I took it")
        (row,) = h.pump_until(lambda: office.rows_of("medication_taken"), what="medication_taken stored")
        assert row["payload"]["slots"]["medication"] == "amlodipine"
        h.pump_until(lambda: any("I noted that you took amlodipine" in s for s in h.echo.said()))
    assert office.types() == ["medication_taken"]


def test_reminder_without_answer_is_repeated_then_reported_missed(tmp_path: Path, office: Practice) -> None:
    settings = make_settings(tmp_path / "state", office.url, medications=(amlodipine(),))
    with running_daemon(settings, clock=ManualClock(at(7, 59)), relay_tuning=TUNING) as h:
        h.advance(60, step_s=10)
        h.pump_idle()
        first = [s for s in h.echo.said() if "amlodipine" in s]
        assert first, h.echo.said()
        h.advance(11 * 60, step_s=10)  # past reminders.answer_timeout_s (600 s): asked once more
        h.pump_idle()
        reminders = [s for s in h.echo.said() if "amlodipine" in s]
        assert len(reminders) == 2, h.echo.said()
        assert office.types() == []
        h.advance(20 * 60, step_s=30)  # 31 min after the reminder: missed_after_s (1800 s)
        (row,) = h.pump_until(lambda: office.rows_of("medication_missed"), what="medication_missed stored")
        assert row["payload"]["slots"]["medication"] == "amlodipine"
    assert office.types() == ["medication_missed"]


def test_reorder_offer_from_the_supply_count_then_yes(tmp_path: Path, office: Practice) -> None:
    med = amlodipine(pack_size=30, doses_on_hand=7, reorder_when_days_left=7)
    settings = make_settings(tmp_path / "state", office.url, medications=(med,))
    with running_daemon(settings, clock=ManualClock(at(7, 59)), relay_tuning=TUNING) as h:
        h.advance(60, step_s=10)
        h.pump_idle()
        h.say("I took it")
        offer = "You have about 6 days of amlodipine left. Shall I order more?"
        h.pump_until(lambda: offer in h.echo.said(), what="the reorder offer")
        h.say("yes")
        (row,) = h.pump_until(lambda: office.rows_of("reorder_medication"), what="reorder_medication stored")
        assert row["payload"]["slots"] == {"medication": "amlodipine"}
        h.pump_until(lambda: "Your amlodipine has been reordered." in h.echo.said(), what="the ack")
    assert sorted(office.types()) == ["medication_taken", "reorder_medication"]


# ---------------------------------------------------------------- emergencies


def test_emergency_after_the_cancel_window_is_acknowledged(tmp_path: Path, office: Practice) -> None:
    settings = make_settings(tmp_path / "state", office.url, dialogue=Dialogue(emergency_cancel_s=5.0))
    with running_daemon(settings, relay_tuning=TUNING) as h:
        h.say("I fell")
        h.pump_idle()
        assert office.types() == []  # nothing leaves during the cancel window
        h.advance(6)
        (row,) = h.pump_until(lambda: office.rows_of("emergency"), what="emergency stored")
        assert row["tier"] == "emergency"
        h.pump_until(lambda: "Help is on the way. The practice has your alert." in h.echo.said())
    assert office.types() == ["emergency"]


def test_unanswered_urgent_symptom_fails_closed_to_an_acknowledged_emergency(
    tmp_path: Path, office: Practice
) -> None:
    """Issue 10: an urgent symptom heard as a report asks "Do you need help right now?"; two
    unanswered questions raise the emergency, which reaches the practice after the cancel window."""
    settings = make_settings(
        tmp_path / "state", office.url, dialogue=Dialogue(emergency_cancel_s=2.0, answer_timeout_s=3.0)
    )
    with running_daemon(settings, relay_tuning=TUNING) as h:
        h.say("I have the worst stomach pain ever")
        question = "That sounds serious. Do you need help right now?"
        h.pump_until(lambda: question in h.echo.said(), what="the urgent question")
        h.pump_idle()
        h.advance(4)  # no answer: asked once more
        h.pump_until(lambda: h.echo.said().count(question) == 2, what="the question repeated")
        h.pump_idle()
        assert office.types() == []
        h.advance(4)  # still no answer: fail closed, the cancel window opens
        h.pump_until(lambda: any("Say cancel" in s for s in h.echo.said()), what="the cancel window")
        h.pump_idle()
        assert office.types() == []
        h.advance(3)
        (row,) = h.pump_until(lambda: office.rows_of("emergency"), what="emergency stored")
        assert row["tier"] == "emergency"
        assert row["payload"]["slots"] == {"symptom": "severe_abdominal_pain"}
        h.pump_until(lambda: "Help is on the way. The practice has your alert." in h.echo.said())
    assert office.types() == ["emergency"]


def test_emergency_with_the_broker_down_past_the_deadline_dials_contacts_in_order(
    tmp_path: Path, modem: ModemSim
) -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens there
    settings = make_settings(tmp_path / "state", url, dialogue=Dialogue(emergency_cancel_s=1.0))
    phone = modem_driver(modem)
    with running_daemon(settings, relay_tuning=TUNING, components={"phone": phone}) as h:
        h.say("help I fell")
        h.pump_idle()
        h.advance(2)  # cancel window over: the emergency goes to the outbox
        h.pump_until(lambda: h.daemon.relay.status().outbox_depth == 1, what="emergency queued")
        assert modem.dialled == []
        h.advance(EMERGENCY_DEADLINE_S + 1)  # the delivery deadline passes with no broker
        h.pump_until(lambda: "I reached David. They know you need them." in h.echo.said(), 20)
        assert [d.replace(" ", "") for d in modem.dialled] == [ANNA_DIAL, DAVID_DIAL]
        assert any(c.startswith(f"ATD{ANNA_DIAL}") for c in modem.commands)
        assert h.daemon.relay.status().outbox_depth == 1  # still kept for when the broker returns
    phone.close()


def test_backend_says_nobody_answered_so_the_modem_dials(tmp_path: Path, modem: ModemSim) -> None:
    policy = DemoPolicy(nobody_answers_emergencies=True)
    with practice(tmp_path / "practice", policy=policy) as office:
        settings = make_settings(tmp_path / "state", office.url, dialogue=Dialogue(emergency_cancel_s=1.0))
        phone = modem_driver(modem)
        with running_daemon(settings, relay_tuning=TUNING, components={"phone": phone}) as h:
            h.say("I fell")
            h.pump_idle()
            h.advance(2)
            h.pump_until(lambda: office.rows_of("emergency"), what="emergency stored")
            h.pump_until(lambda: len(modem.dialled) >= 2, 20, what="both contacts dialled")
            h.pump_until(lambda: "I reached David. They know you need them." in h.echo.said())
            assert [d.replace(" ", "") for d in modem.dialled] == [ANNA_DIAL, DAVID_DIAL]
        phone.close()
        assert office.types() == ["emergency"]


# ---------------------------------------------------------------- check-in, inactivity, read-back


def test_checkin_with_a_symptom_reports_it(tmp_path: Path, office: Practice) -> None:
    settings = make_settings(tmp_path / "state", office.url, checkin=CheckIn(time=dt.time(9, 0)))
    with running_daemon(settings, clock=ManualClock(at(8, 59)), relay_tuning=TUNING) as h:
        h.advance(60, step_s=10)
        question = "Good morning, Margaret. How are you feeling today?"
        h.pump_until(lambda: question in h.echo.said(), what="the check-in question")
        h.say("I feel dizzy")
        (row,) = h.pump_until(lambda: office.rows_of("report_symptom"), what="report_symptom stored")
        assert row["payload"]["slots"] == {"symptom": "dizzy"}
        h.pump_until(lambda: office.rows_of("check_in"), what="check_in stored")
    assert sorted(office.types()) == ["check_in", "report_symptom"]


def test_inactivity_alert_reaches_the_backend_once(tmp_path: Path, office: Practice) -> None:
    settings = make_settings(tmp_path / "state", office.url, checkin=CheckIn(inactivity_hours=2.0))
    with running_daemon(settings, clock=ManualClock(at(10, 0)), relay_tuning=TUNING) as h:
        h.advance(2 * 3600 + 120, step_s=300)
        (row,) = h.pump_until(lambda: office.rows_of("inactivity"), what="inactivity stored")
        assert row["payload"]["slots"]["hours"] >= 2.0
        h.advance(3600, step_s=300)  # once per period, not every tick
        h.pump_idle()
    assert office.types() == ["inactivity"]


def test_what_did_you_send_today_reads_back_what_the_backend_stored(tmp_path: Path, office: Practice) -> None:
    settings = make_settings(tmp_path / "state", office.url)
    with running_daemon(settings, relay_tuning=TUNING) as h:
        h.say("call my doctor")
        h.pump_idle()
        h.say("yes")
        h.pump_until(lambda: office.rows_of("call_doctor"), what="call_doctor stored")
        h.pump_idle()
        h.echo.lines.clear()
        h.say("what did you send today")
        h.pump_until(lambda: h.echo.said(), what="the read-back")
        (readback,) = h.echo.said()
        assert "Dr. Chen" in readback and "call" in readback.lower(), readback
        assert h.echo.sent() == []  # reading back sends nothing
    assert office.types() == ["call_doctor"]


def test_emergency_queued_offline_does_not_claim_the_doctor_was_told(tmp_path: Path) -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens there
    settings = make_settings(tmp_path / "state", url, dialogue=Dialogue(emergency_cancel_s=1.0))
    with running_daemon(settings, relay_tuning=TUNING) as h:
        h.say("I fell")
        h.pump_idle()
        h.advance(2)
        h.pump_until(lambda: h.daemon.relay.status().outbox_depth == 1, what="emergency queued")
        h.pump_idle()
        assert not any("I've told Dr. Chen" in s for s in h.echo.said()), h.echo.said()


def test_backend_schedule_update_moves_the_reminder_and_an_expired_one_is_ignored(
    tmp_path: Path, office: Practice
) -> None:
    from assistant.link import protocol as messages
    from jiayi_backend.service import publish_command

    settings = make_settings(tmp_path / "state", office.url, medications=(amlodipine(),))
    with running_daemon(settings, clock=ManualClock(at(7, 0)), relay_tuning=TUNING) as h:
        h.pump_until(lambda: h.daemon.relay.status().connected, what="relay online")
        update = messages.ScheduleUpdate(
            device_id="e2e-1", medications=[{"name": "amlodipine", "times": ["09:30"]}]
        )
        publish_command(office.url, update)
        reminders = h.daemon.dialogue.reminders
        h.pump_until(lambda: reminders.times_for("amlodipine") == (dt.time(9, 30),), what="schedule applied")
        stale = messages.ScheduleUpdate(
            device_id="e2e-1",
            medications=[{"name": "amlodipine", "times": ["07:30"]}],
            expires_at=at(6, 0).isoformat(),  # already expired on the device's clock: must never fire
        )
        publish_command(office.url, stale)
        h.pump_until(lambda: h.daemon.relay.counters().get("expired_commands") == 1, what="expired dropped")
        assert reminders.times_for("amlodipine") == (dt.time(9, 30),)
        h.advance(90 * 60, step_s=60)  # 08:30: the old 08:00 reminder no longer fires
        h.pump_idle()
        assert not any("amlodipine" in s for s in h.echo.said()), h.echo.said()
        h.advance(61 * 60, step_s=60)  # 09:31
        h.pump_until(lambda: any("amlodipine" in s for s in h.echo.said()), what="the moved reminder")
