"""Build :class:`~assistant.ops.settings.Settings` from the caregiver's ``config.yaml``.

The file is parsed with ruamel.yaml's round-trip loader so every key and list item keeps its
line number. :mod:`assistant.ops.config_schema` walks the ``Settings`` dataclasses (the schema)
and :mod:`assistant.ops.config_checks` adds text formats, files, folders and cross-field rules
(problems: :mod:`assistant.ops.config_problems`);
every problem is collected before giving up. Each :class:`Problem` prints as one line::

    config.yaml:23 medications[1].times[0]: "25:00" is not a time of day; use HH:MM such as 08:30

Where the file comes from (first match wins): the path given, ``$JIAYI_CONFIG``,
``./config.yaml``, ``/etc/jiayi/config.yaml``, then the embedded ``default_config.yaml``.
Relative file paths inside the config (TLS files, password file, WAV input, folders) are taken
relative to the config file's folder and stored absolute in the settings.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from pathlib import Path
from typing import Any, Final

from assistant.ops import settings as settings_module
from assistant.ops.config_checks import TEXT_CHECKS, check_cross_fields, resolve_paths
from assistant.ops.config_problems import ConfigError, Problem
from assistant.ops.config_schema import (
    Context,
    build_dataclass,
    describe,
    field_specs,
    item_type,
    strip_optional,
)
from assistant.ops.settings import Settings

_LOGGER = logging.getLogger(__name__)

ENV_VAR: Final = "JIAYI_CONFIG"
LOCAL_CONFIG: Final = Path("config.yaml")
SYSTEM_CONFIG: Final = Path("/etc/jiayi/config.yaml")
EMBEDDED_CONFIG: Final = Path(__file__).with_name("default_config.yaml")
MAX_CONFIG_BYTES: Final = 1_000_000
"""A caregiver's config is a few kB; anything this big is not a config file."""
MAX_NESTING: Final = 16
"""Deepest nesting of lists and groups read (the schema itself is at most four levels deep)."""

# Kept importable from here (tests and tools walk the schema through this module).
_item_type = item_type
_strip_optional = strip_optional
__all__ = [
    "ConfigError",
    "Problem",
    "check_config",
    "default_settings",
    "display_name",
    "field_specs",
    "find_config_path",
    "load_settings",
    "load_with_problems",
    "settings_module",
    "summarize",
]

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
    ctx = Context(
        file=name, folder=path.resolve().parent, lines=text.splitlines(), text_checks=dict(TEXT_CHECKS)
    )
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
            f"the file should be a set of keys such as person: and doctor:, but it is {describe(root)}",
            "start from the example config.yaml",
        )
        return None, ctx.problems
    # Bad values are replaced by placeholders so the cross-field checks still run and the
    # report lists every problem at once.
    built = build_dataclass(Settings, root, "", 1, ctx)
    settings = resolve_paths(built, ctx.folder)
    ctx.cross_checking = True
    check_cross_fields(settings, ctx)
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


def _shape_problem(yaml: Any, text: str) -> tuple[int, str] | None:
    """(line, what) when the YAML nests deeper than :data:`MAX_NESTING` or uses a list/group as a key.

    Checked on the parser's event stream before anything is built: ruamel.yaml needs seconds to
    minutes for a dozen nested ``{{`` or ``?`` keys (it hashes complex keys recursively) and
    runs out of stack on deep brackets. A config never needs either."""
    from ruamel.yaml import events

    starts = (events.MappingStartEvent, events.SequenceStartEvent)
    stack: list[list[Any]] = []  # [is_mapping, children seen]
    for event in yaml.parse(text):
        if isinstance(event, events.MappingEndEvent | events.SequenceEndEvent):
            stack.pop()
            continue
        if not isinstance(event, events.NodeEvent):
            continue
        line = event.start_mark.line + 1 if event.start_mark else 1
        if stack:
            is_mapping, seen = stack[-1]
            if is_mapping and seen % 2 == 0 and isinstance(event, starts):
                return line, "a list or a group of keys is used as a key"
            stack[-1][1] += 1
        if isinstance(event, starts):
            stack.append([isinstance(event, events.MappingStartEvent), 0])
            if len(stack) > MAX_NESTING:
                return line, "the file is nested far too deeply"
    return None


def _parse_yaml(text: str, ctx: Context) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    yaml = YAML(typ="rt")
    try:
        shape = _shape_problem(yaml, text)
        if shape is not None:
            ctx.add(shape[0], "", shape[1], "compare it with the example config.yaml")
            return None
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
