"""What the dialogue asks the daemon to do, and what the daemon tells the dialogue.

The dialogue manager is pure: it takes inputs (understood utterances, silence, clock ticks,
backend events) and returns a list of actions. The daemon (and ``jiayi chat``) executes them:
speech output, the MQTT relay, the phone fallback. This keeps every flow testable with an
injected clock and no hardware.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

# ---------------------------------------------------------------- dialogue -> daemon


@dataclass(frozen=True)
class Say:
    """Speak ``text``. ``prompt_id`` names a recorded prompt that replaces synthesis when present."""

    text: str
    prompt_id: str = ""
    lang: str = "en"
    slow: bool = False
    """Speak more slowly than the configured rate (the urgent-symptom question: every word must land)."""


@dataclass(frozen=True)
class PlayEarcon:
    """Play a short sound: ``wake``, ``listening``, ``done`` or ``error``."""

    name: str


@dataclass(frozen=True)
class ExpectAnswer:
    """Keep listening without the wake phrase for up to ``timeout_s`` (a question was asked)."""

    timeout_s: float


@dataclass(frozen=True)
class SendRequest:
    """Relay a request to the family-doctor backend (durably, exactly once at the backend)."""

    request_type: str
    """``call_doctor``, ``call_contact``, ``emergency``, ``reorder_medication``, ``medication_taken``,
    ``medication_missed``, ``report_symptom``, ``book_appointment``, ``check_in``, ``inactivity``."""
    slots: dict[str, Any] = field(default_factory=dict)
    tier: str = "plain"
    """Risk tier: ``emergency`` jumps the queue and has the shortest delivery deadline."""
    call_back_by_phone: bool = False
    """Ask the doctor team to call the person back on the phone (people without apps)."""
    context: dict[str, Any] = field(default_factory=dict)
    """Minimal context only (no audio, no transcript unless opted in)."""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    """Idempotency key; also correlates acknowledgements."""


@dataclass(frozen=True)
class PhoneCall:
    """Fall back to the phone: dial ``numbers`` in order until someone answers (or SMS)."""

    reason: str
    contacts: tuple[tuple[str, str], ...]
    """(name, phone number) in dialling order."""
    sms_text: str = ""
    """Texted to every contact when nobody answers (empty = no SMS)."""
    request_id: str = ""
    """The emergency this call is a route of (comes back in the :class:`PhoneResult`)."""


@dataclass(frozen=True)
class SetVolume:
    """Change output volume by ``delta`` (−1.0 … 1.0)."""

    delta: float


# ---------------------------------------------------------------- daemon -> dialogue


@dataclass(frozen=True)
class Silence:
    """Nothing was said within the answer window."""


@dataclass(frozen=True)
class BackendAck:
    """The backend stored a request; ``text`` is what to tell the person (may be empty)."""

    request_id: str
    status: str = "received"
    text: str = ""


@dataclass(frozen=True)
class DeliveryLate:
    """A request passed its tier's delivery deadline without an application ack."""

    request_id: str
    request_type: str
    tier: str


@dataclass(frozen=True)
class BackendSay:
    """The backend asked the device to speak a message."""

    text: str
    message_id: str = ""


@dataclass(frozen=True)
class PhoneResult:
    """Outcome of a :class:`PhoneCall`: ``answered`` by ``name``, or ``failed``."""

    outcome: str
    name: str = ""
    sms_sent: tuple[str, ...] = ()
    """Contacts whose text message the modem confirmed (``+CMGS``) after nobody answered."""
    request_id: str = ""
    """Copied from the :class:`PhoneCall`."""
