"""Noise suppression and gain in front of endpointing and recognition, 16 kHz mono int16 PCM.

One processor runs for the whole audio stream (as on a device: the noise estimate keeps adapting
from one utterance to the next); a new stream (a microphone opened, a WAV file) gets a new one,
so a file's result never depends on the files before it. ``process(pcm)`` takes any length and
returns what is ready (a few milliseconds of delay: frame buffering and resampling).

* :class:`RNNoise` — Xiph's RNNoise (recurrent network, 48 kHz frames of 480 samples) through
  ctypes on the ``librnnoise.so`` bundled in the ``pyrnnoise`` wheel, installed without its ~25
  Python dependencies (``pip install --no-deps pyrnnoise``: the Makefile does this), or any
  ``librnnoise`` named by ``$JIAYI_RNNOISE_LIB`` or found on the system. 16 → 48 → 16 kHz with
  libsoxr's streaming resamplers (:class:`SoxrStream`, its C API through ctypes: no numpy in
  the daemon, the same samples python-soxr gave). The wheel's library carries every quantised
  layer twice (int8 and a float copy) and, finding the float copy, computes in float;
  :func:`int8_model` hands it its own weights without the float copies, so it runs its int8
  path: same network, same output within rounding, about half the CPU
  (docs/benchmarks/speech.md, round 9).
* :class:`QuietGate` — runs RNNoise only while the noise floor is above
  :data:`RNNOISE_QUIET_DBFS`; in a quiet room the audio passes unfiltered (built, measured, off:
  RNNoise helps even on quiet real recordings).
* :class:`SideMix` — RNNoise's output as the main stream, and beside it a gentler side stream
  (:data:`SIDE_DRY_SHARE` of the un-denoised input mixed back) for the second opinion
  (round 18).
* :class:`WebRtcNoiseGain` — WebRTC audio processing from ``webrtc-noise-gain`` (what
  wyoming-satellite uses): noise suppression 0–4 and automatic gain, 10 ms frames.

Which one the daemon uses is ``asr.noise_filter`` (measured in docs/benchmarks/speech.md).
Adapted from the speech research prototype (staging ``frontend.py``).
"""

from __future__ import annotations

import array
import ctypes
import ctypes.util
import importlib.util
import itertools
import logging
import operator
import os
import struct
from pathlib import Path
from typing import Any, Final, Protocol

from assistant.hearing.sources import SAMPLE_RATE

_LOGGER = logging.getLogger(__name__)

