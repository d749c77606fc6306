"""Home measurements said as numbers (Mandarin): 血压一百六, 高压一七零, 空腹血糖九点多, 体温三十八度二.

An older person often reports a symptom by the reading she took, not by a symptom word: "早上量的
血压，一百六十多" means "my blood pressure is high". :func:`find_reading` reads the measure (blood
pressure, its upper or lower figure, blood sugar, temperature) and the first plausible number after
it (Chinese numerals either way: 一百六 / 一百六十 / 一六零, decimals 十一点五 / 三十八度二, rough
figures 九点多 / 十二点几), and names the symptom only when the figure is out of the usual range
(a normal reading reports nothing). Talk about targets and limits (控制在一百四以下, 正常是多少) reads
as no reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_DIGITS: Final = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUMBER: Final = re.compile(
    r"[零〇一二两三四五六七八九十百](?:[零〇一二两三四五六七八九十百]|[点度](?=[零〇一二两三四五六七八九几多]))*[几多来]?"
)
_NOT_A_FIGURE_AFTER: Final = re.compile(
    r"^(?:下|会|直|阵|起|点钟|钟|号|月|天|回|次|遍|个|片|粒|颗|样|辈子|家|块)"
)
"""Numerals that are words or counts, not the reading (量了一下, 一会儿, 八点钟, 两次, 一片)."""

MEASURES: Final = (
    # (pattern, kind): longest first; kind decides the plausible range and the limits
    (r"空腹血糖|餐后血糖|血糖", "sugar"),
    (r"低压|舒张压|下压", "lower"),
    (r"高压|收缩压|上压|血压", "upper"),
    (r"体温|烧到|烧了|发烧", "temperature"),
)
_MEASURE: Final = re.compile("|".join(f"(?P<{kind}>{p})" for p, kind in MEASURES))
WINDOW: Final = 8
"""Characters after the measure word in which its figure is looked for (血糖测了一下十一点五)."""
PLAUSIBLE: Final = {
    "upper": (70.0, 260.0),
    "lower": (40.0, 150.0),
    "sugar": (1.5, 35.0),
    "temperature": (34.0, 43.0),
}
"""A figure outside these is not this reading (量了一下, 早上八点 for a blood pressure)."""
LIMITS: Final = {
    # kind: (below this: low id, at or above this: high id)
    "upper": (90.0, "low_blood_pressure", 140.0, "high_blood_pressure"),
    "lower": (60.0, "low_blood_pressure", 90.0, "high_blood_pressure"),
    "sugar": (3.9, "low_blood_sugar", 7.0, "high_blood_sugar"),
    "temperature": (35.0, "feeling_cold", 37.3, "high_temperature_reading"),
}
"""The usual home limits (blood pressure ≥ 140 / 90 high, < 90 / 60 low; fasting blood sugar ≥ 7.0
mmol/L high, < 3.9 low; temperature ≥ 37.3 °C a fever): inside them a reading reports nothing."""
_TARGET_TALK: Final = re.compile(
    r"正常|标准|控制在|不能超过|不要超过|超过|以下|以上|应该|目标|多少算|算高|算低|要求"
)
"""A limit or a target, not a reading (医生说血压要控制在一百四以下, 血糖多少算高)."""
_PAST: Final = re.compile(r"去年|前年|以前|过去|当年|那时候|年轻|好了|降下来|下来了|正常了|稳住了")
"""A reading of long ago or one that has come down (去年血压一百八，现在好了): nothing to report now."""


@dataclass(frozen=True)
class Reading:
    kind: str
    """upper / lower (blood pressure), sugar, temperature."""
    value: float
    symptom: str
    """Symptom id (``intents/symptoms.yaml``) the figure reports."""
    span: tuple[int, int]


def zh_number(text: str) -> float | None:
    """A Chinese numeral as said: 一百六 = 160, 一百六十多 = 160, 一七零 = 170 (digit by digit),
    十一点五 = 11.5, 三十八度二 = 38.2, 九点多 = 9.5; None when it is not a number."""
    rough = text[-1] in "几多来"
    text = text.rstrip("几多来")
    if not text:
        return None
    point = re.search(r"[点度]", text)
    whole, sep, frac = (
        (text[: point.start()], point.group(0), text[point.end() :]) if point else (text, "", "")
    )
    value = _integer(whole)
    if value is None:
        return None
    if sep:
        if frac and all(c in _DIGITS for c in frac):
            value += float("0." + "".join(str(_DIGITS[c]) for c in frac))
        elif rough or not frac:
            value += 0.5
    return float(value)


def _integer(text: str) -> float | None:
    if not text:
        return None
    if all(c in _DIGITS for c in text):  # 一六零, 九五: digit by digit
        return float("".join(str(_DIGITS[c]) for c in text))
    value = 0.0
    head = text
    if "百" in head:
        hundreds, _, head = head.partition("百")
        if hundreds and (len(hundreds) != 1 or hundreds not in _DIGITS):
            return None
        value += 100 * (_DIGITS[hundreds] if hundreds else 1)
        if len(head) == 1 and head in _DIGITS and head not in "零〇":  # 一百六 = 160
            return value + 10 * _DIGITS[head]
        head = head.lstrip("零〇")
    if "十" in head:
        tens, _, head = head.partition("十")
        if tens and (len(tens) != 1 or tens not in _DIGITS):
            return None
        value += 10 * (_DIGITS[tens] if tens else 1)
    if head:
        if len(head) != 1 or head not in _DIGITS:
            return None
        value += _DIGITS[head]
    return value


def find_reading(text: str) -> Reading | None:
    """The first out-of-range home reading in normalised Mandarin ``text``, else None."""
    if _TARGET_TALK.search(text) or _PAST.search(text):
        return None
    for m in _MEASURE.finditer(text):
        kind = m.lastgroup or ""
        low, high = PLAUSIBLE[kind]
        window = text[m.end() : m.end() + WINDOW]
        for n in _NUMBER.finditer(window):
            if _NOT_A_FIGURE_AFTER.match(window[n.end() :]):
                continue
            value = zh_number(n.group(0))
            if value is None or not low <= value <= high:
                continue
            floor, low_id, ceiling, high_id = LIMITS[kind]
            symptom = low_id if value < floor else high_id if value >= ceiling else ""
            if symptom:
                start = m.start()
                return Reading(kind, value, symptom, (start, m.end() + n.end()))
            break  # a normal figure for this measure: look at the next measure (高压一百三低压九十五)
    return None
