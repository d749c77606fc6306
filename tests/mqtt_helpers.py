"""Helpers for the MQTT tests: private mosquitto processes, settings, polling, TLS certificates.

Every test gets its own mosquitto on a free port with its own config dir (never the system one
on 1883). Nothing sleeps to wait: :func:`wait_until` polls with a timeout.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.link.protocol import tcp_nodelay
from assistant.link.relay import Relay, RelayTuning
from assistant.ops.settings import Backend, Doctor, Medication, Person, Settings, Tls
from jiayi_backend.broker import LocalBroker, free_port

POLL_S = 0.01
DEFAULT_TIMEOUT_S = 10.0


def wait_until(
    predicate: Callable[[], Any], timeout_s: float = DEFAULT_TIMEOUT_S, what: str = "condition"
) -> Any:
    """Poll ``predicate`` until it is truthy; AssertionError naming ``what`` after ``timeout_s``."""
    end = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout_s:.1f} s waiting for {what}")
        time.sleep(POLL_S)


def start_broker(folder: Path, **kwargs: Any) -> LocalBroker:
    broker = LocalBroker(folder, **kwargs)
    broker.start()
    return broker


def make_settings(url: str, device_id: str = "dev-1", **backend: Any) -> Settings:
    return Settings(
        person=Person("Margaret Lee", "Margaret", "en"),
        doctor=Doctor("Dr. Chen", "+15550100"),
        medications=(Medication("amlodipine"),),  # what the backend may name in what it has said
        backend=Backend(url=url, device_id=device_id, **backend),
    )


FAST = RelayTuning(resend_after_s=1.0, backoff_min_s=0.1, backoff_max_s=0.5, will_delay_s=0)


class Collector:
    """Thread-safe ``deliver`` sink for a Relay."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self._lock = threading.Lock()

    def __call__(self, event: object) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        with self._lock:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, kind: type, count: int = 1, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[Any]:
        wait_until(lambda: len(self.of(kind)) >= count, timeout_s, f"{count} {kind.__name__}")
        return self.of(kind)


def start_relay(
    settings: Settings, state_dir: Path, tuning: RelayTuning = FAST, **kwargs: Any
) -> tuple[Relay, Collector]:
    sink = Collector()
    relay = Relay(settings, sink, state_dir=state_dir, tuning=tuning, **kwargs)
    relay.start()
    return relay, sink


class RawClient:
    """A plain paho MQTT 5 client (for injecting payloads and watching topics)."""

    def __init__(
        self, url_port: int, client_id: str, username: str = "", password: str = "", tls: dict | None = None
    ) -> None:
        import paho.mqtt.client as mqtt

        self.messages: list[Any] = []
        self.subacks: list[list[Any]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.client.on_socket_open = tcp_nodelay
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda _c, _u, _mid, rcs, _p: self.subacks.append(list(rcs))
        self.connected = threading.Event()
        self.client.on_connect = lambda _c, _u, _f, rc, _p: None if rc.is_failure else self.connected.set()
        if username:
            self.client.username_pw_set(username, password or None)
        if tls:
            self.client.tls_set(**tls)
        self.client.connect("127.0.0.1", url_port, keepalive=30)
        self.client.loop_start()
        wait_until(self.connected.is_set, 5, f"{client_id} connected")

    def _on_message(self, _c: Any, _u: Any, msg: Any) -> None:
        with self._lock:
            self.messages.append(msg)

    def subscribe(self, topic: str) -> None:
        count = len(self.subacks)
        self.client.subscribe(topic, qos=1)
        wait_until(lambda: len(self.subacks) > count, 5, f"SUBACK for {topic}")

    def publish(self, topic: str, payload: bytes, properties: Any = None, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, properties=properties, retain=retain)
        info.wait_for_publish(5)

    def payloads(self, topic: str | None = None) -> list[bytes]:
        with self._lock:
            return [bytes(m.payload) for m in self.messages if topic is None or m.topic == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def mosquitto_passwd(path: Path, users: dict[str, str]) -> None:
    """Write a mosquitto password file with ``mosquitto_passwd -b``."""
    path.unlink(missing_ok=True)
    path.touch()
    for user, password in users.items():
        subprocess.run(
            ["mosquitto_passwd", "-b", str(path), user, password], check=True, capture_output=True, timeout=10
        )


# ---------------------------------------------------------------- TLS certificates


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path


def _key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _write(folder: Path, name: str, cert: Any, key: Any) -> CertFiles:
    from cryptography.hazmat.primitives import serialization

    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o644)
    return CertFiles(cert_path, key_path)


def make_ca(folder: Path, name: str = "ca") -> tuple[CertFiles, Any, Any]:
    """Self-signed CA; returns (files, certificate object, key object)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Jiayi test {name}")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    return _write(folder, name, cert, key), cert, key


def make_cert(
    folder: Path,
    name: str,
    ca: tuple[CertFiles, Any, Any],
    common_name: str,
    *,
    server: bool = False,
    expired: bool = False,
) -> CertFiles:
    """Leaf certificate signed by ``ca``; ``server`` adds SAN 127.0.0.1/localhost; ``expired`` ends yesterday."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    _files, ca_cert, ca_key = ca
    key = _key()
    now = dt.datetime.now(dt.UTC)
    start, end = (
        (now - dt.timedelta(days=10), now - dt.timedelta(days=1))
        if expired
        else (now - dt.timedelta(days=1), now + dt.timedelta(days=30))
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return _write(folder, name, builder.sign(ca_key, hashes.SHA256()), key)


def tls_settings(url: str, device_id: str, ca: Path, cert: CertFiles | None) -> Settings:
    tls = Tls(
        ca_file=str(ca), cert_file=str(cert.cert) if cert else "", key_file=str(cert.key) if cert else ""
    )
    return make_settings(url, device_id, tls=tls)


__all__ = [
    "FAST",
    "CertFiles",
    "Collector",
    "RawClient",
    "free_port",
    "make_ca",
    "make_cert",
    "make_settings",
    "mosquitto_passwd",
    "start_broker",
    "start_relay",
    "tls_settings",
    "wait_until",
]
