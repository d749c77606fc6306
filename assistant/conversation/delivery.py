"""What the dialogue says and does about delivery: backend acknowledgements, late delivery, the phone fallback.

Inputs are the daemon's events (:class:`~assistant.conversation.actions.BackendAck`,
:class:`~assistant.conversation.actions.DeliveryLate`,
:class:`~assistant.conversation.actions.PhoneResult`); outputs are what she hears and the
:class:`~assistant.conversation.actions.PhoneCall` the daemon dials. Whom the phone fallback rings
depends on the request type (the protocol's ids): the contact asked for, the doctor, or the
emergency contacts in order. See docs/dialogue.md and docs/phone.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Final

from assistant.conversation import actions as act
from assistant.conversation.dialogue_base import DialogueBase, Pending, State
from assistant.ops.settings import Contact
from assistant.understanding.result import TIER_EMERGENCY, Understanding

_LOGGER = logging.getLogger(__name__)

CALL_BACK_BY_PHONE: Final = frozenset({"call_doctor", "call_contact", "book_appointment"})
"""Request types whose answer is a phone call back (``call_back_by_phone`` in the request)."""


class DeliveryEvents(DialogueBase):
    """Backend and phone events, and the phone fallback offer."""

    # ------------------------------------------------------------ phone targets

    def _doctor_line(self) -> tuple[tuple[str, str], ...]:
        doc = self.settings.doctor
        return ((doc.name, doc.phone),) if doc.phone else ()

    def _contact_lines(self, contacts: Iterable[Contact]) -> tuple[tuple[str, str], ...]:
        return tuple((c.name, c.phone) for c in contacts if c.phone)

    def _phone_targets(self, pending: Pending | None) -> tuple[tuple[str, str], ...]:
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

    # ------------------------------------------------------------ the phone offer

    def _offer_phone(self, key: str, pending: Pending | None) -> list[object]:
        lines = self._phone_targets(pending)
        if not lines or not self.settings.phone_fallback.enabled:
            self._to_idle()
            return [self._say("phone_unavailable")]
        self._pending = pending
        self._phone_offer = lines
        self._tries = 0
        return self._ask([self._say(key, contact=lines[0][0])], State.AWAITING_PHONE_OFFER)

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
            if self._out_of_tries():
                self._to_idle()
                return [self._say("still_here")]
            says = [
                self._say("confirm_yes_no"),
                self._say("phone_fallback_offer", contact=self._phone_offer[0][0]),
            ]
            return self._ask(says, State.AWAITING_PHONE_OFFER)
        return self._idle_intent(u)

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