RNNOISE_ENV: Final = "JIAYI_RNNOISE_LIB"
"""Environment variable naming a ``librnnoise.so`` to use instead of the bundled one."""
RNNOISE_INT8: Final = True
"""Run RNNoise on its int8 weights (:func:`int8_model`) when the library carries float copies."""
RNNOISE_QUIET_DBFS: Final[float | None] = None
"""Quiet-room gate (:class:`QuietGate`): RNNoise is skipped while the noise floor is below this
level (dBFS; None = RNNoise always runs, the daemon's setting). Measured at −60 dBFS (round 9 in
docs/benchmarks/speech.md): same accuracy on the tuning commands and in noise, CPU RTF in a quiet
room 0.015 (0.111 with RNNoise in the same run), but the Picovoice people's clean recordings lost
2 of 104 (.952 → .933): RNNoise helps even there, so the gate is off."""
RNNOISE_DRY_SHARE: Final = 0.0
"""A gentler RNNoise (:class:`DryMix`): this share of the unfiltered signal (delayed as RNNoise
delays it) is added back to RNNoise's output, which caps how far any sound is suppressed
(0.1: about 20 dB) and keeps the speech RNNoise would clip in noise. 0.0 = RNNoise alone (the
daemon's setting). Measured at 0.1 (round 17, docs/benchmarks/speech.md): tuning commands
224 → 234 right of 270 but wrong actions 6 → 8; held-out quarter 116 → 120 of 135, wrong 2 → 1;
set (b) kitchen 10 dB wrong actions 0 → 8.3 %; front-end CPU +0.005 of real time. At 0.05
(kitchen and living room only): 146 → 155 right of 180, wrong 2 → 3; held-out 73 → 78 of 90,
wrong 2 → 1. Off."""
SIDE_DRY_SHARE: Final = 0.05
"""A second, gentler stream made beside the front-end's output (:class:`SideMix`): RNNoise's
output plus this share of its delayed input, aligned sample for sample with the main stream.
The endpointer and every search keep the main stream; the searches named in
:data:`assistant.hearing.pocketsphinx_engine.SIDE_SEARCHES` (the second opinion) decode the side
stream instead, and with :data:`assistant.hearing.listener.SIDE_RETRY` (off) a command both
readings leave without an intent is decoded again on it. 0.0 = no side stream. Measured (round
18, docs/benchmarks/speech.md), the second opinion on it, kitchen + living room 10 dB: tuning half
261 → 282 right of 348, wrong actions 12 → 12; held-out half 263 → 277 of 342, wrong 8 → 6;
clean 147 → 149 of 174 (wrong 5 → 5); CPU RTF +0.007 (0.081 → 0.088). At 0.1: 287 right,
wrong 13 (one more)."""
QUIET_HYSTERESIS_DB: Final = 3.0
"""RNNoise is switched back on only once the floor is this much above :data:`RNNOISE_QUIET_DBFS`."""
QUIET_BLOCK_S: Final = 0.1
QUIET_WINDOW_S: Final = 2.0
"""The noise floor is the quietest :data:`QUIET_BLOCK_S` block of the last :data:`QUIET_WINDOW_S`."""
QUIET_FIRST_S: Final = 0.3
"""Audio heard before the first decision (RNNoise runs until then, as without the gate)."""
RNNOISE_DELAY: Final = 320
"""Samples (16 kHz) by which the RNNoise path delays the signal (resampling + one 10 ms frame,
measured by cross-correlation); the gate delays the unfiltered path as much, so switching
neither repeats nor drops audio."""
WEBRTC_NOISE_SUPPRESSION: Final = 2
"""webrtc-noise-gain suppression level (0–4) for ``asr.noise_filter: webrtc``."""
WEBRTC_AUTO_GAIN_DBFS: Final = 3
"""webrtc-noise-gain automatic gain target (0 = off; 1–31 dB below full scale)."""


class FrontendError(Exception):
    """The chosen front-end cannot run here (library missing); the message says how to fix it."""


class Frontend(Protocol):
    name: str

    def process(self, pcm: bytes) -> bytes: ...


def rnnoise_library() -> Path | None:
    """Where ``librnnoise.so`` is: ``$JIAYI_RNNOISE_LIB``, the pyrnnoise wheel's copy (found
    without importing pyrnnoise, whose own imports need its dependencies), or the system's."""
    env = os.environ.get(RNNOISE_ENV, "")
    if env:
        return Path(env)
    spec = importlib.util.find_spec("pyrnnoise")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        candidate = Path(folder) / "librnnoise.so"
        if candidate.is_file():
            return candidate
    found = ctypes.util.find_library("rnnoise")
    return Path(found) if found else None


class RNNoise:
    """RNNoise denoiser, one network state per stream. Not thread-safe.

    Plain Python buffers (:mod:`array`, ctypes) and libsoxr's C API through ctypes
    (:class:`SoxrStream`): no numpy in the daemon (issue 12, round 13: 14 MB), same output
    sample for sample as the numpy and python-soxr path it replaced."""

    name = "rnnoise"
    RATE: Final = 48000

    def __init__(self, library: Path | None = None) -> None:
        path = library or rnnoise_library()
        if path is None:
            raise FrontendError(
                "librnnoise is not installed; run `.venv/bin/pip install --no-deps pyrnnoise` "
                f"(or set {RNNOISE_ENV}), or set asr.noise_filter to webrtc or none"
            )
        lib = _load_rnnoise(str(path))
        self._lib = lib
        self.frame_size = int(lib.rnnoise_get_frame_size())  # 480 = 10 ms at 48 kHz
        self.model = int8_model(lib, str(path)) if RNNOISE_INT8 else None
        """The int8 weight set the network runs on, or None: the library's built-in weights."""
        self._state: Any = lib.rnnoise_create(self.model)
        self._up = SoxrStream(SAMPLE_RATE, self.RATE)
        self._down = SoxrStream(self.RATE, SAMPLE_RATE, int16_out=SOXR_INT16_OUT)
        self._rest = array.array("f")
        self.last_vad = 0.0
        """RNNoise's speech probability for the last frame (0–1)."""

    def restart(self) -> None:
        """Start a new stretch of audio (after a gap: :class:`QuietGate`): fresh resamplers, the
        network keeps its state (its noise estimate)."""
        self._up = SoxrStream(SAMPLE_RATE, self.RATE)
        self._down = SoxrStream(self.RATE, SAMPLE_RATE, int16_out=SOXR_INT16_OUT)
        self._rest = array.array("f")

    def process(self, pcm: bytes) -> bytes:
        data = self._rest + self._up.resample(array.array("f", array.array("h", pcm)))  # int16 scale
        whole = len(data) - len(data) % self.frame_size
        self._rest = data[whole:]
        del data[whole:]
        if whole:
            address, _ = data.buffer_info()
            step = self.frame_size * data.itemsize
            process_frame, state = self._lib.rnnoise_process_frame, self._state
            for frame in range(address, address + whole * data.itemsize, step):  # in place
                self.last_vad = process_frame(state, frame, frame)
        out = self._down.resample(data)
        return out.tobytes() if out.typecode == "h" else to_int16(out)

    def __del__(self) -> None:
        state, self._state = getattr(self, "_state", None), None
        if state is not None:
            self._lib.rnnoise_destroy(state)


