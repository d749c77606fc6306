"""The emergency flow: the spoken cancel window, and a repeated bare call for help.

Emergency choice: the alert is **sent when the spoken cancel window closes** (at most
``settings.dialogue.emergency_cancel_s``, capped at :data:`MAX_EMERGENCY_CANCEL_S`), or at once
when the person confirms ("yes", "help" again). A cancelled alert therefore never reaches anyone,
and the delay is bounded by a few seconds. See docs/dialogue.md.

Which words are a bare call for help is catalog data (``help_words`` of an intent): said once,
the dialogue asks whether help is needed; said again within :data:`REPEATED_HELP_WINDOW_S`, it
starts the intent that lists them.

An **urgent symptom** told as a report (``Understanding.urgent``: "the worst stomach pain ever",
尿不出来) is not read back like a rash: the dialogue asks, slowly, "That sounds serious. Do you need
help right now?". Yes (or "help") → this emergency flow, cancel window and all; no / "I'm fine" →
the ordinary symptom report; silence or no understandable answer, asked once more, → the emergency
flow (fail closed: the spoken cancel window can still stop a mistaken alarm). "Cancel" stops it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Final

from assistant.conversation import actions as act
from assistant.conversation.dialogue_base import DialogueBase, Pending, State
from assistant.understanding.result import TIER_EMERGENCY, Understanding

_LOGGER = logging.getLogger(__name__)

EMERGENCY_INTENT: Final = "emergency"
"""The protocol's emergency request type (the intent every emergency-tier utterance becomes)."""
MAX_EMERGENCY_CANCEL_S: Final = 10.0
"""Upper bound of the emergency cancel window whatever the config says."""
REPEATED_HELP_WINDOW_S: Final = 60.0
"""A second bare call for help within this long (nothing else in between) starts its intent."""
DAILY_SUMMARY: Final = "daily_summary"
"""The protocol's request type for the once-a-day counts (emergencies, false alarms)."""
CALL_OFF_INTENTS: Final = frozenset({"no", "feeling_fine"})
"""Answers in the cancel window that call the alert off ("no", "I'm fine", 我没事; "cancel" works anywhere)."""
REPORT_INTENT: Final = "report_symptom"
URGENT_CHECK_ASKS: Final = 2
"""The urgent-symptom question is asked once and repeated once; no clear answer then → the emergency."""
URGENT_CHECK_SPEAK_S: Final = 20.0
"""Backstop: with no answer and no silence reported this long after ``dialogue.answer_timeout_s``
(time to say the question slowly), :meth:`tick` treats the question as unanswered."""
URGENT_DANGER: Final = {
    "crushing_chest_pain": "chest_pain",
    "chest_pain_now": "chest_pain",
    "cant_breathe": "cant_breathe",
    "choking": "cant_breathe",
    "blue_lips": "cant_breathe",
    "face_drooping": "stroke",
    "one_side_weak": "stroke",
    "slurred_speech": "stroke",
    "stroke": "stroke",
    "unconscious": "collapse",
    "severe_bleeding": "bleeding",
    "coughing_blood": "bleeding",
    "vomiting_blood": "bleeding",
    "heavy_nosebleed": "bleeding",
    "fallen_cant_get_up": "fall",
    "hip_fracture": "fall",
}
"""Urgent symptom id → the emergency's ``danger`` value, where one fits (the alert also carries the id)."""


_IN_HELP_FLOW: Final = frozenset({State.EMERGENCY_CANCEL_WINDOW, State.AWAITING_URGENT_ANSWER})
"""States where a spotted emergency heard with one reading is acted on without asking: the
cancel window is open, or "Do you need help / Did you call for help?" is waiting for its answer."""


