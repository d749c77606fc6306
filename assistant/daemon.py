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

import datetime as dt
import enum
import gc
import logging
import math
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final, TextIO

from assistant.conversation import actions as act
from assistant.conversation.route_watch import RouteWatch, place_call_in_thread
from assistant.conversation.speech_queue import AnswerWindow, SpeechQueue
from assistant.eventqueue import EventQueue
from assistant.hearing.listener import ListenerError, UtteranceRecognized, WakeDetected
from assistant.link.protocol import ScheduleUpdate
from assistant.ops.clock import Clock, SystemClock
from assistant.ops.paths import state_dir as resolve_state_dir
from assistant.ops.settings import Settings
from assistant.seams import Components, Conversation, Hearing, Link, Notifier, PhoneDriver, Voice
from assistant.understanding.result import Understanding

if TYPE_CHECKING:
    from assistant.link.relay import RelayStatus
    from assistant.ops.status import Status
    from assistant.pipeline import Pipeline

_LOGGER = logging.getLogger(__name__)

TICK_S: Final = 0.5
"""Longest the loop waits for an event before ticking the dialogue and the watchdog."""
STATUS_EVERY_S: Final = 5.0
"""How often the status snapshot is written."""
DRAIN_TIMEOUT_S: Final = 10.0
"""Longest SIGTERM waits for the current turn (speech, phone call) to finish."""
HEALTH_PUBLISH_EVERY_S: Final = 60.0
"""The retained MQTT status is refreshed at least this often (and whenever health changes)."""
HEALTH_FIELDS: Final = tuple(
    "state healthy version engine outbox_depth last_error last_restart false_alarms_today".split()
)
"""Status fields that leave the device; the rest (reminders, audio level) stay on it."""
QUIET_BEFORE_EXIT_S: Final = 1.0
"""After typed input ends, how long everything must stay idle before the daemon exits."""


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
    UtteranceRecognized,
    WakeDetected,
    ScheduleUpdate,
)


def _is_critical(event: object) -> bool:
    return isinstance(event, _CRITICAL_TYPES)


