"""The daemon wired with real components: relay + private mosquitto + reference backend, WAV speech
output, config reload (issue 6), SIGTERM / kill -9 with pending requests (issues 4 and 6), the
watchdog over a stalled microphone, and the ``make run`` experience.

Only hardware is faked (the microphone); time is a ManualClock where timers matter.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from e2e_helpers import (
    REPO_ROOT,
    START,
    ProcessOutput,
    make_settings,
    nonsilent_wavs,
    outbox_rows,
    practice,
    running_daemon,
    start_jiayi,
    write_config,
)
from mqtt_helpers import wait_until

from assistant.conversation.playback import WavFileSink
from assistant.daemon import ReloadRequested
from assistant.hearing.sources import SourceCounters, rms_level
from assistant.ops import config
from assistant.ops.clock import ManualClock
from assistant.ops.status import read_status
from assistant.ops.watchdog import LAST_RESTART_FILE, PENDING_REASON_FILE
from jiayi_backend.broker import free_port

EXIT_TIMEOUT_S = 15.0


# ---------------------------------------------------------------- 1. typed conversation, real MQTT


def test_typed_conversation_reaches_the_backend_once_and_the_ack_is_spoken(tmp_path: Path) -> None:
    spoken = tmp_path / "spoken"
    with practice(tmp_path / "practice") as office:
        settings = make_settings(tmp_path / "state", office.url)
        with running_daemon(settings, components={"sink": WavFileSink(spoken)}) as h:
            h.say("call my doctor")
            h.pump_until(lambda: h.echo.said(), what="the question")
            assert h.echo.said()[0] == "Shall I ask Dr. Chen to call you?"
            h.say("yes")
            rows = h.pump_until(lambda: office.backend.store.rows(), what="request stored")
            ack = "Dr. Chen's team will call you within 10 minutes."
            h.pump_until(lambda: ack in h.echo.said(), what="the backend's acknowledgement spoken")
            h.pump_until(lambda: h.daemon.relay.status().outbox_depth == 0, what="outbox drained")
            h.pump_idle()

            # The daemon spoke every line: one non-silent WAV per Say (question, confirmation, ack).
            def speech_wavs() -> list[Path]:
                return [p for p in nonsilent_wavs(spoken) if "earcon" not in p.name]

            wavs = h.pump_until(lambda: len(speech_wavs()) >= 3 and speech_wavs(), what="speech WAVs")
            assert len(wavs) == len(h.echo.said()) == 3
            assert h.echo.sent() == ["→ backend: call_doctor {'doctor': 'Dr. Chen'}"]
        assert [r["request_type"] for r in rows] == ["call_doctor"]
        assert office.types() == ["call_doctor"]  # exactly once, also after the daemon stopped
        assert rows[0]["payload"]["slots"] == {"doctor": "Dr. Chen"}
        assert outbox_rows(tmp_path / "state") == []


# ---------------------------------------------------------------- 3. reload (SIGHUP)


def _loaded(path: Path, state_dir: Path):
    from dataclasses import replace

    return replace(config.load_settings(path), state_dir=str(state_dir))


BOB = """\
  - name: "Bob"
    relation: "neighbour"
    phone: "+1 555 0133"
