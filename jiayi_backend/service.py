"""Reference family-doctor backend: small but real, and able to run as many workers as needed.

- Each worker is one MQTT 5 client on the shared subscription
  ``$share/jiayi-backend/jiayi/v1/+/requests`` (the broker spreads requests over the workers of
  every process), with ``clean_start=False`` and a session expiry so the broker queues requests
  while all of them are away. A worker that lost the broker tries again every 0.25-1 s (random,
  never growing: an emergency waits on it), each attempt bounded by a 5 s deadline up to the
  broker's CONNACK, and subscribes again on every connect. Client ids are unique per worker:
  ``<name>-<n>`` where the name holds the host and process id unless a stable ``worker_id`` is
  given (then a restarted worker takes its session back, with anything the broker still holds).
- Each request is checked in full (:mod:`jiayi_backend.validation`), stored once in the shared
  store (:mod:`jiayi_backend.store`: SQLite or PostgreSQL, unique per device and message id), then
  acknowledged on the device's own response topic with the correlation data. Duplicates are
  acknowledged again so the device can clear its outbox. paho runs with manual acks: a store
  thread commits whatever arrived meanwhile in one transaction (one disk flush for a batch, so a
  worker keeps up with thousands of requests a second), and only then are the broker's PUBACK and
  the device's ack sent. A request that cannot be stored (database down) is not acknowledged to
  the device: it sends it again.
- A ``kill -9`` of a worker loses nothing: whatever it had not acknowledged, the device resends
  and another worker stores (or finds stored) and acknowledges.
- Commands (say, schedule updates, the doctor page's answers) go out through a connected worker's
  own client to ``jiayi/v1/<device>/...``, so they reach the device whichever worker sends them.
- A demo policy words the acknowledgement per request type and can pretend nobody answers
  emergencies (status ``nobody_answered``) for tests.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import logging
import os
import queue
import random
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from assistant.link import protocol as messages
from assistant.link.protocol import parse_url, tcp_nodelay
from jiayi_backend.db import Database, open_database
from jiayi_backend.store import RequestStore
from jiayi_backend.validation import ParsedRequest, parse_request

_LOGGER = logging.getLogger(__name__)

SHARE_GROUP: Final = "jiayi-backend"
REQUESTS_FILTER: Final = f"$share/{SHARE_GROUP}/{messages.TOPIC_PREFIX}/+/{messages.REQUESTS}"
CLIENT_PREFIX: Final = "jiayi-backend"
SESSION_EXPIRY_S: Final = 3600
START_TIMEOUT_S: Final = 10.0
PUBLISH_TIMEOUT_S: Final = 5.0
COMMAND_EXPIRY_S: Final = 600
RECONNECT_MIN_S: Final = 0.25
RECONNECT_MAX_S: Final = 1.0
"""After a lost connection or a failed connect, a worker waits a random time in this range and
tries again: a short fixed schedule with jitter, never a backoff that grows (an emergency waits
on the worker being back; a refused TCP connect costs nothing)."""
CONNECT_TIMEOUT_S: Final = 5.0
"""One connect attempt, start to CONNACK: TCP connect and TLS handshake (paho's
``connect_timeout``), and a broker that accepted the connection but has not answered CONNECT by
then is left and tried again (paho alone would wait for the keepalive, 30 s)."""
TAKEN_OVER_RETRY_S: Final = 30
"""After another client took this worker's id, wait this long before taking it back."""
SESSION_TAKEN_OVER: Final = 142
STORE_BATCH_MAX: Final = 100
"""Requests stored in one transaction at most (the broker's in-flight window is usually smaller)."""
STORE_STOP_TIMEOUT_S: Final = 5.0
QUICK_DROP_S: Final = 5.0
QUICK_DROPS_MAX: Final = 3
_INSTANCES = itertools.count()


def default_worker_id() -> str:
    """``<host>-<pid>``: unique for every process, so two ``jiayi backend run`` never collide."""
    host = "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())[:40] or "host"
    return f"{host}-{os.getpid()}"


