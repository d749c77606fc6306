"""The dialogue manager: a small explicit state machine plus the care flows.

Pure: :meth:`Dialogue.handle` takes one input (an :class:`~assistant.understanding.result.Understanding`,
typed text when a matcher is given, :class:`~assistant.conversation.actions.Silence`, or a backend/phone event)
and returns the actions for the daemon (speech, requests, phone calls). :meth:`Dialogue.tick` is
called about once a second and drives everything time-based (emergency cancel window, reminders,
check-ins, inactivity) from the injected clock. Nothing here sleeps, speaks or touches the network.

Emergency choice: the alert is **sent when the spoken cancel window closes** (at most
``settings.dialogue.emergency_cancel_s``, capped at :data:`MAX_EMERGENCY_CANCEL_S`), or at once
when the person confirms ("yes", "help" again). A cancelled alert therefore never reaches anyone,
and the delay is bounded by a few seconds. See docs/dialogue.md.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from assistant.conversation import actions as act
from assistant.conversation.care_store import (
    CareStore,
    CheckInSchedule,
    DoseKey,
    DoseRecord,
    InactivityWatch,
    SupplyCounter,
    is_quiet,
)
from assistant.conversation.prompts import Prompts, load_prompts, speak_number, speak_time
from assistant.conversation.reminders import DueReminder, ReminderSchedule
from assistant.ops.clock import Clock, SystemClock
from assistant.ops.settings import Contact, Medication, Settings
from assistant.understanding.result import TIER_CONFIRM, TIER_EMERGENCY, Understanding

_LOGGER = logging.getLogger(__name__)

MAX_EMERGENCY_CANCEL_S: Final = 10.0
"""Upper bound of the emergency cancel window whatever the config says."""
REPEATED_HELP_WINDOW_S: Final = 60.0
"""A second bare "help" within this long (nothing else in between) is an emergency."""
VOLUME_STEP: Final = 0.2
LATE_WORDING_AFTER_S: Final = 300.0
"""A reminder announced later than this (quiet hours, restart) names its time instead of "It's 8 o'clock"."""
CHECKIN_MAX_ASKS: Final = 2
"""The check-in question is asked at most this often before "no answer" is recorded."""

_HELP_WORDS: Final = frozenset(
    {
        "help",
        "help me",
        "help help",
        "please help",
        "somebody help",
        "救命",
        "救救我",
        "帮帮我",
        "帮我",
        "来人",
        "来人啊",
        "快来人",
    }
)
_PUNCT_RE: Final = re.compile(r"[^\w\s]+")
_CJK_RE: Final = re.compile(r"[\u3400-\u9fff]")

_DEFAULT_TIERS: Final = {
    "emergency": "emergency",
    "call_doctor": "confirm",
    "call_contact": "confirm",
    "reorder_medication": "confirm",
    "report_symptom": "confirm",
    "book_appointment": "confirm",
}
_PHONE_FIRST_TYPES: Final = frozenset({"emergency", "call_doctor"})
"""Request types whose late delivery triggers the phone fallback."""


class State(enum.StrEnum):
    IDLE = "idle"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    AWAITING_PHONE_OFFER = "awaiting_phone_offer"
    EMERGENCY_CANCEL_WINDOW = "emergency_cancel_window"
    AWAITING_REMINDER_ANSWER = "awaiting_reminder_answer"
    AWAITING_CHECKIN_ANSWER = "awaiting_checkin_answer"


@dataclass(frozen=True)
class _Pending:
    """A confirm-tier request waiting for yes/no."""

    intent: str
    slots: dict[str, str]
    understanding: Understanding | None = None


def _is_help_word(text: str) -> bool:
    return " ".join(_PUNCT_RE.sub(" ", text.lower()).split()) in _HELP_WORDS


class Dialogue:
    """One conversation partner for one person. Not thread-safe: the daemon's loop owns it."""

    def __init__(
        self,
        settings: Settings,
        matcher: Any = None,
        clock: Clock | None = None,
        lang: str | None = None,
        state: CareStore | None = None,
        prompts: Prompts | None = None,
    ) -> None:
        self.settings = settings
        self.matcher = matcher
        self.clock = clock or SystemClock()
        self.lang = lang or settings.language
        self.store = state if state is not None else CareStore.in_state_dir(settings)
        self.prompts = prompts or load_prompts(self.lang)
        self.reminders = ReminderSchedule(settings, self.store)
        self.supply = SupplyCounter(settings, self.store)
        self.checkin = CheckInSchedule(settings, self.store)
        self.inactivity = InactivityWatch(settings, self.store, self.clock.now())
        self._state = State.IDLE
        self._pending: _Pending | None = None
        self._phone_offer: tuple[tuple[str, str], ...] = ()
        self._tries = 0
        self._misunderstood = 0
        self._last_prompt: list[act.Say] = []
        self._emergency_deadline: float | None = None
        self._emergency_slots: dict[str, str] = {}
        self._help_at: float | None = None
        self._reminder: DueReminder | None = None
        self._checkin_asks = 0
        self._sent: dict[str, act.SendRequest] = {}

    # ------------------------------------------------------------ public

    @property
    def state(self) -> State:
        return self._state

    def handle(self, event: object) -> list[object]:
        """One input → the actions to run, in order."""
        if isinstance(event, str):
            if self.matcher is None:
                raise TypeError("text input needs a matcher")
            event = act.Silence() if not event.strip() else self.matcher.match(event)
        if isinstance(event, Understanding):
            return self._on_understanding(event)
        if isinstance(event, act.Silence):
            return self._on_silence()
        if isinstance(event, act.BackendAck):
            return self._on_ack(event)
        if isinstance(event, act.DeliveryLate):
            return self._on_late(event)
        if isinstance(event, act.BackendSay):
            return self._say_text(event.text)
        if isinstance(event, act.PhoneResult):
            return self._on_phone_result(event)
        _LOGGER.debug("event=ignored kind=%s", type(event).__name__)
        return []

    def tick(self) -> list[object]:
        """Time-based work; call about once a second. Never blocks."""
        now = self.clock.now()
        out: list[object] = []
        if self._state is State.EMERGENCY_CANCEL_WINDOW:
            if self._emergency_deadline is not None and self.clock.monotonic() >= self._emergency_deadline:
                out += self._send_emergency()
            return out
        out += self._reminder_follow_ups(now)
        if self._state is State.IDLE:
            due = self.reminders.due(now)
            if due is not None:
                out += self._announce(due, now)
            elif self.checkin.due(now):
                out += self._ask_checkin(now)
        hours = self.inactivity.due(now)
        if hours is not None:
            self.inactivity.mark_notified()
            out.append(self._send("inactivity", {"hours": round(hours, 1)}))
        return out

    def greeting(self) -> list[object]:
        """What to say when a conversation is opened (e.g. at the start of ``jiayi chat``)."""
        return [self._say("greeting", remember=False)]

    def apply_schedule_update(self, medication: str, times: Iterable[dt.time | str]) -> None:
        """A backend schedule update for one medication (plain name + times of day)."""
        self.reminders.apply_schedule_update(medication, tuple(times))

    # ------------------------------------------------------------ helpers: speech and fields

    def _fields(self, slots: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        slots = slots or {}
        fields: dict[str, Any] = {
            "person": self.settings.person.address_as,
            "doctor": self.settings.doctor.name,
        }
        if "contact" in slots:
            fields["contact"] = slots["contact"]
        if "medication" in slots:
            fields["medication"] = slots["medication"]
        if "symptom" in slots:
            fields["symptom"] = self.prompts.symptom_name(str(slots["symptom"]))
        if "danger" in slots:
            fields["danger"] = slots["danger"]
        fields.update(extra)
        return fields

    def _say(self, key: str, remember: bool = True, **fields: Any) -> act.Say:
        say = act.Say(self.prompts.text(key, **self._fields(None, **fields)), prompt_id=key, lang=self.lang)
        if remember:
            self._last_prompt = [say]
        return say

    def _say_text(self, text: str, prompt_id: str = "") -> list[object]:
        if not text:
            return []
        say = act.Say(text, prompt_id=prompt_id, lang=self.lang)
        self._last_prompt = [say]
        return [say]

    def _response(
        self, intent: str, key: str, slots: dict[str, Any] | None = None, **extra: Any
    ) -> str | None:
        return self.prompts.response(intent, key, **self._fields(slots, **extra))

    def _ask(self, says: list[act.Say], state: State) -> list[object]:
        self._state = state
        self._last_prompt = list(says)
        return [*says, act.ExpectAnswer(self.settings.dialogue.answer_timeout_s)]

    def _to_idle(self) -> None:
        self._state = State.IDLE
        self._pending = None
        self._phone_offer = ()
        self._tries = 0
        self._reminder = None
        self._checkin_asks = 0

    def _tier(self, u: Understanding) -> str:
        return u.tier or _DEFAULT_TIERS.get(u.intent or "", "plain")

    # ------------------------------------------------------------ helpers: requests

    def _send(
        self,
        request_type: str,
        slots: dict[str, Any],
        tier: str = "plain",
        call_back_by_phone: bool = False,
        understanding: Understanding | None = None,
    ) -> act.SendRequest:
        context: dict[str, Any] = {"lang": self.lang}
        if understanding is not None:
            context["confidence"] = round(understanding.confidence, 3)
            if self.settings.backend.send_transcripts:
                context["transcript"] = understanding.transcript or understanding.text
        req = act.SendRequest(
            request_type, dict(slots), tier=tier, call_back_by_phone=call_back_by_phone, context=context
        )
        self._sent[req.request_id] = req
        now = self.clock.now()
        summary = self.prompts.summary(request_type, **self._fields(slots, status=self._status_words(slots)))
        self.store.record_sent(now, request_type, summary, req.request_id)
        _LOGGER.info("event=request type=%s tier=%s id=%s", request_type, tier, req.request_id)
        return req

    def _status_words(self, slots: dict[str, Any]) -> str:
        status = str(slots.get("status", ""))
        return self.prompts.checkin_status.get(status, status)

    # ------------------------------------------------------------ helpers: phone

    def _doctor_line(self) -> tuple[tuple[str, str], ...]:
        doc = self.settings.doctor
        return ((doc.name, doc.phone),) if doc.phone else ()

    def _contact_lines(self, contacts: Iterable[Contact]) -> tuple[tuple[str, str], ...]:
        return tuple((c.name, c.phone) for c in contacts if c.phone)

    def _phone_targets(self, pending: _Pending | None) -> tuple[tuple[str, str], ...]:
        """Whom the phone fallback rings: the contact asked for, else the doctor, else family."""
        if pending is not None and pending.intent == "call_contact":
            named = [c for c in self.settings.contacts if c.name == pending.slots.get("contact")]
            if lines := self._contact_lines(named):
                return lines
        return self._doctor_line() or self._contact_lines(self.settings.emergency_contacts())[:1]

    def _phone_call(self, reason: str, lines: tuple[tuple[str, str], ...]) -> list[object]:
        if not lines or not self.settings.phone_fallback.enabled:
            return [self._say("phone_unavailable")]
        _LOGGER.info("event=phone_fallback reason=%s lines=%d", reason, len(lines))
        return [self._say("phone_calling", contact=lines[0][0]), act.PhoneCall(reason, lines)]

    def _offer_phone(self, key: str, pending: _Pending | None) -> list[object]:
        lines = self._phone_targets(pending)
        if not lines or not self.settings.phone_fallback.enabled:
            self._to_idle()
            return [self._say("phone_unavailable")]
        self._pending = pending
        self._phone_offer = lines
        self._tries = 0
        return self._ask([self._say(key, contact=lines[0][0])], State.AWAITING_PHONE_OFFER)

    # ------------------------------------------------------------ understanding

    def _on_understanding(self, u: Understanding) -> list[object]:
        now = self.clock.now()
        self.inactivity.note_interaction(now)
        intent = u.intent
        _LOGGER.debug("event=turn state=%s intent=%s", self._state, intent)

        if intent == "emergency" or self._tier(u) == TIER_EMERGENCY:
            self._help_at = None
            return self._start_emergency(u)
        if intent != "emergency" and _is_help_word(u.text):
            mono = self.clock.monotonic()
            if self._help_at is not None and mono - self._help_at <= REPEATED_HELP_WINDOW_S:
                self._help_at = None
                return self._start_emergency(u)
            self._help_at = mono
            return self._ask([self._say("help_check")], State.IDLE)
        if intent is not None:
            self._help_at = None
        if intent == "cancel":
            return self._cancel()
        if intent == "repeat":
            return self._repeat()

        state = self._state
        if state is State.EMERGENCY_CANCEL_WINDOW:
            if intent == "yes":
                return self._send_emergency()
            if intent in ("no", "feeling_fine"):  # "no" / "I'm fine" / 我没事 call it off
                return self._cancel()
            return []  # the window closes on its own in a few seconds
        if state is State.AWAITING_CONFIRMATION:
            return self._answer_confirmation(u)
        if state is State.AWAITING_PHONE_OFFER:
            return self._answer_phone_offer(u)
        if state is State.AWAITING_REMINDER_ANSWER:
            if intent in ("medication_taken", "yes"):
                return self._medication_taken(u)
            if intent == "no":
                self._to_idle()
                return [self._say("reminder_later")]
            if intent is None:
                return self._not_understood(u)
        if state is State.AWAITING_CHECKIN_ANSWER:
            return self._answer_checkin(u)
        return self._idle_intent(u)

    def _not_understood(self, u: Understanding) -> list[object]:
        self._misunderstood += 1
        if self._misunderstood >= self.settings.dialogue.max_tries:
            self._misunderstood = 0
            return self._offer_phone("not_understood_offer_phone", None)
        return self._ask([self._say("not_understood")], self._state)

    def _idle_intent(self, u: Understanding) -> list[object]:
        intent = u.intent
        if self._state is not State.IDLE:
            self._to_idle()
        if intent is None:
            return self._not_understood(u)
        self._misunderstood = 0
        if self._tier(u) == TIER_CONFIRM:
            return self._start_confirmation(u.intent or "", dict(u.slots), u)
        handler = {
            "medication_taken": self._medication_taken,
            "medication_query": self._medication_query,
            "appointment_query": self._appointment_query,
            "time_query": self._time_query,
            "sent_today_query": self._sent_today,
            "volume_up": lambda _u: self._volume(+VOLUME_STEP, "volume_up"),
            "volume_down": lambda _u: self._volume(-VOLUME_STEP, "volume_down"),
            "feeling_fine": lambda _u: self._plain_answer("feeling_fine", "checkin_fine"),
            "capabilities": lambda _u: self._plain_answer("capabilities", "capabilities"),
            "yes": lambda _u: [self._say("idle_yes_no")],
            "no": lambda _u: [self._say("still_here")],
        }.get(intent)
        if handler is not None:
            return handler(u)
        text = self._response(intent, "answer", u.slots) or self._response(intent, "done", u.slots)
        return self._say_text(text or "") or self._not_understood(u)

    def _plain_answer(self, intent: str, fallback_key: str) -> list[object]:
        text = self._response(intent, "answer")
        return self._say_text(text, intent) if text else [self._say(fallback_key)]

    # ------------------------------------------------------------ cancel / repeat

    def _cancel(self) -> list[object]:
        state = self._state
        self._to_idle()
        if state is State.EMERGENCY_CANCEL_WINDOW:
            self._emergency_deadline = None
            _LOGGER.info("event=emergency_cancelled")
            return [self._say("emergency_cancelled")]
        if state in (State.AWAITING_CONFIRMATION, State.AWAITING_PHONE_OFFER, State.AWAITING_CHECKIN_ANSWER):
            return [self._say("cancelled")]
        if state is State.AWAITING_REMINDER_ANSWER:
            return [self._say("reminder_later")]
        return [self._say("nothing_to_cancel")]

    def _repeat(self) -> list[object]:
        if not self._last_prompt:
            return [self._say("nothing_to_repeat", remember=False)]
        out: list[object] = list(self._last_prompt)
        if self._state is not State.IDLE:
            out.append(act.ExpectAnswer(self.settings.dialogue.answer_timeout_s))
        return out

    # ------------------------------------------------------------ silence

    def _on_silence(self) -> list[object]:
        state = self._state
        if state is State.AWAITING_CONFIRMATION:
            self._tries += 1
            if self._tries >= self.settings.dialogue.max_tries:
                return self._offer_phone("phone_fallback_offer", self._pending)
            return self._reask_confirmation()
        if state is State.AWAITING_PHONE_OFFER:
            self._to_idle()
            return [self._say("still_here")]
        if state is State.AWAITING_CHECKIN_ANSWER:
            if self._checkin_asks < CHECKIN_MAX_ASKS:
                return self._ask_checkin(self.clock.now())
            self._to_idle()
            return [self._send("check_in", {"status": "no_answer"})]
        if state is State.AWAITING_REMINDER_ANSWER:
            self._state = State.IDLE  # the reminder stays open; tick() repeats it once, then reports
            return []
        return []

    # ------------------------------------------------------------ confirm tier

    def _fill_missing_slot(self, intent: str, slots: dict[str, str]) -> list[object] | None:
        """Ask which one when a required slot is missing and there is a choice; None when fine."""
        if intent == "call_contact" and "contact" not in slots:
            names = [c.name for c in self.settings.contacts]
            if len(names) == 1:
                slots["contact"] = names[0]
            else:
                return [self._say("which_contact", items=self.prompts.text("or_joiner").join(names))]
        if intent == "reorder_medication" and "medication" not in slots:
            names = [m.name for m in self.settings.medications]
            if len(names) == 1:
                slots["medication"] = names[0]
            else:
                return [self._say("which_medication", items=self.prompts.text("or_joiner").join(names))]
        return None

    def _start_confirmation(
        self, intent: str, slots: dict[str, str], u: Understanding | None
    ) -> list[object]:
        asked = self._fill_missing_slot(intent, slots)
        if asked is not None:
            self._to_idle()
            return asked
        self._pending = _Pending(intent, slots, u)
        self._tries = 0
        text = self._response(intent, "confirm", slots) or self._response(intent, "done", slots)
        say = act.Say(text or intent, prompt_id=f"{intent}.confirm", lang=self.lang)
        return self._ask([say], State.AWAITING_CONFIRMATION)

    def _reask_confirmation(self) -> list[object]:
        pending = self._pending
        assert pending is not None
        question = self._response(pending.intent, "confirm", pending.slots) or ""
        says = [self._say("confirm_yes_no"), act.Say(question, f"{pending.intent}.confirm", self.lang)]
        return self._ask(says, State.AWAITING_CONFIRMATION)

    def _answer_confirmation(self, u: Understanding) -> list[object]:
        pending = self._pending
        assert pending is not None
        if u.intent == "yes":
            return self._execute(pending)
        if u.intent == "no":
            self._to_idle()
            return [self._say("cancelled")]
        if u.intent is None:
            self._tries += 1
            if self._tries >= self.settings.dialogue.max_tries:
                return self._offer_phone("phone_fallback_offer", pending)
            return self._reask_confirmation()
        return self._idle_intent(u)  # a new request replaces the unanswered one

    def _execute(self, pending: _Pending) -> list[object]:
        self._to_idle()
        intent, slots = pending.intent, pending.slots
        out: list[object] = []
        if intent == "reorder_medication" and "medication" in slots:
            self.supply.mark_reordered(slots["medication"])
        if intent == "call_doctor":
            slots = {**slots, "doctor": self.settings.doctor.name}
        out.append(
            self._send(
                intent,
                slots,
                tier=TIER_CONFIRM,
                call_back_by_phone=intent in ("call_doctor", "call_contact", "book_appointment"),
                understanding=pending.understanding,
            )
        )
        done = self._response(intent, "done", slots)
        if done:
            out += self._say_text(done, f"{intent}.done")
        out.append(act.PlayEarcon("done"))
        return out

    def _answer_phone_offer(self, u: Understanding) -> list[object]:
        if u.intent == "yes":
            lines = self._phone_offer
            reason = self._pending.intent if self._pending else "not_understood"
            self._to_idle()
            return self._phone_call(reason, lines)
        if u.intent == "no":
            self._to_idle()
            return [self._say("still_here")]
        if u.intent is None:
            self._tries += 1
            if self._tries >= self.settings.dialogue.max_tries:
                self._to_idle()
                return [self._say("still_here")]
            says = [
                self._say("confirm_yes_no"),
                self._say("phone_fallback_offer", contact=self._phone_offer[0][0]),
            ]
            return self._ask(says, State.AWAITING_PHONE_OFFER)
        return self._idle_intent(u)

    # ------------------------------------------------------------ emergency

    def _start_emergency(self, u: Understanding) -> list[object]:
        if self._state is State.EMERGENCY_CANCEL_WINDOW:
            return self._send_emergency()  # asked again: don't wait for the window
        self._to_idle()
        self._emergency_slots = {k: v for k, v in u.slots.items() if k in ("danger", "symptom")}
        window = min(max(self.settings.dialogue.emergency_cancel_s, 0.0), MAX_EMERGENCY_CANCEL_S)
        _LOGGER.info("event=emergency_started window_s=%.1f", window)
        if window <= 0:
            return self._send_emergency()
        self._state = State.EMERGENCY_CANCEL_WINDOW
        self._emergency_deadline = self.clock.monotonic() + window
        text = self._response("emergency", "confirm", self._emergency_slots)
        say = act.Say(text, "emergency.confirm", self.lang) if text else self._say("emergency_cancel_window")
        self._last_prompt = [say]
        return [act.PlayEarcon("error"), say, act.ExpectAnswer(window)]

    def _send_emergency(self) -> list[object]:
        slots = dict(self._emergency_slots)
        self._emergency_deadline = None
        self._to_idle()
        req = self._send("emergency", slots, tier=TIER_EMERGENCY, call_back_by_phone=True)
        done = self._response("emergency", "done", slots)
        say = act.Say(done, "emergency.done", self.lang) if done else self._say("emergency_sent")
        self._last_prompt = [say]
        return [req, say]

    # ------------------------------------------------------------ backend and phone events

    def _on_ack(self, ack: act.BackendAck) -> list[object]:
        req = self._sent.get(ack.request_id)
        out: list[object] = []
        if req is not None and req.request_type == "book_appointment" and ack.text:
            self.store.put("appointment", ack.text)
        if ack.text:
            out += self._say_text(ack.text)
        if ack.status == "nobody_answered" and (req is None or req.request_type == "emergency"):
            out += self._phone_call("emergency", self._contact_lines(self.settings.emergency_contacts()))
        return out

    def _on_late(self, late: act.DeliveryLate) -> list[object]:
        out: list[object] = [self._say("offline_saved")]
        if late.tier == TIER_EMERGENCY or late.request_type == "emergency":
            out += self._phone_call("emergency", self._contact_lines(self.settings.emergency_contacts()))
        elif late.request_type == "call_doctor":
            out += self._phone_call("call_doctor", self._doctor_line())
        return out

    def _on_phone_result(self, result: act.PhoneResult) -> list[object]:
        if result.outcome == "answered":
            return [self._say("phone_answered", contact=result.name)]
        return [self._say("phone_nobody_answered")]

    # ------------------------------------------------------------ medication

    def _medication(self, name: str) -> Medication:
        return self.reminders.medications.get(name) or Medication(name=name)

    def _fits_lang(self, text: str) -> bool:
        """True when ``text`` is written for the conversation's language (CJK for zh, else not)."""
        return bool(_CJK_RE.search(text)) == (self.lang == "zh")

    def _everyday(self, med: Medication) -> str | None:
        """The everyday name in this language ("blood pressure pill", "降压药"), if the config has one."""
        word = next((a for a in med.aliases if self._fits_lang(a)), None)
        if (
            word
            and self.lang == "en"
            and med.dose.lower().startswith(("one ", "1 "))
            and word.endswith("pills")
        ):
            word = word[:-1]  # "one tablet" → "your blood pressure pill"
        return word

    def _reminder_items(self, names: Iterable[str]) -> str:
        items = []
        for name in names:
            med = self._medication(name)
            everyday = self._everyday(med)
            dose = med.dose if med.dose and self._fits_lang(med.dose) else ""
            if dose and everyday:
                key = "reminder_item_long" if len(dose.split()) > 2 else "reminder_item"
            elif everyday:
                key = "reminder_item_no_dose"
            else:
                key = "reminder_item_plain"
            items.append(self.prompts.text(key, everyday=everyday or name, dose=dose, medication=med.name))
        return self.prompts.text("reminder_joiner").join(items)

    def _announce(self, due: DueReminder, now: dt.datetime) -> list[object]:
        self.reminders.mark_announced(due, now)
        self._reminder = due
        late = (now - due.scheduled).total_seconds() > LATE_WORDING_AFTER_S
        text = self.prompts.text(
            "reminder_late" if late else "reminder",
            person=self.settings.person.address_as,
            time=speak_time(due.scheduled.time(), self.lang),
            items=self._reminder_items(k.medication for k in due.doses),
        )
        says = [act.Say(text, "reminder", self.lang)]
        return [act.PlayEarcon("wake"), *self._ask(says, State.AWAITING_REMINDER_ANSWER)]

    def _reminder_follow_ups(self, now: dt.datetime) -> list[object]:
        follow = self.reminders.follow_ups(now)
        out: list[object] = []
        if follow.missed:
            self.reminders.mark_missed(follow.missed, now)
            if self._state is State.AWAITING_REMINDER_ANSWER:
                self._to_idle()
            for name in _unique(r.key.medication for r in follow.missed):
                times = [r.key.time_text for r in follow.missed if r.key.medication == name]
                out.append(self._send("medication_missed", {"medication": name, "scheduled": times[0]}))
                if self._state is State.IDLE and not is_quiet(now, self.settings):
                    out.append(self._say("medication_missed", medication=name))
        if follow.repeat and self._state in (State.IDLE, State.AWAITING_REMINDER_ANSWER):
            if is_quiet(now, self.settings):
                return out
            self.reminders.mark_repeated(follow.repeat, now)
            text = self.prompts.text(
                "reminder_repeat",
                person=self.settings.person.address_as,
                items=self._reminder_items(_unique(r.key.medication for r in follow.repeat)),
            )
            out += self._ask([act.Say(text, "reminder_repeat", self.lang)], State.AWAITING_REMINDER_ANSWER)
        return out

    def _medication_taken(self, u: Understanding) -> list[object]:
        now = self.clock.now()
        self._to_idle()
        med_slot = u.slots.get("medication")
        keys: list[DoseKey] = self.reminders.open_doses(now, med_slot)
        self.reminders.mark_taken(keys, now)
        names = _unique(k.medication for k in keys) or ([med_slot] if med_slot else [])
        out: list[object] = []
        for name in names:
            scheduled = [k.time_text for k in keys if k.medication == name]
            slots = {"medication": name, **({"scheduled": scheduled[0]} if scheduled else {})}
            out.append(self._send("medication_taken", slots, understanding=u))
            self.supply.take(name, max(1, len(scheduled)))
        if names:
            joined = self.prompts.text("and_joiner").join(names)
            text = self._response("medication_taken", "done", {"medication": joined})
            out += (
                self._say_text(text, "medication_taken.done")
                if text
                else [self._say("reminder_taken", medication=joined)]
            )
        else:
            out.append(self._say("reminder_taken_nothing_due"))
        out += self._offer_reorder(names, now)
        return out

    def _offer_reorder(self, names: Iterable[str], now: dt.datetime) -> list[object]:
        for name in names:
            days = self.supply.reorder_due(name, self.reminders.doses_per_day(name), now.date())
            if days is None:
                continue
            self.supply.mark_offered(name, now.date())
            self._pending = _Pending("reorder_medication", {"medication": name})
            self._tries = 0
            say = self._say("reorder_offer", days=speak_number(days, self.lang), medication=name)
            return self._ask([say], State.AWAITING_CONFIRMATION)
        return []

    def _medication_query(self, u: Understanding) -> list[object]:
        now = self.clock.now()
        today = self.reminders.today(now)
        if not today:
            return [self._say("medication_none")]
        words = {
            "taken": self.prompts.text("medication_taken_word"),
            "missed": self.prompts.text("medication_missed_word"),
        }
        by_med: dict[str, list[tuple[dt.time, str]]] = {}
        for med, at, status in today:
            if status in words:
                word = words[status]
            elif dt.datetime.combine(now.date(), at, tzinfo=now.tzinfo) > now:
                word = self.prompts.text("medication_later_word")
            else:
                word = self.prompts.text("medication_not_yet_word")
            by_med.setdefault(med.name, []).append((at, word))
        items = []
        for name, entries in by_med.items():
            for at, word in entries:
                items.append(
                    self.prompts.text(
                        "medication_item", medication=name, times=speak_time(at, self.lang), status=word
                    )
                )
        out = []
        open_now = [k.medication for k in self.reminders.open_doses(now) if k.at(now.tzinfo) <= now]
        announced = _unique(open_now)
        if announced:
            out.append(self._say("medication_now", items=self._reminder_items(announced)))
        out.append(self._say("medication_today", items=self.prompts.text("list_joiner").join(items)))
        self._last_prompt = [s for s in out if isinstance(s, act.Say)]
        return out

    # ------------------------------------------------------------ other plain answers

    def _time_query(self, u: Understanding) -> list[object]:
        now = self.clock.now()
        spoken = speak_time(now.time(), self.lang, with_period=True)
        text = self._response("time_query", "answer", time=spoken)
        return self._say_text(text, "time_query") if text else [self._say("time_answer", time=spoken)]

    def _appointment_query(self, u: Understanding) -> list[object]:
        known = self.store.get("appointment")
        if known:
            return [self._say("appointment_known", status=known)]
        self._pending = _Pending("book_appointment", {})
        self._tries = 0
        return self._ask([self._say("appointment_unknown")], State.AWAITING_CONFIRMATION)

    def _volume(self, delta: float, key: str) -> list[object]:
        text = self._response(key, "answer")
        return [act.SetVolume(delta), *(self._say_text(text, key) if text else [self._say(key)])]

    def _sent_today(self, u: Understanding) -> list[object]:
        now = self.clock.now()
        records = self.store.sent_on(now.date())
        if not records:
            return [self._say("sent_today_none")]
        items = [
            self.prompts.text(
                "sent_today_item",
                time=speak_time(r.at.astimezone(now.tzinfo).time(), self.lang),
                summary=r.summary,
            )
            for r in records
        ]
        return [self._say("sent_today", items=self.prompts.text("list_joiner").join(items))]

    # ------------------------------------------------------------ check-in

    def _ask_checkin(self, now: dt.datetime) -> list[object]:
        if self._checkin_asks == 0:
            self.checkin.mark_asked(now)
        self._checkin_asks += 1
        key = "checkin_question" if now.hour < 12 else "checkin_question_later"
        asks = self._checkin_asks
        out = self._ask([self._say(key)], State.AWAITING_CHECKIN_ANSWER)
        self._checkin_asks = asks
        return out

    def _answer_checkin(self, u: Understanding) -> list[object]:
        intent = u.intent
        if intent in ("feeling_fine", "yes"):
            self._to_idle()
            return [self._send("check_in", {"status": "fine"}, understanding=u), self._say("checkin_fine")]
        if intent == "report_symptom" and u.slots.get("symptom"):
            self._to_idle()
            slots = {"symptom": u.slots["symptom"]}
            return [
                self._send("report_symptom", slots, tier=TIER_CONFIRM, understanding=u),
                self._send("check_in", {"status": "symptom", **slots}, understanding=u),
                self._say("checkin_symptom", symptom=self.prompts.symptom_name(slots["symptom"])),
            ]
        if intent == "no":
            self._to_idle()
            out: list[object] = [self._send("check_in", {"status": "not_well"}, understanding=u)]
            self._pending = _Pending("call_doctor", {})
            out += self._ask([self._say("checkin_not_well")], State.AWAITING_CONFIRMATION)
            return out
        if intent is None:
            if self._checkin_asks < CHECKIN_MAX_ASKS:
                return [self._say("not_understood"), *self._ask_checkin(self.clock.now())]
            self._to_idle()
            return [self._say("still_here")]
        return self._idle_intent(u)


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


__all__ = ["Dialogue", "DoseRecord", "State"]
