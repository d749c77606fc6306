"""Audio input: one interface, four sources (microphone, WAV file, raw PCM on stdin, nothing).

Every source delivers 16 kHz, mono, signed 16-bit little-endian PCM in chunks of
:data:`CHUNK_MS` milliseconds through ``start()`` / ``read_chunk(timeout) -> bytes | None`` /
``stop()``. No audio library is imported at module import time: ``sounddevice`` (PortAudio) is
imported only when a microphone is opened, so the daemon runs where PortAudio is absent and says
so plainly when a microphone was asked for.

The microphone's PortAudio callback only copies bytes into a bounded :class:`ChunkQueue`
(drop-oldest, counted); the listener thread reads from it. A microphone that delivers nothing for
:data:`DEVICE_LOST_TIMEOUT_S` is treated as lost and reopened with exponential backoff and jitter.
"""

from __future__ import annotations

import collections
import logging
import random
import re
import sys
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final, Protocol

_LOGGER = logging.getLogger(__name__)

SAMPLE_RATE: Final = 16000
SAMPLE_WIDTH: Final = 2
CHANNELS: Final = 1
CHUNK_MS: Final = 30
CHUNK_SAMPLES: Final = SAMPLE_RATE * CHUNK_MS // 1000
CHUNK_BYTES: Final = CHUNK_SAMPLES * SAMPLE_WIDTH

QUEUE_MAX_CHUNKS: Final = 200
"""Bounded queue between the PortAudio callback and the reader: 6 s of audio."""
DEVICE_LOST_TIMEOUT_S: Final = 2.0
"""No chunk from a running microphone for this long = device lost; reopen it."""
REOPEN_BACKOFF_START_S: Final = 0.5
REOPEN_BACKOFF_MAX_S: Final = 30.0
REOPEN_JITTER: Final = 0.25
"""Fraction of the backoff added or removed at random, so several devices don't retry in step."""
STDIN_READ_TIMEOUT_S: Final = 1.0


class AudioSourceError(Exception):
    """An audio source cannot be opened or read; the message is meant for people."""


def _audioop() -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop

    return audioop


def rms_level(pcm: bytes) -> float:
    """RMS of 16-bit PCM relative to full scale (0.0–1.0)."""
    if len(pcm) < SAMPLE_WIDTH:
        return 0.0
    return _audioop().rms(pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH], SAMPLE_WIDTH) / 32768.0


@dataclass(frozen=True)
class SourceCounters:
    chunks: int
    """Chunks handed to the reader."""
    dropped: int
    """Chunks dropped because the reader fell behind (oldest dropped first)."""
    overflows: int
    """PortAudio input overflows reported by the driver."""
    reopens: int
    """Times a lost device was reopened."""
    last_chunk_monotonic: float | None
    """``time.monotonic()`` when the last chunk was read (watchdog/status)."""
    last_rms: float
    """RMS level (0–1) of the last chunk read."""


class AudioSource(Protocol):
    name: str

    def start(self) -> None: ...

    def read_chunk(self, timeout: float) -> bytes | None:
        """Next chunk of 16 kHz mono 16-bit PCM, or None when nothing arrived within ``timeout``."""

    def stop(self) -> None: ...

    @property
    def at_end(self) -> bool:
        """True for finite sources (WAV, stdin) once everything was read."""

    def counters(self) -> SourceCounters: ...


class _Stats:
    """Counters shared by all sources."""

    def __init__(self) -> None:
        self.chunks = 0
        self.reopens = 0
        self.last_chunk_monotonic: float | None = None
        self.last_rms = 0.0

    def note(self, chunk: bytes | None) -> bytes | None:
        if chunk:
            self.chunks += 1
            self.last_chunk_monotonic = time.monotonic()
            self.last_rms = rms_level(chunk)
        return chunk


