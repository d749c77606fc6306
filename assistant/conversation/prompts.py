"""Dialogue-wide spoken prompts (``intents/prompts-<lang>.yaml``) and per-intent responses.

The prompt files hold everything the dialogue says that is not tied to one intent (greeting,
"please say yes or no", reminders, check-ins …) plus plain-word summaries for "what did you send
today?". Per-intent ``confirm``/``done``/``answer`` texts come from the intent catalog
(:mod:`assistant.understanding.catalog`) when it has them; the prompt files carry fallbacks so the dialogue
works with any catalog. Also here: speaking a time of day in English or Mandarin.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from assistant.data import intents_dir
from assistant.ops.settings import Settings

if TYPE_CHECKING:
    from assistant.understanding.catalog import Catalog

_LOGGER = logging.getLogger(__name__)

RESPONSE_KEYS: Final = ("confirm", "done", "answer")
_SPACES_RE: Final = re.compile(r"(?<=\S) {2,}")


class PromptError(Exception):
    """A prompt file is missing or malformed (names the file)."""


class _Blank(dict):
    """format_map helper: unknown placeholders become empty strings (and are logged once)."""

    def __missing__(self, key: str) -> str:
        _LOGGER.debug("event=prompt_placeholder_missing key=%s", key)
        return ""


def fill(template: str, fields: Mapping[str, Any]) -> str:
    """Fill ``{placeholders}``; missing ones become empty. Tidies doubled spaces left behind."""
    try:
        text = template.format_map(_Blank(fields))
    except (ValueError, IndexError):  # stray braces in a caregiver-edited file
        return template
    return _SPACES_RE.sub(" ", text)


@dataclass(frozen=True)
class Prompts:
    """The loaded prompt file of one language."""

    lang: str
    prompts: Mapping[str, str]
    summaries: Mapping[str, str] = field(default_factory=dict)
    checkin_status: Mapping[str, str] = field(default_factory=dict)
    symptoms: Mapping[str, str] = field(default_factory=dict)
    intents: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    catalog_responses: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    catalog_symptoms: Mapping[str, str] = field(default_factory=dict)

    def text(self, key: str, **fields: Any) -> str:
        template = self.prompts.get(key)
        if template is None:
            raise KeyError(f"prompt {key!r} is missing from prompts-{self.lang}.yaml")
        return fill(template, fields)

    def response(self, intent: str, key: str, **fields: Any) -> str | None:
        """The catalog's ``responses.<key>`` for ``intent`` (else the fallback), filled; None if none."""
        template = self.catalog_responses.get(intent, {}).get(key) or self.intents.get(intent, {}).get(key)
        if not template:
            template = self.prompts.get(intent) if key == "answer" else None
        return fill(template, fields) if template else None

    def summary(self, request_type: str, **fields: Any) -> str:
        template = self.summaries.get(request_type) or self.summaries.get("default", request_type)
        return fill(template, fields)

    def symptom_name(self, value: str) -> str:
        """Spoken name of a symptom slot value (catalog display text, prompt file, else the id)."""
        return self.catalog_symptoms.get(value) or self.symptoms.get(value) or value.replace("_", " ")


def _read_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PromptError(f"{path}: prompt file not found") from None
    except YAMLError as err:
        raise PromptError(f"{path}: not valid YAML: {err}") from None


def _str_map(data: Any, where: str) -> dict[str, str]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise PromptError(f"{where}: expected a mapping")
    return {str(k): str(v) for k, v in data.items()}


_CACHE: dict[tuple[object, ...], Prompts] = {}


def _mtime(path: Path | None) -> int:
    try:
        return path.stat().st_mtime_ns if path is not None else 0
    except OSError:
        return 0


def load_prompts(lang: str, catalog: Catalog | None = None, *, overlay: Path | None = None) -> Prompts:
    """The built-in ``prompts-<lang>.yaml`` with the intent responses of ``catalog`` (default: the
    built-in one); ``overlay`` is a chosen catalog's own prompts file, whose keys replace the
    built-in ones.

    Parsed prompt files are cached per process until they change on disk (a reload re-reads edits).
    """
    path = intents_dir() / f"prompts-{lang}.yaml"
    key = (lang, *((str(f), _mtime(f)) for f in (path, overlay)))
    if key not in _CACHE:
        prompts = _load_prompts(path, lang)
        if overlay is not None:
            prompts = _merge(prompts, _load_prompts(overlay, lang, required=False))
        _CACHE[key] = prompts
    return replace(_CACHE[key], **_catalog_texts(lang, catalog))


