"""Durable device outbox: SQLite (WAL, ``synchronous=FULL``), one row per request not yet acknowledged.

A request is inserted (and committed) *before* it is published, and deleted only when the
backend's application-level ack arrives, so it survives broker restarts, network loss, ``kill -9``
of the daemon and a power cut. Rows come back in send order: emergencies first, then by age.

Bound and policy when full (``max_rows``): the oldest *non-emergency* request is evicted to make
room (plain tier before confirm tier) and counted; emergencies are never evicted and are always
accepted, even past the bound.

A second table, ``awaiting``, remembers every request this device created until the backend
sends its final outcome (``done``, ``nobody_answered``, ``rejected``) or
:data:`AWAITING_MAX_ROWS` newer ones push it out: later acks (a ``nobody_answered`` a minute after
``received``, even across a restart) are accepted only for ids in it, so an ack for an id the
device never sent is recognised as forged.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_ROWS: Final = 5000
AWAITING_MAX_ROWS: Final = 10_000
"""Requests remembered for later outcomes (a few weeks of normal use)."""
FINAL_STATUSES: Final = frozenset({"done", "nobody_answered", "rejected"})
"""Ack statuses after which the backend sends nothing more about a request."""
BUSY_TIMEOUT_MS: Final = 5000
TIER_PRIORITY: Final = {"emergency": 2, "confirm": 1, "plain": 0}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL UNIQUE,
    request_type TEXT NOT NULL,
    tier TEXT NOT NULL,
    priority INTEGER NOT NULL,
    created_at REAL NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_order ON outbox (priority DESC, seq);
CREATE TABLE IF NOT EXISTS awaiting (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL UNIQUE,
    request_type TEXT NOT NULL,
    tier TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Awaited:
    """A request this device sent and still expects outcomes for."""

    request_id: str
    request_type: str
    tier: str
    created_at: float


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    request_id: str
    request_type: str
    tier: str
    created_at: float
    """Wall-clock UNIX time the request was created (survives restarts)."""
    payload: bytes

    @property
    def priority(self) -> int:
        return TIER_PRIORITY.get(self.tier, 0)


class OutboxFull(Exception):
    """Never raised for emergencies; raised only when nothing can be evicted (max_rows <= 0)."""


class Outbox:
    """Thread-safe (one connection behind a lock; the lock is never held across network calls)."""

    def __init__(self, path: Path, max_rows: int = DEFAULT_MAX_ROWS, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_rows = max_rows
        self.evicted = 0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA journal_mode=WAL")
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._synchronous = synchronous
        self._db.executescript(_SCHEMA)

    def add(
        self, request_id: str, request_type: str, tier: str, payload: bytes, created_at: float
    ) -> tuple[bool, list[str]]:
        """Durably insert; returns (inserted, evicted request ids). A repeated id is a no-op."""
        priority = TIER_PRIORITY.get(tier, 0)
        evicted: list[str] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO outbox (request_id, request_type, tier, priority, created_at, payload)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (request_id, request_type, tier, priority, created_at, payload),
                )
                inserted = cur.rowcount == 1
                if inserted:
                    self._db.execute(
                        "INSERT OR IGNORE INTO awaiting (request_id, request_type, tier, created_at)"
                        " VALUES (?, ?, ?, ?)",
                        (request_id, request_type, tier, created_at),
                    )
                    self._db.execute(
                        "DELETE FROM awaiting WHERE seq <= (SELECT MAX(seq) FROM awaiting) - ?",
                        (AWAITING_MAX_ROWS,),
                    )
                    (depth,) = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()
                    excess = depth - self.max_rows
                    if excess > 0:
                        victims = self._db.execute(
                            "SELECT request_id FROM outbox WHERE priority < 2 AND request_id != ?"
                            " ORDER BY priority, seq LIMIT ?",
                            (request_id, excess),
                        ).fetchall()
                        evicted = [v[0] for v in victims]
                        if len(evicted) < excess and priority < 2:
                            raise OutboxFull("outbox full of emergencies")
                        self._db.executemany("DELETE FROM outbox WHERE request_id = ?", victims)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        if evicted:
            self.evicted += len(evicted)
            _LOGGER.warning("event=outbox_evicted count=%d total=%d", len(evicted), self.evicted)
        return inserted, evicted

    def remove(self, request_id: str) -> bool:
        """Delete after the backend's ack; True when the row existed."""
        with self._lock:
            cur = self._db.execute("DELETE FROM outbox WHERE request_id = ?", (request_id,))
            return cur.rowcount == 1

    def remove_many(self, request_ids: list[str]) -> int:
        """Delete several acked requests in one transaction (one fsync); returns rows deleted."""
        with self._lock:
            # A delete lost in a power cut only causes a resend (the backend dedupes), so deletes
            # skip the fsync; the next insert's FULL commit syncs them along with it.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                deleted = 0
                for request_id in request_ids:
                    deleted += self._db.execute(
                        "DELETE FROM outbox WHERE request_id = ?", (request_id,)
                    ).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._db.execute(f"PRAGMA synchronous={self._synchronous}")
        return deleted

    def awaited(self, request_id: str) -> Awaited | None:
        """The request when this device sent it and awaits outcomes (None: never sent, or finished)."""
        with self._lock:
            row = self._db.execute(
                "SELECT request_id, request_type, tier, created_at FROM awaiting WHERE request_id = ?",
                (request_id,),
            ).fetchone()
        return None if row is None else Awaited(row[0], row[1], row[2], float(row[3]))

    def finish(self, request_id: str) -> None:
        """The backend sent a final outcome: nothing more is expected for this request."""
        with self._lock:
            self._db.execute("DELETE FROM awaiting WHERE request_id = ?", (request_id,))

    def pending(self, limit: int | None = None) -> list[OutboxEntry]:
        """Rows in send order: emergencies first, then oldest first."""
        sql = "SELECT seq, request_id, request_type, tier, created_at, payload FROM outbox ORDER BY priority DESC, seq"
        with self._lock:
            rows = self._db.execute(sql + (" LIMIT ?" if limit else ""), (limit,) if limit else ()).fetchall()
        return [OutboxEntry(r[0], r[1], r[2], r[3], r[4], bytes(r[5])) for r in rows]

    def depth(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def oldest_created_at(self) -> float | None:
        with self._lock:
            row = self._db.execute("SELECT MIN(created_at) FROM outbox").fetchone()
        return None if row[0] is None else float(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
