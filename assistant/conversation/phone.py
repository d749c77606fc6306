"""Phone fallback: call (and text) people through a cellular modem when the backend can't help.

One interface, :class:`PhoneDriver` (``call``, ``hang_up``, ``send_sms``), and
:func:`call_in_order`, which dials an ordered contact list until somebody answers and returns an
:class:`assistant.conversation.actions.PhoneResult`. Drivers:

- :class:`ModemDriver`: standard 3GPP TS 27.007 / V.250 AT commands over a serial port (pyserial):
  ``AT``, ``ATE0``, ``AT+CMEE=2``; ``ATD<number>;`` then ``AT+CLCC`` polls until the call is active;
  ``ATH``; SMS in text mode (``AT+CMGF=1``, ``AT+CMGS="<number>"``, ``>`` prompt, text, Ctrl-Z).
  Serial errors (no modem, unplugged) become ``no_modem``; nothing raises to the caller.
- :class:`LogDriver`: logs what it would dial (development); reports ``no_answer`` so a
  misconfigured device never pretends that someone picked up.
- :class:`NullDriver`: phone fallback switched off.

Every wait is bounded (``Final`` constants, overridable with :class:`ModemTimeouts` for tests).
Calls block for up to the ring timeout: the daemon runs them in a worker thread. Logs hold
outcomes and list positions, never phone numbers or message text.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import re
import termios
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from assistant.conversation.actions import PhoneCall, PhoneResult
from assistant.ops.settings import PhoneFallback

_LOGGER = logging.getLogger(__name__)

_PORT_ERRORS: Final = (OSError, ValueError, TypeError, termios.error)
"""What an unplugged modem raises: SerialException / EIO (OSError), and termios.error from
``tcdrain`` in ``flush()``, which is not an OSError."""

COMMAND_TIMEOUT_S: Final = 5.0
"""Longest wait for ``OK``/``ERROR`` after an ordinary AT command."""
DIAL_TIMEOUT_S: Final = 30.0
"""Longest wait for the reply to ``ATD`` (some modems answer only when the call connects)."""
CLCC_POLL_INTERVAL_S: Final = 1.0
"""Time between ``AT+CLCC`` polls while a call rings (unsolicited results are read meanwhile)."""
SMS_PROMPT_TIMEOUT_S: Final = 10.0
"""Longest wait for the ``>`` prompt after ``AT+CMGS``."""
SMS_SEND_TIMEOUT_S: Final = 60.0
"""Longest wait for ``+CMGS:`` after Ctrl-Z (the network can be slow)."""
SERIAL_READ_SLICE_S: Final = 0.05
"""Granularity of serial reads: each read returns after at most this long."""
LOCK_TIMEOUT_S: Final = 5.0
"""How long ``hang_up``/``send_sms`` wait for a call in progress to let go of the modem."""
DEFAULT_RING_TIMEOUT_S: Final = 45.0
"""Ring time used when neither the caller nor the driver gives one."""

CTRL_Z: Final = b"\x1a"
SMS_GSM_CHARS: Final = 160
"""Characters in one GSM 7-bit text-mode SMS."""
SMS_UCS2_CHARS: Final = 70
"""Characters in one UCS2 SMS (Chinese text)."""

_NUMBER = re.compile(r"^\+?[0-9*#]{2,20}$")
_FINAL_ERRORS = ("ERROR", "+CME ERROR", "+CMS ERROR")


class CallOutcome(enum.StrEnum):
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    NO_CARRIER = "no_carrier"
    ERROR = "error"
    NO_MODEM = "no_modem"


class PhoneDriver(Protocol):
    ring_timeout_s: float
    """How long a call rings by default before it counts as not answered."""

    def call(self, number: str, timeout_s: float) -> CallOutcome:
        """Dial ``number`` and wait (at most ``timeout_s`` of ringing) until answered or failed."""

    def hang_up(self) -> None:
        """End the current call (also stops a call that is still ringing)."""

    def send_sms(self, number: str, text: str) -> bool:
        """Send a text message; True when the network accepted it."""


def normalize_number(number: str) -> str:
    """Digits (and a leading +, * and #) only: "+1 555-0101" → "+15550101". "" when unusable."""
    cleaned = re.sub(r"[\s().-]", "", number)
    return cleaned if _NUMBER.match(cleaned) else ""


# ---------------------------------------------------------------------------- simple drivers


class NullDriver:
    """Phone fallback disabled: every call reports ``no_modem``."""

    ring_timeout_s = DEFAULT_RING_TIMEOUT_S

    def call(self, number: str, timeout_s: float) -> CallOutcome:
        return CallOutcome.NO_MODEM

    def hang_up(self) -> None:
        pass

    def send_sms(self, number: str, text: str) -> bool:
        return False


class LogDriver:
    """Development: logs what would be dialled; nobody "answers" and no SMS is sent."""

    def __init__(
        self, outcome: CallOutcome = CallOutcome.NO_ANSWER, ring_timeout_s: float = DEFAULT_RING_TIMEOUT_S
    ) -> None:
        self.outcome = outcome
        self.ring_timeout_s = ring_timeout_s
        self.dialled: list[str] = []
        self.texts: list[tuple[str, str]] = []

    def call(self, number: str, timeout_s: float) -> CallOutcome:
        self.dialled.append(number)
        _LOGGER.warning(
            "event=phone_log_driver would dial a number (%d digits) for %.0f s; reporting %s",
            sum(c.isdigit() for c in number), timeout_s, self.outcome.value,
        )  # fmt: skip
        return self.outcome

    def hang_up(self) -> None:
        _LOGGER.info("event=phone_log_driver hang_up")

    def send_sms(self, number: str, text: str) -> bool:
        self.texts.append((number, text))
        _LOGGER.warning("event=phone_log_driver would send an SMS (%d characters); not sent", len(text))
        return False


# ---------------------------------------------------------------------------- AT modem


@dataclass(frozen=True)
class ModemTimeouts:
    command_s: float = COMMAND_TIMEOUT_S
    dial_s: float = DIAL_TIMEOUT_S
    poll_interval_s: float = CLCC_POLL_INTERVAL_S
    sms_prompt_s: float = SMS_PROMPT_TIMEOUT_S
    sms_send_s: float = SMS_SEND_TIMEOUT_S
    read_slice_s: float = SERIAL_READ_SLICE_S
    vanished_grace_s: float = 0.5
    """When a ringing call drops out of ``+CLCC``, how long to listen for the result code that ends it
    (``NO ANSWER``, ``BUSY``): a modem may list no call before that line reaches us. Only then is
    it a dropped call (``NO_CARRIER``)."""


@dataclass(frozen=True)
class CallState:
    """One ``+CLCC`` line."""

    index: int
    outgoing: bool
    stat: int
    """0 active, 1 held, 2 dialing, 3 alerting, 4 incoming, 5 waiting (6 disconnect on some modems)."""
    voice: bool


def parse_clcc(line: str) -> CallState | None:
    """``+CLCC: 1,0,3,0,0,"+15550101",145`` → CallState; None for other lines."""
    if not line.startswith("+CLCC:"):
        return None
    fields = [f.strip() for f in line[len("+CLCC:") :].split(",")]
    try:
        index, direction, stat, mode = (int(f) for f in fields[:4])
    except ValueError:
        return None
    return CallState(index=index, outgoing=direction == 0, stat=stat, voice=mode == 0)


class ModemUnavailable(Exception):
    """The serial port is missing, unplugged or the modem does not answer ``AT``."""


class _Timeout(Exception):
    pass


class ModemDriver:
    """A cellular modem on a serial port, driven by standard AT commands."""

    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        *,
        ring_timeout_s: float = DEFAULT_RING_TIMEOUT_S,
        timeouts: ModemTimeouts | None = None,
        serial_factory: Callable[..., Any] | None = None,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.ring_timeout_s = ring_timeout_s
        self.timeouts = timeouts or ModemTimeouts()
        self._serial_factory = serial_factory
        self._serial: Any = None
        self._buffer = b""
        self._lock = threading.Lock()
        self._hang_up_requested = threading.Event()

    # ------------------------------------------------------------ public

    def call(self, number: str, timeout_s: float | None = None) -> CallOutcome:
        dial = normalize_number(number)
        if not dial:
            _LOGGER.warning("event=phone_call_refused reason=bad_number")
            return CallOutcome.ERROR
        ring_s = self.ring_timeout_s if timeout_s is None else timeout_s
        if not self._lock.acquire(timeout=LOCK_TIMEOUT_S):
            _LOGGER.warning("event=phone_busy_locally (another call holds the modem)")
            return CallOutcome.ERROR
        self._hang_up_requested.clear()
        started = time.monotonic()
        try:
            outcome = self._call_locked(dial, ring_s)
        except ModemUnavailable as err:
            _LOGGER.warning("event=phone_no_modem port=%s reason=%s", self.port, err)
            self._close()
            outcome = CallOutcome.NO_MODEM
        finally:
            self._lock.release()
        _LOGGER.info("event=phone_call outcome=%s after_s=%.1f", outcome.value, time.monotonic() - started)
        return outcome

    def hang_up(self) -> None:
        self._hang_up_requested.set()  # a ringing call() notices at its next poll
        if not self._lock.acquire(timeout=LOCK_TIMEOUT_S):
            return
        try:
            if self._serial is not None:
                self._hang_up_locked()
        except ModemUnavailable as err:
            _LOGGER.warning("event=phone_hang_up_failed reason=%s", err)
            self._close()
        finally:
            self._lock.release()

    def send_sms(self, number: str, text: str) -> bool:
        dial = normalize_number(number)
        if not dial or not text:
            _LOGGER.warning("event=sms_refused reason=%s", "bad_number" if not dial else "empty_text")
            return False
        if not self._lock.acquire(timeout=LOCK_TIMEOUT_S):
            _LOGGER.warning("event=sms_failed reason=modem_in_use")
            return False
        try:
            return self._send_sms_locked(dial, text)
        except ModemUnavailable as err:
            _LOGGER.warning("event=sms_no_modem port=%s reason=%s", self.port, err)
            self._close()
            return False
        finally:
            self._lock.release()

    def probe(self) -> bool:
        """Is the modem there and answering ``AT``? (A call in progress counts as yes.) Never raises."""
        if not self._lock.acquire(timeout=0.1):
            return True  # busy with a call: it is there
        try:
            self._open()
            ok = _ok(self._command("AT", self.timeouts.command_s))
            if not ok:
                self._close()
            return ok
        except ModemUnavailable as err:
            _LOGGER.warning("event=modem_probe_failed port=%s reason=%s", self.port, err)
            self._close()
            return False
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            self._close()

    # ------------------------------------------------------------ call flow

    def _call_locked(self, number: str, ring_s: float) -> CallOutcome:
        self._open()
        self._initialise()
        reply = self._command(f"ATD{number};", self.timeouts.dial_s, finals=_CALL_END_CODES)
        ended = _call_end(reply)
        if ended is not None:
            return ended
        if not _ok(reply):  # no reply in time: make sure nothing is left ringing
            self._hang_up_locked()
            return CallOutcome.ERROR
        deadline = time.monotonic() + ring_s
        seen_call = False
        while True:
            if self._hang_up_requested.is_set():
                self._hang_up_locked()
                return CallOutcome.NO_ANSWER
            lines = self._command("AT+CLCC", self.timeouts.command_s, finals=_CALL_END_CODES)
            ended = _call_end(lines)
            if ended is not None:  # BUSY / NO CARRIER / NO ANSWER arrived with the poll
                return ended
            if not _ok(lines):  # the modem stopped answering
                self._hang_up_locked()
                return CallOutcome.ERROR
            states = [s for s in map(parse_clcc, lines) if s and s.outgoing and s.voice]
            if any(s.stat == 0 for s in states):
                _LOGGER.info("event=phone_answered")
                return CallOutcome.ANSWERED
            if states:
                seen_call = True
            elif seen_call:  # the call vanished: its result code may still be on the way
                ended = _call_end(
                    self._read_lines_for(self.timeouts.vanished_grace_s, stop_on=_CALL_END_CODES)
                )
                return ended or CallOutcome.NO_CARRIER  # none came: the network dropped it
            if time.monotonic() >= deadline:
                self._hang_up_locked()
                return CallOutcome.NO_ANSWER
            # Between polls, listen for unsolicited results (BUSY, NO CARRIER, ...): no sleep.
            wait_s = min(self.timeouts.poll_interval_s, max(0.0, deadline - time.monotonic()))
            ended = _call_end(self._read_lines_for(wait_s, stop_on=_CALL_END_CODES))
            if ended is not None:
                return ended

    def _hang_up_locked(self) -> None:
        lines = self._command("ATH", self.timeouts.command_s)
        if not _ok(lines):
            self._command("AT+CHUP", self.timeouts.command_s)
        _LOGGER.info("event=phone_hung_up")

    def _send_sms_locked(self, number: str, text: str) -> bool:
        self._open()
        self._initialise()
        if not _ok(self._command("AT+CMGF=1", self.timeouts.command_s)):
            _LOGGER.warning("event=sms_failed reason=text_mode_refused")
            return False
        ucs2 = not _is_gsm_safe(text)
        if ucs2:
            setup = ('AT+CSCS="UCS2"', "AT+CSMP=17,167,0,8")
            address = number.encode("utf-16-be").hex().upper()
            parts = _split(text, SMS_UCS2_CHARS)
        else:
            setup = ('AT+CSCS="GSM"', "AT+CSMP=17,167,0,0")
            address = number
            parts = _split(text, SMS_GSM_CHARS)
        for command in setup:
            if not _ok(self._command(command, self.timeouts.command_s)):
                _LOGGER.warning("event=sms_failed reason=charset_refused")
                return False
        for index, part in enumerate(parts, start=1):
            body = part.encode("utf-16-be").hex().upper().encode() if ucs2 else part.encode("ascii")
            if not self._send_one_sms(address, body):
                _LOGGER.warning("event=sms_failed part=%d/%d", index, len(parts))
                return False
        _LOGGER.info("event=sms_sent parts=%d chars=%d ucs2=%s", len(parts), len(text), ucs2)
        return True

    def _send_one_sms(self, address: str, body: bytes) -> bool:
        self._write(f'AT+CMGS="{address}"\r'.encode())
        try:
            self._read_until(lambda buf: b">" in buf or _has_final(buf), self.timeouts.sms_prompt_s)
        except _Timeout:
            self._write(b"\x1b")  # ESC aborts the message
            return False
        if b">" not in self._buffer:
            self._take_lines()
            return False
        self._buffer = b""
        self._write(body + CTRL_Z)
        try:
            self._read_until(_has_final, self.timeouts.sms_send_s)
        except _Timeout:
            return False
        lines = self._take_lines()
        return _ok(lines) and any(line.startswith("+CMGS:") for line in lines)

    # ------------------------------------------------------------ AT plumbing

    def _open(self) -> None:
        if self._serial is not None:
            return
        factory = self._serial_factory
        if factory is None:
            import serial

            factory = serial.Serial
        try:
            self._serial = factory(
                self.port,
                self.baudrate,
                timeout=self.timeouts.read_slice_s,
                write_timeout=self.timeouts.command_s,
            )
        except (OSError, ValueError) as err:  # serial.SerialException is an OSError
            raise ModemUnavailable(f"can't open {self.port}: {err}") from err
        self._buffer = b""

    def _initialise(self) -> None:
        for command in ("AT", "ATE0", "AT+CMEE=2"):
            lines = self._command(command, self.timeouts.command_s)
            if command == "AT" and not _ok(lines):
                raise ModemUnavailable("the modem does not answer AT")

    def _close(self) -> None:
        serial_port, self._serial = self._serial, None
        self._buffer = b""
        if serial_port is not None:
            try:
                serial_port.close()
            except Exception as err:  # closing a vanished device may fail in many ways
                _LOGGER.debug("closing the serial port failed: %s", err)

    def _command(self, command: str, timeout_s: float, finals: tuple[str, ...] = ()) -> list[str]:
        """Send one command; the lines up to its final result code ([] when it timed out)."""
        self._write(command.encode("ascii") + b"\r")
        try:
            self._read_until(lambda buf: _has_final(buf, finals), timeout_s)
        except _Timeout:
            _LOGGER.warning(
                "event=modem_timeout command=%s after_s=%.1f", command.split("=")[0][:12], timeout_s
            )
            return self._take_lines()
        return self._take_lines()

    def _write(self, data: bytes) -> None:
        if self._serial is None:
            raise ModemUnavailable("the serial port is closed")
        try:
            self._serial.write(data)
            self._serial.flush()
        except _PORT_ERRORS as err:
            raise ModemUnavailable(f"writing to {self.port} failed: {err}") from err

    def _read_some(self) -> None:
        if self._serial is None:
            raise ModemUnavailable("the serial port is closed")
        try:
            waiting = self._serial.in_waiting
            chunk = self._serial.read(waiting or 1)
        except _PORT_ERRORS as err:
            raise ModemUnavailable(f"reading from {self.port} failed: {err}") from err
        self._buffer += chunk

    def _read_until(self, done: Callable[[bytes], bool], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not done(self._buffer):
            if time.monotonic() >= deadline:
                raise _Timeout
            self._read_some()

    def _read_lines_for(self, seconds: float, stop_on: tuple[str, ...]) -> list[str]:
        """Collect unsolicited lines for up to ``seconds``; returns early on one of ``stop_on``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._read_some()
            if any(line in stop_on for line in _lines(self._buffer)):
                break
        return self._take_lines(complete_only=True)

    def _take_lines(self, complete_only: bool = False) -> list[str]:
        if complete_only:
            cut = max(self._buffer.rfind(b"\n"), self._buffer.rfind(b"\r"))
            head, self._buffer = self._buffer[: cut + 1], self._buffer[cut + 1 :]
        else:
            head, self._buffer = self._buffer, b""
        return _lines(head)


_CALL_END_CODES: Final = ("BUSY", "NO CARRIER", "NO ANSWER", "NO DIALTONE")


def _lines(data: bytes) -> list[str]:
    text = data.decode("ascii", errors="replace")
    return [line.strip() for line in re.split(r"[\r\n]+", text) if line.strip()]


def _has_final(buf: bytes, extra: tuple[str, ...] = ()) -> bool:
    for line in _lines(buf):
        if line == "OK" or line in extra or any(line.startswith(e) for e in _FINAL_ERRORS):
            return True
    return False


def _ok(lines: list[str]) -> bool:
    return "OK" in lines


def _call_end(lines: list[str]) -> CallOutcome | None:
    """Outcome named by a result code in ``lines``; None when no call-ending code is there."""
    for line in lines:
        if line == "BUSY":
            return CallOutcome.BUSY
        if line == "NO ANSWER":
            return CallOutcome.NO_ANSWER
        if line in ("NO CARRIER", "NO DIALTONE"):
            return CallOutcome.NO_CARRIER
        if any(line.startswith(e) for e in _FINAL_ERRORS):
            return CallOutcome.ERROR
    return None


_GSM_SAFE = re.compile(r"^[A-Za-z0-9 .,:;!?'\"()+\-*/%&=<>@#\n\r]*$")


def _is_gsm_safe(text: str) -> bool:
    return bool(_GSM_SAFE.match(text))


def _split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


# ---------------------------------------------------------------------------- policy


def call_in_order(
    driver: PhoneDriver,
    contacts: Sequence[tuple[str, str]],
    *,
    ring_timeout_s: float | None = None,
    sms_text: str = "",
    rounds: int = 1,
    should_stop: Callable[[], bool] | None = None,
) -> PhoneResult:
    """Dial ``contacts`` (name, number) in order until one answers; ``rounds`` passes over the list.

    When nobody answers and ``sms_text`` is given, every contact gets the text. A missing modem
    ends the attempt at once (nothing else could work). Returns ``PhoneResult("answered", name)``
    or ``PhoneResult("failed", sms_sent=<names whose text the modem confirmed>)``.
    """
    ring_s = (
        ring_timeout_s
        if ring_timeout_s is not None
        else getattr(driver, "ring_timeout_s", DEFAULT_RING_TIMEOUT_S)
    )
    no_modem = False
    for round_no in range(1, max(1, rounds) + 1):
        for position, (name, number) in enumerate(contacts, start=1):
            if should_stop is not None and should_stop():
                _LOGGER.info("event=phone_fallback_stopped")
                return PhoneResult("failed")
            outcome = driver.call(number, ring_s)
            _LOGGER.info(
                "event=phone_attempt round=%d position=%d outcome=%s", round_no, position, outcome.value
            )
            if outcome is CallOutcome.ANSWERED:
                return PhoneResult("answered", name)
            if outcome is CallOutcome.NO_MODEM:
                no_modem = True
                break
        if no_modem:
            break
    texted: list[str] = []
    if sms_text and not no_modem:
        texted = [name for name, number in contacts if driver.send_sms(number, sms_text)]
        _LOGGER.info("event=phone_fallback_sms sent=%d of=%d", len(texted), len(contacts))
    return PhoneResult("failed", sms_sent=tuple(texted))


def place_phone_call(driver: PhoneDriver, action: PhoneCall, **kwargs: Any) -> PhoneResult:
    """Carry out a dialogue :class:`PhoneCall` action (dial in order, then SMS if nobody answers)."""
    result = call_in_order(driver, action.contacts, sms_text=action.sms_text, **kwargs)
    return dataclasses.replace(result, request_id=action.request_id)


def open_phone_driver(settings: PhoneFallback) -> PhoneDriver:
    """The driver ``settings.phone_fallback`` asks for. Never fails: the modem is opened on first use."""
    if not settings.enabled or settings.driver == "none":
        return NullDriver()
    if settings.driver == "modem":
        return ModemDriver(settings.serial_port, settings.baudrate, ring_timeout_s=settings.ring_timeout_s)
    return LogDriver(ring_timeout_s=settings.ring_timeout_s)
