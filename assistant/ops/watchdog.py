"""A watchdog that means something: systemd is petted only while every part of the pipeline is alive.

The daemon registers named liveness probes, each with a maximum age:

* ``audio`` — beaten on every microphone chunk (from the PortAudio callback thread);
* ``loop`` — beaten on every iteration of the daemon's event loop;
* ``recognizer`` — beaten whenever the speech engine answers a heartbeat.

:meth:`Watchdog.maybe_pet` is called from the daemon loop. It sends ``WATCHDOG=1`` only while all
probes are fresh. As soon as one is stale it stops petting, tells systemd why (``STATUS=``) and
writes the reason into the state directory; systemd then kills and restarts the service after
``WatchdogSec``, and after the restart ``jiayi status`` can say "restarted because the microphone
stopped sending audio at 14:02". Because ``maybe_pet`` runs on the loop, a hung loop stops petting
by itself.

Thread safety: :meth:`Watchdog.beat` only stores one float in a dict (atomic under the GIL), so
it is safe and cheap to call from library threads; everything else runs on the daemon loop.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from assistant.ops.clock import Clock

_LOGGER = logging.getLogger(__name__)

PENDING_REASON_FILE: Final = "watchdog-pending.json"
"""Written when petting stops; removed again if the probes recover before systemd acts."""
LAST_RESTART_FILE: Final = "last-restart.json"
"""The pending reason, adopted by the next start: what ``jiayi status`` shows."""
DEFAULT_PET_INTERVAL_S: Final = 5.0
"""Pet interval when systemd gave no ``$WATCHDOG_USEC`` (not under systemd)."""


# ---------------------------------------------------------------- probes


@dataclass(frozen=True)
class Probe:
    """One liveness probe: ``name`` must be beaten at least every ``max_age_s`` seconds."""

    name: str
    max_age_s: float
    code: str
    """Error code shown by ``jiayi status`` (see :data:`assistant.ops.status.ERRORS`)."""
    stopped: str
    """Plain words for what stopped, e.g. "the microphone stopped sending audio"."""


AUDIO: Final = "audio"
LOOP: Final = "loop"
RECOGNIZER: Final = "recognizer"

STANDARD_PROBES: Final[Mapping[str, Probe]] = {
    AUDIO: Probe(AUDIO, 10.0, "mic_stalled", "the microphone stopped sending audio"),
    LOOP: Probe(LOOP, 15.0, "loop_stalled", "the assistant's main loop stopped turning"),
    RECOGNIZER: Probe(RECOGNIZER, 60.0, "recognizer_hung", "the speech recognizer stopped answering"),
}
"""Default probes; the daemon registers only those for parts it actually runs."""


@dataclass(frozen=True)
class Health:
    ok: bool
    stale: tuple[str, ...] = ()
    """Names of the probes that are too old."""
    reason: str = ""
    """Plain words, e.g. "the microphone stopped sending audio (last 42 s ago)"; empty when ok."""
    code: str = ""
    """Error code of the first stale probe, e.g. ``mic_stalled``; empty when ok."""


# ---------------------------------------------------------------- systemd notification


class Notifier(Protocol):
    def ready(self) -> None: ...
    def status(self, text: str) -> None: ...
    def pet(self) -> None: ...
    def stopping(self) -> None: ...
    def reloading(self) -> None: ...


def watchdog_interval_s(env: Mapping[str, str] | None = None) -> float | None:
    """systemd's ``WatchdogSec`` in seconds from ``$WATCHDOG_USEC`` (None when not set or not for us)."""
    env = os.environ if env is None else env
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    return int(usec) / 1_000_000


class SystemdNotifier:
    """``sd_notify`` through the ``sdnotify`` package; every call is a no-op when ``$NOTIFY_SOCKET`` is unset."""

    def __init__(self) -> None:
        self.enabled = bool(os.environ.get("NOTIFY_SOCKET"))
        self._sd = None
        if self.enabled:
            import sdnotify

            self._sd = sdnotify.SystemdNotifier()

    def _send(self, message: str) -> None:
        if self._sd is not None:
            self._sd.notify(message)

    def ready(self) -> None:
        self._send("READY=1")

    def status(self, text: str) -> None:
        # One line: STATUS= ends at the newline.
        self._send("STATUS=" + " ".join(text.split()))

    def pet(self) -> None:
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def reloading(self) -> None:
        """Call before re-reading config; call :meth:`ready` when done."""
        self._send("RELOADING=1")


# ---------------------------------------------------------------- restart reasons


