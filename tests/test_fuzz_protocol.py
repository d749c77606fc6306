"""Fuzz (hypothesis): the device's protocol parsing and what it lets the backend make it say.

Properties: :func:`assistant.link.inbound.parse` raises nothing but ``ProtocolError`` for any bytes,
any JSON, and valid messages with fields replaced by random values; what it accepts has no lone
surrogate anywhere. :func:`assistant.link.spoken.vet` never raises, and what it lets through has
no control character, fits :data:`~assistant.link.spoken.MAX_SPOKEN_CHARS`, and carries no phone
number smuggled into a name field.
"""

from __future__ import annotations

import json
import re

from fuzz_helpers import ANY_CHAR, json_values
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.link import protocol as m
from assistant.link.inbound import parse
from assistant.link.spoken import MAX_SPOKEN_CHARS, TEMPLATES, KnownNames, vet
from assistant.ops.config import default_settings

SAMPLES = [
    m.Ack(
        device_id="dev-1",
        request_id=m.new_message_id(),
        status="nobody_answered",
        text="Nobody at the practice answered.",
    ),
    m.Say(
        device_id="dev-1",
        text="Please drink a glass of water and rest for a while.",
        expires_at="2030-01-01T00:00:00+00:00",
    ),
    m.ScheduleUpdate(device_id="dev-1", medications=[{"name": "amlodipine", "times": ["08:00"]}]),
    m.Ping(device_id="dev-1"),
]
FUZZ = settings(max_examples=300, deadline=None)


def _parse_only_protocol_errors(payload: bytes) -> None:
    try:
        message = parse(payload)
    except m.ProtocolError:
        return
    for value in vars(message).values():
        assert not re.search("[\ud800-\udfff]", json.dumps(value, ensure_ascii=False)), value


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes(payload: bytes) -> None:
    _parse_only_protocol_errors(payload)


@FUZZ
@given(json_values)
def test_any_json(value: object) -> None:
    _parse_only_protocol_errors(json.dumps(value).encode())


@FUZZ
@given(st.sampled_from(SAMPLES), st.data())
def test_valid_messages_with_fields_replaced(sample: m.Message, data: st.DataObject) -> None:
    fields = sample.to_dict()
    for key in data.draw(st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True)):
        fields[key] = data.draw(json_values)
    text = json.dumps(fields, allow_nan=True)
    if data.draw(st.booleans()):  # a repeated key with another value
        text = text[:-1] + ', "device_id": "dev-2"}'
    _parse_only_protocol_errors(text.encode())


EVERY_TYPE = [
    *SAMPLES,
    m.Request(device_id="dev-1", request_type="call_doctor", slots={"doctor": "Dr. Chen"}, confidence=0.9),
    m.Pong(device_id="dev-1", ping_id=m.new_message_id()),
    m.Status(device_id="dev-1", state="online", version="1", health={"mic": "ok"}),
]
FIELD_VALUES_JSON = (
    json_values
    | st.sampled_from(["", "a", "x" * 41, "2030-01-01T00:00", "en", "emergency", "dev_1", "A-b"])
    | st.dictionaries(st.sampled_from(["doctor", "a", "Bad", "x" * 70]), json_values, max_size=20)
)


@FUZZ
@given(st.sampled_from(EVERY_TYPE), st.data())
def test_the_light_schema_check_agrees_with_jsonschema(sample: m.Message, data: st.DataObject) -> None:
    """protocol._conforms (no jsonschema import for a valid message: 5.7 MB of the daemon's
    memory) accepts and refuses exactly what jsonschema's validator does."""
    fields = sample.to_dict()
    kind = fields["type"]
    assert m._conforms(m._schema(kind), fields)
    keys = sorted({*fields, "extra", "slots", "context", "medications", "health", "confidence"})
    for key in data.draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
        if data.draw(st.booleans()) and key in fields:
            del fields[key]
        else:
            fields[key] = data.draw(FIELD_VALUES_JSON)
    expected = m._validator(kind).is_valid(fields)
    assert m._conforms(m._schema(kind), fields) == expected


NAMES = KnownNames.from_settings(default_settings())
FIELD_VALUES = [
    "Dr. Chen",
    "Anna",
    "amlodipine",
    "555-0199",
    "3:30 PM",
    "Tuesday 5 May",
    "\x1b[2J",
    "\x07",
    "陈医生",
]


@st.composite
def template_texts(draw: st.DrawFn) -> str:
    template = draw(st.sampled_from(TEMPLATES))
    values = st.sampled_from(FIELD_VALUES) | st.text(ANY_CHAR, max_size=12)
    text = re.sub(r"\{\w+\}", lambda _m: draw(values), template.text)
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(ANY_CHAR, max_size=6)) + text[at:]
    return text


@FUZZ
@given(template_texts() | st.text(ANY_CHAR, max_size=400))
def test_vetted_text_is_clean_short_and_number_free(text: str) -> None:
    vetted = vet(text, NAMES)
    if not vetted.text:
        assert vetted.reason
        return
    assert len(vetted.text) <= MAX_SPOKEN_CHARS
    assert all(ch.isprintable() for ch in vetted.text), repr(vetted.text)
    assert "555" not in vetted.text  # a phone number never rides in on a name field
