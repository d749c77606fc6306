"""The relay's MQTT connection: the paho client, its callbacks, and the network thread.

paho callbacks only put small events on one bounded :class:`EventQueue` (incoming messages are
dropped and counted when it is full, connection events never are); the relay's worker thread
does everything else. The network thread connects, runs paho's loop, and reconnects:

- normally with exponential backoff and full jitter (:data:`~assistant.link.tuning.BACKOFF_MIN_S`
  up to :data:`~assistant.link.tuning.BACKOFF_MAX_S`);
- while an emergency waits for the backend (``urgent()`` is true) on a short fixed schedule
  (:data:`~assistant.link.tuning.URGENT_RETRY_S`), so it goes out within a second or two of the
  broker coming back instead of after a backoff that has grown towards a minute.

A client that cannot even be built (a TLS file or the password file became unreadable after the
config was checked) is not a crash: the reason goes to ``last_error`` (and ``jiayi status``), and
building is retried on the backoff schedule, so a fixed file is picked up without a restart.
"""

from __future__ import annotations

import collections
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from assistant import __version__
from assistant.link import protocol as messages
from assistant.link.protocol import BrokerAddress, tcp_nodelay
from assistant.link.tuning import RelayState, RelayTuning, plain_error
from assistant.ops.settings import Backend

_LOGGER = logging.getLogger(__name__)

NETWORK_LOOP_S: Final = 0.2
"""Longest one paho loop iteration blocks (how fast a stop or an urgent reconnect is noticed)."""


class EventQueue:
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


class Connection:
    """One device's MQTT 5 session with the broker (state read by the worker, written here)."""

    def __init__(
        self,
        backend: Backend,
        address: BrokerAddress,
        tuning: RelayTuning,
        events: EventQueue,
        counters: collections.Counter[str],
        urgent: Callable[[], bool],
    ) -> None:
        self._backend = backend
        self._address = address
        self._tuning = tuning
        self._events = events
        self._counters = counters
        self._urgent = urgent
        self._device_id = backend.device_id
        self.status_topic = messages.topic(self._device_id, messages.STATUS)
        self.state = RelayState.STOPPED
        self.last_error = ""
        self.client: Any = None
        self.socket_up = False
        self._connack_seen = False
        self._connect_started = 0.0
        self._running = threading.Event()
        self._wake = threading.Event()
        self.broker_back_at: float | None = None
        """``time.monotonic()`` of the last successful TCP connect (for the reconnect measurement)."""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._running.set()
        self.state = RelayState.CONNECTING

    def stop(self) -> None:
        self._running.clear()
        self._wake.set()

    def wake(self) -> None:
        """Cut a backoff short (an emergency was just submitted)."""
        self._wake.set()

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
        backend = self._backend
        password = backend.password
        if backend.password_file:
            password = Path(backend.password_file).expanduser().read_text("utf-8").strip()
        if backend.username:
            client.username_pw_set(backend.username, password or None)
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
        client.will_set(self.status_topic, offline.to_json(), qos=1, retain=True, properties=will_props)
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
        failures = [bool(rc.is_failure) for rc in reason_codes]
        self._events.put(("subscribed", mid, failures, [str(rc) for rc in reason_codes]))

    def _on_message(self, _c: Any, _u: Any, msg: Any) -> None:
        correlation = getattr(msg.properties, "CorrelationData", None) if msg.properties else None
        self._events.put(("message", msg.topic, bytes(msg.payload), correlation), droppable=True)

    # ------------------------------------------------------------------ network thread

    def run(self) -> None:
        import paho.mqtt.client as mqtt

        failures = 0
        while self._running.is_set():
            if self.client is None:
                try:
                    self.client = self._make_client()
                except (OSError, ssl.SSLError, ValueError) as err:
                    self.last_error = f"cannot set up the connection: {plain_error(err)}"
                    _LOGGER.error("event=relay_setup_failed reason=%s", self.last_error)
                    failures += 1
                    self._backoff(failures, urgent_ok=False)
                    continue
            if not self.socket_up:
                if not self._connect():
                    failures += 1
                    self._backoff(failures)
                    continue
            try:
                rc = self.client.loop(timeout=NETWORK_LOOP_S)
            except Exception as err:  # a paho or socket error must not end the thread
                self._counters["callback_errors"] += 1
                self.last_error = plain_error(err)
                rc = mqtt.MQTT_ERR_CONN_LOST
            if rc != mqtt.MQTT_ERR_SUCCESS:
                self.socket_up = False
                if not self._connack_seen:
                    self.last_error = (
                        "the broker closed the connection before accepting it"
                        f" ({mqtt.error_string(rc)}; TLS client certificate refused or expired?)"
                    )
                if not self._running.is_set():
                    break
                failures = 1 if self.state == RelayState.ONLINE else failures + 1
                self._backoff(failures)
            elif self.state == RelayState.ONLINE:
                failures = 0
            elif self.state == RelayState.CONNECTING and self._connack_overdue():
                self.last_error = "no answer from the broker to CONNECT"
                self.client.disconnect()
        self.socket_up = False

    def _connect(self) -> bool:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self._tuning.session_expiry_s
        try:
            self.state = RelayState.CONNECTING
            self._connack_seen = False
            self.client.connect(
                self._address.host,
                self._address.port,
                keepalive=self._tuning.keepalive_s,
                clean_start=False,
                properties=props,
            )
        except (OSError, ssl.SSLError, ValueError) as err:
            self.last_error = plain_error(err)
            return False
        self.socket_up = True
        self._connect_started = time.monotonic()
        self.broker_back_at = self._connect_started
        return True

    def _connack_overdue(self) -> bool:
        limit = self._tuning.urgent_connect_timeout_s if self._urgent() else self._tuning.connect_timeout_s
        return time.monotonic() - self._connect_started > limit

    def _backoff(self, failures: int, urgent_ok: bool = True) -> None:
        """Wait before the next try: fixed and short while an emergency waits, else exponential with
        full jitter. Wakes early on stop or when an emergency is submitted."""
        if self.state != RelayState.STOPPING:
            self.state = RelayState.BACKING_OFF
        self._wake.clear()
        if urgent_ok and self._urgent():
            delay = self._tuning.urgent_retry_s
        else:
            low = self._tuning.backoff_min_s
            ceiling = min(self._tuning.backoff_max_s, low * (2 ** min(failures - 1, 16)))
            delay = random.uniform(low / 2, max(low, ceiling))
        started = time.monotonic()
        while self._running.is_set():
            left = started + delay - time.monotonic()
            if left <= 0:
                return
            # Look again every urgent period: an emergency submitted meanwhile must not wait
            # out a backoff that has grown long.
            woke = self._wake.wait(min(left, self._tuning.urgent_retry_s))
            self._wake.clear()
            waited = time.monotonic() - started
            if urgent_ok and self._urgent() and (woke or waited >= self._tuning.urgent_retry_s):
                return
