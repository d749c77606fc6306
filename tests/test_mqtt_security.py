"""TLS (wrong CA, expired client certificate) and the example ACL, against real mosquitto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mqtt_helpers import (
    RawClient,
    make_ca,
    make_cert,
    make_settings,
    mosquitto_passwd,
    start_broker,
    start_relay,
    tls_settings,
    wait_until,
)

from assistant.conversation.actions import BackendAck, BackendSay, SendRequest
from assistant.link import protocol as m
from jiayi_backend.broker import LocalBroker
from jiayi_backend.service import ReferenceBackend

REPO = Path(__file__).resolve().parent.parent
ACL_EXAMPLE = REPO / "docs" / "mosquitto" / "acl.example"

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


ACL_LISTENER = (
    "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {dir}/passwd\n"
    f"acl_file {ACL_EXAMPLE}\n"
)


def test_example_acl_keeps_devices_out_of_each_others_topics(tmp_path: Path) -> None:
    folder = tmp_path / "broker"
    folder.mkdir()
    mosquitto_passwd(folder / "passwd", {"dev-a": "pa", "dev-b": "pb", "jiayi-backend": "pbe"})
    broker = start_broker(folder, persistence=False, listener_conf=ACL_LISTENER)
    be = ReferenceBackend(broker.url, tmp_path / "be.db", username="jiayi-backend", password="pbe")
    be.start()
    relay_a, sink_a = start_relay(
        make_settings(broker.url, "dev-a", username="dev-a", password="pa"), tmp_path / "a"
    )
    relay_b, sink_b = start_relay(
        make_settings(broker.url, "dev-b", username="dev-b", password="pb"), tmp_path / "b"
    )
    wait_until(lambda: relay_a.status().connected and relay_b.status().connected, what="both devices online")

    spy = RawClient(broker.port, "spy", username="dev-a", password="pa")  # dev-a's credentials
    for topic in ("jiayi/v1/dev-b/commands", "jiayi/v1/dev-b/responses", "jiayi/v1/+/requests", "jiayi/v1/#"):
        spy.subscribe(topic)
    forged = m.Request(device_id="dev-b", request_type="emergency", tier="emergency")
    spy.publish("jiayi/v1/dev-b/requests", forged.to_json())  # impersonation attempt

    be.say("dev-b", "Please drink a glass of water and rest for a while.")
    req_b = SendRequest("call_doctor", slots={"doctor": "Dr. Chen"})
    relay_b.submit(req_b)
    assert sink_b.wait_for(BackendSay)[0].text == "Please drink a glass of water and rest for a while."
    assert sink_b.wait_for(BackendAck)[0].request_id == req_b.request_id
    relay_a.submit(SendRequest("check_in"))
    sink_a.wait_for(BackendAck)
    # dev-a saw only its own traffic; the forged request never reached the backend.
    assert all(msg.topic.startswith("jiayi/v1/dev-a/") for msg in spy.messages), [
        x.topic for x in spy.messages
    ]
    assert not sink_a.of(BackendSay)
    assert forged.message_id not in {r["message_id"] for r in be.store.rows()}
    assert be.store.count() == 2

    wrong = start_relay(
        make_settings(broker.url, "dev-c", username="dev-a", password="nope"), tmp_path / "c"
    )[0]
    wait_until(lambda: "refused" in wrong.status().last_error, what="bad password refused")
    for r in (wrong, relay_a, relay_b):
        r.stop()
    spy.close()
    be.stop()
    broker.stop()
