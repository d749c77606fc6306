"""Operations commands.

``jiayi status``: is the assistant running and well, in one screen (or JSON for tools). Exit code
0 when running and healthy, 1 when not running or needing attention, 2 when the status cannot be
read (fixable: wrong folder, permissions).

``jiayi device list|show|apply``: device profiles (sound card patterns, mixer levels, GPIO).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Final

from assistant.cli import UserError
from assistant.ops import paths
from assistant.ops.clock import SystemClock
from assistant.ops.status import assess, explain, read_status, render, status_path
from assistant.ops.watchdog import last_restart_reason

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

    device = subparsers.add_parser(
        "device", help="list, show or apply a device profile (sound card, mixer, GPIO)"
    )
    device_sub = device.add_subparsers(dest="device_command", metavar="ACTION", required=True)
    device_sub.add_parser("list", help="list the known device profiles").set_defaults(func=cmd_device_list)
    for action, func, text in (
        ("show", cmd_device_show, "validate and show a profile"),
        ("apply", cmd_device_apply, "set the mixer levels of a profile (amixer)"),
    ):
        p = device_sub.add_parser(action, help=text)
        p.add_argument(
            "profile", metavar="NAME_OR_FILE", help="e.g. respeaker-2mic or /etc/jiayi/device.yaml"
        )
        p.set_defaults(func=func)


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


def _load_profile(name: str):  # -> DeviceProfile
    from assistant.ops.device_profiles import DeviceProfileError, load_profile

    try:
        return load_profile(name)
    except DeviceProfileError as err:
        raise UserError(f"device profile problems:\n{err}") from None


def cmd_device_list(args: argparse.Namespace) -> int:
    from assistant.ops.device_profiles import list_profiles

    for name in list_profiles():
        print(f"{name:<20} {_load_profile(name).description}")
    return 0


def cmd_device_show(args: argparse.Namespace) -> int:
    profile = _load_profile(args.profile)
    print(f"{profile.name}: {profile.description}")
    print(f"  microphone   {profile.input_device}")
    print(f"  speaker      {profile.output_device}")
    print(f"  audio        {profile.sample_rate} Hz, {profile.channels} channel(s)")
    for role, line in (("button", profile.button), ("LED", profile.led)):
        text = f"{line.chip} line {line.line}{' (active low)' if line.active_low else ''}" if line else "none"
        print(f"  {role:<12} {text}")
    for cmd in profile.mixer:
        print(f"  mixer        {cmd}")
    if profile.notes:
        print("  notes        " + profile.notes.replace("\n", "\n               "))
    return 0


def cmd_device_apply(args: argparse.Namespace) -> int:
    profile = _load_profile(args.profile)
    failures = profile.apply_mixer()
    for failure in failures:
        print(f"jiayi: mixer setting not applied: {failure}", file=sys.stderr)
    print(
        f"{profile.name}: {len(profile.mixer) - len(failures)} of {len(profile.mixer)} mixer settings applied"
    )
    return 1 if failures else 0
