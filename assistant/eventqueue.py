"""The one crossing point between library threads and the daemon's loop.

PortAudio callbacks, paho's network thread (via the relay's worker), the listener, the phone
worker and signal handlers only ever call :meth:`EventQueue.put`. The daemon's single loop calls
:meth:`EventQueue.get`. The queue is bounded; when it is full the *oldest non-critical* event is
dropped and counted, so a flood of, say, audio-level events can never push out a backend
acknowledgement, and a producer thread never blocks.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAXSIZE: Final = 256


@dataclass(frozen=True)
class QueueCounters:
    put: int
    got: int
    dropped: int
    depth: int


class EventQueue:
    """Bounded, thread-safe FIFO. Drop policy: drop the oldest droppable event, else the new one.

    ``is_critical(event)`` marks events that must never be dropped while anything droppable is
    queued (backend acks, emergencies, shutdown requests). If the queue is full of critical events,
    the new event is still accepted (the bound is exceeded rather than losing a critical event).
    """

    def __init__(
        self, maxsize: int = DEFAULT_MAXSIZE, is_critical: Callable[[object], bool] | None = None
    ) -> None:
        self._maxsize = maxsize
        self._items: collections.deque[object] = collections.deque()
        self._cond = threading.Condition()
        self._is_critical = is_critical or (lambda _event: False)
        self._put = 0
        self._got = 0
        self._dropped = 0

    def put(self, event: object) -> None:
        """Add an event; never blocks. Safe to call from any thread."""
        with self._cond:
            if len(self._items) >= self._maxsize:
                self._drop_one_locked(event)
            self._items.append(event)
            self._put += 1
            self._cond.notify()

    def _drop_one_locked(self, incoming: object) -> None:
        for i, queued in enumerate(self._items):
            if not self._is_critical(queued):
                del self._items[i]
                self._dropped += 1
                if self._dropped in (1, 10, 100) or self._dropped % 1000 == 0:
                    _LOGGER.warning(
                        "event=queue_drop dropped=%d kind=%s", self._dropped, type(queued).__name__
                    )
                return
        # Everything queued is critical: keep all of them, grow past the bound.
        _LOGGER.warning("event=queue_over_bound depth=%d kind=%s", len(self._items), type(incoming).__name__)

    def get(self, timeout: float) -> object | None:
        """Next event, or None when nothing arrived within ``timeout`` seconds."""
        with self._cond:
            if not self._items:
                self._cond.wait(timeout)
            if not self._items:
                return None
            self._got += 1
            return self._items.popleft()

    def counters(self) -> QueueCounters:
        with self._cond:
            return QueueCounters(self._put, self._got, self._dropped, len(self._items))
