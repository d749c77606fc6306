"""The seams: one small interface per stage, as the daemon (and tests that stand in for a stage) see it.

==================  ==========================================  =============================================
seam                the product's implementation                what the daemon uses it for
==================  ==========================================  =============================================
``Understander``    :class:`assistant.understanding.matcher.IntentMatcher`  text → :class:`Understanding`
``Hearing``         :class:`assistant.hearing.listener.Listener`            audio → transcripts on the event queue
``Conversation``    :class:`assistant.conversation.dialogue.Dialogue`       inputs → actions, ticks
``Voice``           :class:`assistant.conversation.voice.Speaker`           speech and earcons out loud
``Link``            :class:`assistant.link.relay.Relay`                     requests to the backend over MQTT
``PhoneDriver``     :mod:`assistant.conversation.phone` drivers             the phone fallback (AT modem)
``Notifier``        :class:`assistant.ops.watchdog.SystemdNotifier`         systemd READY / WATCHDOG / STATUS
==================  ==========================================  =============================================

:class:`Components` is how a test hands the daemon its own stand-in for a stage (``None`` = build
the real one). Every seam is a :class:`typing.Protocol`: nothing has to inherit from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from assistant.conversation.phone import PhoneDriver
from assistant.ops.watchdog import Notifier
from assistant.pipeline import Understander

if TYPE_CHECKING:
    from assistant.conversation.actions import Say, SendRequest
    from assistant.conversation.care_store import CareStore
    from assistant.conversation.playback import AudioSink
    from assistant.conversation.reminders import ReminderSchedule
    from assistant.conversation.routes import RoutePlan
    from assistant.hearing.recognizer import Recognizer
    from assistant.hearing.sources import AudioSource
    from assistant.link.relay import RelayStatus


class Hearing(Protocol):
    """The listening stage on its own thread: puts wake/utterance/error events on the queue."""

    source: AudioSource
    recognizer: Recognizer

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def set_muted(self, muted: bool) -> None:
        """Ignore audio while the assistant itself is speaking."""

    def expect_answer(self, timeout_s: float) -> None:
        """Listen without the wake phrase for ``timeout_s`` (an answer to a question)."""


class Conversation(Protocol):
    """The dialogue: one input → the actions to run; time-based work on :meth:`tick`."""

    store: CareStore
    reminders: ReminderSchedule

    @property
    def state(self) -> str: ...

    def handle(self, event: object) -> list[object]: ...

    def tick(self) -> list[object]: ...

    def greeting(self) -> list[object]: ...

    def apply_schedule_update(self, medication: str, times: Iterable[dt.time | str]) -> None: ...

    routes: RoutePlan
    """The emergency routes that are really there (set by the daemon)."""

    @property
    def alarm_sounding(self) -> bool: ...

    def resume_emergency(self, request_id: str) -> list[object]:
        """An emergency still unacknowledged from before a restart."""

    def say_prompt(self, key: str) -> Say: ...

    def carry_over(self, old: Any) -> None:
        """Take over emergencies on their routes and the alarm from the dialogue a reload replaces."""

    def count_today(self, what: str, add: int = 1) -> int: ...


class Voice(Protocol):
    """Speech output: blocks until the sentence or earcon has been played."""

    def say(self, say: Say) -> object: ...

    def play_earcon(self, name: str) -> bool: ...

    def set_volume(self, delta: float) -> float: ...

    def close(self) -> None: ...


class Link(Protocol):
    """The backend link: durable outbox, acknowledgements and status come back as events."""

    def start(self) -> None: ...

    def stop(self, timeout_s: float = ...) -> None: ...

    def submit(self, req: SendRequest) -> None: ...

    def status(self) -> RelayStatus: ...

    def publish_status(self, extra: dict[str, Any]) -> None: ...


@dataclass
class Components:
    """Stand-ins for stages (tests, hardware we lack); ``None`` builds the product's own."""

    matcher: Understander | None = None
    listener: Hearing | None = None
    speaker: Voice | None = None
    sink: AudioSink | None = None
    """Where the product's speaker plays (when ``speaker`` is not given)."""
    relay: Link | None = None
    phone: PhoneDriver | None = None
    notifier: Notifier | None = None


__all__ = [
    "Components",
    "Conversation",
    "Hearing",
    "Link",
    "Notifier",
    "PhoneDriver",
    "Understander",
    "Voice",
]