class ChunkQueue:
    """Bounded FIFO between a producer thread (callback) and the reader; drops the oldest chunk."""

    def __init__(self, maxsize: int = QUEUE_MAX_CHUNKS) -> None:
        self._items: collections.deque[bytes] = collections.deque()
        self._cond = threading.Condition()
        self._maxsize = maxsize
        self._closed = False
        self.dropped = 0

    def put(self, chunk: bytes) -> None:
        """Never blocks (safe in an audio callback)."""
        with self._cond:
            if len(self._items) >= self._maxsize:
                self._items.popleft()
                self.dropped += 1
                if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
                    _LOGGER.warning("audio queue full: %d chunk(s) dropped so far", self.dropped)
            self._items.append(chunk)
            self._cond.notify()

    def get(self, timeout: float) -> bytes | None:
        with self._cond:
            if not self._items and not self._closed:
                self._cond.wait(timeout)
            return self._items.popleft() if self._items else None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed_and_empty(self) -> bool:
        with self._cond:
            return self._closed and not self._items

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)


class _Rechunker:
    """Cuts arbitrary byte blocks into CHUNK_BYTES pieces."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def push(self, data: bytes) -> list[bytes]:
        self._buf += data
        out = []
        while len(self._buf) >= CHUNK_BYTES:
            out.append(bytes(self._buf[:CHUNK_BYTES]))
            del self._buf[:CHUNK_BYTES]
        return out

    def flush(self) -> bytes:
        rest = bytes(self._buf)
        self._buf.clear()
        if rest:
            rest += b"\x00" * (CHUNK_BYTES - len(rest))
        return rest


# ----------------------------------------------------------------------------- null


class NullSource:
    """No audio at all (daemon without a microphone): read_chunk waits and returns None."""

    name = "null"

    def __init__(self) -> None:
        self._stopped = threading.Event()
        self._stats = _Stats()

    def start(self) -> None:
        self._stopped.clear()

    def read_chunk(self, timeout: float) -> bytes | None:
        self._stopped.wait(timeout)
        return None

    def stop(self) -> None:
        self._stopped.set()

    @property
    def at_end(self) -> bool:
        return False

    def counters(self) -> SourceCounters:
        return SourceCounters(0, 0, 0, 0, None, 0.0)


# ----------------------------------------------------------------------------- wav


def _open_wav(path: Path) -> wave.Wave_read:
    """``path`` opened for reading; AudioSourceError when missing or not a PCM WAV file."""
    try:
        return wave.open(str(path), "rb")
    except FileNotFoundError:
        raise AudioSourceError(f"WAV file not found: {path}") from None
    except (wave.Error, EOFError) as err:
        raise AudioSourceError(
            f"{path} is not a PCM WAV file ({err}); convert it, e.g. "
            f"`sox {path.name} -r 16000 -c 1 -b 16 out.wav`"
        ) from None


def read_wav_pcm16k(path: str | Path) -> bytes:
    """Whole WAV file as 16 kHz mono 16-bit PCM (downmixed/resampled); AudioSourceError when unusable."""
    path = Path(path)
    try:
        with _open_wav(path) as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except EOFError as err:
        raise AudioSourceError(
            f"{path} is not a PCM WAV file ({err}); convert it, e.g. "
            f"`sox {path.name} -r 16000 -c 1 -b 16 out.wav`"
        ) from None
    audioop = _audioop()
    if width not in (1, 2, 3, 4):
        raise AudioSourceError(f"{path}: unsupported sample width of {width} bytes")
    if width == 1:  # 8-bit WAV is unsigned
        frames = audioop.bias(frames, 1, -128)
    if width != SAMPLE_WIDTH:
        frames = audioop.lin2lin(frames, width, SAMPLE_WIDTH)
    if channels == 2:
        frames = audioop.tomono(frames, SAMPLE_WIDTH, 0.5, 0.5)
    elif channels != 1:
        raise AudioSourceError(f"{path}: {channels} channels; only mono or stereo can be converted")
    if rate != SAMPLE_RATE:
        if rate < 8000:
            raise AudioSourceError(f"{path}: sample rate {rate} Hz is too low for speech recognition")
        frames, _ = audioop.ratecv(frames, SAMPLE_WIDTH, 1, rate, SAMPLE_RATE, None)
    return frames


class WavSource:
    """A WAV file as if it came from a microphone. ``realtime=True`` paces chunks at speaking speed.

    A file already in the microphone's format (16 kHz mono 16-bit) is read chunk by chunk as it
    is heard; any other is converted whole first (:func:`read_wav_pcm16k`). The same chunks either
    way: reading a 54 s file whole kept 1.7 MB resident in the daemon (``bench/memory.py``,
    docs/benchmarks/speech.md, round 17)."""

    name = "wav"

    def __init__(
        self,
        path: str | Path,
        *,
        realtime: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = Path(path)
        self._pcm: bytes | None = None
        self._wav: wave.Wave_read | None = None
        with _open_wav(self.path) as wav:
            native = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (
                1,
                SAMPLE_WIDTH,
                SAMPLE_RATE,
            )
            frames = wav.getnframes()
        if native:
            self._size = frames * SAMPLE_WIDTH
        else:
            self._pcm = read_wav_pcm16k(self.path)
            self._size = len(self._pcm)
        self._pos = 0
        self._realtime = realtime
        self._sleep = sleep
        self._started_at: float | None = None
        self._stats = _Stats()

    @property
    def duration_s(self) -> float:
        return self._size / (SAMPLE_RATE * SAMPLE_WIDTH)

    def start(self) -> None:
        self._pos = 0
        self._started_at = time.monotonic()

    def _read(self, start: int, size: int) -> bytes:
        """``size`` bytes of the PCM from byte ``start`` (fewer at the end)."""
        if self._pcm is not None:
            return self._pcm[start : start + size]
        if self._wav is None:
            self._wav = _open_wav(self.path)
        frame = start // SAMPLE_WIDTH
        if self._wav.tell() != frame:
            self._wav.setpos(frame)
        data = self._wav.readframes(size // SAMPLE_WIDTH)
        if len(data) < size and start + len(data) < self._size:  # the header promised more
            self._size = start + len(data)
        return data

    def read_chunk(self, timeout: float) -> bytes | None:
        if self._pos >= self._size:
            self._close()
            return None
        if self._realtime and self._started_at is not None:
            due = self._started_at + self._pos / (SAMPLE_RATE * SAMPLE_WIDTH)
            wait = due - time.monotonic()
            if wait > timeout:
                self._sleep(timeout)
                return None
            if wait > 0:
                self._sleep(wait)
        chunk = self._read(self._pos, CHUNK_BYTES)
        self._pos += CHUNK_BYTES
        if not chunk and self._pos - CHUNK_BYTES >= self._size:  # the file was shorter than its header
            self._close()
            return None
        if len(chunk) < CHUNK_BYTES:
            chunk += b"\x00" * (CHUNK_BYTES - len(chunk))
        return self._stats.note(chunk)

    def _close(self) -> None:
        if self._wav is not None:
            self._wav.close()
            self._wav = None

    def stop(self) -> None:
        self._pos = self._size
        self._close()

    @property
    def at_end(self) -> bool:
        return self._pos >= self._size

    def counters(self) -> SourceCounters:
        s = self._stats
        return SourceCounters(s.chunks, 0, 0, 0, s.last_chunk_monotonic, s.last_rms)


# ----------------------------------------------------------------------------- stdin


class StdinSource:
    """Raw 16 kHz mono s16le PCM from a binary stream (stdin by default), read by a helper thread."""

    name = "stdin"

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self._stream = stream
        self._queue = ChunkQueue()
        self._thread: threading.Thread | None = None
        self._stats = _Stats()

    def start(self) -> None:
        stream = self._stream or sys.stdin.buffer
        self._thread = threading.Thread(target=self._pump, args=(stream,), name="stdin-audio", daemon=True)
        self._thread.start()

    def _pump(self, stream: BinaryIO) -> None:
        rechunk = _Rechunker()
        try:
            while True:
                data = stream.read(CHUNK_BYTES * 4)
                if not data:
                    break
                for chunk in rechunk.push(data):
                    self._queue.put(chunk)
            tail = rechunk.flush()
            if tail:
                self._queue.put(tail)
        except (OSError, ValueError) as err:
            _LOGGER.warning("stdin audio ended with an error: %s", type(err).__name__)
        finally:
            self._queue.close()

    def read_chunk(self, timeout: float) -> bytes | None:
        return self._stats.note(self._queue.get(timeout))

    def stop(self) -> None:
        self._queue.close()

    @property
    def at_end(self) -> bool:
        return self._queue.closed_and_empty

    def counters(self) -> SourceCounters:
        s = self._stats
        return SourceCounters(s.chunks, self._queue.dropped, 0, 0, s.last_chunk_monotonic, s.last_rms)


# ----------------------------------------------------------------------------- microphone


def import_sounddevice() -> Any:
    """Import sounddevice (PortAudio) or raise AudioSourceError saying what to install."""
    try:
        import sounddevice
    except OSError as err:  # sounddevice raises OSError when libportaudio is missing
        raise AudioSourceError(
            "a microphone was requested but PortAudio is not installed on this system "
            f"({err}); install it with `sudo apt-get install libportaudio2`, or set audio.input "
            "to wav, stdin or null"
        ) from None
    except ImportError:
        raise AudioSourceError(
            "a microphone was requested but the Python package sounddevice is missing; "
            "install it with `pip install sounddevice`"
        ) from None
    return sounddevice


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    default_rate: float
    is_default: bool


def list_input_devices(sd: Any | None = None) -> list[InputDevice]:
    """Input-capable devices as PortAudio sees them."""
    sd = sd or import_sounddevice()
    try:
        default_in = sd.default.device[0]
    except Exception:
        default_in = -1
    out = []
    for index, dev in enumerate(sd.query_devices()):
        if int(dev.get("max_input_channels", 0)) > 0:
            out.append(
                InputDevice(
                    index,
                    str(dev["name"]),
                    int(dev["max_input_channels"]),
                    float(dev.get("default_samplerate", 0.0)),
                    index == default_in,
                )
            )
    return out


def find_input_device(pattern: str, devices: list[InputDevice]) -> InputDevice | None:
    """First device whose name contains ``pattern`` (case-insensitive substring or regex); None = default."""
    if not pattern:
        return None
    for dev in devices:
        if pattern.lower() in dev.name.lower():
            return dev
    try:
        rx = re.compile(pattern, re.IGNORECASE)
    except re.error:
        rx = None
    for dev in devices:
        if rx and rx.search(dev.name):
            return dev
    names = ", ".join(d.name for d in devices) or "none"
    raise AudioSourceError(
        f"no microphone matches audio.input_device {pattern!r}; input devices found: {names}"
    )


StreamFactory = Callable[[int | None, Callable[[bytes, bool], None]], Any]
"""(device index or None, callback(pcm, overflowed)) -> an object with start(), stop(), close()."""


def _portaudio_stream_factory(device: int | None, on_audio: Callable[[bytes, bool], None]) -> Any:
    sd = import_sounddevice()

    def callback(indata: Any, frames: int, time_info: Any, status: Any) -> None:
        on_audio(bytes(indata), bool(status and status.input_overflow))

    return sd.RawInputStream(
        samplerate=SAMPLE_RATE,
        blocksize=CHUNK_SAMPLES,
        device=device,
        channels=CHANNELS,
        dtype="int16",
        callback=callback,
    )


class MicSource:
    """PortAudio microphone with a bounded queue, overflow counting and reopen-on-loss."""

    name = "mic"

    def __init__(
        self,
        device_pattern: str = "",
        *,
        stream_factory: StreamFactory | None = None,
        device_lister: Callable[[], list[InputDevice]] | None = None,
        lost_timeout_s: float = DEVICE_LOST_TIMEOUT_S,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._pattern = device_pattern
        self._factory = stream_factory or _portaudio_stream_factory
        self._lister = device_lister or (lambda: list_input_devices())
        self._lost_timeout_s = lost_timeout_s
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._queue = ChunkQueue()
        self._rechunk = _Rechunker()
        self._stream: Any = None
        self._stats = _Stats()
        self._overflows = 0
        self._last_audio_at = 0.0
        self._backoff_s = REOPEN_BACKOFF_START_S
        self._next_reopen_at = 0.0
        self._running = False
        self.device_name = ""

    def _on_audio(self, pcm: bytes, overflowed: bool) -> None:
        """PortAudio thread: copy, count, never block."""
        if overflowed:
            self._overflows += 1
            if self._overflows in (1, 10, 100) or self._overflows % 1000 == 0:
                _LOGGER.warning("microphone input overflow (%d so far)", self._overflows)
        for chunk in self._rechunk.push(pcm):
            self._queue.put(chunk)

    def _open(self) -> None:
        device = None
        if self._pattern:
            found = find_input_device(self._pattern, self._lister())
            device = found.index if found else None
            self.device_name = found.name if found else ""
        stream = self._factory(device, self._on_audio)
        stream.start()
        self._stream = stream
        self._last_audio_at = self._monotonic()

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        for method in ("stop", "close"):
            try:
                getattr(stream, method)()
            except Exception as err:
                _LOGGER.debug("closing microphone stream: %s", type(err).__name__)

    def start(self) -> None:
        self._running = True
        try:
            self._open()
        except AudioSourceError:
            raise
        except Exception as err:  # PortAudioError and friends
            raise AudioSourceError(f"cannot open the microphone: {err}") from None

    def read_chunk(self, timeout: float) -> bytes | None:
        chunk = self._queue.get(timeout)
        now = self._monotonic()
        if chunk is not None:
            self._last_audio_at = now
            self._backoff_s = REOPEN_BACKOFF_START_S
            return self._stats.note(chunk)
        if self._running and now - self._last_audio_at >= self._lost_timeout_s:
            self._try_reopen(now)
        return None

    def _try_reopen(self, now: float) -> None:
        if now < self._next_reopen_at:
            return
        _LOGGER.warning("microphone delivered no audio for %.1f s; reopening", now - self._last_audio_at)
        self._close()
        try:
            self._open()
            self._stats.reopens += 1
        except Exception as err:
            _LOGGER.warning("microphone reopen failed (%s); next try in %.1f s", err, self._backoff_s)
            self._last_audio_at = now - self._lost_timeout_s  # stay in "lost" state
        jitter = 1.0 + self._rng.uniform(-REOPEN_JITTER, REOPEN_JITTER)
        self._next_reopen_at = now + self._backoff_s * jitter
        self._backoff_s = min(self._backoff_s * 2, REOPEN_BACKOFF_MAX_S)

    def stop(self) -> None:
        self._running = False
        self._close()
        self._queue.close()

    @property
    def at_end(self) -> bool:
        return False

    def counters(self) -> SourceCounters:
        s = self._stats
        return SourceCounters(
            s.chunks, self._queue.dropped, self._overflows, s.reopens, s.last_chunk_monotonic, s.last_rms
        )


# ----------------------------------------------------------------------------- factory


def open_source(
    audio: Any,
    *,
    wav_path: str | Path | None = None,
    realtime: bool = False,
    stdin: BinaryIO | None = None,
) -> AudioSource:
    """Build the source named by ``settings.audio.input`` (``wav_path`` overrides to a WAV source)."""
    if wav_path is not None:
        return WavSource(wav_path, realtime=realtime)
    kind = audio.input
    if kind == "wav":
        if not audio.input_wav:
            raise AudioSourceError("audio.input is wav but audio.input_wav names no file")
        return WavSource(audio.input_wav, realtime=realtime)
    if kind == "stdin":
        return StdinSource(stdin)
    if kind == "null":
        return NullSource()
    if kind == "mic":
        import_sounddevice()  # fail early and plainly when PortAudio is missing
        return MicSource(audio.input_device)
    raise AudioSourceError(f"unknown audio.input {kind!r} (use mic, wav, stdin or null)")