@dataclass(frozen=True)
class BrokerLogin:
    """How a worker proves who it is to the broker (its own password or certificate)."""

    username: str = ""
    password: str = ""
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""

    def apply(self, client: Any, tls: bool) -> None:
        if self.username:
            client.username_pw_set(self.username, self.password or None)
        if tls:
            client.tls_set(
                ca_certs=self.tls_ca or None,
                certfile=self.tls_cert or None,
                keyfile=self.tls_key or None,
                cert_reqs=ssl.CERT_REQUIRED,
            )


@dataclass(frozen=True)
class DemoPolicy:
    """How the demo practice answers."""

    nobody_answers_emergencies: bool = False
    """Answer emergencies with ``nobody_answered`` (the device then starts the phone fallback)."""
    nobody_answered_after_s: float = 0.0
    """Delay before the ``nobody_answered`` status is sent."""
    doctor_name: str = "your doctor"
    """Used when the request does not name the doctor in its slots."""


_PROGRESS_SENTENCE: Final = {
    messages.REQ_CALL_DOCTOR: "call_doctor",
    messages.REQ_CALL_CONTACT: "call_contact",
    messages.REQ_EMERGENCY: "emergency",
    messages.REQ_REORDER_MEDICATION: "reorder",
    messages.REQ_MEDICATION_TAKEN: "taken",
    messages.REQ_MEDICATION_MISSED: "missed",
    messages.REQ_REPORT_SYMPTOM: "symptom",
    messages.REQ_BOOK_APPOINTMENT: "appointment_call",
    messages.REQ_CHECK_IN: "check_in",
    messages.REQ_INACTIVITY: "inactivity",
}
"""The protocol's shared sentence (``SPOKEN_SENTENCES``) that acknowledges each request type; a
request type of another command domain (any other identifier) gets the neutral ``received``."""


def progress_text(req: messages.Request, policy: DemoPolicy) -> str:
    """Friendly progress line per request type, using the names the device sent in its slots."""
    slots = req.slots
    doctor = str(slots.get("doctor") or policy.doctor_name)
    contact = str(slots.get("contact") or slots.get("name") or "your contact")
    medication = str(slots.get("medication") or "your medicine")
    zh = req.lang == "zh"
    by_phone = req.call_back_by_phone
    if messages.is_protocol_request_type(req.request_type):
        key = _PROGRESS_SENTENCE.get(req.request_type)
    else:
        key = "received"
    text = (
        messages.SPOKEN_SENTENCES[key][zh].format(doctor=doctor, contact=contact, medication=medication)
        if key
        else ""
    )
    calls = (messages.REQ_EMERGENCY, messages.REQ_CALL_DOCTOR, messages.REQ_CALL_CONTACT)
    if by_phone and req.request_type not in calls:  # a call request already is a call-back
        text += " " + messages.SPOKEN_SENTENCES["by_phone"][zh]
    text = text.strip()
    return text[:1].upper() + text[1:]


def retry_delay() -> float:
    """Seconds before the next connect attempt: uniform in [RECONNECT_MIN_S, RECONNECT_MAX_S]."""
    return random.uniform(RECONNECT_MIN_S, RECONNECT_MAX_S)


def _schedule_retry(client: Any, delay_s: float | None = None) -> None:
    """paho waits ``min_delay`` before its next try and doubles it each time up to ``max_delay``:
    both set to one value, the wait is exactly that value (a fresh jitter each time)."""
    delay = retry_delay() if delay_s is None else delay_s
    client.reconnect_delay_set(min_delay=delay, max_delay=delay)


def make_client(client_id: str, manual_ack: bool = False) -> Any:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    client.on_socket_open = tcp_nodelay
    client.connect_timeout = CONNECT_TIMEOUT_S
    _schedule_retry(client)
    client.max_inflight_messages_set(200)
    return client


def _connect_props(session_expiry_s: int) -> Any:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = session_expiry_s
    return props


