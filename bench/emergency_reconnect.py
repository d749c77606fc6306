"""Emergency recovery benchmark: broker back → emergency stored at the practice's backend.

    .venv/bin/python bench/emergency_reconnect.py [--trials 5] [--down 3,10,30] [--json]

Each trial, on a private loopback mosquitto (persistence on) with the reference backend running
all along: the broker is killed (``kill -9``), an emergency is submitted while it is down (so it is
only in the device's outbox), the broker stays down ``--down`` seconds (long enough for an
ordinary backoff to grow), then restarts. Measured from the moment the restarted broker accepts
TCP connections:

- ``online``: the device relay has reconnected and resubscribed;
- ``backend``: the backend's worker has reconnected and its shared subscription is back;
- ``stored``: the emergency is in the backend's store (what the issue calls "stored");
- ``acked``: the device has the backend's application ack.

All four are polled together (each the first time it holds). The backend is a separate client
with its own reconnect schedule (every 0.25-1 s, jittered, never growing; it was paho's 0.2 s
doubling to 5 s); ``stored`` is therefore at least max(device, backend). mosquitto 2.0 does not
restore a *shared* subscription from its persistence file after a ``kill -9``, so an emergency the
device publishes before the backend has subscribed again is dropped and goes out again with the
device's 1 s resend. The same run with the backend started only after the broker is back
(``--fresh-backend``) isolates the device's part.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.conversation.actions import BackendAck, SendRequest  # noqa: E402
from assistant.link.relay import Relay  # noqa: E402
from assistant.ops.settings import Backend, Doctor, Person, Settings  # noqa: E402
from jiayi_backend.broker import LocalBroker  # noqa: E402
from jiayi_backend.service import ReferenceBackend  # noqa: E402

POLL_S = 0.005


def _wait(predicate, timeout_s: float, what: str) -> float:
    """Seconds until ``predicate()`` is true (RuntimeError after ``timeout_s``)."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout_s:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(POLL_S)
    return time.monotonic() - start


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def trial(folder: Path, down_s: float, fresh_backend: bool) -> dict[str, float]:
    broker = LocalBroker(folder / "broker", persistence=True)
    broker.start()
    backend = ReferenceBackend(broker.url, folder / "backend.sqlite3")
    backend.start()
    acks: list[BackendAck] = []
    settings = Settings(
        person=Person("Margaret Lee", "Margaret", "en"),
        doctor=Doctor("Dr. Chen"),
        backend=Backend(url=broker.url, device_id="bench-emergency"),
    )
    relay = Relay(settings, lambda e: acks.append(e) if isinstance(e, BackendAck) else None, state_dir=folder)
    relay.start()
    try:
        _wait(lambda: relay.status().connected, 10, "relay online")
        broker.kill()
        _wait(lambda: not relay.status().connected, 10, "relay notices")
        if fresh_backend:
            backend.stop()
        req = SendRequest("emergency", tier="emergency")
        relay.submit(req)
        time.sleep(down_s)
        broker.restart()
        back = time.monotonic()
        _wait(lambda: _accepting(broker.port), 10, "broker accepting")
        if fresh_backend:
            backend = ReferenceBackend(broker.url, folder / "backend.sqlite3")
            # started beside the polling below, so the device's own times are not held up by it
            threading.Thread(target=backend.start, daemon=True).start()
        be = backend
        return {
            "down_s": down_s,
            **_first_times(
                back,
                {
                    "online_s": lambda: relay.status().connected,
                    "backend_s": be.connected,
                    "stored_s": lambda: req.request_id in {row["message_id"] for row in be.store.rows()},
                    "acked_s": lambda: any(a.request_id == req.request_id for a in acks),
                },
            ),
        }
    finally:
        relay.stop()
        backend.stop()
        broker.stop()


def _first_times(start: float, predicates: dict, timeout_s: float = 60) -> dict[str, float]:
    """Seconds from ``start`` until each predicate first holds, all polled in one loop."""
    found: dict[str, float] = {}
    while len(found) < len(predicates):
        now = time.monotonic()
        if now - start > timeout_s:
            raise RuntimeError(f"timed out waiting for {sorted(set(predicates) - set(found))}")
        for key, predicate in predicates.items():
            if key not in found and predicate():
                found[key] = now - start
        time.sleep(POLL_S)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--down", default="3,10,30", help="seconds the broker stays down, comma-separated")
    parser.add_argument(
        "--fresh-backend", action="store_true", help="start the backend only after the broker is back"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    for down_s in (float(x) for x in args.down.split(",")):
        for _ in range(args.trials):
            with tempfile.TemporaryDirectory(prefix="jiayi-bench-") as tmp:
                results.append(trial(Path(tmp), down_s, args.fresh_backend))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"{'down s':>7} {'device online s':>16} {'backend back s':>16} {'stored s':>16} {'acked s (max)':>14}"
        "   (min/median/max)"
    )
    for down_s in sorted({r["down_s"] for r in results}):
        rows = [r for r in results if r["down_s"] == down_s]

        def span(key: str, rows: list[dict[str, float]] = rows) -> str:
            values = [r[key] for r in rows]
            return f"{min(values):.2f}/{statistics.median(values):.2f}/{max(values):.2f}"

        print(
            f"{down_s:7.0f} {span('online_s'):>16} {span('backend_s'):>16} {span('stored_s'):>16}"
            f" {max(r['acked_s'] for r in rows):14.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