def to_int16(samples: array.array) -> bytes:
    """Float samples on the int16 scale rounded half to even (as ``numpy.rint``) and clipped."""
    try:
        return array.array("h", map(round, samples)).tobytes()
    except OverflowError:  # a sample beyond the int16 range (rare): clip each
        return array.array("h", [max(-32768, min(32767, round(v))) for v in samples]).tobytes()


# ------------------------------------------------------------------ libsoxr through ctypes

SOXR_FLOAT32_I: Final = 0
SOXR_HQ: Final = 4
"""libsoxr's ``soxr_datatype_t`` for interleaved float32 and its "high quality" (20-bit) recipe:
what ``soxr.ResampleStream(..., dtype="float32", quality="HQ")`` asks for."""
SOXR_INT16_I: Final = 3
SOXR_NO_DITHER: Final = 8
"""libsoxr's interleaved int16 type and its io-spec flag for plain rounding (no TPDF dither)."""
SOXR_INT16_OUT: Final = True
"""RNNoise's 48 → 16 kHz resampler writes int16 itself (scale 1/32768 for the int16-scale float
input, no dither: rounded half to even and clipped, as :func:`to_int16`) instead of float32
rounded in Python. Bit for bit the same output on 130 s of the tuning and memory-bench audio,
also when clipping; the rounding was 11 % of the front-end's CPU (docs/benchmarks/speech.md,
round 16). False = float32 out and :func:`to_int16`."""
SOXR_ENV: Final = "JIAYI_SOXR_LIB"
"""Environment variable naming a libsoxr to use instead of the one in the ``soxr`` wheel."""


class _SoxrIoSpec(ctypes.Structure):
    _fields_ = [
        ("itype", ctypes.c_int),
        ("otype", ctypes.c_int),
        ("scale", ctypes.c_double),
        ("e", ctypes.c_void_p),
        ("flags", ctypes.c_ulong),
    ]


class _SoxrQualitySpec(ctypes.Structure):
    _fields_ = [
        ("precision", ctypes.c_double),
        ("phase_response", ctypes.c_double),
        ("passband_end", ctypes.c_double),
        ("stopband_begin", ctypes.c_double),
        ("e", ctypes.c_void_p),
        ("flags", ctypes.c_ulong),
    ]


_SOXR_LIBS: list[Any] = []


def soxr_library() -> Path | None:
    """Where libsoxr's C API is: ``$JIAYI_SOXR_LIB``, the ``soxr`` wheel's extension module (it
    links libsoxr in and exports its functions; found without importing it, which would import
    numpy), or the system's ``libsoxr``."""
    env = os.environ.get(SOXR_ENV, "")
    if env:
        return Path(env)
    spec = importlib.util.find_spec("soxr")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        for candidate in sorted(Path(folder).glob("soxr_ext*.so")):
            return candidate
    found = ctypes.util.find_library("soxr")
    return Path(found) if found else None