def publish_props(correlation: bytes | None = None, expiry_s: int | None = None) -> Any:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    props = Properties(PacketTypes.PUBLISH)
    props.ContentType = "application/json"
    if correlation is not None:
        props.CorrelationData = correlation
    if expiry_s is not None:
        props.MessageExpiryInterval = int(expiry_s)
    return props


class _Worker:
    def __init__(self, backend: ReferenceBackend, name: str) -> None:
        self.backend = backend
        self.name = name
        self.subscribed = threading.Event()
        self.counts: collections.Counter[str] = collections.Counter()
        self.last_error = ""
        self._stopping = False
        self._connected_at = 0.0
        self._quick_drops = 0
        self._attempt = 0
        self._connacked = 0
        self._watchdog: threading.Timer | None = None
        self._incoming: queue.Queue[tuple[Any, ParsedRequest] | None] = queue.Queue()
        self._storer = threading.Thread(target=self._store_loop, name=f"{name}-store", daemon=True)
        self.client = make_client(name, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.client.on_pre_connect = self._on_pre_connect
        self.client.on_connect_fail = self._on_connect_fail
        backend.login.apply(self.client, backend.address.tls)

    def start(self) -> None:
        addr = self.backend.address
        self.client.connect_async(
            addr.host,
            addr.port,
            keepalive=30,
            clean_start=False,
            properties=_connect_props(self.backend.session_expiry_s),
        )
        self._storer.start()
        self.client.loop_start()

    def stop(self) -> None:
        self._stopping = True
        self._disarm_watchdog()
        self.client.disconnect()
        self.client.loop_stop()
        self._incoming.put(None)
        if self._storer.is_alive():
            self._storer.join(STORE_STOP_TIMEOUT_S)

    # -------------------------------------------------------------- connect attempts (paho's thread)

    def _on_pre_connect(self, client: Any, _u: Any) -> None:
        """Each attempt gets a deadline for its CONNACK (every wait has a timeout)."""
        self._attempt += 1
        self._disarm_watchdog()
        timer = threading.Timer(CONNECT_TIMEOUT_S, self._connack_overdue, args=(client, self._attempt))
        timer.daemon = True
        self._watchdog = timer
        timer.start()

    def _disarm_watchdog(self) -> None:
        timer, self._watchdog = self._watchdog, None
        if timer is not None:
            timer.cancel()

    def _connack_overdue(self, client: Any, attempt: int) -> None:
        """Timer thread: no CONNACK for this attempt in time. Shutting the socket down (not closing
        it: paho's thread owns it) makes paho see a lost connection and go on to its next try."""
        if self._stopping or attempt != self._attempt or self._connacked == attempt:
            return
        sock = client.socket()
        if sock is None:  # still in the TCP connect, which has its own timeout
            return
        self.counts["connack_timeouts"] += 1
        self.last_error = f"the broker did not answer CONNECT within {CONNECT_TIMEOUT_S:.0f} s"
        _LOGGER.warning(
            "event=backend_connack_timeout worker=%s timeout_s=%.1f", self.name, CONNECT_TIMEOUT_S
        )
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's, also under TLS
        except OSError:
            pass

    def _on_connect_fail(self, client: Any, _u: Any) -> None:
        """The TCP connect (or TLS handshake) failed: try again soon, on the short schedule."""
        self._disarm_watchdog()
        self.counts["connect_failed"] += 1
        _schedule_retry(client)

    def _on_connect(self, client: Any, _u: Any, _flags: Any, reason_code: Any, _props: Any) -> None:
        self._connacked = self._attempt
        self._disarm_watchdog()
        if reason_code.is_failure:
            self.counts["connect_refused"] += 1
            self.last_error = f"the broker refused the login: {reason_code}"
            _LOGGER.warning("event=backend_connect_refused worker=%s reason=%s", self.name, reason_code)
            return
        self._connected_at = time.monotonic()
        _schedule_retry(client)
        # Always subscribe again, whether or not the broker kept the session ("session present"):
        # a broker restarted without its persistence file has forgotten the subscription, and
        # until it is back every request published meanwhile is dropped (the device resends).
        client.subscribe(REQUESTS_FILTER, qos=1)

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, reason_codes: Any, _props: Any) -> None:
        if all(not rc.is_failure for rc in reason_codes):
            self.subscribed.set()
        else:
            self.counts["subscribe_refused"] += 1
            self.last_error = f"the broker refused the subscription to {REQUESTS_FILTER}"
            _LOGGER.warning(
                "event=backend_subscribe_refused worker=%s reason=%s (does the broker's ACL let this"
                " identity join the %s share group?)",
                self.name,
                ",".join(str(rc) for rc in reason_codes),
                SHARE_GROUP,
            )

    def _on_disconnect(self, client: Any, _u: Any, _flags: Any, reason_code: Any, _props: Any) -> None:
        self.subscribed.clear()
        self._disarm_watchdog()
        if self._stopping:
            return
        # Another client with this client id takes the session over. MQTT 5 brokers may say so
        # (reason 142; mosquitto 2.0 just closes the socket), so connections that keep dying
        # right after they were made count as the same thing.
        lasted = time.monotonic() - self._connected_at
        self._quick_drops = self._quick_drops + 1 if lasted < QUICK_DROP_S else 0
        taken = getattr(reason_code, "value", None) == SESSION_TAKEN_OVER
        if taken or self._quick_drops >= QUICK_DROPS_MAX:
            self.counts["taken_over"] += 1
            self._quick_drops = 0
            _LOGGER.error(
                "event=backend_client_id_taken worker=%s: the broker keeps dropping this worker right after"
                " it connects; another client probably uses the client id %s. Give every worker its own"
                " --worker-id (and, on a locked-down broker, its own identity). Retrying in %d s.",
                self.name,
                self.name,
                TAKEN_OVER_RETRY_S,
            )
            _schedule_retry(client, TAKEN_OVER_RETRY_S)
        else:
            _schedule_retry(client)

    def _on_message(self, client: Any, _u: Any, msg: Any) -> None:
        """paho's thread: check the request, hand it to the store thread (PUBACK comes after the
        store). Anything refused is acknowledged to the broker at once and never stored."""
        try:
            parsed = parse_request(messages.device_id_from_topic(msg.topic), msg.payload)
        except messages.ProtocolError as err:
            self.counts["rejected"] += 1
            _LOGGER.warning("event=backend_rejected worker=%s reason=%s", self.name, err)
            client.ack(msg.mid, msg.qos)
            return
        self._incoming.put((msg, parsed))

    def _store_loop(self) -> None:
        """Store what arrived in batches (one transaction, one disk flush each), then acknowledge:
        the broker's PUBACK and the device's application ack only once the rows are committed."""
        while True:
            first = self._incoming.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < STORE_BATCH_MAX:
                try:
                    item = self._incoming.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._incoming.put(None)
                    break
                batch.append(item)
            self._store_batch(batch)

    def _store_batch(self, batch: list[tuple[Any, ParsedRequest]]) -> None:
        try:
            fresh = self.backend.store.insert_many([(p.request, p.payload) for _m, p in batch], self.name)
        except Exception as err:  # a database outage: no ack, the device sends it again
            self.counts["errors"] += len(batch)
            _LOGGER.warning(
                "event=backend_store_failed worker=%s requests=%d error=%s: %s (not acknowledged; the"
                " devices resend)",
                self.name,
                len(batch),
                type(err).__name__,
                " ".join(str(err).split())[:200],
            )
            for msg, _parsed in batch:
                self.client.ack(msg.mid, msg.qos)  # else the broker's in-flight window fills up
            return
        for (msg, parsed), is_new in zip(batch, fresh, strict=True):
            try:
                self._answer(msg, parsed.request, is_new)
            except Exception as err:  # never let one answer stop the store thread
                self.counts["errors"] += 1
                _LOGGER.warning("event=backend_answer_failed worker=%s error=%s", self.name, err)
            self.client.ack(msg.mid, msg.qos)
        if any(fresh):
            self.backend.notify_new()

    def _answer(self, msg: Any, req: messages.Request, is_new: bool) -> None:
        client = self.client
        self.counts["stored" if is_new else "duplicates"] += 1
        _LOGGER.debug(
            "event=request_%s worker=%s id=%s type=%s",
            "stored" if is_new else "duplicate",
            self.name,
            req.message_id,
            req.request_type,
        )
        # Only ever answer on the sender's own response topic (never where a payload points).
        response_topic = messages.topic(req.device_id, messages.RESPONSES)
        props = msg.properties
        correlation = getattr(props, "CorrelationData", None) if props else None
        correlation = correlation or req.message_id.encode()
        policy = self.backend.policy
        ack = messages.Ack(
            device_id=req.device_id, request_id=req.message_id, text=progress_text(req, policy)
        )
        client.publish(response_topic, ack.to_json(), qos=1, properties=publish_props(correlation))
        if is_new and policy.nobody_answers_emergencies and req.request_type == messages.REQ_EMERGENCY:
            nobody = messages.Ack(
                device_id=req.device_id,
                request_id=req.message_id,
                status=messages.ACK_NOBODY_ANSWERED,
                text="Nobody at the practice answered.",
            )

            def send_nobody() -> None:
                client.publish(response_topic, nobody.to_json(), qos=1, properties=publish_props(correlation))

            if policy.nobody_answered_after_s > 0:
                timer = threading.Timer(policy.nobody_answered_after_s, send_nobody)
                timer.daemon = True
                timer.start()
            else:
                send_nobody()


