"""Where the device keeps its state (outbox, schedules, models, status). Package data: ``assistant.data``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess
    from multiprocessing.connection import Connection


def state_dir(configured: str = "") -> Path:
    """Outbox, schedules, models: config ``state_dir``, else systemd's $STATE_DIRECTORY, else ~/.local/state/jiayi."""
    if configured:
        return Path(configured).expanduser()
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    return Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "jiayi"


def child_env() -> dict[str, str]:
    """This process's environment with the folder holding the ``assistant`` package first on
    ``PYTHONPATH``: a child started with ``python -m assistant…`` (recognizer, model trainers)
    runs the same code even when the daemon runs from a checkout without installing."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def start_child(module: str) -> tuple[Connection, subprocess.Popen[bytes]]:
    """Start ``python -m <module> FD`` with ``FD`` one end of a socket pair; return the other end (a
    :class:`~multiprocessing.connection.Connection`) and the process. A plain child, not
    multiprocessing's spawn, which re-imports the daemon's main module in the child and starts a
    resource-tracker process beside it (13 MB, ``bench/memory.py``). OSError if it cannot start."""
    import socket  # here, not at the top: the recognizer's child imports this module too
    import subprocess
    from multiprocessing.connection import Connection

    mine, theirs = socket.socketpair()
    parent = Connection(mine.detach())
    child_fd = theirs.detach()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", module, str(child_fd)],
            pass_fds=(child_fd,),
            stdin=subprocess.DEVNULL,
            env=child_env(),
        )
    except OSError:
        parent.close()
        raise
    finally:
        os.close(child_fd)
    return parent, process


def sha256(data: bytes = b"") -> Any:
    """A SHA-256 hash object, as ``hashlib.sha256(data)`` (the same digests), from CPython's
    built-in ``_sha256`` when there is one: ``hashlib`` loads OpenSSL's libcrypto (3.4 MB resident
    in the recognizer's process, which needs no other use of it; docs/benchmarks/speech.md, Memory)."""
    try:
        from _sha256 import sha256 as builtin
    except ImportError:  # another Python build: hashlib's
        import hashlib

        return hashlib.sha256(data)
    return builtin(data)
