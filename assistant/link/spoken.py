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


def _t(key: str, *texts: str) -> list[SpokenTemplate]:
    return [SpokenTemplate(key, text) for text in texts]


TEMPLATES: Final[tuple[SpokenTemplate, ...]] = tuple(
    # Progress lines of the reference backend (jiayi_backend.service.progress_text).
    _t("call_doctor", "{doctor}'s team will call you within 10 minutes.", "{doctor}的团队会在十分钟内给您打电话。")
    + _t("call_contact", "I have asked {contact} to call you.", "我已经请{contact}给您打电话。")
    + _t("emergency", "Help is on the way. The practice has your alert.", "已经通知诊所，马上有人来帮您。")
    + _t("reorder", "Your {medication} has been reordered.", "{medication}已经重新订购了。")
    + _t("taken", "Thank you. I noted that you took {medication}.", "好的，已记录您吃了{medication}。")
    + _t("missed", "{doctor}'s team knows you missed {medication}.", "{doctor}的团队知道您漏服了{medication}。")
    + _t("symptom", "{doctor}'s team has your message and will get back to you today.", "{doctor}的团队收到了，今天会回复您。")
    + _t("appointment_call", "{doctor}'s team will call you to book the appointment.", "{doctor}的团队会打电话给您约时间。")
    + _t("check_in", "Thank you for checking in.", "谢谢您报平安。")
    + _t("inactivity", "Your family has been told.", "已经通知您的家人。")
    + _t("by_phone", "We will call you on the phone.", "我们会打电话给您。")
    + _t("nobody_answered", "Nobody at the practice answered.", "诊所没有人接听。")
    # The doctor team's page (fixed templates, checked fields).
    + _t("acknowledge", "{doctor}'s team has seen your message and is taking care of it.", "{doctor}的团队已经看到您的消息，正在处理。")
    + _t("call_back", "{doctor} will call you back at {time}.", "{doctor}会在{time}给您回电话。")
    + _t("appointment", "Your appointment with {doctor} is on {day} at {time}.", "您和{doctor}的预约在{day}{time}。")
    + _t("take_medicine", "Please remember to take your {medication} today.", "请记得今天吃{medication}。")
    + _t("results_fine", "Good news from {doctor}: your test results are fine.", "{doctor}告诉您：您的检查结果正常。")
    + _t("nurse_visit", "A nurse from {doctor}'s practice will visit you today.", "{doctor}诊所的护士今天会来看您。")
    + _t("drink_water", "Please drink a glass of water and rest for a while.", "请喝一杯水，休息一会儿。")
    + _t("call_us", "Please call {doctor}'s practice when you can.", "方便的时候请给{doctor}的诊所打个电话。")
)  # fmt: skip


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
