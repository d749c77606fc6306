"""Build :class:`~assistant.ops.settings.Settings` from the caregiver's ``config.yaml``.

The file is parsed with ruamel.yaml's round-trip loader so every key and list item keeps its
line number. Validation walks the ``Settings`` dataclasses themselves (field names, types and
defaults are the schema), plus a small table of ranges and text checks, and collects **every**
problem before giving up. Each :class:`Problem` prints as one line::

    config.yaml:23 medications[1].times[0]: "25:00" is not a time of day; use HH:MM such as 08:30

Where the file comes from (first match wins): the path given, ``$JIAYI_CONFIG``,
``./config.yaml``, ``/etc/jiayi/config.yaml``, then the embedded ``default_config.yaml``.
Relative file paths inside the config (TLS files, password file, WAV input, folders) are taken
relative to the config file's folder and stored absolute in the settings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import logging
import os
import re
import types
import typing
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from assistant.ops import settings as settings_module
from assistant.ops.settings import Settings

_LOGGER = logging.getLogger(__name__)

ENV_VAR: Final = "JIAYI_CONFIG"
LOCAL_CONFIG: Final = Path("config.yaml")
SYSTEM_CONFIG: Final = Path("/etc/jiayi/config.yaml")
EMBEDDED_CONFIG: Final = Path(__file__).with_name("default_config.yaml")
MAX_CONFIG_BYTES: Final = 1_000_000
"""A caregiver's config is a few kB; anything this big is not a config file."""

# Keys that exist on Settings but are set by the loader, never by the file.
_INTERNAL_KEYS: Final = frozenset({"source_path"})

_TIME_RE: Final = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_RAW_TIME_RE: Final = re.compile(r"^[\"']?(\d{1,2}:\d{2})\b")
_DEVICE_ID_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PHONE_CHARS_RE: Final = re.compile(r"^\+?[0-9 ()./-]+$")
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
# File/folder settings resolved against the config file's folder.
_PATH_FIELDS: Final = (
    ("backend", "password_file"),
    ("audio", "input_wav"),
    ("audio", "output_dir"),
    ("asr", "models_dir"),
)
_TLS_FIELDS: Final = ("ca_file", "cert_file", "key_file")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config file, with where it is and how to fix it."""

    file: str
    """The config file as the user named it."""
    line: int | None
    """1-based line number; None when the problem is the file itself (missing, unreadable)."""
    key: str
    """Key path such as ``medications[1].times[0]``; empty for whole-file problems."""
    message: str
    """What is wrong, in plain words."""
    fix: str = ""
    """How to fix it, in plain words."""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        text = f"{self.message}; {self.fix}" if self.fix else self.message
        return f"{where} {self.key}: {text}" if self.key else f"{where}: {text}"


class ConfigError(Exception):
    """The config has problems; ``str(err)`` is the whole report, one line per problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# ---------------------------------------------------------------------------------------------
# Public API


def find_config_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The file :func:`load_settings` would read for ``path`` (search order in the module doc)."""
    if path is not None and str(path) != "":
        return Path(path)
    env = os.environ.get(ENV_VAR, "")
    if env:
        return Path(env)
    if LOCAL_CONFIG.is_file():
        return LOCAL_CONFIG
    if SYSTEM_CONFIG.is_file():
        return SYSTEM_CONFIG
    return EMBEDDED_CONFIG


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate the config; raises :class:`ConfigError` listing every problem."""
    settings, problems = _load(find_config_path(path))
    if problems or settings is None:
        raise ConfigError(problems)
    _LOGGER.debug("event=config_loaded path=%s", settings.source_path)
    return settings


def default_settings() -> Settings:
    """The embedded demo configuration (used by ``jiayi run --demo`` and tests)."""
    return load_settings(EMBEDDED_CONFIG)


def check_config(path: str | os.PathLike[str] | None = None) -> list[Problem]:
    """Every problem in the config (empty list = the file is fine)."""
    return _load(find_config_path(path))[1]


def load_with_problems(path: str | os.PathLike[str] | None = None) -> tuple[Settings | None, list[Problem]]:
    """Settings (None if broken) and the problem list, for reporting tools like ``check-config``."""
    return _load(find_config_path(path))


# ---------------------------------------------------------------------------------------------
# Reading and parsing