"""


def test_reload_good_change_makes_a_new_contact_callable_and_a_bad_file_keeps_the_running_config(
    tmp_path: Path,
) -> None:
    cfg = write_config(tmp_path / "config.yaml", "")
    with running_daemon(_loaded(cfg, tmp_path / "state"), use_relay=False) as h:
        h.say("call Bob")
        h.pump_idle()
        notice, *said = h.echo.said()  # no practice, no modem: the alarm-only opt-out is spoken first
        assert notice.startswith("Please note: this speaker is not connected to the practice or to a phone.")
        assert said == ["Sorry, I didn't catch that. Please say it again."]
        h.say("no")
        h.pump_idle()

        write_config(cfg, "", contacts=BOB)
        h.daemon.events.put(ReloadRequested())
        h.pump_until(lambda: "RELOADING=1" in h.notifier.messages, what="RELOADING")
        assert [c.name for c in h.daemon.settings.contacts] == ["Anna", "Bob"]
        assert h.daemon.settings.state_dir == str(tmp_path / "state")
        h.echo.lines.clear()
        h.say("call Bob")
        h.pump_until(lambda: h.echo.said(), what="an answer")
        assert h.echo.said() == ["Shall I call Bob?"]
        h.say("yes")
        h.pump_until(lambda: h.echo.sent(), what="call_contact sent")
        assert h.echo.sent() == ["→ backend: call_contact {'contact': 'Bob'}"]
        h.pump_idle()

        # A broken file: the running config stays, the error is visible, systemd hears READY again.
        cfg.write_text("person: [unclosed\n", encoding="utf-8")
        h.notifier.messages.clear()
        h.daemon.events.put(ReloadRequested())
        h.pump_until(lambda: h.daemon.last_error, what="reload rejected")
        assert h.daemon.last_error == "config_invalid"
        assert [c.name for c in h.daemon.settings.contacts] == ["Anna", "Bob"]
        messages = h.notifier.messages
        assert messages[0] == "RELOADING=1" and messages[-1] == "READY=1", messages
        assert any(m.startswith("STATUS=config reload rejected") for m in messages), messages
        status = h.daemon.status()
        assert status.last_error == "config_invalid" and not status.healthy

        # Fixing the file clears the error.
        write_config(cfg, "", contacts=BOB)
        h.daemon.events.put(ReloadRequested())
        h.pump_until(lambda: h.daemon.last_error == "", what="error cleared")
        assert h.daemon.status().healthy


def test_reload_rebuilds_the_recognizer_so_a_new_contact_can_be_heard(tmp_path: Path) -> None:
    no_audio = 'audio:\n  input: "null"\n  output: "null"\n'  # a microphone that hears nothing
    cfg = write_config(tmp_path / "config.yaml", "", extra=no_audio)
    with running_daemon(_loaded(cfg, tmp_path / "state"), use_relay=False, use_listener=True) as h:
        old = h.daemon.listener
        assert "bob" not in old.recognizer.spec.grammar.words()
        write_config(cfg, "", contacts=BOB, extra=no_audio)
        h.daemon.events.put(ReloadRequested())
        h.pump_until(lambda: h.daemon.listener is not old, what="listener rebuilt")
        new = h.daemon.listener
        assert "bob" in new.recognizer.spec.grammar.words()  # the recognizer can hear the new name
        assert old.recognizer.pid is None  # the old recognizer's child process was closed
        assert h.daemon.speech._listener is new  # muted while speaking: the new one


def test_sighup_to_a_running_process_reloads_its_config(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "config.yaml", "")
    proc = start_jiayi(["run", "--config", str(cfg), "--text", "--state-dir", str(tmp_path / "state")])
    out = ProcessOutput(proc)
    try:
        wait_until(lambda: (tmp_path / "state" / "status.json").exists(), 15, "daemon started")
        write_config(cfg, "", contacts=BOB)
        proc.send_signal(signal.SIGHUP)
        # A reload is signalled to systemd; here we see it as the new contact becoming callable.
        wait_until(lambda: _asks_bob(out), 15, "Bob callable after SIGHUP")
        out.type("no")
    finally:
        proc.stdin.close()
    assert out.finish(EXIT_TIMEOUT_S) == 0


def _asks_bob(out: ProcessOutput) -> bool:
    """Type "call Bob"; True when the answer offers to call Bob (else say "no" to close the turn)."""
    said = len([line for line in out.lines if line.startswith("Jiayi:")])
    out.type("call Bob")
    wait_until(lambda: len([ln for ln in out.lines if ln.startswith("Jiayi:")]) > said, 10, "an answer")
    if any("Shall I call Bob?" in line for line in out.lines):
        return True
    said = len([line for line in out.lines if line.startswith("Jiayi:")])
    out.type("no")
    wait_until(lambda: len([ln for ln in out.lines if ln.startswith("Jiayi:")]) > said, 10, "an answer")
    return False


# ---------------------------------------------------------------- 4. SIGTERM / kill -9 and restart


EMERGENCY_FAST = "dialogue:\n  emergency_cancel_s: 0.5\n"


def _type_emergency_until_queued(tmp_path: Path, url: str) -> tuple[ProcessOutput, Path, Path]:
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "config.yaml", url, extra=EMERGENCY_FAST)
    proc = start_jiayi(["run", "--config", str(cfg), "--text", "--state-dir", str(state)])
    out = ProcessOutput(proc)
    out.type("I fell")
    wait_until(lambda: [t for t, _ in outbox_rows(state)] == ["emergency"], 15, "emergency in the outbox")
    return out, state, cfg


def _restart_and_deliver(tmp_path: Path, cfg: Path, state: Path, port: int) -> list[str]:
    with practice(tmp_path / "practice", port=port) as office:
        proc = start_jiayi(["run", "--config", str(cfg), "--text", "--state-dir", str(state)])
        out = ProcessOutput(proc)
        try:
            office.wait_for("emergency", timeout_s=15)
            wait_until(lambda: outbox_rows(state) == [], 15, "outbox emptied after the ack")
        finally:
            proc.stdin.close()
        assert out.finish(EXIT_TIMEOUT_S) == 0
        return office.types()


def test_sigterm_keeps_a_pending_emergency_which_is_delivered_once_after_restart(tmp_path: Path) -> None:
    port = free_port()
    out, state, cfg = _type_emergency_until_queued(tmp_path, f"mqtt://127.0.0.1:{port}")
    (request_id,) = [i for _, i in outbox_rows(state)]
    out.process.send_signal(signal.SIGTERM)
    assert out.finish(EXIT_TIMEOUT_S) == 0
    assert outbox_rows(state) == [("emergency", request_id)]
    status = read_status(state)
    assert status is not None and status.state == "stopped" and status.outbox_depth == 1

    assert _restart_and_deliver(tmp_path, cfg, state, port) == ["emergency"]


def test_kill_9_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    port = free_port()
    out, state, cfg = _type_emergency_until_queued(tmp_path, f"mqtt://127.0.0.1:{port}")
    out.process.kill()
    out.finish(EXIT_TIMEOUT_S)
    assert [t for t, _ in outbox_rows(state)] == ["emergency"]
    assert _restart_and_deliver(tmp_path, cfg, state, port) == ["emergency"]


# ---------------------------------------------------------------- 5. watchdog, stalled microphone


class StallingMic:
    """Microphone hardware fake: delivers ``chunks`` quiet chunks, then nothing (a hung driver)."""

    name = "fake-mic"

    def __init__(self, clock: ManualClock, chunks: int) -> None:
        self._clock = clock
        self._left = chunks
        self._chunk = (b"\x10\x00\xf0\xff" * 240)[:960]  # 30 ms of faint noise at 16 kHz
        self._stopped = threading.Event()
        self._delivered = 0
        self._last: float | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        pass

    def read_chunk(self, timeout: float) -> bytes | None:
        with self._lock:
            if self._left > 0:
                self._left -= 1
                self._delivered += 1
                self._last = self._clock.monotonic()
                return self._chunk
        self._stopped.wait(timeout)  # the driver blocks like a stalled ALSA read
        return None

    def stop(self) -> None:
        self._stopped.set()

    @property
    def at_end(self) -> bool:
        return False

    def counters(self) -> SourceCounters:
        with self._lock:
            return SourceCounters(self._delivered, 0, 0, 0, self._last, rms_level(self._chunk))


class NoRecognizer:
    """Never consulted: the fake microphone only delivers faint noise, never speech."""

    engine = "none"

    def begin(self, mode: str):  # pragma: no cover - asserted not to happen
        raise AssertionError("recognizer used for a silent microphone")


def test_watchdog_stops_petting_when_the_microphone_stalls_and_the_restart_says_why(
    tmp_path: Path,
) -> None:
    from assistant.hearing.listener import Listener

    clock = ManualClock(START)
    mic = StallingMic(clock, chunks=20)
    state = tmp_path / "state"
    settings = make_settings(state)
    holder: dict[str, object] = {}

    def put(event: object) -> None:
        holder["daemon"].events.put(event)  # type: ignore[attr-defined]

    listener = Listener(mic, NoRecognizer(), put)  # type: ignore[arg-type]
    with running_daemon(settings, clock=clock, components={"listener": listener}, use_relay=False) as h:
        holder["daemon"] = h.daemon
        h.pump_until(lambda: mic.counters().chunks == 20, what="all chunks read")
        h.daemon.step(0)
        pets = h.notifier.count("WATCHDOG=1")
        assert pets >= 1 and h.daemon.health.ok
        h.advance(8)
        assert h.daemon.health.ok
        assert h.notifier.count("WATCHDOG=1") > pets  # still petting within the audio probe's 10 s
        h.advance(4)  # 12 s since the last chunk: the audio probe is stale
        assert not h.daemon.health.ok and h.daemon.health.code == "mic_stalled"
        pets = h.notifier.count("WATCHDOG=1")
        h.advance(20)
        assert h.notifier.count("WATCHDOG=1") == pets  # systemd will restart us
        status = h.daemon.status()
        assert status.last_error == "mic_stalled" and status.stale_probes == ("audio",)
        assert status.last_audio_age_s == pytest.approx(32, abs=1)
        h.advance(5)  # the status file is rewritten every 5 s
        written = read_status(state)
        assert written is not None and written.last_error == "mic_stalled"
        assert any(m.startswith("STATUS=unhealthy: the microphone stopped") for m in h.notifier.messages)
    # systemd restarts the service (the process dies without a clean stop): the new run says why.
    assert (state / PENDING_REASON_FILE).exists()
    with running_daemon(settings, clock=ManualClock(START), use_relay=False) as h2:
        assert h2.daemon.last_restart.startswith("restarted because the microphone stopped sending audio")
        assert h2.daemon.status().last_restart == h2.daemon.last_restart
        assert (state / LAST_RESTART_FILE).exists() and not (state / PENDING_REASON_FILE).exists()


# ---------------------------------------------------------------- 7. make run


def test_make_run_demo_typed_conversation(tmp_path: Path) -> None:
    jiayi = REPO_ROOT / ".venv" / "bin" / "jiayi"
    cmd = [str(jiayi)] if jiayi.exists() else [sys.executable, "-m", "assistant"]
    env = {k: v for k, v in os.environ.items() if k != "JIAYI_CONFIG"}
    done = subprocess.run(
        [*cmd, "run", "--demo", "--text"],
        input="call my doctor\nyes\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "Jiayi: Shall I ask Dr. Chen to call you?" in lines
    assert "  → backend: call_doctor {'doctor': 'Dr. Chen'}" in lines
    assert "Jiayi: Dr. Chen's team will call you within 10 minutes." in lines
    assert "Traceback" not in done.stderr


def test_retained_status_message_carries_device_health_but_no_health_details(tmp_path: Path) -> None:
    import json

    from mqtt_helpers import RawClient

    from assistant.link import protocol as messages
    from assistant.link.protocol import parse_url
    from assistant.ops.settings import Medication

    with practice(tmp_path / "practice") as office:
        med = Medication("amlodipine", aliases=("blood pressure pills",), times=())
        settings = make_settings(tmp_path / "state", office.url, medications=(med,))
        with running_daemon(settings) as h:
            h.pump_until(lambda: h.daemon.relay.status().connected, what="relay online")
            watcher = RawClient(parse_url(office.url).port, "status-watcher")
            try:
                topic = messages.topic("e2e-1", "status")
                watcher.subscribe(topic)  # retained: arrives even though it was published earlier

                def health_payload() -> dict | None:
                    for raw in reversed(watcher.payloads(topic)):
                        data = json.loads(raw)
                        if "outbox_depth" in json.dumps(data):
                            return data
                    return None

                data = h.pump_until(health_payload, what="retained status with health")
            finally:
                watcher.close()
    text = json.dumps(data)
    assert '"healthy": true' in text and '"state": "running"' in text
    assert "amlodipine" not in text and "next_reminder" not in text and "mic_level" not in text
