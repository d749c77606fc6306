"""What the doctor team's actions make the speaker say: fixed templates, validated fields.

Nobody at the practice types free text that a speaker reads aloud: each action picks a template
(English and Mandarin, chosen by the language the person speaks) and fills fields that are checked
here (a clock time, a date, a medicine name of letters only). The result is short, has no control
characters, and always fits the protocol's 500-character limit.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from assistant.link.protocol import SPOKEN_SENTENCES

MAX_NAME: Final = 40
_NAME_RE: Final = re.compile(r"^[\w .'\-·]+$")
_WEEKDAYS_EN: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAYS_ZH: Final = ("一", "二", "三", "四", "五", "六", "日")
_MONTHS_EN: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class TemplateError(ValueError):
    """A field the team filled in that cannot be spoken (the message says which and why)."""


@dataclass(frozen=True)
class Template:
    key: str
    """Key of the sentence in the protocol's shared table (``SPOKEN_SENTENCES``)."""
    label: str
    """What the team sees in the drop-down."""
    fields: tuple[str, ...] = ()

    @property
    def en(self) -> str:
        return SPOKEN_SENTENCES[self.key][0]

    @property
    def zh(self) -> str:
        return SPOKEN_SENTENCES[self.key][1]


ACKNOWLEDGE: Final = Template(
    "acknowledge",
    "We have seen it",
    ("doctor",),
)
CALL_BACK: Final = Template(
    "call_back",
    "We will call back at …",
    ("doctor", "time"),
)
APPOINTMENT: Final = Template(
    "appointment",
    "Appointment booked",
    ("doctor", "day", "time"),
)
MESSAGES: Final = {
    t.key: t
    for t in (
        Template(
            "take_medicine",
            "Reminder: take your medicine",
            ("medication",),
        ),
        Template(
            "results_fine",
            "Test results are fine",
            ("doctor",),
        ),
        Template(
            "nurse_visit",
            "A nurse will visit today",
            ("doctor",),
        ),
        Template(
            "drink_water",
            "Drink some water",
        ),
        Template(
            "call_us",
            "Please call the practice",
            ("doctor",),
        ),
    )
}
"""Spoken messages the team can send from a device's page."""


def spoken_time(text: str, lang: str) -> str:
    """``15:30`` → "3:30 PM" / "下午3点30分"; TemplateError unless it is a 24-hour HH:MM."""
    try:
        when = dt.time.fromisoformat(text.strip())
    except ValueError:
        raise TemplateError(f"time {text[:20]!r}: write it as HH:MM, e.g. 15:30") from None
    if lang == "zh":
        part = "上午" if when.hour < 12 else "下午"
        hour = when.hour % 12 or 12
        return f"{part}{hour}点" + (f"{when.minute}分" if when.minute else "")
    hour = when.hour % 12 or 12
    return f"{hour}:{when.minute:02d} {'AM' if when.hour < 12 else 'PM'}"


def spoken_day(text: str, lang: str, today: dt.date | None = None) -> str:
    """``2026-05-05`` → "Tuesday 5 May" / "5月5日星期二" (today or later only)."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise TemplateError(f"date {text[:20]!r}: write it as YYYY-MM-DD") from None
    if day < (today or dt.date.today()):
        raise TemplateError(f"date {text}: that day has passed")
    if lang == "zh":
        return f"{day.month}月{day.day}日星期{_WEEKDAYS_ZH[day.weekday()]}"
    return f"{_WEEKDAYS_EN[day.weekday()]} {day.day} {_MONTHS_EN[day.month - 1]}"


def checked_name(text: str, what: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > MAX_NAME or not _NAME_RE.match(name):
        raise TemplateError(f"{what} {text[:MAX_NAME]!r}: 1-{MAX_NAME} letters, spaces, '.', \"'\" or '-'")
    return name


def render(template: Template, lang: str, **values: str) -> str:
    """The sentence the speaker says. ``time`` / ``day`` / names are checked and spelled out."""
    lang = "zh" if lang == "zh" else "en"
    fields: dict[str, str] = {}
    for name in template.fields:
        raw = values.get(name, "")
        if name == "time":
            fields[name] = spoken_time(raw, lang)
        elif name == "day":
            fields[name] = spoken_day(raw, lang)
        else:
            fields[name] = checked_name(raw, name)
    text = (template.zh if lang == "zh" else template.en).format(**fields)
    return text[:1].upper() + text[1:]