class CommandError(RuntimeError):
    """A command could not be handed to the broker (no worker connected, or no PUBACK in time)."""


class ReferenceBackend:
    """``workers`` MQTT clients on one shared subscription, one store (SQLite file or PostgreSQL URL)."""

    def __init__(
        self,
        url: str,
        db_path: Path | str | Database,
        *,
        workers: int = 1,
        policy: DemoPolicy | None = None,
        name: str | None = None,
        worker_id: str | None = None,
        session_expiry_s: int = SESSION_EXPIRY_S,
        username: str = "",
        password: str = "",
        tls_ca: str = "",
        tls_cert: str = "",
        tls_key: str = "",
    ) -> None:
        self.url = url
        self.address = parse_url(url)
        self.policy = policy or DemoPolicy()
        self.session_expiry_s = session_expiry_s
        self.login = BrokerLogin(username, password, tls_ca, tls_cert, tls_key)
        self.db_path = db_path if isinstance(db_path, str | Path) else db_path.where
        self._owns_db = isinstance(db_path, str | Path)
        self._db = open_database(db_path) if isinstance(db_path, str | Path) else db_path
        self.store = RequestStore(self._db)
        if name is None:
            worker_id = worker_id or f"{default_worker_id()}-{next(_INSTANCES)}"
            name = f"{CLIENT_PREFIX}-{worker_id}"
        count = max(1, workers)
        names = [name] if count == 1 and worker_id else [f"{name}-{i}" for i in range(count)]
        self.workers = [_Worker(self, n) for n in names]
        self._new_request = threading.Condition()
        self._arrivals = 0

    @property
    def database(self) -> Database:
        return self._db

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Connect all workers; returns when every one has its subscription (TimeoutError if not)."""
        for worker in self.workers:
            worker.start()
        self.wait_subscribed(timeout_s)
        _LOGGER.info("event=backend_start workers=%d url=%s", len(self.workers), self.url)

    def wait_subscribed(self, timeout_s: float = START_TIMEOUT_S) -> None:
        end = time.monotonic() + timeout_s
        for worker in self.workers:
            if not worker.subscribed.wait(max(0.0, end - time.monotonic())):
                why = worker.last_error or "no answer"
                raise TimeoutError(
                    f"backend worker {worker.name} did not subscribe within {timeout_s:.0f} s ({why})"
                )

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self._owns_db:
            self._db.close()

    def counts(self) -> dict[str, dict[str, int]]:
        return {w.name: dict(w.counts) for w in self.workers}

    def connected(self) -> bool:
        return any(w.subscribed.is_set() for w in self.workers)

    # ------------------------------------------------------------------ arrivals (for the page)

    def notify_new(self) -> None:
        with self._new_request:
            self._arrivals += 1
            self._new_request.notify_all()

    def wait_for_arrival(self, seen: int, timeout_s: float) -> int:
        """Block until a request newer than ``seen`` arrived at this process (or the timeout)."""
        with self._new_request:
            self._new_request.wait_for(lambda: self._arrivals != seen, timeout_s)
            return self._arrivals

    # ------------------------------------------------------------------ commands

    def publish(
        self, topic: str, payload: bytes, *, correlation: bytes | None = None, expiry_s: int | None = None
    ) -> None:
        """QoS 1 through a connected worker; returns once the broker has it (CommandError if not)."""
        worker = next((w for w in self.workers if w.subscribed.is_set()), None)
        if worker is None:
            raise CommandError("no worker is connected to the broker right now")
        info = worker.client.publish(
            topic, payload, qos=1, properties=publish_props(correlation, expiry_s=expiry_s)
        )
        try:
            info.wait_for_publish(PUBLISH_TIMEOUT_S)
        except (RuntimeError, ValueError) as err:  # paho: not queued (disconnected, queue full)
            raise CommandError(f"the message could not be sent: {err}") from None
        if not info.is_published():
            raise CommandError("the broker did not confirm the message in time")

    def send_command(self, command: messages.Message, expiry_s: int = COMMAND_EXPIRY_S) -> None:
        """Publish a command to its device (QoS 1, message expiry so it never fires late)."""
        messages.validate_dict(command.to_dict())
        self.publish(
            messages.topic(command.device_id, messages.COMMANDS), command.to_json(), expiry_s=expiry_s
        )

    def send_ack(self, ack: messages.Ack) -> None:
        """A later status of a request (e.g. ``in_progress``) on the device's response topic."""
        messages.validate_dict(ack.to_dict())
        self.publish(
            messages.topic(ack.device_id, messages.RESPONSES),
            ack.to_json(),
            correlation=ack.request_id.encode(),
        )

    def say(
        self, device_id: str, text: str, expiry_s: int = COMMAND_EXPIRY_S, lang: str = ""
    ) -> messages.Say:
        command = say_command(device_id, text, expiry_s, lang)
        self.send_command(command, expiry_s)
        return command


