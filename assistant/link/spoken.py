"""What the backend may make the speaker say: known sentences with checked fields, nothing else.

A text in an :class:`~assistant.link.protocol.Ack` or a ``say`` command is spoken only when every
sentence in it is one of :data:`TEMPLATES` (English or Mandarin) and every field in it passes its
check: names must be the doctor, a contact or a medicine from this speaker's config (or a plain
name of letters only), times and days must be spelled the way the practice's backend spells them.
Before matching, control characters are removed and white space collapsed; longer texts than
:data:`MAX_SPOKEN_CHARS` are refused. What is spoken is the template filled with the checked
fields, so a forged text ("… call 555-0199", terminal escapes, a bell) never reaches the speaker,
the screen or the log. The sentences are those of the reference backend (``jiayi_backend``:
progress lines, the team's message templates); a new one must be added here before a speaker
reads it out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from assistant.link.protocol import SPOKEN_SENTENCES

MAX_SPOKEN_CHARS: Final = 300
"""Longest text (after clean-up) a backend may have spoken; the practice's sentences are < 120."""
MAX_SENTENCES: Final = 3
"""A text may chain this many known sentences (e.g. a progress line and "We will call you")."""
MAX_NAME_CHARS: Final = 40
MAX_NAME_WORDS: Final = 5

_NAME_RE: Final = re.compile(r"^[^\W\d_]+(?:[ .'\-·]+[^\W\d_]+)*\.?$")
"""Letters (any script) separated by spaces, dots, apostrophes, hyphens or middle dots: no digits."""
_TIME_EN_RE: Final = re.compile(r"^(?:1[0-2]|[1-9]):[0-5]\d (?:AM|PM)$")
_TIME_ZH_RE: Final = re.compile(r"^(?:上午|下午)(?:1[0-2]|[1-9])点(?:[1-5]?\d分)?$")
_WEEKDAYS_EN: Final = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_MONTHS_EN: Final = "January|February|March|April|May|June|July|August|September|October|November|December"
_DAY_EN_RE: Final = re.compile(rf"^(?:{_WEEKDAYS_EN}) (?:[1-9]|[12]\d|3[01]) (?:{_MONTHS_EN})$")
_DAY_ZH_RE: Final = re.compile(r"^(?:1[0-2]|[1-9])月(?:[1-9]|[12]\d|3[01])日星期[一二三四五六日]$")


@dataclass(frozen=True)
class SpokenTemplate:
    key: str
    text: str
    """The sentence with ``{field}`` places (one language per template)."""


TEMPLATES: Final[tuple[SpokenTemplate, ...]] = tuple(
    SpokenTemplate(key, text) for key, texts in SPOKEN_SENTENCES.items() for text in texts
)
"""One template per sentence and language, from the protocol's shared table."""


def clean(text: str) -> str:
    """Control characters (bell, escape, new lines) and lone surrogates removed, white space collapsed."""
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    return " ".join(kept.split())


@dataclass(frozen=True)
class KnownNames:
    """Names this speaker's config knows (the fields a backend sentence may carry)."""

    doctors: frozenset[str] = frozenset()
    contacts: frozenset[str] = frozenset()
    medications: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: object) -> KnownNames:
        doctor = getattr(settings, "doctor", None)
        doctors = {doctor.name, *doctor.aliases} if doctor else set()
        contacts: set[str] = {"your contact"}
        for c in getattr(settings, "contacts", ()):
            contacts |= {c.name, c.relation, *c.aliases}
        medications: set[str] = {"your medicine"}
        for m in getattr(settings, "medications", ()):
            medications |= {m.name, *m.aliases}
        return cls(_folded(doctors), _folded(contacts), _folded(medications))


def _folded(words: Iterable[str]) -> frozenset[str]:
    return frozenset(" ".join(w.casefold().split()) for w in words if w and w.strip())


def _plain_name(text: str) -> bool:
    return len(text) <= MAX_NAME_CHARS and len(text.split()) <= MAX_NAME_WORDS and bool(_NAME_RE.match(text))


def _field_checks(names: KnownNames) -> dict[str, Callable[[str], bool]]:
    def known(pool: frozenset[str], plain_ok: bool) -> Callable[[str], bool]:
        return lambda v: " ".join(v.casefold().split()) in pool or (plain_ok and _plain_name(v))

    return {
        # The practice may name its own doctor ("Dr. Chen" / "陈医生"): a plain name is enough.
        "doctor": known(names.doctors, plain_ok=True),
        # Contacts and medicines must be this speaker's own.
        "contact": known(names.contacts, plain_ok=False),
        "medication": known(names.medications, plain_ok=False),
        "time": lambda v: bool(_TIME_EN_RE.match(v) or _TIME_ZH_RE.match(v)),
        "day": lambda v: bool(_DAY_EN_RE.match(v) or _DAY_ZH_RE.match(v)),
    }


def _pattern(template: SpokenTemplate) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template.text)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>.{{1,{MAX_NAME_CHARS}}}?)"
        for i, part in enumerate(parts)
    )
    return re.compile(regex, re.IGNORECASE)  # matched at the start; every template ends in a literal


_PATTERNS: Final = tuple((t, _pattern(t)) for t in TEMPLATES)


@dataclass(frozen=True)
class Vetted:
    text: str
    """What may be spoken ("" when refused)."""
    keys: tuple[str, ...] = ()
    """Template keys, one per sentence."""
    reason: str = ""
    """Why it was refused (for the log; never the text itself)."""


def vet(text: str, names: KnownNames) -> Vetted:
    """The text rebuilt from known templates with checked fields, or refused with a reason."""
    cleaned = clean(text)
    if not cleaned:
        return Vetted("", reason="empty")
    if len(cleaned) > MAX_SPOKEN_CHARS:
        return Vetted("", reason=f"longer than {MAX_SPOKEN_CHARS} characters")
    found = _match(cleaned, _field_checks(names), MAX_SENTENCES)
    if found is None:
        return Vetted("", reason="not made of the known sentences")
    keys, spoken = zip(*found, strict=True)
    joiner = "" if any("\u3400" <= ch <= "\u9fff" for ch in cleaned) else " "
    return Vetted(joiner.join(spoken), tuple(keys))


def _match(text: str, checks: dict[str, Callable[[str], bool]], budget: int) -> list[tuple[str, str]] | None:
    """(key, rebuilt sentence) for ``text`` as a sequence of templates; None when it is not one."""
    if not text:
        return []
    if budget == 0:
        return None
    for template, pattern in _PATTERNS:
        found = pattern.match(text)
        if found is None:
            continue
        fields = {name: " ".join(value.split()) for name, value in found.groupdict().items()}
        if not all(checks[name](value) for name, value in fields.items()):
            continue
        rest = _match(text[found.end() :].lstrip(), checks, budget - 1)
        if rest is not None:
            sentence = template.text.format(**fields)
            return [(template.key, sentence[:1].upper() + sentence[1:]), *rest]
    return None


__all__ = ["MAX_SPOKEN_CHARS", "TEMPLATES", "KnownNames", "Vetted", "clean", "vet"]