def _load_soxr() -> Any:
    """libsoxr, loaded once per process, with the signatures :class:`SoxrStream` uses."""
    if _SOXR_LIBS:
        return _SOXR_LIBS[0]
    path = soxr_library()
    if path is None:
        raise FrontendError("libsoxr is not installed; run `.venv/bin/pip install soxr`")
    try:
        lib = ctypes.CDLL(str(path))
        lib.soxr_create.argtypes = [
            ctypes.c_double,
            ctypes.c_double,
            ctypes.c_uint,
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.POINTER(_SoxrIoSpec),
            ctypes.POINTER(_SoxrQualitySpec),
            ctypes.c_void_p,
        ]
    except (OSError, AttributeError) as err:
        raise FrontendError(f"cannot load libsoxr from {path}: {err}") from None
    lib.soxr_create.restype = ctypes.c_void_p
    lib.soxr_io_spec.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.soxr_io_spec.restype = _SoxrIoSpec
    lib.soxr_quality_spec.argtypes = [ctypes.c_ulong, ctypes.c_ulong]
    lib.soxr_quality_spec.restype = _SoxrQualitySpec
    size_p = ctypes.POINTER(ctypes.c_size_t)
    lib.soxr_process.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_size_t,
        size_p,
        ctypes.c_void_p,
        ctypes.c_size_t,
        size_p,
    ]
    lib.soxr_process.restype = ctypes.c_char_p
    lib.soxr_delay.argtypes = [ctypes.c_void_p]
    lib.soxr_delay.restype = ctypes.c_double
    lib.soxr_delete.argtypes = [ctypes.c_void_p]
    lib.soxr_delete.restype = None
    _SOXR_LIBS.append(lib)
    return lib


class SoxrStream:
    """A streaming mono float32 resampler (libsoxr, "HQ"), called as python-soxr's
    ``ResampleStream.resample_chunk`` calls it: the output buffer sized from the resampler's
    delay, the input fed in slices of 48000 output samples, so the output is the same."""

    def __init__(self, in_rate: int, out_rate: int, *, int16_out: bool = False) -> None:
        """``int16_out``: the output is int16 (:data:`SOXR_INT16_OUT`), the float32 input on the
        int16 scale; otherwise float32 in, float32 out."""
        lib = _load_soxr()
        self._lib = lib
        self._ratio = out_rate / in_rate
        self._slice = int(48000 * in_rate / out_rate)
        self._out_type = "h" if int16_out else "f"
        error = ctypes.c_char_p()
        io_spec = lib.soxr_io_spec(SOXR_FLOAT32_I, SOXR_INT16_I if int16_out else SOXR_FLOAT32_I)
        if int16_out:
            io_spec.scale = 1.0 / 32768.0  # libsoxr's int16 is full scale at 1.0
            io_spec.flags |= SOXR_NO_DITHER
        quality = lib.soxr_quality_spec(SOXR_HQ, 0)
        handle = lib.soxr_create(in_rate, out_rate, 1, ctypes.byref(error), io_spec, quality, None)
        if error.value or not handle:
            raise FrontendError(f"libsoxr: {(error.value or b'no resampler').decode(errors='replace')}")
        self._handle: Any = handle

    def resample(self, samples: array.array) -> array.array:
        """The output ready after ``samples`` (float32); may be empty. Float32 out, or int16."""
        lib, handle = self._lib, self._handle
        size = len(samples)
        capacity = int(lib.soxr_delay(handle) + size * self._ratio + 1)
        out = array.array(self._out_type, bytes(capacity * (2 if self._out_type == "h" else 4)))
        if not size:
            return array.array(self._out_type)
        source, _ = samples.buffer_info()
        target, _ = out.buffer_info()
        width = out.itemsize
        done = ctypes.c_size_t()
        filled = 0
        for start in range(0, size, self._slice):
            error = lib.soxr_process(
                handle,
                source + 4 * start,
                min(self._slice, size - start),
                None,
                target + width * filled,
                capacity - filled,
                ctypes.byref(done),
            )
            if error:
                raise FrontendError(f"libsoxr: {error.decode(errors='replace')}")
            filled += done.value
        del out[filled:]
        return out

    def __del__(self) -> None:
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.soxr_delete(handle)


_RNNOISE_LIBS: dict[str, Any] = {}
_INT8_MODELS: dict[str, tuple[Any, Any]] = {}

WEIGHT_BLOCK: Final = 64
"""RNNoise weight blobs (``rnnoise_model_from_buffer``): each array is a 64-byte header
(``"DNNw"``, version 0, type, size, padded size, 44-byte name) and its data padded to 64 bytes."""


