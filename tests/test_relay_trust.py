"""Issue 11.4, device half: nothing from the wire is trusted (real mosquitto, a hand-driven backend).

Each test plays the practice's side with a raw MQTT client and checks what reaches the dialogue:
forged or mismatched acks never do, free text is never spoken, escape and bell characters never
reach a speaker or a terminal, schedule updates name only this speaker's medicines, and hostile
JSON is refused without a traceback.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from mqtt_helpers import Collector, RawClient, make_settings, start_broker, start_relay, wait_until

from assistant.conversation.actions import BackendAck, BackendSay, SendRequest
from assistant.link import protocol as m
from assistant.link.relay import Relay
from assistant.ops.settings import Contact, Medication
from jiayi_backend.broker import LocalBroker

RESPONSES = "jiayi/v1/dev-1/responses"
COMMANDS = "jiayi/v1/dev-1/commands"
WATER = "Please drink a glass of water and rest for a while."


def correlated(data: bytes | str | None):
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    props = Properties(PacketTypes.PUBLISH)
    if data is not None:
        props.CorrelationData = data.encode() if isinstance(data, str) else data
    props.ContentType = "application/json"
    return props


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalBroker]:
    b = start_broker(tmp_path / "broker", persistence=False)
    yield b
    b.stop()


def _settings(url: str):
    return dataclasses.replace(
        make_settings(url),
        contacts=(Contact("Anna", relation="daughter", phone="+15550101", emergency=True),),
        medications=(Medication("amlodipine", aliases=("blood pressure pills",)),),
    )


@pytest.fixture
def practice(broker: LocalBroker) -> Iterator[RawClient]:
    client = RawClient(broker.port, "hand-driven-backend")
    client.subscribe("jiayi/v1/+/requests")
    yield client
    client.close()


@pytest.fixture
def relay(tmp_path: Path, broker: LocalBroker) -> Iterator[tuple[Relay, Collector]]:
    r, sink = start_relay(_settings(broker.url), tmp_path / "device")
    wait_until(lambda: r.status().connected, what="relay online")
    yield r, sink
    r.stop()


def _sent(r: Relay, practice: RawClient, req: SendRequest) -> None:
    r.submit(req)
    wait_until(
        lambda: any(json.loads(p)["message_id"] == req.request_id for p in practice.payloads()),
        what="request at the practice",
    )


def _rejected(r: Relay, count: int) -> None:
    wait_until(lambda: r.status().rejected_messages >= count, what=f"{count} rejected")


def test_forged_nobody_answered_for_an_id_never_sent_reaches_nobody(relay, practice) -> None:
    r, sink = relay
    forged = m.Ack(device_id="dev-1", request_id=m.new_message_id(), status="nobody_answered")
    practice.publish(RESPONSES, forged.to_json())  # no correlation data
    practice.publish(RESPONSES, forged.to_json(), correlated(forged.request_id))  # id never sent
    _rejected(r, 2)
    real = SendRequest("check_in")
    _sent(r, practice, real)
    practice.publish(
        RESPONSES, m.Ack(device_id="dev-1", request_id=real.request_id).to_json(), correlated(real.request_id)
    )
    sink.wait_for(BackendAck)
    assert [a.request_id for a in sink.of(BackendAck)] == [real.request_id]
    assert r.status().rejected_messages == 2


def test_ack_needs_matching_correlation_and_the_exact_id(relay, practice) -> None:
    r, sink = relay
    req = SendRequest("emergency", tier="emergency")
    _sent(r, practice, req)
    upper = m.Ack(device_id="dev-1", request_id=req.request_id.upper(), status="nobody_answered")
    practice.publish(RESPONSES, upper.to_json(), correlated(upper.request_id))
    wrong = m.Ack(device_id="dev-1", request_id=req.request_id, status="nobody_answered")
    practice.publish(RESPONSES, wrong.to_json(), correlated(m.new_message_id()))
    practice.publish(RESPONSES, wrong.to_json())
    _rejected(r, 3)
    assert sink.of(BackendAck) == [] and r.status().outbox_depth == 1  # still waiting, still resent


def test_outcomes_after_received_count_and_nothing_after_the_final_one(relay, practice) -> None:
    r, sink = relay
    req = SendRequest("emergency", tier="emergency")
    _sent(r, practice, req)
    props = correlated(req.request_id)
    for status in ("received", "in_progress", "nobody_answered"):
        practice.publish(
            RESPONSES, m.Ack(device_id="dev-1", request_id=req.request_id, status=status).to_json(), props
        )
    sink.wait_for(BackendAck, 3)
    late = m.Ack(device_id="dev-1", request_id=req.request_id, status="done")
    practice.publish(RESPONSES, late.to_json(), props)  # after the final outcome: not awaited any more
    _rejected(r, 1)
    assert [a.status for a in sink.of(BackendAck)] == ["received", "in_progress", "nobody_answered"]


def test_a_later_outcome_is_accepted_after_a_restart(tmp_path: Path, broker, practice) -> None:
    r, sink = start_relay(_settings(broker.url), tmp_path / "device")
    wait_until(lambda: r.status().connected, what="online")
    req = SendRequest("emergency", tier="emergency")
    _sent(r, practice, req)
    practice.publish(
        RESPONSES, m.Ack(device_id="dev-1", request_id=req.request_id).to_json(), correlated(req.request_id)
    )
    sink.wait_for(BackendAck)
    wait_until(lambda: r.status().outbox_depth == 0, what="outbox cleared")
    r.stop()
    r2, sink2 = start_relay(_settings(broker.url), tmp_path / "device")
    try:
        wait_until(lambda: r2.status().connected, what="online again")
        nobody = m.Ack(device_id="dev-1", request_id=req.request_id, status="nobody_answered")
        practice.publish(RESPONSES, nobody.to_json(), correlated(req.request_id))
        (ack,) = sink2.wait_for(BackendAck)
        assert ack.status == "nobody_answered"
    finally:
        r2.stop()


def test_rejected_ack_free_text_is_not_spoken(relay, practice) -> None:
    r, sink = relay
    req = SendRequest("call_doctor", slots={"doctor": "Dr. Chen"}, tier="confirm")
    _sent(r, practice, req)
    rejected = m.Ack(
        device_id="dev-1", request_id=req.request_id, status="rejected", text="Rejected. Call 555-0199 now!"
    )
    practice.publish(RESPONSES, rejected.to_json(), correlated(req.request_id))
    (ack,) = sink.wait_for(BackendAck)
    assert ack.status == "rejected" and ack.text == ""


def test_known_sentences_are_spoken_rebuilt_without_control_characters(relay, practice) -> None:
    r, sink = relay
    evil = "Please drink a glass\x07 of water\x1b and rest for a while.\r\n"
    practice.publish(COMMANDS, m.Say(device_id="dev-1", text=evil).to_json())
    practice.publish(COMMANDS, m.Say(device_id="dev-1", text="\x1b[2JCall 555-0199 now").to_json())
    practice.publish(COMMANDS, m.Say(device_id="dev-1", text="I have asked Mallory to call you.").to_json())
    practice.publish(COMMANDS, m.Say(device_id="dev-1", text="I have asked Anna to call you.").to_json())
    sink.wait_for(BackendSay, 2)
    _rejected(r, 2)
    assert [s.text for s in sink.of(BackendSay)] == [WATER, "I have asked Anna to call you."]


def test_schedule_update_only_for_known_medicines(relay, practice) -> None:
    r, sink = relay
    unknown = m.ScheduleUpdate(device_id="dev-1", medications=[{"name": "warfarin", "times": ["09:00"]}])
    mixed = m.ScheduleUpdate(
        device_id="dev-1",
        medications=[
            {"name": "Blood Pressure Pills", "times": ["09:05", "21:00"]},
            {"name": "warfarin", "times": ["09:00"]},
        ],
    )
    practice.publish(COMMANDS, unknown.to_json())
    practice.publish(COMMANDS, mixed.to_json())
    (update,) = sink.wait_for(m.ScheduleUpdate)
    assert update.message_id == mixed.message_id
    assert update.medications == [{"name": "amlodipine", "times": ["09:05", "21:00"]}]
    _rejected(r, 1)


def test_hostile_json_is_refused_without_a_traceback(relay, practice, caplog) -> None:
    r, sink = relay
    good = m.Say(device_id="dev-1", text=WATER).to_dict()
    hostile = [
        json.dumps({**good, "message_id": m.new_message_id()})
        .replace('"say"', '"say", "type": "say"')
        .encode(),
        json.dumps({**good, "lang": float("nan"), "message_id": m.new_message_id()}).encode(),
        json.dumps({**good, "message_id": m.new_message_id(), "text": "\ud800"}).encode(),
        b"[" * 4000 + b"]" * 4000,
        json.dumps({**good, "message_id": m.new_message_id(), "x": 10**40}).encode(),
    ]
    caplog.set_level(logging.WARNING)
    for payload in hostile:
        practice.publish(COMMANDS, payload)
    _rejected(r, len(hostile))
    practice.publish(COMMANDS, m.Say(device_id="dev-1", text=WATER).to_json())
    sink.wait_for(BackendSay)
    assert r.status().callback_errors == 0
    assert not [rec for rec in caplog.records if rec.exc_info], "a traceback was logged"


def test_a_tls_file_broken_after_check_config_is_a_status_line_not_a_crash(tmp_path: Path) -> None:
    """check-config loads the TLS files; one replaced afterwards must not crash-loop the daemon."""
    from assistant.ops.settings import Tls

    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    settings = make_settings("mqtts://127.0.0.1:1", tls=Tls(ca_file=str(bad)))
    r, _sink = start_relay(settings, tmp_path / "device")  # must not raise
    try:
        wait_until(lambda: r.status().last_error, what="the reason in the status")
        assert r.status().last_error.startswith("cannot set up the connection: TLS problem")
        assert not r.status().connected
        r.submit(SendRequest("emergency", tier="emergency"))  # still stored for later
        assert r.status().outbox_depth == 1
    finally:
        r.stop()
