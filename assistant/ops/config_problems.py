"""What is wrong with a config file, in words that print safely.

:class:`Problem` is one line of a ``check-config`` report (``file:line key.path: problem; fix``);
:class:`ConfigError` carries all of them. Values are quoted back from the file, so every line is
passed through :func:`printable` first: a lone surrogate or an escape sequence in a caregiver's
file must never garble (or crash) the terminal. :func:`unsafe_character` is the check every text
setting passes.
"""

from __future__ import annotations

from dataclasses import dataclass


def printable(text: str) -> str:
    """``text`` with control characters and lone surrogates written as escapes (safe to print)."""
    return "".join(
        ch
        if ch.isprintable() or ch == " "
        else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        for ch in text
    )


def unsafe_character(text: str) -> str:
    """Plain words for the first character no setting may hold ("" when there is none).

    Lone surrogates (``"\\ud800"`` in a double-quoted YAML string) cannot be stored, printed or
    sent; control characters (bell, escape, tab, new line) garble speech, screens and SMS.
    """
    for ch in text:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            return f"a broken character ({printable(ch)}, half of a character pair)"
        if code < 0x20 or 0x7F <= code < 0xA0 or code in (0x2028, 0x2029):
            return f"a control character ({printable(ch)})"
    return ""


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
        # Values are quoted back from the file: never let one garble the terminal.
        return printable(f"{where} {self.key}: {text}" if self.key else f"{where}: {text}")


class ConfigError(Exception):
    """The config has problems; ``str(err)`` is the whole report, one line per problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


__all__ = ["ConfigError", "Problem", "printable", "unsafe_character"]
