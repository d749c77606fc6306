"""The practice's request store (SQLite or PostgreSQL, see :mod:`jiayi_backend.db`).

Exactly once across every worker: the table has ``UNIQUE (device_id, message_id)`` and a request
is written with ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``, so a resend, a broker
redelivery or a second worker that got the same request finds the row already there. Keyed by the
device as well as the id, so one speaker can never pre-empt another's request by reusing its id.

Reading never fails on what is stored: rows written by older versions (before validation was
strict) may hold text that is not valid JSON or lone surrogates; they come back readable
(``"unreadable": true`` or U+FFFD), so ``jiayi backend requests`` always prints something.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from assistant.link import protocol as messages
from jiayi_backend.db import Database, open_database

NEEDS_PERSON: Final = frozenset(
    {
        messages.REQ_CALL_DOCTOR,
        messages.REQ_CALL_CONTACT,
        messages.REQ_EMERGENCY,
        messages.REQ_REORDER_MEDICATION,
        messages.REQ_MEDICATION_MISSED,
        messages.REQ_REPORT_SYMPTOM,
        messages.REQ_BOOK_APPOINTMENT,
        messages.REQ_INACTIVITY,
    }
)
"""Request types someone at the practice must act on (the rest are only recorded). A request type
of another command domain (not one of the protocol's) is open when its tier is ``confirm`` or
``emergency`` (the device's catalog judged it consequential) and only recorded when ``plain``."""


def needs_person(request_type: str, tier: str) -> bool:
    if messages.is_protocol_request_type(request_type):
        return request_type in NEEDS_PERSON
    return tier != "plain"


STATE_OPEN: Final = "open"
STATE_ACKNOWLEDGED: Final = "acknowledged"
STATE_CLOSED: Final = "closed"
STATE_INFO: Final = "info"
QUEUE_LIMIT: Final = 200
_UNSAFE_RE: Final = re.compile("[\ud800-\udfff]")
_COLUMNS: Final = (
    "id, device_id, message_id, request_type, tier, sent_at, received_at, worker, payload, state"
)


def safe_text(value: str) -> str:
    """Lone surrogates (which no terminal or database can encode) become U+FFFD."""
    return _UNSAFE_RE.sub("\ufffd", value)


def _safe(value: Any) -> Any:
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(str(k)): _safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v) for v in value]
    return value


def read_payload(text: str) -> dict[str, Any]:
    """A stored payload as a dict, whatever an older version wrote."""
    try:
        data = json.loads(text, parse_constant=lambda _name: None)  # NaN/Infinity: no valid JSON out
    except (ValueError, RecursionError):
        return {"unreadable": True}
    return _safe(data) if isinstance(data, dict) else {"unreadable": True}


@dataclass(frozen=True)
class StoredRequest:
    """One row of the store, decoded for the page and the command line."""

    id: int
    device_id: str
    message_id: str
    request_type: str
    tier: str
    sent_at: str
    received_at: float
    worker: str
    payload: dict[str, Any]
    state: str

    @property
    def slots(self) -> dict[str, Any]:
        slots = self.payload.get("slots")
        return slots if isinstance(slots, dict) else {}

    @property
    def lang(self) -> str:
        return "zh" if self.payload.get("lang") == "zh" else "en"

    @property
    def emergency(self) -> bool:
        return self.tier == "emergency" or self.request_type == messages.REQ_EMERGENCY

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message_id": self.message_id,
            "device_id": self.device_id,
            "request_type": self.request_type,
            "tier": self.tier,
            "sent_at": self.sent_at,
            "received_at": self.received_at,
            "worker": self.worker,
            "state": self.state,
            "payload": self.payload,
        }


def _row(values: tuple[Any, ...]) -> StoredRequest:
    rid, device, message_id, rtype, tier, sent_at, received_at, worker, payload, state = values
    return StoredRequest(
        id=int(rid),
        device_id=safe_text(str(device)),
        message_id=safe_text(str(message_id)),
        request_type=safe_text(str(rtype)),
        tier=safe_text(str(tier)),
        sent_at=safe_text(str(sent_at)),
        received_at=float(received_at),
        worker=safe_text(str(worker)),
        payload=read_payload(str(payload)),
        state=str(state),
    )


@dataclass(frozen=True)
class DoseDay:
    """Medication adherence of one medicine on one day (from taken / missed reports)."""

    day: str
    medication: str
    taken: int = 0
    missed: int = 0


@dataclass(frozen=True)
class DeviceSummary:
    device_id: str
    requests: int
    open: int
    last_at: float


@dataclass
class Adherence:
    days: list[str] = field(default_factory=list)
    by_medication: dict[str, dict[str, DoseDay]] = field(default_factory=dict)


