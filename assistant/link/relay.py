"""Device side of the MQTT 5 link to the family-doctor backend: a relay that never loses a request.

Guarantees and how they are kept:

- ``submit()`` commits the request to the SQLite outbox (:mod:`assistant.link.outbox`) before it
  returns; it never touches the network. The row is deleted only when the backend's
  application-level :class:`~assistant.link.protocol.Ack` arrives (a PUBACK only means the broker
  took it). Anything un-acked is published again after ``resend_after_s`` (emergencies after
  ``urgent_resend_s``) and after every reconnect, so a request survives broker restarts (even ones
  that lose the broker's sessions), network loss and ``kill -9`` of the daemon. The backend
  deduplicates by message id, so its store holds each request exactly once; duplicate acks are
  ignored here.
- Emergencies jump the queue (outbox order: priority, then age), and while one is pending the
  connection is retried on a short fixed schedule (:mod:`assistant.link.connection`).
- Each tier has a delivery deadline (:data:`~assistant.link.tuning.DELIVERY_DEADLINE_S`); past it
  the relay emits one :class:`~assistant.conversation.actions.DeliveryLate` per request so the
  dialogue can tell the person and start the phone fallback.
- Nothing from the wire is trusted (:mod:`assistant.link.inbound`): acks count only for ids this
  device awaits, with matching correlation data; text is spoken only when made of known sentences;
  schedule updates only for this speaker's medicines.
- Threads: the connection's network thread runs paho; the relay's own worker thread runs all
  logic and calls ``deliver``. Callback errors are caught, logged and counted, never raised.
- On every connect: subscribe to ``responses`` and ``commands``; after the SUBACK, publish the
  retained ``online`` status and (re)send the outbox. The will message (retained, with a will
  delay) marks the device ``offline``; ``stop()`` publishes ``offline`` itself.
"""

from __future__ import annotations

import collections
import dataclasses
import heapq
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from assistant import __version__
from assistant.conversation.actions import BackendAck, BackendSay, DeliveryLate, SendRequest
from assistant.link import protocol as messages
from assistant.link.connection import Connection, EventQueue
from assistant.link.inbound import InboundGuard, Refused, parse
from assistant.link.outbox import FINAL_STATUSES, Outbox, OutboxEntry
from assistant.link.protocol import parse_url
from assistant.link.tuning import (
    DEADLINE_PLAIN_S,
    DELIVERY_DEADLINE_S,
    RelayState,
    RelayStatus,
    RelayTuning,
    plain_error,
)
from assistant.ops.clock import Clock, SystemClock
from assistant.ops.paths import state_dir as default_state_dir
from assistant.ops.settings import Settings

_LOGGER = logging.getLogger(__name__)

TICK_S: Final = 0.05
EVENT_QUEUE_MAX: Final = 1024
BATCH_MAX: Final = 255
SEEN_IDS_MAX: Final = 4096
OUTBOX_FILE: Final = "outbox.sqlite3"
PRIVATE_CONTEXT_KEYS: Final = frozenset({"transcript", "text", "audio", "raw_text", "utterance"})
EMERGENCY_TIER: Final = "emergency"

__all__ = [
    "DELIVERY_DEADLINE_S",
    "Relay",
    "RelayState",
    "RelayStatus",
    "RelayTuning",
    "request_message",
]


def request_message(settings: Settings, req: SendRequest) -> messages.Request:
    """The wire request: intent, slots, confidence, minimal context; no transcript unless opted in."""
    send_transcripts = settings.backend.send_transcripts
    context: dict[str, Any] = {}
    transcript = None
    confidence = None
    for key, value in req.context.items():
        if key == "confidence" and isinstance(value, int | float):
            confidence = min(1.0, max(0.0, float(value)))
        elif key in PRIVATE_CONTEXT_KEYS:
            if send_transcripts and key == "transcript" and isinstance(value, str):
                transcript = value[:500]
        elif len(context) < 16:
            context[str(key)[:64]] = _scalar(value)
    return messages.Request(
        device_id=settings.backend.device_id,
        message_id=req.request_id,
        request_type=req.request_type,
        tier=req.tier,
        slots={str(k)[:64]: _scalar(v) for k, v in list(req.slots.items())[:16]},
        confidence=confidence,
        call_back_by_phone=bool(req.call_back_by_phone),
        lang=settings.person.language,
        context=context,
        transcript=transcript,
    )


