"""Who may do what on a locked-down mosquitto: the dynamic-security file for docs/mosquitto/.

Why the dynamic-security plugin and not ``acl_file``: mosquitto 2.0's ``acl_file`` does not check
SUBSCRIBE at all (its subscribe check returns "allowed"; only delivery is filtered), so any device
could join ``$share/jiayi-backend/...`` and silently swallow a share of every home's requests. The
plugin checks subscriptions against the full filter, ``$share/<group>/`` included, and denies
anything not granted. It has no ``%u`` patterns in 2.0, so each device gets its own role naming
its own topics; this module writes them.

Identities: a device's user name (password login) or certificate CN (``use_identity_as_username``)
is its device id; every backend worker has its own identity ``jiayi-backend-<worker>``. The shipped
config sets ``use_username_as_clientid true``, so the client id is the identity: nobody can take
another's client id (and kick it off), whatever id it asks for.

Passwords are hashed the way the plugin expects (PBKDF2-SHA512, mosquitto's default 101 rounds:
the broker checks every (re)connect of thousands of speakers, and the passwords are random).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any, Final

from assistant.link import protocol as messages

BACKEND_ROLE: Final = "jiayi-backend"
BACKEND_PREFIX: Final = "jiayi-backend"
DEVICE_ROLE_PREFIX: Final = "jiayi-device-"
PBKDF2_ROUNDS: Final = 101
SHARE_FILTER: Final = f"$share/jiayi-backend/{messages.TOPIC_PREFIX}/+/"


class AccessError(ValueError):
    """An identity that cannot be added (reserved name, bad id, unreadable file)."""


def _acl(kind: str, topic: str) -> dict[str, Any]:
    return {"acltype": kind, "topic": topic, "priority": 0, "allow": True}


def backend_role() -> dict[str, Any]:
    prefix = messages.TOPIC_PREFIX
    return {
        "rolename": BACKEND_ROLE,
        "textdescription": "Jiayi backend workers: the share group, answers and commands to every device",
        "acls": [
            _acl("subscribeLiteral", f"{SHARE_FILTER}{messages.REQUESTS}"),
            _acl("subscribeLiteral", f"{SHARE_FILTER}{messages.EVENTS}"),
            _acl("subscribeLiteral", f"{SHARE_FILTER}{messages.STATUS}"),
            _acl("publishClientReceive", f"{prefix}/+/{messages.REQUESTS}"),
            _acl("publishClientReceive", f"{prefix}/+/{messages.EVENTS}"),
            _acl("publishClientReceive", f"{prefix}/+/{messages.STATUS}"),
            _acl("publishClientSend", f"{prefix}/+/{messages.RESPONSES}"),
            _acl("publishClientSend", f"{prefix}/+/{messages.COMMANDS}"),
        ],
    }


def device_role(device_id: str) -> dict[str, Any]:
    send = (messages.REQUESTS, messages.EVENTS, messages.STATUS)
    receive = (messages.RESPONSES, messages.COMMANDS)
    acls = [_acl("publishClientSend", messages.topic(device_id, kind)) for kind in send]
    for kind in receive:
        acls.append(_acl("subscribeLiteral", messages.topic(device_id, kind)))
        acls.append(_acl("publishClientReceive", messages.topic(device_id, kind)))
    return {"rolename": DEVICE_ROLE_PREFIX + device_id, "acls": acls}


def _client(username: str, password: str | None, role: str) -> dict[str, Any]:
    client: dict[str, Any] = {"username": username, "roles": [{"rolename": role}]}
    if password is not None:
        salt = secrets.token_bytes(12)
        digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, PBKDF2_ROUNDS)
        client.update(
            password=base64.b64encode(digest).decode(),
            salt=base64.b64encode(salt).decode(),
            iterations=PBKDF2_ROUNDS,
        )
    return client


def empty_config() -> dict[str, Any]:
    """Deny everything by default; the roles grant exactly what each identity needs."""
    return {
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": False,
            "subscribe": False,
            "unsubscribe": True,
        },
        "clients": [],
        "groups": [],
        "roles": [backend_role()],
    }


class AccessFile:
    """The plugin's JSON file (``plugin_opt_config_file``). Edit with the broker stopped, or use
    ``mosquitto_ctrl dynsec`` on a running broker (it rewrites this file)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if self.path.exists():
            try:
                self.data = json.loads(self.path.read_text("utf-8"))
            except (OSError, ValueError) as err:
                raise AccessError(f"{self.path}: not a dynamic-security file ({err})") from None
        else:
            self.data = empty_config()

    def _replace(self, key: str, name_key: str, item: dict[str, Any]) -> None:
        items = [x for x in self.data.setdefault(key, []) if x.get(name_key) != item[name_key]]
        self.data[key] = [*items, item]

    def add_device(self, device_id: str, password: str | None = None) -> None:
        """A speaker: only its own topics. ``password`` None: it logs in with its certificate."""
        if not messages.DEVICE_ID_RE.fullmatch(device_id):
            raise AccessError(f"device id {device_id!r}: letters, digits, '-' and '_' only")
        if device_id.startswith(BACKEND_PREFIX):
            raise AccessError(
                f"device id {device_id!r}: names starting with {BACKEND_PREFIX!r} are the backend's"
            )
        self._replace("roles", "rolename", device_role(device_id))
        self._replace("clients", "username", _client(device_id, password, DEVICE_ROLE_PREFIX + device_id))

    def add_worker(self, identity: str, password: str | None = None) -> None:
        """A backend worker: its own identity (and so its own client id), the backend's role."""
        if not identity.startswith(BACKEND_PREFIX) or not messages.DEVICE_ID_RE.fullmatch(identity):
            raise AccessError(
                f"worker identity {identity!r}: write {BACKEND_PREFIX}-<name> (letters, digits, -, _)"
            )
        self._replace("roles", "rolename", backend_role())
        self._replace("clients", "username", _client(identity, password, BACKEND_ROLE))

    def remove(self, username: str) -> bool:
        before = len(self.data.get("clients", []))
        self.data["clients"] = [c for c in self.data.get("clients", []) if c.get("username") != username]
        self.data["roles"] = [
            r for r in self.data.get("roles", []) if r.get("rolename") != DEVICE_ROLE_PREFIX + username
        ]
        return len(self.data["clients"]) < before

    def usernames(self) -> list[str]:
        return [str(c.get("username")) for c in self.data.get("clients", [])]

    def save(self) -> None:
        """Atomically, readable only by its owner (it holds password hashes)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".dynsec-", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(self.data, out, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)
