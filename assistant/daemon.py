"""The Jiayi daemon: one loop that wires the stages together.

    listener (audio → endpointing → recognition)  ─┐
    typed lines (development / no microphone)      ├─► EventQueue ─► loop: matcher → dialogue ─► actions
    relay (backend acks, late deliveries, says)    │                          │
    phone worker (call results), signals          ─┘                          ├─► speaker (speech, earcons)
                                                                               ├─► relay.submit (MQTT outbox)
                                                                               └─► phone worker (AT modem)

Library threads never run business logic: they only put events on the queue. The loop ticks
the dialogue (reminders, timers) once a second, pets the watchdog only while the pipeline is
alive, and writes the status snapshot. SIGHUP reloads config.yaml (validated first; a broken file
keeps the running config). SIGTERM drains: the current turn finishes, pending requests stay in
the durable outbox, offline status is published.
"""

from __future__ import annotations

import enum
import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, TextIO

from assistant import actions as act
from assistant.clock import Clock, SystemClock
from assistant.eventqueue import EventQueue
from assistant.paths import state_dir as resolve_state_dir
from assistant.settings import Settings
from assistant.understanding import Understanding

_LOGGER = logging.getLogger(__name__)

TICK_S: Final = 0.5
"""Longest the loop waits for an event before ticking the dialogue and the watchdog."""
STATUS_EVERY_S: Final = 5.0
"""How often the status snapshot is written."""
DRAIN_TIMEOUT_S: Final = 10.0
"""Longest SIGTERM waits for the current turn (speech, phone call) to finish."""
PHONE_CALL_TIMEOUT_S: Final = 300.0
"""Longest one phone fallback (all contacts) may take before it is abandoned."""


# ---------------------------------------------------------------- loop events


@dataclass(frozen=True)
class TextHeard:
    """A line typed on stdin (development, or no microphone): treated like a transcript."""

    text: str


@dataclass(frozen=True)
class InputClosed:
    """Typed input reached end of file."""


@dataclass(frozen=True)
class ReloadRequested:
    """SIGHUP: re-read config.yaml."""


@dataclass(frozen=True)
class ShutdownRequested:
    reason: str = "signal"


_CRITICAL_TYPES = (
    act.BackendAck,
    act.DeliveryLate,
    act.BackendSay,
    act.PhoneResult,
    ShutdownRequested,
    ReloadRequested,
    TextHeard,
    InputClosed,
)


def _is_critical(event: object) -> bool:
    return isinstance(event, _CRITICAL_TYPES) or type(event).__name__ in (
        "UtteranceRecognized",
        "WakeDetected",
    )