def display_name(path: Path) -> str:
    """How a config file is named in reports."""
    return "default_config.yaml (built in)" if path == EMBEDDED_CONFIG else str(path)


def _load(path: Path) -> tuple[Settings | None, list[Problem]]:
    name = display_name(path)
    text, problem = _read_text(path, name)
    if problem is not None:
        return None, [problem]
    assert text is not None
    ctx = _Context(file=name, folder=path.resolve().parent, lines=text.splitlines())
    root = _parse_yaml(text, ctx)
    if ctx.problems:
        return None, ctx.problems
    if root is None:
        ctx.add(
            1,
            "",
            "the file is empty",
            "start from the example config.yaml and fill in at least person: and doctor:",
        )
        return None, ctx.problems
    if not isinstance(root, dict):
        ctx.add(
            1,
            "",
            f"the file should be a set of keys such as person: and doctor:, but it is {_describe(root)}",
            "start from the example config.yaml",
        )
        return None, ctx.problems
    # Bad values are replaced by placeholders so the cross-field checks still run and the
    # report lists every problem at once.
    built = _build_dataclass(Settings, root, "", 1, ctx)
    settings = _resolve_paths(built, ctx.folder)
    ctx.cross_checking = True
    _check_cross_fields(settings, ctx)
    if ctx.problems:
        return None, sorted(ctx.problems, key=lambda p: p.line or 0)
    return dataclasses.replace(settings, source_path=str(path.resolve())), []


def _read_text(path: Path, name: str) -> tuple[str | None, Problem | None]:
    def fail(message: str, fix: str) -> tuple[None, Problem]:
        return None, Problem(name, None, "", message, fix)

    try:
        if path.is_dir():
            return fail("is a folder, not a file", "give the path of the config.yaml file inside it")
        if not path.exists():
            return fail(
                "file not found",
                "check the path, or copy the example config.yaml from the Jiayi repository",
            )
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except PermissionError:
        return fail("cannot be read (permission denied)", "make the file readable for the jiayi user")
    except OSError as err:
        return fail(f"cannot be read ({err.strerror or err})", "check the path and the disk")
    if len(data) > MAX_CONFIG_BYTES:
        return fail("is far too big to be a config file", "check that you named the right file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        return None, Problem(
            name,
            line,
            "",
            "this is not readable text (the file must be UTF-8 text)",
            "save the file as UTF-8 text in a plain text editor",
        )
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return None, Problem(
            name,
            line,
            "",
            "this is not a text file (it contains binary data)",
            "check that you named the right file",
        )
    return text, None


def _parse_yaml(text: str, ctx: _Context) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    yaml = YAML(typ="rt")
    try:
        return yaml.load(text)
    except DuplicateKeyError as err:
        mark = err.problem_mark
        first = err.context_mark
        match = re.search(r'duplicate key "([^"]*)"', str(err.problem))
        key = match.group(1) if match else ""
        ctx.add(
            mark.line + 1 if mark else None,
            key,
            f"this key appears twice in the same section (first on line {first.line + 1 if first else '?'})",
            "keep only one of them",
        )
    except ReaderError as err:
        position = int(getattr(err, "position", 0) or 0)
        ctx.add(
            text.count("\n", 0, position) + 1,
            "",
            "the file contains a special character that is not allowed",
            "delete it or retype the line in a plain text editor",
        )
    except MarkedYAMLError as err:
        context = str(err.context or "")
        opened = "quoted scalar" in context or "flow" in context  # point at the opening " or [
        mark = (err.context_mark if opened else None) or err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        message, fix = _plain_yaml_error(str(err.problem or ""), str(err.context or ""))
        where = f" at column {column}" if column else ""
        ctx.add(line, "", f"the file is not valid YAML{where}: {message}", fix)
    except YAMLError as err:  # pragma: no cover - every ruamel error we know of is marked
        ctx.add(None, "", f"the file is not valid YAML ({err})", "compare it with the example config.yaml")
    except RecursionError:
        ctx.add(None, "", "the file is nested far too deeply", "compare it with the example config.yaml")
    return None