@dataclass(frozen=True)
class RestartReason:
    code: str
    reason: str
    """Plain words without time, e.g. "the microphone stopped sending audio"."""
    since: str
    """ISO time of the last sign of life of the stale probe."""
    written_at: str

    def describe(self) -> str:
        """ "restarted because the microphone stopped sending audio at 14:02"."""
        try:
            when = dt.datetime.fromisoformat(self.since).strftime("%H:%M")
        except ValueError:
            when = self.since
        return f"restarted because {self.reason} at {when}"

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> RestartReason:
        data = json.loads(text)
        return cls(**{k: str(data.get(k, "")) for k in ("code", "reason", "since", "written_at")})


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def adopt_restart_reason(state_dir: Path) -> RestartReason | None:
    """At start-up: if the previous run stopped petting, keep its reason as the last restart.

    Returns the adopted reason (None after a clean start). Call once, before the new
    :class:`Watchdog` can write a pending reason of its own.
    """
    pending = Path(state_dir) / PENDING_REASON_FILE
    try:
        reason = RestartReason.from_json(pending.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as err:
        _LOGGER.warning("event=restart_reason_unreadable error=%s", type(err).__name__)
        pending.unlink(missing_ok=True)
        return None
    os.replace(pending, Path(state_dir) / LAST_RESTART_FILE)
    _LOGGER.warning("event=restarted_by_watchdog code=%s since=%s", reason.code, reason.since)
    return reason


def last_restart_reason(state_dir: Path) -> RestartReason | None:
    """The last watchdog restart recorded in ``state_dir`` (for ``jiayi status``)."""
    try:
        return RestartReason.from_json((Path(state_dir) / LAST_RESTART_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None


# ---------------------------------------------------------------- the watchdog


class Watchdog:
    """Named liveness probes; pets systemd only while all of them are fresh."""

    def __init__(
        self,
        clock: Clock,
        notifier: Notifier,
        probes: Iterable[Probe] = (),
        *,
        state_dir: Path | None = None,
        pet_interval_s: float | None = None,
    ) -> None:
        self._clock = clock
        self._notifier = notifier
        self._state_dir = Path(state_dir) if state_dir is not None else None
        if pet_interval_s is None:
            watchdog_s = watchdog_interval_s()
            pet_interval_s = watchdog_s / 2 if watchdog_s else DEFAULT_PET_INTERVAL_S
        self.pet_interval_s = pet_interval_s
        self._probes: dict[str, Probe] = {}
        self._last: dict[str, float] = {}
        self._last_pet: float | None = None
        self._unhealthy: Health | None = None
        self.pets = 0
        for probe in probes:
            self.register(probe)

    def register(self, probe: Probe | str, max_age_s: float | None = None) -> None:
        """Add a probe (a :class:`Probe`, or a standard probe's name with an optional max age).

        A new probe counts as fresh for its first ``max_age_s`` (start-up grace).
        """
        if isinstance(probe, str):
            base = STANDARD_PROBES.get(probe) or Probe(
                probe, max_age_s or 30.0, f"{probe}_stalled", f"{probe} stopped"
            )
            probe = Probe(base.name, max_age_s or base.max_age_s, base.code, base.stopped)
        self._probes[probe.name] = probe
        self._last[probe.name] = self._clock.monotonic()

    def unregister(self, name: str) -> None:
        """Stop watching ``name`` (e.g. the microphone was switched off by config reload)."""
        self._probes.pop(name, None)
        self._last.pop(name, None)

    @property
    def probes(self) -> tuple[str, ...]:
        return tuple(self._probes)

    def beat(self, name: str) -> None:
        """Sign of life from ``name``. Cheap and thread-safe; unknown names are ignored."""
        if name in self._probes:
            self._last[name] = self._clock.monotonic()

    def age_s(self, name: str) -> float | None:
        """Seconds since ``name`` last beat (None for an unknown probe)."""
        last = self._last.get(name)
        return None if last is None else self._clock.monotonic() - last

    def check(self) -> Health:
        now = self._clock.monotonic()
        stale = [p for p in self._probes.values() if now - self._last.get(p.name, now) > p.max_age_s]
        if not stale:
            return Health(ok=True)
        parts = [f"{p.stopped} (last sign {now - self._last[p.name]:.0f} s ago)" for p in stale]
        return Health(
            ok=False,
            stale=tuple(p.name for p in stale),
            reason="; ".join(parts),
            code=stale[0].code,
        )

    def maybe_pet(self) -> Health:
        """Call every loop iteration: pets (rate-limited) while healthy, else stops petting and records why."""
        health = self.check()
        now = self._clock.monotonic()
        if health.ok:
            if self._unhealthy is not None:
                _LOGGER.warning("event=watchdog_recovered code=%s", self._unhealthy.code)
                self._unhealthy = None
                self._clear_pending()
                self._notifier.status("running")
            if self._last_pet is None or now - self._last_pet >= self.pet_interval_s:
                self._notifier.pet()
                self._last_pet = now
                self.pets += 1
            return health
        if self._unhealthy is None or self._unhealthy.stale != health.stale:
            _LOGGER.error(
                "event=watchdog_stopped_petting code=%s stale=%s", health.code, ",".join(health.stale)
            )
            self._notifier.status(f"unhealthy: {health.reason}")
            self._record_pending(health)
        self._unhealthy = health
        return health

    # ------------------------------------------------------------ state dir

    def _record_pending(self, health: Health) -> None:
        if self._state_dir is None:
            return
        first = self._probes[health.stale[0]]
        age = self.age_s(first.name) or 0.0
        now = self._clock.now()
        reason = RestartReason(
            code=first.code,
            reason=first.stopped,
            since=(now - dt.timedelta(seconds=age)).isoformat(timespec="seconds"),
            written_at=now.isoformat(timespec="seconds"),
        )
        try:
            self._state_dir.mkdir(parents=True, exist_ok=True)
            _write_atomically(self._state_dir / PENDING_REASON_FILE, reason.to_json())
        except OSError as err:
            _LOGGER.error("event=restart_reason_not_written error=%s", type(err).__name__)

    def _clear_pending(self) -> None:
        if self._state_dir is not None:
            (self._state_dir / PENDING_REASON_FILE).unlink(missing_ok=True)
