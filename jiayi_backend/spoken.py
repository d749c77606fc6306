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
    label: str
    """What the team sees in the drop-down."""
    en: str
    zh: str
    fields: tuple[str, ...] = ()


ACKNOWLEDGE: Final = Template(
    "acknowledge",
    "We have seen it",
    "{doctor}'s team has seen your message and is taking care of it.",
    "{doctor}的团队已经看到您的消息，正在处理。",
    ("doctor",),
)
CALL_BACK: Final = Template(
    "call_back",
    "We will call back at …",
    "{doctor} will call you back at {time}.",
    "{doctor}会在{time}给您回电话。",
    ("doctor", "time"),
)
APPOINTMENT: Final = Template(
    "appointment",
    "Appointment booked",
    "Your appointment with {doctor} is on {day} at {time}.",
    "您和{doctor}的预约在{day}{time}。",
    ("doctor", "day", "time"),
)
MESSAGES: Final = {
    t.key: t
    for t in (
        Template(
            "take_medicine",
            "Reminder: take your medicine",
            "Please remember to take your {medication} today.",
            "请记得今天吃{medication}。",
            ("medication",),
        ),
        Template(
            "results_fine",
            "Test results are fine",
            "Good news from {doctor}: your test results are fine.",
            "{doctor}告诉您：您的检查结果正常。",
            ("doctor",),
        ),
        Template(
            "nurse_visit",
            "A nurse will visit today",
            "A nurse from {doctor}'s practice will visit you today.",
            "{doctor}诊所的护士今天会来看您。",
            ("doctor",),
        ),
        Template(
            "drink_water",
            "Drink some water",
            "Please drink a glass of water and rest for a while.",
            "请喝一杯水，休息一会儿。",
        ),
        Template(
            "call_us",
            "Please call the practice",
            "Please call {doctor}'s practice when you can.",
            "方便的时候请给{doctor}的诊所打个电话。",
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
