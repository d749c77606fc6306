"""Fault injection against real processes: broker kill -9, daemon kill -9, broker down past a deadline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mqtt_helpers import RawClient, make_settings, start_broker, start_relay, wait_until

from assistant.conversation.actions import BackendAck, DeliveryLate, SendRequest
from assistant.link import protocol as m
from assistant.link.relay import RelayTuning
from jiayi_backend.broker import LocalBroker
from jiayi_backend.service import ReferenceBackend

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalBroker]:
    b = start_broker(tmp_path / "broker", persistence=True)
    yield b
    b.stop()


@pytest.fixture
def backend(tmp_path: Path, broker: LocalBroker) -> Iterator[ReferenceBackend]:
    be = ReferenceBackend(broker.url, tmp_path / "backend.sqlite3", workers=2)
    be.start()
    yield be
    be.stop()


def test_broker_killed_and_restarted_with_requests_pending_each_stored_exactly_once(
    tmp_path: Path, broker: LocalBroker, backend: ReferenceBackend
) -> None:
    relay, sink = start_relay(make_settings(broker.url), tmp_path / "device")
    wait_until(lambda: relay.status().connected, what="online")
    sent = [SendRequest("medication_taken", slots={"medication": "amlodipine"}) for _ in range(60)]
    for req in sent[:30]:
        relay.submit(req)
    broker.kill()  # some requests acked, some in flight, some not yet published
    wait_until(lambda: not relay.status().connected, what="relay notices")
    for req in sent[30:]:
        relay.submit(req)  # durable while the broker is down
    assert relay.status().outbox_depth >= 30
    broker.restart()
    wait_until(lambda: relay.status().outbox_depth == 0, 20, "every request acked")
    ids = [row["message_id"] for row in backend.store.rows()]
    assert sorted(ids) == sorted(r.request_id for r in sent)
    assert len({a.request_id for a in sink.of(BackendAck)}) == 60
    assert len(sink.of(BackendAck)) == 60  # duplicate acks never reach the dialogue
    relay.stop()


DEVICE_SCRIPT = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {repo!r}); sys.path.insert(0, {tests!r})
    from pathlib import Path
    from assistant.conversation.actions import SendRequest
    from assistant.link.relay import Relay
    from mqtt_helpers import FAST, make_settings, wait_until
    relay = Relay(make_settings({url!r}), lambda e: None, state_dir=Path({state!r}), tuning=FAST)
    relay.start()
    wait_until(lambda: relay.status().connected, 10, "online")
    print("online", flush=True)
    for i in range(100000):
        req = SendRequest("check_in", slots={{"n": i}})
        print("begin", req.request_id, flush=True)
        relay.submit(req)
        print("stored", req.request_id, flush=True)
    """
)


def _note_line(line: str, begun: list[str], stored: list[str]) -> None:
    """Record one complete ``begin <id>`` / ``stored <id>`` line. SIGKILL can cut the last line
    short (print flushes a full pipe buffer mid-line); a line without its newline or a full
    36-character id was never completely written, so it proves nothing either way."""
    if not line.endswith("\n"):
        return
    kind, _, rid = line.strip().partition(" ")
    if len(rid) != 36:
        return
    if kind == "begin":
        begun.append(rid)
    elif kind == "stored":
        stored.append(rid)


def test_daemon_killed_mid_send_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, broker: LocalBroker, backend: ReferenceBackend
) -> None:
    state = tmp_path / "device"
    script = DEVICE_SCRIPT.format(repo=str(REPO), tests=str(REPO / "tests"), url=broker.url, state=str(state))
    watcher = RawClient(broker.port, "status-watcher")
    watcher.subscribe("jiayi/v1/dev-1/status")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    begun: list[str] = []
    stored: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            _note_line(line, begun, stored)
            if len(stored) >= 150 and backend.store.count() > 0:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        for line in proc.stdout.read().splitlines(keepends=True):  # what it printed before it died
            _note_line(line, begun, stored)
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()
    # The will message marks the device offline.
    wait_until(
        lambda: any(m.from_json(p).state == "offline" for p in watcher.payloads()),
        what="offline will message",
    )
    # Restart the daemon on the same outbox: everything it said it stored arrives, once.
    relay, _sink = start_relay(make_settings(broker.url), state)
    wait_until(lambda: relay.status().outbox_depth == 0, 20, "outbox drained")
    ids = [row["message_id"] for row in backend.store.rows()]
    assert len(ids) == len(set(ids))
    assert set(stored) <= set(ids), "a request whose submit() returned was lost"
    assert set(ids) <= set(begun)
    relay.stop()
    watcher.close()


def test_broker_down_emergency_late_within_deadline_then_everything_delivered(
    tmp_path: Path, broker: LocalBroker, backend: ReferenceBackend
) -> None:
    tuning = RelayTuning(
        deadlines_s={"emergency": 1.0, "confirm": 3.0, "plain": 60.0},
        resend_after_s=1.0,
        backoff_min_s=0.1,
        backoff_max_s=0.5,
    )
    relay, sink = start_relay(make_settings(broker.url), tmp_path / "device", tuning=tuning)
    wait_until(lambda: relay.status().connected, what="online")
    broker.kill()
    wait_until(lambda: not relay.status().connected, what="relay notices")
    emergency = SendRequest("emergency", tier="emergency")
    plain = [SendRequest("report_symptom", slots={"symptom": "dizzy"}) for _ in range(3)]
    t0 = time.monotonic()
    relay.submit(emergency)
    for req in plain:
        relay.submit(req)
    (late,) = sink.wait_for(DeliveryLate, timeout_s=3.0)
    assert time.monotonic() - t0 < 1.0 + 0.5, "DeliveryLate must come right at the deadline"
    assert late.request_id == emergency.request_id and late.tier == "emergency"
    assert relay.status().last_error
    broker.restart()
    wait_until(lambda: relay.status().outbox_depth == 0, 20, "delivered after recovery")
    assert sorted(r["message_id"] for r in backend.store.rows()) == sorted(
        r.request_id for r in [emergency, *plain]
    )
    assert len(sink.of(DeliveryLate)) == 1  # plain tier never reached its deadline
    relay.stop()


