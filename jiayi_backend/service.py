"""Reference family-doctor backend: small but real.

- N workers, each its own MQTT 5 client, on the shared subscription
  ``$share/jiayi-backend/jiayi/v1/+/requests`` (the broker spreads requests over them), with
  ``clean_start=False`` and a session expiry so the broker queues requests while they are away.
- Each request is validated, then stored in SQLite keyed by its message id (``INSERT OR IGNORE``:
  a resend or broker redelivery is stored once), then acknowledged on the device's response topic
  with the correlation data. Duplicates are acknowledged again so the device can clear its outbox.
  Storing happens inside paho's message callback on purpose: paho sends the PUBACK only after the
  callback returns, so the broker keeps a request until it is on disk.
- A demo policy words the acknowledgement per request type ("Dr. Chen's team will call you within
  10 minutes.") and can pretend nobody answers emergencies (status ``nobody_answered``) for tests.
- :meth:`ReferenceBackend.say` and :func:`publish_command` send commands to a device.
"""

from __future__ import annotations

import collections
import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from assistant.link import protocol as messages
from assistant.link.protocol import parse_url, tcp_nodelay

_LOGGER = logging.getLogger(__name__)

SHARE_GROUP: Final = "jiayi-backend"
REQUESTS_FILTER: Final = f"$share/{SHARE_GROUP}/{messages.TOPIC_PREFIX}/+/{messages.REQUESTS}"
SESSION_EXPIRY_S: Final = 3600
START_TIMEOUT_S: Final = 10.0
PUBLISH_TIMEOUT_S: Final = 5.0
COMMAND_EXPIRY_S: Final = 600
BUSY_TIMEOUT_MS: Final = 10000
RECONNECT_MIN_S: Final = 0.2
RECONNECT_MAX_S: Final = 5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    message_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    request_type TEXT NOT NULL,
    tier TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    received_at REAL NOT NULL,
    worker TEXT NOT NULL,
    payload TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class DemoPolicy:
    """How the demo practice answers."""

    nobody_answers_emergencies: bool = False
    """Answer emergencies with ``nobody_answered`` (the device then starts the phone fallback)."""
    nobody_answered_after_s: float = 0.0
    """Delay before the ``nobody_answered`` status is sent."""
    doctor_name: str = "your doctor"
    """Used when the request does not name the doctor in its slots."""


def progress_text(req: messages.Request, policy: DemoPolicy) -> str:
    """Friendly progress line per request type, using the names the device sent in its slots."""
    slots = req.slots
    doctor = str(slots.get("doctor") or policy.doctor_name)
    contact = str(slots.get("contact") or slots.get("name") or "your contact")
    medication = str(slots.get("medication") or "your medicine")
    zh = req.lang == "zh"
    by_phone = req.call_back_by_phone
    texts_en = {
        messages.REQ_CALL_DOCTOR: f"{doctor}'s team will call you within 10 minutes.",
        messages.REQ_CALL_CONTACT: f"I have asked {contact} to call you.",
        messages.REQ_EMERGENCY: "Help is on the way. The practice has your alert.",
        messages.REQ_REORDER_MEDICATION: f"Your {medication} has been reordered.",
        messages.REQ_MEDICATION_TAKEN: f"Thank you. I noted that you took {medication}.",
        messages.REQ_MEDICATION_MISSED: f"{doctor}'s team knows you missed {medication}.",
        messages.REQ_REPORT_SYMPTOM: f"{doctor}'s team has your message and will get back to you today.",
        messages.REQ_BOOK_APPOINTMENT: f"{doctor}'s team will call you to book the appointment.",
        messages.REQ_CHECK_IN: "Thank you for checking in.",
        messages.REQ_INACTIVITY: "Your family has been told.",
    }
    texts_zh = {
        messages.REQ_CALL_DOCTOR: f"{doctor}的团队会在十分钟内给您打电话。",
        messages.REQ_CALL_CONTACT: f"我已经请{contact}给您打电话。",
        messages.REQ_EMERGENCY: "已经通知诊所，马上有人来帮您。",
        messages.REQ_REORDER_MEDICATION: f"{medication}已经重新订购了。",
        messages.REQ_MEDICATION_TAKEN: f"好的，已记录您吃了{medication}。",
        messages.REQ_MEDICATION_MISSED: f"{doctor}的团队知道您漏服了{medication}。",
        messages.REQ_REPORT_SYMPTOM: f"{doctor}的团队收到了，今天会回复您。",
        messages.REQ_BOOK_APPOINTMENT: f"{doctor}的团队会打电话给您约时间。",
        messages.REQ_CHECK_IN: "谢谢您报平安。",
        messages.REQ_INACTIVITY: "已经通知您的家人。",
    }
    text = (texts_zh if zh else texts_en).get(req.request_type, "")
    calls = (messages.REQ_EMERGENCY, messages.REQ_CALL_DOCTOR, messages.REQ_CALL_CONTACT)
    if by_phone and req.request_type not in calls:  # a call request already is a call-back
        text += " 我们会打电话给您。" if zh else " We will call you on the phone."
    text = text.strip()
    return text[:1].upper() + text[1:]


