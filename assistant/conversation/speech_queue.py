"""Speech in order on its own thread, so the daemon's loop stays responsive while the assistant talks.

The listener is muted while the assistant speaks (it must not hear itself). An
:class:`~assistant.conversation.actions.ExpectAnswer` queued behind speech opens its answer window
(:class:`AnswerWindow` on the event queue) only when the speech before it has finished.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from assistant.conversation import actions as act

if TYPE_CHECKING:
    from assistant.seams import Hearing, Voice

_LOGGER = logging.getLogger(__name__)

SPEECH_QUEUE_MAX: Final = 64
"""Bounded speech queue; when full the newest request is dropped and counted."""
POLL_S: Final = 0.5
"""How often an idle worker checks that the queue is still empty (then unmutes the listener)."""


@dataclass(frozen=True)
class AnswerWindow:
    """Everything before an ExpectAnswer has been said: the answer window opens now."""

    timeout_s: float


class SpeechQueue:
    """Plays :class:`~assistant.conversation.actions.Say`, earcons and volume changes in order."""

    def __init__(
        self, speaker: Voice | None, listener: Hearing | None, put: Callable[[object], None]
    ) -> None:
        self._speaker = speaker
        self._listener = listener
        self._put = put
        self._queue: queue.Queue[object] = queue.Queue(SPEECH_QUEUE_MAX)
        self._idle = threading.Event()
        self._idle.set()
        self.dropped = 0
        self.failures = 0

    def submit(self, item: object) -> None:
        self._idle.clear()
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            _LOGGER.warning("event=speech_dropped kind=%s dropped=%d", type(item).__name__, self.dropped)

    def busy(self) -> bool:
        return not self._idle.is_set()

    def set_listener(self, listener: Hearing | None) -> None:
        """The listener to mute while speaking (it is rebuilt on a config reload)."""
        self._listener = listener

    def stop(self) -> None:
        self._queue.put(None)

    def run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=POLL_S)
            except queue.Empty:
                self._idle_if_empty()
                continue
            if item is None:
                return
            try:
                self._play(item)
            except Exception:  # speech failure must never stop the worker
                self.failures += 1
                _LOGGER.exception("event=speech_failed kind=%s", type(item).__name__)
            self._idle_if_empty()

    def _idle_if_empty(self) -> None:
        if self._queue.empty():
            self._set_muted(False)
            self._idle.set()

    def _play(self, item: object) -> None:
        if isinstance(item, act.ExpectAnswer):
            self._set_muted(False)
            self._put(AnswerWindow(item.timeout_s))
            return
        if self._speaker is None:
            return
        if isinstance(item, act.Say):
            self._set_muted(True)
            self._speaker.say(item)
        elif isinstance(item, act.PlayEarcon):
            self._set_muted(True)
            self._speaker.play_earcon(item.name)
        elif isinstance(item, act.SetVolume):
            self._speaker.set_volume(item.delta)

    def _set_muted(self, muted: bool) -> None:
        if self._listener is not None:
            self._listener.set_muted(muted)
