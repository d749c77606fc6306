"""Trust nothing from the wire: what the device accepts from the backend, and in what form.

Every payload on ``responses`` and ``commands`` passes :func:`assistant.link.protocol.strict_loads`
(the reader the practice's backend uses too: no duplicate keys, no NaN or Infinity, no 1000-digit
numbers, no lone surrogates, nesting at most 8 deep, never a RecursionError) and the protocol's
JSON Schema. Then:

- an **ack** counts only with MQTT correlation data equal to its ``request_id``, and only for an
  id this device created and still awaits (``Outbox.awaiting``); an upper-cased or invented id is
  refused, so a forged ``nobody_answered`` cannot start the phone fallback;
- **text to speak** (an ack's or a ``say`` command's) is rebuilt from known sentences with checked
  fields (:mod:`assistant.link.spoken`); anything else is not spoken (the ack still counts);
- a **schedule update** keeps only medicines in this speaker's config (by name or alias, case
  ignored) with valid ``HH:MM`` times; an update with none left is dropped.

Refusals are counted and logged with a reason, never with the text itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any, Final

from assistant.link import protocol as messages
from assistant.link.protocol import CANONICAL_ID_RE, strict_loads
from assistant.link.spoken import KnownNames, vet
from assistant.ops.settings import Settings

_LOGGER = logging.getLogger(__name__)

MAX_TIMES_PER_MEDICINE: Final = 12
_HHMM_RE: Final = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse(payload: bytes) -> messages.Message:
    """One wire payload as a protocol message, strictly. Raises ProtocolError with a plain reason."""
    data = strict_loads(payload, control_characters=True)  # stripped from spoken text instead
    cls = messages.validate_dict(data)
    return cls(**{k: v for k, v in data.items() if k not in ("schema", "type")})


@dataclass(frozen=True)
class Refused:
    """A message the device did not accept, and why (for the log and the counters)."""

    reason: str


class InboundGuard:
    """Checks what the backend sends against what this device knows (its config and its outbox)."""

    def __init__(self, settings: Settings) -> None:
        self._names = KnownNames.from_settings(settings)
        self._medicines: dict[str, str] = {}
        for med in settings.medications:
            for word in (med.name, *med.aliases):
                self._medicines.setdefault(" ".join(word.casefold().split()), med.name)

    def spoken(self, text: str, what: str) -> str:
        """The text as it may be spoken ("" when it is not made of known sentences)."""
        if not text:
            return ""
        vetted = vet(text, self._names)
        if not vetted.text:
            _LOGGER.warning("event=backend_text_refused what=%s reason=%s", what, vetted.reason)
        return vetted.text

    def ack(self, ack: messages.Ack, correlation: bytes | None, awaited: bool) -> Refused | None:
        """None when the ack may count; ``awaited`` = the id is one this device sent and awaits."""
        if correlation is None:
            return Refused("ack without correlation data")
        if correlation != ack.request_id.encode():
            return Refused("correlation data does not match the request id")
        if not CANONICAL_ID_RE.fullmatch(ack.request_id):
            return Refused("request id is not a lower-case UUID")
        if not awaited:
            return Refused("ack for a request this device is not waiting for")
        return None

    def schedule(self, update: messages.ScheduleUpdate) -> messages.ScheduleUpdate | Refused:
        """The update reduced to this speaker's medicines (config names) with valid ``HH:MM`` times."""
        kept: dict[str, tuple[str, ...]] = {}
        for entry in update.medications:
            name = entry.get("name") if isinstance(entry, dict) else None
            times = entry.get("times") if isinstance(entry, dict) else None
            medicine = (
                self._medicines.get(" ".join(name.casefold().split())) if isinstance(name, str) else None
            )
            if medicine is None:
                _LOGGER.warning(
                    "event=schedule_entry_refused id=%s reason=unknown medicine", update.message_id
                )
                continue
            checked = _times(times)
            if checked is None:
                _LOGGER.warning("event=schedule_entry_refused id=%s reason=bad times", update.message_id)
                continue
            kept[medicine] = checked
        if not kept:
            return Refused("no medicine of this speaker with valid times")
        return messages.ScheduleUpdate(
            device_id=update.device_id,
            message_id=update.message_id,
            sent_at=update.sent_at,
            expires_at=update.expires_at,
            medications=[{"name": name, "times": list(times)} for name, times in kept.items()],
        )


def _times(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not 0 < len(value) <= MAX_TIMES_PER_MEDICINE:
        return None
    out: list[str] = []
    for item in value:
        found = _HHMM_RE.fullmatch(item) if isinstance(item, str) else None
        if found is None:
            return None
        out.append(f"{dt.time(int(found.group(1)), int(found.group(2))):%H:%M}")
    return tuple(dict.fromkeys(out))