def freeze_long_lived_objects() -> None:
    """Move everything built at start-up (catalog index, intent model, symptom vocabulary) out of
    the cycle collector's generations, so a full collection during an utterance scans only what was
    made since (a loaded p99 of understanding one sentence went 8.9 -> 5.5 ms, docs/benchmarks/
    intent.md). Only for a process that runs one daemon (``run``): frozen objects are never
    collected, so tests that start many daemons in one process do not call it."""
    gc.collect()
    gc.freeze()


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
    components: Components = field(default_factory=Components)
    """Stand-ins for stages (tests, hardware we lack); the rest is built from the settings."""


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
        self._input_closed_at: float | None = None
        self._quiet_since: float | None = None
        self._last_audio_chunk: float | None = None
        self._relay_status_at_stop: RelayStatus | None = None
        self.started_monotonic = self.clock.monotonic()
        self._published_health: dict[str, Any] | None = None
        self._published_at = -HEALTH_PUBLISH_EVERY_S

    # ------------------------------------------------------------ components

    def _build_pipeline(self) -> None:
        """Understanding (and, when listening, hearing) from the one pipeline factory."""
        from assistant.pipeline import build_pipeline

        self.pipeline: Pipeline = build_pipeline(self.settings, understander=self.options.components.matcher)
        self.matcher = self.pipeline.understander

    def _build_components(self) -> None:
        given = self.options.components
        self._build_pipeline()
        self.dialogue: Conversation = self._build_dialogue()
        self.speaker: Voice | None = given.speaker or self._build_speaker()
        self.relay: Link | None = given.relay or (self._build_relay() if self.options.use_relay else None)
        self.phone: PhoneDriver | None = given.phone or self._build_phone()
        self.listener: Hearing | None = given.listener or (
            self._build_listener() if self.options.use_listener else None
        )
        self._watch_routes()

    def _watch_routes(self) -> None:
        """The routes that are really there (a relay, a modem), for the dialogue and the status."""
        self.routes = RouteWatch(self.settings, self.relay, self.phone)
        self.dialogue.routes = self.routes.plan

    def _build_dialogue(self) -> Conversation:
        from assistant.conversation.dialogue import Dialogue

        return Dialogue(self.settings, self.matcher, self.clock)

    def _build_speaker(self) -> Voice | None:
        from assistant.conversation.playback import SinkUnavailable, open_sink
        from assistant.conversation.voice import Speaker

        sink = self.options.components.sink
        if sink is None:
            try:
                sink = open_sink(self.settings.audio, default_dir=self.state_dir / "spoken")
            except SinkUnavailable as err:
                if self.options.echo is not None:  # a typed session reads the replies on screen
                    _LOGGER.info("event=speaker_unavailable reason=%s", err)
                else:
                    _LOGGER.warning("event=speaker_unavailable reason=%s", err)
                    self.last_error = "speaker_missing"
                return None
        speaker = Speaker.from_settings(self.settings, sink)
        sink.start()
        return speaker

    def _build_relay(self) -> Link | None:
        if not self.settings.backend.url:
            _LOGGER.warning("event=no_backend_configured")
            return None
        from assistant.link.relay import Relay

        return Relay(self.settings, self.events.put, self.clock, self.state_dir)

    def _build_phone(self) -> PhoneDriver | None:
        if not self.settings.phone_fallback.enabled:
            return None
        from assistant.conversation.phone import open_phone_driver

        return open_phone_driver(self.settings.phone_fallback)

    def _build_listener(self) -> Hearing:
        return self.pipeline.listener(self.events.put)

    # ------------------------------------------------------------ run

    def run(self) -> int:
        """Run until SIGTERM/SIGINT (or typed input ends). Returns the exit code."""
        self.start()
        freeze_long_lived_objects()
        try:
            while self.step(TICK_S):
                pass
        finally:
            self.shutdown()
        return 0

    def start(self) -> None:
        """Build the components and start their threads (tests then call :meth:`step`)."""
        self._build_components()
        self._install_signal_handlers()
        self.speech = SpeechQueue(self.speaker, self.listener, self.events.put)
        self._start_thread("speech", self.speech.run)
        self._start_watchdog()
        if self.relay is not None:
            self.relay.start()
        self._start_thread("route-probe", self.routes.run_probe)
        self._run_actions(self.routes.startup(self.dialogue.resume_emergency, self.dialogue.say_prompt))
        if self.listener is not None:
            self.listener.start()
        if self.options.text_input is not None:
            self._start_thread("typed-input", self._read_typed_input)
        self.state = DaemonState.RUNNING
        if self.options.echo is not None and self.options.text_input is not None:
            self._run_actions(self.dialogue.greeting())  # a typed session opens with a greeting
        self.notifier.ready()
        self.notifier.status("listening" if self.listener is not None else "running (typed input)")
        _LOGGER.info(
            "event=daemon_ready lang=%s device=%s", self.settings.language, self.settings.backend.device_id
        )

    def step(self, timeout: float = TICK_S) -> bool:
        """Handle at most one event, then tick. False once the daemon should stop."""
        event = self.events.get(timeout=timeout)
        if isinstance(event, ShutdownRequested):
            _LOGGER.info("event=shutdown reason=%s", event.reason)
            return False
        if event is not None:
            self._dispatch(event)
        self._run_actions(self.dialogue.tick())
        self._check_answer_timeout()
        self._look_after_health()
        return not self._finished_after_input_end()

    def _finished_after_input_end(self) -> bool:
        """After typed input ends: stop once the turn is over and the outbox is empty (or timed out)."""
        if self._input_closed_at is None:
            return False
        now = self.clock.monotonic()
        if now - self._input_closed_at >= self.options.drain_timeout_s:
            return True
        busy = (
            self.events.counters().depth > 0
            or self.speech.busy()
            or self.dialogue.state != "idle"
            or (self.relay is not None and self.relay.status().outbox_depth > 0)
            or any(t.name == "phone" and t.is_alive() for t in self._threads)
        )
        if busy:
            self._quiet_since = None
            return False
        if self._quiet_since is None:
            self._quiet_since = now
        return now - self._quiet_since >= QUIET_BEFORE_EXIT_S

    def request_stop(self, reason: str = "request") -> None:
        self.events.put(ShutdownRequested(reason))

    def _dispatch(self, event: object) -> None:
        if isinstance(event, TextHeard):
            if not event.text.strip():
                self._answer_deadline = None
                self._run_actions(self.dialogue.handle(act.Silence()))
                return
            self._understood(self.matcher.match(event.text))
        elif isinstance(event, InputClosed):
            if self.options.exit_on_input_end:
                self._input_closed_at = self.clock.monotonic()
        elif isinstance(event, AnswerWindow):
            self._answer_deadline = self.clock.monotonic() + event.timeout_s
            if self.listener is not None:
                self.listener.expect_answer(event.timeout_s)
        elif isinstance(event, UtteranceRecognized):
            self._understood(self._match_transcript(event))
        elif isinstance(event, WakeDetected):
            self.speech.submit(act.PlayEarcon("wake"))
        elif isinstance(event, ListenerError):
            self.last_error = "listener_failed"
            _LOGGER.error("event=listener_error fatal=%s", event.fatal)
        elif isinstance(event, ReloadRequested):
            self._reload()
        elif isinstance(event, act.BackendAck | act.DeliveryLate | act.BackendSay | act.PhoneResult):
            self._run_actions(self.dialogue.handle(event))
        elif isinstance(event, ScheduleUpdate):
            self._apply_schedule_update(event)
        else:
            _LOGGER.debug("event=ignored kind=%s", type(event).__name__)

    def _match_transcript(self, event: UtteranceRecognized) -> Understanding:
        return self.pipeline.understand_heard(event)

    def _understood(self, understanding: Understanding) -> None:
        self._answer_deadline = None
        _LOGGER.info(
            "event=understood intent=%s confidence=%.2f", understanding.intent, understanding.confidence
        )
        self._run_actions(self.dialogue.handle(understanding))

    def _apply_schedule_update(self, update: ScheduleUpdate) -> None:
        """New reminder times from the backend (expired updates were already dropped by the relay)."""
        applied = 0
        for entry in update.medications:
            try:
                name, times = str(entry["name"]), list(entry["times"])
                self.dialogue.apply_schedule_update(name, times)
                applied += 1
            except (KeyError, TypeError, ValueError) as err:  # one bad entry must not stop the rest
                _LOGGER.warning("event=schedule_entry_rejected id=%s error=%s", update.message_id, err)
        _LOGGER.info("event=schedule_update_applied id=%s medications=%d", update.message_id, applied)

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
            self.speech.submit(action)
        elif isinstance(action, act.PlayEarcon):
            self.speech.submit(action)
        elif isinstance(action, act.ExpectAnswer):
            # The answer window opens when everything queued before it has been said.
            self.speech.submit(action)
        elif isinstance(action, act.SendRequest):
            if echo is not None:
                print(f"  → backend: {action.request_type} {action.slots}", file=echo, flush=True)
            if self.relay is not None:
                self.relay.submit(action)
        elif isinstance(action, act.PhoneCall):
            self._start_thread("phone", lambda: self.events.put(place_call_in_thread(self.phone, action)))
        elif isinstance(action, act.SetVolume):
            self.speech.submit(action)
        else:
            _LOGGER.warning("event=unknown_action kind=%s", type(action).__name__)

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
        """SIGHUP: validate the config file first; a broken file keeps the running config."""
        from assistant.ops import config

        path = self.settings.source_path or None
        self.notifier.reloading()
        try:
            new = config.load_settings(path)
        except config.ConfigError as err:
            self.last_error = "config_invalid"
            self.notifier.status(f"config reload rejected: {len(err.problems)} problem(s), see the log")
            self.notifier.ready()
            _LOGGER.error("event=reload_rejected problems=%d\n%s", len(err.problems), err)
            return
        if self.last_error == "config_invalid":
            self.last_error = ""
        self.settings = replace(new, state_dir=self.settings.state_dir or new.state_dir)
        from assistant.ops.logs import setup_logging

        setup_logging(self.settings, verbose=logging.getLogger().level <= logging.DEBUG)
        self._build_pipeline()
        old = self.dialogue
        self.dialogue = self._build_dialogue()
        self.dialogue.carry_over(old)  # an emergency on its routes, the alarm: not lost on a reload
        old.store.close()
        self._watch_routes()
        reconfigure = getattr(self.relay, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(self.settings)
        self._rebuild_listener()
        self.notifier.ready()
        self.notifier.status("running (config reloaded)")
        _LOGGER.info("event=reloaded source=%s", path)

    def _rebuild_listener(self) -> None:
        """The recognizer's grammar and language model come from the matcher: rebuild them, so
        a contact or medicine added by the reload can be heard, not only typed."""
        if self.listener is None or self.options.components.listener is not None:
            return
        self._stop_listener()
        try:
            self.listener = self._build_listener()
        except Exception:  # the audio probe goes stale and systemd restarts us on the new config
            _LOGGER.exception("event=listener_rebuild_failed")
            self.last_error = "listener_failed"
            self.listener = None
            return
        self.speech.set_listener(self.listener)
        self.listener.start()

    def _stop_listener(self) -> None:
        """Stop the audio pipeline and its recognizer (a child process)."""
        if self.listener is None:
            return
        self.listener.stop()
        close = getattr(self.listener.recognizer, "close", None)
        if close is not None:
            close()

    def _start_thread(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # ------------------------------------------------------------ health

    def _start_watchdog(self) -> None:
        from assistant.ops.status import StatusWriter
        from assistant.ops.watchdog import AUDIO, LOOP, SystemdNotifier, Watchdog, adopt_restart_reason

        self.notifier: Notifier = self.options.components.notifier or SystemdNotifier()
        restart = adopt_restart_reason(self.state_dir)
        self.last_restart = restart.describe() if restart else ""
        if restart:
            _LOGGER.warning("event=restarted_after_watchdog code=%s", restart.code)
        self.watchdog = Watchdog(self.clock, self.notifier, state_dir=self.state_dir)
        self.watchdog.register(LOOP)
        if self.listener is not None:
            self.watchdog.register(AUDIO)
        self.status_writer = StatusWriter(self.state_dir, self.clock, every_s=STATUS_EVERY_S)

    def _look_after_health(self) -> None:
        """Beat the probes from real signs of life, pet systemd only when all are fresh, write status."""
        from assistant.ops.watchdog import AUDIO, LOOP

        self.watchdog.beat(LOOP)
        if self.listener is not None:
            last = self.listener.source.counters().last_chunk_monotonic
            if last is not None and last != self._last_audio_chunk:
                self._last_audio_chunk = last
                self.watchdog.beat(AUDIO)
        self.health = self.watchdog.maybe_pet()
        if self.status_writer.due():
            status = self.status()
            self.status_writer.write(status)
            self._publish_health(status)

    def _publish_health(self, status: Status) -> None:
        """Retained MQTT status: only device health, never health details (no medicine names)."""
        if self.relay is None:
            return
        health = {k: getattr(status, k) for k in HEALTH_FIELDS}
        health["stale_probes"] = list(status.stale_probes)
        changed = health != self._published_health
        if changed or self.clock.monotonic() - self._published_at >= HEALTH_PUBLISH_EVERY_S:
            self.relay.publish_status(health)
            self._published_health = health
            self._published_at = self.clock.monotonic()

    def status(self) -> Status:
        """Snapshot for `jiayi status` and the retained MQTT status message."""
        from assistant import __version__
        from assistant.ops.status import Status
        from assistant.ops.watchdog import AUDIO

        relay = self._relay_status_at_stop
        if relay is None and self.relay is not None:
            relay = self.relay.status()
        health = getattr(self, "health", None)
        mic_dbfs = last_audio_age = None
        if self.listener is not None:
            counters = self.listener.source.counters()
            if counters.last_chunk_monotonic is not None:
                # Seconds since the loop last saw a new chunk (the audio probe's age, daemon clock).
                age = self.watchdog.age_s(AUDIO)
                last_audio_age = round(age, 1) if age is not None else None
                mic_dbfs = round(20 * math.log10(max(counters.last_rms, 1e-6)), 1)
        nxt_at, nxt_name = self._next_reminder()
        error = self.last_error or (health.code if health is not None and not health.ok else "")
        if not error and relay is not None and not relay.connected and relay.last_error:
            error = "broker_unreachable"
        down = tuple(self.routes.down(relay))
        error = error or self.routes.error_code(down)
        return Status(
            written_at=self.clock.now().isoformat(timespec="seconds"),
            pid=os.getpid(),
            version=__version__,
            state=self.state.value,
            healthy=bool(health is None or health.ok) and not self.last_error and not down,
            uptime_s=round(self.clock.monotonic() - self.started_monotonic, 1),
            language=self.settings.language,
            audio_input=self.settings.audio.input if self.listener is not None else "typed",
            mic_level_dbfs=mic_dbfs,
            last_audio_age_s=last_audio_age,
            engine=getattr(getattr(self.listener, "recognizer", None), "engine", ""),
            model=self.settings.asr.model,
            broker_url=self.settings.backend.url,
            broker_connected=relay.connected if relay is not None else None,
            outbox_depth=relay.outbox_depth if relay is not None else 0,
            next_reminder_at=nxt_at,
            next_reminder=nxt_name,
            last_error=error,
            error_active=bool(error),
            stale_probes=tuple(health.stale) if health is not None else (),
            last_restart=self.last_restart,
            routes_down=down,
            **self.routes.status_fields(self.dialogue),
        )

    def _next_reminder(self) -> tuple[str, str]:
        now = self.clock.now()
        for med, at, status in self.dialogue.reminders.today(now):
            if at >= now.time().replace(tzinfo=None) and str(status) == "scheduled":
                when = dt.datetime.combine(now.date(), at, tzinfo=now.tzinfo)
                return when.isoformat(timespec="minutes"), med.name
        return "", ""

    def shutdown(self) -> None:
        """Drain: let queued speech finish, keep pending requests in the outbox, publish offline."""
        self.state = DaemonState.DRAINING
        notifier = getattr(self, "notifier", None)
        if notifier is not None:
            notifier.stopping()
        self._stop.set()
        if getattr(self, "routes", None) is not None:
            self.routes.stop()
        self._stop_listener()
        speech = getattr(self, "speech", None)
        if speech is not None:
            speech.stop()
            for t in self._threads:
                if t.name == "speech":
                    t.join(self.options.drain_timeout_s)
        if self.relay is not None:
            # The outbox closes with the relay: keep its last numbers for the final status snapshot.
            self._relay_status_at_stop = replace(self.relay.status(), connected=False)
            self.relay.stop()
        if self.speaker is not None:
            self.speaker.close()
        self.state = DaemonState.STOPPED
        if getattr(self, "status_writer", None) is not None:
            self.status_writer.write(self.status())
        _LOGGER.info("event=daemon_stopped")
