"""The relay's numbers, states and status: product timings, and what ``status()`` reports.

Tests and benchmarks shorten the timings with :class:`RelayTuning`; the defaults are the product
values. Emergencies have their own short, fixed schedule (:data:`URGENT_RETRY_S`,
:data:`URGENT_RESEND_S`): while one is not acknowledged the relay reconnects and resends every
second or two instead of backing off towards a minute.
"""

from __future__ import annotations

import enum
import ssl
from dataclasses import dataclass, field
from typing import Final

DEADLINE_EMERGENCY_S: Final = 20.0
DEADLINE_CONFIRM_S: Final = 120.0
DEADLINE_PLAIN_S: Final = 600.0
DELIVERY_DEADLINE_S: Final = {
    "emergency": DEADLINE_EMERGENCY_S,
    "confirm": DEADLINE_CONFIRM_S,
    "plain": DEADLINE_PLAIN_S,
}
RESEND_AFTER_S: Final = 5.0
"""Publish again anything not acknowledged by the backend after this long."""
URGENT_RESEND_S: Final = 1.0
"""An emergency not acknowledged by the backend is published again after this long."""
URGENT_RETRY_S: Final = 1.0
"""While an emergency is pending, a lost connection is retried on this fixed schedule (no backoff)."""
URGENT_CONNECT_TIMEOUT_S: Final = 4.0
"""While an emergency is pending, a broker that accepted TCP but sends no CONNACK is left this soon."""
MAX_IN_FLIGHT: Final = 100
BACKOFF_MIN_S: Final = 0.5
BACKOFF_MAX_S: Final = 60.0
KEEPALIVE_S: Final = 30
SESSION_EXPIRY_S: Final = 24 * 3600
WILL_DELAY_S: Final = 10
CONNECT_TIMEOUT_S: Final = 10.0


class RelayState(enum.Enum):
    STOPPED = "stopped"
    CONNECTING = "connecting"
    SUBSCRIBING = "subscribing"
    ONLINE = "online"
    BACKING_OFF = "backing_off"
    STOPPING = "stopping"


@dataclass(frozen=True)
class RelayStatus:
    state: str
    """Name of the :class:`RelayState`."""
    connected: bool
    outbox_depth: int
    oldest_pending_age_s: float | None
    last_error: str
    """Plain text of the last connection problem ("" when none)."""
    callback_errors: int = 0
    dropped_events: int = 0
    rejected_messages: int = 0
    """Messages from the wire that were refused (malformed, forged acks, unknown sentences, ...)."""
    duplicate_acks: int = 0
    published: int = 0
    connects: int = 0


@dataclass(frozen=True)
class RelayTuning:
    """Timings and bounds (tests and benchmarks shorten them; the defaults are the product values)."""

    deadlines_s: dict[str, float] = field(default_factory=lambda: dict(DELIVERY_DEADLINE_S))
    resend_after_s: float = RESEND_AFTER_S
    urgent_resend_s: float = URGENT_RESEND_S
    urgent_retry_s: float = URGENT_RETRY_S
    urgent_connect_timeout_s: float = URGENT_CONNECT_TIMEOUT_S
    max_in_flight: int = MAX_IN_FLIGHT
    backoff_min_s: float = BACKOFF_MIN_S
    backoff_max_s: float = BACKOFF_MAX_S
    keepalive_s: int = KEEPALIVE_S
    session_expiry_s: int = SESSION_EXPIRY_S
    will_delay_s: int = WILL_DELAY_S
    connect_timeout_s: float = CONNECT_TIMEOUT_S
    outbox_max_rows: int | None = None
    outbox_synchronous: str = "FULL"


def plain_error(err: BaseException) -> str:
    """A connection problem in words a technician reads in ``jiayi status``."""
    if isinstance(err, ssl.SSLCertVerificationError):
        return f"TLS certificate problem: {err.verify_message or err}"
    if isinstance(err, ssl.SSLError):
        return f"TLS problem: {err.reason or err}"
    if isinstance(err, ConnectionRefusedError):
        return "broker refused the TCP connection (not running?)"
    if isinstance(err, OSError):
        return f"network problem: {err.strerror or err}"
    return str(err) or type(err).__name__
