"""MQTT protocol v1 between a speaker (device) and the family-doctor backend.

Every message is a small frozen dataclass with ``to_json()``; :func:`from_json` parses bytes from the
wire, checks size, JSON, schema version and the JSON Schema in ``assistant/schemas/<type>.json``
and raises :class:`ProtocolError` (a ``ValueError``) with a plain message when anything is wrong.
The protocol is documented in ``docs/protocol.md``.

Topics (one set per device)::

    jiayi/v1/<device_id>/requests   device -> backend  Request (QoS 1, response topic + correlation data)
    jiayi/v1/<device_id>/responses  backend -> device  Ack (QoS 1, correlation data = request id)
    jiayi/v1/<device_id>/commands   backend -> device  Say, ScheduleUpdate, Ping (QoS 1, message expiry)
    jiayi/v1/<device_id>/events     device -> backend  Pong
    jiayi/v1/<device_id>/status     device -> backend  Status (retained; the will message says offline)
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import math
import re
import socket
import uuid
from dataclasses import dataclass, field, fields
from importlib import resources
from typing import Any, ClassVar, Final
from urllib.parse import urlsplit

SCHEMA_VERSION: Final = "jiayi/v1"
TOPIC_PREFIX: Final = "jiayi/v1"
MAX_PAYLOAD_BYTES: Final = 8192
"""Anything larger is refused before it is parsed."""
DEVICE_ID_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# Message types (the ``type`` field).
TYPE_REQUEST: Final = "request"
TYPE_ACK: Final = "ack"
TYPE_SAY: Final = "say"
TYPE_SCHEDULE_UPDATE: Final = "schedule_update"
TYPE_PING: Final = "ping"
TYPE_PONG: Final = "pong"
TYPE_STATUS: Final = "status"

# Request types (the ``request_type`` field of a request).
REQ_CALL_DOCTOR: Final = "call_doctor"
REQ_CALL_CONTACT: Final = "call_contact"
REQ_EMERGENCY: Final = "emergency"
REQ_REORDER_MEDICATION: Final = "reorder_medication"
REQ_MEDICATION_TAKEN: Final = "medication_taken"
REQ_MEDICATION_MISSED: Final = "medication_missed"
REQ_REPORT_SYMPTOM: Final = "report_symptom"
REQ_BOOK_APPOINTMENT: Final = "book_appointment"
REQ_CHECK_IN: Final = "check_in"
REQ_INACTIVITY: Final = "inactivity"
REQ_DAILY_SUMMARY: Final = "daily_summary"
"""Once a day: yesterday's emergencies and false alarms (cancelled emergencies), counts only."""
REQUEST_TYPES: Final = (
    REQ_CALL_DOCTOR,
    REQ_CALL_CONTACT,
    REQ_EMERGENCY,
    REQ_REORDER_MEDICATION,
    REQ_MEDICATION_TAKEN,
    REQ_MEDICATION_MISSED,
    REQ_REPORT_SYMPTOM,
    REQ_BOOK_APPOINTMENT,
    REQ_CHECK_IN,
    REQ_INACTIVITY,
    REQ_DAILY_SUMMARY,
)

REQUEST_TYPE_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
"""Any request type, slot name and context key (use ``fullmatch``): a catalog intent id of at most
64 characters. The types above keep their meaning; any other is a request of another command
domain (an integrator's catalog), which a backend stores and acknowledges generically."""
_ANY_UUID_RE: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_ID_FIELDS: Final = ("message_id", "request_id", "ping_id")


def is_protocol_request_type(request_type: str) -> bool:
    """One of the protocol's own request types (``REQUEST_TYPES``), not another domain's."""
    return request_type in REQUEST_TYPES


TIERS: Final = ("emergency", "confirm", "plain")

# Ack statuses.
ACK_RECEIVED: Final = "received"
ACK_IN_PROGRESS: Final = "in_progress"
ACK_DONE: Final = "done"
ACK_NOBODY_ANSWERED: Final = "nobody_answered"
"""An emergency nobody at the practice picked up: the device starts the phone fallback."""
ACK_REJECTED: Final = "rejected"
ACK_STATUSES: Final = (ACK_RECEIVED, ACK_IN_PROGRESS, ACK_DONE, ACK_NOBODY_ANSWERED, ACK_REJECTED)

