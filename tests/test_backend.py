"""Reference backend: dedup by message id, shared-subscription load sharing, sessions, CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mqtt_helpers import RawClient, make_settings, start_broker, start_relay, wait_until

from assistant import cli
from assistant.conversation.actions import BackendAck, SendRequest
from assistant.link import protocol as m
from jiayi_backend.broker import LocalBroker
from jiayi_backend.service import DemoPolicy, ReferenceBackend, progress_text

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalBroker]:
    b = start_broker(tmp_path / "broker", persistence=False)
    yield b
    b.stop()


def _props(response_topic: str, correlation: bytes):
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = response_topic
    props.CorrelationData = correlation
    return props


def test_duplicates_are_stored_once_and_acked_every_time_on_the_senders_topic(tmp_path: Path, broker) -> None:
    be = ReferenceBackend(broker.url, tmp_path / "be.sqlite3")
    be.start()
    device = RawClient(broker.port, "dev-1-raw")
    device.subscribe("jiayi/v1/+/responses")
    req = m.Request(device_id="dev-1", request_type="call_doctor", slots={"doctor": "Dr. Chen"})
    for response_topic in ["jiayi/v1/dev-1/responses"] * 2 + [
        "jiayi/v1/dev-2/responses"
    ]:  # last one: spoofed
        device.publish(
            "jiayi/v1/dev-1/requests", req.to_json(), _props(response_topic, req.message_id.encode())
        )
    wait_until(lambda: len(device.payloads()) == 3, what="three acks")
    assert device.payloads("jiayi/v1/dev-2/responses") == []
    acks = [m.Ack.from_json(p) for p in device.payloads()]
    assert {a.request_id for a in acks} == {req.message_id}
    assert all(msg.properties.CorrelationData == req.message_id.encode() for msg in device.messages)
    assert be.store.count() == 1
    (name,) = be.counts()
    assert name.startswith("jiayi-backend-") and be.counts()[name] == {"stored": 1, "duplicates": 2}
    # Invalid payloads and a device id that does not match the topic are refused, not stored.
    device.publish("jiayi/v1/dev-1/requests", b"{oops")
    device.publish("jiayi/v1/dev-9/requests", m.Request(device_id="dev-1", request_type="check_in").to_json())
    wait_until(lambda: be.counts()[name].get("rejected") == 2, what="rejections counted")
    assert be.store.count() == 1
    device.close()
    be.stop()


def test_two_backends_on_a_shared_subscription_split_the_load_without_duplicates(
    tmp_path: Path, broker
) -> None:
    db = tmp_path / "shared.sqlite3"
    first = ReferenceBackend(broker.url, db, name="be-a")
    second = ReferenceBackend(broker.url, db, name="be-b")
    first.start()
    second.start()
    device = RawClient(broker.port, "load")
    sent = [m.Request(device_id=f"dev-{i % 4}", request_type="check_in") for i in range(200)]
    for req in sent:
        device.client.publish(f"jiayi/v1/{req.device_id}/requests", req.to_json(), qos=1)
    wait_until(lambda: first.store.count() == 200, what="all 200 stored")

    def stored_by_workers() -> int:
        counts = {**first.counts(), **second.counts()}
        return sum(counts[w].get("stored", 0) for w in ("be-a-0", "be-b-0"))

    # A worker commits a batch, then counts and answers it: the counters trail the rows a moment.
    wait_until(lambda: stored_by_workers() >= 200, what="both workers counted their batches")
    counts = {**first.counts(), **second.counts()}
    assert counts["be-a-0"].get("stored", 0) > 20 and counts["be-b-0"].get("stored", 0) > 20
    assert counts["be-a-0"]["stored"] + counts["be-b-0"]["stored"] == 200
    assert not any(c.get("duplicates") for c in counts.values())
    assert sorted(r["message_id"] for r in first.store.rows()) == sorted(r.message_id for r in sent)
    device.close()
    first.stop()
    second.stop()


def test_broker_queues_requests_while_the_backend_is_away(tmp_path: Path, broker) -> None:
    """A worker with a stable id takes its broker session back, with what was queued meanwhile."""
    be = ReferenceBackend(broker.url, tmp_path / "be.sqlite3", worker_id="stable")
    be.start()
    assert [w.name for w in be.workers] == ["jiayi-backend-stable"]
    be.stop()
    device = RawClient(broker.port, "dev-away")
    sent = [m.Request(device_id="dev-1", request_type="medication_missed") for _ in range(5)]
    for req in sent:
        device.publish("jiayi/v1/dev-1/requests", req.to_json())
    again = ReferenceBackend(broker.url, tmp_path / "be.sqlite3", worker_id="stable")
    again.start()
    wait_until(lambda: again.store.count() == 5, what="queued requests delivered")
    device.close()
    again.stop()


def test_progress_text_uses_the_names_the_device_sent() -> None:
    policy = DemoPolicy()
    call = m.Request(device_id="d", request_type="call_doctor", slots={"doctor": "Dr. Chen"})
    assert progress_text(call, policy) == "Dr. Chen's team will call you within 10 minutes."
    contact = m.Request(
        device_id="d", request_type="call_contact", slots={"contact": "Anna"}, call_back_by_phone=True
    )
    assert progress_text(contact, policy) == "I have asked Anna to call you."  # a call already is a call-back
    symptom = m.Request(
        device_id="d", request_type="report_symptom", slots={"symptom": "dizzy"}, call_back_by_phone=True
    )
    assert progress_text(symptom, policy) == (
        "Your doctor's team has your message and will get back to you today. We will call you on the phone."
    )
    zh = m.Request(device_id="d", request_type="call_doctor", slots={"doctor": "陈医生"}, lang="zh")
    assert progress_text(zh, policy).startswith("陈医生")
    for request_type in m.REQUEST_TYPES:
        text = progress_text(m.Request(device_id="d", request_type=request_type), policy)
        assert bool(text) == (request_type != m.REQ_DAILY_SUMMARY)  # the nightly counts are not spoken


def test_cli_requests_and_say(tmp_path: Path, broker, capsys) -> None:
    db = tmp_path / "be.sqlite3"
    be = ReferenceBackend(broker.url, db)
    be.start()
    relay, sink = start_relay(make_settings(broker.url), tmp_path / "dev")
    req = SendRequest("reorder_medication", slots={"medication": "amlodipine"})
    relay.submit(req)
    sink.wait_for(BackendAck)
    assert cli.main(["backend", "requests", "--json", "--db", str(db)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["message_id"], r["request_type"]) for r in rows] == [(req.request_id, "reorder_medication")]
    assert cli.main(["backend", "requests", "--db", str(db)]) == 0
    assert "medication=amlodipine" in capsys.readouterr().out
    assert (
        cli.main(
            [
                "backend",
                "say",
                "--device",
                "dev-1",
                "--url",
                broker.url,
                "Please drink a glass of water and rest for a while.",
            ]
        )
        == 0
    )
    from assistant.conversation.actions import BackendSay

    assert sink.wait_for(BackendSay)[0].text == "Please drink a glass of water and rest for a while."
    assert cli.main(["backend", "say", "--device", "dev-1", "--url", broker.url, ""]) == 2
    assert cli.main(["backend", "requests", "--db", str(tmp_path / "missing.sqlite3")]) == 2
    relay.stop()
    be.stop()


def test_cli_run_serves_until_sigterm(tmp_path: Path, broker) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assistant",
            "backend",
            "run",
            "--url",
            broker.url,
            "--db",
            str(tmp_path / "b.db"),
            "--workers",
            "2",
            "--nobody-answers-emergencies",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("backend ready")
        relay, sink = start_relay(make_settings(broker.url), tmp_path / "dev")
        relay.submit(SendRequest("emergency", tier="emergency"))
        assert [a.status for a in sink.wait_for(BackendAck, 2)] == ["received", "nobody_answered"]
        relay.stop()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--url", "mqtt://[::1"], "--url"),
        (["--url", "mqtts://127.0.0.1:1", "--tls-ca", "/nonexistent/ca.crt"], "--tls-ca"),
        (["--url", "mqtt://127.0.0.1:1", "--tls-ca", "x"], "not mqtts://"),
        (["--password-file", "/nonexistent/pw", "--username", "u"], "--password-file"),
        (["--workers", "2", "--username", "jiayi-backend-a"], "one process per worker"),
        (["--worker-id", "a/b"], "--worker-id"),
        (["--web", "localhost"], "host:port"),
        (["--db", "postgresql://postgres@127.0.0.1:1/none"], "cannot reach PostgreSQL"),
    ],
)
def test_run_refuses_bad_settings_in_one_plain_sentence(tmp_path: Path, capsys, args, problem) -> None:
    assert cli.main(["backend", "run", "--db", str(tmp_path / "b.db"), *args]) == 2
    err = capsys.readouterr().err
    assert problem in err and "Traceback" not in err


def test_another_domains_request_is_acknowledged_with_a_neutral_sentence_the_device_will_speak() -> None:
    from assistant.link.spoken import KnownNames, vet

    policy = DemoPolicy()
    door = m.Request(device_id="d", request_type="unlock_door", tier="confirm", slots={"door": "front"})
    assert progress_text(door, policy) == "Your request has been received."
    zh = m.Request(device_id="d", request_type="lights_on", lang="zh", call_back_by_phone=True)
    assert progress_text(zh, policy) == "您的请求已经收到了。 我们会打电话给您。"
    names = KnownNames.from_settings(make_settings("mqtt://x"))
    assert vet(progress_text(door, policy), names).keys == ("received",)
    assert vet(progress_text(zh, policy), names).text == "您的请求已经收到了。我们会打电话给您。"


def test_another_domains_request_is_open_for_the_team_when_its_tier_is_not_plain(tmp_path: Path) -> None:
    from jiayi_backend.store import RequestStore
    from jiayi_backend.web.app import type_label

    store = RequestStore(tmp_path / "store.sqlite3")
    for request_type, tier in [("unlock_door", "confirm"), ("lights_on", "plain"), ("check_in", "confirm")]:
        req = m.Request(device_id="d", request_type=request_type, tier=tier)
        store.insert(req, req.to_json(), "w")
    assert [r.request_type for r in store.queue()] == ["unlock_door"]  # check_in keeps its own rule
    assert type_label("unlock_door") == "Unlock door" and type_label("call_doctor") == "Call the doctor"
    store.close()
