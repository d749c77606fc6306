"""Strict reading of what arrives from the wire, before anything is stored.

The shared :func:`assistant.link.protocol.from_json` is lenient where Python's ``json`` is: it
accepts ``NaN`` and ``Infinity``, keeps the last of two duplicate keys, decodes ``"\\ud800"`` into a
lone surrogate that no database can store, and raises ``RecursionError`` on 4,000 nested arrays.
The practice's backend trusts nothing from the network, so :func:`parse_request` refuses each of
those with a plain :class:`~assistant.link.protocol.ProtocolError` (never a traceback; the strict
reader, :func:`assistant.link.protocol.strict_loads`, is shared with the device's relay) and only
then applies the JSON Schema. It also insists on the canonical lower-case form of the message id,
so an upper-cased copy of a request cannot be stored as a second request.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.link import protocol as messages
from assistant.link.protocol import CANONICAL_ID_RE, MAX_DEPTH, ProtocolError, strict_loads

__all__ = ["MAX_DEPTH", "ParsedRequest", "parse_request", "strict_loads"]


@dataclass(frozen=True)
class ParsedRequest:
    """A request that passed every check, with the canonical JSON that is stored."""

    request: messages.Request
    payload: bytes


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
    if not CANONICAL_ID_RE.fullmatch(data["message_id"]):
        raise ProtocolError("message_id must be a UUID in lower case")
    fields = {k: v for k, v in data.items() if k not in ("schema", "type")}
    request = messages.Request(**fields)
    return ParsedRequest(request, messages.encode(data))