class DaemonState(enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    DRAINING = "draining"
    STOPPED = "stopped"


@dataclass
class DaemonOptions:
    """How `jiayi run` was asked to run (tests build this directly)."""

    text_input: TextIO | None = None
    """Read typed utterances from this stream instead of (or besides) the microphone."""
    echo: TextIO | None = None
    """Print what the assistant says (and sends) here, for typed sessions."""
    use_listener: bool = True
    """Start the audio pipeline (microphone/WAV/stdin per config)."""
    use_relay: bool = True
    """Connect to the backend over MQTT."""
    exit_on_input_end: bool = True
    """Stop when typed input ends (after the outbox drains or `drain_timeout_s`)."""
    drain_timeout_s: float = DRAIN_TIMEOUT_S
    extra_components: dict[str, Any] = field(default_factory=dict)
    """Injected components for tests: speaker, sink, source, relay, phone."""


class Daemon:
    def __init__(
        self,
        settings: Settings,
        options: DaemonOptions | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.options = options or DaemonOptions()
        self.clock = clock or SystemClock()
        self.state = DaemonState.STARTING
        self.events = EventQueue(is_critical=_is_critical)
        self.state_dir = resolve_state_dir(settings.state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.last_error = ""
        self._answer_deadline: float | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._components_built = False

    # ------------------------------------------------------------ components

    def _build_components(self) -> None:
        from assistant.matcher import IntentMatcher

        inject = self.options.extra_components
        lang = self.settings.language
        self.matcher = inject.get("matcher") or IntentMatcher.from_settings(self.settings, lang)
        self.dialogue = self._build_dialogue(self.settings, self.matcher)
        self.speaker = inject.get("speaker") or self._build_speaker()
        self.relay = inject.get("relay") or (self._build_relay() if self.options.use_relay else None)
        self.phone = inject.get("phone") or self._build_phone()
        self.listener = inject.get("listener") or (
            self._build_listener() if self.options.use_listener else None
        )
        self._components_built = True

    def _build_dialogue(self, settings: Settings, matcher: Any) -> Any:
        from assistant.dialogue import Dialogue

        return Dialogue(settings, matcher, self.clock)

    def _build_speaker(self) -> Any:
        return None

    def _build_relay(self) -> Any:
        return None

    def _build_phone(self) -> Any:
        return None

    def _build_listener(self) -> Any:
        return None

    # ------------------------------------------------------------ run

    def run(self) -> int:
        """Run until SIGTERM/SIGINT (or typed input ends). Returns the exit code."""
        self._build_components()
        self._install_signal_handlers()
        if self.relay is not None:
            self.relay.start()
        if self.listener is not None:
            self.listener.start()
        if self.options.text_input is not None:
            self._start_thread("typed-input", self._read_typed_input)
        self.state = DaemonState.RUNNING
        _LOGGER.info(
            "event=daemon_ready lang=%s device=%s", self.settings.language, self.settings.backend.device_id
        )
        try:
            self._loop()
        finally:
            self._shutdown()
        return 0

    def request_stop(self, reason: str = "request") -> None:
        self.events.put(ShutdownRequested(reason))

    def _loop(self) -> None:
        while True:
            event = self.events.get(timeout=TICK_S)
            if isinstance(event, ShutdownRequested):
                _LOGGER.info("event=shutdown reason=%s", event.reason)
                return
            if event is not None:
                self._dispatch(event)
            self._run_actions(self.dialogue.tick())
            self._check_answer_timeout()

    def _dispatch(self, event: object) -> None:
        if isinstance(event, TextHeard):
            if not event.text.strip():
                self._answer_deadline = None
                self._run_actions(self.dialogue.handle(act.Silence()))
                return
            self._understood(self.matcher.match(event.text))
        elif isinstance(event, InputClosed):
            if self.options.exit_on_input_end:
                self.events.put(ShutdownRequested("input ended"))
        elif isinstance(event, ReloadRequested):
            self._reload()
        elif isinstance(event, act.BackendAck | act.DeliveryLate | act.BackendSay | act.PhoneResult):
            self._run_actions(self.dialogue.handle(event))
        else:
            _LOGGER.debug("event=ignored kind=%s", type(event).__name__)

    def _understood(self, understanding: Understanding) -> None:
        self._answer_deadline = None
        _LOGGER.info(
            "event=understood intent=%s confidence=%.2f", understanding.intent, understanding.confidence
        )
        self._run_actions(self.dialogue.handle(understanding))

    def _check_answer_timeout(self) -> None:
        if self._answer_deadline is not None and self.clock.monotonic() >= self._answer_deadline:
            self._answer_deadline = None
            self._run_actions(self.dialogue.handle(act.Silence()))

    # ------------------------------------------------------------ actions

    def _run_actions(self, actions: list[object]) -> None:
        for action in actions:
            try:
                self._run_action(action)
            except Exception:  # one failing output must not stop the others or the loop
                _LOGGER.exception("event=action_failed kind=%s", type(action).__name__)
                self.last_error = f"action_failed:{type(action).__name__}"

    def _run_action(self, action: object) -> None:
        echo = self.options.echo
        if isinstance(action, act.Say):
            if echo is not None:
                print(f"Jiayi: {action.text}", file=echo, flush=True)
            if self.speaker is not None:
                self.speaker.say(action)
        elif isinstance(action, act.PlayEarcon):
            if self.speaker is not None:
                self.speaker.play_earcon(action.name)
        elif isinstance(action, act.ExpectAnswer):
            self._answer_deadline = self.clock.monotonic() + action.timeout_s
            if self.listener is not None:
                self.listener.expect_answer(action.timeout_s)
        elif isinstance(action, act.SendRequest):
            if echo is not None:
                print(f"  → backend: {action.request_type} {action.slots}", file=echo, flush=True)
            if self.relay is not None:
                self.relay.submit(action)
        elif isinstance(action, act.PhoneCall):
            self._start_thread("phone", lambda: self._place_call(action))
        elif isinstance(action, act.SetVolume):
            if self.speaker is not None:
                self.speaker.set_volume(action.delta)
        else:
            _LOGGER.warning("event=unknown_action kind=%s", type(action).__name__)

    def _place_call(self, call: act.PhoneCall) -> None:
        if self.phone is None:
            _LOGGER.warning("event=phone_unavailable reason=%s contacts=%d", call.reason, len(call.contacts))
            self.events.put(act.PhoneResult("failed"))
            return
        from assistant.phone import call_in_order

        self.events.put(call_in_order(self.phone, call.contacts))

    # ------------------------------------------------------------ input, signals, reload

    def _read_typed_input(self) -> None:
        stream = self.options.text_input
        assert stream is not None
        for line in stream:
            if self._stop.is_set():
                return
            self.events.put(TextHeard(line.rstrip("\n")))
        self.events.put(InputClosed())

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        signal.signal(signal.SIGTERM, lambda *_: self.events.put(ShutdownRequested("SIGTERM")))
        signal.signal(signal.SIGHUP, lambda *_: self.events.put(ReloadRequested()))

    def _reload(self) -> None:
        from assistant import config

        path = self.settings.source_path or None
        try:
            new = config.load_settings(path)
        except config.ConfigError as err:
            self.last_error = "config_invalid"
            _LOGGER.error("event=reload_rejected problems=%d\n%s", len(err.problems), err)
            return
        self.settings = replace(new, state_dir=self.settings.state_dir or new.state_dir)
        from assistant.matcher import IntentMatcher

        self.matcher = IntentMatcher.from_settings(self.settings, self.settings.language)
        self.dialogue = self._build_dialogue(self.settings, self.matcher)
        _LOGGER.info("event=reloaded source=%s", path)

    def _start_thread(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _shutdown(self) -> None:
        self.state = DaemonState.DRAINING
        self._stop.set()
        if self.listener is not None:
            self.listener.stop()
        if self.relay is not None:
            self.relay.stop()
        self.state = DaemonState.STOPPED
        _LOGGER.info("event=daemon_stopped")


def run_typed(settings: Settings, lines: TextIO = sys.stdin, echo: TextIO = sys.stdout) -> int:
    """Convenience: a daemon driven by typed lines (no audio, no MQTT)."""
    options = DaemonOptions(text_input=lines, echo=echo, use_listener=False, use_relay=False)
    return Daemon(settings, options).run()


__all__ = ["Daemon", "DaemonOptions", "DaemonState", "Path", "run_typed"]