def test_reference_backend_reconnects_by_itself_and_the_emergency_is_stored_soon_after_the_broker(
    tmp_path: Path, broker: LocalBroker
) -> None:
    """Issue 11: the backend runs throughout and has to reconnect on its own. Broker down 3 s
    (as bench/emergency_reconnect.py): with paho's growing delay (0.2 ... 5 s) the emergency was
    stored 4.0 s after the broker was back; on the fixed 0.25-1 s schedule ~1.0 s (measured
    1.01-1.02 s). 3 s leaves room for a loaded machine; the bench reports the real figure."""
    backend = ReferenceBackend(broker.url, tmp_path / "backend.sqlite3", workers=2)
    backend.start()
    relay, sink = start_relay(make_settings(broker.url), tmp_path / "device", tuning=RelayTuning())
    try:
        wait_until(lambda: relay.status().connected, what="online")
        broker.kill()
        wait_until(lambda: not relay.status().connected and not backend.connected(), what="both notice")
        emergency = SendRequest("emergency", tier="emergency")
        relay.submit(emergency)
        time.sleep(3.0)
        broker.restart()
        back = time.monotonic()
        wait_until(
            lambda: emergency.request_id in {r["message_id"] for r in backend.store.rows()},
            10,
            "emergency stored",
        )
        stored_s = time.monotonic() - back
        wait_until(backend.connected, 5, "backend subscribed again")
        assert stored_s <= 3.0, f"stored {stored_s:.2f} s after the broker came back"
        assert sink.wait_for(BackendAck)
        counts = backend.counts()
        assert sum(c.get("connect_failed", 0) for c in counts.values()) >= 4  # it kept trying, ≤ 1 s apart
    finally:
        relay.stop()
        backend.stop()


def test_backend_leaves_a_broker_that_never_answers_connect_and_tries_again(tmp_path: Path) -> None:
    """Every wait has a timeout: a listener that accepts TCP but never sends CONNACK is left after
    CONNECT_TIMEOUT_S and tried again on the short schedule (paho alone waits out the 30 s keepalive)."""
    import socket
    import threading

    from jiayi_backend.service import CONNECT_TIMEOUT_S, RECONNECT_MAX_S

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[float] = []
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(time.monotonic())
            held.append(conn)  # read nothing, answer nothing

    threading.Thread(target=accept, daemon=True).start()
    backend = ReferenceBackend(f"mqtt://127.0.0.1:{port}", tmp_path / "backend.sqlite3")
    try:
        with pytest.raises(TimeoutError, match="did not subscribe"):
            backend.start(timeout_s=0.5)
        wait_until(lambda: len(accepted) >= 2, CONNECT_TIMEOUT_S + RECONNECT_MAX_S + 5, "a second attempt")
        assert accepted[1] - accepted[0] <= CONNECT_TIMEOUT_S + RECONNECT_MAX_S + 2.0
        (counts,) = backend.counts().values()
        assert counts.get("connack_timeouts", 0) >= 1
        assert "did not answer CONNECT" in backend.workers[0].last_error
        assert not backend.connected()
    finally:
        backend.stop()
        server.close()
        for conn in held:
            conn.close()


def test_emergency_cuts_a_long_backoff_and_is_stored_within_two_seconds_of_the_broker(
    tmp_path: Path, broker: LocalBroker
) -> None:
    """Product timings (backoff up to 60 s): an emergency switches to the fixed 1 s schedule.

    A plain request waits out the broker's absence first, so the ordinary backoff has grown to
    several seconds; the emergency submitted then must not wait for it. The backend starts only
    once the broker is back, so ``stored`` measures the device alone (bench/emergency_reconnect.py
    measures it with a backend that reconnects by itself)."""
    relay, sink = start_relay(make_settings(broker.url), tmp_path / "device", tuning=RelayTuning())
    wait_until(lambda: relay.status().connected, what="online")
    broker.kill()
    wait_until(lambda: not relay.status().connected, what="relay notices")
    relay.submit(SendRequest("check_in"))
    time.sleep(8.0)  # ordinary backoff: 0.5, 1, 2, 4 s ... (full jitter)
    emergency = SendRequest("emergency", tier="emergency")
    relay.submit(emergency)
    broker.restart()
    back = time.monotonic()
    backend = ReferenceBackend(broker.url, tmp_path / "late-backend.sqlite3")
    backend.start()
    try:
        wait_until(lambda: relay.status().connected, 5, "online again")
        online_s = time.monotonic() - back
        wait_until(
            lambda: emergency.request_id in {r["message_id"] for r in backend.store.rows()},
            5,
            "emergency stored",
        )
        stored_s = time.monotonic() - back
        assert online_s <= 2.0, f"reconnected {online_s:.2f} s after the broker came back"
        assert stored_s <= 3.0, f"stored {stored_s:.2f} s after the broker came back"
        assert sink.wait_for(BackendAck)
    finally:
        relay.stop()
        backend.stop()
