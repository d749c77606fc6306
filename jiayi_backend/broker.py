"""A private mosquitto for ``make run`` on a fresh machine (and for the tests' helpers).

:func:`ensure_broker` returns the configured ``backend.url`` when there is one; otherwise it
starts ``mosquitto`` on a free loopback port with its own config and persistence in the state
directory (TCP_NODELAY on, autosave on every change so a crash loses nothing) and returns its URL
and a handle to stop it. When mosquitto is not installed it raises :class:`BrokerUnavailable`
naming the package to install.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

BROKER_START_TIMEOUT_S: Final = 10.0
BROKER_STOP_TIMEOUT_S: Final = 5.0
POLL_S: Final = 0.02


class BrokerUnavailable(RuntimeError):
    """No broker configured and none can be started here."""


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)), None
    )
    if not found:
        raise BrokerUnavailable(
            "no MQTT broker: set backend.url in the config, or install mosquitto "
            "(sudo apt-get install mosquitto; `make run` does this)"
        )
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class LocalBroker:
    """One mosquitto process with its own config dir; start, stop, ``kill()`` (-9) and restart.

    ``listener_conf`` replaces the default ``listener <port> 127.0.0.1`` + ``allow_anonymous true``
    block (tests use it for TLS, password files and ACLs); ``{port}`` and ``{dir}`` are filled in.
    """

    def __init__(
        self,
        config_dir: Path,
        port: int | None = None,
        *,
        persistence: bool = True,
        listener_conf: str | None = None,
        extra_conf: str = "",
        autosave_changes: int = 1,
    ) -> None:
        self.config_dir = Path(config_dir)
        self.port = port or free_port()
        self.persistence = persistence
        self.listener_conf = listener_conf
        self.extra_conf = extra_conf
        self.autosave_changes = autosave_changes
        """Save the persistence file after this many changes (1: every change, nothing lost in a
        crash, but every message costs a write of the whole file)."""
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.config_dir / "mosquitto.log"

    def write_config(self) -> Path:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        listener = self.listener_conf or "listener {port} 127.0.0.1\nallow_anonymous true\n"
        lines = [
            "# written by assistant/broker.py",
            "per_listener_settings false",
            listener.format(port=self.port, dir=self.config_dir),
            "set_tcp_nodelay true",
            f"log_dest file {self.log_path}",
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information",
            "max_queued_messages 100000",
        ]
        if os.geteuid() == 0:
            lines.append("user root")
        if self.persistence:
            lines += [
                "persistence true",
                f"persistence_location {self.config_dir}/",
                "autosave_on_changes true",
                f"autosave_interval {self.autosave_changes}",
            ]
        else:
            lines.append("persistence false")
        lines.append(self.extra_conf)
        path = self.config_dir / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self, timeout_s: float = BROKER_START_TIMEOUT_S) -> None:
        conf = self.write_config()
        self.process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise BrokerUnavailable(f"mosquitto exited at start: {err.strip()[-500:]} {self.log_tail()}")
            if port_accepts(self.port):
                return
            time.sleep(POLL_S)
        self.kill()
        raise BrokerUnavailable(f"mosquitto did not listen on port {self.port} within {timeout_s:.0f} s")

    def log_tail(self, chars: int = 800) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def _wait_gone(self, timeout_s: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout_s)
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def stop(self, timeout_s: float = BROKER_STOP_TIMEOUT_S) -> None:
        """Clean stop (SIGTERM: mosquitto saves its persistence file)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self._wait_gone(timeout_s)

    def kill(self) -> None:
        """Crash it: SIGKILL, no chance to save anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self._wait_gone(BROKER_STOP_TIMEOUT_S)

    def restart(self) -> None:
        """Start again on the same port and persistence directory."""
        self.start()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass(frozen=True)
class BrokerHandle:
    url: str
    broker: LocalBroker | None = None
    """The private broker we started, or None when the configured URL is used."""

    def stop(self) -> None:
        if self.broker is not None:
            self.broker.stop()


def ensure_broker(url: str, state_dir: Path) -> BrokerHandle:
    """``url`` if set; else a private mosquitto under ``<state_dir>/broker``."""
    if url:
        return BrokerHandle(url)
    broker = LocalBroker(Path(state_dir) / "broker")
    broker.start()
    return BrokerHandle(broker.url, broker)
