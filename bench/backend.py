"""Load benchmark of the practice's backend: ≥ 1,000 simulated speakers, 1-3 workers, PostgreSQL.

    .venv/bin/python bench/backend.py [--speakers 1000] [--workers 1,2,3] [--peak-rate 20]
                                      [--db postgresql://postgres@127.0.0.1:5432/postgres] [--json]

Every simulated speaker is its own MQTT 5 client (client id ``bench-<n>``, persistent session,
its own topics) doing what the device relay does: publish with response topic and correlation
data, wait for the backend's application ack, resend what is not acknowledged after 5 s. A few
threads drive them all (paho's external loop over ``selectors``), so 1,000 speakers need 4 threads.

For each worker count, against ``jiayi backend run`` processes on a throw-away PostgreSQL database
and a private loopback mosquitto (persistence on, like production):
1. peak: the daily mix at ``--peak-rate`` requests/s (a morning's medication wave with a wide
   margin) → p50/p95/p99 request → ack;
2. burst: 200 emergencies from 200 speakers at once → time until all are acknowledged, p95;
3. throughput: every speaker sends 3 requests as fast as it can → requests/s stored and acked;
then once, with 2 workers, faults under load: ``kill -9`` of a worker, later a broker kill -9 and
restart; the speakers keep sending throughout. Lost = sent but not stored; duplicated = stored
twice (both must be 0). CPU and memory of the backend processes and the broker are sampled from
/proc and reported per 1,000 speakers. Bounded: the whole run takes about 3 minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.link import protocol as m  # noqa: E402
from assistant.link.protocol import tcp_nodelay  # noqa: E402
from jiayi_backend.broker import LocalBroker  # noqa: E402

RESEND_S = 5.0  # as the device relay (assistant/link/relay.py RESEND_AFTER_S)
AUTOSAVE_CHANGES = 100
"""Like docs/mosquitto/: saving on every change makes the broker write its whole file per message."""
THREADS = 4
TICK_S = 0.02
DAILY_MIX = [  # (request type, tier, share of a speaker's day)
    ("medication_taken", "plain", 0.55),
    ("check_in", "plain", 0.2),
    ("medication_missed", "plain", 0.08),
    ("report_symptom", "confirm", 0.07),
    ("call_doctor", "confirm", 0.05),
    ("reorder_medication", "confirm", 0.03),
    ("book_appointment", "confirm", 0.015),
    ("emergency", "emergency", 0.005),
]
PG_ADMIN = os.environ.get("JIAYI_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


# ---------------------------------------------------------------- simulated speakers


@dataclass
class Speaker:
    index: int
    client: Any = None
    connected: bool = False
    next_connect: float = 0.0
    pending: dict[str, list[Any]] = field(default_factory=dict)
    """request id → [payload, first sent (perf_counter), last sent]"""

    @property
    def device_id(self) -> str:
        return f"bench-{self.index:05d}"


class Fleet:
    """All speakers; ``THREADS`` loops each drive a slice of them."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.speakers = [Speaker(i) for i in range(count)]
        self.lock = threading.Lock()
        self.latency: dict[str, float] = {}
        self.sent: dict[str, str] = {}  # request id → device id
        self.acks = 0
        self.duplicate_acks = 0
        self.resends = 0
        self.tasks: list[list[tuple[int, m.Request]]] = [[] for _ in range(THREADS)]
        self.running = threading.Event()
        self.threads: list[threading.Thread] = []

    # ---- public

    def start(self) -> float:
        self.running.set()
        t0 = time.perf_counter()
        for n in range(THREADS):
            thread = threading.Thread(target=self._loop, args=(n,), daemon=True, name=f"fleet-{n}")
            thread.start()
            self.threads.append(thread)
        _wait(lambda: all(s.connected for s in self.speakers), 120, "all speakers connected")
        return time.perf_counter() - t0

    def stop(self) -> None:
        self.running.clear()
        for thread in self.threads:
            thread.join(10)

    def submit(self, index: int, request_type: str, tier: str) -> str:
        speaker = self.speakers[index]
        req = m.Request(device_id=speaker.device_id, request_type=request_type, tier=tier, slots={"n": index})
        with self.lock:
            self.sent[req.message_id] = speaker.device_id
            self.tasks[index % THREADS].append((index, req))
        return req.message_id

    def outstanding(self) -> int:
        with self.lock:
            return len(self.sent) - len(self.latency)

    def latencies(self, ids: list[str]) -> list[float]:
        with self.lock:
            return [self.latency[i] for i in ids if i in self.latency]

    # ---- the loop of one thread

    def _client(self, speaker: Speaker) -> Any:
        import paho.mqtt.client as mqtt

        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=speaker.device_id,
            protocol=mqtt.MQTTv5,
        )
        client.on_socket_open = tcp_nodelay
        client.max_inflight_messages_set(100)
        client.on_connect = lambda c, _u, _f, rc, _p, s=speaker: self._on_connect(c, s, rc)
        client.on_message = lambda _c, _u, msg, s=speaker: self._on_message(s, msg)
        return client

    def _on_connect(self, client: Any, speaker: Speaker, rc: Any) -> None:
        if rc.is_failure:
            return
        client.subscribe(m.topic(speaker.device_id, m.RESPONSES), qos=1)
        speaker.connected = True
        for entry in speaker.pending.values():
            entry[2] = 0.0  # resend everything un-acked now

    def _on_message(self, speaker: Speaker, msg: Any) -> None:
        now = time.perf_counter()
        try:
            ack = m.Ack.from_json(msg.payload)
        except m.ProtocolError:
            return
        entry = speaker.pending.pop(ack.request_id, None)
        with self.lock:
            self.acks += 1
            if entry is None:
                self.duplicate_acks += 1
            else:
                self.latency[ack.request_id] = now - entry[1]

    def _connect(self, speaker: Speaker, sel: selectors.BaseSelector) -> None:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        if speaker.client is None:
            speaker.client = self._client(speaker)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        try:
            if speaker.client.socket() is None and speaker.next_connect == 0.0:
                speaker.client.connect(
                    "127.0.0.1", self.port, keepalive=60, clean_start=False, properties=props
                )
            else:
                speaker.client.reconnect()
        except OSError:
            speaker.next_connect = time.monotonic() + random.uniform(0.2, 1.0)
            return
        speaker.next_connect = -1.0
        sel.register(speaker.client.socket(), selectors.EVENT_READ, speaker)

    def _drop(self, speaker: Speaker, sel: selectors.BaseSelector) -> None:
        speaker.connected = False
        sock = speaker.client.socket() if speaker.client else None
        for key in list(sel.get_map().values()):
            if key.data is speaker:
                sel.unregister(key.fileobj)
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
        speaker.next_connect = time.monotonic() + random.uniform(0.2, 1.0)

    def _publish(self, speaker: Speaker, request_id: str, payload: bytes) -> None:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = m.topic(speaker.device_id, m.RESPONSES)
        props.CorrelationData = request_id.encode()
        speaker.client.publish(m.topic(speaker.device_id, m.REQUESTS), payload, qos=1, properties=props)

    def _loop(self, n: int) -> None:
        import paho.mqtt.client as mqtt

        mine = self.speakers[n::THREADS]
        sel = selectors.DefaultSelector()
        last_misc = 0.0
        while self.running.is_set():
            now = time.monotonic()
            for speaker in mine:
                if speaker.next_connect >= 0 and now >= speaker.next_connect:
                    self._connect(speaker, sel)
            for key, _events in sel.select(TICK_S):
                speaker = key.data
                if speaker.client.loop_read() != mqtt.MQTT_ERR_SUCCESS:
                    self._drop(speaker, sel)
            with self.lock:
                tasks, self.tasks[n] = self.tasks[n], []
            perf = time.perf_counter()
            for index, req in tasks:
                speaker = self.speakers[index]
                speaker.pending[req.message_id] = [req.to_json(), perf, 0.0]
            for speaker in mine:
                if not speaker.connected:
                    continue
                for request_id, entry in list(speaker.pending.items()):
                    if perf - entry[2] >= RESEND_S:
                        if entry[2]:
                            with self.lock:
                                self.resends += 1
                        entry[2] = perf
                        self._publish(speaker, request_id, entry[0])
                if speaker.client.want_write() and speaker.client.loop_write() != mqtt.MQTT_ERR_SUCCESS:
                    self._drop(speaker, sel)
            if now - last_misc >= 1.0:
                last_misc = now
                for speaker in mine:
                    if speaker.connected and speaker.client.loop_misc() != mqtt.MQTT_ERR_SUCCESS:
                        self._drop(speaker, sel)
        for speaker in mine:
            if speaker.client is not None:
                speaker.client.disconnect()
                if speaker.client.want_write():
                    speaker.client.loop_write()


