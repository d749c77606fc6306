"""Care state that must survive restarts: doses, supply, check-ins, inactivity, the sent-today log.

:class:`CareStore` is one small SQLite file in the state directory (``care.sqlite3``); tests and
``jiayi chat`` use ``":memory:"``. The helpers on top of it (:class:`SupplyCounter`,
:class:`CheckInSchedule`, :class:`InactivityWatch`) are pure decisions over the store and an
injected "now"; the dialogue turns their decisions into speech and requests.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from assistant.ops.settings import Medication, Settings

_LOGGER = logging.getLogger(__name__)

STORE_FILENAME: Final = "care.sqlite3"
SQLITE_TIMEOUT_S: Final = 5.0
"""Longest a write waits for another connection's lock (e.g. the old dialogue during a reload)."""
CHECKIN_LATE_LIMIT_S: Final = 4 * 3600.0
"""A check-in not asked within this long after its (quiet-hours-deferred) time is dropped for the day."""

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS doses (
    medication TEXT NOT NULL,
    day TEXT NOT NULL,
    time TEXT NOT NULL,
    status TEXT NOT NULL,
    announced_at TEXT,
    repeated INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (medication, day, time)
);
CREATE TABLE IF NOT EXISTS sent (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    day TEXT NOT NULL,
    at TEXT NOT NULL,
    request_type TEXT NOT NULL,
    summary TEXT NOT NULL,
    request_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class DoseStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    ANNOUNCED = "announced"
    TAKEN = "taken"
    MISSED = "missed"
    SKIPPED = "skipped"
    """Never announced (e.g. the device was off, or a clock jump passed it); not reported as missed."""


@dataclass(frozen=True, order=True)
class DoseKey:
    """One scheduled dose: medication (config name) + local date + time of day."""

    medication: str
    day: dt.date
    time: dt.time

    def at(self, tz: dt.tzinfo | None) -> dt.datetime:
        return dt.datetime.combine(self.day, self.time, tzinfo=tz)

    @property
    def time_text(self) -> str:
        return self.time.strftime("%H:%M")


@dataclass(frozen=True)
class DoseRecord:
    key: DoseKey
    status: DoseStatus
    announced_at: dt.datetime | None = None
    repeated: bool = False


@dataclass(frozen=True)
class SentRecord:
    at: dt.datetime
    request_type: str
    summary: str
    request_id: str


def _time_of(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


class CareStore:
    """SQLite-backed care state. Thread-safe for the daemon's single loop plus a reload overlap."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=SQLITE_TIMEOUT_S, check_same_thread=False)
        with self._db:
            self._db.executescript(_SCHEMA)

    @classmethod
    def in_state_dir(cls, settings: Settings) -> CareStore:
        from assistant.ops.paths import state_dir

        return cls(state_dir(settings.state_dir) / STORE_FILENAME)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------ doses

    def dose(self, key: DoseKey) -> DoseRecord:
        with self._lock:
            row = self._db.execute(
                "SELECT status, announced_at, repeated FROM doses WHERE medication=? AND day=? AND time=?",
                (key.medication, key.day.isoformat(), key.time_text),
            ).fetchone()
        if row is None:
            return DoseRecord(key, DoseStatus.SCHEDULED)
        return DoseRecord(key, DoseStatus(row[0]), _dt(row[1]), bool(row[2]))

    def set_dose(
        self,
        key: DoseKey,
        status: DoseStatus,
        now: dt.datetime,
        announced_at: dt.datetime | None = None,
        repeated: bool | None = None,
    ) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO doses (medication, day, time, status, announced_at, repeated, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (medication, day, time) DO UPDATE SET status=excluded.status,"
                " announced_at=COALESCE(excluded.announced_at, doses.announced_at),"
                " repeated=CASE WHEN ? IS NULL THEN doses.repeated ELSE excluded.repeated END,"
                " updated_at=excluded.updated_at",
                (
                    key.medication,
                    key.day.isoformat(),
                    key.time_text,
                    str(status),
                    announced_at.isoformat() if announced_at else None,
                    int(bool(repeated)),
                    now.isoformat(),
                    repeated,
                ),
            )

    def doses_with_status(self, status: DoseStatus) -> list[DoseRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT medication, day, time, status, announced_at, repeated FROM doses WHERE status=?"
                " ORDER BY day, time, medication",
                (str(status),),
            ).fetchall()
        return [_dose_row(r) for r in rows]

    def doses_on(self, day: dt.date) -> dict[tuple[str, dt.time], DoseRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT medication, day, time, status, announced_at, repeated FROM doses WHERE day=?",
                (day.isoformat(),),
            ).fetchall()
        return {(r[0], _time_of(r[2])): _dose_row(r) for r in rows}

    # ------------------------------------------------------------ sent-today log

    def record_sent(self, at: dt.datetime, request_type: str, summary: str, request_id: str) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO sent (day, at, request_type, summary, request_id) VALUES (?, ?, ?, ?, ?)",
                (at.date().isoformat(), at.isoformat(), request_type, summary, request_id),
            )

    def sent_on(self, day: dt.date) -> list[SentRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT at, request_type, summary, request_id FROM sent WHERE day=? ORDER BY seq",
                (day.isoformat(),),
            ).fetchall()
        return [SentRecord(dt.datetime.fromisoformat(r[0]), r[1], r[2], r[3]) for r in rows]

    # ------------------------------------------------------------ small values

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, value: str) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    def delete(self, key: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM kv WHERE key=?", (key,))


def _dt(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _dose_row(r: tuple) -> DoseRecord:
    key = DoseKey(r[0], dt.date.fromisoformat(r[1]), _time_of(r[2]))
    return DoseRecord(key, DoseStatus(r[3]), _dt(r[4]), bool(r[5]))


# ---------------------------------------------------------------- supply


class SupplyCounter:
    """Counts doses on hand down with every dose taken; decides when to offer a reorder.

    The count starts at the config's ``doses_on_hand`` (else ``pack_size``). When the caregiver
    changes that number in the config (after buying more), the count restarts from it.
    """

    def __init__(self, settings: Settings, store: CareStore) -> None:
        self._store = store
        self._meds = {m.name: m for m in settings.medications}

    def _baseline(self, med: Medication) -> int | None:
        return med.doses_on_hand if med.doses_on_hand is not None else med.pack_size

    def remaining(self, name: str) -> int | None:
        med = self._meds.get(name)
        if med is None or (baseline := self._baseline(med)) is None:
            return None
        if self._store.get(f"supply_baseline:{name}") != str(baseline):
            self._store.put(f"supply_baseline:{name}", str(baseline))
            self._store.put(f"supply:{name}", str(baseline))
            self._store.delete(f"reorder_done:{name}")
        return int(self._store.get(f"supply:{name}") or baseline)

    def take(self, name: str, doses: int = 1) -> int | None:
        left = self.remaining(name)
        if left is None:
            return None
        left = max(0, left - doses)
        self._store.put(f"supply:{name}", str(left))
        return left

    def days_left(self, name: str, doses_per_day: int) -> float | None:
        left = self.remaining(name)
        if left is None:
            return None
        return left / max(1, doses_per_day)

    def reorder_due(self, name: str, doses_per_day: int, today: dt.date) -> int | None:
        """Whole days left when a reorder should be offered now (once a day until ordered), else None."""
        med = self._meds.get(name)
        days = self.days_left(name, doses_per_day)
        if med is None or days is None or days >= med.reorder_when_days_left:
            return None
        if self._store.get(f"reorder_done:{name}") is not None:
            return None
        if self._store.get(f"reorder_offered:{name}") == today.isoformat():
            return None
        return int(days)

    def mark_offered(self, name: str, today: dt.date) -> None:
        self._store.put(f"reorder_offered:{name}", today.isoformat())

    def mark_reordered(self, name: str) -> None:
        """A reorder was sent: no more offers until the config's supply number changes."""
        self._store.put(f"reorder_done:{name}", "1")


# ---------------------------------------------------------------- quiet hours


def defer_past_quiet_hours(when: dt.datetime, settings: Settings) -> dt.datetime:
    """``when``, or the end of the quiet hours it falls into (the next day for overnight ranges)."""
    quiet = settings.quiet_hours
    if quiet.end is None or not quiet.contains(when.time().replace(tzinfo=None)):
        return when
    end = dt.datetime.combine(when.date(), quiet.end, tzinfo=when.tzinfo)
    return end if end > when else end + dt.timedelta(days=1)


def is_quiet(now: dt.datetime, settings: Settings) -> bool:
    return settings.quiet_hours.contains(now.time().replace(tzinfo=None))


# ---------------------------------------------------------------- daily check-in


class CheckInSchedule:
    """Once a day at ``settings.checkin.time`` (deferred past quiet hours); never twice a day."""

    def __init__(self, settings: Settings, store: CareStore) -> None:
        self._settings = settings
        self._store = store

    def due(self, now: dt.datetime) -> bool:
        at = self._settings.checkin.time
        if at is None or is_quiet(now, self._settings):
            return False
        today = now.date()
        if self._store.get("checkin_day") == today.isoformat():
            return False
        last = self._store.get("checkin_day")
        if last is not None and last > today.isoformat():  # wall clock went backwards
            return False
        effective = defer_past_quiet_hours(dt.datetime.combine(today, at, tzinfo=now.tzinfo), self._settings)
        return effective <= now <= effective + dt.timedelta(seconds=CHECKIN_LATE_LIMIT_S)

    def mark_asked(self, now: dt.datetime) -> None:
        self._store.put("checkin_day", now.date().isoformat())


# ---------------------------------------------------------------- inactivity (opt-in)


class InactivityWatch:
    """No interaction for ``checkin.inactivity_hours`` → one notification per quiet period."""

    def __init__(self, settings: Settings, store: CareStore, now: dt.datetime) -> None:
        self._hours = settings.checkin.inactivity_hours
        self._store = store
        if self._hours > 0 and store.get("last_interaction") is None:
            store.put("last_interaction", now.isoformat())

    def note_interaction(self, now: dt.datetime) -> None:
        self._store.put("last_interaction", now.isoformat())

    def due(self, now: dt.datetime) -> float | None:
        """Hours of inactivity when a notification is due now, else None."""
        if self._hours <= 0:
            return None
        last = self._store.get("last_interaction")
        if last is None:
            self._store.put("last_interaction", now.isoformat())
            return None
        if self._store.get("inactivity_notified_for") == last:
            return None
        idle_h = (now - dt.datetime.fromisoformat(last)).total_seconds() / 3600.0
        return idle_h if idle_h >= self._hours else None

    def mark_notified(self) -> None:
        last = self._store.get("last_interaction")
        if last is not None:
            self._store.put("inactivity_notified_for", last)
