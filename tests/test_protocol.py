"""Protocol v1: every message type round-trips, matches its JSON Schema, and bad input is refused."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from mqtt_helpers import make_settings

from assistant.conversation.actions import SendRequest
from assistant.link import protocol as m
from assistant.link.relay import request_message

SCHEMA_DIR = Path(m.__file__).parent / "schemas"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"

SAMPLES = [
    m.Request(
        device_id="dev-1", request_type=m.REQ_CALL_DOCTOR, slots={"doctor": "Dr. Chen"}, confidence=0.92
    ),
    m.Request(
        device_id="dev-1", request_type=m.REQ_EMERGENCY, tier="emergency", call_back_by_phone=True, lang="zh"
    ),
    m.Ack(
        device_id="dev-1",
        request_id=m.new_message_id(),
        text="Dr. Chen's team will call you within 10 minutes.",
    ),
    m.Ack(device_id="dev-1", request_id=m.new_message_id(), status=m.ACK_NOBODY_ANSWERED),
    m.Say(device_id="dev-1", text="Your appointment is at 3 pm.", expires_at="2030-01-01T00:00:00+00:00"),
    m.ScheduleUpdate(device_id="dev-1", medications=[{"name": "amlodipine", "times": ["08:00", "20:00"]}]),
    m.Ping(device_id="dev-1"),
    m.Pong(device_id="dev-1", ping_id=m.new_message_id()),
    m.Status(
        device_id="dev-1", state=m.STATE_ONLINE, version="0.1.0", health={"mic": "ok", "disk_free_mb": 512}
    ),
]


@pytest.mark.parametrize("message", SAMPLES, ids=lambda msg: msg.TYPE)
def test_every_message_round_trips_and_matches_its_schema_file(message: m.Message) -> None:
    wire = message.to_json()
    data = json.loads(wire)
    schema = json.loads((SCHEMA_DIR / f"{message.TYPE}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(data, schema)
    assert data["schema"] == m.SCHEMA_VERSION and data["type"] == message.TYPE
    for key in ("message_id", "sent_at", "device_id"):
        assert data[key]
    assert m.from_json(wire) == message
    assert type(message).from_json(wire) == message


def test_every_message_type_has_a_schema_and_is_documented() -> None:
    assert sorted(p.stem for p in SCHEMA_DIR.glob("*.json")) == sorted(m.MESSAGE_CLASSES)
    doc = DOCS.read_text()
    for name in [*m.MESSAGE_CLASSES, *m.REQUEST_TYPES, *m.ACK_STATUSES]:
        assert f"`{name}`" in doc, name
    for suffix in ("requests", "responses", "commands", "events", "status"):
        assert f"jiayi/v1/<device_id>/{suffix}" in doc


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not UTF-8 JSON"),
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"x" * (m.MAX_PAYLOAD_BYTES + 1), "over the"),
        (json.dumps({"schema": "jiayi/v2", "type": "say"}).encode(), "unsupported schema version"),
        (json.dumps({"schema": "jiayi/v1", "type": "format_disk"}).encode(), "unknown message type"),
    ],
)
def test_malformed_oversized_and_foreign_payloads_are_refused_plainly(payload: bytes, reason: str) -> None:
    with pytest.raises(m.ProtocolError, match=reason):
        m.from_json(payload)


def _say_dict(**changes: object) -> dict:
    data = m.Say(device_id="dev-1", text="hello").to_dict()
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(
    "changes",
    [
        {"text": ""},
        {"text": 42},
        {"message_id": "not-a-uuid"},
        {"device_id": "dev/1/#"},
        {"sent_at": "yesterday"},
        {"expires_at": "2030-99-99T99:99"},
        {"audio": "UklGRg=="},
    ],
    ids=["empty-text", "number-text", "bad-id", "bad-device", "bad-time", "bad-expiry", "extra-field"],
)
def test_wrong_schema_is_refused(changes: dict) -> None:
    with pytest.raises(m.ProtocolError):
        m.from_json(json.dumps(_say_dict(**changes)))


def test_from_json_of_a_class_refuses_another_type() -> None:
    with pytest.raises(m.ProtocolError, match="expected a 'ack' message"):
        m.Ack.from_json(m.Ping(device_id="d").to_json())


def test_requests_carry_no_transcript_or_audio_unless_opted_in() -> None:
    req = SendRequest(
        "report_symptom",
        slots={"symptom": "dizzy"},
        context={"confidence": 0.81, "transcript": "I feel dizzy", "audio": "...", "reminder": "08:00"},
    )
    plain = request_message(make_settings("mqtt://x"), req)
    assert plain.transcript is None and plain.confidence == pytest.approx(0.81)
    assert plain.context == {"reminder": "08:00"}
    assert b'dizzy"' in plain.to_json() and b"I feel dizzy" not in plain.to_json()
    opted = request_message(make_settings("mqtt://x", send_transcripts=True), req)
    assert opted.transcript == "I feel dizzy" and "audio" not in opted.context
    assert opted.message_id == req.request_id


def test_topics_are_per_device_and_refuse_wildcards() -> None:
    assert m.topic("dev-1", m.REQUESTS) == "jiayi/v1/dev-1/requests"
    assert m.device_id_from_topic("jiayi/v1/dev-1/requests") == "dev-1"
    assert m.device_id_from_topic("other/v1/dev-1/requests") is None
    with pytest.raises(ValueError):
        m.topic("+", m.REQUESTS)


def test_expired_commands_are_recognised() -> None:
    import datetime as dt

    say = m.Say(device_id="d", text="hi", expires_at="2026-01-01T10:00:00+00:00")
    assert m.is_expired(say, dt.datetime(2026, 1, 1, 10, 0, 1, tzinfo=dt.UTC))
    assert not m.is_expired(say, dt.datetime(2026, 1, 1, 9, 59, tzinfo=dt.UTC))
    assert not m.is_expired(m.Ping(device_id="d"), dt.datetime(2099, 1, 1, tzinfo=dt.UTC))


# ---------------------------------------------------------------- another command domain's requests


def test_a_request_type_of_another_command_domain_round_trips() -> None:
    """An integrator's catalog (docs/catalog-format.md) sends its own confirmed intents: any
    identifier is a request type; the protocol's own types keep their meaning."""
    req = m.Request(device_id="dev-1", request_type="unlock_door", tier="confirm", slots={"door": "front"})
    assert m.from_json(req.to_json()) == req
    assert not m.is_protocol_request_type("unlock_door") and m.is_protocol_request_type("call_doctor")
    longest = "a" + "b" * 63
    assert m.from_json(m.Request(device_id="d", request_type=longest).to_json()).request_type == longest


