"""Care flows: daily check-in, opt-in inactivity alert, "what did you send today?", the store."""

from __future__ import annotations

import datetime as dt

from assistant.conversation import actions as act
from assistant.conversation.care_store import CareStore, DoseKey, DoseStatus, SupplyCounter
from assistant.conversation.dialogue import Dialogue, State
from assistant.ops.clock import ManualClock
from assistant.ops.settings import CheckIn, Contact, Doctor, Medication, Person, QuietHours, Settings
from assistant.understanding.result import Understanding

UTC = dt.UTC
DAY = dt.date(2026, 11, 23)


def at(hour: int, minute: int = 0, day: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=UTC)


def settings(lang: str = "en", **over) -> Settings:
    if lang == "zh":
        base = dict(person=Person("王秀兰", "王阿姨", "zh"), doctor=Doctor("陈医生", "+8613800000000"))
    else:
        base = dict(person=Person("Margaret Lee", "Margaret", "en"), doctor=Doctor("Dr. Chen", "+15550100"))
    base["contacts"] = (Contact("Anna", "daughter", phone="+15550111", emergency=True),)
    base["checkin"] = CheckIn(time=dt.time(9, 0))
    base.update(over)
    return Settings(**base)


def make(start: dt.datetime, lang: str = "en", store: CareStore | None = None, **over):
    clock = ManualClock(start)
    store = store or CareStore()
    return Dialogue(settings(lang, **over), None, clock, state=store), clock, store


def U(intent, lang="en", text="", **slots) -> Understanding:
    return Understanding(text or intent or "", lang, intent, slots, 0.9, 0.5, None)


def says(actions) -> list[str]:
    return [a.text for a in actions if isinstance(a, act.Say)]


def sent(actions) -> list[act.SendRequest]:
    return [a for a in actions if isinstance(a, act.SendRequest)]


def run_until(d, clock, end, step_s=30.0) -> list:
    out = []
    while clock.now() < end:
        clock.advance(min(step_s, (end - clock.now()).total_seconds()))
        out += d.tick()
    return out


# ---------------------------------------------------------------- check-in


def test_checkin_fine():
    d, clock, _ = make(at(8, 59))
    assert d.tick() == []
    out = run_until(d, clock, at(9, 0))
    assert says(out) == ["Good morning, Margaret. How are you feeling today?"]
    assert d.state is State.AWAITING_CHECKIN_ANSWER
    out = d.handle(U("feeling_fine"))
    (req,) = sent(out)
    assert req.request_type == "check_in" and req.slots == {"status": "fine"}
    assert d.state is State.IDLE
    assert run_until(d, clock, at(12, 0), step_s=300) == []  # once a day


def test_checkin_with_a_symptom_reports_to_the_doctor_team():
    d, _, _ = make(at(9, 0))
    d.tick()
    out = d.handle(U("report_symptom", symptom="dizzy"))
    types = [(r.request_type, r.slots) for r in sent(out)]
    assert types == [
        ("report_symptom", {"symptom": "dizzy"}),
        ("check_in", {"status": "symptom", "symptom": "dizzy"}),
    ]
    assert says(out) == [
        "I'm sorry you have dizziness. I'm telling Dr. Chen's team. They will get back to you."
    ]


def test_checkin_not_well_offers_a_doctor_call():
    d, _, _ = make(at(9, 0))
    d.tick()
    out = d.handle(U("no"))
    assert sent(out)[0].slots == {"status": "not_well"}
    assert says(out) == ["I'm sorry to hear that. Shall I ask Dr. Chen to call you?"]
    assert sent(d.handle(U("yes")))[0].request_type == "call_doctor"


def test_checkin_silence_asks_again_then_records_no_answer():
    d, _, _ = make(at(9, 0))
    d.tick()
    assert says(d.handle(act.Silence())) == ["Good morning, Margaret. How are you feeling today?"]
    out = d.handle(act.Silence())
    assert sent(out)[0].slots == {"status": "no_answer"} and d.state is State.IDLE


def test_checkin_is_not_asked_twice_after_restart(tmp_path):
    path = tmp_path / "care.sqlite3"
    d, _, store = make(at(9, 0), store=CareStore(path))
    assert says(d.tick())
    store.close()
    d2, clock2, _ = make(at(9, 1), store=CareStore(path))
    assert run_until(d2, clock2, at(11, 0), step_s=300) == []


def test_checkin_deferred_by_quiet_hours_and_mandarin():
    quiet = QuietHours(start=dt.time(22, 0), end=dt.time(9, 30))
    d, clock, _ = make(at(8, 59), lang="zh", quiet_hours=quiet)
    assert run_until(d, clock, at(9, 29)) == []
    out = run_until(d, clock, at(9, 30))
    assert says(out) == ["王阿姨，早上好！今天身体感觉怎么样？"]
    out = d.handle(U("report_symptom", "zh", symptom="headache"))
    assert "陈医生" in says(out)[0]


