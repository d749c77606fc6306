"""``jiayi run``: start the assistant.

``--demo`` is what ``make run`` uses on a fresh machine: the embedded default config, a private
local mosquitto and the reference backend in the same process, so a newcomer sees a request go
out and the acknowledgement come back. Without a microphone (or with ``--text``) the person's
side is typed on stdin, one utterance per line (an empty line is silence).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from assistant.cli import UserError, settings_from_args
from assistant.ops.paths import state_dir as resolve_state_dir

_LOGGER = logging.getLogger(__name__)


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="start the assistant (daemon)")
    p.add_argument(
        "--config", help="config file (default: $JIAYI_CONFIG, ./config.yaml, /etc/jiayi/config.yaml)"
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="embedded default config with a private local broker and the reference backend",
    )
    p.add_argument(
        "--text", action="store_true", help="type what you would say instead of using the microphone"
    )
    p.add_argument("--state-dir", help="outbox, schedules and status (default from config or systemd)")
    p.set_defaults(func=cmd_run)


def _microphone_available(settings) -> str:
    """Empty string when the configured input can be opened, else the plain reason it can't."""
    if settings.audio.input != "mic":
        return ""
    from assistant.hearing.sources import AudioSourceError, import_sounddevice

    try:
        sd = import_sounddevice()
        sd.query_devices(kind="input")
    except AudioSourceError as err:
        return str(err)
    except Exception:  # PortAudio reports a missing device in several ways
        return "no microphone was found"
    return ""


def cmd_run(args: argparse.Namespace) -> int:
    from assistant.ops.lazy_imports import defer

    defer()  # OpenSSL, http and email only once something uses them (before any import of them)
    from assistant.daemon import Daemon, DaemonOptions

    if args.demo and not args.config:
        from assistant.ops.config import default_settings

        settings = default_settings()
    else:
        settings = settings_from_args(args)
    settings = _with_device_profile(settings)
    typed = args.text
    if not typed:
        reason = _microphone_available(settings)
        if reason:
            print(
                f"No microphone: {reason}. Type what you would say instead "
                "(one sentence a line, an empty line is silence, Ctrl-D to stop).",
                file=sys.stderr,
            )
            typed = True
    from assistant.ops.logs import setup_logging

    setup_logging(settings, verbose=args.verbose)
    if typed and not args.verbose:
        # A typed session reads like a conversation: only warnings go to the terminal.
        logging.getLogger().setLevel(logging.WARNING)
    with contextlib.ExitStack() as stack:
        state = args.state_dir or settings.state_dir
        if args.demo and not state:
            state = stack.enter_context(tempfile.TemporaryDirectory(prefix="jiayi-demo-"))
        settings = replace(settings, state_dir=str(Path(state).resolve())) if state else settings
        _check_state_dir(resolve_state_dir(settings.state_dir))

        if args.demo and not settings.backend.url:
            settings = _start_demo_backend(settings, stack)

        if typed:  # a stray byte that is not UTF-8 must not end the session
            sys.stdin.reconfigure(errors="replace")
        options = DaemonOptions(
            text_input=sys.stdin if typed else None,
            echo=sys.stdout if typed else None,
            use_listener=not typed,
            exit_on_input_end=True,
        )
        return Daemon(settings, options).run()


def _check_state_dir(folder: Path) -> None:
    """UserError in one sentence when the state folder cannot be created or written to.

    check-config reports a ``state_dir`` that is a file; this also covers ``--state-dir``, the
    systemd default and permissions, which depend on the user the assistant runs as."""
    fix = "set state_dir in the config (or --state-dir) to a folder the assistant may write to"
    try:
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise UserError(f"the state folder {folder} cannot be used: {blocker} is a file; {fix}")
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise UserError(f"the state folder {folder} cannot be used ({reason}); {fix}") from None


def _with_device_profile(settings):
    """Fill microphone/speaker names from the installed device profile; the config's own values win."""
    from assistant.ops.device_profiles import INSTALLED_PROFILE, DeviceProfileError, load_profile

    if not INSTALLED_PROFILE.exists():
        return settings
    try:
        profile = load_profile(str(INSTALLED_PROFILE))
    except DeviceProfileError as err:
        raise UserError(str(err)) from None
    return replace(settings, audio=profile.fill_audio(settings.audio))


def _start_demo_backend(settings, stack: contextlib.ExitStack):
    """Start a private mosquitto and the reference backend; return settings pointing at them."""
    from jiayi_backend.broker import BrokerUnavailable, LocalBroker
    from jiayi_backend.service import ReferenceBackend

    state = Path(settings.state_dir)
    broker = LocalBroker(state / "broker")
    try:
        broker.start()
    except BrokerUnavailable as err:
        print(
            f"Demo without the backend: {err}. Requests are shown but not sent "
            "(install mosquitto, e.g. `sudo apt-get install mosquitto`, to see them acknowledged).",
            file=sys.stderr,
        )
        return settings
    stack.callback(broker.stop)
    backend = ReferenceBackend(broker.url, state / "backend.sqlite3")
    backend.start()
    stack.callback(backend.stop)
    print(f"Demo: private broker at {broker.url}, reference backend running.", file=sys.stderr)
    return replace(settings, backend=replace(settings.backend, url=broker.url))
