"""``jiayi chat``: a typed conversation running the full dialogue, showing what would be sent.

One utterance per line (works with piped stdin for scripted conversations); an empty line is
silence (no answer). The assistant's replies are printed as ``Jiayi: …``; requests that would go
to the backend as ``  → backend: <type> {slots}``, phone fallbacks as ``  → phone: …``. Nothing is
sent anywhere. The care state is kept in memory unless ``--state-dir`` is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import select
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from assistant.conversation import actions as act
from assistant.ops.clock import Clock, SystemClock

if TYPE_CHECKING:
    from assistant.conversation.care_store import CareStore
    from assistant.ops.settings import Settings
    from assistant.pipeline import Understander

_LOGGER = logging.getLogger(__name__)

TICK_S: Final = 1.0
"""How often an interactive chat ticks the dialogue (reminders, the emergency window) while waiting."""


class ChatClock:
    """The system clock (or a chosen start time) that silence can move forward.

    An empty line means "nobody answered", so timers that wait for an answer (the emergency cancel
    window) should run out at once instead of making a scripted chat wait in real time.
    """

    def __init__(self, start: dt.datetime | None = None, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self._offset = 0.0 if start is None else (start - self._base.now()).total_seconds()
        self._skipped = 0.0

    def now(self) -> dt.datetime:
        return self._base.now() + dt.timedelta(seconds=self._offset + self._skipped)

    def monotonic(self) -> float:
        return self._base.monotonic() + self._skipped

    def skip(self, seconds: float) -> None:
        self._skipped += max(0.0, seconds)


def add_commands(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "chat",
        help="talk to the assistant by typing (prints what would be sent)",
        description="Typed conversation with the full dialogue. One utterance per line; "
        "an empty line is silence. Prints replies and, marked with →, what would be sent.",
    )
    p.add_argument("--config", metavar="PATH", help="config.yaml (default: the usual search path)")
    p.add_argument("--lang", choices=("en", "zh"), help="conversation language (default: the config's)")
    p.add_argument(
        "--state-dir", metavar="DIR", help="keep reminders and the sent log here (default: in memory)"
    )
    p.add_argument(
        "--now",
        metavar="ISO",
        help="pretend the conversation starts at this local time, e.g. 2026-11-23T08:00",
    )
    p.set_defaults(func=run_chat_command)


def run_chat_command(args: argparse.Namespace) -> int:
    from assistant.cli import UserError, settings_from_args
    from assistant.conversation.care_store import STORE_FILENAME, CareStore
    from assistant.pipeline import build_understander
    from assistant.understanding.catalog import CatalogError

    if not getattr(args, "verbose", False):  # keep the transcript readable; -v shows the event log
        logging.getLogger("assistant").setLevel(logging.WARNING)
    settings = settings_from_args(args)
    lang = args.lang or settings.language
    start = None
    if args.now:
        try:
            start = dt.datetime.fromisoformat(args.now)
        except ValueError:
            raise UserError(f"--now {args.now!r} is not a time like 2026-11-23T08:00") from None
        if start.tzinfo is None:
            start = start.astimezone()
    try:
        matcher = build_understander(settings, lang)  # the catalog understanding.catalog chooses
    except CatalogError as err:
        raise UserError(str(err)) from None
    if hasattr(sys.stdin, "reconfigure"):  # a stray byte that is not UTF-8 must not end the chat
        sys.stdin.reconfigure(errors="replace")
    store = CareStore(Path(args.state_dir).expanduser() / STORE_FILENAME) if args.state_dir else CareStore()
    try:
        return chat(settings, matcher, sys.stdin, sys.stdout, lang=lang, store=store, clock=ChatClock(start))
    finally:
        store.close()


def _print_actions(actions: list[object], out: TextIO) -> None:
    for action in actions:
        if isinstance(action, act.Say):
            print(f"Jiayi: {action.text}", file=out)
        elif isinstance(action, act.SendRequest):
            slots = json.dumps(action.slots, ensure_ascii=False, sort_keys=True)
            extra = " (call back by phone)" if action.call_back_by_phone else ""
            print(f"  → backend: {action.request_type} {slots} [{action.tier}]{extra}", file=out)
        elif isinstance(action, act.PhoneCall):
            who = ", ".join(f"{name} {number}" for name, number in action.contacts)
            print(f"  → phone: {action.reason}: ringing {who}", file=out)
        elif isinstance(action, act.SetVolume):
            print(f"  → volume {action.delta:+.1f}", file=out)
    out.flush()


def chat(
    settings: Settings,
    matcher: Understander,
    stdin: TextIO,
    stdout: TextIO,
    lang: str | None = None,
    store: CareStore | None = None,
    clock: ChatClock | None = None,
) -> int:
    """Run a typed conversation until end of input. Returns the exit code."""
    from assistant.conversation.care_store import CareStore
    from assistant.conversation.dialogue import MAX_EMERGENCY_CANCEL_S, Dialogue, State

    clock = clock or ChatClock()
    dialogue = Dialogue(
        settings, matcher, clock, lang=lang, state=store if store is not None else CareStore()
    )
    interactive = stdin.isatty()
    if not dialogue.routes.reaches_person:  # as the daemon says at start-up (docs/routes.md)
        _print_actions([dialogue.say_prompt("alarm_only_startup")], stdout)
    _print_actions(dialogue.greeting(), stdout)

    def on_line(line: str) -> None:
        text = line.strip()
        if not interactive:
            print(f"You: {text}" if text else "You: (silence)", file=stdout)
        if not text:
            if dialogue.state is State.EMERGENCY_CANCEL_WINDOW:
                clock.skip(MAX_EMERGENCY_CANCEL_S)  # nobody said cancel
                _print_actions(dialogue.tick(), stdout)
                return
            _print_actions(dialogue.handle(act.Silence()), stdout)
        else:
            _print_actions(dialogue.handle(matcher.match(text)), stdout)
        _print_actions(dialogue.tick(), stdout)

    _print_actions(dialogue.tick(), stdout)
    if interactive:
        while True:
            ready, _, _ = select.select([stdin], [], [], TICK_S)
            if ready:
                line = stdin.readline()
                if not line:
                    break
                on_line(line)
            else:
                _print_actions(dialogue.tick(), stdout)
    else:
        for line in stdin:
            on_line(line)
    if dialogue.state is State.EMERGENCY_CANCEL_WINDOW:  # input ended inside the window: send it
        clock.skip(MAX_EMERGENCY_CANCEL_S)
        _print_actions(dialogue.tick(), stdout)
    return 0
