"""Helpers for the daemon and end-to-end tests: a daemon driven step by step, a private broker with
the reference backend, a recording systemd notifier, WAV checks and config files on disk.

Nothing sleeps to wait: :func:`pump_until` steps the daemon's loop until a condition holds (or
fails after a timeout), :func:`mqtt_helpers.wait_until` polls other threads and processes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from fakes import RecordingNotifier
from mqtt_helpers import FAST, start_broker, wait_until

from assistant.conversation.playback import NullSink, read_wav, rms
from assistant.daemon import Daemon, DaemonOptions
from assistant.link.relay import Relay, RelayTuning
from assistant.ops.clock import ManualClock
from assistant.ops.settings import (
    Backend,
    Contact,
    Doctor,
    Medication,
    Person,
    PhoneFallback,
    Settings,
    Voice,
)
from assistant.seams import Components
from jiayi_backend.broker import LocalBroker
from jiayi_backend.service import DemoPolicy, ReferenceBackend

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
STEP_S: Final = 0.02
"""How long one daemon step waits for an event in the tests."""
PUMP_TIMEOUT_S: Final = 15.0
SILENT_RMS: Final = 0.001
"""RMS (full scale 1.0) below which a spoken WAV counts as silence."""
START: Final = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)

ANNA: Final = Contact("Anna", "daughter", phone="+15550111", emergency=True)
DAVID: Final = Contact("David", "son", phone="+15550122", emergency=True)


def make_settings(state_dir: Path, url: str = "", **over: Any) -> Settings:
    """English settings with two emergency contacts and the phone fallback logging only."""
    base: dict[str, Any] = {
        "person": Person("Margaret Lee", "Margaret", "en"),
        "doctor": Doctor("Dr. Chen", "+15550100"),
        "contacts": (ANNA, DAVID),
        "backend": Backend(url=url, device_id="e2e-1"),
        "phone_fallback": PhoneFallback(enabled=True, driver="log"),
        "voice": Voice(wake_phrase=""),  # always listening: the tests speak commands alone
        "state_dir": str(state_dir),
    }
    base.update(over)
    return Settings(**base)


def amlodipine(**over: Any) -> Medication:
    values: dict[str, Any] = {
        "name": "amlodipine",
        "aliases": ("blood pressure pills",),
        "dose": "one tablet",
        "times": (dt.time(8, 0),),
    }
    values.update(over)
    return Medication(**values)


class Echo:
    """A text stream the daemon prints to (``DaemonOptions.echo``); lines are kept in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        self.lines.extend(line for line in text.splitlines() if line.strip())
        return len(text)

    def flush(self) -> None:
        pass

    def said(self) -> list[str]:
        return [line.removeprefix("Jiayi: ") for line in self.lines if line.startswith("Jiayi: ")]

    def sent(self) -> list[str]:
        return [line.strip() for line in self.lines if "→ backend" in line]


@dataclass
class Harness:
    """A daemon started in this thread and driven with :meth:`pump_until` (no ``run()`` loop)."""

    daemon: Daemon
    echo: Echo
    notifier: RecordingNotifier
    clock: Any
    extra: dict[str, Any] = field(default_factory=dict)

    def say(self, text: str) -> None:
        """The person speaks (typed: the same path as a recognised transcript)."""
        from assistant.daemon import TextHeard

        self.daemon.events.put(TextHeard(text))

    def pump_until(
        self, predicate: Callable[[], Any], timeout_s: float = PUMP_TIMEOUT_S, what: str = "condition"
    ) -> Any:
        end = time.monotonic() + timeout_s
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > end:
                raise AssertionError(
                    f"timed out after {timeout_s:.1f} s waiting for {what}; echo={self.echo.lines}"
                )
            self.daemon.step(STEP_S)

    def pump_idle(self) -> None:
        """Step until the event queue is empty and the speech worker has finished."""
        self.pump_until(
            lambda: self.daemon.events.counters().depth == 0 and not self.daemon.speech.busy(),
            what="daemon idle",
        )

    def advance(self, seconds: float, step_s: float = 1.0) -> None:
        """Move the manual clock forward in ``step_s`` slices, ticking the daemon after each."""
        left = seconds
        while left > 0:
            delta = min(step_s, left)
            self.clock.advance(delta)
            left -= delta
            self.daemon.step(0)


@contextlib.contextmanager
def running_daemon(
    settings: Settings,
    *,
    clock: Any = None,
    components: dict[str, Any] | None = None,
    relay_tuning: RelayTuning | None = None,
    use_relay: bool = True,
    use_listener: bool | None = None,
) -> Iterator[Harness]:
    """Start a daemon (typed input through :meth:`Harness.say`), shut it down afterwards.

    With ``relay_tuning`` a real :class:`Relay` is built with those timings and the daemon's clock.
    ``use_listener`` builds the audio pipeline from ``settings.audio`` (default: only when a
    ``listener`` component is injected).
    """
    clock = clock or ManualClock(START)
    echo = Echo()
    notifier = RecordingNotifier()
    extra: dict[str, Any] = {"notifier": notifier, "sink": NullSink()}
    extra.update(components or {})
    given = Components(**extra)
    options = DaemonOptions(
        echo=echo,
        use_listener=given.listener is not None if use_listener is None else use_listener,
        use_relay=use_relay,
        exit_on_input_end=False,
        drain_timeout_s=5.0,
        components=given,
    )
    daemon = Daemon(settings, options, clock)
    if use_relay and settings.backend.url and given.relay is None:
        given.relay = extra["relay"] = Relay(
            settings, daemon.events.put, clock, daemon.state_dir, tuning=relay_tuning or FAST
        )
    daemon.start()
    try:
        yield Harness(daemon, echo, notifier, clock, extra)
    finally:
        daemon.shutdown()


