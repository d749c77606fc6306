"""Package data: intent catalogs and prompts (``intents/``), earcons and recorded prompts (``audio/``),
device profiles (``device/``).

In the source tree these are the top-level folders of the repository; ``pyproject.toml`` maps them
into this package (``assistant.data.intents`` …), so a wheel installed anywhere carries them and they
load through :mod:`importlib.resources`. ``$JIAYI_DATA_DIR`` (a folder holding ``intents/``,
``audio/`` and ``device/``) overrides all three.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def _folder(name: str) -> Path:
    override = os.environ.get("JIAYI_DATA_DIR")
    if override:
        return Path(override) / name
    # Installed (wheel or editable) packages live on disk, so the resource root is a real folder.
    return Path(str(resources.files(f"assistant.data.{name}")))


def intents_dir() -> Path:
    """Intent catalogs ``<lang>.yaml`` and prompts ``prompts-<lang>.yaml``."""
    return _folder("intents")


def audio_dir() -> Path:
    """``earcons/*.wav`` and recorded prompts ``prompts/<lang>/<prompt-id>.wav``."""
    return _folder("audio")


def device_dir() -> Path:
    """Device profiles ``<name>.yaml``."""
    return _folder("device")