def _request_dict(**changes: object) -> dict:
    data = m.Request(device_id="dev-1", request_type="unlock_door", slots={"room": "kitchen"}).to_dict()
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "changes",
    [
        {"request_type": "Unlock_door"},
        {"request_type": "1st_door"},
        {"request_type": "unlock door"},
        {"request_type": "unlock-door"},
        {"request_type": "unlock_door\n"},  # JSON Schema's "$" (Python re) lets a final new line through
        {"request_type": "a" * 65},
        {"request_type": ""},
        {"request_type": "门"},
        {"request_type": 7},
        {"slots": {"Room": "kitchen"}},
        {"slots": {"room\n": "kitchen"}},
        {"slots": {"room": ["kitchen"]}},
        {"slots": {"room": {"name": "kitchen"}}},
        {"slots": {"room": "k" * 201}},
        {"slots": {f"s{i}": i for i in range(17)}},
        {"context": {"Lang": "en"}},
        {"device_id": "dev-1\n"},
        {"message_id": m.new_message_id() + "\n"},
        {"tier": "urgent"},
    ],
)
def test_request_identifiers_lengths_and_slot_types_stay_strict(changes: dict) -> None:
    with pytest.raises(m.ProtocolError, match="request message invalid"):
        m.validate_dict(_request_dict(**changes))


def test_a_trailing_new_line_is_no_device_id_in_a_topic_either() -> None:
    assert m.device_id_from_topic("jiayi/v1/dev-1\n/requests") is None
    with pytest.raises(ValueError):
        m.topic("dev-1\n", m.REQUESTS)