class EmergencyFlow(DialogueBase):
    """Emergencies interrupt anything; a cancelled one never leaves the device."""

    def _emergency_turn(self, u: Understanding) -> list[object] | None:
        """Handle ``u`` if it is (or, repeated, becomes) an emergency; None to route it normally."""
        if u.intent == EMERGENCY_INTENT or self._tier(u) == TIER_EMERGENCY:
            self._help_at = None
            if u.spot_check and self._state not in _IN_HELP_FLOW:
                return self._spot_check(u)
            return self._start_emergency(u)
        help_intent = self.catalog.help_intent(u.text)
        if help_intent is not None and self._state is State.AWAITING_URGENT_ANSWER:
            return self._urgent_emergency("help")  # "help" answers "Do you need help right now?"
        if help_intent is not None and help_intent != u.intent:
            mono = self.clock.monotonic()
            if self._help_at is not None and mono - self._help_at <= REPEATED_HELP_WINDOW_S:
                self._help_at = None
                return self._help_repeated(help_intent, u)
            self._help_at = mono
            return self._ask([self._say("help_check")], State.IDLE)
        if u.intent is not None:
            self._help_at = None
        return None

    def _help_repeated(self, intent: str, u: Understanding) -> list[object]:
        if self.catalog.tier(intent) == TIER_EMERGENCY:
            return self._start_emergency(u)
        return self._idle_intent(Understanding(u.text, u.lang, intent, {}, u.confidence, tier=None))

    def _cancel_window_answer(self, u: Understanding) -> list[object]:
        """An answer while the cancel window is open: yes sends now, no calls it off."""
        if u.intent == "yes":
            return self._send_emergency()
        if u.intent in CALL_OFF_INTENTS:
            return self._cancel_emergency()
        return []  # the window closes on its own in a few seconds

    def _cancel_emergency(self) -> list[object]:
        self._to_idle()
        self._emergency_deadline = None
        count = self.count_today("false_alarms")
        _LOGGER.info("event=emergency_cancelled false_alarms_today=%d", count)
        return [self._say("emergency_cancelled")]

    # ------------------------------------------------------------ urgent symptom: "Do you need help right now?"

    def _urgent_check(self, u: Understanding, from_checkin: bool = False) -> list[object]:
        """An urgent symptom told as a report: ask, slowly, whether help is needed right now."""
        self._to_idle()
        self._pending = Pending(REPORT_INTENT, dict(u.slots), u)
        self._urgent_from_checkin = from_checkin
        self._urgent_asks = 1
        _LOGGER.info("event=urgent_check asks=1")  # no symptom: health details stay out of the log
        return self._ask_urgent([self._say("urgent_check", slow=True)])

    def _spot_check(self, u: Understanding) -> list[object]:
        """An emergency heard by one reading only (``Understanding.spot_check``: one of the
        spotter's two readings, the wake search's own, or the grammar's alone): ask, slowly, "Did
        you call for help?", answered as the urgent-symptom question is (yes / help → the
        emergency; no → nothing; silence or unclear twice → the emergency: fail closed)."""
        self._to_idle()
        self._pending = Pending(EMERGENCY_INTENT, dict(u.slots), dataclasses.replace(u, spot_check=False))
        self._urgent_asks = 1
        self._urgent_prompt = "spot_check"
        _LOGGER.info("event=spot_check asks=1")
        return self._ask_urgent([self._say("spot_check", slow=True)])

    def _ask_urgent(self, says: list[act.Say]) -> list[object]:
        asks = self._urgent_asks
        out = self._ask(says, State.AWAITING_URGENT_ANSWER)
        self._urgent_asks = asks
        self._restart_urgent_deadline()
        return out

    def _restart_urgent_deadline(self) -> None:
        """The backstop runs from now: the answer timeout plus time to say the question slowly."""
        timeout = self.settings.dialogue.answer_timeout_s
        self._urgent_deadline = self.clock.monotonic() + timeout + URGENT_CHECK_SPEAK_S

    def _urgent_answer(self, u: Understanding) -> list[object]:
        """The answer to "Do you need help right now?"."""
        if u.intent == "yes":
            return self._urgent_emergency("yes")
        if u.intent in CALL_OFF_INTENTS:
            return self._urgent_declined()
        return self._urgent_unanswered("unclear")

    def _urgent_unanswered(self, why: str) -> list[object]:
        """Silence or no understandable answer: ask once more, then fail closed (the emergency)."""
        if self._urgent_asks < URGENT_CHECK_ASKS:
            self._urgent_asks += 1
            _LOGGER.info("event=urgent_check asks=%d after=%s", self._urgent_asks, why)
            return self._ask_urgent(
                [self._say("confirm_yes_no", slow=True), self._say(self._urgent_prompt, slow=True)]
            )
        return self._urgent_emergency(why)

    def _urgent_due(self) -> list[object]:
        """tick(): the backstop when no answer and no silence came (see :data:`URGENT_CHECK_SPEAK_S`)."""
        if self._urgent_deadline is not None and self.clock.monotonic() >= self._urgent_deadline:
            return self._urgent_unanswered("timeout")
        return []

    def _urgent_emergency(self, why: str) -> list[object]:
        """Help is (or may be) needed: the emergency flow as for the ``emergency`` intent."""
        pending = self._pending
        u = pending.understanding if pending is not None else None
        if pending is not None and pending.intent == EMERGENCY_INTENT and u is not None:
            _LOGGER.info("event=spot_check_emergency reason=%s", why)
            return self._start_emergency(u)  # "Did you call for help?": the emergency heard
        symptom = str((pending.slots if pending is not None else {}).get("symptom", ""))
        slots = {"symptom": symptom} if symptom else {}
        if symptom in URGENT_DANGER:
            slots["danger"] = URGENT_DANGER[symptom]
        _LOGGER.info("event=urgent_check_emergency reason=%s", why)
        base = u or Understanding("", self.lang, REPORT_INTENT)
        return self._start_emergency(dataclasses.replace(base, intent=REPORT_INTENT, slots=slots))

    def _urgent_declined(self) -> list[object]:
        """No help needed now: the ordinary symptom report (read back, or the check-in's report)."""
        pending, from_checkin = self._pending, self._urgent_from_checkin
        self._to_idle()
        _LOGGER.info("event=urgent_check_declined")
        if pending is None or pending.understanding is None or pending.intent == EMERGENCY_INTENT:
            return [self._say("still_here")]
        if from_checkin:
            return self._checkin_symptom(pending.understanding)
        return self._start_request(REPORT_INTENT, dict(pending.slots), pending.understanding)

    # ------------------------------------------------------------ alarm fatigue

    def count_today(self, what: str, add: int = 1) -> int:
        """Add to today's count of ``what`` (``false_alarms``, ``emergencies``); returns the new count."""
        key = f"{what}:{self.clock.now().date().isoformat()}"
        count = int(self.store.get(key) or 0) + add
        if add:
            self.store.put(key, str(count))
        return count

    def counted_on(self, what: str, day: dt.date) -> int:
        return int(self.store.get(f"{what}:{day.isoformat()}") or 0)

    def _daily_summary(self, now: dt.datetime) -> list[object]:
        """tick(): once a day, yesterday's emergencies and false alarms (cancelled ones) go to the
        practice, so alarm fatigue is visible there too. Counts only: nothing about health."""
        yesterday = now.date() - dt.timedelta(days=1)
        last = self.store.get("daily_summary_sent")
        if last == yesterday.isoformat():
            return []
        self.store.put("daily_summary_sent", yesterday.isoformat())
        if last is None:  # a new speaker: counting starts today
            return []
        slots = {
            "date": yesterday.isoformat(),
            "emergencies": self.counted_on("emergencies", yesterday),
            "false_alarms": self.counted_on("false_alarms", yesterday),
        }
        if not self.routes.backend:
            return []
        return [self._send(DAILY_SUMMARY, slots)]

    def _emergency_due(self) -> list[object]:
        """tick(): send when the window has closed."""
        if self._emergency_deadline is not None and self.clock.monotonic() >= self._emergency_deadline:
            return self._send_emergency()
        return []

    def _start_emergency(self, u: Understanding) -> list[object]:
        if self._state is State.EMERGENCY_CANCEL_WINDOW:
            return self._send_emergency()  # asked again: don't wait for the window
        self._to_idle()
        keep = self._intent_slots(EMERGENCY_INTENT, u.intent)
        self._emergency_slots = {k: v for k, v in u.slots.items() if k in keep}
        window = min(max(self.settings.dialogue.emergency_cancel_s, 0.0), MAX_EMERGENCY_CANCEL_S)
        _LOGGER.info("event=emergency_started window_s=%.1f", window)
        if window <= 0:
            return self._send_emergency()
        self._state = State.EMERGENCY_CANCEL_WINDOW
        self._emergency_deadline = self.clock.monotonic() + window
        say = self._respond(EMERGENCY_INTENT, "confirm", "emergency_cancel_window", self._emergency_slots)
        return [act.PlayEarcon("error"), say, act.ExpectAnswer(window)]

    def _send_emergency(self) -> list[object]:
        slots = dict(self._emergency_slots)
        self._emergency_deadline = None
        self._to_idle()
        self.count_today("emergencies")
        req = self._send(EMERGENCY_INTENT, slots, tier=TIER_EMERGENCY, call_back_by_phone=True)
        return self._start_ladder(req, slots)
