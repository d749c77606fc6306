"""The dialogue's shared state and helpers: what every flow of :class:`~assistant.conversation.dialogue.Dialogue` uses.

The dialogue is one object for one person, split by flow into small classes that all build on
:class:`DialogueBase` (state, speech and request helpers, the catalog's per-intent behaviour):
:mod:`~assistant.conversation.emergency` (cancel window, repeated help),
:mod:`~assistant.conversation.delivery` (acknowledgements, late delivery, phone fallback),
:mod:`~assistant.conversation.care_flows` (reminders, supply, check-in, "what did I send") and
:mod:`~assistant.conversation.dialogue` (the state machine that routes each input).

Behaviour that belongs to the command domain (risk tier, read-back before acting, help words)
comes from the catalog (:class:`~assistant.understanding.catalog.Catalog`); the code names only
the stable intent ids of the protocol.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from assistant.conversation import actions as act
from assistant.conversation.care_store import CareStore, CheckInSchedule, InactivityWatch, SupplyCounter
from assistant.conversation.prompts import Prompts, load_prompts_for
from assistant.conversation.reminders import DueReminder, ReminderSchedule
from assistant.conversation.routes import EmergencyLadder, RoutePlan
from assistant.ops.clock import Clock, SystemClock
from assistant.ops.settings import Settings
from assistant.understanding.catalog import Catalog
from assistant.understanding.catalog_files import load_catalog_for
from assistant.understanding.result import TIER_PLAIN, Understanding

_LOGGER = logging.getLogger(__name__)

PLACEHOLDER_SLOTS: Final = ("contact", "medication", "danger")
"""Slots spoken back as they are (``symptom`` is spoken by its display name)."""


class State(enum.StrEnum):
    IDLE = "idle"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    AWAITING_PHONE_OFFER = "awaiting_phone_offer"
    EMERGENCY_CANCEL_WINDOW = "emergency_cancel_window"
    AWAITING_REMINDER_ANSWER = "awaiting_reminder_answer"
    AWAITING_CHECKIN_ANSWER = "awaiting_checkin_answer"
    AWAITING_URGENT_ANSWER = "awaiting_urgent_answer"


@dataclass(frozen=True)
class Pending:
    """A request waiting for yes/no."""

    intent: str
    slots: dict[str, str]
    understanding: Understanding | None = None
    heard_check: bool = False
    """The question is "Did you say …?" (heard unsure), not the catalog's read-back."""


