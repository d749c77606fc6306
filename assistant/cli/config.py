"""``jiayi check-config [PATH]``: report every problem in a config file, or a one-line summary."""

from __future__ import annotations

import argparse
import logging
import sys

_LOGGER = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_PROBLEMS = 1


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check-config",
        help="check a config file and report every problem with its line, key and fix",
        description=(
            "Check a Jiayi config file. Prints every problem (line, key, what is wrong and how to "
            "fix it) and exits 1, or prints a one-line summary and exits 0. Without PATH the file "
            "the assistant would use is checked: $JIAYI_CONFIG, ./config.yaml, "
            "/etc/jiayi/config.yaml, then the built-in demo."
        ),
    )
    parser.add_argument("path", nargs="?", metavar="PATH", help="config file to check")
    parser.add_argument("--config", dest="config", metavar="PATH", help="same as PATH")
    parser.set_defaults(func=run_check_config)


def run_check_config(args: argparse.Namespace) -> int:
    """Handler for ``check-config``; never raises for a broken file."""
    from assistant.ops import config

    path = getattr(args, "path", None) or getattr(args, "config", None)
    try:
        settings, problems = config.load_with_problems(path)
    except Exception as err:  # a checker must never show a stack trace
        _LOGGER.debug("check-config failed", exc_info=True)
        shown = path or config.find_config_path(None)
        print(f"{shown}: could not be checked ({type(err).__name__}: {err})", file=sys.stderr)
        return EXIT_PROBLEMS
    if problems or settings is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        count = len(problems)
        print(f"{count} problem{'' if count == 1 else 's'} found.", file=sys.stderr)
        return EXIT_PROBLEMS
    name = config.display_name(config.find_config_path(path))
    print(f"{name} is OK: {config.summarize(settings)}")
    return EXIT_OK