@dataclass
class Practice:
    """A private mosquitto and the reference backend (the family-doctor practice)."""

    broker: LocalBroker
    backend: ReferenceBackend

    @property
    def url(self) -> str:
        return self.broker.url

    def types(self) -> list[str]:
        return [row["request_type"] for row in self.backend.store.rows()]

    def rows_of(self, request_type: str) -> list[dict]:
        return [r for r in self.backend.store.rows() if r["request_type"] == request_type]

    def wait_for(self, request_type: str, count: int = 1, timeout_s: float = 10.0) -> list[dict]:
        """Poll the store (for a daemon in another process; in-process use ``Harness.pump_until``)."""
        wait_until(
            lambda: self.types().count(request_type) >= count, timeout_s, f"{count} {request_type} stored"
        )
        return [r for r in self.backend.store.rows() if r["request_type"] == request_type]


@contextlib.contextmanager
def practice(folder: Path, policy: DemoPolicy | None = None, port: int | None = None) -> Iterator[Practice]:
    broker = start_broker(folder / "broker", **({"port": port} if port else {}))
    backend = ReferenceBackend(broker.url, folder / "backend.sqlite3", policy=policy or DemoPolicy())
    try:
        backend.start()
        yield Practice(broker, backend)
    finally:
        backend.stop()
        broker.stop()


def nonsilent_wavs(folder: Path) -> list[Path]:
    """Spoken WAV files in ``folder`` whose level is above silence, in file order."""
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.wav")):
        if ".part" in path.name:
            continue
        try:
            pcm = read_wav(path)
        except Exception:  # a file being written right now
            continue
        if pcm.duration_s > 0.2 and rms(pcm) > SILENT_RMS:
            out.append(path)
    return out


def outbox_rows(state_dir: Path) -> list[tuple[str, str]]:
    """(request_type, request_id) of every request waiting in the device outbox."""
    path = state_dir / "outbox.sqlite3"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return [(str(t), str(i)) for t, i in db.execute("SELECT request_type, request_id FROM outbox")]
    except sqlite3.OperationalError:  # the table is not created yet
        return []
    finally:
        db.close()


def write_config(path: Path, url: str, *, contacts: str = "", extra: str = "") -> Path:
    """A small valid config.yaml; ``contacts`` adds YAML list items under ``contacts:``."""
    text = f"""\
person:
  name: "Margaret Lee"
  address_as: "Margaret"
  language: en
doctor:
  name: "Dr. Chen"
  phone: "+1 555 0100"
contacts:
  - name: "Anna"
    relation: "daughter"
    phone: "+1 555 0111"
    emergency: true
{contacts}backend:
  url: "{url}"
  device_id: "e2e-1"
phone_fallback:
  enabled: true
  driver: log
emergency:
  accept_alarm_only: true
{extra}"""
    path.write_text(text, encoding="utf-8")
    return path


def jiayi_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("JIAYI_CONFIG", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_jiayi(args: list[str], **kwargs: Any) -> subprocess.Popen:
    """``jiayi <args>`` as a subprocess with pipes for stdin/stdout/stderr."""
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=jiayi_env(),
        cwd=str(REPO_ROOT),
        **kwargs,
    )


class ProcessOutput:
    """Collects a subprocess's stdout lines on a thread, so tests can poll for a line."""

    def __init__(self, process: subprocess.Popen) -> None:
        import threading

        self.process = process
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, fragment: str, timeout_s: float = 15.0) -> str:
        """The first output line holding ``fragment``; fails at once (with the exit code) if the
        process ended without printing it, else after ``timeout_s``."""

        def seen() -> str | None:
            line = next((line for line in list(self.lines) if fragment in line), None)
            if line is None and self.process.poll() is not None:
                self._thread.join(1.0)  # the last lines may still be in the pipe
                line = next((line for line in list(self.lines) if fragment in line), None)
                if line is None:
                    raise AssertionError(
                        f"the process exited with code {self.process.returncode} before printing "
                        f"{fragment!r}; its output: {self.lines}"
                    )
            return line

        found = wait_until(seen, timeout_s, f"{fragment!r} in output {self.lines}")
        return str(found)

    def type(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def finish(self, timeout_s: float = 10.0) -> int:
        """Wait for the process to exit (killing it after ``timeout_s``); returns the exit code."""
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise AssertionError(f"process did not exit within {timeout_s} s; output={self.lines}") from None
        finally:
            self._thread.join(5)
