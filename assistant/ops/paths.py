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
