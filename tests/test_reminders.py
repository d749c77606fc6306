"""Medication reminders through the dialogue: announce, taken, repeat, missed, restarts, clock
changes, quiet hours, supply/reorder, backend schedule updates. ManualClock + real SQLite files."""

from __future__ import annotations

import datetime as dt

from assistant.conversation import actions as act
from assistant.conversation.care_store import CareStore, DoseKey, DoseStatus
from assistant.conversation.dialogue import Dialogue, State
from assistant.ops.clock import ManualClock
from assistant.ops.settings import Contact, Doctor, Medication, Person, QuietHours, Reminders, Settings
from assistant.understanding.result import Understanding

UTC = dt.UTC
DAY = dt.date(2026, 11, 23)
AMLODIPINE = Medication("amlodipine", ("blood pressure pills",), "one tablet", (dt.time(8, 0),))
METFORMIN = Medication("metformin", ("diabetes pills",), "one tablet", (dt.time(8, 0), dt.time(18, 0)))


def at(hour: int, minute: int = 0, day: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=UTC)


def settings(meds=(AMLODIPINE,), lang="en", **over) -> Settings:
    if lang == "zh":
        base = dict(person=Person("王秀兰", "王阿姨", "zh"), doctor=Doctor("陈医生", "+8613800000000"))
    else:
        base = dict(person=Person("Margaret Lee", "Margaret", "en"), doctor=Doctor("Dr. Chen", "+15550100"))
    base.update(
        contacts=(Contact("Anna", "daughter", phone="+15550111", emergency=True),),
        medications=tuple(meds),
        reminders=Reminders(answer_timeout_s=600, missed_after_s=1800),
    )
    base.update(over)
    return Settings(**base)


def make(start: dt.datetime, store: CareStore | None = None, **kw) -> tuple[Dialogue, ManualClock, CareStore]:
    clock = ManualClock(start)
    store = store or CareStore()
    return Dialogue(settings(**kw), None, clock, state=store), clock, store


def U(intent, lang="en", **slots) -> Understanding:
    return Understanding(intent or "", lang, intent, slots, 0.9, 0.5, None)


def says(actions) -> list[str]:
    return [a.text for a in actions if isinstance(a, act.Say)]


def sent(actions) -> list[act.SendRequest]:
    return [a for a in actions if isinstance(a, act.SendRequest)]


def run_until(d: Dialogue, clock: ManualClock, end: dt.datetime, step_s: float = 30.0) -> list:
    """Tick the dialogue like the daemon would, collecting every action."""
    out = []
    while clock.now() < end:
        clock.advance(min(step_s, (end - clock.now()).total_seconds()))
        out += d.tick()
    return out


def test_reminder_at_its_time_with_everyday_name_and_dose():
    d, clock, _ = make(at(7, 59))
    assert d.tick() == []
    out = run_until(d, clock, at(8, 0, 0) + dt.timedelta(seconds=1), step_s=1)
    assert says(out) == ["It's 8 o'clock. Time for your blood pressure pill, one tablet of amlodipine."]
    assert d.state is State.AWAITING_REMINDER_ANSWER
    assert any(isinstance(a, act.ExpectAnswer) for a in out)


def test_mandarin_reminder_is_natural():
    d, _, _ = make(at(8, 0), meds=(Medication("氨氯地平", ("降压药",), "一片", (dt.time(8, 0),)),), lang="zh")
    assert says(d.tick()) == ["王阿姨，现在八点了，该吃降压药了，一片氨氯地平。"]
    out = d.handle(U("medication_taken", "zh"))
    assert sent(out)[0].slots["medication"] == "氨氯地平"
    assert "氨氯地平" in says(out)[0]


def test_taken_records_adherence_and_sends_medication_taken():
    d, clock, store = make(at(8, 0))
    d.tick()
    clock.advance(20)
    out = d.handle(U("medication_taken"))
    (req,) = sent(out)
    assert req.request_type == "medication_taken" and req.slots == {
        "medication": "amlodipine",
        "scheduled": "08:00",
    }
    assert "amlodipine" in says(out)[0]
    assert store.dose(DoseKey("amlodipine", DAY, dt.time(8, 0))).status is DoseStatus.TAKEN
    # nothing follows: no repeat, no missed report
    assert run_until(d, clock, at(10, 0), step_s=60) == []


