"""Emergency recovery benchmark: broker back → emergency stored at the practice's backend.

    .venv/bin/python bench/emergency_reconnect.py [--trials 5] [--down 3,10,30] [--json]

Each trial, on a private loopback mosquitto (persistence on) with the reference backend running
all along: the broker is killed (``kill -9``), an emergency is submitted while it is down (so it is
only in the device's outbox), the broker stays down ``--down`` seconds (long enough for an
ordinary backoff to grow), then restarts. Measured from the moment the restarted broker accepts
TCP connections:

- ``online``: the device relay has reconnected and resubscribed;
- ``stored``: the emergency is in the backend's store (what the issue calls "stored");
- ``acked``: the device has the backend's application ack.

The backend is a separate client with its own reconnect policy (paho, 0.2-5 s); ``stored`` is
therefore max(device, backend). The same run with the backend started only after the broker is
back (``--fresh-backend``) isolates the device's part.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
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
            backend.start()
        stored_ids = lambda: {row["message_id"] for row in backend.store.rows()}  # noqa: E731
        online = _since(back, lambda: relay.status().connected)
        stored = _since(back, lambda: req.request_id in stored_ids())
        acked = _since(back, lambda: any(a.request_id == req.request_id for a in acks))
        return {"down_s": down_s, "online_s": online, "stored_s": stored, "acked_s": acked}
    finally:
        relay.stop()
        backend.stop()
        broker.stop()


def _since(start: float, predicate) -> float:
    _wait(predicate, 60, "condition")
    return time.monotonic() - start


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
        f"{'down s':>7} {'online s (min/med/max)':>24} {'stored s (min/med/max)':>24} {'acked s (max)':>14}"
    )
    for down_s in sorted({r["down_s"] for r in results}):
        rows = [r for r in results if r["down_s"] == down_s]

        def span(key: str, rows: list[dict[str, float]] = rows) -> str:
            values = [r[key] for r in rows]
            return f"{min(values):.2f}/{statistics.median(values):.2f}/{max(values):.2f}"

        print(
            f"{down_s:7.0f} {span('online_s'):>24} {span('stored_s'):>24} {max(r['acked_s'] for r in rows):14.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
