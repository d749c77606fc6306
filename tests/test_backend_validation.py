"""Issue 11.4: the backend trusts nothing from the wire. Each probe is refused before storing, with a
plain reason and no traceback; a fuzzed stream never gets anything past validation that a database
would refuse."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from backend_helpers import postgres_database
from mqtt_helpers import RawClient, start_broker, wait_until

from assistant.link import protocol as m
from jiayi_backend.broker import LocalBroker
from jiayi_backend.service import ReferenceBackend
from jiayi_backend.store import RequestStore
from jiayi_backend.validation import MAX_DEPTH, parse_request

GOOD = m.Request(
    device_id="dev-1",
    request_type="call_doctor",
    tier="confirm",
    slots={"doctor": "Dr. Chen"},
    confidence=0.9,
    context={"hour": 9},
)
TEXT = GOOD.to_json().decode()
UPPER_ID = GOOD.message_id.upper()

PROBES: dict[str, tuple[str, str]] = {
    "nan": (TEXT.replace('"confidence":0.9', '"confidence":NaN'), "NaN is not a number JSON allows"),
    "infinity": (TEXT.replace('"confidence":0.9', '"confidence":Infinity'), "Infinity"),
    "overflow": (TEXT.replace('"confidence":0.9', '"confidence":1e400'), "not finite"),
    "huge_int": (TEXT.replace('"hour":9', '"hour":' + "9" * 5000), "more than 16 digits"),
    "duplicate_key": (
        TEXT.replace('"tier":"confirm"', '"tier":"plain","tier":"emergency"'),
        "duplicate key 'tier'",
    ),
    "lone_surrogate": (TEXT.replace("Dr. Chen", "Dr. \\ud800Chen"), "lone surrogate"),
    "nul": (TEXT.replace("Dr. Chen", "Dr.\\u0000Chen"), "control character"),
    "escape": (TEXT.replace("Dr. Chen", "Dr.\\u001b[2JChen"), "control character"),
    "deep": ("[" * 4000 + "]" * 4000, f"deeper than {MAX_DEPTH}"),
    "deep_inside": (
        TEXT.replace('"hour":9', '"hour":' + "[" * 40 + "]" * 40),
        f"deeper than {MAX_DEPTH}",
    ),
    "upper_case_id": (TEXT.replace(GOOD.message_id, UPPER_ID), "lower case"),
    "invalid_utf8": ("\udcff", "not UTF-8"),
}


@pytest.mark.parametrize("name", sorted(PROBES))
def test_each_probe_is_refused_with_a_plain_reason(name: str) -> None:
    payload, reason = PROBES[name]
    raw = payload.encode("utf-8", "surrogateescape")
    with pytest.raises(m.ProtocolError, match=reason.replace("[", r"\[")):
        parse_request("dev-1", raw)


def test_the_good_request_passes_and_is_stored_in_canonical_form() -> None:
    parsed = parse_request("dev-1", GOOD.to_json())
    assert parsed.request == GOOD
    assert json.loads(parsed.payload) == GOOD.to_dict()
    with pytest.raises(m.ProtocolError, match="does not match the topic"):
        parse_request("dev-2", GOOD.to_json())
    with pytest.raises(m.ProtocolError, match="topic"):
        parse_request(None, GOOD.to_json())


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalBroker]:
    b = start_broker(tmp_path / "broker", persistence=False)
    yield b
    b.stop()


def test_backend_refuses_every_probe_without_a_traceback_and_keeps_working(
    tmp_path: Path, broker: LocalBroker, caplog
) -> None:
    caplog.set_level(logging.DEBUG, logger="jiayi_backend")
    be = ReferenceBackend(broker.url, tmp_path / "be.sqlite3")
    be.start()
    device = RawClient(broker.port, "prober")
    device.subscribe("jiayi/v1/dev-1/responses")
    device.publish("jiayi/v1/dev-1/requests", GOOD.to_json())
    wait_until(lambda: be.store.count() == 1, what="the good request stored")
    for payload, _reason in PROBES.values():
        device.publish("jiayi/v1/dev-1/requests", payload.encode("utf-8", "surrogateescape"))
    (name,) = be.counts()
    wait_until(lambda: be.counts()[name].get("rejected") == len(PROBES), what="every probe refused")
    assert be.store.count() == 1  # the upper-cased copy of the id was not stored a second time
    assert len(device.payloads()) == 1  # refused requests are not acknowledged
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    refusals = [r.getMessage() for r in caplog.records if "backend_rejected" in r.getMessage()]
    assert len(refusals) == len(PROBES)
    again = m.Request(device_id="dev-1", request_type="check_in")
    device.publish("jiayi/v1/dev-1/requests", again.to_json())
    wait_until(lambda: be.store.count() == 2, what="still storing after the probes")
    device.close()
    be.stop()


def _mutate(rng: random.Random, text: str) -> str:
    """Half the time inside a slot's text (mostly still valid JSON), else anywhere."""
    pieces = ["NaN", "1e999", "\\ud83d", "\\udc00", "\\u0000", "\\u001b", "\\ud83d\\ude00", "é", "𝄞", "\\n"]
    anywhere = ['"x":1,', "[", "{", '"', "\\", "-0", "true", "12345678901234567", "1e308", "0.5"]
    chars = list(text)
    inside = text.index("Dr. ") + 4
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.5:
            chars[inside:inside] = list(rng.choice(pieces))
        elif rng.random() < 0.7:
            at = rng.randrange(len(chars) + 1)
            chars[at:at] = list(rng.choice(anywhere + pieces))
        else:
            del chars[rng.randrange(len(chars))]
    return "".join(chars)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RequestStore]:
    if request.param == "sqlite":
        s = RequestStore(tmp_path / "fuzz.sqlite3")
        yield s
        s.close()
    else:
        with postgres_database() as url:
            s = RequestStore(url)
            yield s
            s.close()


def test_fuzzed_requests_either_fail_plainly_or_store_cleanly(store: RequestStore) -> None:
    rng = random.Random(11)
    base = [
        m.Request(device_id="dev-1", request_type=t, slots={"doctor": "Dr. 陈", "n": 3}, context={"x": 1.5})
        for t in ("call_doctor", "emergency", "report_symptom")
    ]
    accepted = refused = 0
    for i in range(1500):
        text = _mutate(rng, rng.choice(base).to_json().decode())
        raw = text.encode("utf-8", "surrogatepass")
        try:
            parsed = parse_request("dev-1", raw)
        except m.ProtocolError:
            refused += 1
            continue
        accepted += 1
        fresh = m.Request(**{**parsed.request.__dict__, "message_id": m.new_message_id()})
        payload = json.dumps({**json.loads(parsed.payload), "message_id": fresh.message_id}).encode()
        assert store.insert(fresh, payload, f"fuzz-{i}") is True  # whatever passed, the database takes
    assert refused > 300 and accepted > 150, (accepted, refused)
    assert len(store.rows()) == accepted