class DialogueBase:
    """State and helpers shared by the dialogue's flows. Not thread-safe: the daemon's loop owns it."""

    def __init__(
        self,
        settings: Settings,
        matcher: Any = None,
        clock: Clock | None = None,
        lang: str | None = None,
        state: CareStore | None = None,
        prompts: Prompts | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self.settings = settings
        self.matcher = matcher
        self.clock = clock or SystemClock()
        self.lang = lang or settings.language
        self.catalog: Catalog = (
            catalog or getattr(matcher, "catalog", None) or load_catalog_for(settings, self.lang)
        )
        self.store = state if state is not None else CareStore.in_state_dir(settings)
        self.prompts = prompts or load_prompts_for(settings, self.lang, self.catalog)
        self.reminders = ReminderSchedule(settings, self.store)
        self.supply = SupplyCounter(settings, self.store)
        self.checkin = CheckInSchedule(settings, self.store)
        self.inactivity = InactivityWatch(settings, self.store, self.clock.now())
        self._state = State.IDLE
        self._pending: Pending | None = None
        self._phone_offer: tuple[tuple[str, str], ...] = ()
        self._tries = 0
        self._misunderstood = 0
        self._last_prompt: list[act.Say] = []
        self._emergency_deadline: float | None = None
        self._emergency_slots: dict[str, str] = {}
        self._help_at: float | None = None
        self._reminder: DueReminder | None = None
        self._checkin_asks = 0
        self._urgent_asks = 0
        self._urgent_deadline: float | None = None
        self._urgent_from_checkin = False
        self._urgent_prompt = "urgent_check"
        """The question waiting in ``awaiting_urgent_answer``: ``urgent_check`` or ``spot_check``."""
        self._sent: dict[str, act.SendRequest] = {}
        self.routes: RoutePlan = RoutePlan.from_settings(settings)
        """The routes an emergency has (the daemon replaces it with what is really there)."""
        self._ladders: dict[str, EmergencyLadder] = {}
        self._alarm_next: float | None = None
        """While the room alarm sounds: when it repeats next (monotonic); None = off."""

    @property
    def state(self) -> State:
        return self._state

    # ------------------------------------------------------------ the catalog's behaviour

    def _tier(self, u: Understanding) -> str:
        """The utterance's risk tier: the matcher's, else the catalog's."""
        return u.tier or self.catalog.tier(u.intent)

    def _intent_slots(self, *intents: str | None) -> frozenset[str]:
        """Slot names the catalog declares for these intents."""
        return frozenset(
            s for i in intents if i in self.catalog.intents for s in self.catalog.intents[i].slots
        )

    # ------------------------------------------------------------ routing (the state machine's)

    def _idle_intent(self, u: Understanding) -> list[object]:
        """A new request, whatever was open (implemented by the dialogue's state machine)."""
        raise NotImplementedError

    def _not_understood(self, u: Understanding) -> list[object]:
        """Nothing understood (implemented by the dialogue's state machine)."""
        raise NotImplementedError

    def _start_request(self, intent: str, slots: dict[str, str], u: Understanding | None) -> list[object]:
        """A request read back or sent (implemented by the dialogue's state machine)."""
        raise NotImplementedError

    def _urgent_check(self, u: Understanding, from_checkin: bool = False) -> list[object]:
        """An urgent symptom: "Do you need help right now?" (implemented by the emergency flow)."""
        raise NotImplementedError

    def _checkin_symptom(self, u: Understanding) -> list[object]:
        """A symptom told as the check-in's answer (implemented by the care flows)."""
        raise NotImplementedError

    def _start_ladder(self, req: act.SendRequest, slots: dict[str, str]) -> list[object]:
        """An emergency leaves the device: its routes (implemented by the delivery flow)."""
        raise NotImplementedError

    # ------------------------------------------------------------ speech and fields

    def _fields(self, slots: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        slots = slots or {}
        fields: dict[str, Any] = {
            "person": self.settings.person.address_as,
            "doctor": self.settings.doctor.name,
        }
        fields.update({name: slots[name] for name in PLACEHOLDER_SLOTS if name in slots})
        if "symptom" in slots:
            fields["symptom"] = self.prompts.symptom_name(str(slots["symptom"]))
        fields.update(extra)
        return fields

    def _say(self, key: str, remember: bool = True, slow: bool = False, **fields: Any) -> act.Say:
        text = self.prompts.text(key, **self._fields(None, **fields))
        say = act.Say(text, prompt_id=key, lang=self.lang, slow=slow)
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

    def _respond(
        self, intent: str, key: str, fallback: str, slots: dict[str, Any] | None = None, **extra: Any
    ) -> act.Say:
        """The catalog's ``key`` response of ``intent``, else the prompt ``fallback`` (filled from ``extra``).

        Prompt ids (the names of recorded prompts) are ``<intent>`` for answers, else ``<intent>.<key>``.
        """
        text = self._response(intent, key, slots, **extra)
        if not text:
            return self._say(fallback, **extra)
        say = act.Say(text, intent if key == "answer" else f"{intent}.{key}", self.lang)
        self._last_prompt = [say]
        return say

    def _ask(self, says: list[act.Say], state: State) -> list[object]:
        self._state = state
        self._last_prompt = list(says)
        return [*says, act.ExpectAnswer(self.settings.dialogue.answer_timeout_s)]

    def _out_of_tries(self) -> bool:
        """Count one more failed answer; True once ``dialogue.max_tries`` is reached."""
        self._tries += 1
        return self._tries >= self.settings.dialogue.max_tries

    def _to_idle(self) -> None:
        self._state = State.IDLE
        self._pending = None
        self._phone_offer = ()
        self._tries = 0
        self._reminder = None
        self._checkin_asks = 0
        self._urgent_asks = 0
        self._urgent_deadline = None
        self._urgent_from_checkin = False
        self._urgent_prompt = "urgent_check"

    # ------------------------------------------------------------ requests

    def _send(
        self,
        request_type: str,
        slots: dict[str, Any],
        tier: str = TIER_PLAIN,
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


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order, each once."""
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)
