"""Config checks beyond one value's type: text formats, files, folders and fields that must agree.

Everything ``jiayi run`` would trip on at start-up is caught here, so ``check-config`` and a
reload (SIGHUP) report it as a line-numbered problem instead of a traceback or a restart loop:
URLs the MQTT client cannot parse, a state folder that is a file, TLS files that are not
certificates or keys (or need a passphrase), a password file that cannot be read, a device id
that collides with the practice backend's own client ids, and contact names that are words the
assistant keeps for itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import re
import ssl
import stat
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from assistant.link.protocol import parse_url
from assistant.ops.config_schema import Context, TextCheck
from assistant.ops.settings import Settings

_DEVICE_ID_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PHONE_CHARS_RE: Final = re.compile(r"^\+?[0-9 ()./-]+$")
RESERVED_DEVICE_ID_RE: Final = re.compile(r"^(backend(-.*)?|cmd-.*)$")
"""Device ids whose MQTT client id (``jiayi-<device id>``) is one the practice's backend uses
itself (``jiayi-backend-<n>``, ``jiayi-backend-<n>-commands``, ``jiayi-cmd-<id>``): the broker
would throw one of the two off every time the other connects."""
RESERVED_NAMES: Final = frozenset(
    {
        "doctor",
        "my doctor",
        "the doctor",
        "emergency",
        "emergency services",
        "ambulance",
        "police",
        "help",
        "everyone",
        "医生",
        "急救",
        "救护车",
        "警察",
        "救命",
    }
)
"""Words the assistant keeps for the doctor and for emergencies; a contact called so would make
"call the doctor" or "call an ambulance" ring the wrong person."""
# File/folder settings resolved against the config file's folder.
_PATH_FIELDS: Final = (
    ("backend", "password_file"),
    ("audio", "input_wav"),
    ("audio", "output_dir"),
    ("asr", "models_dir"),
)
_TLS_FIELDS: Final = ("ca_file", "cert_file", "key_file")
_FOLDER_FIELDS: Final = ("state_dir", "audio.output_dir", "asr.models_dir")


# ---------------------------------------------------------------------------------------------
# Text checks (per schema path); each returns (message, fix) or None.


def _check_phone(text: str) -> tuple[str, str] | None:
    digits = re.sub(r"\D", "", text)
    if not _PHONE_CHARS_RE.match(text) or not 3 <= len(digits) <= 15 or "+" in text[1:]:
        return (
            f'"{text}" does not look like a phone number',
            'write digits, e.g. "+1 555 0100" or "13800138000"',
        )
    return None


def _check_device_id(text: str) -> tuple[str, str] | None:
    if not _DEVICE_ID_RE.match(text):
        return (
            f'"{text}" has characters a device id cannot have',
            "use only letters, digits, - and _ (at most 64), e.g. margaret-kitchen",
        )
    if RESERVED_DEVICE_ID_RE.match(text):
        return (
            f'"{text}" is a name the practice\'s backend uses for itself on the broker',
            "choose another device id, e.g. margaret-kitchen",
        )
    return None


def _check_url(text: str) -> tuple[str, str] | None:
    example = "mqtts://broker.example.org:8883"
    try:
        parsed = urllib.parse.urlsplit(text)
    except ValueError:  # e.g. "mqtt://[::1": an unclosed IPv6 bracket
        return (
            f'"{text}" is not a readable address (a [ or ] is out of place)',
            f"write it as scheme://host:port, IPv6 addresses in [brackets], e.g. {example}",
        )
    if parsed.scheme not in ("mqtt", "mqtts"):
        return f'"{text}" is not an MQTT address', f"start it with mqtt:// or mqtts://, e.g. {example}"
    try:
        port = parsed.port
    except ValueError:
        return f'"{text}" has a bad port number', f"use a port from 1 to 65535, e.g. {example}"
    if not parsed.hostname:
        return f'"{text}" has no server name', f"write the broker's name after the //, e.g. {example}"
    if port == 0 or (parsed.path not in ("", "/")) or parsed.query or parsed.fragment:
        return f'"{text}" is not a plain broker address', f"use scheme://host:port only, e.g. {example}"
    if parsed.username is not None or parsed.password is not None:
        return (
            f'"{text}" has a login inside the address',
            "put it in backend.username and backend.password_file instead",
        )
    try:
        parse_url(text)  # exactly what the relay does at start-up
        parsed.hostname.encode("idna")
    except (ValueError, UnicodeError):
        return f'"{text}" has a server name that cannot be looked up', f"check the spelling, e.g. {example}"
    return None


TEXT_CHECKS: Final[dict[str, TextCheck]] = {
    "doctor.phone": _check_phone,
    "contacts.phone": _check_phone,
    "emergency.local_number": _check_phone,
    "backend.device_id": _check_device_id,
    "backend.url": _check_url,
}


# ---------------------------------------------------------------------------------------------
# Paths and cross-field checks


def _resolve(folder: Path, value: str) -> str:
    if not value:
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (folder / path))


def resolve_paths(s: Settings, folder: Path) -> Settings:
    replace = dataclasses.replace
    tls = replace(s.backend.tls, **{f: _resolve(folder, getattr(s.backend.tls, f)) for f in _TLS_FIELDS})
    sections: dict[str, Any] = {"backend": replace(s.backend, tls=tls)}
    for section, name in _PATH_FIELDS:
        current = sections.get(section, getattr(s, section))
        sections[section] = replace(current, **{name: _resolve(folder, getattr(current, name))})
    return replace(s, state_dir=_resolve(folder, s.state_dir), **sections)


def check_cross_fields(s: Settings, ctx: Context) -> None:
    checks = (
        _check_contacts,
        _check_reserved_names,
        _check_medications,
        _check_quiet_hours,
        _check_backend,
        _check_devices,
        _check_folders,
        _check_catalog,
        _check_routes,
    )
    for check in checks:
        check(s, ctx)
    if s.reminders.missed_after_s <= s.reminders.answer_timeout_s:
        ctx.add(
            ctx.line_of("reminders.missed_after_s", ctx.line_of("reminders")),
            "reminders.missed_after_s",
            "a dose would be reported missed before the reminder is repeated",
            "make missed_after_s larger than answer_timeout_s",
            depends=("reminders.answer_timeout_s",),
        )


def _duplicates(names: list[tuple[str, str]]) -> Iterator[tuple[str, str, str]]:
    """(key, text, first key) for every repeated text, ignoring case and spaces."""
    seen: dict[str, str] = {}
    for key, text in names:
        norm = " ".join(text.lower().split())
        if norm in seen:
            yield key, text, seen[norm]
        else:
            seen[norm] = key


def _report_repeats(names: list[tuple[str, str]], message: str, fix: str, ctx: Context) -> None:
    """One problem per repeated name; ``message`` may use {text} and {first}."""
    for key, text, first in _duplicates(names):
        ctx.add(ctx.line_of(key), key, message.format(text=text, first=first), fix, depends=(first,))


def _report_shared_words(owned: list[tuple[str, str, str]], meant: str, thing: str, ctx: Context) -> None:
    """Report a name or alias used by two different people/medicines (owner = the list item)."""
    seen: dict[str, tuple[str, str]] = {}
    for key, text, owner in owned:
        norm = " ".join(text.lower().split())
        if norm not in seen:
            seen[norm] = (key, owner)
            continue
        first, first_owner = seen[norm]
        if first_owner == owner or (
            key.endswith(".name") and first.endswith(".name") and first_owner != "doctor"
        ):
            continue  # same item, or a duplicate name (reported on its own)
        ctx.add(
            ctx.line_of(key),
            key,
            f'"{text}" is also used by {first}, so the assistant could not tell {meant}',
            f"use each name or alias for only one {thing}",
            depends=(first,),
        )


def _check_contacts(s: Settings, ctx: Context) -> None:
    names = [(f"contacts[{i}].name", c.name) for i, c in enumerate(s.contacts)]
    _report_repeats(
        names,
        'two contacts are called "{text}" (the other is {first})',
        "give each contact a different name, e.g. add the surname",
        ctx,
    )
    # Everything a person could ask to call must point at one person.
    owned = [("doctor.name", s.doctor.name, "doctor")]
    owned += [(key, text, key.split(".")[0]) for key, text in names]
    owned += [(f"doctor.aliases[{i}]", a, "doctor") for i, a in enumerate(s.doctor.aliases)]
    for i, c in enumerate(s.contacts):
        owned += [(f"contacts[{i}].aliases[{j}]", a, f"contacts[{i}]") for j, a in enumerate(c.aliases)]
    _report_shared_words(owned, "who is meant", "person", ctx)
    for i, c in enumerate(s.contacts):
        for flag in ("emergency", "sms"):
            if getattr(c, flag) and not c.phone:
                key = f"contacts[{i}].{flag}"
                ctx.add(
                    ctx.line_of(key),
                    key,
                    f"{c.name} is marked for {'emergency calls' if flag == 'emergency' else 'text messages'} "
                    "but has no phone number",
                    f'add phone: "..." for {c.name}',
                    depends=(f"contacts[{i}].phone", f"contacts[{i}].name"),
                )


def _check_medications(s: Settings, ctx: Context) -> None:
    names = [(f"medications[{i}].name", m.name) for i, m in enumerate(s.medications)]
    _report_repeats(
        names,
        '"{text}" is listed twice (the other is {first})',
        "list each medicine once, with all its times",
        ctx,
    )
    owned = [(key, text, key.split(".")[0]) for key, text in names]
    for i, m in enumerate(s.medications):
        owned += [(f"medications[{i}].aliases[{j}]", a, f"medications[{i}]") for j, a in enumerate(m.aliases)]
    _report_shared_words(owned, "which medicine is meant", "medicine", ctx)
    for i, m in enumerate(s.medications):
        seen: set[dt.time] = set()
        for j, t in enumerate(m.times):
            key = f"medications[{i}].times[{j}]"
            if t in seen:
                ctx.add(ctx.line_of(key), key, f"{t:%H:%M} is listed twice", "remove the repeated time")
            seen.add(t)
            if s.quiet_hours.contains(t):
                ctx.add(
                    ctx.line_of(key),
                    key,
                    f"the reminder at {t:%H:%M} falls inside quiet hours "
                    f"({s.quiet_hours.start:%H:%M}-{s.quiet_hours.end:%H:%M}) and would never be spoken",
                    "move the reminder or the quiet hours",
                    depends=("quiet_hours",),
                )


def _check_quiet_hours(s: Settings, ctx: Context) -> None:
    q = s.quiet_hours
    if (q.start is None) != (q.end is None):
        missing = "end" if q.end is None else "start"
        ctx.add(
            ctx.line_of("quiet_hours"),
            f"quiet_hours.{missing}",
            "quiet hours need both a start and an end",
            f'add {missing}: "HH:MM", or remove quiet_hours to have none',
        )
    elif q.start is not None and q.start == q.end:
        ctx.add(
            ctx.line_of("quiet_hours.end"),
            "quiet_hours.end",
            "quiet hours start and end at the same time",
            "set a different end, or remove quiet_hours to have none",
        )
    t = s.checkin.time
    if t is not None and q.contains(t):
        ctx.add(
            ctx.line_of("checkin.time"),
            "checkin.time",
            f"the check-in at {t:%H:%M} falls inside quiet hours and would never be spoken",
            "move the check-in or the quiet hours",
            depends=("quiet_hours",),
        )


def _is_private_host(host: str) -> bool:
    if host in ("localhost",) or host.endswith((".local", ".lan", ".home", ".internal")) or "." not in host:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def _check_backend(s: Settings, ctx: Context) -> None:
    b = s.backend
    tls = b.tls
    _check_tls_files(tls, ctx, contents=b.url.startswith("mqtts://"))
    if bool(tls.cert_file) != bool(tls.key_file):
        given, missing = ("cert_file", "key_file") if tls.cert_file else ("key_file", "cert_file")
        key = f"backend.tls.{given}"
        ctx.add(
            ctx.line_of(key),
            key,
            "a client certificate needs both cert_file and key_file",
            f"add {missing} too, or remove {given}",
        )
    _check_password_file(b.password_file, ctx)
    if b.password and b.password_file:
        ctx.add(
            ctx.line_of("backend.password"),
            "backend.password",
            "both password and password_file are set",
            "keep only password_file",
        )
    if not b.url:
        return
    parsed = urllib.parse.urlsplit(b.url)
    has_tls_files = any(getattr(tls, n) for n in _TLS_FIELDS)
    if parsed.scheme == "mqtt" and has_tls_files:
        ctx.add(
            ctx.line_of("backend.url"),
            "backend.url",
            "TLS files are set but mqtt:// does not encrypt",
            "use mqtts:// to connect with TLS",
        )
    if (
        parsed.scheme == "mqtt"
        and (b.password or b.password_file)
        and not _is_private_host(parsed.hostname or "")
    ):
        ctx.add(
            ctx.line_of("backend.url"),
            "backend.url",
            "the password would travel unencrypted over the internet with mqtt://",
            "use mqtts:// for a broker outside your home network",
        )
    if parsed.scheme == "mqtts" and not tls.ca_file and _is_private_host(parsed.hostname or ""):
        ctx.add(
            ctx.line_of("backend.url"),
            "backend.tls.ca_file",
            f"{parsed.hostname} is a local broker, whose certificate public CAs cannot vouch for",
            "set backend.tls.ca_file to the broker's CA certificate (PEM)",
            depends=("backend.url",),
        )


def _check_devices(s: Settings, ctx: Context) -> None:
    a = s.audio
    if a.input == "wav" and not a.input_wav:
        ctx.add(
            ctx.line_of("audio.input"),
            "audio.input_wav",
            "input: wav needs a WAV file",
            "set input_wav",
            ("audio.input",),
        )
    elif a.input == "wav" and path_kind(a.input_wav) != "file":
        ctx.add(
            ctx.line_of("audio.input_wav"),
            "audio.input_wav",
            f"the file {a.input_wav} does not exist",
            "check the path (relative paths start from the config file's folder)",
        )
    if a.output == "wav" and not a.output_dir:
        ctx.add(
            ctx.line_of("audio.output"), "audio.output_dir", "output: wav needs a folder", "set output_dir"
        )
    p = s.phone_fallback
    if p.enabled and p.driver == "modem" and not p.serial_port:
        ctx.add(
            ctx.line_of("phone_fallback.driver"),
            "phone_fallback.serial_port",
            "the modem needs a serial port",
            "set serial_port, e.g. /dev/ttyUSB2",
            depends=("phone_fallback",),
        )


def _check_routes(s: Settings, ctx: Context) -> None:
    """An emergency must reach a person (backend or modem) unless the caregiver wrote the opt-out."""
    from assistant.conversation.routes import missing_route

    problem = missing_route(s) if not ctx.problems else None  # judged on an otherwise sound file
    if problem is not None:
        line = ctx.line_of("backend.url") or ctx.line_of("phone_fallback") or 1
        ctx.add(
            line, "emergency.accept_alarm_only", *problem, depends=("backend", "phone_fallback", "contacts")
        )
    e = s.emergency
    p = s.phone_fallback
    if e.dial_local_number and not (e.local_number and p.enabled and p.driver == "modem"):
        ctx.add(
            ctx.line_of("emergency.dial_local_number"),
            "emergency.dial_local_number",
            "dialling the emergency number needs emergency.local_number and a modem (phone_fallback.driver: modem)",
            "set both, or remove dial_local_number",
            depends=("emergency.local_number", "phone_fallback"),
        )


def _check_catalog(s: Settings, ctx: Context) -> None:
    from assistant.understanding.catalog_files import choice_problems

    for message, fix in choice_problems(s.understanding.catalog, s.language):
        ctx.add(
            ctx.line_of("understanding.catalog"), "understanding.catalog", message, fix, ("person.language",)
        )


# ---------------------------------------------------------------------------------------------
# Names the assistant keeps for itself


def _check_reserved_names(s: Settings, ctx: Context) -> None:
    words = [(f"contacts[{i}].name", c.name) for i, c in enumerate(s.contacts)]
    for i, c in enumerate(s.contacts):
        words += [(f"contacts[{i}].aliases[{j}]", a) for j, a in enumerate(c.aliases)]
    for key, text in words:
        if " ".join(text.lower().split()) in RESERVED_NAMES:
            ctx.add(
                ctx.line_of(key),
                key,
                f'"{text}" is a word the assistant keeps for the doctor or for emergencies',
                "use the person's own name, e.g. Anna",
            )


# ---------------------------------------------------------------------------------------------
# Files and folders the assistant opens at start-up


def path_kind(path: str | Path) -> str:
    """``file``, ``folder``, ``other`` (device, socket), ``missing`` or ``unreadable``; never raises."""
    try:
        mode = Path(path).stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except (OSError, ValueError):  # permission, name too long, loops, NUL bytes
        return "unreadable"
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "other"


def _missing_file(value: str, key: str, ctx: Context) -> bool:
    """Report a missing file or a folder given as a file; True when reported."""
    kind = path_kind(value)
    if kind == "folder":
        ctx.add(ctx.line_of(key), key, f"{value} is a folder, not a file", "give the path of the file")
        return True
    if kind == "unreadable":
        ctx.add(
            ctx.line_of(key),
            key,
            f"{value} cannot be looked at (permission denied or a broken path)",
            "check the path and that the jiayi user may read it",
        )
        return True
    if kind != "file":
        ctx.add(
            ctx.line_of(key),
            key,
            f"the file {value} does not exist",
            "check the path (relative paths start from the config file's folder)",
        )
        return True
    return False


def _refuse_passphrase(*_args: Any) -> bytes:
    raise _NeedsPassphrase


class _NeedsPassphrase(Exception):
    """The key file is encrypted: nobody is there to type its passphrase at start-up."""


def _check_tls_files(tls: Any, ctx: Context, contents: bool) -> None:
    """Load the files exactly as the MQTT client will (an ssl context), so ``run`` cannot fail on them.

    ``contents``: only an ``mqtts://`` connection reads them (plain ``mqtt://`` with TLS files is
    reported on its own)."""
    usable = {
        name: not _missing_file(getattr(tls, name), f"backend.tls.{name}", ctx)
        for name in _TLS_FIELDS
        if getattr(tls, name)
    }
    if not contents:
        return
    if usable.get("ca_file"):
        try:
            ssl.create_default_context().load_verify_locations(cafile=tls.ca_file)
        except (ssl.SSLError, OSError, ValueError):
            ctx.add(
                ctx.line_of("backend.tls.ca_file"),
                "backend.tls.ca_file",
                f"{tls.ca_file} is not a CA certificate (PEM)",
                "ask the practice for its CA certificate: a text file starting with -----BEGIN CERTIFICATE-----",
            )
    if usable.get("cert_file") and usable.get("key_file"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            context.load_cert_chain(tls.cert_file, tls.key_file, password=_refuse_passphrase)
        except _NeedsPassphrase:
            ctx.add(
                ctx.line_of("backend.tls.key_file"),
                "backend.tls.key_file",
                f"{tls.key_file} is protected by a passphrase, which nobody can type at start-up",
                "ask the practice for a key without a passphrase (or remove it: openssl pkey -in KEY -out KEY2)",
            )
        except (ssl.SSLError, OSError, ValueError) as err:
            ctx.add(
                ctx.line_of("backend.tls.cert_file"),
                "backend.tls.cert_file",
                f"{tls.cert_file} and {tls.key_file} are not a certificate (PEM) and its matching private key"
                f" ({getattr(err, 'reason', None) or 'unreadable'})",
                "ask the practice for this speaker's certificate and key files",
            )


def _check_password_file(value: str, ctx: Context) -> None:
    key = "backend.password_file"
    if not value or _missing_file(value, key, ctx):
        return
    try:
        text = Path(value).read_bytes()[:4096].decode("utf-8").strip()
    except PermissionError:
        ctx.add(
            ctx.line_of(key),
            key,
            f"{value} cannot be read (permission denied)",
            "make it readable for the jiayi user",
        )
        return
    except (OSError, UnicodeDecodeError):
        ctx.add(
            ctx.line_of(key),
            key,
            f"{value} is not a text file",
            "write the password on one line in a plain text file",
        )
        return
    if not text:
        ctx.add(ctx.line_of(key), key, f"{value} is empty", "write the password on the first line")


def _check_folders(s: Settings, ctx: Context) -> None:
    """A folder setting must not name a file, nor lie below one (``mkdir`` would fail at start-up)."""
    values = {
        "state_dir": s.state_dir,
        "audio.output_dir": s.audio.output_dir,
        "asr.models_dir": s.asr.models_dir,
    }
    for key in _FOLDER_FIELDS:
        value = values[key]
        if not value:
            continue
        path = Path(value)
        blocker = next((p for p in (path, *path.parents) if path_kind(p) in ("file", "other")), None)
        if blocker is not None:
            what = f"{value} is a file" if blocker == path else f"{blocker} (part of {value}) is a file"
            ctx.add(
                ctx.line_of(key),
                key,
                f"{what}, not a folder",
                "name a folder (it is created when missing), or move the file away",
            )