class _WeightArray(ctypes.Structure):
    """One entry of the library's ``rnnoise_arrays`` table (name NULL ends it)."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("type", ctypes.c_int),
        ("size", ctypes.c_int),
        ("data", ctypes.c_void_p),
    ]


def _padded(size: int) -> int:
    return -(-size // WEIGHT_BLOCK) * WEIGHT_BLOCK


def _put_header(blob: Any, offset: int, name: str, kind: int, size: int) -> None:
    struct.pack_into("<4siiii44s", blob, offset, b"DNNw", 0, kind, size, _padded(size), name.encode())


def weight_blob(arrays: list[tuple[str, int, bytes]]) -> bytes:
    """``(name, type, data)`` arrays as one RNNoise weight blob."""
    blob = bytearray(sum(WEIGHT_BLOCK + _padded(len(data)) for _, _, data in arrays))
    offset = 0
    for name, kind, data in arrays:
        _put_header(blob, offset, name, kind, len(data))
        blob[offset + WEIGHT_BLOCK : offset + WEIGHT_BLOCK + len(data)] = data
        offset += WEIGHT_BLOCK + _padded(len(data))
    return bytes(blob)


def _file_regions() -> list[tuple[int, int, int, str]]:
    """This process's file mappings: (start, end, file offset, path), from ``/proc/self/maps``."""
    regions = []
    try:
        text = Path("/proc/self/maps").read_text()
    except OSError:
        return regions
    for line in text.splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and parts[5].startswith("/"):
            start, end = (int(x, 16) for x in parts[0].split("-"))
            regions.append((start, end, int(parts[2], 16), parts[5]))
    return regions


def _copy_weights(blob: Any, offset: int, address: int, size: int, regions: list) -> None:
    """``size`` bytes of the library's weights at ``address`` into ``blob`` at ``offset``: read
    from the library's file when they lie in one of its mappings (so its pages are not brought
    into this process: they would count a second time in its resident set), else copied."""
    for start, end, file_offset, path in regions:
        if start <= address and address + size <= end:
            try:
                with open(path, "rb") as file:
                    file.seek(file_offset + address - start)
                    view = memoryview(blob).cast("B")[offset : offset + size]
                    if file.readinto(view) == size:
                        return
            except OSError:
                pass
            break
    ctypes.memmove(ctypes.addressof(blob) + offset, address, size)


def int8_model(lib: Any, key: str) -> Any:
    """An RNNoise model of ``lib``'s own weights without the float copies of its int8 layers
    (None when it exports no weight table or has no such copies: its built-in model is used).
    Built once per library and kept for the process (the model points into the blob). The
    blob is laid out in place, each array read straight from the library file (round 13: the
    start-up peak 13 → 3.4 MB, the library's weight pages no longer resident)."""
    if key in _INT8_MODELS:
        return _INT8_MODELS[key][0]
    model, blob = None, None
    try:
        table = (_WeightArray * 1024).in_dll(lib, "rnnoise_arrays")
    except ValueError:  # a build that does not export it (e.g. Debian's librnnoise0)
        table = None
    entries = []  # (name, type, size, address): nothing copied yet
    for entry in table if table is not None else ():
        if not entry.name:
            break
        entries.append((entry.name.decode(), entry.type, entry.size, entry.data))
    names = {name for name, *_ in entries}
    kept = [
        e
        for e in entries
        if not (e[0].endswith("_weights_float") and e[0][: -len("float")] + "int8" in names)
    ]
    if len(kept) < len(entries) and hasattr(lib, "rnnoise_model_from_buffer"):
        total = sum(WEIGHT_BLOCK + _padded(size) for _, _, size, _ in kept)
        blob = ctypes.create_string_buffer(total)  # zeroed: the padding
        regions = _file_regions()
        offset = 0
        for name, kind, size, address in kept:
            _put_header(blob, offset, name, kind, size)
            _copy_weights(blob, offset + WEIGHT_BLOCK, address, size, regions)
            offset += WEIGHT_BLOCK + _padded(size)
        model = lib.rnnoise_model_from_buffer(blob, total) or None
        if model is None:
            _LOGGER.warning("RNNoise: the int8 weights did not load; using the float ones")
    _INT8_MODELS[key] = (model, blob)
    return model