def test_yes_answers_the_reminder_too():
    d, _, store = make(at(8, 0))
    d.tick()
    assert sent(d.handle(U("yes")))[0].request_type == "medication_taken"


def test_no_answer_repeats_once_then_reports_missed():
    d, clock, store = make(at(8, 0))
    d.tick()
    d.handle(act.Silence())  # the daemon's listening window closed
    out = run_until(d, clock, at(8, 10) - dt.timedelta(seconds=1), step_s=10)
    assert out == []
    out = run_until(d, clock, at(8, 10), step_s=1)
    assert says(out) == [
        "Just a reminder, Margaret. It's time for your blood pressure pill, one tablet of amlodipine. Did you take it?"
    ]
    d.handle(act.Silence())
    out = run_until(d, clock, at(8, 30) - dt.timedelta(seconds=1), step_s=10)
    assert out == []  # only one repeat
    out = run_until(d, clock, at(8, 30), step_s=1)
    (req,) = sent(out)
    assert req.request_type == "medication_missed" and req.slots["medication"] == "amlodipine"
    assert store.dose(DoseKey("amlodipine", DAY, dt.time(8, 0))).status is DoseStatus.MISSED
    assert run_until(d, clock, at(12, 0), step_s=120) == []  # reported once


def test_two_medications_at_the_same_time_are_one_reminder():
    d, _, _ = make(at(8, 0), meds=(AMLODIPINE, METFORMIN))
    (text,) = says(d.tick())
    assert "amlodipine" in text and "metformin" in text
    out = d.handle(U("medication_taken", medication="metformin"))
    assert [r.slots["medication"] for r in sent(out)] == ["metformin"]


def test_restart_does_not_repeat_an_announced_reminder(tmp_path):
    path = tmp_path / "care.sqlite3"
    d, clock, store = make(at(8, 0), store=CareStore(path))
    assert says(d.tick())
    store.close()
    d2, clock2, store2 = make(at(8, 1), store=CareStore(path))
    assert says(d2.tick()) == []
    # the open reminder's follow-ups survive the restart too
    out = run_until(d2, clock2, at(8, 30), step_s=30)
    assert [r.request_type for r in sent(out)] == ["medication_missed"]
    assert len(says(out)) == 2  # one repeat, one missed notice


def test_clock_jump_backwards_does_not_repeat():
    d, clock, _ = make(at(8, 0))
    assert says(d.tick())
    d.handle(U("medication_taken"))
    clock.set(at(7, 0))
    assert run_until(d, clock, at(8, 5), step_s=30) == []


def test_clock_jump_backwards_over_midnight_does_not_repeat_yesterday():
    d, clock, _ = make(at(8, 0))
    d.tick()
    d.handle(U("medication_taken"))
    clock.set(at(9, 0, day=1))
    assert says(d.tick())  # next day's 08:00, an hour late
    d.handle(U("medication_taken"))
    clock.set(at(9, 0))  # back to yesterday
    assert run_until(d, clock, at(9, 30), step_s=60) == []


def test_clock_jump_forwards_announces_only_the_latest():
    meds = (
        Medication("metformin", ("diabetes pills",), "", (dt.time(8, 0), dt.time(12, 0), dt.time(14, 0))),
    )
    d, clock, store = make(at(7, 0), meds=meds)
    assert d.tick() == []
    clock.set(at(14, 30))
    out = d.tick()
    assert len(says(out)) == 1 and "2 o'clock" in says(out)[0]
    assert store.dose(DoseKey("metformin", DAY, dt.time(8, 0))).status is DoseStatus.SKIPPED
    assert store.dose(DoseKey("metformin", DAY, dt.time(12, 0))).status is DoseStatus.SKIPPED
    d.handle(U("medication_taken"))
    assert says(d.tick()) == []
    # skipped doses are not reported as missed
    assert not [
        r for r in sent(run_until(d, clock, at(17, 0), step_s=300)) if r.request_type == "medication_missed"
    ]