class RequestStore:
    """SQLite store of requests, one row per message id (safe to share between processes)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def insert(self, req: messages.Request, payload: bytes, worker: str) -> bool:
        """Store once; False when this message id is already stored (a duplicate)."""
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    req.message_id,
                    req.device_id,
                    req.request_type,
                    req.tier,
                    req.sent_at,
                    time.time(),
                    worker,
                    payload.decode(),
                ),
            )
            return cur.rowcount == 1

    def rows(self) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute(
                "SELECT message_id, device_id, request_type, tier, sent_at, received_at, worker, payload"
                " FROM requests ORDER BY received_at, rowid"
            )
            names = [d[0] for d in cur.description]
            out = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        for row in out:
            row["payload"] = json.loads(row["payload"])
        return out

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM requests").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _make_client(client_id: str, clean_start_props: bool = True) -> Any:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    client.on_socket_open = tcp_nodelay
    client.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=RECONNECT_MAX_S)  # type: ignore[arg-type]
    client.max_inflight_messages_set(200)
    return client


def _connect_props(session_expiry_s: int) -> Any:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = session_expiry_s
    return props


def _publish_props(correlation: bytes | None = None, expiry_s: int | None = None) -> Any:
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
        self.store = RequestStore(backend.db_path)
        self.subscribed = threading.Event()
        self.counts: collections.Counter[str] = collections.Counter()
        self.client = _make_client(name)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        backend.configure_auth(self.client)

    def start(self) -> None:
        addr = self.backend.address
        self.client.connect_async(
            addr.host,
            addr.port,
            keepalive=30,
            clean_start=False,
            properties=_connect_props(self.backend.session_expiry_s),
        )
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.store.close()

    def _on_connect(self, client: Any, _u: Any, _flags: Any, reason_code: Any, _props: Any) -> None:
        if reason_code.is_failure:
            _LOGGER.warning("event=backend_connect_refused worker=%s reason=%s", self.name, reason_code)
            return
        client.subscribe(REQUESTS_FILTER, qos=1)

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, reason_codes: Any, _props: Any) -> None:
        if all(not rc.is_failure for rc in reason_codes):
            self.subscribed.set()
        else:
            _LOGGER.warning("event=backend_subscribe_refused worker=%s", self.name)

    def _on_disconnect(self, *_args: Any) -> None:
        self.subscribed.clear()

    def _on_message(self, client: Any, _u: Any, msg: Any) -> None:
        try:
            self._handle(client, msg)
        except Exception:
            self.counts["errors"] += 1
            _LOGGER.exception("event=backend_message_error worker=%s", self.name)

    def _handle(self, client: Any, msg: Any) -> None:
        topic_device = messages.device_id_from_topic(msg.topic)
        try:
            req = messages.Request.from_json(msg.payload)
        except messages.ProtocolError as err:
            self.counts["rejected"] += 1
            _LOGGER.warning("event=backend_rejected worker=%s reason=%s", self.name, err)
            return
        if req.device_id != topic_device:
            self.counts["rejected"] += 1
            _LOGGER.warning(
                "event=backend_rejected worker=%s reason=device id does not match topic", self.name
            )
            return
        is_new = self.store.insert(req, bytes(msg.payload), self.name)
        self.counts["stored" if is_new else "duplicates"] += 1
        _LOGGER.debug(
            "event=request_%s worker=%s id=%s type=%s",
            "stored" if is_new else "duplicate",
            self.name,
            req.message_id,
            req.request_type,
        )
        # Only ever answer on the sender's own response topic (never where a payload points).
        own_responses = messages.topic(req.device_id, messages.RESPONSES)
        props = msg.properties
        response_topic = getattr(props, "ResponseTopic", None) if props else None
        if response_topic != own_responses:
            response_topic = own_responses
        correlation = getattr(props, "CorrelationData", None) if props else None
        correlation = correlation or req.message_id.encode()
        policy = self.backend.policy
        ack = messages.Ack(
            device_id=req.device_id, request_id=req.message_id, text=progress_text(req, policy)
        )
        client.publish(response_topic, ack.to_json(), qos=1, properties=_publish_props(correlation))
        if is_new and policy.nobody_answers_emergencies and req.request_type == messages.REQ_EMERGENCY:
            nobody = messages.Ack(
                device_id=req.device_id,
                request_id=req.message_id,
                status=messages.ACK_NOBODY_ANSWERED,
                text="Nobody at the practice answered.",
            )

            def send_nobody() -> None:
                client.publish(
                    response_topic, nobody.to_json(), qos=1, properties=_publish_props(correlation)
                )

            if policy.nobody_answered_after_s > 0:
                timer = threading.Timer(policy.nobody_answered_after_s, send_nobody)
                timer.daemon = True
                timer.start()
            else:
                send_nobody()


class ReferenceBackend:
    """``workers`` MQTT clients on one shared subscription, one SQLite store."""

    def __init__(
        self,
        url: str,
        db_path: Path,
        *,
        workers: int = 1,
        policy: DemoPolicy | None = None,
        name: str = "jiayi-backend",
        session_expiry_s: int = SESSION_EXPIRY_S,
        username: str = "",
        password: str = "",
        tls_ca: str = "",
        tls_cert: str = "",
        tls_key: str = "",
    ) -> None:
        self.url = url
        self.address = parse_url(url)
        self.db_path = Path(db_path)
        self.policy = policy or DemoPolicy()
        self.session_expiry_s = session_expiry_s
        self._auth = (username, password, tls_ca, tls_cert, tls_key)
        self.store = RequestStore(self.db_path)
        self.workers = [_Worker(self, f"{name}-{i}") for i in range(max(1, workers))]
        self._command_client: Any = None

    def configure_auth(self, client: Any) -> None:
        import ssl

        username, password, ca, cert, key = self._auth
        if username:
            client.username_pw_set(username, password or None)
        if self.address.tls:
            client.tls_set(
                ca_certs=ca or None, certfile=cert or None, keyfile=key or None, cert_reqs=ssl.CERT_REQUIRED
            )

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
                raise TimeoutError(f"backend worker {worker.name} did not subscribe within {timeout_s:.0f} s")

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self._command_client is not None:
            self._command_client.disconnect()
            self._command_client.loop_stop()
        self.store.close()

    def counts(self) -> dict[str, dict[str, int]]:
        return {w.name: dict(w.counts) for w in self.workers}

    def send_command(self, command: messages.Message, expiry_s: int = COMMAND_EXPIRY_S) -> None:
        """Publish a command to its device (QoS 1, message expiry so it never fires late)."""
        if self._command_client is None:
            client = _make_client(f"{self.workers[0].name}-commands")
            self.configure_auth(client)
            client.connect(self.address.host, self.address.port, keepalive=30)
            client.loop_start()
            self._command_client = client
        info = self._command_client.publish(
            messages.topic(command.device_id, messages.COMMANDS),
            command.to_json(),
            qos=1,
            properties=_publish_props(expiry_s=expiry_s),
        )
        info.wait_for_publish(PUBLISH_TIMEOUT_S)

    def say(self, device_id: str, text: str, expiry_s: int = COMMAND_EXPIRY_S) -> messages.Say:
        command = say_command(device_id, text, expiry_s)
        self.send_command(command, expiry_s)
        return command


def say_command(device_id: str, text: str, expiry_s: int = COMMAND_EXPIRY_S, lang: str = "") -> messages.Say:
    import datetime as dt

    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=expiry_s)
    command = messages.Say(device_id=device_id, text=text, lang=lang, expires_at=messages.iso(expires))
    messages.validate_dict(command.to_dict())  # ProtocolError (a ValueError) for empty/long text, bad id
    return command


def publish_command(url: str, command: messages.Message, expiry_s: int = COMMAND_EXPIRY_S) -> None:
    """One-shot: connect, publish one command, wait for the broker's PUBACK, disconnect."""
    addr = parse_url(url)
    client = _make_client(f"jiayi-cmd-{messages.new_message_id()[:8]}")
    if addr.tls:
        import ssl

        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    client.connect(addr.host, addr.port, keepalive=30)
    client.loop_start()
    try:
        info = client.publish(
            messages.topic(command.device_id, messages.COMMANDS),
            command.to_json(),
            qos=1,
            properties=_publish_props(expiry_s=expiry_s),
        )
        info.wait_for_publish(PUBLISH_TIMEOUT_S)
        if not info.is_published():
            raise TimeoutError("the broker did not confirm the command")
    finally:
        client.disconnect()
        client.loop_stop()
