"""Routes: how an emergency reaches a person, in order, and what is true at each moment.

The ordered route (the "ladder") for an emergency::

    1. the practice's backend over MQTT  (reached = its application ack)
    2. the phone: the modem rings the emergency contacts in order   (reached = someone answered)
    3. the phone: a text message to each of them                    (reached = the modem confirmed)
    4. the room: she is told plainly that nobody was reached and to call the local emergency
       number (dialled by the modem only when the caregiver turned that on), and a loud alarm
       repeats until she says stop

:class:`RoutePlan` says which routes this speaker has (from the config, and at run time from what
is actually there); :func:`missing_route` is what ``check-config`` reports when an emergency
would reach nobody. :class:`EmergencyLadder` is one emergency's position on the ladder: pure
state, driven by the dialogue (:mod:`assistant.conversation.delivery`) with the events that
actually happened (an ack, a late delivery, a phone result), so every sentence she hears about
delivery follows an event. The full matrix of what happens when is in docs/routes.md.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import Final

from assistant.ops.settings import Settings

_LOGGER = logging.getLogger(__name__)

ALARM_REPEAT_S: Final = 20.0
"""The room alarm (loudest volume, alarm sound, what to do) repeats this often until she says stop."""
REACHED_STATUSES: Final = frozenset({"received", "in_progress", "done"})
"""Ack statuses that mean the practice has the alert."""
FAILED_STATUSES: Final = frozenset({"nobody_answered", "rejected"})
"""Ack statuses that mean the practice has it but nobody there will act: the ladder goes on."""


class Step(enum.StrEnum):
    NONE = "none"
    """This speaker has no such route."""
    WAITING = "waiting"
    """Not started yet (a route before it is still trying)."""
    TRYING = "trying"
    LATE = "late"
    """The backend did not acknowledge in time; it keeps trying in the background."""
    REACHED = "reached"
    FAILED = "failed"


class Next(enum.StrEnum):
    """What the dialogue must do after an event (it words it and logs the evidence)."""

    NOTHING = "nothing"
    SENDING = "sending"
    """A route is trying: she may hear "I'm sending"."""
    CALL = "call"
    """Start the phone route (ring the emergency contacts, then text them)."""
    DELIVERED = "delivered"
    """A person has it (application ack, answered call or confirmed SMS): "they have it"."""
    ALL_FAILED = "all_failed"
    """Every route has failed: tell her what to do, sound the alarm."""


@dataclass(frozen=True)
class RoutePlan:
    """The routes this speaker has for an emergency, in ladder order."""

    backend: bool
    """A practice backend is configured (and, at run time, a relay is running)."""
    phone: bool
    """A modem can ring someone (driver ``modem`` and at least one emergency contact with a number)."""
    contacts: tuple[tuple[str, str], ...] = ()
    """(name, number) the phone route rings and texts, in order."""
    local_number: str = ""
    dial_local_number: bool = False
    alarm_only_accepted: bool = False

    @classmethod
    def from_settings(
        cls, settings: Settings, backend: bool | None = None, phone: bool | None = None
    ) -> RoutePlan:
        """The plan the config promises; ``backend``/``phone`` override with what is there at run time."""
        p = settings.phone_fallback
        contacts = tuple((c.name, c.phone) for c in settings.emergency_contacts() if c.phone)
        modem = p.enabled and p.driver == "modem"
        e = settings.emergency
        return cls(
            backend=bool(settings.backend.url) if backend is None else backend,
            phone=(modem and bool(contacts)) if phone is None else (phone and bool(contacts)),
            contacts=contacts,
            local_number=e.local_number,
            dial_local_number=e.dial_local_number and modem,
            alarm_only_accepted=e.accept_alarm_only,
        )

    @property
    def reaches_person(self) -> bool:
        return self.backend or self.phone

    def describe(self) -> str:
        """The ladder in plain words, e.g. "the practice → phone calls → text messages → alarm in the room"."""
        parts = []
        if self.backend:
            parts.append("the practice")
        if self.phone:
            parts += ["phone calls", "text messages"]
        parts.append("alarm in the room")
        return " → ".join(parts)


def missing_route(settings: Settings) -> tuple[str, str] | None:
    """(problem, fix) when an emergency would reach nobody and the caregiver has not accepted that."""
    plan = RoutePlan.from_settings(settings)
    if plan.reaches_person or plan.alarm_only_accepted:
        return None
    p = settings.phone_fallback
    if p.enabled and p.driver == "modem":
        phone = "the modem has nobody to call (no contact with a phone number)"
    else:
        phone = f"the phone fallback cannot call anyone (driver: {p.driver if p.enabled else 'off'})"
    return (
        f"an emergency would reach nobody: there is no backend.url and {phone}",
        "set backend.url to the practice's broker, or phone_fallback.driver: modem with an emergency "
        "contact's phone, or write emergency: accept_alarm_only: true to accept that an emergency only "
        "sounds the alarm in the room",
    )


@dataclass
class EmergencyLadder:
    """One emergency's position on the ladder (see the module docstring). Pure: no I/O, no clock."""

    request_id: str
    plan: RoutePlan
    backend: Step = Step.NONE
    phone: Step = Step.NONE
    delivered_by: str = ""
    """``backend``, ``phone`` or ``sms`` once a person has it."""
    all_failed: bool = False
    history: list[str] = field(default_factory=list)
    """Events in order (``start``, ``ack:received``, ``late``, ``phone:failed`` …), for the log and tests."""

    def start(self) -> Next:
        self.history.append("start")
        self.backend = Step.TRYING if self.plan.backend else Step.NONE
        self.phone = Step.WAITING if self.plan.phone else Step.NONE
        if self.backend is Step.TRYING:
            return Next.SENDING
        return self._next_route()

    def on_ack(self, status: str) -> Next:
        self.history.append(f"ack:{status}")
        if status in REACHED_STATUSES:
            first = self.backend is not Step.REACHED
            self.backend = Step.REACHED
            return self._delivered("backend") if first else Next.NOTHING
        if status in FAILED_STATUSES:
            # Stored, but nobody at the practice will act: it does not count as reached.
            self.backend = Step.FAILED
            if self.delivered_by == "backend":
                self.delivered_by = ""
            return self._next_route()
        return Next.NOTHING

    def on_late(self) -> Next:
        """The backend missed the emergency deadline (it keeps trying: a later ack still counts)."""
        self.history.append("late")
        if self.backend is Step.TRYING:
            self.backend = Step.LATE
            return self._next_route()
        return Next.NOTHING

    def on_phone(self, answered: bool, texted: bool) -> Next:
        self.history.append("phone:answered" if answered else ("phone:texted" if texted else "phone:failed"))
        if answered or texted:
            self.phone = Step.REACHED
            return self._delivered("phone" if answered else "sms")
        self.phone = Step.FAILED
        return self._next_route()

    def _next_route(self) -> Next:
        if self.delivered_by:
            return Next.NOTHING
        if self.phone is Step.WAITING:
            self.phone = Step.TRYING
            return Next.CALL
        if self.phone is Step.TRYING or self.backend is Step.TRYING:
            return Next.NOTHING  # a route is still trying
        if self.all_failed:
            return Next.NOTHING
        self.all_failed = True
        return Next.ALL_FAILED

    def _delivered(self, how: str) -> Next:
        if self.delivered_by:
            return Next.NOTHING
        self.delivered_by = how
        return Next.DELIVERED

    @property
    def trying(self) -> bool:
        return Step.TRYING in (self.backend, self.phone) or self.backend is Step.LATE