def _scalar(value: Any) -> str | int | float | bool:
    if isinstance(value, bool | int | float):
        return value
    return str(value)[:200]


class Relay:
    """See the module docstring. The daemon's contract: start, stop, submit, status, publish_status."""

    def __init__(
        self,
        settings: Settings,
        deliver: Callable[[object], None],
        clock: Clock = SystemClock(),  # noqa: B008 - stateless default
        state_dir: Path | None = None,
        *,
        tuning: RelayTuning | None = None,
        url: str | None = None,
    ) -> None:
        self._settings = settings
        self._deliver_cb = deliver
        self._clock = clock
        self._tuning = tuning or RelayTuning()
        self._device_id = settings.backend.device_id
        self._url = url or settings.backend.url
        self._address = parse_url(self._url) if self._url else None
        folder = Path(state_dir) if state_dir is not None else default_state_dir(settings.state_dir)
        kwargs: dict[str, Any] = {"synchronous": self._tuning.outbox_synchronous}
        if self._tuning.outbox_max_rows is not None:
            kwargs["max_rows"] = self._tuning.outbox_max_rows
        self._outbox = Outbox(folder / OUTBOX_FILE, **kwargs)
        self._topic = {
            k: messages.topic(self._device_id, k)
            for k in ("requests", "responses", "commands", "events", "status")
        }
        self._guard = InboundGuard(settings)
        self._events = EventQueue(EVENT_QUEUE_MAX)
        self._counters: collections.Counter[str] = collections.Counter()
        self._health: dict[str, Any] = {}
        self._threads: list[threading.Thread] = []
        self._urgent_lock = threading.Lock()
        self._urgent_ids: set[str] = set()
        self._conn: Connection | None = None
        if self._address is not None:
            self._conn = Connection(
                settings.backend, self._address, self._tuning, self._events, self._counters, self._urgent
            )
        self._running = threading.Event()
        self._closed = False
        # Worker-thread-only state.
        self._pending: dict[str, OutboxEntry] = {}
        self._order: dict[str, int] = {}
        self._next_order = 0
        self._acked_ids: list[str] = []
        self._finished_ids: list[str] = []
        self._acks_to_deliver: list[BackendAck] = []
        self._ready: list[tuple[int, int, str]] = []
        self._inflight: dict[str, float] = {}
        self._late_reported: set[str] = set()
        self._seen_acks: collections.OrderedDict[tuple[str, str], None] = collections.OrderedDict()
        self._seen_commands: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._sub_mid: int | None = None
        self._session_up = False
        self._next_deadline_check = 0.0

    # ------------------------------------------------------------------ contract

    def start(self) -> None:
        """Load the outbox and start the network and worker threads (returns at once)."""
        if self._running.is_set():
            return
        if self._conn is None:
            raise ValueError("no broker URL: set backend.url (or let jiayi_backend.broker start a local one)")
        for entry in self._outbox.pending():
            self._remember(entry)
        self._running.set()
        self._conn.start()
        for name, target in (("relay-net", self._conn.run), ("relay-worker", self._worker_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        _LOGGER.info("event=relay_start device=%s pending=%d", self._device_id, len(self._pending))

    def stop(self, timeout_s: float = 5.0) -> None:
        """Publish the offline status, disconnect and stop; pending requests stay in the outbox."""
        if not self._running.is_set() or self._conn is None:
            self._close_outbox()
            return
        done = threading.Event()
        self._events.put(("stop", done, timeout_s))
        done.wait(timeout_s)
        self._running.clear()
        self._conn.stop()
        end = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))
        self._threads.clear()
        self._conn.state = RelayState.STOPPED
        self._close_outbox()
        _LOGGER.info("event=relay_stop")

    def _close_outbox(self) -> None:
        if not self._closed:
            self._closed = True
            self._outbox.close()

    def submit(self, req: SendRequest) -> None:
        """Durably store ``req`` (committed before this returns) and wake the worker to send it."""
        message = request_message(self._settings, req)
        # Full schema check here: anything the backend would refuse must never enter the outbox
        # (it would be resent forever). ProtocolError (a ValueError) names the problem.
        data = message.to_dict()
        messages.validate_dict(data)
        payload = messages.encode(data)
        if len(payload) > messages.MAX_PAYLOAD_BYTES:
            raise messages.ProtocolError(f"request of {len(payload)} bytes is too large to send")
        created_at = self._clock.now().timestamp()
        inserted, evicted = self._outbox.add(req.request_id, req.request_type, req.tier, payload, created_at)
        if inserted or evicted:
            self._events.put(
                ("submitted", req.request_id, req.request_type, req.tier, created_at, payload, evicted)
            )
        if req.tier == EMERGENCY_TIER:
            with self._urgent_lock:
                self._urgent_ids.add(req.request_id)
            if self._conn is not None:
                self._conn.wake()  # cut a long backoff short: reconnect now
        _LOGGER.info("event=request_queued id=%s type=%s tier=%s", req.request_id, req.request_type, req.tier)

    def pending_emergencies(self) -> list[str]:
        """Emergencies in the outbox the backend has not acknowledged (oldest first)."""
        if self._closed:
            return []
        return [e.request_id for e in self._outbox.pending() if e.tier == EMERGENCY_TIER]

    def reconfigure(self, settings: Settings) -> None:
        """New names and medicines after a config reload (what acks, says and schedules may name)."""
        self._guard = InboundGuard(settings)

    def status(self) -> RelayStatus:
        depth = 0 if self._closed else self._outbox.depth()
        oldest = self._outbox.oldest_created_at() if depth else None
        age = None if oldest is None else max(0.0, self._clock.now().timestamp() - oldest)
        c = self._counters
        state = self._conn.state if self._conn is not None else RelayState.STOPPED
        return RelayStatus(
            state=state.name,
            connected=state == RelayState.ONLINE,
            outbox_depth=depth,
            oldest_pending_age_s=age,
            last_error=self._conn.last_error if self._conn is not None else "no broker URL",
            callback_errors=c["callback_errors"],
            dropped_events=self._events.dropped,
            rejected_messages=c["rejected"],
            duplicate_acks=c["duplicate_acks"],
            published=c["published"],
            connects=c["connects"],
        )

    def publish_status(self, extra: dict[str, Any]) -> None:
        """Merge health fields into the retained online status and publish it (when connected)."""
        self._events.put(("health", dict(extra)))

    def _urgent(self) -> bool:
        """An emergency waits for the backend (read by the network thread)."""
        with self._urgent_lock:
            return bool(self._urgent_ids)

    @property
    def _client(self) -> Any:
        """The paho client (benchmarks cut its socket to inject faults)."""
        return self._conn.client if self._conn is not None else None

    # ------------------------------------------------------------------ worker thread

    def _worker_loop(self) -> None:
        while self._running.is_set():
            event = self._events.get(TICK_S)
            batch = [event, *self._events.drain(BATCH_MAX)] if event is not None else []
            try:
                for item in batch:
                    if item[0] == "stop":
                        self._flush_acks()
                        self._handle_stop(item[1], item[2])
                        return
                    self._handle(item)
                self._flush_acks()
                self._resend_overdue()
                self._pump()
                self._check_deadlines()
            except Exception:
                self._counters["callback_errors"] += 1
                _LOGGER.exception("event=worker_error")

    def _handle(self, event: tuple[Any, ...]) -> None:
        kind = event[0]
        if kind == "message":
            self._handle_message(event[1], event[2], event[3])
        elif kind == "submitted":
            _, request_id, request_type, tier, created_at, payload, evicted = event
            for victim in evicted:
                self._forget(victim)
            if request_id not in self._pending:
                self._remember(OutboxEntry(0, request_id, request_type, tier, created_at, payload))
        elif kind == "connected":
            self._on_connected(event[1], event[2])
        elif kind == "subscribed":
            self._on_subscribed(event[1], event[2], event[3])
        elif kind == "disconnected":
            self._on_disconnected(event[1])
        elif kind == "health":
            for key, value in event[1].items():
                self._health[str(key)] = (
                    value if value is None or isinstance(value, bool | int | float) else str(value)[:200]
                )
            if self._online():
                self._publish_online()

    def _online(self) -> bool:
        return self._conn is not None and self._conn.state == RelayState.ONLINE

    def _on_connected(self, failed: bool, reason: str) -> None:
        assert self._conn is not None
        if failed:
            self._conn.last_error = f"broker refused the connection: {reason}"
            _LOGGER.warning("event=connect_refused reason=%s", reason)
            return
        self._counters["connects"] += 1
        self._session_up = True
        self._conn.state = RelayState.SUBSCRIBING
        rc, mid = self._conn.client.subscribe([(self._topic["responses"], 1), (self._topic["commands"], 1)])
        self._sub_mid = mid
        _LOGGER.info("event=connected subscribe_rc=%s", rc)

    def _on_subscribed(self, mid: int, failures: list[bool], reasons: list[str]) -> None:
        assert self._conn is not None
        if mid != self._sub_mid:
            return
        if any(failures):
            self._conn.last_error = f"subscription refused: {', '.join(reasons)}"
            _LOGGER.warning("event=subscribe_refused reasons=%s", reasons)
            return
        self._conn.state = RelayState.ONLINE
        self._conn.last_error = ""
        back = self._conn.broker_back_at
        _LOGGER.info(
            "event=online pending=%d urgent=%s after_connect_s=%.3f",
            len(self._pending),
            self._urgent(),
            time.monotonic() - back if back else 0.0,
        )
        self._publish_online()
        # Everything un-acked goes out again now: the broker may have lost it.
        for request_id in list(self._inflight):
            self._requeue(request_id)

    def _on_disconnected(self, reason: str) -> None:
        assert self._conn is not None
        if self._conn.state not in (RelayState.STOPPING, RelayState.STOPPED):
            self._conn.state = RelayState.BACKING_OFF
        _LOGGER.info("event=disconnected reason=%s", reason)
        if self._session_up and reason not in ("Success", "Normal disconnection"):
            self._conn.last_error = f"connection lost: {reason}"  # keeps a refusal's reason otherwise
        self._session_up = False

    def _handle_stop(self, done: threading.Event, timeout_s: float) -> None:
        assert self._conn is not None
        self._conn.state = RelayState.STOPPING
        try:
            if self._conn.socket_up and self._conn.client is not None:
                offline = messages.Status(
                    device_id=self._device_id,
                    state=messages.STATE_OFFLINE,
                    version=__version__,
                    health=self._health,
                )
                info = self._conn.client.publish(self._topic["status"], offline.to_json(), qos=1, retain=True)
                info.wait_for_publish(timeout=min(2.0, timeout_s / 2))
            if self._conn.client is not None:
                self._conn.client.disconnect()
        except Exception as err:
            _LOGGER.warning("event=stop_publish_failed error=%s", plain_error(err))
        finally:
            done.set()

    def _publish_online(self) -> None:
        assert self._conn is not None
        online = messages.Status(
            device_id=self._device_id, state=messages.STATE_ONLINE, version=__version__, health=self._health
        )
        self._conn.client.publish(self._topic["status"], online.to_json(), qos=1, retain=True)

    # -------------------------------------------------------------- outbox bookkeeping

    def _remember(self, entry: OutboxEntry) -> None:
        self._pending[entry.request_id] = entry
        self._next_order += 1
        self._order[entry.request_id] = entry.seq or (10**12 + self._next_order)
        if entry.tier == EMERGENCY_TIER:
            with self._urgent_lock:
                self._urgent_ids.add(entry.request_id)
        self._push_ready(entry.request_id)

    def _push_ready(self, request_id: str) -> None:
        entry = self._pending[request_id]
        heapq.heappush(self._ready, (-entry.priority, self._order[request_id], request_id))

    def _forget(self, request_id: str) -> None:
        self._pending.pop(request_id, None)
        self._order.pop(request_id, None)
        self._inflight.pop(request_id, None)
        self._late_reported.discard(request_id)
        with self._urgent_lock:
            self._urgent_ids.discard(request_id)

    def _requeue(self, request_id: str) -> None:
        self._inflight.pop(request_id, None)
        if request_id in self._pending:
            self._push_ready(request_id)

    def _resend_overdue(self) -> None:
        if not self._online() or not self._inflight:
            return
        now = self._clock.monotonic()
        for request_id, sent in list(self._inflight.items()):
            entry = self._pending.get(request_id)
            urgent = entry is not None and entry.tier == EMERGENCY_TIER
            if now - sent >= (self._tuning.urgent_resend_s if urgent else self._tuning.resend_after_s):
                self._counters["resends"] += 1
                self._requeue(request_id)

    def _pump(self) -> None:
        """Publish ready requests, emergencies first, while the in-flight window has room."""
        if not self._online():
            return
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        assert self._conn is not None
        while self._ready and len(self._inflight) < self._tuning.max_in_flight:
            _, _, request_id = heapq.heappop(self._ready)
            entry = self._pending.get(request_id)
            if entry is None or request_id in self._inflight:
                continue
            props = Properties(PacketTypes.PUBLISH)
            props.ResponseTopic = self._topic["responses"]
            props.CorrelationData = request_id.encode()
            props.ContentType = "application/json"
            info = self._conn.client.publish(self._topic["requests"], entry.payload, qos=1, properties=props)
            if info.rc != 0:
                self._push_ready(request_id)
                return
            self._counters["published"] += 1
            self._inflight[request_id] = self._clock.monotonic()

    def _check_deadlines(self) -> None:
        now_mono = self._clock.monotonic()
        if now_mono < self._next_deadline_check:
            return
        self._next_deadline_check = now_mono + 0.1
        now = self._clock.now().timestamp()
        for request_id, entry in self._pending.items():
            if request_id in self._late_reported:
                continue
            deadline = self._tuning.deadlines_s.get(entry.tier, DEADLINE_PLAIN_S)
            if now - entry.created_at >= deadline:
                self._late_reported.add(request_id)
                _LOGGER.warning(
                    "event=delivery_late id=%s type=%s tier=%s", request_id, entry.request_type, entry.tier
                )
                self._deliver(DeliveryLate(request_id, entry.request_type, entry.tier))

    # ------------------------------------------------------------------ incoming

    def _reject(self, what: str, reason: str) -> None:
        self._counters["rejected"] += 1
        _LOGGER.warning("event=message_rejected what=%s reason=%s", what, reason)

    def _handle_message(self, topic: str, payload: bytes, correlation: bytes | None) -> None:
        try:
            message = parse(payload)
        except messages.ProtocolError as err:
            self._reject(topic.rsplit("/", 1)[-1], str(err))
            return
        if message.device_id != self._device_id:
            self._reject(message.TYPE, "wrong device id")
        elif topic == self._topic["responses"] and isinstance(message, messages.Ack):
            self._handle_ack(message, correlation)
        elif topic == self._topic["commands"] and isinstance(message, messages.COMMAND_CLASSES):
            self._handle_command(message)
        else:
            self._reject(message.TYPE, "type not allowed on this topic")

    def _awaited(self, request_id: str) -> bool:
        if request_id in self._pending or request_id in self._acked_ids:
            return True
        return self._outbox.awaited(request_id) is not None and request_id not in self._finished_ids

    def _handle_ack(self, ack: messages.Ack, correlation: bytes | None) -> None:
        key = (ack.request_id, ack.status)
        if key in self._seen_acks and correlation == ack.request_id.encode():
            self._counters["duplicate_acks"] += 1
            return
        refused = self._guard.ack(ack, correlation, self._awaited(ack.request_id))
        if isinstance(refused, Refused):
            self._reject("ack", refused.reason)
            return
        was_pending = ack.request_id in self._pending
        if was_pending:
            self._acked_ids.append(ack.request_id)
            self._forget(ack.request_id)
        if ack.status in FINAL_STATUSES:
            self._finished_ids.append(ack.request_id)
        _remember_id(self._seen_acks, key)
        if not was_pending and ack.status == messages.ACK_RECEIVED:
            self._counters["duplicate_acks"] += 1  # a repeat after a resend: the first one counted
            return
        _LOGGER.info("event=ack id=%s status=%s", ack.request_id, ack.status)
        text = self._guard.spoken(ack.text, "ack")
        self._acks_to_deliver.append(BackendAck(ack.request_id, ack.status, text))

    def _flush_acks(self) -> None:
        """Delete acked requests in one transaction, then tell the dialogue."""
        if self._acked_ids:
            self._outbox.remove_many(self._acked_ids)
            self._acked_ids = []
        for request_id in self._finished_ids:
            self._outbox.finish(request_id)
        self._finished_ids = []
        acks, self._acks_to_deliver = self._acks_to_deliver, []
        for ack in acks:
            self._deliver(ack)

    def _handle_command(self, command: messages.Message) -> None:
        if command.message_id in self._seen_commands:
            return
        _remember_id(self._seen_commands, command.message_id)
        if messages.is_expired(command, self._clock.now()):
            self._counters["expired_commands"] += 1
            _LOGGER.info("event=command_expired type=%s id=%s", command.TYPE, command.message_id)
            return
        _LOGGER.info("event=command type=%s id=%s", command.TYPE, command.message_id)
        if isinstance(command, messages.Say):
            text = self._guard.spoken(command.text, "say")
            if not text:
                self._reject("say", "not made of the known sentences")
                return
            self._deliver(BackendSay(text, command.message_id))
        elif isinstance(command, messages.ScheduleUpdate):
            checked = self._guard.schedule(command)
            if isinstance(checked, Refused):
                self._reject("schedule_update", checked.reason)
                return
            self._deliver(checked)
        elif isinstance(command, messages.Ping):
            assert self._conn is not None
            pong = messages.Pong(device_id=self._device_id, ping_id=command.message_id)
            self._conn.client.publish(self._topic["events"], pong.to_json(), qos=1)
            self._deliver(command)

    def _deliver(self, event: object) -> None:
        try:
            self._deliver_cb(event)
        except Exception:
            self._counters["callback_errors"] += 1
            _LOGGER.exception("event=deliver_error kind=%s", type(event).__name__)

    # for tests / benchmarks
    def counters(self) -> dict[str, int]:
        return dict(self._counters, dropped_events=self._events.dropped)

    def tuning(self) -> RelayTuning:
        return dataclasses.replace(self._tuning)


def _remember_id(seen: collections.OrderedDict, key: Any) -> None:
    seen[key] = None
    if len(seen) > SEEN_IDS_MAX:
        seen.popitem(last=False)
