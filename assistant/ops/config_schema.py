"""The config schema: the ``Settings`` dataclasses themselves, walked key by key.

Field names, types and defaults of :mod:`assistant.ops.settings` are the schema; a small table of
ranges and per-field text checks adds what types cannot say. The walk converts the YAML tree
into settings and collects **every** problem (bad values become placeholders so the walk goes
on). Cross-field and file checks live in :mod:`assistant.ops.config_checks`; reading the file in
:mod:`assistant.ops.config`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from assistant.ops import settings as settings_module
from assistant.ops.config_problems import Problem, unsafe_character
from assistant.ops.settings import Settings

INTERNAL_KEYS: Final = frozenset({"source_path"})
"""Keys that exist on Settings but are set by the loader, never by the file."""

_TIME_RE: Final = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_RAW_TIME_RE: Final = re.compile(r"^[\"']?(\d{1,2}:\d{2})\b")
_TRUE_WORDS: Final = frozenset({"yes", "on", "true", "y"})
_FALSE_WORDS: Final = frozenset({"no", "off", "false", "n"})

# (low, high, unit words) per schema path ("[i]" indexes removed).
_RANGES: Final[dict[str, tuple[float, float, str]]] = {
    "voice.rate_wpm": (80, 250, "words per minute"),
    "voice.volume": (0.0, 1.0, "where 1.0 is full volume"),
    "phone_fallback.baudrate": (1200, 4_000_000, "bits per second"),
    "phone_fallback.ring_timeout_s": (5, 300, "seconds"),
    "asr.trailing_silence_s": (0.3, 5.0, "seconds"),
    "asr.max_utterance_s": (2, 60, "seconds"),
    "asr.vad_aggressiveness": (0, 3, ""),
    "asr.act_confidence": (0.0, 1.0, "where 1.0 is certain"),
    "asr.confirm_confidence": (0.0, 1.0, "where 1.0 is certain"),
    "dialogue.emergency_cancel_s": (0, 60, "seconds"),
    "dialogue.answer_timeout_s": (2, 120, "seconds"),
    "dialogue.max_tries": (1, 10, "tries"),
    "reminders.answer_timeout_s": (30, 7200, "seconds"),
    "reminders.missed_after_s": (60, 86400, "seconds"),
    "checkin.inactivity_hours": (0, 168, "hours"),
    "medications.pack_size": (1, 1000, "doses"),
    "medications.doses_on_hand": (0, 10_000, "doses"),
    "medications.reorder_when_days_left": (0, 90, "days"),
}

# Text fields that must not be empty.
_NON_EMPTY: Final = frozenset(
    {"person.name", "person.address_as", "doctor.name", "contacts.name", "medications.name"}
)
_PHONE_FIELDS: Final = frozenset({"doctor.phone", "contacts.phone"})

TextCheck = Callable[[str], "tuple[str, str] | None"]
"""A per-field text check: (message, fix) when the text is wrong, else None."""


# ---------------------------------------------------------------------------------------------
# Schema walk


@dataclass
class Context:
    """Where the walk is and what it found (one per load)."""

    file: str
    folder: Path
    lines: list[str]
    problems: list[Problem] = dataclasses.field(default_factory=list)
    key_lines: dict[str, int] = dataclasses.field(default_factory=dict)
    """Line of every key path seen, for cross-field problems."""
    bad_keys: set[str] = dataclasses.field(default_factory=set)
    """Keys already reported (their values are placeholders)."""
    cross_checking: bool = False
    text_checks: dict[str, TextCheck] = dataclasses.field(default_factory=dict)
    """Per-field text checks by schema path (supplied by the loader)."""

    def add(
        self, line: int | None, key: str, message: str, fix: str = "", depends: tuple[str, ...] = ()
    ) -> None:
        """Record a problem; cross-field problems about values already reported are dropped."""
        if self.cross_checking:
            for dep in (key, *depends):
                if any(bad == dep or bad.startswith((dep + ".", dep + "[")) for bad in self.bad_keys):
                    return
        else:
            self.bad_keys.add(key)
        self.problems.append(Problem(self.file, line, key, message, fix))

    def line_of(self, key: str, fallback: int | None = None) -> int | None:
        while key:
            if key in self.key_lines:
                return self.key_lines[key]
            parent = re.sub(r"(\[\d+\]|\.[^.\[]*)$", "", key)
            if parent == key:  # a top-level key that is not in the file
                break
            key = parent
        return fallback


class _Bad:
    """Marker for a value that could not be converted (its problem is already recorded)."""


_BAD: Final = _Bad()


def _placeholder(tp: Any) -> Any:
    """A stand-in for a missing or broken required value (only used when already reported)."""
    tp = strip_optional(tp)
    if dataclasses.is_dataclass(tp):
        return tp(**{s.name: _placeholder(s.type) for s in field_specs(tp) if s.required})
    if item_type(tp) is not None:
        return ()
    if typing.get_origin(tp) is Literal:
        return typing.get_args(tp)[0]
    return {str: "", bool: False, int: 0, float: 0.0, dt.time: dt.time(0, 0)}[tp]


def schema_path(key: str) -> str:
    return re.sub(r"\[\d+\]", "", key)


def _join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    type: Any
    required: bool
    default: Any


_SPEC_CACHE: dict[type, tuple[_FieldSpec, ...]] = {}


def field_specs(cls: type) -> tuple[_FieldSpec, ...]:
    """The config keys of a settings dataclass: name, resolved type, required, default."""
    if cls not in _SPEC_CACHE:
        hints = typing.get_type_hints(cls, vars(settings_module))
        specs = []
        for f in dataclasses.fields(cls):
            if f.name in INTERNAL_KEYS:
                continue
            if f.default is not dataclasses.MISSING:
                default, required = f.default, False
            elif f.default_factory is not dataclasses.MISSING:
                default, required = f.default_factory(), False
            else:
                default, required = None, True
            specs.append(_FieldSpec(f.name, hints[f.name], required, default))
        _SPEC_CACHE[cls] = tuple(specs)
    return _SPEC_CACHE[cls]


def _all_key_locations() -> dict[str, list[str]]:
    """Every key name -> the sections it lives in (for "belongs under voice:" hints)."""
    found: dict[str, list[str]] = {}

    def walk(cls: type, prefix: str) -> None:
        for spec in field_specs(cls):
            found.setdefault(spec.name, []).append(prefix)
            inner = item_type(spec.type) or strip_optional(spec.type)
            if dataclasses.is_dataclass(inner):
                walk(inner, _join(prefix, spec.name))

    walk(Settings, "")
    return found


def strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _is_optional(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


def item_type(tp: Any) -> Any:
    """X for ``tuple[X, ...]``, else None."""
    if typing.get_origin(tp) is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
    return None


def _suggest(word: str, choices: list[str]) -> str | None:
    from rapidfuzz import fuzz, process

    match = process.extractOne(
        word.lower(), choices, scorer=fuzz.WRatio, processor=str.lower, score_cutoff=75
    )
    return match[0] if match else None


def build_dataclass(cls: type, node: Any, path: str, line: int | None, ctx: Context) -> Any:
    if not isinstance(node, dict):
        ctx.add(
            line,
            path,
            f"should be a group of keys (like {_example_keys(cls)}) but is {describe(node)}",
            "put the keys on the following lines, indented by two spaces",
        )
        return _placeholder(cls)
    specs = {s.name: s for s in field_specs(cls)}
    for key in node:
        if isinstance(key, str) and key in specs:
            continue
        key_line = _key_line(node, key, line)
        _report_unknown_key(str(key), path, key_line, list(specs), ctx)
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        key = _join(path, name)
        if name not in node:
            if spec.required:
                where = f"under {path}:" if path else "at the top level"
                ctx.add(line, key, "is missing", f'add "{name}:" {where}')
                values[name] = _placeholder(spec.type)
            continue
        key_line = _key_line(node, name, line)
        ctx.key_lines[key] = key_line or 0
        value = _convert(spec, node[name], key, key_line, ctx, _value_pos(node, name))
        if value is not _BAD:
            values[name] = value
        elif spec.required:
            values[name] = _placeholder(spec.type)
    return cls(**values)


def _example_keys(cls: type) -> str:
    return ", ".join(f"{s.name}:" for s in field_specs(cls)[:2])


def _report_unknown_key(key: str, path: str, line: int | None, valid: list[str], ctx: Context) -> None:
    full = _join(path, key)
    if key in INTERNAL_KEYS:
        ctx.add(line, full, f'"{key}" is set by Jiayi itself', "remove this line")
        return
    guess = _suggest(key, valid)
    if guess:
        ctx.add(line, full, f'unknown key "{key}"', f'did you mean "{guess}"?')
        return
    homes = [p for p in _all_key_locations().get(key, []) if p != path]
    if homes:
        where = " or ".join(f'"{h}:"' if h else "the top level" for h in homes)
        ctx.add(line, full, f'"{key}" does not belong here', f"move it under {where}")
        return
    ctx.add(line, full, f'unknown key "{key}"', "keys allowed here: " + ", ".join(valid))


def _key_line(node: Any, key: Any, fallback: int | None) -> int | None:
    try:
        return int(node.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return fallback


def _value_pos(node: Any, key: Any) -> tuple[int, int] | None:
    try:
        line, col = node.lc.value(key)
        return int(line), int(col)
    except (AttributeError, KeyError, TypeError, IndexError):
        return None


def _item_line(seq: Any, index: int, fallback: int | None) -> int | None:
    try:
        return int(seq.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return fallback


def _item_pos(seq: Any, index: int) -> tuple[int, int] | None:
    try:
        line, col = seq.lc.item(index)
        return int(line), int(col)
    except (AttributeError, KeyError, TypeError, IndexError):
        return None


def _convert(
    spec: _FieldSpec, value: Any, key: str, line: int | None, ctx: Context, pos: tuple[int, int] | None
) -> Any:
    tp = spec.type
    if value is None:
        if _is_optional(tp):
            return None
        if spec.required and dataclasses.is_dataclass(tp):
            needed = ", ".join(f"{s.name}:" for s in field_specs(tp) if s.required)
            ctx.add(line, key, "is empty", f"add {needed} on the next lines, indented by two spaces")
            return _BAD
        if spec.required:
            ctx.add(line, key, "has no value", "write the value after the colon")
            return _BAD
        if spec.default in ("", ()) or dataclasses.is_dataclass(spec.default):
            return spec.default
        ctx.add(
            line,
            key,
            "has no value",
            f"write a value after the colon, or delete the line to use the default ({_show_default(spec.default)})",
        )
        return _BAD
    return _convert_type(strip_optional(tp), value, key, line, ctx, pos)


def _convert_type(
    tp: Any, value: Any, key: str, line: int | None, ctx: Context, pos: tuple[int, int] | None
) -> Any:
    if dataclasses.is_dataclass(tp):
        return build_dataclass(tp, value, key, line, ctx)
    item_tp = item_type(tp)
    if item_tp is not None:
        return _convert_list(item_tp, value, key, line, ctx, pos)
    if typing.get_origin(tp) is Literal:
        return _convert_choice(typing.get_args(tp), value, key, line, ctx)
    converter = _SCALAR_CONVERTERS.get(tp)
    if converter is None:  # pragma: no cover - a new field type in settings.py
        raise TypeError(f"config.py has no converter for {tp!r} ({key})")
    return converter(value, key, line, ctx, pos)


def _convert_list(
    item_tp: Any, value: Any, key: str, line: int | None, ctx: Context, pos: tuple[int, int] | None
) -> Any:
    if isinstance(value, (str, int, float, dt.time)) and not dataclasses.is_dataclass(item_tp):
        # A single value where a list is expected: accept it as a one-item list.
        item = _convert_type(item_tp, value, f"{key}[0]", line, ctx, pos)
        return _BAD if item is _BAD else (item,)
    if not isinstance(value, list):
        ctx.add(
            line,
            key,
            f"should be a list but is {describe(value)}",
            'write one item per line starting with "- "',
        )
        return _BAD
    items = []
    bad = False
    for index, raw in enumerate(value):
        item_key = f"{key}[{index}]"
        item_line = _item_line(value, index, line)
        ctx.key_lines[item_key] = item_line or 0
        if raw is None:
            ctx.add(item_line, item_key, "is an empty list item", 'remove the lone "-" or fill it in')
            bad = True
            continue
        item = _convert_type(item_tp, raw, item_key, item_line, ctx, _item_pos(value, index))
        if item is _BAD:
            bad = True
        else:
            items.append(item)
    return tuple(items) if items or not bad else _BAD


def _convert_choice(choices: tuple[str, ...], value: Any, key: str, line: int | None, ctx: Context) -> Any:
    text = str(value).strip() if isinstance(value, str) else None
    if text in choices:
        return text
    if text is not None and text.lower() in choices:
        return text.lower()
    shown = _show_value(value)
    if choices == settings_module.LANGUAGES:
        ctx.add(
            line, key, f"{shown} is not a supported language", "use en (English) or zh (Mandarin Chinese)"
        )
        return _BAD
    guess = _suggest(text, list(choices)) if text else None
    fix = f'did you mean "{guess}"? ' if guess else ""
    ctx.add(line, key, f"{shown} is not one of the choices", fix + "use one of: " + ", ".join(choices))
    return _BAD


def _convert_str(value: Any, key: str, line: int | None, ctx: Context, pos: tuple[int, int] | None) -> Any:
    if isinstance(value, str):
        text = str(value).strip()
        unsafe = unsafe_character(text)
        if unsafe:
            ctx.add(
                line,
                key,
                f'"{text}" contains {unsafe}, which cannot be spoken, shown or sent',
                "retype the text in a plain text editor, without escapes such as \\ud800 or \\t",
            )
            return _BAD
        if schema_path(key) in _NON_EMPTY and not text:
            ctx.add(line, key, "is empty", "write the name between the quotes")
            return _BAD
        if schema_path(key).endswith(".aliases") and not text:
            ctx.add(line, key, "is an empty alias", "write the word the person uses, or remove this line")
            return _BAD
        check = ctx.text_checks.get(schema_path(key))
        if check and text:
            problem = check(text)
            if problem:
                ctx.add(line, key, *problem)
                return _BAD
        return text
    if schema_path(key) in _PHONE_FIELDS and _is_int(value):
        raw = _raw_text(ctx, pos) or str(int(value))
        ctx.add(
            line,
            key,
            f"the phone number {raw} is read as a plain number (a leading 0 or + would be lost)",
            f'put it in quotes: "{raw}"',
        )
        return _BAD
    if _is_number(value):
        raw = _raw_text(ctx, pos) or str(value)
        ctx.add(line, key, f"expected text but found the number {raw}", f'put it in quotes: "{raw}"')
        return _BAD
    ctx.add(line, key, f"expected text but found {describe(value)}", "write plain text, in quotes if unsure")
    return _BAD


def _convert_bool(value: Any, key: str, line: int | None, ctx: Context, pos: tuple[int, int] | None) -> Any:
    if isinstance(value, bool):
        return value
    if type(value).__name__ == "ScalarBoolean":  # ruamel keeps anchored booleans as int subclasses
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS:
        return True
    if isinstance(value, str) and value.strip().lower() in _FALSE_WORDS:
        return False
    ctx.add(line, key, f"{_show_value(value)} is not yes or no", "write true or false")
    return _BAD


def _convert_int(value: Any, key: str, line: int | None, ctx: Context, pos: tuple[int, int] | None) -> Any:
    if _is_int(value):
        return _check_range(int(value), key, line, ctx)
    if isinstance(value, float) and value.is_integer():
        return _check_range(int(value), key, line, ctx)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        ctx.add(line, key, f'expected a whole number but found the text "{value}"', "remove the quotes")
        return _BAD
    ctx.add(line, key, f"{_show_value(value)} is not a whole number", "write a number such as 7")
    return _BAD


def _convert_float(value: Any, key: str, line: int | None, ctx: Context, pos: tuple[int, int] | None) -> Any:
    if _is_number(value):
        return _check_range(float(value), key, line, ctx)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
        ctx.add(line, key, f'expected a number but found the text "{value}"', "remove the quotes")
        return _BAD
    ctx.add(line, key, f"{_show_value(value)} is not a number", "write a number such as 1.5")
    return _BAD


def _convert_time(value: Any, key: str, line: int | None, ctx: Context, pos: tuple[int, int] | None) -> Any:
    if _is_int(value):
        # YAML 1.1 reads an unquoted 8:30 as the number 510; recover what was written.
        raw = _raw_text(ctx, pos)
        match = _RAW_TIME_RE.match(raw or "")
        if match:
            value = match.group(1)
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        match = _TIME_RE.match(value)
        if match:
            hour, minute = int(match.group(1)), int(match.group(2))
            if hour < 24 and minute < 60:
                return dt.time(hour, minute)
        ctx.add(line, key, f'"{value}" is not a time of day', "use HH:MM such as 08:30")
        return _BAD
    shown = _raw_text(ctx, pos) or _show_value(value)
    ctx.add(line, key, f"{shown} is not a time of day", 'use HH:MM in quotes, such as "08:30"')
    return _BAD


# understanding.catalog: a folder or a mapping language -> file (assistant/understanding/catalog_files.py).
def _convert_catalog(
    value: Any, key: str, line: int | None, ctx: Context, pos: tuple[int, int] | None
) -> Any:
    from assistant.understanding.catalog_files import ChoiceError, choice_from_config

    try:
        return choice_from_config(value, ctx.folder)
    except ChoiceError as err:
        ctx.add(line, key, err.message, err.fix)
        return _BAD


_SCALAR_CONVERTERS: Final[dict[Any, Callable[..., Any]]] = {
    str: _convert_str,
    bool: _convert_bool,
    int: _convert_int,
    float: _convert_float,
    dt.time: _convert_time,
    settings_module.CatalogChoice: _convert_catalog,
}


def _check_range(number: float, key: str, line: int | None, ctx: Context) -> Any:
    limits = _RANGES.get(schema_path(key))
    if limits is None:
        if number < 0:
            ctx.add(line, key, f"{number:g} is negative", "use 0 or more")
            return _BAD
        return number
    low, high, unit = limits
    if low <= number <= high:
        return number
    unit_words = f" {unit}" if unit else ""
    ctx.add(line, key, f"{number:g} is out of range", f"use a value from {low:g} to {high:g}{unit_words}")
    return _BAD


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and type(value).__name__ != "ScalarBoolean"


def _is_number(value: Any) -> bool:
    return _is_int(value) or isinstance(value, float)


def _raw_text(ctx: Context, pos: tuple[int, int] | None) -> str | None:
    """The value exactly as written in the file (up to a comment or the end of the line)."""
    if pos is None or not 0 <= pos[0] < len(ctx.lines):
        return None
    rest = ctx.lines[pos[0]][pos[1] :]
    rest = re.split(r"\s+#|[,\]}]", rest, maxsplit=1)[0].strip()
    return rest or None


def describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the yes/no value {str(value).lower()}"
    if isinstance(value, dict):
        return "a group of keys"
    if isinstance(value, list):
        return "a list"
    if _is_number(value):
        return f"the number {value}"
    return f'the text "{value}"'


def _show_value(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return describe(value)


def _show_default(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
