"""MQTT relay benchmark: durable relay vs raw paho, side by side, on a private loopback mosquitto.

    .venv/bin/python bench/mqtt.py [--requests 3000] [--faults 100] [--json]

Measures
1. raw paho baseline: device publishes requests (QoS 1, response topic + correlation data), a
   backend on the shared subscription replies on the response topic; 50 in flight and one at a time.
2. the project's relay (SQLite outbox, synchronous=FULL) + reference backend (SQLite store,
   dedup): enqueue -> publish -> application ack throughput, p50/p95 submit -> ack latency.
3. recovery time after a broker kill -9 + restart (restart -> relay online, -> first ack).
4. N injected faults (broker kill -9 / broker SIGTERM / client connection dropped), requests
   submitted throughout: zero loss and zero duplicates are checked in the backend store.
Targets: >= 500 requests/s with durability on; p95 <= 50 ms on loopback.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.conversation.actions import BackendAck, SendRequest  # noqa: E402
from assistant.link import protocol as m  # noqa: E402
from assistant.link.protocol import tcp_nodelay  # noqa: E402
from assistant.link.relay import Relay, RelayTuning  # noqa: E402
from assistant.ops.settings import Backend, Doctor, Person, Settings  # noqa: E402
from jiayi_backend.broker import LocalBroker  # noqa: E402
from jiayi_backend.service import ReferenceBackend, RequestStore  # noqa: E402

TIMEOUT_S = 60.0
RESEND_S = float(__import__("os").environ.get("BENCH_RESEND_S", "2.0"))


def _settings(url: str, device_id: str) -> Settings:
    return Settings(
        person=Person("Margaret Lee", "Margaret", "en"),
        doctor=Doctor("Dr. Chen"),
        backend=Backend(url=url, device_id=device_id),
    )


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _wait(pred: Any, timeout_s: float = TIMEOUT_S, what: str = "") -> None:
    end = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > end:
            raise TimeoutError(what)
        time.sleep(0.001)


def _client(client_id: str) -> Any:
    import paho.mqtt.client as mqtt

    c = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    c.on_socket_open = tcp_nodelay
    c.max_inflight_messages_set(1000)
    return c


# ---------------------------------------------------------------- 1. raw paho baseline


def raw_baseline(port: int, n: int, window: int) -> dict[str, float]:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    ready = threading.Event()
    backend = _client("raw-backend")

    def on_message(client: Any, _u: Any, msg: Any) -> None:
        props = Properties(PacketTypes.PUBLISH)
        props.CorrelationData = msg.properties.CorrelationData
        client.publish(msg.properties.ResponseTopic, b'{"ok":1}', qos=1, properties=props)

    backend.on_message = on_message
    backend.on_subscribe = lambda *_a: ready.set()
    backend.on_connect = lambda c, *_a: c.subscribe("$share/raw/bench/+/requests", qos=1)
    backend.connect("127.0.0.1", port)
    backend.loop_start()
    device = _client("raw-device")
    sent: dict[bytes, float] = {}
    lat: list[float] = []
    lock = threading.Condition()

    def on_reply(_c: Any, _u: Any, msg: Any) -> None:
        with lock:
            lat.append(time.perf_counter() - sent.pop(msg.properties.CorrelationData))
            lock.notify_all()

    subscribed = threading.Event()
    device.on_message = on_reply
    device.on_subscribe = lambda *_a: subscribed.set()
    device.connect("127.0.0.1", port)
    device.loop_start()
    device.subscribe("bench/dev/responses", qos=1)
    subscribed.wait(10)
    ready.wait(10)
    payload = m.Request(device_id="dev", request_type="check_in").to_json()
    t0 = time.perf_counter()
    for i in range(n):
        with lock:
            lock.wait_for(lambda: len(sent) < window, TIMEOUT_S)
            key = str(i).encode()
            sent[key] = time.perf_counter()
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = "bench/dev/responses"
        props.CorrelationData = key
        device.publish("bench/dev/requests", payload, qos=1, properties=props)
    with lock:
        lock.wait_for(lambda: len(lat) >= n, TIMEOUT_S)
    elapsed = time.perf_counter() - t0
    for c in (device, backend):
        c.disconnect()
        c.loop_stop()
    return {"rps": n / elapsed, "p50_ms": _pct(lat, 0.5) * 1e3, "p95_ms": _pct(lat, 0.95) * 1e3}


# ---------------------------------------------------------------- 2. relay + reference backend


class _AckTimes:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.received: list[str] = []
        self.cond = threading.Condition()

    def __call__(self, event: object) -> None:
        if isinstance(event, BackendAck) and event.status == "received":
            with self.cond:
                self.times[event.request_id] = time.perf_counter()
                self.received.append(event.request_id)
                self.cond.notify_all()


def _backend_process(url: str, db: Path) -> subprocess.Popen[str]:
    """The reference backend as its own process (as in production: another machine)."""
    cmd = [
        sys.executable,
        "-m",
        "assistant",
        "backend",
        "run",
        "--url",
        url,
        "--db",
        str(db),
        "--workers",
        "2",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("backend ready"):
        raise RuntimeError(f"backend did not start: {line!r}")
    return proc


def relay_run(url: str, folder: Path, n: int, window: int, device_id: str, rate: float) -> dict[str, float]:
    db = folder / f"{device_id}-backend.sqlite3"
    backend = _backend_process(url, db)
    acks = _AckTimes()
    relay = Relay(
        _settings(url, device_id),
        acks,
        state_dir=folder / device_id,
        tuning=RelayTuning(max_in_flight=window),
    )
    relay.start()
    _wait(lambda: relay.status().connected, what="relay online")
    # (a) burst: submit n as fast as possible; throughput = n / time until the last ack.
    submitted: dict[str, float] = {}
    t0 = time.perf_counter()
    for i in range(n):
        req = SendRequest("check_in", slots={"n": i})
        submitted[req.request_id] = time.perf_counter()
        relay.submit(req)
    submit_s = time.perf_counter() - t0
    with acks.cond:
        acks.cond.wait_for(lambda: len(acks.received) >= n, TIMEOUT_S)
    elapsed = time.perf_counter() - t0
    burst_lat = [acks.times[r] - submitted[r] for r in submitted if r in acks.times]
    # (b) sustained: a steady `rate` requests/s for 4 s; latency submit -> application ack.
    paced: dict[str, float] = {}
    total = int(rate * 4)
    t1 = time.perf_counter()
    for i in range(total):
        due = t1 + i / rate
        while time.perf_counter() < due:
            time.sleep(0.0005)
        req = SendRequest("check_in", slots={"paced": i})
        paced[req.request_id] = time.perf_counter()
        relay.submit(req)
    with acks.cond:
        acks.cond.wait_for(lambda: all(r in acks.times for r in paced), TIMEOUT_S)
    paced_s = time.perf_counter() - t1
    paced_lat = [acks.times[r] - paced[r] for r in paced]
    # (c) one at a time (the real device: one spoken request, wait for the answer).
    single: list[float] = []
    for i in range(200):
        req = SendRequest("check_in", slots={"single": i})
        start = time.perf_counter()
        relay.submit(req)
        with acks.cond:
            acks.cond.wait_for(lambda r=req.request_id: r in acks.times, TIMEOUT_S)
        single.append(acks.times[req.request_id] - start)
    relay.stop()
    backend.send_signal(signal.SIGTERM)
    backend.wait(10)
    store = RequestStore(db)
    stored = store.count()
    store.close()
    return {
        "burst_rps": n / elapsed,
        "submit_rps": n / submit_s,
        "burst_p50_ms": _pct(burst_lat, 0.5) * 1e3,
        "burst_p95_ms": _pct(burst_lat, 0.95) * 1e3,
        "paced_rate": rate,
        "paced_achieved_rps": total / paced_s,
        "paced_p50_ms": _pct(paced_lat, 0.5) * 1e3,
        "paced_p95_ms": _pct(paced_lat, 0.95) * 1e3,
        "single_p50_ms": statistics.median(single) * 1e3,
        "single_p95_ms": _pct(single, 0.95) * 1e3,
        "stored": stored,
        "expected": n + total + 200,
    }


# ---------------------------------------------------------------- 3 + 4. recovery and faults


def recovery_and_faults(folder: Path, faults: int) -> dict[str, Any]:
    broker = LocalBroker(folder / "fault-broker", persistence=True)
    broker.start()
    backend = ReferenceBackend(broker.url, folder / "fault-backend.sqlite3", workers=2)
    backend.start()
    acks = _AckTimes()
    tuning = RelayTuning(resend_after_s=RESEND_S, backoff_min_s=0.05, backoff_max_s=0.5)
    relay = Relay(_settings(broker.url, "fault-dev"), acks, state_dir=folder / "fault-dev", tuning=tuning)
    relay.start()
    _wait(lambda: relay.status().connected, what="online")

    # Recovery time after kill -9 + restart.
    recoveries: list[tuple[float, float]] = []
    for _ in range(5):
        broker.kill()
        _wait(lambda: not relay.status().connected, what="relay notices")
        req = SendRequest("check_in")
        relay.submit(req)
        t0 = time.perf_counter()
        broker.restart()
        _wait(lambda: relay.status().connected, what="back online")
        t_online = time.perf_counter() - t0
        with acks.cond:
            acks.cond.wait_for(lambda r=req.request_id: r in acks.times, TIMEOUT_S)
        recoveries.append((t_online, acks.times[req.request_id] - t0))

    # Faults with traffic.
    submitted: list[str] = []
    kinds = ["broker_kill9", "broker_sigterm", "connection_drop"]
    counts = dict.fromkeys(kinds, 0)
    rng = random.Random(7)
    t_start = time.perf_counter()
    for i in range(faults):
        for _ in range(rng.randint(1, 10)):
            req = SendRequest("medication_taken", slots={"fault": i})
            submitted.append(req.request_id)
            relay.submit(req)
        kind = kinds[i % len(kinds)]
        counts[kind] += 1
        if kind == "connection_drop":
            sock = relay._client.socket()  # fault injection: cut the TCP connection under paho
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        else:
            broker.kill() if kind == "broker_kill9" else broker.stop()
            for _ in range(rng.randint(0, 5)):  # submitted while the broker is down
                req = SendRequest("medication_taken", slots={"fault": i, "down": True})
                submitted.append(req.request_id)
                relay.submit(req)
            broker.restart()
        if i % 10 == 9:  # let it drain now and then so acks race with faults
            _wait(lambda: relay.status().connected, what="online again")
    _wait(lambda: relay.status().outbox_depth == 0, 120, "outbox drained")
    _wait(lambda: len(set(acks.received) & set(submitted)) == len(submitted), 30, "all acks")
    fault_s = time.perf_counter() - t_start
    rows = [r["message_id"] for r in backend.store.rows()]
    expected = set(submitted)
    result = {
        "recovery_online_s": [round(a, 3) for a, _ in recoveries],
        "recovery_first_ack_s": [round(b, 3) for _, b in recoveries],
        "faults": counts,
        "fault_requests": len(submitted),
        "lost": len(expected - set(rows)),
        "duplicates_in_store": len(rows) - len(set(rows)),
        "duplicate_acks_to_dialogue": len(acks.received) - len(set(acks.received)),
        "duplicates_deduped_by_backend": sum(c.get("duplicates", 0) for c in backend.counts().values()),
        "fault_phase_s": round(fault_s, 1),
    }
    relay.stop()
    backend.stop()
    broker.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--window", type=int, default=50, help="requests in flight")
    parser.add_argument("--faults", type=int, default=100)
    parser.add_argument("--rate", type=float, default=500.0, help="sustained-rate phase, requests/s")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    folder = Path(tempfile.mkdtemp(prefix="jiayi-bench-mqtt-"))
    results: dict[str, Any] = {}
    for persistence in (False, True):
        label = "broker_autosave" if persistence else "broker_memory"
        broker = LocalBroker(folder / f"broker-{label}", persistence=persistence)
        broker.start()
        results[f"raw_{label}"] = raw_baseline(broker.port, args.requests, args.window)
        results[f"raw_single_{label}"] = raw_baseline(broker.port, 500, 1)
        results[f"relay_{label}"] = relay_run(
            broker.url, folder, args.requests, args.window, f"dev-{label}", args.rate
        )
        broker.stop()
    results["faults"] = recovery_and_faults(folder, args.faults)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for label in ("broker_memory", "broker_autosave"):
        raw, single, rel = results[f"raw_{label}"], results[f"raw_single_{label}"], results[f"relay_{label}"]
        print(f"[{label}] burst of {args.requests} requests, {args.window} in flight")
        print(
            f"  raw paho     : {raw['rps']:7.0f} req/s  p50 {raw['p50_ms']:7.2f} ms  p95 {raw['p95_ms']:7.2f} ms"
        )
        print(
            f"  relay+backend: {rel['burst_rps']:7.0f} req/s  p50 {rel['burst_p50_ms']:7.2f} ms"
            f"  p95 {rel['burst_p95_ms']:7.2f} ms  (submit() alone {rel['submit_rps']:.0f}/s)"
        )
        print(
            f"  relay sustained {rel['paced_rate']:.0f}/s for 4 s: achieved {rel['paced_achieved_rps']:.0f}/s,"
            f" p50 {rel['paced_p50_ms']:.2f} ms p95 {rel['paced_p95_ms']:.2f} ms"
        )
        print(
            f"  one at a time: raw p50 {single['p50_ms']:.2f} ms p95 {single['p95_ms']:.2f} ms;"
            f" relay p50 {rel['single_p50_ms']:.2f} ms p95 {rel['single_p95_ms']:.2f} ms;"
            f" stored {rel['stored']}/{rel['expected']}"
        )
    f = results["faults"]
    print(
        f"recovery after kill -9 + restart: online {f['recovery_online_s']} s, first ack {f['recovery_first_ack_s']} s"
    )
    print(
        f"faults {f['faults']}: {f['fault_requests']} requests, lost {f['lost']}, duplicates in store "
        f"{f['duplicates_in_store']}, duplicate acks to dialogue {f['duplicate_acks_to_dialogue']} "
        f"(backend deduped {f['duplicates_deduped_by_backend']}) in {f['fault_phase_s']} s"
    )
    ok = f["lost"] == 0 and f["duplicates_in_store"] == 0 and f["duplicate_acks_to_dialogue"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
