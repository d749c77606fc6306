"""Where the device keeps its state (outbox, schedules, models, status). Package data: ``assistant.data``."""

from __future__ import annotations

import os
from pathlib import Path


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