def test_checkin_off_without_a_time():
    d, clock, _ = make(at(8, 0), checkin=CheckIn(time=None))
    assert run_until(d, clock, at(12, 0), step_s=300) == []


# ---------------------------------------------------------------- inactivity (opt-in)


def test_inactivity_alert_once_per_period():
    d, clock, _ = make(at(10, 0), checkin=CheckIn(time=None, inactivity_hours=12))
    assert run_until(d, clock, at(21, 59), step_s=600) == []
    out = run_until(d, clock, at(22, 1), step_s=60)
    (req,) = sent(out)
    assert req.request_type == "inactivity" and req.slots["hours"] >= 12
    assert says(out) == []  # nobody is listening; the caregiver is told
    assert run_until(d, clock, at(14, 0, day=1), step_s=600) == []  # once per period
    d.handle(U("time_query"))  # an interaction starts a new period
    out = run_until(d, clock, at(2, 1, day=2), step_s=600)
    assert [r.request_type for r in sent(out)] == ["inactivity"]


def test_inactivity_off_by_default():
    d, clock, _ = make(at(10, 0), checkin=CheckIn(time=None))
    assert run_until(d, clock, at(10, 0, day=3), step_s=3600) == []


def test_any_utterance_counts_as_interaction():
    d, clock, _ = make(at(10, 0), checkin=CheckIn(time=None, inactivity_hours=2))
    clock.advance(3600 * 1.5)
    d.handle(U(None, text="mumble"))  # not understood, but the person is there
    assert run_until(d, clock, at(13, 0), step_s=300) == []


# ---------------------------------------------------------------- what did you send today


def test_sent_today_reads_back_requests_in_plain_words():
    d, clock, _ = make(at(9, 5), checkin=CheckIn(time=None))
    assert says(d.handle(U("sent_today_query"))) == ["I haven't sent anything today."]
    d.handle(U("call_doctor"))
    d.handle(U("yes"))
    clock.advance(25 * 60)
    d.handle(U("call_contact", contact="Anna"))
    d.handle(U("no"))  # declined: not sent, not listed
    out = d.handle(U("sent_today_query"))
    assert says(out) == ["Today I sent: at 9:05, a request for Dr. Chen to call you back."]
    clock.set(at(9, 0, day=1))
    assert says(d.handle(U("sent_today_query"))) == ["I haven't sent anything today."]


def test_sent_today_mandarin_lists_every_request():
    d, clock, _ = make(at(8, 0), lang="zh", checkin=CheckIn(time=None))
    d.handle(U("emergency", "zh"))
    clock.advance(10)
    d.tick()
    d.handle(U("medication_taken", "zh", medication="氨氯地平"))
    (text,) = says(d.handle(U("sent_today_query", "zh")))
    assert text == "今天我发送了：八点，紧急求助；八点，您吃了氨氯地平。"


# ---------------------------------------------------------------- store


def test_store_persists_doses_kv_and_sent_log(tmp_path):
    path = tmp_path / "state" / "care.sqlite3"
    store = CareStore(path)
    key = DoseKey("amlodipine", DAY, dt.time(8, 0))
    assert store.dose(key).status is DoseStatus.SCHEDULED
    store.set_dose(key, DoseStatus.ANNOUNCED, at(8, 0), announced_at=at(8, 0), repeated=False)
    store.set_dose(key, DoseStatus.ANNOUNCED, at(8, 10), repeated=True)
    store.put("k", "v")
    store.record_sent(at(8, 1), "check_in", "your daily check-in", "id-1")
    store.close()
    store = CareStore(path)
    rec = store.dose(key)
    assert rec.status is DoseStatus.ANNOUNCED and rec.repeated and rec.announced_at == at(8, 0)
    assert store.get("k") == "v"
    assert [r.request_id for r in store.sent_on(DAY)] == ["id-1"]
    assert store.sent_on(DAY + dt.timedelta(days=1)) == []


def test_supply_restarts_when_the_config_number_changes():
    store = CareStore()
    med = Medication("amlodipine", times=(dt.time(8, 0),), doses_on_hand=10)
    s = settings(medications=(med,))
    counter = SupplyCounter(s, store)
    assert counter.take("amlodipine") == 9
    assert SupplyCounter(s, store).remaining("amlodipine") == 9
    refilled = settings(medications=(Medication("amlodipine", times=(dt.time(8, 0),), doses_on_hand=40),))
    assert SupplyCounter(refilled, store).remaining("amlodipine") == 40
    assert SupplyCounter(settings(medications=(Medication("x"),)), store).remaining("x") is None
