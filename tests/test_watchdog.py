"""Watchdog: pets only while probes are fresh; real sd_notify datagrams; restart reasons survive a restart."""

from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path

import pytest
from fakes import RecordingNotifier

from assistant.ops import watchdog as wd
from assistant.ops.clock import ManualClock

START = dt.datetime(2026, 11, 23, 14, 0, 0, tzinfo=dt.UTC)


def make(tmp_path: Path, notifier=None, clock=None) -> tuple[wd.Watchdog, ManualClock, RecordingNotifier]:
    clock = clock or ManualClock(START)
    notifier = notifier or RecordingNotifier()
    dog = wd.Watchdog(
        clock,
        notifier,
        [wd.STANDARD_PROBES[wd.AUDIO], wd.STANDARD_PROBES[wd.LOOP]],
        state_dir=tmp_path,
        pet_interval_s=2.0,
    )
    return dog, clock, notifier


def run_loop(dog: wd.Watchdog, clock: ManualClock, seconds: int, *, audio: bool) -> None:
    """One simulated loop iteration per second; the microphone beats only when ``audio``."""
    for _ in range(seconds):
        clock.advance(1.0)
        if audio:
            dog.beat(wd.AUDIO)
        dog.beat(wd.LOOP)
        dog.maybe_pet()


def test_healthy_pipeline_is_petted_at_the_pet_interval(tmp_path):
    dog, clock, notifier = make(tmp_path)
    run_loop(dog, clock, 20, audio=True)
    assert dog.check() == wd.Health(ok=True)
    assert notifier.messages.count("WATCHDOG=1") == 10  # every 2 s, not every iteration
    assert not (tmp_path / wd.PENDING_REASON_FILE).exists()


def test_stalled_audio_stops_petting_and_records_reason(tmp_path):
    dog, clock, notifier = make(tmp_path)
    run_loop(dog, clock, 120, audio=True)  # healthy until 14:02:00
    petted_before = notifier.messages.count("WATCHDOG=1")
    run_loop(dog, clock, 60, audio=False)  # microphone goes silent
    health = dog.check()
    assert not health.ok
    assert health.stale == (wd.AUDIO,)
    assert health.code == "mic_stalled"
    assert "microphone stopped sending audio" in health.reason
    # Petting continued only while audio was younger than its max age (10 s), then stopped for good.
    pets_during_stall = notifier.messages.count("WATCHDOG=1") - petted_before
    assert pets_during_stall == 5
    last_pet = max(i for i, m in enumerate(notifier.messages) if m == "WATCHDOG=1")
    unhealthy = [i for i, m in enumerate(notifier.messages) if m.startswith("STATUS=unhealthy")]
    assert len(unhealthy) == 1 and unhealthy[0] > last_pet
    reason = wd.RestartReason.from_json((tmp_path / wd.PENDING_REASON_FILE).read_text())
    assert reason.code == "mic_stalled"
    assert reason.describe() == "restarted because the microphone stopped sending audio at 14:02"


def test_recovery_before_systemd_acts_resumes_petting_and_clears_reason(tmp_path):
    dog, clock, notifier = make(tmp_path)
    run_loop(dog, clock, 30, audio=False)
    assert (tmp_path / wd.PENDING_REASON_FILE).exists()
    notifier.messages.clear()
    run_loop(dog, clock, 4, audio=True)
    assert dog.check().ok
    assert "WATCHDOG=1" in notifier.messages
    assert not (tmp_path / wd.PENDING_REASON_FILE).exists()


def test_hung_loop_probe_is_detected(tmp_path):
    dog, clock, _ = make(tmp_path)
    clock.advance(16)
    dog.beat(wd.AUDIO)
    health = dog.maybe_pet()
    assert health.stale == (wd.LOOP,)
    assert health.code == "loop_stalled"


def test_new_probe_gets_start_up_grace(tmp_path):
    dog, clock, _ = make(tmp_path)
    dog.register(wd.RECOGNIZER)
    clock.advance(59)
    dog.beat(wd.AUDIO)
    dog.beat(wd.LOOP)
    assert dog.check().ok
    clock.advance(2)
    dog.beat(wd.AUDIO)
    dog.beat(wd.LOOP)
    assert dog.check().stale == (wd.RECOGNIZER,)
    dog.unregister(wd.RECOGNIZER)
    assert dog.check().ok


def test_restart_reason_is_adopted_once_by_the_next_start(tmp_path):
    dog, clock, _ = make(tmp_path)
    run_loop(dog, clock, 120, audio=True)
    run_loop(dog, clock, 30, audio=False)
    # systemd kills the process here; the next start adopts the reason.
    adopted = wd.adopt_restart_reason(tmp_path)
    assert adopted is not None and adopted.code == "mic_stalled"
    assert wd.last_restart_reason(tmp_path) == adopted
    assert not (tmp_path / wd.PENDING_REASON_FILE).exists()
    assert wd.adopt_restart_reason(tmp_path) is None  # a clean start after that adopts nothing
    assert wd.last_restart_reason(tmp_path) == adopted


def test_watchdog_interval_from_environment():
    assert wd.watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert wd.watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}) == 30.0
    assert wd.watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert wd.watchdog_interval_s({}) is None


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    """A real AF_UNIX datagram socket standing in for systemd's notify socket."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2.0)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def received(sock: socket.socket) -> list[str]:
    """Every datagram already queued on the socket (non-blocking after the first)."""
    out = [sock.recv(4096).decode()]
    sock.setblocking(False)
    try:
        while True:
            out.append(sock.recv(4096).decode())
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(2.0)
    return out


def test_real_notify_socket_receives_ready_status_and_watchdog(notify_socket, tmp_path):
    notifier = wd.SystemdNotifier()
    assert notifier.enabled
    notifier.ready()
    notifier.status("listening\nfor the wake phrase")
    assert received(notify_socket) == ["READY=1", "STATUS=listening for the wake phrase"]

    dog, clock, _ = make(tmp_path, notifier=notifier)
    run_loop(dog, clock, 4, audio=True)
    assert received(notify_socket) == ["WATCHDOG=1", "WATCHDOG=1"]

    run_loop(dog, clock, 30, audio=False)  # stalled microphone
    messages = received(notify_socket)
    assert messages.count("WATCHDOG=1") == 5  # until the audio probe passed its 10 s
    assert messages[-1].startswith("STATUS=unhealthy: the microphone stopped sending audio")
    run_loop(dog, clock, 30, audio=False)
    notifier.stopping()
    assert received(notify_socket) == ["STOPPING=1"]  # no WATCHDOG=1 while stalled


def test_notifier_is_a_no_op_without_notify_socket(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = wd.SystemdNotifier()
    assert not notifier.enabled
    notifier.ready()
    notifier.pet()
    notifier.status("x")  # nothing to assert beyond "does not raise"; enabled is the contract
