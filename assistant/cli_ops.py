"""``jiayi status``: is the assistant running and well, in one screen (or JSON for tools).

Exit code 0 when running and healthy, 1 when not running or needing attention, 2 when the status
cannot be read (fixable: wrong folder, permissions).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Final

from assistant import paths
from assistant.cli import UserError
from assistant.clock import SystemClock
from assistant.status import assess, explain, read_status, render, status_path
from assistant.watchdog import last_restart_reason

SERVICE_STATE_DIR: Final = Path("/var/lib/jiayi")
"""Where the installed service keeps its state (systemd ``StateDirectory=jiayi``)."""
EXIT_UNHEALTHY: Final = 1


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show whether the assistant is running and healthy",
        description="Show microphone, speech engine, doctor link, next reminder and the last problem "
        "in plain words. Exit code 0 = running and healthy, 1 = not running or needs attention.",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--state-dir", metavar="DIR", help="state folder (default: the service's)")
    parser.add_argument("--config", metavar="PATH", help="take the state folder from this config file")
    parser.set_defaults(func=cmd_status)


def resolve_state_dir(args: argparse.Namespace) -> Path:
    """--state-dir, else the config's state_dir, else $STATE_DIRECTORY, else the service's, else ~/.local/state/jiayi."""
    if getattr(args, "state_dir", None):
        return Path(args.state_dir).expanduser()
    if getattr(args, "config", None):
        from assistant.cli import settings_from_args

        return paths.state_dir(settings_from_args(args).state_dir)
    if os.environ.get("STATE_DIRECTORY"):
        return paths.state_dir("")
    if status_path(SERVICE_STATE_DIR).exists() or SERVICE_STATE_DIR.is_dir():
        return SERVICE_STATE_DIR
    return paths.state_dir("")


def cmd_status(args: argparse.Namespace) -> int:
    state_dir = resolve_state_dir(args)
    try:
        status = read_status(state_dir)
    except PermissionError:
        raise UserError(
            f"cannot read {status_path(state_dir)}: run with sudo or add yourself to the jiayi group"
        ) from None
    except (OSError, ValueError) as err:
        raise UserError(f"cannot read {status_path(state_dir)}: {err}") from None
    if status is not None and not status.last_restart:
        restart = last_restart_reason(state_dir)
        if restart is not None:
            from dataclasses import replace

            status = replace(status, last_restart=restart.describe())
    now = SystemClock().now()
    verdict = assess(status, now)
    if args.json:
        out = {
            "state_dir": str(state_dir),
            "running": verdict.running,
            "healthy": verdict.healthy,
            "age_s": None if verdict.age_s is None else round(verdict.age_s, 1),
            "headline": verdict.headline,
            "status": status.to_dict() if status else None,
        }
        if status is not None and status.last_error:
            info = explain(status.last_error)
            out["last_error_meaning"] = info.meaning
            out["last_error_what_to_do"] = info.what_to_do
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(render(status, now))
    return 0 if verdict.healthy else EXIT_UNHEALTHY
