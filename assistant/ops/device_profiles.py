"""Device profiles: which sound card, mixer settings and GPIO lines a speaker model uses.

A profile (``device/<name>.yaml``) is chosen at install time (``install-pi.sh --device NAME``)
and copied to ``/etc/jiayi/device.yaml``. :func:`load_profile` validates it into a frozen
:class:`DeviceProfile`; every problem names the file and line. :meth:`DeviceProfile.fill_audio`
fills the sound-device patterns the caregiver's config left empty.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from assistant import data
from assistant.ops.settings import Audio

INSTALLED_PROFILE: Final = Path("/etc/jiayi/device.yaml")
MIXER_TIMEOUT_S: Final = 10.0
"""Longest one amixer command may take."""
_NAME_RE: Final = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_TOP_KEYS: Final = {"name", "description", "audio", "mixer", "gpio", "notes"}
_AUDIO_KEYS: Final = {"input_device", "output_device", "sample_rate", "channels"}
_LINE_KEYS: Final = {"chip", "line", "active_low"}


class DeviceProfileError(Exception):
    """A profile that cannot be used; ``problems`` are "file:line: what is wrong" strings."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class GpioLine:
    chip: str
    """GPIO character device, e.g. ``gpiochip0``."""
    line: int
    """Line offset on that chip (the BCM GPIO number on a Raspberry Pi)."""
    active_low: bool = False
    """True when pressed/on is the low level (buttons wired to ground)."""


@dataclass(frozen=True)
class DeviceProfile:
    name: str
    description: str
    input_device: str
    """Regular expression for the microphone's sound device name."""
    output_device: str
    """Regular expression for the speaker's sound device name."""
    sample_rate: int = 16000
    channels: int = 1
    mixer: tuple[str, ...] = ()
    """``amixer`` commands that set capture and playback levels."""
    button: GpioLine | None = None
    """Push-to-talk button."""
    led: GpioLine | None = None
    """Status LED."""
    notes: str = ""
    source_path: str = ""

    def fill_audio(self, audio: Audio) -> Audio:
        """``audio`` with empty input/output device patterns taken from this profile (config wins)."""
        return replace(
            audio,
            input_device=audio.input_device or self.input_device,
            output_device=audio.output_device or self.output_device,
        )

    def mixer_commands(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(shlex.split(cmd)) for cmd in self.mixer)

    def apply_mixer(self, run: Any = subprocess.run) -> list[str]:
        """Run the mixer commands; returns plain-language failures (a missing control is not fatal)."""
        failures = []
        for argv in self.mixer_commands():
            try:
                proc = run(list(argv), capture_output=True, text=True, timeout=MIXER_TIMEOUT_S)
            except (OSError, subprocess.TimeoutExpired) as err:
                failures.append(f"{' '.join(argv)}: {err}")
                continue
            if proc.returncode != 0:
                failures.append(f"{' '.join(argv)}: {(proc.stderr or '').strip() or proc.returncode}")
        return failures


def profile_path(name_or_path: str) -> Path:
    """A file path as is; a bare name from the data folder's ``device/``."""
    if "/" in name_or_path or name_or_path.endswith((".yaml", ".yml")):
        return Path(name_or_path).expanduser()
    return data.device_dir() / f"{name_or_path}.yaml"


def list_profiles() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in data.device_dir().glob("*.yaml")))


def _line_of(node: Any, key: str | None = None) -> int | None:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is not None:
            return lc.key(key)[0] + 1
        return lc.line + 1
    except (KeyError, TypeError, AttributeError):
        return None


def _item_line(seq: Any, index: int) -> int | None:
    try:
        return seq.lc.item(index)[0] + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return None


