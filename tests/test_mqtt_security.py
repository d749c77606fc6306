"""TLS (wrong CA, expired client certificate) and the shipped locked-down broker configurations
(docs/mosquitto/), against a real mosquitto: every attack of issue 13 is refused."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mqtt_helpers import (
    RawClient,
    make_ca,
    make_cert,
    make_settings,
    start_broker,
    start_relay,
    tls_settings,
    wait_until,
)

from assistant.conversation.actions import BackendAck, BackendSay, SendRequest
from assistant.link import protocol as m
from assistant.ops.settings import Tls
from jiayi_backend.broker import LocalBroker
from jiayi_backend.broker_access import AccessError, AccessFile
from jiayi_backend.service import ReferenceBackend

REPO = Path(__file__).resolve().parent.parent

TLS_LISTENER = """listener {port} 127.0.0.1
cafile {dir}/pki/ca.crt
certfile {dir}/pki/server.crt
keyfile {dir}/pki/server.key
require_certificate true
use_identity_as_username true
allow_anonymous false
"""


@pytest.fixture
def pki(tmp_path: Path) -> dict:
    folder = tmp_path / "broker" / "pki"
    ca = make_ca(folder, "ca")
    other_ca = make_ca(tmp_path / "other", "other-ca")
    return {
        "ca": ca,
        "other_ca": other_ca,
        "server": make_cert(folder, "server", ca, "localhost", server=True),
        "dev": make_cert(folder, "dev-1", ca, "dev-1"),
        "backend": make_cert(folder, "backend", ca, "jiayi-backend"),
        "expired": make_cert(folder, "expired", ca, "dev-1", expired=True),
    }


@pytest.fixture
def tls_broker(tmp_path: Path, pki: dict) -> Iterator[LocalBroker]:
    b = start_broker(tmp_path / "broker", persistence=False, listener_conf=TLS_LISTENER)
    yield b
    b.stop()


def _url(broker: LocalBroker) -> str:
    return f"mqtts://127.0.0.1:{broker.port}"


def test_mutual_tls_works_with_the_right_certificates(
    tmp_path: Path, pki: dict, tls_broker: LocalBroker
) -> None:
    ca = pki["ca"][0].cert
    be = ReferenceBackend(
        _url(tls_broker),
        tmp_path / "be.db",
        tls_ca=str(ca),
        tls_cert=str(pki["backend"].cert),
        tls_key=str(pki["backend"].key),
    )
    be.start()
    relay, sink = start_relay(tls_settings(_url(tls_broker), "dev-1", ca, pki["dev"]), tmp_path / "dev")
    relay.submit(SendRequest("check_in"))
    assert sink.wait_for(BackendAck)[0].status == "received"
    relay.stop()
    be.stop()


@pytest.mark.parametrize("case", ["wrong_ca", "expired_client_cert", "no_client_cert"])
def test_tls_is_refused(tmp_path: Path, pki: dict, tls_broker: LocalBroker, case: str) -> None:
    ca = pki["ca"][0].cert
    settings = {
        "wrong_ca": tls_settings(_url(tls_broker), "dev-1", pki["other_ca"][0].cert, pki["dev"]),
        "expired_client_cert": tls_settings(_url(tls_broker), "dev-1", ca, pki["expired"]),
        "no_client_cert": tls_settings(_url(tls_broker), "dev-1", ca, None),
    }[case]
    relay, _sink = start_relay(settings, tmp_path / "dev")
    relay.submit(SendRequest("check_in"))
    wait_until(lambda: relay.status().last_error, what="a connection error")
    # Let it try again a few times: it must never get online.
    start = relay.status()
    wait_until(
        lambda: relay.status().last_error and relay.status().state == "BACKING_OFF", what="backing off"
    )
    assert not relay.status().connected and relay.status().connects == 0 and start.outbox_depth == 1
    error = relay.status().last_error.lower()
    if case == "wrong_ca":
        assert "certificate" in error
    relay.stop()


# ---------------------------------------------------------------- the shipped locked-down broker

DYNSEC_PLUGIN = next(iter(sorted(Path("/usr/lib").glob("*/mosquitto_dynamic_security.so"))), None)
OPERATIONAL = (
    "per_listener_settings",
    "set_tcp_nodelay",
    "persistence",
    "autosave",
    "log_",
    "max_",
    "persistent_client_expiration",
)


def shipped_listener(name: str) -> str:
    """The shipped config's security settings, pointed at the test's port, certificates and plugin
    file (LocalBroker adds its own logging and persistence)."""
    text = (REPO / "docs" / "mosquitto" / name).read_text()
    lines = [
        line
        for line in text.splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(OPERATIONAL)
    ]
    conf = "\n".join(lines) + "\n"
    assert "plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so" in conf
    return (
        conf.replace("listener 8883", "listener {port} 127.0.0.1")
        .replace("/etc/mosquitto/certs/", "{dir}/pki/")
        .replace("/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so", str(DYNSEC_PLUGIN))
        .replace("/var/lib/mosquitto/dynamic-security.json", "{dir}/dynamic-security.json")
    )


def connect_outcome(port: int, client_id: str, username: str = "", password: str = "", tls=None) -> str:
    """``accepted`` or why the broker (or the TLS handshake) said no."""
    import paho.mqtt.client as mqtt

    outcome: list[str] = []
    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    client.on_connect = lambda _c, _u, _f, rc, _p: outcome.append(str(rc) if rc.is_failure else "accepted")
    client.on_disconnect = lambda _c, _u, _f, rc, _p: outcome.append(f"disconnected: {rc}")
    if username:
        client.username_pw_set(username, password or None)
    if tls:
        client.tls_set(**tls)
    try:
        client.connect("127.0.0.1", port, keepalive=10)
        end = time.monotonic() + 5
        while not outcome and time.monotonic() < end:
            client.loop(0.05)
    except OSError as err:  # ssl.SSLError included: the handshake refused
        return f"refused: {err}"
    finally:
        client.disconnect()
    return outcome[0] if outcome else "no answer"


@dataclass
class Locked:
    broker: LocalBroker
    backend: ReferenceBackend
    url: str
    creds: dict[str, dict[str, Any]]
    """Per identity: kwargs for RawClient/connect_outcome (username, password, tls)."""
    device: Any

    def raw(self, identity: str, client_id: str) -> RawClient:
        return RawClient(self.broker.port, client_id, **self.creds[identity])


@pytest.fixture(params=["jiayi.conf", "jiayi-passwords.conf"])
def locked(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Locked]:
    if DYNSEC_PLUGIN is None:
        pytest.skip("mosquitto's dynamic-security plugin is not installed")
    certificates = request.param == "jiayi.conf"
    folder = tmp_path / "broker"
    pki = folder / "pki"
    ca = make_ca(pki, "ca")
    make_cert(pki, "server", ca, "localhost", server=True)
    access = AccessFile(folder / "dynamic-security.json")
    creds: dict[str, dict[str, Any]] = {}
    for identity in ("dev-a", "dev-b", "jiayi-backend-w1"):
        tls: dict[str, Any] = {"ca_certs": str(ca[0].cert)}
        password = None
        if certificates:
            cert = make_cert(pki, identity, ca, identity)
            tls.update(certfile=str(cert.cert), keyfile=str(cert.key))
            creds[identity] = {"tls": tls}
        else:
            password = secrets.token_urlsafe(16)
            creds[identity] = {"tls": tls, "username": identity, "password": password}
        if identity.startswith("jiayi-backend"):
            access.add_worker(identity, password)
        else:
            access.add_device(identity, password)
    access.save()
    broker = start_broker(folder, persistence=False, listener_conf=shipped_listener(request.param))
    url = f"mqtts://127.0.0.1:{broker.port}"
    be_creds = creds["jiayi-backend-w1"]
    backend = ReferenceBackend(
        url,
        tmp_path / "be.db",
        worker_id="w1",
        username=be_creds.get("username", ""),
        password=be_creds.get("password", ""),
        tls_ca=str(ca[0].cert),
        tls_cert=be_creds["tls"].get("certfile", ""),
        tls_key=be_creds["tls"].get("keyfile", ""),
    )
    backend.start()

    def device(identity: str, folder_name: str):
        c = creds[identity]
        tls_files = Tls(
            ca_file=c["tls"]["ca_certs"],
            cert_file=c["tls"].get("certfile", ""),
            key_file=c["tls"].get("keyfile", ""),
        )
        settings = make_settings(
            url, identity, tls=tls_files, username=c.get("username", ""), password=c.get("password", "")
        )
        return start_relay(settings, tmp_path / folder_name)

    yield Locked(broker, backend, url, creds, device)
    backend.stop()
    broker.stop()


def test_locked_down_broker_refuses_every_attack(locked: Locked) -> None:
    be = locked.backend
    relay_b, sink_b = locked.device("dev-b", "b")
    wait_until(lambda: relay_b.status().connected, what="dev-b online")
    first = SendRequest("call_doctor", slots={"doctor": "Dr. Chen"})
    relay_b.submit(first)
    assert sink_b.wait_for(BackendAck)[0].request_id == first.request_id  # the legitimate path works

    # Device A, with its own valid credentials, asking for the backend worker's client id.
    spy = locked.raw("dev-a", "jiayi-backend-w1")
    stolen = [
        "jiayi/v1/dev-b/commands",  # B's commands
        "jiayi/v1/dev-b/responses",  # B's answers
        "jiayi/v1/+/requests",  # everyone's requests
        "$share/jiayi-backend/jiayi/v1/+/requests",  # the backend's share group
        "$share/jiayi-backend/jiayi/v1/dev-b/requests",
        "jiayi/v1/#",
        "#",
    ]
    for topic in stolen:
        spy.subscribe(topic)
    assert [rcs[0].is_failure for rcs in spy.subacks] == [True] * len(stolen), spy.subacks
    forged = m.Request(device_id="dev-b", request_type="emergency", tier="emergency")
    spy.publish("jiayi/v1/dev-b/requests", forged.to_json())  # A speaking for B

    # B keeps working through all of it: nothing swallowed, nothing kicked off.
    sent = [SendRequest("check_in") for _ in range(20)]
    for req in sent:
        relay_b.submit(req)
    be.say("dev-b", "Please drink a glass of water and rest for a while.")
    assert sink_b.wait_for(BackendSay)[0].text == "Please drink a glass of water and rest for a while."
    wait_until(lambda: relay_b.status().outbox_depth == 0, what="all of B's requests acknowledged")
    stored = {r["message_id"] for r in be.store.rows()}
    assert {r.request_id for r in sent} | {first.request_id} == stored  # forged one absent
    assert spy.messages == []  # A saw none of B's traffic
    spy.close()

    # A asking for B's client ids.
    for client_id in ("dev-b", "jiayi-dev-b"):
        other = locked.raw("dev-a", client_id)
        other.close()
    assert relay_b.status().connected and relay_b.status().connects == 1
    assert be.counts()["jiayi-backend-w1"].get("taken_over", 0) == 0 and be.connected()
    log = locked.broker.log_path.read_text()
    assert "already connected, closing old connection" not in log.replace("dev-a already", "")
    assert log.count(" as jiayi-backend-w1 ") == 1, "the backend worker was kicked off"

    # No credentials, or wrong ones: refused.
    port = locked.broker.port
    ca_only = {"ca_certs": locked.creds["dev-a"]["tls"]["ca_certs"]}
    assert connect_outcome(port, "anon", tls=ca_only) != "accepted"
    assert connect_outcome(port, "anon-plain") != "accepted"  # no TLS at all
    if "password" in locked.creds["dev-a"]:
        assert (
            connect_outcome(port, "x", "dev-b", locked.creds["dev-a"]["password"], tls=ca_only) != "accepted"
        )
        assert connect_outcome(port, "x", "nobody", "whatever", tls=ca_only) != "accepted"
    assert connect_outcome(port, "ok", **locked.creds["dev-a"]) == "accepted"  # the control

    # And A's own, legitimate traffic still works.
    relay_a, sink_a = locked.device("dev-a", "a")
    own = SendRequest("report_symptom", slots={"symptom": "dizzy"})
    relay_a.submit(own)
    assert sink_a.wait_for(BackendAck)[0].request_id == own.request_id
    assert not sink_a.of(BackendSay)
    for relay in (relay_a, relay_b):
        relay.stop()


def test_access_file_refuses_reserved_and_bad_names(tmp_path: Path) -> None:
    access = AccessFile(tmp_path / "dynsec.json")
    with pytest.raises(AccessError, match="backend's"):
        access.add_device("jiayi-backend-w9", "pw")
    with pytest.raises(AccessError, match="letters"):
        access.add_device("dev/#", "pw")
    with pytest.raises(AccessError, match="jiayi-backend-<name>"):
        access.add_worker("dev-a", "pw")
    access.add_device("dev-a", "pw")
    access.add_device("dev-a", "new")  # replaced, not duplicated
    access.save()
    again = AccessFile(tmp_path / "dynsec.json")
    assert again.usernames() == ["dev-a"]
    assert (tmp_path / "dynsec.json").stat().st_mode & 0o077 == 0
    assert again.remove("dev-a") and not again.remove("dev-a")


def test_access_command_writes_a_file_the_broker_loads(tmp_path: Path, capsys) -> None:
    from assistant import cli

    folder = tmp_path / "broker"
    folder.mkdir()
    secret = folder / "pw"
    secret.write_text("s3cret-s3cret\n")
    dynsec = str(folder / "dynamic-security.json")
    assert cli.main(["backend", "access", dynsec, "add-device", "dev-a", "--password-file", str(secret)]) == 0
    assert cli.main(["backend", "access", dynsec, "add-device", "jiayi-backend-x"]) == 2
    assert "backend's" in capsys.readouterr().err
    listener = (
        "listener {port} 127.0.0.1\nallow_anonymous false\nuse_username_as_clientid true\n"
        f"plugin {DYNSEC_PLUGIN}\nplugin_opt_config_file {dynsec}\n"
    )
    if DYNSEC_PLUGIN is None:
        pytest.skip("mosquitto's dynamic-security plugin is not installed")
    broker = start_broker(folder, persistence=False, listener_conf=listener)
    assert connect_outcome(broker.port, "c", "dev-a", "s3cret-s3cret") == "accepted"
    assert connect_outcome(broker.port, "c", "dev-a", "wrong") != "accepted"
    broker.stop()