STATE_ONLINE: Final = "online"
STATE_OFFLINE: Final = "offline"

# Topic suffixes.
REQUESTS: Final = "requests"
RESPONSES: Final = "responses"
COMMANDS: Final = "commands"
EVENTS: Final = "events"
STATUS: Final = "status"


class ProtocolError(ValueError):
    """A payload that is not a valid v1 message (malformed, oversized, wrong schema or type)."""


def topic(device_id: str, kind: str) -> str:
    """``jiayi/v1/<device_id>/<kind>``; kind is one of requests/responses/commands/events/status."""
    if not DEVICE_ID_RE.fullmatch(device_id):
        raise ValueError(f"device id {device_id!r} may only hold letters, digits, '-' and '_'")
    return f"{TOPIC_PREFIX}/{device_id}/{kind}"


def device_id_from_topic(name: str) -> str | None:
    parts = name.split("/")
    if len(parts) == 4 and f"{parts[0]}/{parts[1]}" == TOPIC_PREFIX and DEVICE_ID_RE.fullmatch(parts[2]):
        return parts[2]
    return None


def new_message_id() -> str:
    return str(uuid.uuid4())


def utc_now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def parse_time(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, kw_only=True)
class _Message:
    TYPE: ClassVar[str] = ""
    device_id: str
    """The speaker the message is from (device -> backend) or for (backend -> device)."""
    message_id: str = field(default_factory=new_message_id)
    """UUID; the idempotency key (receivers drop repeats)."""
    sent_at: str = field(default_factory=utc_now_iso)
    """ISO 8601 time with offset when the sender created the message."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": SCHEMA_VERSION, "type": self.TYPE}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = copy.deepcopy(value) if isinstance(value, dict | list) else value
        return out

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON, ready to publish."""
        return encode(self.to_dict())

    @classmethod
    def from_json(cls, payload: bytes | str):
        """Parse and validate; ProtocolError when it is not a valid message of this type."""
        message = from_json(payload)
        if not isinstance(message, cls):
            raise ProtocolError(f"expected a {cls.TYPE!r} message, got {message.TYPE!r}")
        return message


@dataclass(frozen=True, kw_only=True)
class Request(_Message):
    """Device -> backend: what the person asked for (intent, slots, confidence, minimal context)."""

    TYPE: ClassVar[str] = TYPE_REQUEST
    request_type: str
    tier: str = "plain"
    slots: dict[str, Any] = field(default_factory=dict)
    confidence: float | None = None
    call_back_by_phone: bool = False
    lang: str = "en"
    context: dict[str, Any] = field(default_factory=dict)
    transcript: str | None = None
    """Only present when the caregiver opted in (``backend.send_transcripts``)."""


@dataclass(frozen=True, kw_only=True)
class Ack(_Message):
    """Backend -> device on the response topic: stored / progress / outcome of ``request_id``."""

    TYPE: ClassVar[str] = TYPE_ACK
    request_id: str
    status: str = ACK_RECEIVED
    text: str = ""
    """What the speaker tells the person, e.g. "Dr. Chen's team will call you within 10 minutes."."""


@dataclass(frozen=True, kw_only=True)
class Say(_Message):
    """Backend -> device command: speak ``text`` (dropped if it arrives after ``expires_at``)."""

    TYPE: ClassVar[str] = TYPE_SAY
    text: str
    lang: str = ""
    expires_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class ScheduleUpdate(_Message):
    """Backend -> device command: new reminder times, ``[{"name": "amlodipine", "times": ["08:00"]}]``."""

    TYPE: ClassVar[str] = TYPE_SCHEDULE_UPDATE
    medications: list[dict[str, Any]] = field(default_factory=list)
    expires_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class Ping(_Message):
    """Backend -> device command: answer with a Pong on the events topic."""

    TYPE: ClassVar[str] = TYPE_PING
    expires_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class Pong(_Message):
    """Device -> backend event answering a Ping."""

    TYPE: ClassVar[str] = TYPE_PONG
    ping_id: str


@dataclass(frozen=True, kw_only=True)
class Status(_Message):
    """Device status, retained on the status topic; the will message carries ``offline``."""

    TYPE: ClassVar[str] = TYPE_STATUS
    state: str
    version: str = ""
    health: dict[str, Any] = field(default_factory=dict)


