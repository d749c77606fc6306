"""Device side of the MQTT 5 link to the family-doctor backend: a relay that never loses a request.

Guarantees and how they are kept:

- ``submit()`` commits the request to the SQLite outbox (:mod:`assistant.link.outbox`) before it
  returns; it never touches the network. The row is deleted only when the backend's
  application-level :class:`~assistant.link.protocol.Ack` arrives (a PUBACK only means the broker
  took it). Anything un-acked is published again after ``resend_after_s`` and after every
  reconnect, so a request survives broker restarts (even ones that lose the broker's sessions),
  network loss and ``kill -9`` of the daemon. The backend deduplicates by message id, so its store
  holds each request exactly once; duplicate acks are ignored here.
- Emergencies jump the queue (outbox order: priority, then age).
- Each tier has a delivery deadline (:data:`DELIVERY_DEADLINE_S`); past it the relay emits one
  :class:`~assistant.conversation.actions.DeliveryLate` per request so the dialogue can tell the person and
  start the phone fallback.
- Threads: a network thread runs paho's loop and reconnects with exponential backoff and full
  jitter; paho callbacks only put small events on one bounded queue (incoming messages are dropped
  and counted when it is full, connection events never are); the relay's own worker thread runs
  all logic and calls ``deliver``. Callback errors are caught, logged and counted, never raised
  into paho.
- On every connect: subscribe to ``responses`` and ``commands``; after the SUBACK, publish the
  retained ``online`` status and (re)send the outbox. The will message (retained, with a will
  delay) marks the device ``offline``; ``stop()`` publishes ``offline`` itself.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import heapq
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from assistant import __version__
from assistant.conversation.actions import BackendAck, BackendSay, DeliveryLate, SendRequest
from assistant.link import protocol as messages
from assistant.link.outbox import Outbox
from assistant.link.protocol import parse_url, tcp_nodelay
from assistant.ops.clock import Clock, SystemClock
from assistant.ops.paths import state_dir as default_state_dir
from assistant.ops.settings import Settings

_LOGGER = logging.getLogger(__name__)

DEADLINE_EMERGENCY_S: Final = 20.0
DEADLINE_CONFIRM_S: Final = 120.0
DEADLINE_PLAIN_S: Final = 600.0
DELIVERY_DEADLINE_S: Final = {
    "emergency": DEADLINE_EMERGENCY_S,
    "confirm": DEADLINE_CONFIRM_S,
    "plain": DEADLINE_PLAIN_S,
}
RESEND_AFTER_S: Final = 5.0
"""Publish again anything not acknowledged by the backend after this long."""
MAX_IN_FLIGHT: Final = 100
BACKOFF_MIN_S: Final = 0.5
BACKOFF_MAX_S: Final = 60.0
KEEPALIVE_S: Final = 30
SESSION_EXPIRY_S: Final = 24 * 3600
WILL_DELAY_S: Final = 10
CONNECT_TIMEOUT_S: Final = 10.0
TICK_S: Final = 0.05
EVENT_QUEUE_MAX: Final = 1024
BATCH_MAX: Final = 255
SEEN_IDS_MAX: Final = 4096
NETWORK_LOOP_S: Final = 0.2
OUTBOX_FILE: Final = "outbox.sqlite3"
PRIVATE_CONTEXT_KEYS: Final = frozenset({"transcript", "text", "audio", "raw_text", "utterance"})


class RelayState(enum.Enum):
    STOPPED = "stopped"
    CONNECTING = "connecting"
    SUBSCRIBING = "subscribing"
    ONLINE = "online"
    BACKING_OFF = "backing_off"
    STOPPING = "stopping"


@dataclass(frozen=True)
class RelayStatus:
    state: str
    """Name of the :class:`RelayState`."""
    connected: bool
    outbox_depth: int
    oldest_pending_age_s: float | None
    last_error: str
    """Plain text of the last connection problem ("" when none)."""
    callback_errors: int = 0
    dropped_events: int = 0
    rejected_messages: int = 0
    duplicate_acks: int = 0
    published: int = 0
    connects: int = 0


@dataclass(frozen=True)
class RelayTuning:
    """Timings and bounds (tests and benchmarks shorten them; the defaults are the product values)."""

    deadlines_s: dict[str, float] = field(default_factory=lambda: dict(DELIVERY_DEADLINE_S))
    resend_after_s: float = RESEND_AFTER_S
    max_in_flight: int = MAX_IN_FLIGHT
    backoff_min_s: float = BACKOFF_MIN_S
    backoff_max_s: float = BACKOFF_MAX_S
    keepalive_s: int = KEEPALIVE_S
    session_expiry_s: int = SESSION_EXPIRY_S
    will_delay_s: int = WILL_DELAY_S
    outbox_max_rows: int | None = None
    outbox_synchronous: str = "FULL"


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


class _EventQueue:
    """Bounded hand-off from paho's thread to the worker. Never blocks the producer.

    Droppable events (incoming messages) are refused and counted when full; control events
    (connect, subscribe, disconnect, submit, stop) are always accepted.
    """

    def __init__(self, maxsize: int) -> None:
        self._items: collections.deque[tuple[Any, ...]] = collections.deque()
        self._cond = threading.Condition()
        self._maxsize = maxsize
        self.dropped = 0

    def put(self, event: tuple[Any, ...], droppable: bool = False) -> None:
        with self._cond:
            if droppable and len(self._items) >= self._maxsize:
                self.dropped += 1
                return
            self._items.append(event)
            self._cond.notify()

    def get(self, timeout: float) -> tuple[Any, ...] | None:
        with self._cond:
            if not self._items:
                self._cond.wait(timeout)
            return self._items.popleft() if self._items else None

    def drain(self, limit: int) -> list[tuple[Any, ...]]:
        """Up to ``limit`` more events without waiting (lets the worker batch outbox deletes)."""
        with self._cond:
            return [self._items.popleft() for _ in range(min(limit, len(self._items)))]


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
        self._events = _EventQueue(EVENT_QUEUE_MAX)
        self._state = RelayState.STOPPED
        self._last_error = ""
        self._counters: collections.Counter[str] = collections.Counter()
        self._health: dict[str, Any] = {}
        self._running = threading.Event()
        self._wake = threading.Event()
        self._socket_up = False
        self._threads: list[threading.Thread] = []
        self._client: Any = None
        # Worker-thread-only state.
        self._pending: dict[str, Any] = {}
        self._order: dict[str, int] = {}
        self._next_order = 0
        self._connect_started = 0.0
        self._closed = False
        self._acked_ids: list[str] = []
        self._acks_to_deliver: list[BackendAck] = []
        self._connack_seen = False
        self._session_up = False
        self._ready: list[tuple[int, int, str]] = []
        self._inflight: dict[str, float] = {}
        self._late_reported: set[str] = set()
        self._seen_acks: collections.OrderedDict[tuple[str, str], None] = collections.OrderedDict()
        self._seen_commands: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._sub_mid: int | None = None
        self._next_deadline_check = 0.0

    # ------------------------------------------------------------------ contract

    def start(self) -> None:
        """Load the outbox and start the network and worker threads (returns at once)."""
        if self._running.is_set():
            return
        if self._address is None:
            raise ValueError("no broker URL: set backend.url (or let jiayi_backend.broker start a local one)")
        for entry in self._outbox.pending():
            self._remember(entry)
        self._client = self._make_client()
        self._running.set()
        self._state = RelayState.CONNECTING
        for name, target in (("relay-net", self._network_loop), ("relay-worker", self._worker_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        _LOGGER.info("event=relay_start device=%s pending=%d", self._device_id, len(self._pending))

    def stop(self, timeout_s: float = 5.0) -> None:
        """Publish the offline status, disconnect and stop; pending requests stay in the outbox."""
        if not self._running.is_set():
            self._close_outbox()
            return
        done = threading.Event()
        self._events.put(("stop", done, timeout_s))
        done.wait(timeout_s)
        self._running.clear()
        self._wake.set()
        end = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))
        self._threads.clear()
        self._state = RelayState.STOPPED
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
        _LOGGER.info("event=request_queued id=%s type=%s tier=%s", req.request_id, req.request_type, req.tier)

    def status(self) -> RelayStatus:
        depth = 0 if self._closed else self._outbox.depth()
        oldest = self._outbox.oldest_created_at() if depth else None
        age = None if oldest is None else max(0.0, self._clock.now().timestamp() - oldest)
        c = self._counters
        return RelayStatus(
            state=self._state.name,
            connected=self._state == RelayState.ONLINE,
            outbox_depth=depth,
            oldest_pending_age_s=age,
            last_error=self._last_error,
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

    # ------------------------------------------------------------------ paho set-up

    def _make_client(self) -> Any:
        import paho.mqtt.client as mqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"jiayi-{self._device_id}",
            protocol=mqtt.MQTTv5,
        )
        client.on_socket_open = tcp_nodelay
        # Only the network thread may touch the socket: without this, paho writes a publish made on
        # the worker thread straight to the socket while the network thread reads it, and an SSL
        # socket does not survive that ("bad record mac"). The queued packet wakes the loop instead.
        client.on_socket_register_write = lambda *_: None
        client.on_connect = self._guard(self._on_connect)
        client.on_disconnect = self._guard(self._on_disconnect)
        client.on_subscribe = self._guard(self._on_subscribe)
        client.on_message = self._guard(self._on_message)
        client.max_inflight_messages_set(self._tuning.max_in_flight)
        backend = self._settings.backend
        password = backend.password
        if backend.password_file:
            password = Path(backend.password_file).expanduser().read_text("utf-8").strip()
        if backend.username:
            client.username_pw_set(backend.username, password or None)
        assert self._address is not None
        if self._address.tls:
            tls = backend.tls
            client.tls_set(
                ca_certs=tls.ca_file or None,
                certfile=tls.cert_file or None,
                keyfile=tls.key_file or None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        will_props = Properties(PacketTypes.WILLMESSAGE)
        will_props.WillDelayInterval = self._tuning.will_delay_s
        offline = messages.Status(
            device_id=self._device_id, state=messages.STATE_OFFLINE, version=__version__
        )
        client.will_set(self._topic["status"], offline.to_json(), qos=1, retain=True, properties=will_props)
        return client

    def _guard(self, fn: Callable[..., None]) -> Callable[..., None]:
        def wrapped(*args: Any) -> None:
            try:
                fn(*args)
            except Exception:
                self._counters["callback_errors"] += 1
                _LOGGER.exception("event=callback_error callback=%s", fn.__name__)

        return wrapped

    # paho callbacks: hand over, nothing else.
    def _on_connect(self, _c: Any, _u: Any, _flags: Any, reason_code: Any, _props: Any) -> None:
        self._connack_seen = True
        self._events.put(("connected", bool(reason_code.is_failure), str(reason_code)))

    def _on_disconnect(self, _c: Any, _u: Any, _flags: Any, reason_code: Any, _props: Any) -> None:
        self._events.put(("disconnected", str(reason_code)))

    def _on_subscribe(self, _c: Any, _u: Any, mid: int, reason_codes: Any, _props: Any) -> None:
        self._events.put(
            (
                "subscribed",
                mid,
                [bool(rc.is_failure) for rc in reason_codes],
                [str(rc) for rc in reason_codes],
            )
        )

    def _on_message(self, _c: Any, _u: Any, msg: Any) -> None:
        correlation = getattr(msg.properties, "CorrelationData", None) if msg.properties else None
        self._events.put(("message", msg.topic, bytes(msg.payload), correlation), droppable=True)

    # ------------------------------------------------------------------ network thread

    def _network_loop(self) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        client = self._client
        assert self._address is not None
        failures = 0
        while self._running.is_set():
            if not self._socket_up:
                props = Properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = self._tuning.session_expiry_s
                try:
                    self._state = RelayState.CONNECTING
                    self._connack_seen = False
                    client.connect(
                        self._address.host,
                        self._address.port,
                        keepalive=self._tuning.keepalive_s,
                        clean_start=False,
                        properties=props,
                    )
                    self._socket_up = True
                    self._connect_started = time.monotonic()
                except (OSError, ssl.SSLError, ValueError) as err:
                    self._last_error = _plain_error(err)
                    failures += 1
                    self._backoff(failures)
                    continue
            try:
                rc = client.loop(timeout=NETWORK_LOOP_S)
            except Exception as err:  # a paho or socket error must not end the thread
                self._counters["callback_errors"] += 1
                self._last_error = _plain_error(err)
                rc = mqtt.MQTT_ERR_CONN_LOST
            if rc != mqtt.MQTT_ERR_SUCCESS:
                self._socket_up = False
                if not self._connack_seen:
                    self._last_error = (
                        "the broker closed the connection before accepting it"
                        f" ({mqtt.error_string(rc)}; TLS client certificate refused or expired?)"
                    )
                if not self._running.is_set():
                    break
                if self._state == RelayState.ONLINE:
                    failures = 0
                failures += 1
                self._backoff(failures)
            elif self._state == RelayState.ONLINE:
                failures = 0
            elif (
                self._state == RelayState.CONNECTING
                and time.monotonic() - self._connect_started > CONNECT_TIMEOUT_S
            ):
                self._last_error = "no answer from the broker to CONNECT"
                client.disconnect()
        self._socket_up = False

    def _backoff(self, failures: int) -> None:
        """Exponential backoff with full jitter; wakes early on stop."""
        ceiling = min(self._tuning.backoff_max_s, self._tuning.backoff_min_s * (2 ** min(failures - 1, 16)))
        delay = random.uniform(self._tuning.backoff_min_s / 2, max(self._tuning.backoff_min_s, ceiling))
        if self._state != RelayState.STOPPING:
            self._state = RelayState.BACKING_OFF
        self._wake.wait(delay)

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
                from assistant.link.outbox import OutboxEntry

                self._remember(OutboxEntry(0, request_id, request_type, tier, created_at, payload))
        elif kind == "connected":
            _, failed, reason = event
            if failed:
                self._last_error = f"broker refused the connection: {reason}"
                _LOGGER.warning("event=connect_refused reason=%s", reason)
                return
            self._counters["connects"] += 1
            self._session_up = True
            self._state = RelayState.SUBSCRIBING
            rc, mid = self._client.subscribe([(self._topic["responses"], 1), (self._topic["commands"], 1)])
            self._sub_mid = mid
            _LOGGER.info("event=connected subscribe_rc=%s", rc)
        elif kind == "subscribed":
            _, mid, failures, reasons = event
            if mid != self._sub_mid:
                return
            if any(failures):
                self._last_error = f"subscription refused: {', '.join(reasons)}"
                _LOGGER.warning("event=subscribe_refused reasons=%s", reasons)
                return
            self._state = RelayState.ONLINE
            self._last_error = ""
            self._publish_online()
            # Everything un-acked goes out again now: the broker may have lost it.
            for request_id in list(self._inflight):
                self._requeue(request_id)
        elif kind == "disconnected":
            if self._state not in (RelayState.STOPPING, RelayState.STOPPED):
                self._state = RelayState.BACKING_OFF
            _LOGGER.info("event=disconnected reason=%s", event[1])
            if self._session_up and event[1] not in ("Success", "Normal disconnection"):
                self._last_error = f"connection lost: {event[1]}"  # keeps a refusal's reason otherwise
            self._session_up = False
        elif kind == "health":
            for key, value in event[1].items():
                self._health[str(key)] = (
                    value if value is None or isinstance(value, bool | int | float) else str(value)[:200]
                )
            if self._state == RelayState.ONLINE:
                self._publish_online()

    def _handle_stop(self, done: threading.Event, timeout_s: float) -> None:
        self._state = RelayState.STOPPING
        try:
            if self._socket_up:
                offline = messages.Status(
                    device_id=self._device_id,
                    state=messages.STATE_OFFLINE,
                    version=__version__,
                    health=self._health,
                )
                info = self._client.publish(self._topic["status"], offline.to_json(), qos=1, retain=True)
                info.wait_for_publish(timeout=min(2.0, timeout_s / 2))
            self._client.disconnect()
        except Exception as err:
            _LOGGER.warning("event=stop_publish_failed error=%s", _plain_error(err))
        finally:
            done.set()

    def _publish_online(self) -> None:
        online = messages.Status(
            device_id=self._device_id, state=messages.STATE_ONLINE, version=__version__, health=self._health
        )
        self._client.publish(self._topic["status"], online.to_json(), qos=1, retain=True)

    # -------------------------------------------------------------- outbox bookkeeping

    def _remember(self, entry: Any) -> None:
        self._pending[entry.request_id] = entry
        self._next_order += 1
        self._order[entry.request_id] = entry.seq or (10**12 + self._next_order)
        self._push_ready(entry.request_id)

    def _push_ready(self, request_id: str) -> None:
        entry = self._pending[request_id]
        heapq.heappush(self._ready, (-entry.priority, self._order[request_id], request_id))

    def _forget(self, request_id: str) -> None:
        self._pending.pop(request_id, None)
        self._order.pop(request_id, None)
        self._inflight.pop(request_id, None)
        self._late_reported.discard(request_id)

    def _requeue(self, request_id: str) -> None:
        self._inflight.pop(request_id, None)
        if request_id in self._pending:
            self._push_ready(request_id)

    def _resend_overdue(self) -> None:
        if self._state != RelayState.ONLINE or not self._inflight:
            return
        cutoff = self._clock.monotonic() - self._tuning.resend_after_s
        for request_id, sent in list(self._inflight.items()):
            if sent <= cutoff:
                self._counters["resends"] += 1
                self._requeue(request_id)

    def _pump(self) -> None:
        """Publish ready requests, emergencies first, while the in-flight window has room."""
        if self._state != RelayState.ONLINE:
            return
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        while self._ready and len(self._inflight) < self._tuning.max_in_flight:
            _, _, request_id = heapq.heappop(self._ready)
            entry = self._pending.get(request_id)
            if entry is None or request_id in self._inflight:
                continue
            props = Properties(PacketTypes.PUBLISH)
            props.ResponseTopic = self._topic["responses"]
            props.CorrelationData = request_id.encode()
            props.ContentType = "application/json"
            info = self._client.publish(self._topic["requests"], entry.payload, qos=1, properties=props)
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

    def _handle_message(self, topic: str, payload: bytes, correlation: bytes | None) -> None:
        try:
            message = messages.from_json(payload)
        except messages.ProtocolError as err:
            self._counters["rejected"] += 1
            _LOGGER.warning("event=message_rejected topic=%s reason=%s", topic, err)
            return
        if message.device_id != self._device_id:
            self._counters["rejected"] += 1
            _LOGGER.warning("event=message_rejected topic=%s reason=wrong device id", topic)
            return
        if topic == self._topic["responses"] and isinstance(message, messages.Ack):
            if correlation is not None and correlation != message.request_id.encode():
                self._counters["rejected"] += 1
                _LOGGER.warning("event=ack_rejected reason=correlation data does not match")
                return
            self._handle_ack(message)
        elif topic == self._topic["commands"] and isinstance(message, messages.COMMAND_CLASSES):
            self._handle_command(message)
        else:
            self._counters["rejected"] += 1
            _LOGGER.warning(
                "event=message_rejected topic=%s reason=type %s not allowed here", topic, message.TYPE
            )

    def _handle_ack(self, ack: messages.Ack) -> None:
        key = (ack.request_id, ack.status)
        was_pending = ack.request_id in self._pending
        if was_pending:
            self._acked_ids.append(ack.request_id)
            self._forget(ack.request_id)
        if key in self._seen_acks or (not was_pending and ack.status == messages.ACK_RECEIVED):
            self._counters["duplicate_acks"] += 1
            return
        _remember_id(self._seen_acks, key)
        _LOGGER.info("event=ack id=%s status=%s", ack.request_id, ack.status)
        self._acks_to_deliver.append(BackendAck(ack.request_id, ack.status, ack.text))

    def _flush_acks(self) -> None:
        """Delete acked requests in one transaction, then tell the dialogue."""
        if self._acked_ids:
            self._outbox.remove_many(self._acked_ids)
            self._acked_ids = []
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
            self._deliver(BackendSay(command.text, command.message_id))
            return
        if isinstance(command, messages.Ping):
            pong = messages.Pong(device_id=self._device_id, ping_id=command.message_id)
            self._client.publish(self._topic["events"], pong.to_json(), qos=1)
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


def _plain_error(err: BaseException) -> str:
    if isinstance(err, ssl.SSLCertVerificationError):
        return f"TLS certificate problem: {err.verify_message or err}"
    if isinstance(err, ssl.SSLError):
        return f"TLS problem: {err.reason or err}"
    if isinstance(err, ConnectionRefusedError):
        return "broker refused the TCP connection (not running?)"
    if isinstance(err, OSError):
        return f"network problem: {err.strerror or err}"
    return str(err) or type(err).__name__
