"""Phone fallback: the AT dialogue against a simulated modem on a pseudo-terminal."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from modem_sim import CallScript, ModemSim

from assistant.conversation.actions import PhoneCall, PhoneResult
from assistant.conversation.phone import (
    CallOutcome,
    LogDriver,
    ModemDriver,
    ModemTimeouts,
    NullDriver,
    call_in_order,
    normalize_number,
    open_phone_driver,
    parse_clcc,
    place_phone_call,
)
from assistant.ops.settings import PhoneFallback

FAST: ModemTimeouts = ModemTimeouts(
    command_s=2.0, dial_s=2.0, poll_interval_s=0.02, sms_prompt_s=2.0, sms_send_s=2.0, read_slice_s=0.01
)
"""Short limits so a test never waits long (the simulator answers in milliseconds)."""
RING_S = 0.3

ANNA = ("Anna", "+1 555 0101")
DAVID = ("David", "+1 555 0102")
LI = ("Li Wei", "+1 555 0103")
INIT = ["AT", "ATE0", "AT+CMEE=2"]


@pytest.fixture
def sim() -> Iterator[ModemSim]:
    with ModemSim() as modem:
        yield modem


def _driver(sim: ModemSim, timeouts: ModemTimeouts = FAST) -> ModemDriver:
    return ModemDriver(sim.port, 115200, ring_timeout_s=RING_S, timeouts=timeouts)


def test_answered_call_follows_the_exact_at_dialogue(sim: ModemSim) -> None:
    driver = _driver(sim)
    assert driver.call("+1 555 0101", RING_S) is CallOutcome.ANSWERED
    # dialing -> alerting -> active, one AT+CLCC poll each
    assert sim.commands == [*INIT, "ATD+15550101;", "AT+CLCC", "AT+CLCC", "AT+CLCC"]
    driver.hang_up()
    assert sim.commands[-1] == "ATH"
    driver.close()


def test_busy_then_the_next_contact_answers() -> None:
    scripts = {"+15550101": CallScript(states=(2,), end_with="BUSY")}
    with ModemSim(scripts=scripts) as sim:
        driver = _driver(sim)
        result = call_in_order(driver, [ANNA, DAVID, LI], ring_timeout_s=RING_S)
        driver.close()
    assert result == PhoneResult("answered", "David")
    assert sim.dialled == ["+15550101", "+15550102"]


def test_nobody_answers_every_contact_is_tried_in_order_then_texted() -> None:
    scripts = {
        "+15550101": CallScript(states=(2, 3)),  # rings until we give up
        "+15550102": CallScript(states=(2, 3), end_with="NO ANSWER"),  # the network gives up
        "+15550103": CallScript(dial_reply="NO CARRIER"),
    }
    with ModemSim(scripts=scripts) as sim:
        driver = _driver(sim)
        action = PhoneCall(
            "emergency", (ANNA, DAVID, LI), sms_text="Margaret pressed for help. Please call her."
        )
        result = place_phone_call(driver, action, ring_timeout_s=RING_S)
        driver.close()
    assert result == PhoneResult("failed", sms_sent=("Anna", "David", "Li Wei"))
    assert sim.dialled == ["+15550101", "+15550102", "+15550103"]
    # the first call was still ringing at the ring timeout: we hung it up
    first_call = sim.commands[sim.commands.index("ATD+15550101;") : sim.commands.index("ATD+15550102;")]
    assert first_call[first_call.index("AT+CLCC") :].count("ATH") == 1
    assert first_call[-3:] == INIT  # the modem is re-initialised before every call
    assert [to for to, _ in sim.sms] == ["+15550101", "+15550102", "+15550103"]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (CallScript(dial_reply="BUSY"), CallOutcome.BUSY),
        (CallScript(dial_reply="NO CARRIER"), CallOutcome.NO_CARRIER),
        (CallScript(dial_reply="+CME ERROR: SIM not inserted"), CallOutcome.ERROR),
        (CallScript(states=(2, 3), end_with="NO CARRIER"), CallOutcome.NO_CARRIER),
        (CallScript(states=(2, 3), end_with="NO ANSWER"), CallOutcome.NO_ANSWER),
        # the call leaves +CLCC before its result code arrives: still the code's outcome, not a drop
        (CallScript(states=(2, 3), end_with="NO ANSWER", end_lag_s=0.2), CallOutcome.NO_ANSWER),
        (CallScript(states=(2, 3), end_with="BUSY", end_lag_s=0.2), CallOutcome.BUSY),
        (CallScript(states=(2, 3)), CallOutcome.NO_ANSWER),
    ],
)
def test_call_outcomes(script: CallScript, expected: CallOutcome) -> None:
    with ModemSim(default=script) as sim:
        driver = _driver(sim)
        assert driver.call("+15550101", RING_S) is expected
        driver.close()


def test_sms_in_text_mode(sim: ModemSim) -> None:
    driver = _driver(sim)
    assert driver.send_sms("+1 555 0101", "Margaret asked for help at 08:10. Please call her.")
    assert sim.commands == [*INIT, "AT+CMGF=1", 'AT+CSCS="GSM"', "AT+CSMP=17,167,0,0", 'AT+CMGS="+15550101"']
    assert sim.sms == [("+15550101", b"Margaret asked for help at 08:10. Please call her.")]
    driver.close()


def test_chinese_sms_goes_as_ucs2(sim: ModemSim) -> None:
    driver = _driver(sim)
    text = "王阿姨需要帮助，请给她打电话。"
    assert driver.send_sms("+8613800000000", text)
    assert 'AT+CSCS="UCS2"' in sim.commands
    (address, body) = sim.sms[0]
    assert bytes.fromhex(address).decode("utf-16-be") == "+8613800000000"
    assert bytes.fromhex(body.decode()).decode("utf-16-be") == text
    driver.close()


def test_sms_rejected_by_the_network() -> None:
    with ModemSim(sms_reply="+CMS ERROR: 500") as sim:
        driver = _driver(sim)
        assert not driver.send_sms("+15550101", "hello")
        assert len(sim.sms) == 1  # the text reached the modem; the network refused it
        driver.close()


def test_modem_unplugged_mid_call_is_no_modem_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    with ModemSim(default=CallScript(states=(2, 3, 3), unplug_at_poll=2)) as sim:
        driver = _driver(sim)
        with caplog.at_level(logging.INFO):
            result = call_in_order(driver, [ANNA, DAVID], ring_timeout_s=RING_S, sms_text="help")
        assert result == PhoneResult("failed")
        assert sim.dialled == ["+15550101"]  # no point dialling the next one without a modem
        assert driver.call("+15550102", RING_S) is CallOutcome.NO_MODEM
        assert not driver.send_sms("+15550102", "help")
        driver.hang_up()  # harmless
    assert "5550101" not in caplog.text  # numbers stay out of the logs


def test_missing_serial_port() -> None:
    driver = ModemDriver("/dev/ttyUSB-does-not-exist", timeouts=FAST)
    assert driver.call("+15550101", RING_S) is CallOutcome.NO_MODEM
    assert not driver.send_sms("+15550101", "hello")
    assert call_in_order(driver, [ANNA, DAVID]) == PhoneResult("failed")


def test_slow_modem_within_the_limits_still_works() -> None:
    with ModemSim(reply_delay_s=0.05) as sim:
        driver = _driver(sim)
        assert driver.call("+15550101", 2.0) is CallOutcome.ANSWERED
        driver.close()


def test_modem_too_slow_to_answer_at_is_no_modem() -> None:
    slow = ModemTimeouts(command_s=0.1, dial_s=0.1, poll_interval_s=0.02, read_slice_s=0.01)
    with ModemSim(reply_delay_s=0.5) as sim:
        driver = ModemDriver(sim.port, timeouts=slow)
        assert driver.call("+15550101", RING_S) is CallOutcome.NO_MODEM
        assert sim.dialled == []
        driver.close()


def test_bad_numbers_are_never_sent_to_the_modem(sim: ModemSim) -> None:
    driver = _driver(sim)
    assert driver.call("123;+CMGS", RING_S) is CallOutcome.ERROR
    assert not driver.send_sms("", "hello")
    assert sim.commands == []
    assert normalize_number("+1 (555) 010-1") == "+15550101"


def test_clcc_parsing() -> None:
    state = parse_clcc('+CLCC: 1,0,3,0,0,"+15550101",145')
    assert state is not None and (state.outgoing, state.stat, state.voice) == (True, 3, True)
    assert parse_clcc("+CLCC: 2,1,4,0,0") is not None and not parse_clcc("+CLCC: 2,1,4,0,0").outgoing
    assert parse_clcc("OK") is None


def test_drivers_from_settings() -> None:
    assert isinstance(open_phone_driver(PhoneFallback(enabled=False)), NullDriver)
    assert isinstance(open_phone_driver(PhoneFallback(driver="none")), NullDriver)
    modem = open_phone_driver(PhoneFallback(driver="modem", serial_port="/dev/ttyX", ring_timeout_s=30))
    assert isinstance(modem, ModemDriver) and modem.port == "/dev/ttyX" and modem.ring_timeout_s == 30
    log = open_phone_driver(PhoneFallback(driver="log"))
    assert isinstance(log, LogDriver)
    # the log driver never pretends that somebody answered
    assert call_in_order(log, [ANNA, DAVID], sms_text="help") == PhoneResult("failed")
    assert log.dialled == ["+1 555 0101", "+1 555 0102"]
    assert NullDriver().call("+15550101", 1.0) is CallOutcome.NO_MODEM


class _UnpluggedOnFlush:
    """A serial port whose tcdrain fails, as a USB modem pulled mid-write does (termios.error)."""

    is_open = True
    in_waiting = 0

    def __init__(self, *_args, **_kwargs) -> None:
        pass

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        import termios

        raise termios.error(5, "Input/output error")

    def read(self, _size: int = 1) -> bytes:
        return b""

    def close(self) -> None:
        pass


def test_tcdrain_failure_on_an_unplugged_modem_is_no_modem_not_a_crash() -> None:
    driver = ModemDriver(
        "/dev/ttyUSB9", ring_timeout_s=RING_S, timeouts=FAST, serial_factory=_UnpluggedOnFlush
    )
    result = call_in_order(driver, [ANNA, DAVID], ring_timeout_s=RING_S)
    assert result == PhoneResult("failed")
