"""Device relay against a real mosquitto and the reference backend: delivery, acks, commands, status."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mqtt_helpers import FAST, Collector, RawClient, make_settings, start_broker, start_relay, wait_until

from assistant.conversation.actions import BackendAck, BackendSay, DeliveryLate, SendRequest
from assistant.link import protocol as m
from assistant.link.relay import Relay, RelayTuning
from assistant.ops.clock import ManualClock
from assistant.ops.settings import Medication
from jiayi_backend.broker import LocalBroker
from jiayi_backend.service import DemoPolicy, ReferenceBackend, say_command


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalBroker]:
    b = start_broker(tmp_path / "broker", persistence=False)
    yield b
    b.stop()


@pytest.fixture
def backend(tmp_path: Path, broker: LocalBroker) -> Iterator[ReferenceBackend]:
    be = ReferenceBackend(
        broker.url, tmp_path / "backend.sqlite3", policy=DemoPolicy(nobody_answers_emergencies=True)
    )
    be.start()
    yield be
    be.stop()


def correlated(request_id: str):
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    props = Properties(PacketTypes.PUBLISH)
    props.CorrelationData = request_id.encode()
    return props


@pytest.fixture
def relay(tmp_path: Path, broker: LocalBroker) -> Iterator[tuple[Relay, Collector]]:
    settings = dataclasses.replace(make_settings(broker.url), medications=(Medication("amlodipine"),))
    r, sink = start_relay(settings, tmp_path / "device")
    wait_until(lambda: r.status().connected, what="relay online")
    yield r, sink
    r.stop()


def test_request_is_stored_once_acked_with_progress_text_and_cleared(backend, relay) -> None:
    r, sink = relay
    req = SendRequest("call_doctor", slots={"doctor": "Dr. Chen"}, tier="confirm", call_back_by_phone=True)
    r.submit(req)
    (ack,) = sink.wait_for(BackendAck)
    assert ack.request_id == req.request_id and ack.status == "received"
    assert ack.text.startswith("Dr. Chen's team will call you within 10 minutes.")
    rows = backend.store.rows()
    assert [row["message_id"] for row in rows] == [req.request_id]
    assert rows[0]["payload"]["call_back_by_phone"] is True
    wait_until(lambda: r.status().outbox_depth == 0, what="outbox cleared")
    status = r.status()
    assert status.state == "ONLINE" and status.oldest_pending_age_s is None and status.last_error == ""


def test_emergency_nobody_answered_is_delivered_after_the_ack(backend, relay) -> None:
    r, sink = relay
    req = SendRequest("emergency", tier="emergency")
    r.submit(req)
    acks = sink.wait_for(BackendAck, 2)
    assert [a.status for a in acks] == ["received", "nobody_answered"]
    assert {a.request_id for a in acks} == {req.request_id}


def test_duplicate_acks_are_ignored(broker, relay) -> None:
    r, sink = relay
    fake_backend = RawClient(broker.port, "fake-backend")
    fake_backend.subscribe("jiayi/v1/+/requests")
    req = SendRequest("check_in")
    r.submit(req)
    wait_until(lambda: fake_backend.payloads(), what="request at the fake backend")
    ack = m.Ack(device_id="dev-1", request_id=req.request_id, text="Thank you for checking in.")
    props = correlated(req.request_id)
    for _ in range(3):
        fake_backend.publish("jiayi/v1/dev-1/responses", ack.to_json(), props)
    progress = m.Ack(device_id="dev-1", request_id=req.request_id, status="in_progress", text="on it")
    fake_backend.publish("jiayi/v1/dev-1/responses", progress.to_json(), props)
    fake_backend.publish("jiayi/v1/dev-1/responses", progress.to_json(), props)
    sink.wait_for(BackendAck, 2)
    wait_until(lambda: r.status().duplicate_acks >= 3, what="duplicates counted")
    acks = sink.of(BackendAck)
    assert [a.status for a in acks] == ["received", "in_progress"]
    assert [a.text for a in acks] == ["Thank you for checking in.", ""]  # "on it" is no known sentence
    fake_backend.close()


def test_commands_say_schedule_ping_and_expired_say_is_dropped(broker, backend, relay) -> None:
    r, sink = relay
    watcher = RawClient(broker.port, "watcher")
    watcher.subscribe("jiayi/v1/dev-1/events")
    expired = m.Say(device_id="dev-1", text="too late", expires_at="2001-01-01T00:00:00+00:00")
    backend.send_command(expired)
    backend.say("dev-1", "Please drink a glass of water and rest for a while.")
    update = m.ScheduleUpdate(device_id="dev-1", medications=[{"name": "amlodipine", "times": ["08:00"]}])
    backend.send_command(update)
    ping = m.Ping(device_id="dev-1")
    backend.send_command(ping)
    (say,) = sink.wait_for(BackendSay)
    assert say.text == "Please drink a glass of water and rest for a while."
    wait_until(lambda: sink.of(m.Ping), what="ping delivered")
    assert sink.of(m.ScheduleUpdate) == [update]  # amlodipine is one of this speaker's medicines
    pong = m.from_json(wait_until(lambda: watcher.payloads(), what="pong")[0])
    assert isinstance(pong, m.Pong) and pong.ping_id == ping.message_id
    assert r.counters()["expired_commands"] == 1
    watcher.close()


def test_malformed_oversized_and_wrong_schema_commands_are_dropped_and_relay_keeps_running(
    broker, relay
) -> None:
    r, sink = relay
    evil = RawClient(broker.port, "evil")
    topic = "jiayi/v1/dev-1/commands"
    good = say_command("dev-1", "Please drink a glass of water and rest for a while.")
    bad_payloads = [
        b"\x00\xffnot json",
        b"{" * 100,
        json.dumps({"schema": "jiayi/v1", "type": "say", "text": "x" * 9000}).encode(),
        json.dumps({"schema": "jiayi/v9", "type": "say"}).encode(),
        m.Ack(device_id="dev-1", request_id=m.new_message_id()).to_json(),  # wrong type for the topic
        m.Say(device_id="dev-2", text="someone else's").to_json(),  # wrong device
        json.dumps({**good.to_dict(), "message_id": "nope"}).encode(),
    ]
    for payload in bad_payloads:
        evil.publish(topic, payload)
    evil.publish("jiayi/v1/dev-1/responses", b"garbage")
    evil.publish(topic, good.to_json())
    (say,) = sink.wait_for(BackendSay)
    assert say.text == "Please drink a glass of water and rest for a while."
    assert r.status().rejected_messages == len(bad_payloads) + 1
    assert r.status().connected and r.status().callback_errors == 0
    evil.close()


def test_retained_status_online_with_health_then_offline_on_stop(tmp_path: Path, broker) -> None:
    r, _sink = start_relay(make_settings(broker.url, "dev-s"), tmp_path / "dev")
    wait_until(lambda: r.status().connected, what="online")
    r.publish_status({"mic": "ok", "disk_free_mb": 900})
    watcher = RawClient(broker.port, "status-watcher")
    watcher.subscribe("jiayi/v1/dev-s/status")

    def last_status() -> m.Status | None:
        payloads = watcher.payloads()
        return m.from_json(payloads[-1]) if payloads else None

    wait_until(lambda: (s := last_status()) and s.health.get("mic") == "ok", what="online status with health")
    assert last_status().state == "online"
    r.stop()
    wait_until(lambda: last_status().state == "offline", what="offline status")
    assert r.status().state == "STOPPED"
    watcher.close()


def test_emergency_jumps_the_queue(tmp_path: Path, broker) -> None:
    settings = make_settings(broker.url, "dev-q")
    relay = Relay(settings, Collector(), state_dir=tmp_path / "dev", tuning=FAST)
    plain = [SendRequest("medication_taken", slots={"medication": "amlodipine"}) for _ in range(5)]
    emergency = SendRequest("emergency", tier="emergency")
    for req in plain:
        relay.submit(req)  # durable even before start (never touches the network)
    relay.submit(emergency)
    assert relay.status().outbox_depth == 6
    be = ReferenceBackend(broker.url, tmp_path / "be.sqlite3")
    be.start()
    relay.start()
    wait_until(lambda: be.store.count() == 6, what="all stored")
    assert be.store.rows()[0]["message_id"] == emergency.request_id
    wait_until(lambda: relay.status().outbox_depth == 0, what="outbox empty")
    relay.stop()
    be.stop()


def test_delivery_late_once_per_request_at_each_tier_deadline_with_manual_clock(tmp_path: Path) -> None:
    clock = ManualClock()
    sink = Collector()
    dead_url = f"mqtt://127.0.0.1:{LocalBroker(tmp_path / 'none').port}"  # nothing listens there
    relay = Relay(make_settings(dead_url), sink, clock=clock, state_dir=tmp_path / "dev", tuning=FAST)
    relay.start()
    emergency = SendRequest("emergency", tier="emergency")
    plain = SendRequest("reorder_medication", slots={"medication": "amlodipine"})
    relay.submit(emergency)
    relay.submit(plain)
    clock.advance(19.0)
    wait_until(lambda: relay.status().last_error, what="connection error reported")
    assert "refused" in relay.status().last_error
    assert sink.of(DeliveryLate) == []
    clock.advance(1.5)
    (late,) = sink.wait_for(DeliveryLate)
    assert late == DeliveryLate(emergency.request_id, "emergency", "emergency")
    clock.advance(600.0)
    sink.wait_for(DeliveryLate, 2)
    clock.advance(600.0)
    wait_until(
        lambda: relay.status().oldest_pending_age_s and relay.status().oldest_pending_age_s > 1200, what="age"
    )
    assert [e.request_id for e in sink.of(DeliveryLate)] == [emergency.request_id, plain.request_id]
    assert relay.status().outbox_depth == 2 and not relay.status().connected
    relay.stop()


def test_deliver_errors_do_not_stop_the_relay(tmp_path: Path, backend, broker) -> None:
    calls: list[object] = []

    def flaky(event: object) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("dialogue bug")

    relay = Relay(make_settings(broker.url, "dev-f"), flaky, state_dir=tmp_path / "dev", tuning=RelayTuning())
    relay.start()
    relay.submit(SendRequest("check_in"))
    relay.submit(SendRequest("check_in"))
    wait_until(lambda: len(calls) == 2, what="both acks delivered")
    assert relay.status().callback_errors == 1
    relay.stop()


def test_submit_refuses_what_the_backend_would_refuse_and_keeps_the_outbox_clean(tmp_path: Path) -> None:
    relay = Relay(make_settings("mqtt://127.0.0.1:1"), Collector(), state_dir=tmp_path / "dev")
    with pytest.raises(m.ProtocolError, match="request_type"):
        relay.submit(SendRequest("Order pizza!"))  # not an identifier (another domain's "order_pizza" is)
    with pytest.raises(m.ProtocolError, match="tier"):
        relay.submit(SendRequest("check_in", tier="urgent"))
    relay.submit(
        SendRequest("check_in", slots={f"k{i}": "v" * 500 for i in range(40)})
    )  # trimmed, not refused
    relay.submit(SendRequest("order_pizza", tier="confirm"))  # another command domain's request
    assert relay.status().outbox_depth == 2
    relay.stop()


def test_ensure_broker_uses_the_configured_url_or_starts_a_private_mosquitto(
    tmp_path: Path, monkeypatch
) -> None:
    from jiayi_backend import broker as broker_mod

    assert broker_mod.ensure_broker("mqtt://example:1883", tmp_path).url == "mqtt://example:1883"
    handle = broker_mod.ensure_broker("", tmp_path)
    try:
        assert handle.broker is not None and handle.broker.running()
        conf = (tmp_path / "broker" / "mosquitto.conf").read_text()
        assert "set_tcp_nodelay true" in conf and "127.0.0.1" in conf
        relay, sink = start_relay(make_settings(handle.url, "dev-local"), tmp_path / "dev")
        wait_until(lambda: relay.status().connected, what="relay on the private broker")
        relay.stop()
    finally:
        handle.stop()
    assert not handle.broker.running()
    monkeypatch.setattr(broker_mod.shutil, "which", lambda _name: None)
    monkeypatch.setattr(broker_mod.os, "access", lambda *_a: False)
    with pytest.raises(broker_mod.BrokerUnavailable, match="apt-get install mosquitto"):
        broker_mod.ensure_broker("", tmp_path / "other")
