"""The routes at run time: which are really there, which are down, and what is said at start-up.

The daemon builds one :class:`RouteWatch` from its components (is there a relay, a modem driver?).
It gives the dialogue the :class:`~assistant.conversation.routes.RoutePlan` of what is really
there, probes the modem in the background (every :data:`PROBE_EVERY_S`; a modem in a call counts
as present), and tells ``jiayi status`` in plain words which route is down. At start-up it speaks
the caregiver's alarm-only opt-out when no route reaches a person, and resumes emergencies the
backend had not acknowledged before a restart (``kill -9``, power cut).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Final

from assistant.conversation import actions as act
from assistant.conversation.routes import RoutePlan
from assistant.ops.settings import Settings

_LOGGER = logging.getLogger(__name__)

PROBE_EVERY_S: Final = 300.0
"""How often the modem is asked ``AT`` while idle (a dead modem shows in status within this)."""
FIRST_PROBE_AFTER_S: Final = 2.0


class RouteWatch:
    """What the daemon knows about its emergency routes (thread-safe reads for the status)."""

    def __init__(self, settings: Settings, relay: Any, phone: Any) -> None:
        self.settings = settings
        self._relay = relay
        self._phone = phone
        from assistant.conversation.phone import LogDriver, NullDriver

        # A phone that can ring someone: not the log or null driver (a test may hand in its own).
        real = phone is not None and not isinstance(phone, LogDriver | NullDriver)
        self._modem = real and settings.phone_fallback.enabled
        self.plan = RoutePlan.from_settings(settings, backend=relay is not None, phone=self._modem)
        self._modem_ok: bool | None = None
        self._stop = threading.Event()

    # ------------------------------------------------------------ start-up

    def startup(self, resume: Callable[[str], list[object]], say: Callable[[str], object]) -> list[object]:
        """What happens at start: the opt-out spoken, unacknowledged emergencies resumed."""
        out: list[object] = []
        if not self.plan.reaches_person:
            _LOGGER.warning(
                "event=no_emergency_route accepted=%s (an emergency only sounds the alarm here)",
                self.plan.alarm_only_accepted,
            )
            out.append(say("alarm_only_startup"))
        pending = getattr(self._relay, "pending_emergencies", None)
        for request_id in pending() if pending is not None else ():
            _LOGGER.warning("event=emergency_resumed id=%s", request_id)
            out += resume(request_id)
        return out

    # ------------------------------------------------------------ modem probe (own thread)

    def run_probe(self) -> None:
        """Ask the modem ``AT`` now and then (returns at once when there is no modem route)."""
        probe = getattr(self._phone, "probe", None)
        if not self._modem or probe is None:
            return
        wait = FIRST_PROBE_AFTER_S
        while not self._stop.wait(wait):
            ok = bool(probe())
            if ok != self._modem_ok:
                _LOGGER.log(logging.INFO if ok else logging.WARNING, "event=modem_probe ok=%s", ok)
            self._modem_ok = ok
            wait = PROBE_EVERY_S

    def stop(self) -> None:
        self._stop.set()

    # ------------------------------------------------------------ status

    def down(self, relay_status: Any) -> list[str]:
        """Plain reasons, one per route that is down right now (empty = all routes are up).

        The caregiver's alarm-only opt-out is not "down": it is shown with the routes instead."""
        reasons = []
        if relay_status is not None and not relay_status.connected:
            reasons.append(
                "the practice cannot be reached (" + (relay_status.last_error or "connecting") + ")"
            )
        if self._modem and self._modem_ok is False:
            reasons.append(f"the phone modem on {self.settings.phone_fallback.serial_port} does not answer")
        return reasons

    def error_code(self, down: tuple[str, ...]) -> str:
        """The status error code for routes that are down ("" when all are up)."""
        return "route_down" if down else ""

    def status_fields(self, dialogue: Any) -> dict[str, Any]:
        """The emergency part of ``jiayi status`` (the routes, the alarm, today's false alarms)."""
        return {
            "emergency_routes": self.plan.describe()
            + ("" if self.plan.reaches_person else " only: nobody is called (accepted in the config)"),
            "alarm_sounding": dialogue.alarm_sounding,
            "false_alarms_today": dialogue.count_today("false_alarms", add=0),
        }


def place_call_in_thread(phone: Any, call: act.PhoneCall) -> act.PhoneResult:
    """Carry out a :class:`PhoneCall` on the phone worker thread; never raises."""
    if phone is None:
        _LOGGER.warning("event=phone_unavailable reason=%s contacts=%d", call.reason, len(call.contacts))
        return act.PhoneResult("failed", request_id=call.request_id)
    from assistant.conversation.phone import place_phone_call

    try:
        return place_phone_call(phone, call)
    except Exception:  # a broken modem must never take the daemon down
        _LOGGER.exception("event=phone_failed")
        return act.PhoneResult("failed", request_id=call.request_id)
