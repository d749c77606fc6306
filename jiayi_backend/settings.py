"""Settings of one ``jiayi backend run`` process: command-line options over environment variables.

Every option has an environment variable (``JIAYI_BACKEND_<NAME>``), so a systemd unit keeps them
in ``/etc/jiayi/backend.env``. Secrets are never options: the broker password is read from a file
(``--password-file``) so it does not show up in ``ps``. :func:`load` checks everything a worker
would trip on later (URLs, files, certificates) and raises :class:`SettingsError` with one plain
sentence naming the option and the fix.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final

from assistant.link.protocol import parse_url

ENV_PREFIX: Final = "JIAYI_BACKEND_"
DEFAULT_URL: Final = "mqtt://127.0.0.1:1883"
DB_FILE: Final = "backend.sqlite3"
MAX_WORKERS: Final = 64


class SettingsError(ValueError):
    """A setting that cannot work; the message names the option and the fix."""


@dataclass(frozen=True)
class BackendSettings:
    url: str = DEFAULT_URL
    """Broker URL, ``mqtt://host:port`` or ``mqtts://host:port`` (TLS)."""
    db: str = ""
    """Request store: an SQLite file path, or a ``postgresql://user@host/db`` URL for several workers."""
    workers: int = 1
    """MQTT workers in this process (each its own client id on the shared subscription)."""
    worker_id: str = ""
    """Stable id of this process's worker (client id ``jiayi-backend-<id>``); default ``<host>-<pid>``.
    Stable ids let a restarted worker take back its broker session."""
    username: str = ""
    """Broker user name of this worker (on a locked-down broker also its client id)."""
    password_file: str = ""
    """File holding the broker password (first line)."""
    tls_ca: str = ""
    """CA certificate that signed the broker's certificate (mqtts:// only; default: system CAs)."""
    tls_cert: str = ""
    """This worker's client certificate (mutual TLS); its CN is its identity on the broker."""
    tls_key: str = ""
    """Private key of ``tls_cert``."""
    web: str = ""
    """``host:port`` to serve the doctor team's page on (empty: no page)."""
    doctor_name: str = "your doctor"
    """How spoken answers name the doctor when the request does not ("Dr. Chen")."""
    nobody_answers_emergencies: bool = False
    """Demo and tests: answer emergencies with ``nobody_answered`` (the device starts the phone fallback)."""

    def password(self) -> str:
        if not self.password_file:
            return ""
        try:
            return Path(self.password_file).expanduser().read_text("utf-8").splitlines()[0].strip()
        except (OSError, UnicodeDecodeError, IndexError) as err:
            reason = "it is empty" if isinstance(err, IndexError) else str(err)
            raise SettingsError(f"--password-file {self.password_file}: cannot read it ({reason})") from None

    def web_address(self) -> tuple[str, int] | None:
        if not self.web:
            return None
        host, _, port = self.web.rpartition(":")
        try:
            number = int(port)
        except ValueError:
            number = -1
        if not 0 <= number <= 65535:
            raise SettingsError(f"--web {self.web!r}: write host:port, e.g. 127.0.0.1:8080")
        return (host.strip("[]") or "127.0.0.1", number)


def _env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def load(options: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> BackendSettings:
    """Options given on the command line win over ``JIAYI_BACKEND_*``; then everything is checked."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(BackendSettings):
        given = options.get(f.name)
        if given is None or given is False:
            given = environ.get(_env_name(f.name))
        if given is None or given == "":
            continue
        if f.type == "int":
            try:
                given = int(given)
            except ValueError:
                raise SettingsError(f"{_env_name(f.name)}={given!r} is not a whole number") from None
        elif f.type == "bool":
            given = (
                str(given).lower() in ("1", "true", "yes", "on") if isinstance(given, str) else bool(given)
            )
        values[f.name] = given
    settings = BackendSettings(**values)
    check(settings)
    return settings


def check(settings: BackendSettings) -> None:
    try:
        address = parse_url(settings.url)
    except ValueError as err:
        raise SettingsError(f"--url: {err}") from None
    if not 1 <= settings.workers <= MAX_WORKERS:
        raise SettingsError(f"--workers {settings.workers}: choose 1 to {MAX_WORKERS}")
    if settings.worker_id and not all(c.isalnum() or c in "-_" for c in settings.worker_id):
        raise SettingsError(f"--worker-id {settings.worker_id!r}: use letters, digits, '-' and '_'")
    settings.password()
    settings.web_address()
    if settings.workers > 1 and (settings.username or settings.tls_cert):
        raise SettingsError(
            f"--workers {settings.workers} with a broker identity: a locked-down broker makes the identity"
            " the client id, so the workers would throw each other off. Run one process per worker, each"
            " with its own identity (--workers 1)"
        )
    if settings.password_file and not settings.username:
        raise SettingsError("--password-file needs --username (the broker identity it belongs to)")
    if not address.tls and (settings.tls_ca or settings.tls_cert or settings.tls_key):
        raise SettingsError("TLS files are set but --url is not mqtts://: use mqtts://host:8883")
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise SettingsError("--tls-cert and --tls-key go together (the certificate and its private key)")
    if address.tls:
        _check_tls(settings)


def _check_tls(settings: BackendSettings) -> None:
    context = ssl.create_default_context()
    if settings.tls_ca:
        try:
            context.load_verify_locations(cafile=settings.tls_ca)
        except (OSError, ssl.SSLError) as err:
            raise SettingsError(
                f"--tls-ca {settings.tls_ca}: not a readable CA certificate ({err})"
            ) from None
    if settings.tls_cert:
        try:
            context.load_cert_chain(settings.tls_cert, settings.tls_key)
        except (OSError, ssl.SSLError) as err:
            raise SettingsError(
                f"--tls-cert/--tls-key {settings.tls_cert}: not a readable certificate and matching key ({err})"
            ) from None
