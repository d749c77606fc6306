"""Medication reminders scheduled on the device: offline, restart-safe, clock-change-safe.

Every dose is keyed by medication + local date + time of day and its state (scheduled →
announced → taken / missed, or skipped) is persisted in :class:`~assistant.conversation.care_store.CareStore`, so:

* a restart never repeats an announced reminder (its row says ``announced``);
* a wall-clock jump backwards never repeats one: doses keep their rows, and a high-water mark of
  the latest announced dose time blocks anything scheduled at or before it;
* a jump forwards (or a device that was off) announces only the latest due dose time; older
  unannounced doses are marked ``skipped`` (not reported as missed: nobody was reminded);
* doses falling in quiet hours are deferred to the end of the quiet hours;
* a dose more than :data:`LATE_ANNOUNCE_LIMIT_S` past its (deferred) time is not announced late.

The dialogue owns the conversation; this module only decides what is due and records outcomes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from assistant.conversation.care_store import (
    CareStore,
    DoseKey,
    DoseRecord,
    DoseStatus,
    defer_past_quiet_hours,
    is_quiet,
)
from assistant.ops.settings import Medication, Settings

_LOGGER = logging.getLogger(__name__)

LATE_ANNOUNCE_LIMIT_S: Final = 4 * 3600.0
"""A reminder later than this (device off, clock jump) is skipped rather than announced."""
TAKEN_MATCH_BEFORE_S: Final = 4 * 3600.0
""""I took it" with no reminder open marks doses scheduled up to this long ago …"""
TAKEN_MATCH_AFTER_S: Final = 3600.0
"""… or up to this long ahead (taken a little early)."""
_WATERMARK_KEY: Final = "reminder_watermark"


@dataclass(frozen=True)
class DueReminder:
    """Doses to announce together (same scheduled time)."""

    doses: tuple[DoseKey, ...]
    scheduled: dt.datetime


@dataclass(frozen=True)
class FollowUps:
    repeat: tuple[DoseRecord, ...]
    """Announced doses with no answer after ``reminders.answer_timeout_s`` (repeat once)."""
    missed: tuple[DoseRecord, ...]
    """Announced doses with no answer after ``reminders.missed_after_s`` (report as missed)."""


def parse_times(times: Iterable[dt.time | str]) -> tuple[dt.time, ...]:
    """``"08:00"`` strings or times → sorted, de-duplicated times (seconds dropped)."""
    out = set()
    for t in times:
        value = t if isinstance(t, dt.time) else dt.time.fromisoformat(str(t).strip())
        out.add(value.replace(second=0, microsecond=0, tzinfo=None))
    return tuple(sorted(out))


class ReminderSchedule:
    def __init__(self, settings: Settings, store: CareStore) -> None:
        self._settings = settings
        self._store = store
        self.medications: dict[str, Medication] = {m.name: m for m in settings.medications}

    # ------------------------------------------------------------ schedule

    def times_for(self, name: str) -> tuple[dt.time, ...]:
        """Reminder times: the backend's latest update if any, else the config's."""
        override = self._store.get(f"schedule:{name}")
        if override is not None:
            return parse_times(t for t in override.split(",") if t)
        med = self.medications.get(name)
        return parse_times(med.times) if med else ()

    def apply_schedule_update(self, medication: str, times: Sequence[dt.time | str]) -> None:
        """Replace one medication's reminder times (a backend schedule update); persisted."""
        parsed = parse_times(times)
        self._store.put(f"schedule:{medication}", ",".join(t.strftime("%H:%M") for t in parsed))
        if medication not in self.medications:
            self.medications[medication] = Medication(name=medication, times=parsed)
        _LOGGER.info("event=schedule_updated times=%d", len(parsed))

    def doses_per_day(self, name: str) -> int:
        return len(self.times_for(name))

    def _doses_on(self, day: dt.date) -> list[DoseKey]:
        return [DoseKey(name, day, t) for name in self.medications for t in self.times_for(name)]

    # ------------------------------------------------------------ what is due

    def _watermark(self) -> dt.datetime | None:
        value = self._store.get(_WATERMARK_KEY)
        return dt.datetime.fromisoformat(value) if value else None

    def due(self, now: dt.datetime) -> DueReminder | None:
        """The reminder to announce now, if any. Marks older unannounced doses ``skipped``."""
        if is_quiet(now, self._settings):
            return None
        tz = now.tzinfo
        watermark = self._watermark()
        candidates: list[tuple[dt.datetime, DoseKey]] = []
        for day in (now.date() - dt.timedelta(days=1), now.date()):
            recorded = self._store.doses_on(day)
            for key in self._doses_on(day):
                rec = recorded.get((key.medication, key.time))
                if rec is not None and rec.status != DoseStatus.SCHEDULED:
                    continue
                scheduled = key.at(tz)
                if watermark is not None and scheduled <= watermark:
                    continue
                if defer_past_quiet_hours(scheduled, self._settings) <= now:
                    candidates.append((scheduled, key))
        if not candidates:
            return None
        latest = max(s for s, _ in candidates)
        for scheduled, key in candidates:
            if scheduled < latest:
                self._store.set_dose(key, DoseStatus.SKIPPED, now)
                _LOGGER.info("event=reminder_skipped reason=superseded")
        group = tuple(sorted(k for s, k in candidates if s == latest))
        effective = defer_past_quiet_hours(latest, self._settings)
        if (now - effective).total_seconds() > LATE_ANNOUNCE_LIMIT_S:
            for key in group:
                self._store.set_dose(key, DoseStatus.SKIPPED, now)
            self._store.put(_WATERMARK_KEY, latest.isoformat())
            _LOGGER.info("event=reminder_skipped reason=too_late doses=%d", len(group))
            return None
        return DueReminder(group, latest)

    def mark_announced(self, reminder: DueReminder, now: dt.datetime) -> None:
        for key in reminder.doses:
            self._store.set_dose(key, DoseStatus.ANNOUNCED, now, announced_at=now, repeated=False)
        watermark = self._watermark()
        if watermark is None or reminder.scheduled > watermark:
            self._store.put(_WATERMARK_KEY, reminder.scheduled.isoformat())
        _LOGGER.info("event=reminder_announced doses=%d", len(reminder.doses))

    def follow_ups(self, now: dt.datetime) -> FollowUps:
        timing = self._settings.reminders
        repeat: list[DoseRecord] = []
        missed: list[DoseRecord] = []
        for rec in self._store.doses_with_status(DoseStatus.ANNOUNCED):
            if rec.announced_at is None:
                continue
            waited = (now - rec.announced_at).total_seconds()
            if waited >= timing.missed_after_s:
                missed.append(rec)
            elif waited >= timing.answer_timeout_s and not rec.repeated:
                repeat.append(rec)
        return FollowUps(tuple(repeat), tuple(missed))

    def mark_repeated(self, records: Iterable[DoseRecord], now: dt.datetime) -> None:
        for rec in records:
            self._store.set_dose(rec.key, DoseStatus.ANNOUNCED, now, repeated=True)

    def mark_missed(self, records: Iterable[DoseRecord], now: dt.datetime) -> None:
        for rec in records:
            self._store.set_dose(rec.key, DoseStatus.MISSED, now)

    # ------------------------------------------------------------ answers and queries

    def open_doses(self, now: dt.datetime, medication: str | None = None) -> list[DoseKey]:
        """Doses "I took it" refers to: announced ones, else ones due around now and not taken."""
        announced = [r.key for r in self._store.doses_with_status(DoseStatus.ANNOUNCED)]
        if medication is not None:
            announced = [k for k in announced if k.medication == medication]
        if announced:
            return announced
        out = []
        for day in (now.date() - dt.timedelta(days=1), now.date()):
            recorded = self._store.doses_on(day)
            for key in self._doses_on(day):
                if medication is not None and key.medication != medication:
                    continue
                rec = recorded.get((key.medication, key.time))
                if rec is not None and rec.status == DoseStatus.TAKEN:
                    continue
                delta = (key.at(now.tzinfo) - now).total_seconds()
                if -TAKEN_MATCH_BEFORE_S <= delta <= TAKEN_MATCH_AFTER_S:
                    out.append(key)
        # one dose per medication: the one nearest to now
        nearest: dict[str, DoseKey] = {}
        for key in out:
            best = nearest.get(key.medication)
            if best is None or abs((key.at(now.tzinfo) - now).total_seconds()) < abs(
                (best.at(now.tzinfo) - now).total_seconds()
            ):
                nearest[key.medication] = key
        return sorted(nearest.values())

    def mark_taken(self, keys: Iterable[DoseKey], now: dt.datetime) -> None:
        keys = list(keys)
        for key in keys:
            self._store.set_dose(key, DoseStatus.TAKEN, now)
        watermark = self._watermark()
        for key in keys:
            at = key.at(now.tzinfo)
            if at <= now and (watermark is None or at > watermark):
                # taken before its reminder came: never announce it afterwards
                self._store.put(_WATERMARK_KEY, at.isoformat())
                watermark = at

    def today(self, now: dt.datetime) -> list[tuple[Medication, dt.time, DoseStatus]]:
        """Today's doses in time order with their status (scheduled/announced/taken/missed/skipped)."""
        recorded = self._store.doses_on(now.date())
        out = []
        for key in sorted(self._doses_on(now.date()), key=lambda k: (k.time, k.medication)):
            rec = recorded.get((key.medication, key.time))
            out.append(
                (self.medications[key.medication], key.time, rec.status if rec else DoseStatus.SCHEDULED)
            )
        return out
