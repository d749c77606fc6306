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
from assistant.conversation.routes import ALARM_REPEAT_S, EmergencyLadder, Next, Step
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
        ladder = self._ladders.get(ack.request_id)
        if ladder is not None:
            nxt = ladder.on_ack(ack.status)
            heard = self._say_text(ack.text, "ack") if nxt is not Next.DELIVERED else []
            return heard + self._climb(ladder, nxt, basis=f"ack:{ack.status}", ack_text=ack.text)
        req = self._sent.get(ack.request_id)
        out: list[object] = []
        if req is not None and req.request_type == "daily_summary":
            return []  # the nightly counts: nothing to tell her
        if req is not None and req.request_type == "book_appointment" and ack.text:
            self.store.put("appointment", ack.text)
        if ack.text:
            out += self._say_text(ack.text, "ack")
        elif ack.status == "rejected":
            out.append(self._say("request_rejected"))
        if ack.status == "nobody_answered" and req is None:
            # An emergency from before a restart (acknowledged, then the daemon restarted): its
            # ladder goes on from the backend's answer.
            ladder = self._resume_ladder(ack.request_id)
            return [*out, *self._climb(ladder, ladder.on_ack(ack.status), basis="ack:nobody_answered")]
        return out

    def _on_late(self, late: act.DeliveryLate) -> list[object]:
        ladder = self._ladders.get(late.request_id)
        if ladder is not None:
            return self._climb(ladder, ladder.on_late(), basis="late")
        if late.tier == TIER_EMERGENCY or late.request_type == "emergency":
            ladder = self._resume_ladder(late.request_id)
            return self._climb(ladder, ladder.on_late(), basis="late")
        out: list[object] = [self._say("offline_saved")]
        if late.request_type == "call_doctor":
            out += self._phone_call("call_doctor", self._doctor_line())
        return out

    def _on_phone_result(self, result: act.PhoneResult) -> list[object]:
        ladder = self._ladders.get(result.request_id)
        if ladder is not None:
            answered = result.outcome == "answered"
            basis = "phone:answered" if answered else ("sms:confirmed" if result.sms_sent else "phone:failed")
            nxt = ladder.on_phone(answered, bool(result.sms_sent))
            return self._climb(ladder, nxt, basis=basis, contact=result.name, texted=result.sms_sent)
        if result.outcome == "answered":
            return [self._say("phone_answered", contact=result.name)]
        return [self._say("phone_nobody_answered")]

    # ------------------------------------------------------------ the emergency ladder (routes.py)

    def _start_ladder(self, req: act.SendRequest, slots: dict[str, str]) -> list[object]:
        """The emergency leaves the cancel window: start its ladder; what she hears follows it."""
        ladder = EmergencyLadder(req.request_id, self.routes)
        self._ladders[req.request_id] = ladder
        nxt = ladder.start()
        out: list[object] = [req] if self.routes.backend else []
        return out + self._climb(ladder, nxt, basis="start", slots=slots)

    def _resume_ladder(self, request_id: str) -> EmergencyLadder:
        """An emergency still in the outbox from before a restart (its backend route is trying)."""
        ladder = self._ladders.get(request_id)
        if ladder is None:
            ladder = EmergencyLadder(request_id, self.routes)
            ladder.start()
            self._ladders[request_id] = ladder
        return ladder

    def resume_emergency(self, request_id: str) -> list[object]:
        """At start-up: an emergency the backend has not acknowledged yet (kill -9, power cut)."""
        if request_id in self._ladders:
            return []
        self._resume_ladder(request_id)
        self._claim("sending", "resumed", request_id)
        return [self._say("emergency_resumed")]

    def _climb(
        self,
        ladder: EmergencyLadder,
        nxt: Next,
        *,
        basis: str,
        slots: dict[str, str] | None = None,
        ack_text: str = "",
        contact: str = "",
        texted: tuple[str, ...] = (),
    ) -> list[object]:
        """What she hears and what is done for one step of the ladder. Every sentence about delivery
        is logged as ``event=delivery_claim`` with the event it rests on (``basis``)."""
        rid = ladder.request_id
        _LOGGER.info("event=emergency_route id=%s step=%s next=%s %s", rid, basis, nxt, ladder.history[-1])
        if nxt is Next.SENDING:
            self._claim("sending", basis, rid)
            return [self._respond("emergency", "done", "emergency_sending", slots or {})]
        if nxt is Next.CALL:
            first = ladder.plan.contacts[0][0]
            self._claim("sending", f"{basis}>phone", rid)
            key = "emergency_calling" if ladder.backend is Step.NONE else "emergency_trying_phone"
            sms = self.prompts.text("emergency_sms", **self._fields())
            return [self._say(key, contact=first), act.PhoneCall("emergency", ladder.plan.contacts, sms, rid)]
        if nxt is Next.DELIVERED:
            self._claim("delivered", basis, rid)
            out = self._alarm_off() if self._alarm_next is not None else []
            if ladder.delivered_by == "backend":
                say = self._say_text(ack_text, "emergency.delivered") or [self._say("emergency_delivered")]
                return out + say
            if ladder.delivered_by == "phone":
                return [*out, self._say("phone_answered", contact=contact)]
            joined = self.prompts.text("and_joiner").join(texted)
            return [*out, self._say("emergency_texted", contact=joined)]
        if nxt is Next.ALL_FAILED:
            return self._all_routes_failed(ladder, basis)
        return []

    def _all_routes_failed(self, ladder: EmergencyLadder, basis: str) -> list[object]:
        plan = ladder.plan
        self._claim("nobody_reached", basis, ladder.request_id)
        number = plan.local_number
        if number:
            out: list[object] = [self._say("emergency_all_failed", number=number)]
        else:
            out = [self._say("emergency_all_failed_no_number")]
        if plan.dial_local_number and number:
            _LOGGER.warning("event=dialling_local_emergency_number id=%s", ladder.request_id)
            out += [
                self._say("emergency_dialling_local", number=number),
                act.PhoneCall("local_emergency", ((number, number),), "", ""),
            ]
        self._alarm_next = self.clock.monotonic()  # the alarm starts at the next tick
        return out

    def _alarm_tick(self) -> list[object]:
        """tick(): the room alarm repeats, loudest, until she says stop."""
        if self._alarm_next is None or self.clock.monotonic() < self._alarm_next:
            return []
        self._alarm_next = self.clock.monotonic() + ALARM_REPEAT_S
        number = self.routes.local_number
        say = self._say("alarm_repeat", number=number) if number else self._say("alarm_repeat_no_number")
        _LOGGER.warning("event=alarm_sounding")
        return [act.SetVolume(1.0), act.PlayEarcon("error"), act.PlayEarcon("error"), say]

    def _alarm_off(self) -> list[object]:
        self._alarm_next = None
        _LOGGER.info("event=alarm_stopped")
        return [self._say("alarm_stopped")]

    def say_prompt(self, key: str) -> act.Say:
        """A prompt on its own (the daemon's start-up notices)."""
        return self._say(key, remember=False)

    def carry_over(self, old: DeliveryEvents) -> None:
        """A config reload builds a new dialogue: emergencies on their routes and the alarm go on."""
        self._ladders.update(old._ladders)
        self._sent.update(old._sent)
        self._alarm_next = old._alarm_next

    @property
    def alarm_sounding(self) -> bool:
        return self._alarm_next is not None

    def _claim(self, claim: str, basis: str, request_id: str) -> None:
        _LOGGER.info("event=delivery_claim claim=%s basis=%s id=%s", claim, basis, request_id)