def say_command(device_id: str, text: str, expiry_s: int = COMMAND_EXPIRY_S, lang: str = "") -> messages.Say:
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=expiry_s)
    command = messages.Say(device_id=device_id, text=text, lang=lang, expires_at=messages.iso(expires))
    messages.validate_dict(command.to_dict())  # ProtocolError (a ValueError) for empty/long text, bad id
    return command


def publish_command(
    url: str,
    command: messages.Message,
    expiry_s: int = COMMAND_EXPIRY_S,
    login: BrokerLogin | None = None,
) -> None:
    """One-shot: connect, publish one command, wait for the broker's PUBACK, disconnect."""
    addr = parse_url(url)
    client = make_client(f"jiayi-cmd-{messages.new_message_id()[:8]}")
    (login or BrokerLogin()).apply(client, addr.tls)
    client.connect(addr.host, addr.port, keepalive=30)
    client.loop_start()
    try:
        info = client.publish(
            messages.topic(command.device_id, messages.COMMANDS),
            command.to_json(),
            qos=1,
            properties=publish_props(expiry_s=expiry_s),
        )
        info.wait_for_publish(PUBLISH_TIMEOUT_S)
        if not info.is_published():
            raise TimeoutError("the broker did not confirm the command")
    finally:
        client.disconnect()
        client.loop_stop()
