"""``jiayi backend``: run the reference family-doctor backend, list what it stored, send commands.

jiayi backend [run] --url URL [--db PATH] [--workers N] [--nobody-answers-emergencies]
jiayi backend requests [--json] [--db PATH]
jiayi backend say --device ID [--url URL] [--expires-in S] "text"
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path
from typing import Any, Final

DEFAULT_URL: Final = "mqtt://127.0.0.1:1883"
DB_FILE: Final = "backend.sqlite3"
WAIT_S: Final = 1.0


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default: Any = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--url", default=default, help=f"broker URL (default $JIAYI_BACKEND_URL or {DEFAULT_URL})"
    )
    parser.add_argument("--db", default=default, help="request store (default <state dir>/backend.sqlite3)")


def _run_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        default=argparse.SUPPRESS if suppress else 1,
        help="MQTT workers (shared subscription)",
    )
    parser.add_argument(
        "--nobody-answers-emergencies",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="demo/test mode: answer emergencies with nobody_answered (device starts the phone fallback)",
    )


def add_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "backend",
        help="reference family-doctor backend (run, requests, say)",
        description="Reference backend: stores each device request once and acknowledges it.",
    )
    _common(parser, suppress=False)
    _run_options(parser, suppress=False)
    parser.set_defaults(func=run_backend)
    actions = parser.add_subparsers(dest="backend_action", metavar="ACTION")

    run = actions.add_parser("run", help="serve until stopped (the default)")
    _common(run, suppress=True)
    _run_options(run, suppress=True)
    run.set_defaults(func=run_backend)

    requests = actions.add_parser("requests", help="list the stored requests")
    _common(requests, suppress=True)
    requests.add_argument("--json", action="store_true", help="print a JSON array")
    requests.set_defaults(func=list_requests)

    say = actions.add_parser("say", help="ask a device to speak a message")
    _common(say, suppress=True)
    say.add_argument("--device", required=True, help="device id")
    say.add_argument("--expires-in", type=int, default=600, help="drop it if not delivered within S seconds")
    say.add_argument("--lang", default="", choices=["", "en", "zh"])
    say.add_argument("text")
    say.set_defaults(func=say_to_device)


def _url(args: argparse.Namespace) -> str:
    return getattr(args, "url", None) or os.environ.get("JIAYI_BACKEND_URL") or DEFAULT_URL


def _db(args: argparse.Namespace) -> Path:
    from assistant.ops.paths import state_dir

    given = getattr(args, "db", None)
    return Path(given).expanduser() if given else state_dir() / DB_FILE


def run_backend(args: argparse.Namespace) -> int:
    from assistant.cli import UserError
    from assistant.link.protocol import parse_url
    from jiayi_backend.service import DemoPolicy, ReferenceBackend

    url = _url(args)
    try:
        parse_url(url)
    except ValueError as err:
        raise UserError(str(err)) from None
    policy = DemoPolicy(nobody_answers_emergencies=bool(getattr(args, "nobody_answers_emergencies", False)))
    backend = ReferenceBackend(
        url, _db(args), workers=max(1, int(getattr(args, "workers", 1))), policy=policy
    )
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        try:
            backend.start()
        except TimeoutError:
            backend.stop()
            raise UserError(f"cannot reach the MQTT broker at {url} (is it running?)") from None
        print(f"backend ready: {url} workers={len(backend.workers)} db={backend.db_path}", flush=True)
        while not stop.wait(WAIT_S):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    backend.stop()
    return 0


def list_requests(args: argparse.Namespace) -> int:
    from assistant.cli import UserError
    from jiayi_backend.service import RequestStore

    path = _db(args)
    if not path.exists():
        raise UserError(f"no request store at {path} (run `jiayi backend run` first or pass --db)")
    store = RequestStore(path)
    rows = store.rows()
    store.close()
    if getattr(args, "json", False):
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no requests stored")
    for row in rows:
        slots = ", ".join(f"{k}={v}" for k, v in row["payload"].get("slots", {}).items())
        print(f"{row['sent_at']}  {row['device_id']:<16} {row['request_type']:<20} {row['tier']:<9} {slots}")
    return 0


def say_to_device(args: argparse.Namespace) -> int:
    from assistant.cli import UserError
    from jiayi_backend.service import publish_command, say_command

    try:
        command = say_command(args.device, args.text, args.expires_in, args.lang)
        publish_command(_url(args), command, args.expires_in)
    except (OSError, TimeoutError, ValueError) as err:
        raise UserError(f"could not send the message: {err}") from None
    print(f"sent {command.message_id} to {args.device}")
    return 0