def _load_rnnoise(path: str) -> Any:
    """The library, loaded once per process, with its function signatures declared."""
    lib = _RNNOISE_LIBS.get(path)
    if lib is None:
        try:
            lib = ctypes.CDLL(path)
        except OSError as err:
            raise FrontendError(f"cannot load {path}: {err}") from None
        lib.rnnoise_create.argtypes = [ctypes.c_void_p]
        if hasattr(lib, "rnnoise_model_from_buffer"):  # rnnoise ≥ 0.2
            lib.rnnoise_model_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_int]
            lib.rnnoise_model_from_buffer.restype = ctypes.c_void_p
            lib.rnnoise_model_free.argtypes = [ctypes.c_void_p]
        lib.rnnoise_create.restype = ctypes.c_void_p
        lib.rnnoise_destroy.argtypes = [ctypes.c_void_p]
        # frames are addresses into a float32 array.array (RNNoise.process)
        lib.rnnoise_process_frame.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        lib.rnnoise_process_frame.restype = ctypes.c_float
        lib.rnnoise_get_frame_size.restype = ctypes.c_int
        _RNNOISE_LIBS[path] = lib
    return lib


class QuietGate:
    """RNNoise only while the room is noisy: below :data:`RNNOISE_QUIET_DBFS` of noise floor the
    audio passes unfiltered (delayed by :data:`RNNOISE_DELAY` like the filtered path, so the
    switch is seamless). The floor is the quietest 100 ms of the last 2 s, so speech does not
    raise it; a switch back on needs :data:`QUIET_HYSTERESIS_DB` more."""

    name = "rnnoise"

    def __init__(self, net: RNNoise, quiet_dbfs: float) -> None:
        import numpy as np

        self._np = np
        self.net = net
        self.quiet_dbfs = quiet_dbfs
        self.active = True
        """RNNoise is running (until the first decision, and whenever the floor is high)."""
        self.noise_floor_dbfs: float | None = None
        self.filtered_s = 0.0
        self.passed_s = 0.0
        """Audio (s) sent through RNNoise / passed unfiltered (bench and status)."""
        self._block = round(QUIET_BLOCK_S * SAMPLE_RATE)
        self._blocks: list[float] = []
        self._pending = np.zeros(0, dtype=np.float64)
        self._heard = 0
        self._history = np.zeros(RNNOISE_DELAY, dtype=np.int16)  # input from _history_at on
        self._history_at = -RNNOISE_DELAY
        self._in = 0
        self._out = 0

    def _update_floor(self, samples: Any) -> None:
        np = self._np
        data = np.concatenate([self._pending, samples.astype(np.float64)])
        whole = len(data) - len(data) % self._block
        for start in range(0, whole, self._block):
            power = float(np.mean(data[start : start + self._block] ** 2))
            self._blocks.append(10.0 * np.log10(max(power, 1e-3) / 32768.0**2))
        self._pending = data[whole:]
        keep = max(1, round(QUIET_WINDOW_S / QUIET_BLOCK_S))
        del self._blocks[:-keep]
        self._heard += len(samples)
        if not self._blocks or self._heard < QUIET_FIRST_S * SAMPLE_RATE:
            return
        floor = min(self._blocks)
        self.noise_floor_dbfs = floor
        if self.active and floor < self.quiet_dbfs:
            self.active = False
        elif not self.active and floor >= self.quiet_dbfs + QUIET_HYSTERESIS_DB:
            self.active = True
            self.net.restart()

    def process(self, pcm: bytes) -> bytes:
        np = self._np
        samples = np.frombuffer(pcm, dtype=np.int16)
        self._update_floor(samples)
        self._history = np.concatenate([self._history, samples])
        self._in += len(samples)
        seconds = len(samples) / SAMPLE_RATE
        if self.active:
            out = self.net.process(pcm)
            self.filtered_s += seconds
        else:  # output sample j is input sample j - RNNOISE_DELAY, as through RNNoise
            start = max(0, self._out - RNNOISE_DELAY - self._history_at)
            out = self._history[start : self._in - RNNOISE_DELAY - self._history_at].tobytes()
            self.passed_s += seconds
        self._out += len(out) // 2
        drop = max(0, min(len(self._history), self._out - RNNOISE_DELAY - self._history_at))
        if drop:
            self._history = self._history[drop:]
            self._history_at += drop
        return out


