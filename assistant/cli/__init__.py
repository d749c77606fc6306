"""``jiayi`` command line. Each area registers its subcommands from its own module in ``assistant/cli/``.

A command handler takes the parsed ``argparse.Namespace`` and returns the exit code. Errors a
user can fix are printed in plain words (never a stack trace) with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from assistant import __version__

# Order = order in --help. Every module defines add_commands(subparsers).
_AREAS = (
    "assistant.cli.run",
    "assistant.cli.config",
    "assistant.cli.understand",
    "assistant.cli.chat",
    "assistant.cli.hearing",
    "assistant.cli.say",
    "assistant.cli.backend",
    "assistant.cli.status",
)

EXIT_USAGE = 2


class UserError(Exception):
    """A problem the user can fix; printed without a traceback, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jiayi",
        description="Jiayi (家医): offline voice assistant for the family doctor.",
    )
    parser.add_argument("--version", action="version", version=f"jiayi {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _AREAS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:  # area not built yet
                continue
            raise
        module.add_commands(sub)
    return parser


def settings_from_args(args: argparse.Namespace):  # -> Settings
    """Load the config named by ``--config`` (or the default search path); UserError when broken."""
    from assistant.ops import config

    try:
        return config.load_settings(getattr(args, "config", None))
    except config.ConfigError as err:
        raise UserError(str(err)) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.INFO,
            format="%(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
    try:
        return int(args.func(args) or 0)
    except UserError as err:
        print(f"jiayi: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
