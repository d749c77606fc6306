"""One-screen status for caregivers and technicians, and the snapshot the daemon writes for it.

The daemon builds a :class:`Status` every few seconds and hands it to :class:`StatusWriter`, which
replaces ``<state_dir>/status.json`` atomically (rate-limited). ``jiayi status`` reads the file,
works out how stale it is, and renders it with :func:`render` in plain words; the same facts
(``Status.to_json()``) go into the retained MQTT status message.

Error codes are short and stable (``mic_stalled``, ``broker_unreachable`` …); :data:`ERRORS` maps
each one to what it means and what to do, in words a caregiver understands.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from assistant.ops.clock import Clock

_LOGGER = logging.getLogger(__name__)

STATUS_FILE: Final = "status.json"
WRITE_EVERY_S: Final = 5.0
"""Shortest interval between two status writes (SD cards wear out)."""
STALE_AFTER_S: Final = 30.0
"""A snapshot older than this means the assistant is not running (or hung)."""
FILE_MODE: Final = 0o640
"""status.json names medicines (next reminder): readable by the service group only."""


# ---------------------------------------------------------------- error codes


@dataclass(frozen=True)
class ErrorInfo:
    meaning: str
    """What happened, in plain words."""
    what_to_do: str
    """What a caregiver or technician can do about it."""


ERRORS: Final[dict[str, ErrorInfo]] = {
    "mic_stalled": ErrorInfo(
        "The microphone stopped sending sound.",
        "Check that the microphone is plugged in; the assistant restarts itself. "
        "If it keeps happening, unplug the speaker for ten seconds and plug it back in.",
    ),
    "mic_missing": ErrorInfo(
        "No microphone was found.",
        "Plug in the microphone (or the speakerphone) and wait a minute.",
    ),
    "loop_stalled": ErrorInfo(
        "The assistant stopped responding and was restarted.",
        "Nothing, if it happens rarely. If it repeats, send the log (journalctl -u jiayi) to support.",
    ),
    "recognizer_hung": ErrorInfo(
        "Speech recognition stopped answering.",
        "The assistant restarts itself. If it repeats, the device may be short of memory: send the log to support.",
    ),
    "model_missing": ErrorInfo(
        "The speech model for the chosen language is not installed.",
        "Install it: sudo -u jiayi /opt/jiayi/venv/bin/jiayi model install --from <model folder or zip>.",
    ),
    "broker_unreachable": ErrorInfo(
        "The doctor's service cannot be reached (no internet or the server is down).",
        "Check the internet connection (router, Wi-Fi). Requests are kept and sent later; "
        "emergencies use the phone.",
    ),
    "broker_auth_failed": ErrorInfo(
        "The doctor's service refused the device's user name or password.",
        "Ask the practice for the device's login and update /etc/jiayi/config.yaml.",
    ),
    "tls_failed": ErrorInfo(
        "The secure connection to the doctor's service failed (certificate problem or wrong clock).",
        "Check that the date and time on the device are right; ask the practice for a current certificate.",
    ),
    "tts_hung": ErrorInfo(
        "The voice output got stuck.",
        "Check the speaker cable and volume; the assistant restarts its voice by itself.",
    ),
    "speaker_missing": ErrorInfo(
        "No speaker was found.",
        "Plug in the speaker (or the speakerphone) and wait a minute.",
    ),
    "modem_missing": ErrorInfo(
        "The phone modem is not connected, so the phone fallback cannot call.",
        "Check the USB modem and its SIM card; restart the device if it was just plugged in.",
    ),
    "route_down": ErrorInfo(
        "An emergency route is down, so an emergency may reach fewer people (see Route down).",
        "Check the internet connection and the phone modem; the assistant keeps retrying by itself.",
    ),
    "config_invalid": ErrorInfo(
        "The settings file has a mistake; the last good settings are still in use.",
        "Run: jiayi check-config /etc/jiayi/config.yaml and fix the lines it names.",
    ),
    "outbox_full": ErrorInfo(
        "Many requests are waiting to be sent.",
        "Check the internet connection; they will be sent when it is back.",
    ),
    "disk_full": ErrorInfo(
        "The device's storage is full.",
        "Ask a technician to free space (old logs, models) on the SD card.",
    ),
}


def explain(code: str) -> ErrorInfo:
    """Plain-language meaning of an error code (``action_failed:Say`` → the ``action_failed`` entry)."""
    base = code.split(":", 1)[0]
    return ERRORS.get(base) or ErrorInfo(
        f"An internal problem occurred ({code}).",
        "If it repeats, send the log (journalctl -u jiayi) to support.",
    )


# ---------------------------------------------------------------- snapshot


@dataclass(frozen=True)
class Status:
    """What the daemon knows about itself; every field optional so old/new files still load."""

    written_at: str = ""
    """ISO time (with offset) when the snapshot was taken."""
    pid: int = 0
    version: str = ""
    state: str = ""
    """``starting``, ``running``, ``draining``, ``stopped``."""
    healthy: bool = True
    """False while a watchdog probe is stale or a current error needs attention."""
    uptime_s: float = 0.0
    language: str = ""
    audio_input: str = ""
    """``mic``, ``wav``, ``stdin`` or ``null``; with the device name when known: ``mic:ReSpeaker``."""
    mic_level_dbfs: float | None = None
    """Loudness of recent audio (dBFS, 0 = loudest); None when no audio yet."""
    last_audio_age_s: float | None = None
    """Seconds since the last microphone chunk when the snapshot was taken."""
    engine: str = ""
    """``vosk`` or ``pocketsphinx``."""
    model: str = ""
    broker_url: str = ""
    broker_connected: bool | None = None
    """None when there is no backend connection configured."""
    outbox_depth: int = 0
    """Requests stored on the device, not yet acknowledged by the backend."""
    next_reminder_at: str = ""
    """ISO time of the next medication reminder; empty when none."""
    next_reminder: str = ""
    """What it is for, e.g. "amlodipine"."""
    last_error: str = ""
    """Error code (see :data:`ERRORS`); empty when none."""
    last_error_at: str = ""
    error_active: bool = False
    """The last error is still going on (e.g. broker still unreachable)."""
    stale_probes: tuple[str, ...] = ()
    last_restart: str = ""
    """Plain words from the watchdog, e.g. "restarted because the microphone stopped sending audio at 14:02"."""
    emergency_routes: str = ""
    """The routes an emergency takes, in order, e.g. "the practice → phone calls → text messages → alarm in the room"."""
    routes_down: tuple[str, ...] = ()
    """Plain words for each route that is down right now (empty = all up)."""
    alarm_sounding: bool = False
    """The room alarm is sounding (every route failed; it stops when she says stop)."""
    false_alarms_today: int = 0
    """Emergencies she cancelled today (alarm fatigue)."""

    def __post_init__(self) -> None:
        for name in ("stale_probes", "routes_down"):  # lists from JSON or asdict() become tuples
            object.__setattr__(self, name, tuple(getattr(self, name) or ()))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["stale_probes"] = list(self.stale_probes)
        data["routes_down"] = list(self.routes_down)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Status:
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        for name in ("stale_probes", "routes_down"):
            if name in kwargs:
                kwargs[name] = tuple(kwargs[name] or ())
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> Status:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("status is not a JSON object")
        return cls.from_dict(data)


def status_path(state_dir: Path) -> Path:
    return Path(state_dir) / STATUS_FILE


class StatusWriter:
    """Writes ``status.json`` atomically (temp file + fsync + rename), at most every ``every_s``."""

    def __init__(self, state_dir: Path, clock: Clock, every_s: float = WRITE_EVERY_S) -> None:
        self.path = status_path(state_dir)
        self._clock = clock
        self._every_s = every_s
        self._last: float | None = None
        self.writes = 0

    def due(self) -> bool:
        return self._last is None or self._clock.monotonic() - self._last >= self._every_s

    def maybe_write(self, status: Status) -> bool:
        """Write when due; True when written."""
        if not self.due():
            return False
        return self.write(status)

    def write(self, status: Status) -> bool:
        """Write now; False (logged) on a file system error, which never stops the daemon."""
        self._last = self._clock.monotonic()
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(status.to_json())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as err:
            _LOGGER.error("event=status_write_failed error=%s", type(err).__name__)
            return False
        self.writes += 1
        return True


def read_status(state_dir: Path) -> Status | None:
    """The last snapshot, or None when there is none. Raises OSError (e.g. permission) / ValueError."""
    try:
        text = status_path(state_dir).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return Status.from_json(text)


# ---------------------------------------------------------------- reading it


@dataclass(frozen=True)
class Assessment:
    running: bool
    healthy: bool
    age_s: float | None
    headline: str


def _ago(seconds: float) -> str:
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} second{'s' if s != 1 else ''} ago"
    m = s // 60
    if m < 60:
        return f"{m} minute{'s' if m != 1 else ''} ago"
    h = m // 60
    if h < 48:
        return f"{h} hour{'s' if h != 1 else ''} ago"
    d = h // 24
    return f"{d} days ago"


def _parse_time(text: str) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def assess(status: Status | None, now: dt.datetime, stale_after_s: float = STALE_AFTER_S) -> Assessment:
    """Is the assistant running and healthy, judging by the snapshot and its age?"""
    if status is None:
        return Assessment(False, False, None, "The assistant has not run yet (no status found).")
    written = _parse_time(status.written_at)
    age = (now - written).total_seconds() if written else None
    if status.state == "stopped":
        seen = f": stopped {_ago(age)}" if age is not None else ""
        return Assessment(False, False, age, f"The assistant is not running{seen}.")
    if age is None or age > stale_after_s:
        seen = f": last seen {_ago(age)}" if age is not None else ""
        return Assessment(False, False, age, f"The assistant is not running{seen}.")
    if not status.healthy or status.stale_probes or status.error_active or status.routes_down:
        return Assessment(True, False, age, "The assistant is running but needs attention.")
    return Assessment(True, True, age, "The assistant is running normally.")


def _hhmm(iso: str) -> str:
    when = _parse_time(iso)
    return when.strftime("%H:%M") if when else iso


def _level_words(dbfs: float) -> str:
    if dbfs < -60:
        return "silent room"
    if dbfs < -35:
        return "quiet"
    if dbfs < -15:
        return "speech level"
    return "loud"


def render(status: Status | None, now: dt.datetime, stale_after_s: float = STALE_AFTER_S) -> str:
    """The one screen ``jiayi status`` prints."""
    verdict = assess(status, now, stale_after_s)
    lines = [f"Jiayi status: {verdict.headline}"]
    if status is None:
        lines.append("  Start it with: sudo systemctl start jiayi")
        return "\n".join(lines) + "\n"

    def row(label: str, text: str) -> None:
        lines.append(f"  {label:<14}{text}")

    if verdict.age_s is not None:
        row("Updated", f"{_ago(verdict.age_s)} ({_hhmm(status.written_at)})")
    if status.mic_level_dbfs is not None or status.last_audio_age_s is not None:
        parts = []
        if status.mic_level_dbfs is not None:
            parts.append(f"level {status.mic_level_dbfs:.0f} dBFS ({_level_words(status.mic_level_dbfs)})")
        if status.last_audio_age_s is not None:
            parts.append(f"last sound received {status.last_audio_age_s:.1f} s before the update")
        row("Microphone", ", ".join(parts) + (f" [{status.audio_input}]" if status.audio_input else ""))
    elif status.audio_input:
        row("Microphone", f"no audio yet [{status.audio_input}]")
    if status.engine or status.model:
        engine = status.engine or "?"
        model = f", model {status.model}" if status.model else ""
        lang = f" ({status.language})" if status.language else ""
        row("Speech engine", f"{engine}{model}{lang}")
    if status.broker_connected is None:
        backend = "no doctor's service configured"
    elif status.broker_connected:
        backend = f"connected to {status.broker_url}" if status.broker_url else "connected"
    else:
        backend = f"NOT connected to {status.broker_url}" if status.broker_url else "NOT connected"
    waiting = status.outbox_depth
    backend += f"; {waiting} request{'s' if waiting != 1 else ''} waiting to be sent"
    row("Doctor link", backend)
    if status.emergency_routes:
        row("Emergencies", status.emergency_routes)
    for reason in status.routes_down:
        row("Route down", reason)
    if status.alarm_sounding:
        row("ALARM", "the alarm is sounding: nobody could be reached for an emergency")
    row(
        "False alarms",
        f"{status.false_alarms_today} cancelled emergenc{'y' if status.false_alarms_today == 1 else 'ies'} today",
    )
    if status.next_reminder_at:
        what = f"{status.next_reminder} " if status.next_reminder else ""
        row("Next reminder", f"{what}at {_hhmm(status.next_reminder_at)}")
    else:
        row("Next reminder", "none scheduled")
    if status.last_restart:
        row("Last restart", status.last_restart)
    if status.stale_probes:
        row("Not responding", ", ".join(status.stale_probes))
    if status.last_error:
        info = explain(status.last_error)
        when = f" at {_hhmm(status.last_error_at)}" if status.last_error_at else ""
        still = " (still going on)" if status.error_active else ""
        row("Last problem", f"{info.meaning}{still} [{status.last_error}{when}]")
        row("What to do", info.what_to_do)
    else:
        row("Last problem", "none")
    if not verdict.running and status.state != "stopped":
        row("To restart", "sudo systemctl restart jiayi  (details: sudo systemctl status jiayi)")
    return "\n".join(lines) + "\n"