def _plain_yaml_error(problem: str, context: str) -> tuple[str, str]:
    text = f"{context} {problem}".lower()
    if "'\\t'" in text or "tab" in text:
        return "a tab character is used for indenting", "indent with spaces only, never tabs"
    if "mapping values are not allowed" in text:
        return (
            "a colon is in a place where it is not allowed",
            'put text containing ": " in quotes, or check the indentation of this line and the one above',
        )
    if "flow sequence" in text:
        return "a [ list ] is not closed", "add the missing ] or a comma between items"
    if "flow mapping" in text:
        return "a { group } is not closed", "add the missing } or a comma between items"
    if "quoted scalar" in text:
        return "a quote is not closed", "add the missing closing quote (\" or ')"
    if "alias" in text or "anchor" in text:
        return "a * or & is used where plain text is meant", "put this value in quotes"
    if "block end" in text or "block mapping" in text or "block sequence" in text:
        return (
            "the indentation does not line up with the lines around it",
            "indent this line with the same number of spaces as the other keys in its section",
        )
    if "could not find expected ':'" in text or "simple key" in text:
        return "a key is missing its colon", 'write keys as "key: value"'
    return problem or "the structure is broken", "compare this line with the example config.yaml"


# ---------------------------------------------------------------------------------------------
# Schema walk


@dataclass
class _Context:
    file: str
    folder: Path
    lines: list[str]
    problems: list[Problem] = dataclasses.field(default_factory=list)
    key_lines: dict[str, int] = dataclasses.field(default_factory=dict)
    """Line of every key path seen, for cross-field problems."""
    bad_keys: set[str] = dataclasses.field(default_factory=set)
    """Keys already reported (their values are placeholders)."""
    cross_checking: bool = False

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
            key = re.sub(r"(\[\d+\]|\.[^.\[]*)$", "", key)
        return fallback


class _Bad:
    """Marker for a value that could not be converted (its problem is already recorded)."""


_BAD: Final = _Bad()


def _placeholder(tp: Any) -> Any:
    """A stand-in for a missing or broken required value (only used when already reported)."""
    tp = _strip_optional(tp)
    if dataclasses.is_dataclass(tp):
        return tp(**{s.name: _placeholder(s.type) for s in field_specs(tp) if s.required})
    if _item_type(tp) is not None:
        return ()
    if typing.get_origin(tp) is Literal:
        return typing.get_args(tp)[0]
    return {str: "", bool: False, int: 0, float: 0.0, dt.time: dt.time(0, 0)}[tp]