class RequestStore:
    """Requests in SQLite (a path) or PostgreSQL (a ``postgresql://`` URL)."""

    def __init__(self, target: str | Path | Database) -> None:
        if isinstance(target, str | Path):
            self.db: Database = open_database(target)
            self._owns_db = True
        else:
            self.db = target
            self._owns_db = False

    @property
    def where(self) -> str:
        return self.db.where

    # ------------------------------------------------------------------ writing

    def insert(self, req: messages.Request, payload: bytes, worker: str) -> bool:
        """Store once; False when this device already sent this message id (a duplicate)."""
        return self.insert_many([(req, payload)], worker)[0]

    def insert_many(self, items: list[tuple[messages.Request, bytes]], worker: str) -> list[bool]:
        """Several requests in one transaction (one disk flush); per request: new (True) or a duplicate."""
        now = time.time()
        out = []
        with self.db.transaction() as cur:
            for req, payload in items:
                state = STATE_OPEN if needs_person(req.request_type, req.tier) else STATE_INFO
                cur.execute(
                    "INSERT INTO requests (device_id, message_id, request_type, tier, sent_at, received_at,"
                    " worker, payload, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (device_id, message_id) DO NOTHING RETURNING id",
                    (
                        req.device_id,
                        req.message_id,
                        req.request_type,
                        req.tier,
                        req.sent_at,
                        now,
                        worker,
                        payload.decode("utf-8"),
                        state,
                    ),
                )
                out.append(bool(cur.fetchall()))
        return out

    def set_state(self, request_id: int, state: str) -> None:
        self.db.query("UPDATE requests SET state = ? WHERE id = ?", (state, request_id))

    # ------------------------------------------------------------------ reading

    def rows(self) -> list[dict[str, Any]]:
        """Every request, oldest first, as plain dicts (the command line's ``--json``)."""
        found = self.db.query(f"SELECT {_COLUMNS} FROM requests ORDER BY received_at, id")
        return [_row(values).as_dict() for values in found]

    def count(self) -> int:
        return int(self.db.query("SELECT COUNT(*) FROM requests")[0][0])

    def get(self, request_id: int) -> StoredRequest | None:
        found = self.db.query(f"SELECT {_COLUMNS} FROM requests WHERE id = ?", (request_id,))
        return _row(found[0]) if found else None

    def queue(self, limit: int = QUEUE_LIMIT) -> list[StoredRequest]:
        """Open and acknowledged requests: emergencies first, then the oldest first."""
        found = self.db.query(
            f"SELECT {_COLUMNS} FROM requests WHERE state IN (?, ?)"
            " ORDER BY CASE WHEN tier = 'emergency' OR request_type = 'emergency' THEN 0 ELSE 1 END,"
            " received_at, id LIMIT ?",
            (STATE_OPEN, STATE_ACKNOWLEDGED, limit),
        )
        return [_row(values) for values in found]

    def change_token(self) -> str:
        """Changes whenever a request arrives or changes state (the page polls it)."""
        row = self.db.query(
            "SELECT COALESCE(MAX(id), 0), COUNT(*) FROM requests WHERE state IN (?, ?)",
            (STATE_OPEN, STATE_ACKNOWLEDGED),
        )[0]
        newest = self.db.query("SELECT COALESCE(MAX(id), 0) FROM requests")[0][0]
        return f"{newest}-{row[0]}-{row[1]}"

    def for_device(self, device_id: str, limit: int = 100) -> list[StoredRequest]:
        found = self.db.query(
            f"SELECT {_COLUMNS} FROM requests WHERE device_id = ? ORDER BY received_at DESC, id DESC LIMIT ?",
            (device_id, limit),
        )
        return [_row(values) for values in found]

    def devices(self, limit: int = 20, days: int = 7) -> list[DeviceSummary]:
        """Speakers heard from in the last ``days`` days, the most recent first."""
        found = self.db.query(
            "SELECT device_id, COUNT(*), SUM(CASE WHEN state = ? THEN 1 ELSE 0 END), MAX(received_at)"
            " FROM requests WHERE received_at >= ? GROUP BY device_id ORDER BY MAX(received_at) DESC LIMIT ?",
            (STATE_OPEN, time.time() - days * 86400, limit),
        )
        return [DeviceSummary(safe_text(str(d)), int(n), int(o or 0), float(t)) for d, n, o, t in found]

    def adherence(self, device_id: str, days: int = 7, now: float | None = None) -> Adherence:
        """Taken / missed reports per medicine per day over the last ``days`` days (UTC days)."""
        now = time.time() if now is None else now
        since = now - days * 86400
        found = self.db.query(
            f"SELECT {_COLUMNS} FROM requests WHERE device_id = ? AND request_type IN (?, ?)"
            " AND received_at >= ? ORDER BY received_at",
            (device_id, messages.REQ_MEDICATION_TAKEN, messages.REQ_MEDICATION_MISSED, since),
        )
        today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        out = Adherence(days=[(today - dt.timedelta(days=i)).isoformat() for i in range(days - 1, -1, -1)])
        for values in found:
            req = _row(values)
            day = dt.datetime.fromtimestamp(req.received_at, dt.UTC).date().isoformat()
            name = str(req.slots.get("medication") or "medicine")[:60]
            per_day = out.by_medication.setdefault(name, {})
            cell = per_day.get(day, DoseDay(day, name))
            taken = req.request_type == messages.REQ_MEDICATION_TAKEN
            per_day[day] = DoseDay(day, name, cell.taken + int(taken), cell.missed + int(not taken))
        return out

    def close(self) -> None:
        if self._owns_db:
            self.db.close()
