"""Injectable clocks: the daemon uses SystemClock, tests use ManualClock (no sleeps)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """Local wall-clock time (timezone-aware)."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary start; never goes backwards."""


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now().astimezone()

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock tests move by hand with :meth:`advance` or :meth:`set`."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
        if self._now.tzinfo is None:
            self._now = self._now.replace(tzinfo=dt.UTC)
        self._mono = 1000.0

    def now(self) -> dt.datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += dt.timedelta(seconds=seconds)
        self._mono += seconds

    def set(self, when: dt.datetime) -> None:
        """Jump the wall clock (e.g. a clock change); monotonic time only moves forward."""
        self._now = when if when.tzinfo else when.replace(tzinfo=self._now.tzinfo)