def _schema_path(key: str) -> str:
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
            if f.name in _INTERNAL_KEYS:
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
            inner = _item_type(spec.type) or _strip_optional(spec.type)
            if dataclasses.is_dataclass(inner):
                walk(inner, _join(prefix, spec.name))

    walk(Settings, "")
    return found


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _is_optional(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


def _item_type(tp: Any) -> Any:
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


def _build_dataclass(cls: type, node: Any, path: str, line: int | None, ctx: _Context) -> Any:
    if not isinstance(node, dict):
        ctx.add(
            line,
            path,
            f"should be a group of keys (like {_example_keys(cls)}) but is {_describe(node)}",
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


def _report_unknown_key(key: str, path: str, line: int | None, valid: list[str], ctx: _Context) -> None:
    full = _join(path, key)
    if key in _INTERNAL_KEYS:
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
    spec: _FieldSpec, value: Any, key: str, line: int | None, ctx: _Context, pos: tuple[int, int] | None
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
    return _convert_type(_strip_optional(tp), value, key, line, ctx, pos)


def _convert_type(
    tp: Any, value: Any, key: str, line: int | None, ctx: _Context, pos: tuple[int, int] | None
) -> Any:
    if dataclasses.is_dataclass(tp):
        return _build_dataclass(tp, value, key, line, ctx)
    item_tp = _item_type(tp)
    if item_tp is not None:
        return _convert_list(item_tp, value, key, line, ctx, pos)
    if typing.get_origin(tp) is Literal:
        return _convert_choice(typing.get_args(tp), value, key, line, ctx)
    converter = _SCALAR_CONVERTERS.get(tp)
    if converter is None:  # pragma: no cover - a new field type in settings.py
        raise TypeError(f"config.py has no converter for {tp!r} ({key})")
    return converter(value, key, line, ctx, pos)


def _convert_list(
    item_tp: Any, value: Any, key: str, line: int | None, ctx: _Context, pos: tuple[int, int] | None
) -> Any:
    if isinstance(value, (str, int, float, dt.time)) and not dataclasses.is_dataclass(item_tp):
        # A single value where a list is expected: accept it as a one-item list.
        item = _convert_type(item_tp, value, f"{key}[0]", line, ctx, pos)
        return _BAD if item is _BAD else (item,)
    if not isinstance(value, list):
        ctx.add(
            line,
            key,
            f"should be a list but is {_describe(value)}",
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


def _convert_choice(choices: tuple[str, ...], value: Any, key: str, line: int | None, ctx: _Context) -> Any:
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


def _convert_str(value: Any, key: str, line: int | None, ctx: _Context, pos: tuple[int, int] | None) -> Any:
    if isinstance(value, str):
        text = str(value).strip()
        if _schema_path(key) in _NON_EMPTY and not text:
            ctx.add(line, key, "is empty", "write the name between the quotes")
            return _BAD
        if _schema_path(key).endswith(".aliases") and not text:
            ctx.add(line, key, "is an empty alias", "write the word the person uses, or remove this line")
            return _BAD
        check = _TEXT_CHECKS.get(_schema_path(key))
        if check and text:
            problem = check(text)
            if problem:
                ctx.add(line, key, *problem)
                return _BAD
        return text
    if _schema_path(key) in _PHONE_FIELDS and _is_int(value):
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
    ctx.add(line, key, f"expected text but found {_describe(value)}", "write plain text, in quotes if unsure")
    return _BAD


def _convert_bool(value: Any, key: str, line: int | None, ctx: _Context, pos: tuple[int, int] | None) -> Any:
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


def _convert_int(value: Any, key: str, line: int | None, ctx: _Context, pos: tuple[int, int] | None) -> Any:
    if _is_int(value):
        return _check_range(int(value), key, line, ctx)
    if isinstance(value, float) and value.is_integer():
        return _check_range(int(value), key, line, ctx)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        ctx.add(line, key, f'expected a whole number but found the text "{value}"', "remove the quotes")
        return _BAD
    ctx.add(line, key, f"{_show_value(value)} is not a whole number", "write a number such as 7")
    return _BAD


def _convert_float(value: Any, key: str, line: int | None, ctx: _Context, pos: tuple[int, int] | None) -> Any:
    if _is_number(value):
        return _check_range(float(value), key, line, ctx)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
        ctx.add(line, key, f'expected a number but found the text "{value}"', "remove the quotes")
        return _BAD
    ctx.add(line, key, f"{_show_value(value)} is not a number", "write a number such as 1.5")
    return _BAD


def _convert_time(value: Any, key: str, line: int | None, ctx: _Context, pos: tuple[int, int] | None) -> Any:
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
    value: Any, key: str, line: int | None, ctx: _Context, pos: tuple[int, int] | None
) -> Any:
    from assistant.understanding.catalog_files import ChoiceError, choice_from_config

    try:
        return choice_from_config(value, ctx.folder)
    except ChoiceError as err:
        ctx.add(line, key, err.message, err.fix)
        return _BAD


def _check_catalog(s: Settings, ctx: _Context) -> None:
    from assistant.understanding.catalog_files import choice_problems

    for message, fix in choice_problems(s.understanding.catalog, s.language):
        ctx.add(
            ctx.line_of("understanding.catalog"), "understanding.catalog", message, fix, ("person.language",)
        )


_SCALAR_CONVERTERS: Final[dict[Any, Callable[..., Any]]] = {
    str: _convert_str,
    bool: _convert_bool,
    int: _convert_int,
    float: _convert_float,
    dt.time: _convert_time,
    settings_module.CatalogChoice: _convert_catalog,
}


def _check_range(number: float, key: str, line: int | None, ctx: _Context) -> Any:
    limits = _RANGES.get(_schema_path(key))
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


def _raw_text(ctx: _Context, pos: tuple[int, int] | None) -> str | None:
    """The value exactly as written in the file (up to a comment or the end of the line)."""
    if pos is None or not 0 <= pos[0] < len(ctx.lines):
        return None
    rest = ctx.lines[pos[0]][pos[1] :]
    rest = re.split(r"\s+#|[,\]}]", rest, maxsplit=1)[0].strip()
    return rest or None


def _describe(value: Any) -> str:
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
    return _describe(value)


def _show_default(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


# ---------------------------------------------------------------------------------------------
# Text checks (per schema path); each returns (message, fix) or None.


def _check_phone(text: str) -> tuple[str, str] | None:
    digits = re.sub(r"\D", "", text)
    if not _PHONE_CHARS_RE.match(text) or not 3 <= len(digits) <= 15 or "+" in text[1:]:
        return (
            f'"{text}" does not look like a phone number',
            'write digits, e.g. "+1 555 0100" or "13800138000"',
        )
    return None


def _check_device_id(text: str) -> tuple[str, str] | None:
    if not _DEVICE_ID_RE.match(text):
        return (
            f'"{text}" has characters a device id cannot have',
            "use only letters, digits, - and _ (at most 64), e.g. margaret-kitchen",
        )
    return None


def _check_url(text: str) -> tuple[str, str] | None:
    example = "mqtts://broker.example.org:8883"
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in ("mqtt", "mqtts"):
        return f'"{text}" is not an MQTT address', f"start it with mqtt:// or mqtts://, e.g. {example}"
    try:
        port = parsed.port
    except ValueError:
        return f'"{text}" has a bad port number', f"use a port from 1 to 65535, e.g. {example}"
    if not parsed.hostname:
        return f'"{text}" has no server name', f"write the broker's name after the //, e.g. {example}"
    if port == 0 or (parsed.path not in ("", "/")) or parsed.query or parsed.fragment:
        return f'"{text}" is not a plain broker address', f"use scheme://host:port only, e.g. {example}"
    return None


_TEXT_CHECKS: Final[dict[str, Callable[[str], tuple[str, str] | None]]] = {
    "doctor.phone": _check_phone,
    "contacts.phone": _check_phone,
    "backend.device_id": _check_device_id,
    "backend.url": _check_url,
}


# ---------------------------------------------------------------------------------------------
# Paths and cross-field checks


def _resolve(folder: Path, value: str) -> str:
    if not value:
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (folder / path))


def _resolve_paths(s: Settings, folder: Path) -> Settings:
    replace = dataclasses.replace
    tls = replace(s.backend.tls, **{f: _resolve(folder, getattr(s.backend.tls, f)) for f in _TLS_FIELDS})
    sections: dict[str, Any] = {"backend": replace(s.backend, tls=tls)}
    for section, name in _PATH_FIELDS:
        current = sections.get(section, getattr(s, section))
        sections[section] = replace(current, **{name: _resolve(folder, getattr(current, name))})
    return replace(s, state_dir=_resolve(folder, s.state_dir), **sections)


def _check_cross_fields(s: Settings, ctx: _Context) -> None:
    checks = (
        _check_contacts,
        _check_medications,
        _check_quiet_hours,
        _check_backend,
        _check_devices,
        _check_catalog,
    )
    for check in checks:
        check(s, ctx)
    if s.reminders.missed_after_s <= s.reminders.answer_timeout_s:
        ctx.add(
            ctx.line_of("reminders.missed_after_s", ctx.line_of("reminders")),
            "reminders.missed_after_s",
            "a dose would be reported missed before the reminder is repeated",
            "make missed_after_s larger than answer_timeout_s",
            depends=("reminders.answer_timeout_s",),
        )


def _duplicates(names: list[tuple[str, str]]) -> Iterator[tuple[str, str, str]]:
    """(key, text, first key) for every repeated text, ignoring case and spaces."""
    seen: dict[str, str] = {}
    for key, text in names:
        norm = " ".join(text.lower().split())
        if norm in seen:
            yield key, text, seen[norm]
        else:
            seen[norm] = key


def _report_shared_words(owned: list[tuple[str, str, str]], meant: str, thing: str, ctx: _Context) -> None:
    """Report a name or alias used by two different people/medicines (owner = the list item)."""
    seen: dict[str, tuple[str, str]] = {}
    for key, text, owner in owned:
        norm = " ".join(text.lower().split())
        if norm not in seen:
            seen[norm] = (key, owner)
            continue
        first, first_owner = seen[norm]
        if first_owner == owner or (
            key.endswith(".name") and first.endswith(".name") and first_owner != "doctor"
        ):
            continue  # same item, or a duplicate name (reported on its own)
        ctx.add(
            ctx.line_of(key),
            key,
            f'"{text}" is also used by {first}, so the assistant could not tell {meant}',
            f"use each name or alias for only one {thing}",
            depends=(first,),
        )


def _check_contacts(s: Settings, ctx: _Context) -> None:
    names = [(f"contacts[{i}].name", c.name) for i, c in enumerate(s.contacts)]
    for key, text, first in _duplicates(names):
        ctx.add(
            ctx.line_of(key),
            key,
            f'two contacts are called "{text}" (the other is {first})',
            "give each contact a different name, e.g. add the surname",
            depends=(first,),
        )
    # Everything a person could ask to call must point at one person.
    owned = [("doctor.name", s.doctor.name, "doctor")]
    owned += [(key, text, key.split(".")[0]) for key, text in names]
    owned += [(f"doctor.aliases[{i}]", a, "doctor") for i, a in enumerate(s.doctor.aliases)]
    for i, c in enumerate(s.contacts):
        owned += [(f"contacts[{i}].aliases[{j}]", a, f"contacts[{i}]") for j, a in enumerate(c.aliases)]
    _report_shared_words(owned, "who is meant", "person", ctx)
    for i, c in enumerate(s.contacts):
        for flag in ("emergency", "sms"):
            if getattr(c, flag) and not c.phone:
                key = f"contacts[{i}].{flag}"
                ctx.add(
                    ctx.line_of(key),
                    key,
                    f"{c.name} is marked for {'emergency calls' if flag == 'emergency' else 'text messages'} "
                    "but has no phone number",
                    f'add phone: "..." for {c.name}',
                    depends=(f"contacts[{i}].phone", f"contacts[{i}].name"),
                )


def _check_medications(s: Settings, ctx: _Context) -> None:
    names = [(f"medications[{i}].name", m.name) for i, m in enumerate(s.medications)]
    for key, text, first in _duplicates(names):
        ctx.add(
            ctx.line_of(key),
            key,
            f'"{text}" is listed twice (the other is {first})',
            "list each medicine once, with all its times",
            depends=(first,),
        )
    owned = [(key, text, key.split(".")[0]) for key, text in names]
    for i, m in enumerate(s.medications):
        owned += [(f"medications[{i}].aliases[{j}]", a, f"medications[{i}]") for j, a in enumerate(m.aliases)]
    _report_shared_words(owned, "which medicine is meant", "medicine", ctx)
    for i, m in enumerate(s.medications):
        seen: set[dt.time] = set()
        for j, t in enumerate(m.times):
            key = f"medications[{i}].times[{j}]"
            if t in seen:
                ctx.add(ctx.line_of(key), key, f"{t:%H:%M} is listed twice", "remove the repeated time")
            seen.add(t)
            if s.quiet_hours.contains(t):
                ctx.add(
                    ctx.line_of(key),
                    key,
                    f"the reminder at {t:%H:%M} falls inside quiet hours "
                    f"({s.quiet_hours.start:%H:%M}-{s.quiet_hours.end:%H:%M}) and would never be spoken",
                    "move the reminder or the quiet hours",
                    depends=("quiet_hours",),
                )


def _check_quiet_hours(s: Settings, ctx: _Context) -> None:
    q = s.quiet_hours
    if (q.start is None) != (q.end is None):
        missing = "end" if q.end is None else "start"
        ctx.add(
            ctx.line_of("quiet_hours"),
            f"quiet_hours.{missing}",
            "quiet hours need both a start and an end",
            f'add {missing}: "HH:MM", or remove quiet_hours to have none',
        )
    elif q.start is not None and q.start == q.end:
        ctx.add(
            ctx.line_of("quiet_hours.end"),
            "quiet_hours.end",
            "quiet hours start and end at the same time",
            "set a different end, or remove quiet_hours to have none",
        )
    t = s.checkin.time
    if t is not None and q.contains(t):
        ctx.add(
            ctx.line_of("checkin.time"),
            "checkin.time",
            f"the check-in at {t:%H:%M} falls inside quiet hours and would never be spoken",
            "move the check-in or the quiet hours",
            depends=("quiet_hours",),
        )


def _is_private_host(host: str) -> bool:
    if host in ("localhost",) or host.endswith((".local", ".lan", ".home", ".internal")) or "." not in host:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def _check_backend(s: Settings, ctx: _Context) -> None:
    b = s.backend
    tls = b.tls
    for name in _TLS_FIELDS:
        value = getattr(tls, name)
        key = f"backend.tls.{name}"
        if value and not Path(value).is_file():
            ctx.add(
                ctx.line_of(key),
                key,
                f"the file {value} does not exist",
                "check the path (relative paths start from the config file's folder)",
            )
    if bool(tls.cert_file) != bool(tls.key_file):
        given, missing = ("cert_file", "key_file") if tls.cert_file else ("key_file", "cert_file")
        key = f"backend.tls.{given}"
        ctx.add(
            ctx.line_of(key),
            key,
            "a client certificate needs both cert_file and key_file",
            f"add {missing} too, or remove {given}",
        )
    if b.password_file and not Path(b.password_file).is_file():
        ctx.add(
            ctx.line_of("backend.password_file"),
            "backend.password_file",
            f"the file {b.password_file} does not exist",
            "check the path (relative paths start from the config file's folder)",
        )
    if b.password and b.password_file:
        ctx.add(
            ctx.line_of("backend.password"),
            "backend.password",
            "both password and password_file are set",
            "keep only password_file",
        )
    if not b.url:
        return
    parsed = urllib.parse.urlsplit(b.url)
    has_tls_files = any(getattr(tls, n) for n in _TLS_FIELDS)
    if parsed.scheme == "mqtt" and has_tls_files:
        ctx.add(
            ctx.line_of("backend.url"),
            "backend.url",
            "TLS files are set but mqtt:// does not encrypt",
            "use mqtts:// to connect with TLS",
        )
    if (
        parsed.scheme == "mqtt"
        and (b.password or b.password_file)
        and not _is_private_host(parsed.hostname or "")
    ):
        ctx.add(
            ctx.line_of("backend.url"),
            "backend.url",
            "the password would travel unencrypted over the internet with mqtt://",
            "use mqtts:// for a broker outside your home network",
        )
    if parsed.scheme == "mqtts" and not tls.ca_file and _is_private_host(parsed.hostname or ""):
        ctx.add(
            ctx.line_of("backend.url"),
            "backend.tls.ca_file",
            f"{parsed.hostname} is a local broker, whose certificate public CAs cannot vouch for",
            "set backend.tls.ca_file to the broker's CA certificate (PEM)",
            depends=("backend.url",),
        )


def _check_devices(s: Settings, ctx: _Context) -> None:
    a = s.audio
    if a.input == "wav" and not a.input_wav:
        ctx.add(
            ctx.line_of("audio.input"),
            "audio.input_wav",
            "input: wav needs a WAV file",
            "set input_wav",
            ("audio.input",),
        )
    elif a.input == "wav" and not Path(a.input_wav).is_file():
        ctx.add(
            ctx.line_of("audio.input_wav"),
            "audio.input_wav",
            f"the file {a.input_wav} does not exist",
            "check the path (relative paths start from the config file's folder)",
        )
    if a.output == "wav" and not a.output_dir:
        ctx.add(
            ctx.line_of("audio.output"), "audio.output_dir", "output: wav needs a folder", "set output_dir"
        )
    p = s.phone_fallback
    if p.enabled and p.driver == "modem" and not p.serial_port:
        ctx.add(
            ctx.line_of("phone_fallback.driver"),
            "phone_fallback.serial_port",
            "the modem needs a serial port",
            "set serial_port, e.g. /dev/ttyUSB2",
            depends=("phone_fallback",),
        )


# ---------------------------------------------------------------------------------------------
# Summary for check-config


def summarize(settings: Settings) -> str:
    """One plain line: "Margaret, 2 contacts, 2 medications, reminders at 08:00, 18:00"."""

    def count(n: int, word: str) -> str:
        return f"no {word}s" if n == 0 else f"{n} {word}{'' if n == 1 else 's'}"

    parts = [
        settings.person.address_as,
        count(len(settings.contacts), "contact"),
        count(len(settings.medications), "medication"),
    ]
    times = sorted({t for m in settings.medications for t in m.times})
    if times:
        parts.append("reminders at " + ", ".join(f"{t:%H:%M}" for t in times))
    return ", ".join(parts)
