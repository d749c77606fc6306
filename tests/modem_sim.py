"""A simulated cellular modem on a pseudo-terminal, answering the AT dialogue of a real one.

The driver under test opens ``sim.port`` (the pty's slave side) with pyserial exactly as it would
open ``/dev/ttyUSB2``; a thread on the master side parses commands and replies like a 3GPP TS
27.007 modem (echo until ``ATE0``, ``OK``/``ERROR`` framing, ``+CLCC`` lists, ``>`` SMS prompt).
Per-number :class:`CallScript` scenarios cover answered, busy, no answer, no carrier, SIM errors and
an unplugged modem; ``reply_delay_s`` makes a slow modem. Every command is recorded in
``commands`` (in order), dialled numbers in ``dialled`` and SMS bodies in ``sms``.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from dataclasses import dataclass, field
from typing import Final

POLL_S: Final = 0.02
"""How often the simulator thread checks for input or a stop request."""
JOIN_TIMEOUT_S: Final = 5.0

CTRL_Z: Final = b"\x1a"
ESC: Final = b"\x1b"


@dataclass(frozen=True)
class CallScript:
    """How the network behaves for one dialled number."""

    dial_reply: str = "OK"
    """Reply to ``ATD``: ``OK`` (call set up), ``BUSY``, ``NO CARRIER``, ``+CME ERROR: ...``."""
    states: tuple[int, ...] = (2, 3, 0)
    """``+CLCC`` stat for each poll: 2 dialing, 3 alerting, 0 active. The last one repeats."""
    end_with: str = ""
    """After ``states`` run out, the call ends with this unsolicited code (``BUSY``, ``NO ANSWER``...)."""
    end_lag_s: float = 0.0
    """How long after the empty ``+CLCC`` reply ``end_with`` follows (a modem whose result code lags)."""
    unplug_at_poll: int = 0
    """Close the pty (modem unplugged) when this ``AT+CLCC`` poll (1-based) arrives; 0 = never."""


@dataclass
class _Call:
    number: str
    script: CallScript
    polls: int = 0


@dataclass
class ModemSim:
    scripts: dict[str, CallScript] = field(default_factory=dict)
    """Scenario per dialled number; others use ``default``."""
    default: CallScript = field(default_factory=CallScript)
    reply_delay_s: float = 0.0
    """Delay before every reply (a slow modem)."""
    sms_reply: str = "+CMGS: 7"
    """Final line for a sent SMS (``+CMS ERROR: 500`` to fail)."""

    def __post_init__(self) -> None:
        self.commands: list[str] = []
        self.dialled: list[str] = []
        self.sms: list[tuple[str, bytes]] = []
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._echo = True
        self._call: _Call | None = None
        self._sms_to: str | None = None
        self._buffer = b""
        self._stop = threading.Event()
        self._unplugged = False
        self._thread = threading.Thread(target=self._run, name="modem-sim", daemon=True)

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> ModemSim:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(JOIN_TIMEOUT_S)
        self.unplug()
        if self._slave >= 0:
            os.close(self._slave)
            self._slave = -1

    def unplug(self) -> None:
        """The modem disappears: the pty's master side closes (reads on the port fail)."""
        if not self._unplugged:
            self._unplugged = True
            os.close(self._master)

    # ------------------------------------------------------------ thread

    def _run(self) -> None:
        while not self._stop.is_set() and not self._unplugged:
            readable, _, _ = select.select([self._master], [], [], POLL_S)
            if not readable:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:  # no slave open at the moment (driver closed the port)
                self._stop.wait(POLL_S)
                continue
            self._buffer += data
            self._process()

    def _process(self) -> None:
        while not self._unplugged:
            if self._sms_to is not None:
                if ESC in self._buffer:
                    self._buffer, self._sms_to = b"", None
                    continue
                if CTRL_Z not in self._buffer:
                    return
                body, _, self._buffer = self._buffer.partition(CTRL_Z)
                self.sms.append((self._sms_to, body))
                self._sms_to = None
                if self.sms_reply.startswith("+CMGS"):
                    self._reply(self.sms_reply, "OK")
                else:
                    self._reply(self.sms_reply)
                continue
            if b"\r" not in self._buffer:
                return
            raw, _, self._buffer = self._buffer.partition(b"\r")
            command = raw.strip(b"\n").decode("ascii", errors="replace").strip()
            if not command:
                continue
            if self._echo:
                self._send(raw + b"\r")
            self.commands.append(command)
            self._handle(command)

    def _handle(self, command: str) -> None:
        upper = command.upper()
        if upper in ("AT", "AT+CMEE=2", "AT+CMGF=1") or upper.startswith(("AT+CSCS=", "AT+CSMP=")):
            self._reply("OK")
        elif upper == "ATE0":
            self._echo = False
            self._reply("OK")
        elif upper.startswith("ATD") and upper.endswith(";"):
            number = command[3:-1]
            self.dialled.append(number)
            script = self.scripts.get(number, self.default)
            self._reply(script.dial_reply)
            self._call = _Call(number, script) if script.dial_reply == "OK" else None
        elif upper == "AT+CLCC":
            self._poll()
        elif upper in ("ATH", "AT+CHUP"):
            self._call = None
            self._reply("OK")
        elif upper.startswith("AT+CMGS="):
            self._sms_to = command[len("AT+CMGS=") :].strip('"')
            self._delay()
            self._send(b"\r\n> ")
        else:
            self._reply("ERROR")

    def _poll(self) -> None:
        call = self._call
        if call is None:
            self._reply("OK")
            return
        call.polls += 1
        script = call.script
        if script.unplug_at_poll and call.polls >= script.unplug_at_poll:
            self.unplug()
            return
        if call.polls > len(script.states) and script.end_with:
            self._call = None
            self._reply("OK")
            time.sleep(script.end_lag_s)
            self._send(f"\r\n{script.end_with}\r\n".encode())
            return
        stat = script.states[min(call.polls, len(script.states)) - 1]
        self._reply(f'+CLCC: 1,0,{stat},0,0,"{call.number}",145', "OK")

    def _reply(self, *lines: str) -> None:
        self._delay()
        self._send(b"".join(f"\r\n{line}\r\n".encode() for line in lines))

    def _delay(self) -> None:
        if self.reply_delay_s:
            self._stop.wait(self.reply_delay_s)

    def _send(self, data: bytes) -> None:
        if not self._unplugged:
            os.write(self._master, data)
