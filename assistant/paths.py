"""Where the project's data folders live (intents/, audio/, device/) and the state directory."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """Folder holding intents/, audio/ and device/ (``$JIAYI_DATA_DIR`` overrides the checkout)."""
    return Path(os.environ.get("JIAYI_DATA_DIR", REPO_ROOT))


def intents_dir() -> Path:
    return data_root() / "intents"


def audio_dir() -> Path:
    return data_root() / "audio"


def device_dir() -> Path:
    return data_root() / "device"


def state_dir(configured: str = "") -> Path:
    """Outbox, schedules, models: config ``state_dir``, else systemd's $STATE_DIRECTORY, else ~/.local/state/jiayi."""
    if configured:
        return Path(configured).expanduser()
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    return Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "jiayi"