def test_very_late_reminder_is_skipped_not_announced():
    d, _, store = make(at(20, 0))  # device was off all day
    assert d.tick() == []
    assert store.dose(DoseKey("amlodipine", DAY, dt.time(8, 0))).status is DoseStatus.SKIPPED


def test_quiet_hours_defer_to_their_end():
    quiet = QuietHours(start=dt.time(22, 0), end=dt.time(8, 30))
    d, clock, _ = make(at(7, 55), quiet_hours=quiet)
    assert run_until(d, clock, at(8, 29), step_s=30) == []
    out = run_until(d, clock, at(8, 30), step_s=30)
    assert says(out) == [
        "This is your 8 o'clock reminder. Time for your blood pressure pill, one tablet of amlodipine."
    ]


def test_reminder_waits_while_a_conversation_is_open():
    d, clock, _ = make(at(7, 59) + dt.timedelta(seconds=50))
    d.handle(U("call_doctor"))
    clock.advance(30)
    assert d.tick() == []
    d.handle(U("no"))
    assert says(d.tick())


def test_reorder_offered_from_supply_count_then_sent():
    med = Medication(
        "amlodipine",
        ("blood pressure pills",),
        "one tablet",
        (dt.time(8, 0),),
        pack_size=30,
        doses_on_hand=7,
        reorder_when_days_left=7,
    )
    d, _, _ = make(at(8, 0), meds=(med,))
    d.tick()
    out = d.handle(U("medication_taken"))
    assert says(out)[-1] == "You have about 6 days of amlodipine left. Shall I order more?"
    assert d.state is State.AWAITING_CONFIRMATION
    out = d.handle(U("yes"))
    (req,) = sent(out)
    assert req.request_type == "reorder_medication" and req.slots == {"medication": "amlodipine"}


def test_reorder_not_offered_with_enough_supply_and_once_a_day_after_no():
    med = Medication(
        "amlodipine", (), "", (dt.time(8, 0), dt.time(20, 0)), doses_on_hand=40, reorder_when_days_left=7
    )
    d, clock, _ = make(at(8, 0), meds=(med,))
    d.tick()
    assert "order" not in " ".join(says(d.handle(U("medication_taken")))).lower()  # 39 doses = 19 days
    med2 = Medication(
        "amlodipine", (), "", (dt.time(8, 0), dt.time(20, 0)), doses_on_hand=10, reorder_when_days_left=7
    )
    d, clock, _ = make(at(8, 0), meds=(med2,))
    d.tick()
    assert "order more" in says(d.handle(U("medication_taken")))[-1]
    d.handle(U("no"))
    clock.set(at(20, 0))
    d.tick()
    assert "order more" not in " ".join(says(d.handle(U("medication_taken"))))


def test_backend_schedule_update_replaces_times_and_persists(tmp_path):
    path = tmp_path / "care.sqlite3"
    d, clock, store = make(at(7, 0), store=CareStore(path))
    d.apply_schedule_update("amlodipine", ["09:15"])
    assert run_until(d, clock, at(8, 30), step_s=60) == []
    store.close()
    d2, clock2, _ = make(at(9, 14), store=CareStore(path))
    out = run_until(d2, clock2, at(9, 16), step_s=30)
    assert says(out) == ["It's 9:15. Time for your blood pressure pill, one tablet of amlodipine."]


def test_medication_query_from_the_store():
    d, clock, _ = make(at(8, 0), meds=(AMLODIPINE, METFORMIN))
    d.tick()
    d.handle(U("medication_taken", medication="amlodipine"))
    clock.advance(60)
    out = d.handle(U("medication_query"))
    text = " ".join(says(out))
    assert "Right now it's time for your diabetes pill" in text
    assert "amlodipine at 8 o'clock, taken" in text
    assert "metformin at 8 o'clock, not yet" in text
    assert "metformin at 6 o'clock, later today" in text


def test_taken_without_a_reminder_marks_the_nearest_dose():
    d, clock, store = make(at(7, 30))
    out = d.handle(U("medication_taken"))
    assert sent(out)[0].slots == {"medication": "amlodipine", "scheduled": "08:00"}
    assert store.dose(DoseKey("amlodipine", DAY, dt.time(8, 0))).status is DoseStatus.TAKEN
    assert run_until(d, clock, at(9, 0), step_s=60) == []
