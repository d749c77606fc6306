"""Strict reading of what arrives from the wire, before anything is stored.

The shared :func:`assistant.link.protocol.from_json` is lenient where Python's ``json`` is: it
accepts ``NaN`` and ``Infinity``, keeps the last of two duplicate keys, decodes ``"\\ud800"`` into a
lone surrogate that no database can store, and raises ``RecursionError`` on 4,000 nested arrays.
The practice's backend trusts nothing from the network, so :func:`parse_request` refuses each of
those with a plain :class:`~assistant.link.protocol.ProtocolError` (never a traceback) and only
then applies the JSON Schema. It also insists on the canonical lower-case form of the message id,
so an upper-cased copy of a request cannot be stored as a second request.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Final

from assistant.link import protocol as messages
from assistant.link.protocol import ProtocolError

MAX_DEPTH: Final = 8
"""Deepest nesting of objects and arrays accepted (a v1 request needs 2)."""
MAX_INT_DIGITS: Final = 16
"""Integers beyond what a double holds exactly are refused (no 4,300-digit numbers either)."""
CANONICAL_ID_RE: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_STRING_RE: Final = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS_RE: Final = re.compile(r"[\[\]{}]")
_BAD_CHAR_RE: Final = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Lone surrogates (a valid pair decodes to one astral character) and control characters."""


@dataclass(frozen=True)
class ParsedRequest:
    """A request that passed every check, with the canonical JSON that is stored."""

    request: messages.Request
    payload: bytes


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


def _check_strings(value: Any, where: str = "") -> None:
    if isinstance(value, str):
        if _BAD_CHAR_RE.search(value):
            raise ProtocolError(f"text at {where or '(message)'} holds a lone surrogate or control character")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, where)
            _check_strings(item, f"{where}/{key}"[:80])
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, where)


def strict_loads(payload: bytes | str) -> Any:
    """JSON from the wire, refusing what a lenient parser lets through. Raises ProtocolError."""
    raw = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else bytes(payload)
    if len(raw) > messages.MAX_PAYLOAD_BYTES:
        raise ProtocolError(
            f"payload of {len(raw)} bytes is over the {messages.MAX_PAYLOAD_BYTES}-byte limit"
        )
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
    _check_strings(data)
    return data


def parse_request(topic_device: str | None, payload: bytes | str) -> ParsedRequest:
    """A device's request, checked in full before it may be stored. Raises ProtocolError."""
    if topic_device is None:
        raise ProtocolError("topic is not jiayi/v1/<device_id>/requests")
    data = strict_loads(payload)
    cls = messages.validate_dict(data)
    if cls is not messages.Request:
        raise ProtocolError(f"expected a request, got {data.get('type')!r}")
    if data["device_id"] != topic_device:
        raise ProtocolError("device id does not match the topic")
    if not CANONICAL_ID_RE.match(data["message_id"]):
        raise ProtocolError("message_id must be a UUID in lower case")
    fields = {k: v for k, v in data.items() if k not in ("schema", "type")}
    request = messages.Request(**fields)
    return ParsedRequest(request, messages.encode(data))
