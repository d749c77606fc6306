"""The two databases the backend runs on, behind one small interface, and versioned migrations.

- SQLite (a file path): the embedded default for ``make run`` and a single small practice. Safe to
  share between the processes of one machine (WAL, busy timeout).
- PostgreSQL (a ``postgresql://`` URL): for several workers on several machines. psycopg 3 with a
  connection pool; the pool reconnects after a database restart.

SQL is written once with ``?`` placeholders (converted to ``%s`` for psycopg). The schema lives in
numbered files, ``jiayi_backend/migrations/<dialect>/NNNN_name.sql`` (package data); the
``schema_version`` table records which ran. Workers that start together serialise on a lock
(an advisory lock in PostgreSQL, ``BEGIN IMMEDIATE`` in SQLite), so each migration runs once.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Final, Protocol

_LOGGER = logging.getLogger(__name__)

BUSY_TIMEOUT_MS: Final = 10000
POOL_MAX: Final = 4
POOL_TIMEOUT_S: Final = 10.0
CONNECT_TIMEOUT_S: Final = 5
MIGRATION_LOCK_KEY: Final = 0x4A59_4231  # "JYB1": the advisory lock migrations hold
_MIGRATION_RE: Final = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class DatabaseError(RuntimeError):
    """The database cannot be opened or migrated (the message says what to do)."""


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def fetchall(self) -> list[tuple[Any, ...]]: ...
    def fetchone(self) -> tuple[Any, ...] | None: ...


class Database(Protocol):
    """What the stores need: one statement at a time, or several in one transaction."""

    dialect: str
    """``sqlite`` or ``postgres`` (names the migrations folder)."""
    where: str
    """Where the data lives, for messages (a path or the URL without its password)."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def transaction(self) -> contextlib.AbstractContextManager[Cursor]: ...
    def close(self) -> None: ...


def is_postgres(target: str | Path) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """The URL without its password (safe to print and log)."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def _switch_to_wal(db: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode=WAL``, retried: SQLite answers "database is locked" at once, without
    its busy handler, when another process is switching the same new file at that moment (two
    workers started together: 8 in 200 starts failed that way here)."""
    end = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > end:
                raise
            time.sleep(0.02)


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            _switch_to_wal(self._db)
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
        except (OSError, sqlite3.Error) as err:
            raise DatabaseError(f"cannot open the SQLite store {self.path}: {err}") from None
        self._lock = threading.RLock()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db.cursor()
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()


class _PgCursor:
    """psycopg cursor with ``?`` placeholders."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(sql.replace("?", "%s"), tuple(params) or None)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cur.fetchall()

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cur.fetchone()


class PostgresDatabase:
    dialect = "postgres"

    def __init__(self, url: str, max_size: int = POOL_MAX) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise DatabaseError(
                "PostgreSQL needs psycopg: pip install 'jiayi[backend]' (psycopg[binary], psycopg_pool)"
            ) from None
        self.where = redact(url)
        try:  # one direct attempt first: a plain reason at once instead of the pool's retries
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
        except psycopg.Error as err:
            reason = " ".join(str(err).split())[:300]
            raise DatabaseError(f"cannot reach PostgreSQL at {self.where}: {reason}") from None
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            timeout=POOL_TIMEOUT_S,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
            check=ConnectionPool.check_connection,
            open=False,
            name="jiayi-backend",
        )
        try:
            self._pool.open(wait=True, timeout=POOL_TIMEOUT_S)
        except Exception as err:  # PoolTimeout, OperationalError: a plain message, no traceback
            self._pool.close()
            raise DatabaseError(f"cannot reach PostgreSQL at {self.where}: {err}") from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._pool.connection() as conn:
            cur = conn.execute(sql.replace("?", "%s"), tuple(params) or None)
            return cur.fetchall() if cur.description else []

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield _PgCursor(cur)

    def close(self) -> None:
        self._pool.close()


def open_database(target: str | Path) -> Database:
    """A migrated database: PostgreSQL for a ``postgresql://`` URL, else an SQLite file."""
    db: Database = PostgresDatabase(str(target)) if is_postgres(target) else SqliteDatabase(Path(target))
    try:
        migrate(db)
    except Exception:
        db.close()
        raise
    return db


# ---------------------------------------------------------------- migrations


def migrations(dialect: str) -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration shipped for ``dialect``, in order."""
    folder = resources.files("jiayi_backend").joinpath("migrations", dialect)
    out = []
    for entry in folder.iterdir():
        match = _MIGRATION_RE.match(entry.name)
        if match:
            out.append((int(match.group(1)), entry.name, entry.read_text("utf-8")))
    return sorted(out)


def statements(script: str) -> list[str]:
    """Split a migration file on semicolons that end a line (comments dropped)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]


def schema_version(db: Database) -> int:
    try:
        rows = db.query("SELECT MAX(version) FROM schema_version")
    except Exception:
        return 0
    return int(rows[0][0] or 0) if rows else 0


def migrate(db: Database) -> int:
    """Apply every migration newer than the database; returns the version it is at."""
    shipped = migrations(db.dialect)
    with db.transaction() as cur:
        if db.dialect == "postgres":  # before anything else: even CREATE ... IF NOT EXISTS races
            cur.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK_KEY,))
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
        )
        cur.execute("SELECT MAX(version) FROM schema_version")
        row = cur.fetchone()
        current = int(row[0] or 0) if row else 0
        newest = shipped[-1][0] if shipped else 0
        if current > newest:
            raise DatabaseError(
                f"the database at {db.where} has schema version {current}, newer than this program's"
                f" {newest}: upgrade jiayi on this machine"
            )
        adopted = current == 0 and db.dialect == "sqlite" and _set_aside_unversioned(cur)
        for version, name, script in shipped:
            if version <= current:
                continue
            for statement in statements(script):
                cur.execute(statement)
            cur.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, time.time()),
            )
            _LOGGER.info("event=backend_migrated version=%d name=%s where=%s", version, name, db.where)
            current = version
        if adopted:
            _copy_unversioned(cur)
    return current


def _set_aside_unversioned(cur: Cursor) -> bool:
    """A store written before migrations existed (one ``requests`` table keyed by message id):
    rename it so 0001 can create the new layout; its rows are copied back afterwards."""
    cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'requests'")
    if not cur.fetchone():
        return False
    cur.execute("ALTER TABLE requests RENAME TO requests_unversioned")
    return True


def _copy_unversioned(cur: Cursor) -> None:
    cur.execute(
        "INSERT OR IGNORE INTO requests (device_id, message_id, request_type, tier, sent_at, received_at, worker,"
        " payload, state) SELECT device_id, lower(message_id), request_type, tier, sent_at, received_at,"
        " worker, payload, 'info' FROM requests_unversioned ORDER BY received_at"
    )
    cur.execute("DROP TABLE requests_unversioned")
    _LOGGER.info("event=backend_adopted_unversioned_store")