# ---------------------------------------------------------------- processes and measurements


def _wait(pred: Any, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _proc(pid: int) -> tuple[float, float]:
    """(CPU seconds, RSS MiB) of one process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        rss = next(
            int(line.split()[1]) / 1024
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith("VmRSS:")
        )
    except (OSError, StopIteration, IndexError, ValueError):
        return 0.0, 0.0
    return cpu, rss


class Workers:
    def __init__(self, url: str, db: str, folder: Path) -> None:
        self.url, self.db, self.folder = url, db, folder
        self.procs: dict[str, subprocess.Popen[str]] = {}

    def start(self, worker_id: str) -> None:
        log = open(self.folder / f"worker-{worker_id}.log", "ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "backend", "run", "--url", self.url, "--db", self.db,
             "--worker-id", worker_id],
            stdout=subprocess.PIPE, stderr=log, text=True, cwd=REPO, start_new_session=True,
        )  # fmt: skip
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "backend ready" not in line:
            raise RuntimeError(f"worker {worker_id} did not start: {line!r}")
        self.procs[worker_id] = proc

    def kill9(self, worker_id: str) -> None:
        proc = self.procs.pop(worker_id)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()

    def usage(self) -> tuple[float, float]:
        cpu = rss = 0.0
        for proc in self.procs.values():
            c, r = _proc(proc.pid)
            cpu, rss = cpu + c, rss + r
        return cpu, rss


def _pg_database() -> tuple[str, Any]:
    import psycopg

    name = f"jiayi_bench_{secrets.token_hex(4)}"
    admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    admin.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rpartition("/")[0] + "/" + name, (admin, name)


def _drop_database(handle: Any) -> None:
    admin, name = handle
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _store_check(db: str, sent: dict[str, str]) -> dict[str, int]:
    from jiayi_backend.store import RequestStore

    store = RequestStore(db)
    rows = store.db.query("SELECT device_id, message_id FROM requests")
    store.close()
    stored = [(str(d), str(i)) for d, i in rows]
    expected = {(device, rid) for rid, device in sent.items()}
    return {
        "sent": len(expected),
        "stored": len(stored),
        "lost": len(expected - set(stored)),
        "duplicated": len(stored) - len(set(stored)),
    }


# ---------------------------------------------------------------- phases


def _pick_type(rng: random.Random) -> tuple[str, str]:
    x = rng.random()
    for request_type, tier, share in DAILY_MIX:
        x -= share
        if x <= 0:
            return request_type, tier
    return DAILY_MIX[0][0], DAILY_MIX[0][1]


def peak(fleet: Fleet, rate: float, seconds: float, rng: random.Random) -> dict[str, float]:
    end = time.perf_counter() + seconds
    ids = _paced(fleet, rate, rng, lambda: time.perf_counter() >= end)
    _wait(lambda: len(fleet.latencies(ids)) == len(ids), 60, "peak requests acknowledged")
    lat = fleet.latencies(ids)
    return {
        "requests": len(ids),
        "p50_ms": _pct(lat, 0.5) * 1e3,
        "p95_ms": _pct(lat, 0.95) * 1e3,
        "p99_ms": _pct(lat, 0.99) * 1e3,
    }


def burst(fleet: Fleet, count: int = 200) -> dict[str, float]:
    start = time.perf_counter()
    ids = [fleet.submit(i * len(fleet.speakers) // count, "emergency", "emergency") for i in range(count)]
    _wait(lambda: len(fleet.latencies(ids)) == count, 60, "emergencies acknowledged")
    lat = fleet.latencies(ids)
    return {"emergencies": count, "all_acked_s": time.perf_counter() - start, "p95_ms": _pct(lat, 0.95) * 1e3}


def throughput(fleet: Fleet, per_speaker: int = 3) -> dict[str, float]:
    start = time.perf_counter()
    ids = [
        fleet.submit(i, "medication_taken", "plain")
        for _ in range(per_speaker)
        for i in range(len(fleet.speakers))
    ]
    _wait(lambda: len(fleet.latencies(ids)) == len(ids), 120, "throughput requests acknowledged")
    elapsed = time.perf_counter() - start
    lat = fleet.latencies(ids)
    return {"requests": len(ids), "rps": len(ids) / elapsed, "p95_ms": _pct(lat, 0.95) * 1e3}


@contextlib.contextmanager
def _practice(folder: Path, name: str) -> Iterator[tuple[str, LocalBroker, Workers]]:
    """A throw-away PostgreSQL database, a private broker (persistence on) and a worker pool."""
    db, handle = _pg_database()
    broker = LocalBroker(folder / f"broker-{name}", persistence=True, autosave_changes=AUTOSAVE_CHANGES)
    broker.start()
    pool = Workers(broker.url, db, folder)
    try:
        yield db, broker, pool
    finally:
        pool.stop()
        broker.stop()
        _drop_database(handle)


def _paced(fleet: Fleet, rate: float, rng: random.Random, done: Callable[[], bool]) -> list[str]:
    """Submit the daily mix at ``rate`` requests/s from random speakers until ``done()``."""
    ids: list[str] = []
    start = time.perf_counter()
    while not done():
        due = int((time.perf_counter() - start) * rate)
        while len(ids) < due:
            ids.append(fleet.submit(rng.randrange(len(fleet.speakers)), *_pick_type(rng)))
        time.sleep(0.005)
    return ids


def run_config(
    workers: int, speakers: int, peak_rate: float, folder: Path, peak_s: float = 15.0
) -> dict[str, Any]:
    with _practice(folder, str(workers)) as (db, broker, pool):
        for i in range(workers):
            pool.start(f"bench{workers}-{i}")
        fleet = Fleet(broker.port, speakers)
        connect_s = fleet.start()
        rng = random.Random(workers)
        cpu0, _ = pool.usage()
        bcpu0, _ = _proc(broker.process.pid)
        t0 = time.perf_counter()
        result: dict[str, Any] = {"workers": workers, "speakers": speakers, "connect_s": connect_s}
        result["peak"] = peak(fleet, peak_rate, peak_s, rng)
        elapsed = time.perf_counter() - t0
        cpu1, rss = pool.usage()
        bcpu1, brss = _proc(broker.process.pid)
        result["peak"]["backend_cpu_pct"] = 100 * (cpu1 - cpu0) / elapsed
        result["peak"]["broker_cpu_pct"] = 100 * (bcpu1 - bcpu0) / elapsed
        result["burst"] = burst(fleet)
        result["throughput"] = throughput(fleet)
        cpu2, rss2 = pool.usage()
        bcpu2, brss2 = _proc(broker.process.pid)
        stored = _store_check(db, fleet.sent)
        result["throughput"]["backend_cpu_ms_per_request"] = (
            1e3 * (cpu2 - cpu1) / max(1, result["throughput"]["requests"] + 200)
        )
        result["memory_mib"] = {
            "backend_all_workers": max(rss, rss2),
            "backend_per_worker": max(rss, rss2) / workers,
            "broker": max(brss, brss2),
            "broker_per_1000_speakers": max(brss, brss2) * 1000 / speakers,
        }
        peak_cpu = result["peak"]["backend_cpu_pct"] + result["peak"]["broker_cpu_pct"]
        result["peak"]["cpu_pct_per_1000_speakers"] = peak_cpu * 1000 / speakers
        result["store"] = stored
        result["duplicate_acks"] = fleet.duplicate_acks
        fleet.stop()
        return result


def run_faults(speakers: int, rate: float, folder: Path) -> dict[str, Any]:
    """2 workers, steady traffic; kill -9 a worker, then kill -9 and restart the broker."""
    with _practice(folder, "faults") as (db, broker, pool):
        pool.start("fault-a")
        pool.start("fault-b")
        fleet = Fleet(broker.port, speakers)
        fleet.start()
        rng = random.Random(99)
        stop = threading.Event()

        def traffic() -> None:
            _paced(fleet, rate, rng, stop.is_set)

        thread = threading.Thread(target=traffic, daemon=True)
        thread.start()
        time.sleep(5)
        pool.kill9("fault-a")  # mid-stream: whatever it held, the speakers resend
        time.sleep(5)
        pool.start("fault-a")  # systemd would restart it; it takes its session back
        time.sleep(3)
        broker.kill()
        down = time.perf_counter()
        time.sleep(2)
        broker.restart()
        _wait(lambda: sum(s.connected for s in fleet.speakers) == speakers, 120, "speakers back")
        back_s = time.perf_counter() - down - 2
        time.sleep(5)
        stop.set()
        thread.join(5)
        _wait(lambda: fleet.outstanding() == 0, 120, "every request acknowledged after the faults")
        result = {
            "workers": 2,
            "speakers": speakers,
            "rate": rate,
            "faults": ["worker kill -9 + restart", "broker kill -9 + restart"],
            "speakers_reconnected_s": back_s,
            "resends": fleet.resends,
            "duplicate_acks": fleet.duplicate_acks,
            "store": _store_check(db, fleet.sent),
        }
        fleet.stop()
        return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--speakers", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--peak-rate", type=float, default=20.0, help="requests/s in the peak phase")
    parser.add_argument("--peak-seconds", type=float, default=15.0, help="length of the peak phase")
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING)
    results: dict[str, Any] = {"configs": []}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="jiayi-bench-backend-") as tmp:
        folder = Path(tmp)
        for workers in (int(w) for w in args.workers.split(",")):
            results["configs"].append(
                run_config(workers, args.speakers, args.peak_rate, folder, args.peak_seconds)
            )
            print(json.dumps(results["configs"][-1]), file=sys.stderr, flush=True)
        if not args.no_faults:
            results["faults"] = run_faults(args.speakers, args.peak_rate, folder)
            print(json.dumps(results["faults"]), file=sys.stderr, flush=True)
    results["total_s"] = time.perf_counter() - started
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _table(results)
    bad = [c for c in results["configs"] if c["store"]["lost"] or c["store"]["duplicated"]]
    faults = results.get("faults", {}).get("store", {})
    return 1 if bad or faults.get("lost") or faults.get("duplicated") else 0


def _table(results: dict[str, Any]) -> None:
    print(
        "| workers | speakers | connect s | peak req | p50 ms | p95 ms | p99 ms | burst 200 all acked s | burst p95 ms"
        " | throughput req/s | CPU % per 1000 speakers at peak | backend MiB per worker | broker MiB per 1000"
        " speakers | lost | dup |"
    )
    print("|---:" * 15 + "|")
    for c in results["configs"]:
        p, b, t, mem, s = c["peak"], c["burst"], c["throughput"], c["memory_mib"], c["store"]
        print(
            f"| {c['workers']} | {c['speakers']} | {c['connect_s']:.1f} | {p['requests']} | {p['p50_ms']:.1f} |"
            f" {p['p95_ms']:.1f} | {p['p99_ms']:.1f} | {b['all_acked_s']:.2f} | {b['p95_ms']:.0f} |"
            f" {t['rps']:.0f} | {p['cpu_pct_per_1000_speakers']:.1f} | {mem['backend_per_worker']:.0f} |"
            f" {mem['broker_per_1000_speakers']:.0f} | {s['lost']} | {s['duplicated']} |"
        )
    if "faults" in results:
        f = results["faults"]
        print(
            f"\nfaults ({', '.join(f['faults'])}) with {f['workers']} workers, {f['speakers']} speakers at"
            f" {f['rate']:.0f} req/s: sent {f['store']['sent']}, stored {f['store']['stored']},"
            f" lost {f['store']['lost']}, duplicated {f['store']['duplicated']};"
            f" resends {f['resends']}, speakers back {f['speakers_reconnected_s']:.1f} s after the broker"
        )
    print(f"\ntotal {results['total_s']:.0f} s")


if __name__ == "__main__":
    raise SystemExit(main())