def load_prompts_for(settings: Settings, lang: str | None = None, catalog: Catalog | None = None) -> Prompts:
    """The prompts for ``catalog`` (default: the one ``settings`` choose in ``understanding.catalog``),
    with the chosen catalog's own prompts file over the built-in one."""
    from assistant.understanding.catalog_files import load_catalog_for, prompts_file

    lang = lang or settings.language
    catalog = catalog or load_catalog_for(settings, lang)
    return load_prompts(lang, catalog, overlay=prompts_file(settings.understanding.catalog, lang))


def _load_prompts(path: Path, lang: str, required: bool = True) -> Prompts:
    data = _read_yaml(path)
    if not isinstance(data, Mapping) or not isinstance(
        data.get("prompts", None if required else {}), Mapping
    ):
        raise PromptError(f"{path}: expected a 'prompts:' mapping")
    intents_raw = data.get("intents") or {}
    if not isinstance(intents_raw, Mapping):
        raise PromptError(f"{path}: intents: expected a mapping")
    return Prompts(
        lang=lang,
        prompts=_str_map(data.get("prompts"), f"{path}: prompts"),
        summaries=_str_map(data.get("summaries"), f"{path}: summaries"),
        checkin_status=_str_map(data.get("checkin_status"), f"{path}: checkin_status"),
        symptoms=_str_map(data.get("symptoms"), f"{path}: symptoms"),
        intents={str(k): _str_map(v, f"{path}: intents.{k}") for k, v in intents_raw.items()},
    )


_MERGED: Final = ("prompts", "summaries", "checkin_status", "symptoms", "intents")


def _merge(base: Prompts, top: Prompts) -> Prompts:
    """``top``'s entries over ``base``'s, table by table."""
    return replace(base, **{name: {**getattr(base, name), **getattr(top, name)} for name in _MERGED})


def _catalog_texts(lang: str, catalog: Catalog | None) -> dict[str, Any]:
    """Intent responses and symptom display names of the catalog (none when the built-in one does
    not load: a broken catalog is reported by its own checks; the dialogue talks on fallbacks)."""
    from assistant.understanding.catalog import CatalogError, load_catalog

    if catalog is None:
        try:
            catalog = load_catalog(lang)
        except CatalogError as err:
            _LOGGER.warning("event=catalog_unavailable lang=%s error=%s", lang, type(err).__name__)
            return {}
    responses = {i: dict(d.responses) for i, d in catalog.intents.items() if d.responses}
    symptom = catalog.slots.get("symptom")
    symptoms = {v.id: v.say for v in symptom.values} if symptom is not None else {}
    return {"catalog_responses": responses, "catalog_symptoms": {**_vocabulary_symptoms(lang), **symptoms}}


def _vocabulary_symptoms(lang: str) -> dict[str, str]:
    """Spoken names of the symptom vocabulary's ids ("knee_pain" → "knee pain" / 膝盖疼)."""
    from assistant.understanding.symptoms import symptom_names

    return symptom_names(lang)


# ---------------------------------------------------------------- times of day

_ZH_DIGITS: Final = "零一二三四五六七八九"


def zh_number(n: int) -> str:
    """0–99 in Chinese numerals (十五, 二十, 三十五)."""
    if n < 0 or n > 99:
        return str(n)
    if n < 10:
        return _ZH_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "十" if tens == 1 else _ZH_DIGITS[tens] + "十"
    return head + (_ZH_DIGITS[ones] if ones else "")


def _zh_hour(hour24: int) -> str:
    h = hour24 % 12 or 12
    return "两" if h == 2 else zh_number(h)


def _zh_period(hour24: int) -> str:
    if hour24 < 5:
        return "凌晨"
    if hour24 < 9:
        return "早上"
    if hour24 < 12:
        return "上午"
    if hour24 < 13:
        return "中午"
    if hour24 < 18:
        return "下午"
    return "晚上"


def speak_time(t: dt.time, lang: str, with_period: bool = False) -> str:
    """A time as people say it: "8 o'clock", "8:30 in the evening", "八点", "早上八点半"."""
    if lang == "zh":
        if t.minute == 0:
            mins = ""
        elif t.minute == 30:
            mins = "半"
        elif t.minute < 10:
            mins = "零" + zh_number(t.minute) + "分"
        else:
            mins = zh_number(t.minute) + "分"
        text = f"{_zh_hour(t.hour)}点{mins}"
        return _zh_period(t.hour) + text if with_period else text
    hour = t.hour % 12 or 12
    text = f"{hour} o'clock" if t.minute == 0 else f"{hour}:{t.minute:02d}"
    if not with_period:
        return text
    if t.hour < 12:
        period = "in the morning"
    elif t.hour < 18:
        period = "in the afternoon"
    else:
        period = "in the evening"
    return f"{text} {period}"


def speak_number(n: int, lang: str) -> str:
    return zh_number(n) if lang == "zh" else str(n)