def load_profile(name_or_path: str) -> DeviceProfile:
    """Load and validate a profile; :class:`DeviceProfileError` lists every problem with its line."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    path = profile_path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = ", ".join(list_profiles()) or "none"
        raise DeviceProfileError([f"{path}: no such device profile (known: {known})"]) from None
    except OSError as err:
        raise DeviceProfileError([f"{path}: cannot read: {err.strerror}"]) from None
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise DeviceProfileError([f"{where}: not valid YAML: {getattr(err, 'problem', err)}"]) from None
    problems: list[str] = []

    def problem(node: Any, key: str | None, message: str) -> None:
        line = _line_of(node, key)
        problems.append(f"{path}:{line}: {message}" if line else f"{path}: {message}")

    if not isinstance(data, dict):
        raise DeviceProfileError([f"{path}: a device profile is a mapping (name:, audio:, …)"])
    for key in data:
        if key not in _TOP_KEYS:
            problem(data, key, f"unknown key {key!r} (allowed: {', '.join(sorted(_TOP_KEYS))})")

    name = data.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        problem(data, "name" if "name" in data else None, "name: lowercase letters, digits and '-' required")
    description = data.get("description", "")
    if not isinstance(description, str):
        problem(data, "description", "description must be text")

    audio = data.get("audio")
    fields: dict[str, Any] = {}
    if not isinstance(audio, dict):
        problem(
            data,
            "audio" if "audio" in data else None,
            "audio: mapping with input_device and output_device required",
        )
    else:
        for key in audio:
            if key not in _AUDIO_KEYS:
                problem(audio, key, f"unknown key audio.{key} (allowed: {', '.join(sorted(_AUDIO_KEYS))})")
        for key in ("input_device", "output_device"):
            value = audio.get(key)
            if not isinstance(value, str) or not value.strip():
                problem(
                    audio if key in audio else data,
                    key if key in audio else "audio",
                    f"audio.{key}: a device name pattern is required",
                )
                continue
            try:
                re.compile(value)
            except re.error as err:
                problem(audio, key, f"audio.{key}: not a valid pattern: {err}")
            fields[key] = value
        for key, allowed in (("sample_rate", (8000, 16000, 32000, 44100, 48000)), ("channels", (1, 2))):
            if key in audio:
                value = audio[key]
                if isinstance(value, bool) or value not in allowed:
                    problem(audio, key, f"audio.{key}: must be one of {', '.join(map(str, allowed))}")
                else:
                    fields[key] = int(value)

    mixer = data.get("mixer") or []
    if not isinstance(mixer, list):
        problem(data, "mixer", "mixer: a list of amixer commands")
        mixer = []
    for i, cmd in enumerate(mixer):
        line = _item_line(mixer, i)
        where = f"{path}:{line}" if line else str(path)
        if not isinstance(cmd, str):
            problems.append(f"{where}: mixer entry {i + 1} must be a command line")
            continue
        try:
            argv = shlex.split(cmd)
        except ValueError as err:
            problems.append(f"{where}: mixer entry {i + 1}: {err}")
            continue
        if not argv or argv[0] != "amixer":
            problems.append(f"{where}: mixer entry {i + 1} must be an amixer command")

    lines: dict[str, GpioLine | None] = {"button": None, "led": None}
    gpio = data.get("gpio") or {}
    if not isinstance(gpio, dict):
        problem(data, "gpio", "gpio: mapping with button and led")
        gpio = {}
    for key in gpio:
        if key not in lines:
            problem(gpio, key, f"unknown key gpio.{key} (allowed: button, led)")
    for role in lines:
        spec = gpio.get(role)
        if spec is None:
            continue
        if not isinstance(spec, dict):
            problem(gpio, role, f"gpio.{role}: mapping with chip, line, active_low (or null)")
            continue
        for key in spec:
            if key not in _LINE_KEYS:
                problem(spec, key, f"unknown key gpio.{role}.{key} (allowed: chip, line, active_low)")
        chip, line_no, active_low = (
            spec.get("chip", "gpiochip0"),
            spec.get("line"),
            spec.get("active_low", False),
        )
        ok = True
        if not isinstance(chip, str) or not re.fullmatch(r"gpiochip\d+", chip):
            problem(spec, "chip" if "chip" in spec else None, f"gpio.{role}.chip: like gpiochip0")
            ok = False
        if isinstance(line_no, bool) or not isinstance(line_no, int) or not 0 <= line_no <= 511:
            problem(spec, "line" if "line" in spec else None, f"gpio.{role}.line: a line number 0-511")
            ok = False
        if not isinstance(active_low, bool):
            problem(spec, "active_low", f"gpio.{role}.active_low: true or false")
            ok = False
        if ok:
            lines[role] = GpioLine(chip, line_no, active_low)
    if (
        lines["button"]
        and lines["led"]
        and lines["button"] == replace(lines["led"], active_low=lines["button"].active_low)
    ):
        problem(gpio, "led", "gpio.led uses the same line as gpio.button")

    notes = data.get("notes", "")
    if not isinstance(notes, str):
        problem(data, "notes", "notes must be text")
    if problems:
        raise DeviceProfileError(problems)
    return DeviceProfile(
        name=name,
        description=description.strip(),
        input_device=fields["input_device"],
        output_device=fields["output_device"],
        sample_rate=fields.get("sample_rate", 16000),
        channels=fields.get("channels", 1),
        mixer=tuple(mixer),
        button=lines["button"],
        led=lines["led"],
        notes=notes.strip(),
        source_path=str(path),
    )
