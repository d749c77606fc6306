"""The dialogue manager: a small explicit state machine that routes each input to its flow.

Pure: :meth:`Dialogue.handle` takes one input (an :class:`~assistant.understanding.result.Understanding`,
typed text when a matcher is given, :class:`~assistant.conversation.actions.Silence`, or a backend/phone event)
and returns the actions for the daemon (speech, requests, phone calls). :meth:`Dialogue.tick` is
called about once a second and drives everything time-based (emergency cancel window, reminders,
check-ins, inactivity) from the injected clock. Nothing here sleeps, speaks or touches the network.

The flows live beside it: :mod:`~assistant.conversation.emergency` (cancel window, repeated help),
:mod:`~assistant.conversation.delivery` (acknowledgements, late delivery, phone fallback),
:mod:`~assistant.conversation.care_flows` (reminders, supply, check-in). Whether an intent is read
back before acting, its risk tier and its help words come from the catalog. See docs/dialogue.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Final

from assistant.conversation import actions as act
from assistant.conversation.care_flows import CareFlows
from assistant.conversation.care_store import DoseRecord
from assistant.conversation.delivery import CALL_BACK_BY_PHONE, DeliveryEvents
from assistant.conversation.dialogue_base import Pending, State
from assistant.conversation.emergency import MAX_EMERGENCY_CANCEL_S, EmergencyFlow
from assistant.conversation.prompts import speak_time
from assistant.understanding.result import TIER_CONFIRM, Understanding

_LOGGER = logging.getLogger(__name__)
NEVER_CHECKED: Final = frozenset({"emergency", "cancel", "repeat", "yes", "no"})
"""Intents acted on even when heard unsure: an emergency has its cancel window, and asking
"Did you say cancel?" would only delay what she can say again."""

VOLUME_STEP: Final = 0.2
_CHOICES: Final = {"contacts": "which_contact", "medications": "which_medication"}
"""Config lists a missing slot can be chosen from → the prompt that asks which one."""


class Dialogue(EmergencyFlow, DeliveryEvents, CareFlows):
    """One conversation partner for one person. Not thread-safe: the daemon's loop owns it.

    ``Dialogue(settings, matcher=None, clock=None, lang=None, state=None, prompts=None, catalog=None)``:
    the catalog defaults to the matcher's, else the one ``settings`` chooses.
    """

    # ------------------------------------------------------------ public

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
        out = self._alarm_tick()
        if self._state is State.EMERGENCY_CANCEL_WINDOW:
            return out + self._emergency_due()
        if self._state is State.AWAITING_URGENT_ANSWER:
            return out + self._urgent_due()
        now = self.clock.now()
        out += self._daily_summary(now)
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

    # ------------------------------------------------------------ understanding

    def _on_understanding(self, u: Understanding) -> list[object]:
        self.inactivity.note_interaction(self.clock.now())
        _LOGGER.debug("event=turn state=%s intent=%s", self._state, u.intent)
        emergency = self._emergency_turn(u)
        if emergency is not None:
            return emergency
        if u.intent == "cancel":
            return self._cancel()
        if u.intent == "repeat":
            return self._repeat()
        state = self._state
        if state is State.EMERGENCY_CANCEL_WINDOW:
            return self._cancel_window_answer(u)
        if state is State.AWAITING_URGENT_ANSWER:
            return self._urgent_answer(u)
        if state is State.AWAITING_CONFIRMATION:
            return self._answer_confirmation(u)
        if state is State.AWAITING_PHONE_OFFER:
            return self._answer_phone_offer(u)
        if state is State.AWAITING_REMINDER_ANSWER:
            answered = self._answer_reminder(u)
            if answered is not None:
                return answered
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
        if intent == "report_symptom" and u.urgent:
            return self._urgent_check(u)  # asked before any read-back, even when heard unsure
        if u.unsure and intent not in NEVER_CHECKED:
            return self._check_heard(u)
        if self.catalog.confirms(intent) or self._tier(u) == TIER_CONFIRM:
            return self._start_request(intent, dict(u.slots), u)
        handler = self._handlers().get(intent)
        if handler is not None:
            return handler(u)
        text = self._response(intent, "answer", u.slots) or self._response(intent, "done", u.slots)
        return self._say_text(text or "") or self._not_understood(u)

    def _handlers(self) -> dict[str, Callable[[Understanding], list[object]]]:
        """Intents answered on the device (the protocol's ids); others say their catalog answer."""
        return {
            "medication_taken": self._medication_taken,
            "medication_query": self._medication_query,
            "appointment_query": self._appointment_query,
            "time_query": self._time_query,
            "sent_today_query": self._sent_today,
            "volume_up": lambda _u: self._volume(+VOLUME_STEP, "volume_up"),
            "volume_down": lambda _u: self._volume(-VOLUME_STEP, "volume_down"),
            "feeling_fine": lambda _u: [self._respond("feeling_fine", "answer", "checkin_fine")],
            "capabilities": lambda _u: [self._respond("capabilities", "answer", "capabilities")],
            "yes": lambda _u: [self._say("idle_yes_no")],
            "no": lambda _u: [self._say("still_here")],
        }

    # ------------------------------------------------------------ cancel / repeat / silence

    def _cancel(self) -> list[object]:
        state = self._state
        if state is State.EMERGENCY_CANCEL_WINDOW:
            return self._cancel_emergency()
        if self.alarm_sounding:  # "stop" ends the room alarm
            return self._alarm_off()
        self._to_idle()
        if state in (
            State.AWAITING_CONFIRMATION,
            State.AWAITING_PHONE_OFFER,
            State.AWAITING_CHECKIN_ANSWER,
            State.AWAITING_URGENT_ANSWER,
        ):
            return [self._say("cancelled")]
        if state is State.AWAITING_REMINDER_ANSWER:
            return [self._say("reminder_later")]
        return [self._say("nothing_to_cancel")]

    def _repeat(self) -> list[object]:
        if not self._last_prompt:
            return [self._say("nothing_to_repeat", remember=False)]
        out: list[object] = list(self._last_prompt)
        if self._state is State.AWAITING_URGENT_ANSWER and self._urgent_deadline is not None:
            self._restart_urgent_deadline()
        if self._state is not State.IDLE:
            out.append(act.ExpectAnswer(self.settings.dialogue.answer_timeout_s))
        return out

    def _on_silence(self) -> list[object]:
        state = self._state
        if state is State.AWAITING_CONFIRMATION:
            if self._out_of_tries():
                return self._offer_phone("phone_fallback_offer", self._pending)
            return self._reask_confirmation()
        if state is State.AWAITING_PHONE_OFFER:
            self._to_idle()
            return [self._say("still_here")]
        if state is State.AWAITING_CHECKIN_ANSWER:
            return self._checkin_silence()
        if state is State.AWAITING_URGENT_ANSWER:
            return self._urgent_unanswered("silence")
        if state is State.AWAITING_REMINDER_ANSWER:
            self._state = State.IDLE  # the reminder stays open; tick() repeats it once, then reports
        return []

    # ------------------------------------------------------------ read back, then act

    def _fill_missing_slot(self, intent: str, slots: dict[str, str]) -> list[object] | None:
        """Ask which one when a slot the catalog requires is missing and the config offers a choice
        (contacts, medications); fill it when there is only one. None when nothing is missing."""
        intent_def = self.catalog.intents[intent]
        for name in intent_def.slots:
            source = self.catalog.slots[name].from_config
            if name in slots or name in intent_def.optional_slots or source not in _CHOICES:
                continue
            choices = [item.name for item in getattr(self.settings, source)]
            if len(choices) == 1:
                slots[name] = choices[0]
            elif choices:
                return [self._say(_CHOICES[source], items=self.prompts.text("or_joiner").join(choices))]
        return None

    def _start_request(self, intent: str, slots: dict[str, str], u: Understanding | None) -> list[object]:
        """A request: read back first when the catalog says ``confirm``, else sent at once."""
        asked = self._fill_missing_slot(intent, slots)
        if asked is not None:
            self._to_idle()
            return asked
        if not self.catalog.confirms(intent):
            return self._execute(Pending(intent, slots, u))
        self._pending = Pending(intent, slots, u)
        self._tries = 0
        text = self._response(intent, "confirm", slots) or self._response(intent, "done", slots)
        say = act.Say(text or intent, prompt_id=f"{intent}.confirm", lang=self.lang)
        return self._ask([say], State.AWAITING_CONFIRMATION)

    def _check_heard(self, u: Understanding) -> list[object]:
        """Heard with middling confidence: "Did you say: <what was heard>?" before anything else."""
        self._pending = Pending(u.intent or "", dict(u.slots), u, heard_check=True)
        self._tries = 0
        return self._ask([self._did_you_say(u)], State.AWAITING_CONFIRMATION)

    def _did_you_say(self, u: Understanding) -> act.Say:
        return self._say("did_you_say", heard=u.transcript or u.text)

    def _reask_confirmation(self) -> list[object]:
        pending = self._pending
        assert pending is not None
        if pending.heard_check and pending.understanding is not None:
            says = [self._say("confirm_yes_no"), self._did_you_say(pending.understanding)]
            return self._ask(says, State.AWAITING_CONFIRMATION)
        question = self._response(pending.intent, "confirm", pending.slots) or ""
        says = [self._say("confirm_yes_no"), act.Say(question, f"{pending.intent}.confirm", self.lang)]
        return self._ask(says, State.AWAITING_CONFIRMATION)

    def _answer_confirmation(self, u: Understanding) -> list[object]:
        pending = self._pending
        assert pending is not None
        if u.intent == "yes" and pending.heard_check and pending.understanding is not None:
            return self._idle_intent(dataclasses.replace(pending.understanding, unsure=False))
        if u.intent == "yes":
            return self._execute(pending)
        if u.intent == "no" and pending.heard_check:
            self._to_idle()
            return [self._say("not_understood")]
        if u.intent == "no":
            self._to_idle()
            return [self._say("cancelled")]
        if u.intent is None:
            if self._out_of_tries():
                return self._offer_phone("phone_fallback_offer", pending)
            return self._reask_confirmation()
        return self._idle_intent(u)  # a new request replaces the unanswered one

    def _execute(self, pending: Pending) -> list[object]:
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
                tier=self.catalog.tier(intent),
                call_back_by_phone=intent in CALL_BACK_BY_PHONE,
                understanding=pending.understanding,
            )
        )
        done = self._response(intent, "done", slots)
        if done:
            out += self._say_text(done, f"{intent}.done")
        out.append(act.PlayEarcon("done"))
        return out

    # ------------------------------------------------------------ other answers on the device

    def _time_query(self, u: Understanding) -> list[object]:
        spoken = speak_time(self.clock.now().time(), self.lang, with_period=True)
        return [self._respond("time_query", "answer", "time_answer", time=spoken)]

    def _appointment_query(self, u: Understanding) -> list[object]:
        known = self.store.get("appointment")
        if known:
            return [self._say("appointment_known", status=known)]
        self._pending = Pending("book_appointment", {})
        self._tries = 0
        return self._ask([self._say("appointment_unknown")], State.AWAITING_CONFIRMATION)

    def _volume(self, delta: float, intent: str) -> list[object]:
        return [act.SetVolume(delta), self._respond(intent, "answer", intent)]


__all__ = ["MAX_EMERGENCY_CANCEL_S", "Dialogue", "DoseRecord", "State"]