MESSAGE_CLASSES: Final[dict[str, type[_Message]]] = {
    cls.TYPE: cls for cls in (Request, Ack, Say, ScheduleUpdate, Ping, Pong, Status)
}
COMMAND_CLASSES: Final = (Say, ScheduleUpdate, Ping)

Message = _Message


@functools.cache
def _schema(message_type: str) -> dict[str, Any]:
    text = resources.files("assistant.link").joinpath("schemas", f"{message_type}.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator(message_type: str):
    """jsonschema's validator of one message type: only to say what is wrong with a message
    :func:`_conforms` refused (importing jsonschema costs the daemon 5.7 MB resident)."""
    import jsonschema

    schema = _schema(message_type)
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    return validator_cls(schema)


def schema_for(message_type: str) -> dict[str, Any]:
    """The JSON Schema (as a dict) of one message type."""
    return dict(_schema(message_type))


_ANNOTATIONS: Final = frozenset({"$schema", "$id", "title", "description"})
_TYPES: Final[dict[str, Any]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
}


class _Unsupported(Exception):
    """A schema keyword :func:`_conforms` does not implement: jsonschema decides instead."""


def _conforms(schema: Any, value: Any) -> bool:
    """Whether ``value`` is valid against ``schema``, as jsonschema's draft 2020-12 validator
    decides, for the keywords the message schemas use (type, const, enum of strings, pattern
    (``re.search``), min/maxLength, minimum/maximum, maxItems, items, required, properties,
    additionalProperties, maxProperties, propertyNames); any other keyword raises
    :class:`_Unsupported`. Checked against jsonschema in tests/test_protocol.py. Valid messages
    (every one the device sends) never import jsonschema."""
    if isinstance(schema, bool):  # true accepts anything, false nothing
        return schema
    if not isinstance(schema, dict):
        raise _Unsupported(str(schema)[:40])
    for key, rule in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "type":
            names = rule if isinstance(rule, list) else [rule]
            if not any(_TYPES[name](value) for name in names):
                return False
        elif key in ("const", "enum"):
            options = [rule] if key == "const" else rule
            if not all(isinstance(o, str) for o in options):
                raise _Unsupported(key)
            if not isinstance(value, str) or value not in options:
                return False
        elif key == "pattern":
            if isinstance(value, str) and not re.search(rule, value):
                return False
        elif key in ("maxLength", "minLength"):
            if isinstance(value, str) and (len(value) > rule if key == "maxLength" else len(value) < rule):
                return False
        elif key in ("minimum", "maximum"):
            if _TYPES["number"](value) and (value < rule if key == "minimum" else value > rule):
                return False
        elif key == "maxItems":
            if isinstance(value, list) and len(value) > rule:
                return False
        elif key == "items":
            if isinstance(value, list) and not all(_conforms(rule, item) for item in value):
                return False
        elif key == "maxProperties":
            if isinstance(value, dict) and len(value) > rule:
                return False
        elif key == "required":
            if isinstance(value, dict) and any(name not in value for name in rule):
                return False
        elif key == "properties":
            if isinstance(value, dict) and not all(
                _conforms(sub, value[name]) for name, sub in rule.items() if name in value
            ):
                return False
        elif key == "additionalProperties":
            if isinstance(value, dict):
                if "patternProperties" in schema:
                    raise _Unsupported(key)
                known = schema.get("properties", {})
                if not all(_conforms(rule, value[name]) for name in value if name not in known):
                    return False
        elif key == "propertyNames":
            if isinstance(value, dict) and not all(_conforms(rule, name) for name in value):
                return False
        else:
            raise _Unsupported(key)
    return True


def validate_dict(data: Any) -> type[_Message]:
    """Check a decoded message against its schema; returns its class. Raises ProtocolError."""
    if not isinstance(data, dict):
        raise ProtocolError("message is not a JSON object")
    if data.get("schema") != SCHEMA_VERSION:
        raise ProtocolError(f"unsupported schema version {str(data.get('schema'))[:40]!r}")
    message_type = data.get("type")
    cls = MESSAGE_CLASSES.get(message_type) if isinstance(message_type, str) else None
    if cls is None:
        raise ProtocolError(f"unknown message type {str(message_type)[:40]!r}")
    try:
        valid = _conforms(_schema(message_type), data)
    except _Unsupported:
        valid = _validator(message_type).is_valid(data)
    if not valid:  # jsonschema says what is wrong (and has the last word)
        validator = _validator(message_type)
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "(message)"
            raise ProtocolError(f"{message_type} message invalid at {where}: {first.message[:200]}")
    _check_identifiers(message_type, data)
    for key in ("sent_at", "expires_at"):
        if key in data:
            try:
                parse_time(data[key])
            except ValueError:
                raise ProtocolError(f"{message_type} message: {key} is not an ISO 8601 time") from None
    return cls


def _check_identifiers(message_type: str, data: dict[str, Any]) -> None:
    """The schemas' ``pattern``s are searched with Python's ``re``, whose ``$`` also matches before a
    final new line: "dev-1\\n" or "unlock_door\\n" would pass. Identifiers are matched whole here."""
    bad = None
    if not DEVICE_ID_RE.fullmatch(data["device_id"]):
        bad = "device_id"
    for key in _ID_FIELDS:
        if key in data and not _ANY_UUID_RE.fullmatch(data[key]):
            bad = key
    if message_type == TYPE_REQUEST:
        if not REQUEST_TYPE_RE.fullmatch(data["request_type"]):
            bad = "request_type"
        for key in ("slots", "context"):
            if any(not REQUEST_TYPE_RE.fullmatch(name) for name in data.get(key, {})):
                bad = f"{key} (a name)"
    if bad:
        raise ProtocolError(f"{message_type} message invalid at {bad}: not a valid identifier")


def encode(data: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON of a message dict."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def from_json(payload: bytes | str) -> _Message:
    """Parse one wire payload into its message dataclass. Raises ProtocolError with a plain reason."""
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"payload of {len(raw)} bytes is over the {MAX_PAYLOAD_BYTES}-byte limit")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ProtocolError(f"payload is not UTF-8 JSON ({type(err).__name__})") from None
    cls = validate_dict(data)
    fields = {k: v for k, v in data.items() if k not in ("schema", "type")}
    return cls(**fields)


def is_expired(message: _Message, now: dt.datetime) -> bool:
    """True for a time-bound command whose ``expires_at`` has passed (it must not fire late)."""
    expires_at = getattr(message, "expires_at", None)
    return bool(expires_at) and parse_time(expires_at) <= now


# ---------------------------------------------------------------- strict reading (both sides)
# Python's json is lenient: it accepts NaN and Infinity, keeps the last of two duplicate keys,
# decodes "\ud800" into a lone surrogate no database can store or terminal print, and raises
# RecursionError on 4,000 nested arrays. Whatever comes from the network is read with
# strict_loads instead (the device's relay and the practice's backend alike).

MAX_DEPTH: Final = 8
"""Deepest nesting of objects and arrays accepted (a v1 message needs 3)."""
MAX_INT_DIGITS: Final = 16
"""Integers beyond what a double holds exactly are refused (no 4,300-digit numbers either)."""
CANONICAL_ID_RE: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
"""A message id in its one canonical spelling (lower case), so a re-cased copy is not a new id."""
_STRING_RE: Final = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS_RE: Final = re.compile(r"[\[\]{}]")
_BAD_CHAR_RE: Final = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Lone surrogates (a valid pair decodes to one astral character) and control characters."""
_SURROGATE_RE: Final = re.compile("[\ud800-\udfff]")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ProtocolError(f"duplicate key {key[:40]!r} in JSON object")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ProtocolError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ProtocolError("a number is too large (not finite)")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ProtocolError(f"an integer has more than {MAX_INT_DIGITS} digits")
    return int(text)


def check_depth(text: str, limit: int = MAX_DEPTH) -> None:
    """Refuse nesting deeper than ``limit`` without recursing (strings are skipped)."""
    depth = 0
    for bracket in _BRACKETS_RE.findall(_STRING_RE.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            raise ProtocolError(f"JSON nested deeper than {limit} levels")


def _check_strings(value: Any, bad: re.Pattern[str], where: str = "") -> None:
    if isinstance(value, str):
        if bad.search(value):
            raise ProtocolError(f"text at {where or '(message)'} holds a lone surrogate or control character")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, bad, where)
            _check_strings(item, bad, f"{where}/{key}"[:80])
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, bad, where)


def strict_loads(payload: bytes | str, *, control_characters: bool = False) -> Any:
    """JSON from the wire, refusing what a lenient parser lets through. Raises ProtocolError.

    ``control_characters=True`` lets control characters inside strings through (the device strips
    them from text it speaks); lone surrogates are always refused."""
    raw = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else bytes(payload)
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"payload of {len(raw)} bytes is over the {MAX_PAYLOAD_BYTES}-byte limit")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("payload is not UTF-8") from None
    check_depth(text)
    try:
        data = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except ProtocolError:
        raise
    except (ValueError, RecursionError) as err:  # JSONDecodeError is a ValueError
        raise ProtocolError(f"payload is not JSON ({type(err).__name__})") from None
    _check_strings(data, _SURROGATE_RE if control_characters else _BAD_CHAR_RE)
    return data


# ---------------------------------------------------------------- spoken sentences

SPOKEN_SENTENCES: Final[dict[str, tuple[str, str]]] = {
    # Progress lines of the reference backend (one per request type, plus the phone-call line).
    "call_doctor": ("{doctor}'s team will call you within 10 minutes.", "{doctor}的团队会在十分钟内给您打电话。"),
    "call_contact": ("I have asked {contact} to call you.", "我已经请{contact}给您打电话。"),
    "emergency": ("Help is on the way. The practice has your alert.", "已经通知诊所，马上有人来帮您。"),
    "reorder": ("Your {medication} has been reordered.", "{medication}已经重新订购了。"),
    "taken": ("Thank you. I noted that you took {medication}.", "好的，已记录您吃了{medication}。"),
    "missed": ("{doctor}'s team knows you missed {medication}.", "{doctor}的团队知道您漏服了{medication}。"),
    "symptom": ("{doctor}'s team has your message and will get back to you today.", "{doctor}的团队收到了，今天会回复您。"),
    "appointment_call": ("{doctor}'s team will call you to book the appointment.", "{doctor}的团队会打电话给您约时间。"),
    "check_in": ("Thank you for checking in.", "谢谢您报平安。"),
    "inactivity": ("Your family has been told.", "已经通知您的家人。"),
    "received": ("Your request has been received.", "您的请求已经收到了。"),  # another domain's request type
    "by_phone": ("We will call you on the phone.", "我们会打电话给您。"),
    "nobody_answered": ("Nobody at the practice answered.", "诊所没有人接听。"),
    # The doctor team's page (fixed templates, checked fields).
    "acknowledge": ("{doctor}'s team has seen your message and is taking care of it.", "{doctor}的团队已经看到您的消息，正在处理。"),
    "call_back": ("{doctor} will call you back at {time}.", "{doctor}会在{time}给您回电话。"),
    "appointment": ("Your appointment with {doctor} is on {day} at {time}.", "您和{doctor}的预约在{day}{time}。"),
    "take_medicine": ("Please remember to take your {medication} today.", "请记得今天吃{medication}。"),
    "results_fine": ("Good news from {doctor}: your test results are fine.", "{doctor}告诉您：您的检查结果正常。"),
    "nurse_visit": ("A nurse from {doctor}'s practice will visit you today.", "{doctor}诊所的护士今天会来看您。"),
    "drink_water": ("Please drink a glass of water and rest for a while.", "请喝一杯水，休息一会儿。"),
    "call_us": ("Please call {doctor}'s practice when you can.", "方便的时候请给{doctor}的诊所打个电话。"),
}  # fmt: skip
"""Every sentence a backend may have a speaker say: key → (English, Mandarin), with ``{field}``
places. The speaker reads out nothing else (``assistant.link.spoken`` checks texts against these);
the practice's backend builds its lines from them, so the two cannot drift apart."""


# ---------------------------------------------------------------- transport conventions
# Shared by the device relay and the practice's backend: how a broker URL is read, and Nagle off.


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool


def parse_url(url: str) -> BrokerAddress:
    """``mqtt://host:port`` or ``mqtts://host:port`` (default ports 1883 / 8883)."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"broker URL {url!r} must start with mqtt:// or mqtts://")
    tls = parts.scheme in ("mqtts", "ssl")
    if not parts.hostname:
        raise ValueError(f"broker URL {url!r} has no host")
    return BrokerAddress(parts.hostname, parts.port or (8883 if tls else 1883), tls)


def tcp_nodelay(_client: Any, _userdata: Any, sock: Any) -> None:
    """paho ``on_socket_open``: switch Nagle off (else a round trip costs ~40-90 ms)."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass
