"""Where spoken replies and earcons go: the speaker, numbered WAV files, or nowhere.

Every sink has the same small interface (:class:`AudioSink`): ``start()``, ``play(audio,
sample_rate)`` (raw 16-bit mono PCM bytes, or a WAV file path), ``wait(timeout_s)`` until the
sound has finished, and ``stop()``. :func:`open_sink` builds one from ``settings.audio``.

``sounddevice`` (PortAudio) is imported only when a speaker sink starts, so a machine without
PortAudio can still run with WAV or null output; a missing library or device raises
:class:`SinkUnavailable` with a plain explanation.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from assistant.ops.settings import Audio

_LOGGER = logging.getLogger(__name__)

SAMPLE_WIDTH: Final = 2
"""Bytes per sample: every sink plays 16-bit signed little-endian mono PCM."""
PLAYBACK_MARGIN_S: Final = 2.0
"""Extra seconds allowed on top of a sound's duration before ``wait`` gives up."""


class SinkUnavailable(RuntimeError):
    """The configured output can't be used (no PortAudio, no matching device, no folder)."""


@dataclass(frozen=True)
class Pcm:
    """16-bit mono PCM samples and their rate."""

    data: bytes
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.data) / (SAMPLE_WIDTH * self.sample_rate) if self.sample_rate else 0.0


def read_wav(path: str | os.PathLike[str]) -> Pcm:
    """Read a 16-bit WAV file as mono PCM (stereo is mixed down). ValueError for other formats."""
    with wave.open(os.fspath(path), "rb") as wav:
        channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    if width != SAMPLE_WIDTH:
        raise ValueError(f"{path}: {8 * width}-bit WAV; 16-bit PCM is needed")
    if channels == 1:
        return Pcm(frames, rate)
    samples = memoryview(frames).cast("h")
    mono = [sum(samples[i : i + channels]) // channels for i in range(0, len(samples), channels)]
    return Pcm(_pack(mono), rate)


def write_wav(path: str | os.PathLike[str], pcm: Pcm) -> Path:
    """Write mono 16-bit PCM to ``path`` (parents created); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(os.fspath(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(pcm.sample_rate)
        wav.writeframes(pcm.data)
    return out


def scale_pcm(pcm: Pcm, gain: float) -> Pcm:
    """Multiply every sample by ``gain`` (clipped to the 16-bit range)."""
    if abs(gain - 1.0) < 1e-6:
        return pcm
    samples = memoryview(pcm.data[: len(pcm.data) // 2 * 2]).cast("h")
    scaled = [max(-32768, min(32767, int(s * gain))) for s in samples]
    return Pcm(_pack(scaled), pcm.sample_rate)


def rms(pcm: Pcm) -> float:
    """Root-mean-square level of the samples (0 … 32768)."""
    samples = memoryview(pcm.data[: len(pcm.data) // 2 * 2]).cast("h")
    if not samples:
        return 0.0
    return (sum(s * s for s in samples) / len(samples)) ** 0.5


def _pack(samples: Sequence[int]) -> bytes:
    import array

    return array.array("h", samples).tobytes()


def as_pcm(audio: bytes | os.PathLike[str] | Pcm, sample_rate: int | None) -> Pcm:
    """Normalise what ``play`` accepts: Pcm, raw PCM bytes (needs ``sample_rate``) or a WAV path."""
    if isinstance(audio, Pcm):
        return audio
    if isinstance(audio, bytes | bytearray | memoryview):
        if not sample_rate:
            raise ValueError("raw PCM needs a sample_rate")
        return Pcm(bytes(audio), sample_rate)
    return read_wav(audio)


class AudioSink(Protocol):
    """One output for spoken replies and earcons."""

    name: str

    def start(self) -> None:
        """Open the output (device, folder); SinkUnavailable when it can't be used."""

    def play(
        self, audio: bytes | os.PathLike[str] | Pcm, sample_rate: int | None = None, *, label: str = ""
    ) -> None:
        """Start playing (returns at once for the speaker); ``label`` names WAV output files."""

    def wait(self, timeout_s: float) -> bool:
        """Block until the current sound has finished; False when ``timeout_s`` passed first."""

    def stop(self) -> None:
        """Cut the current sound short and release the output."""


# ---------------------------------------------------------------------------- null


class NullSink:
    """Plays nothing; counts what it was given (for tests and headless runs)."""

    name = "null"

    def __init__(self) -> None:
        self.played = 0
        self.seconds = 0.0

    def start(self) -> None:
        pass

    def play(
        self, audio: bytes | os.PathLike[str] | Pcm, sample_rate: int | None = None, *, label: str = ""
    ) -> None:
        pcm = as_pcm(audio, sample_rate)
        self.played += 1
        self.seconds += pcm.duration_s

    def wait(self, timeout_s: float) -> bool:
        return True

    def stop(self) -> None:
        pass


# ---------------------------------------------------------------------------- WAV files

_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_NUMBERED = re.compile(r"^(\d{4,})(?:-.*)?\.wav$")


class WavFileSink:
    """Writes each sound as a numbered WAV (``0001-<label>.wav``) in ``output_dir``.

    Numbering continues after the highest file already there, so a restarted daemon never
    overwrites what an earlier run said. ``written`` lists the files of this sink, in order.
    """

    name = "wav"

    def __init__(self, output_dir: str | os.PathLike[str]) -> None:
        self.output_dir = Path(output_dir).expanduser()
        self.written: list[Path] = []
        self._next = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise SinkUnavailable(f"can't create the WAV output folder {self.output_dir}: {err}") from err
        highest = 0
        for entry in self.output_dir.iterdir():
            match = _NUMBERED.match(entry.name)
            if match:
                highest = max(highest, int(match.group(1)))
        self._next = highest + 1

    def play(
        self, audio: bytes | os.PathLike[str] | Pcm, sample_rate: int | None = None, *, label: str = ""
    ) -> None:
        pcm = as_pcm(audio, sample_rate)
        with self._lock:
            if self._next == 0:
                self.start()
            number = self._next
            self._next += 1
        safe = _LABEL_UNSAFE.sub("_", label).strip("_.")[:60]
        path = self.output_dir / (f"{number:04d}-{safe}.wav" if safe else f"{number:04d}.wav")
        write_wav(path, pcm)
        self.written.append(path)
        _LOGGER.debug("wrote %s (%.2f s)", path.name, pcm.duration_s)

    def wait(self, timeout_s: float) -> bool:
        return True

    def stop(self) -> None:
        pass


# ---------------------------------------------------------------------------- speaker


def pick_output_device(devices: Sequence[Mapping[str, Any]], pattern: str) -> int | None:
    """Index of the first output device whose name matches ``pattern`` (case-insensitive
    substring, else regex); None = PortAudio's default. SinkUnavailable when nothing matches."""
    outputs = [(i, d) for i, d in enumerate(devices) if int(d.get("max_output_channels", 0)) > 0]
    if not pattern:
        if not outputs:
            raise SinkUnavailable("no speaker: PortAudio lists no audio output device")
        return None
    needle = pattern.casefold()
    for index, device in outputs:
        if needle in str(device.get("name", "")).casefold():
            return index
    try:
        regex = re.compile(pattern, re.IGNORECASE)
    except re.error:
        regex = None
    if regex is not None:
        for index, device in outputs:
            if regex.search(str(device.get("name", ""))):
                return index
    names = ", ".join(repr(str(d.get("name", ""))) for _, d in outputs) or "none"
    raise SinkUnavailable(f"no output device matches {pattern!r} (outputs: {names})")


class SpeakerSink:
    """Plays through PortAudio (sounddevice) on the device whose name matches ``device_pattern``.

    ``play`` returns at once; PortAudio's callback thread feeds the samples and sets an event
    when the sound is done, which ``wait`` waits on (with a timeout).
    """

    name = "speaker"

    def __init__(self, device_pattern: str = "") -> None:
        self.device_pattern = device_pattern
        self._sd: Any = None
        self._device: int | None = None
        self._stream: Any = None
        self._done = threading.Event()
        self._done.set()
        self._duration_s = 0.0
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._sd is not None:
            return
        try:
            import sounddevice
        except OSError as err:  # PortAudio shared library missing
            raise SinkUnavailable(
                f"no speaker: PortAudio is not installed ({err}); install libportaudio2"
            ) from err
        except ImportError as err:
            raise SinkUnavailable(f"no speaker: the sounddevice package is missing ({err})") from err
        try:
            devices = list(sounddevice.query_devices())
        except Exception as err:  # PortAudio errors are not a single class
            raise SinkUnavailable(f"no speaker: PortAudio can't list devices ({err})") from err
        self._device = pick_output_device(devices, self.device_pattern)
        self._sd = sounddevice

    def play(
        self, audio: bytes | os.PathLike[str] | Pcm, sample_rate: int | None = None, *, label: str = ""
    ) -> None:
        pcm = as_pcm(audio, sample_rate)
        self.start()
        self.stop()
        data = memoryview(pcm.data)
        position = 0
        done = threading.Event()

        def feed(outdata: Any, frames: int, _time: Any, _status: Any) -> None:
            nonlocal position
            wanted = frames * SAMPLE_WIDTH
            chunk = data[position : position + wanted]
            position += len(chunk)
            outdata[: len(chunk)] = chunk
            if len(chunk) < wanted:
                outdata[len(chunk) :] = b"\x00" * (wanted - len(chunk))
                raise self._sd.CallbackStop

        with self._lock:
            try:
                stream = self._sd.RawOutputStream(
                    samplerate=pcm.sample_rate,
                    channels=1,
                    dtype="int16",
                    device=self._device,
                    callback=feed,
                    finished_callback=done.set,
                )
                stream.start()
            except Exception as err:
                raise SinkUnavailable(f"the speaker can't play: {err}") from err
            self._stream, self._done, self._duration_s = stream, done, pcm.duration_s

    def wait(self, timeout_s: float) -> bool:
        finished = self._done.wait(timeout_s)
        if finished:
            self._close_stream()
        return finished

    def stop(self) -> None:
        with self._lock:
            stream = self._stream
            if stream is not None:
                try:
                    stream.abort()
                except Exception as err:
                    _LOGGER.warning("speaker stream abort failed: %s", err)
            self._done.set()
        self._close_stream()

    def _close_stream(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception as err:
                _LOGGER.warning("speaker stream close failed: %s", err)


def open_sink(audio: Audio, *, default_dir: str | os.PathLike[str] | None = None) -> AudioSink:
    """The sink ``settings.audio`` asks for, started. SinkUnavailable when it can't be used.

    ``default_dir`` is used for ``output: wav`` when ``audio.output_dir`` is empty.
    """
    sink: AudioSink
    if audio.output == "null":
        sink = NullSink()
    elif audio.output == "wav":
        folder = audio.output_dir or (os.fspath(default_dir) if default_dir else "")
        if not folder:
            raise SinkUnavailable("audio.output is 'wav' but audio.output_dir is empty")
        sink = WavFileSink(folder)
    elif audio.output == "speaker":
        sink = SpeakerSink(audio.output_device)
    else:
        raise SinkUnavailable(f"unknown audio.output {audio.output!r} (speaker, wav or null)")
    sink.start()
    _LOGGER.info("audio output: %s", sink.name)
    return sink
