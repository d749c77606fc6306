"""The doctor team: members who log in to the page, their sessions, and the audit trail.

Passwords are stored as scrypt hashes (``hashlib.scrypt``, a random salt each); a login session is
a random token in a cookie, of which the database keeps only the SHA-256, so a copy of the database
does not let anyone in. Every action a member takes, and every login, is a row in ``audit``:
who, when, what, for which device and request, the command id sent, and whether it reached the
broker. The audit rows of a device are also its timeline on the page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Final

from jiayi_backend.db import Database
from jiayi_backend.store import safe_text

SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
SCRYPT_LEN: Final = 32
SESSION_S: Final = 12 * 3600
MIN_PASSWORD: Final = 10
FAILED_LOGINS_MAX: Final = 10
"""Failed logins per user name within :data:`FAILED_LOGINS_WINDOW_S` before logins are refused."""
FAILED_LOGINS_WINDOW_S: Final = 600
USERNAME_RE: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
_DUMMY_HASH: Final = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


class TeamError(ValueError):
    """A member that cannot be added (the message says why)."""


@dataclass(frozen=True)
class Member:
    username: str
    display_name: str


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    member: str
    action: str
    device_id: str
    request_id: int | None
    detail: str
    command_id: str
    outcome: str


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_LEN
    )
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return kind == "scrypt" and hmac.compare_digest(actual, expected)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class TeamStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ members

    def add_member(self, username: str, display_name: str, password: str) -> Member:
        if not USERNAME_RE.fullmatch(username):
            raise TeamError(f"user name {username!r}: use 1-40 lower-case letters, digits, '.', '_' or '-'")
        display_name = " ".join(display_name.split())
        if not 1 <= len(display_name) <= 80 or not display_name.isprintable():
            raise TeamError("the name must be 1-80 printable characters")
        if len(password) < MIN_PASSWORD:
            raise TeamError(f"the password must have at least {MIN_PASSWORD} characters")
        if self.db.query("SELECT 1 FROM members WHERE username = ?", (username,)):
            raise TeamError(f"{username} is already a member")
        self.db.query(
            "INSERT INTO members (username, display_name, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (username, display_name, hash_password(password), time.time()),
        )
        self.audit(username, "member_added", detail=display_name, outcome="ok")
        return Member(username, display_name)

    def member(self, username: str) -> Member | None:
        rows = self.db.query(
            "SELECT username, display_name FROM members WHERE username = ? AND active = ?", (username, True)
        )
        return Member(str(rows[0][0]), str(rows[0][1])) if rows else None

    def authenticate(self, username: str, password: str) -> Member | None:
        """The member when the password is right (same work whether the name exists or not)."""
        username = username.strip().lower()[:40]
        if self._recent_failures(username) >= FAILED_LOGINS_MAX:
            self.audit(username or "?", "login_refused", detail="too many failed logins", outcome="refused")
            return None
        rows = self.db.query(
            "SELECT password_hash FROM members WHERE username = ? AND active = ?", (username, True)
        )
        ok = verify_password(password, str(rows[0][0]) if rows else _DUMMY_HASH) and bool(rows)
        self.audit(username or "?", "login" if ok else "login_failed", outcome="ok" if ok else "refused")
        return self.member(username) if ok else None

    def _recent_failures(self, username: str) -> int:
        since = time.time() - FAILED_LOGINS_WINDOW_S
        rows = self.db.query(
            "SELECT COUNT(*) FROM audit WHERE member = ? AND action = 'login_failed' AND at >= ?",
            (username, since),
        )
        return int(rows[0][0])

    # ------------------------------------------------------------------ sessions

    def start_session(self, member: Member) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        self.db.query(
            "INSERT INTO web_sessions (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (_token_hash(token), member.username, now, now + SESSION_S),
        )
        return token

    def session_member(self, token: str) -> Member | None:
        if not token or len(token) > 100:
            return None
        rows = self.db.query(
            "SELECT m.username, m.display_name FROM web_sessions s JOIN members m ON m.username = s.username"
            " WHERE s.token_hash = ? AND s.expires_at > ? AND m.active = ?",
            (_token_hash(token), time.time(), True),
        )
        return Member(str(rows[0][0]), str(rows[0][1])) if rows else None

    def end_session(self, token: str) -> None:
        self.db.query("DELETE FROM web_sessions WHERE token_hash = ?", (_token_hash(token),))

    # ------------------------------------------------------------------ audit

    def audit(
        self,
        member: str,
        action: str,
        *,
        device_id: str | None = None,
        request_id: int | None = None,
        detail: str = "",
        command_id: str | None = None,
        outcome: str,
    ) -> None:
        self.db.query(
            "INSERT INTO audit (at, member, action, device_id, request_id, detail, command_id, outcome)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                time.time(),
                member,
                action,
                device_id,
                request_id,
                safe_text(detail)[:500],
                command_id,
                outcome,
            ),
        )

    def audit_rows(self, device_id: str | None = None, limit: int = 200) -> list[AuditEntry]:
        where, params = ("WHERE device_id = ?", [device_id]) if device_id else ("", [])
        rows = self.db.query(
            "SELECT id, at, member, action, device_id, request_id, detail, command_id, outcome FROM audit"
            f" {where} ORDER BY at DESC, id DESC LIMIT ?",
            (*params, limit),
        )
        return [_entry(row) for row in rows]


def _entry(row: tuple[Any, ...]) -> AuditEntry:
    rid, at, member, action, device, request_id, detail, command_id, outcome = row
    return AuditEntry(
        id=int(rid),
        at=float(at),
        member=str(member),
        action=str(action),
        device_id=str(device or ""),
        request_id=int(request_id) if request_id is not None else None,
        detail=str(detail or ""),
        command_id=str(command_id or ""),
        outcome=str(outcome),
    )