def _mixed(wet: array.array, dry: array.array, share: float) -> bytes:
    """``wet + share · dry`` sample for sample, rounded half to even and clipped to int16."""
    mixed = map(operator.add, wet, map(operator.mul, dry, itertools.repeat(share)))
    try:
        return array.array("h", map(round, mixed)).tobytes()
    except OverflowError:  # a sum beyond the int16 range (rare): clip each
        sums = (w + share * d for w, d in zip(wet, dry, strict=True))
        return array.array("h", (max(-32768, min(32767, round(v))) for v in sums)).tobytes()


class DryMix:
    """RNNoise's output plus :data:`RNNOISE_DRY_SHARE` of its input, aligned (output sample j is
    input sample j − :data:`RNNOISE_DELAY` on both paths)."""

    name = "rnnoise"

    def __init__(self, net: RNNoise, share: float) -> None:
        self.net = net
        self.share = share
        self._dry = array.array("h", bytes(2 * RNNOISE_DELAY))

    def _wet_dry(self, pcm: bytes) -> tuple[array.array, array.array]:
        self._dry.frombytes(pcm)
        wet = array.array("h", self.net.process(pcm))
        dry = self._dry[: len(wet)]
        del self._dry[: len(wet)]
        return wet, dry

    def process(self, pcm: bytes) -> bytes:
        wet, dry = self._wet_dry(pcm)
        return _mixed(wet, dry, self.share)


class SideMix(DryMix):
    """The main stream (RNNoise's output, plus :data:`RNNOISE_DRY_SHARE` of its input when that
    is set) and beside it the input itself, delayed as RNNoise delays it (:attr:`dry`: the part
    that goes with what the last :meth:`process` call returned, as long). The side stream
    (RNNoise's output plus :data:`SIDE_DRY_SHARE` of the input) is mixed from the two only for
    the stretches a decoder is given (:meth:`side_of`), not for every chunk (CPU)."""

    def __init__(self, net: RNNoise, share: float, side_share: float) -> None:
        super().__init__(net, share)
        self.side_share = side_share
        self.dry = b""

    def process(self, pcm: bytes) -> bytes:
        wet, dry = self._wet_dry(pcm)
        self.dry = dry.tobytes()
        return _mixed(wet, dry, self.share) if self.share > 0 else wet.tobytes()

    def side_of(self, main: bytes, dry: bytes) -> bytes:
        """The side stream of a stretch of the main stream and the same stretch of :attr:`dry`."""
        return _mixed(array.array("h", main), array.array("h", dry), self.side_share - self.share)


class WebRtcNoiseGain:
    """WebRTC noise suppression (0–4) and automatic gain (dBFS target, 0 = off)."""

    name = "webrtc"
    FRAME_BYTES: Final = 320  # 10 ms at 16 kHz

    def __init__(
        self, noise_suppression: int = WEBRTC_NOISE_SUPPRESSION, auto_gain_dbfs: int = WEBRTC_AUTO_GAIN_DBFS
    ) -> None:
        from webrtc_noise_gain import AudioProcessor

        self._proc = AudioProcessor(auto_gain_dbfs, noise_suppression)
        self._rest = b""

    def process(self, pcm: bytes) -> bytes:
        data = self._rest + pcm
        whole = len(data) - len(data) % self.FRAME_BYTES
        self._rest = data[whole:]
        step = self.FRAME_BYTES
        return b"".join(self._proc.Process10ms(data[i : i + step]).audio for i in range(0, whole, step))


def make_frontend(name: str) -> Frontend | None:
    """``rnnoise``, ``webrtc`` or ``none`` (None). A missing RNNoise library is logged once and
    the stream runs without a front-end rather than not at all."""
    if name == "none":
        return None
    if name == "webrtc":
        return WebRtcNoiseGain()
    if name == "rnnoise":
        try:
            net = RNNoise()
            if RNNOISE_QUIET_DBFS is not None:
                return QuietGate(net, RNNOISE_QUIET_DBFS)
            if SIDE_DRY_SHARE > 0:
                return SideMix(net, RNNOISE_DRY_SHARE, SIDE_DRY_SHARE)
            return DryMix(net, RNNOISE_DRY_SHARE) if RNNOISE_DRY_SHARE > 0 else net
        except FrontendError as err:
            if not _WARNED:
                _WARNED.append(True)
                _LOGGER.warning("noise filter off: %s", err)
            return None
    raise ValueError(f"unknown noise filter {name!r}")


_WARNED: list[bool] = []
