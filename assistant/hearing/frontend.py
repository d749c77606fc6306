"""Noise suppression and gain in front of endpointing and recognition, 16 kHz mono int16 PCM.

One processor runs for the whole audio stream (as on a device: the noise estimate keeps adapting
from one utterance to the next); a new stream (a microphone opened, a WAV file) gets a new one,
so a file's result never depends on the files before it. ``process(pcm)`` takes any length and
returns what is ready (a few milliseconds of delay: frame buffering and resampling).

* :class:`RNNoise` — Xiph's RNNoise (recurrent network, 48 kHz frames of 480 samples) through
  ctypes on the ``librnnoise.so`` bundled in the ``pyrnnoise`` wheel, installed without its ~25
  Python dependencies (``pip install --no-deps pyrnnoise``: the Makefile does this), or any
  ``librnnoise`` named by ``$JIAYI_RNNOISE_LIB`` or found on the system. 16 → 48 → 16 kHz with
  soxr's streaming resamplers.
* :class:`WebRtcNoiseGain` — WebRTC audio processing from ``webrtc-noise-gain`` (what
  wyoming-satellite uses): noise suppression 0–4 and automatic gain, 10 ms frames.

Which one the daemon uses is ``asr.noise_filter`` (measured in docs/benchmarks/speech.md).
Adapted from the speech research prototype (staging ``frontend.py``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import logging
import os
from pathlib import Path
from typing import Any, Final, Protocol

from assistant.hearing.sources import SAMPLE_RATE

_LOGGER = logging.getLogger(__name__)

RNNOISE_ENV: Final = "JIAYI_RNNOISE_LIB"
"""Environment variable naming a ``librnnoise.so`` to use instead of the bundled one."""
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
    """RNNoise denoiser, one network state per stream. Not thread-safe."""

    name = "rnnoise"
    RATE: Final = 48000

    def __init__(self, library: Path | None = None) -> None:
        import numpy as np
        import soxr

        path = library or rnnoise_library()
        if path is None:
            raise FrontendError(
                "librnnoise is not installed; run `.venv/bin/pip install --no-deps pyrnnoise` "
                f"(or set {RNNOISE_ENV}), or set asr.noise_filter to webrtc or none"
            )
        lib = _load_rnnoise(str(path))
        self._np = np
        self._lib = lib
        self.frame_size = int(lib.rnnoise_get_frame_size())  # 480 = 10 ms at 48 kHz
        self._state: Any = lib.rnnoise_create(None)
        self._frame = np.zeros(self.frame_size, dtype=np.float32)
        self._ptr = self._frame.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        self._up = soxr.ResampleStream(SAMPLE_RATE, self.RATE, 1, dtype="float32", quality="HQ")
        self._down = soxr.ResampleStream(self.RATE, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
        self._rest = np.zeros(0, dtype=np.float32)
        self.last_vad = 0.0
        """RNNoise's speech probability for the last frame (0–1)."""

    def process(self, pcm: bytes) -> bytes:
        np = self._np
        samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)  # RNNoise works on int16 scale
        data = np.concatenate([self._rest, self._up.resample_chunk(samples)])
        whole = len(data) - len(data) % self.frame_size
        self._rest = data[whole:].copy()
        out = np.empty(whole, dtype=np.float32)
        for start in range(0, whole, self.frame_size):
            self._frame[:] = data[start : start + self.frame_size]
            self.last_vad = float(self._lib.rnnoise_process_frame(self._state, self._ptr, self._ptr))
            out[start : start + self.frame_size] = self._frame
        down = self._down.resample_chunk(out)
        return np.clip(np.rint(down), -32768, 32767).astype(np.int16).tobytes()

    def __del__(self) -> None:
        state, self._state = getattr(self, "_state", None), None
        if state is not None:
            self._lib.rnnoise_destroy(state)


_RNNOISE_LIBS: dict[str, Any] = {}


def _load_rnnoise(path: str) -> Any:
    """The library, loaded once per process, with its function signatures declared."""
    lib = _RNNOISE_LIBS.get(path)
    if lib is None:
        try:
            lib = ctypes.CDLL(path)
        except OSError as err:
            raise FrontendError(f"cannot load {path}: {err}") from None
        lib.rnnoise_create.argtypes = [ctypes.c_void_p]
        lib.rnnoise_create.restype = ctypes.c_void_p
        lib.rnnoise_destroy.argtypes = [ctypes.c_void_p]
        floats = ctypes.POINTER(ctypes.c_float)
        lib.rnnoise_process_frame.argtypes = [ctypes.c_void_p, floats, floats]
        lib.rnnoise_process_frame.restype = ctypes.c_float
        lib.rnnoise_get_frame_size.restype = ctypes.c_int
        _RNNOISE_LIBS[path] = lib
    return lib


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
            return RNNoise()
        except FrontendError as err:
            if not _WARNED:
                _WARNED.append(True)
                _LOGGER.warning("noise filter off: %s", err)
            return None
    raise ValueError(f"unknown noise filter {name!r}")


_WARNED: list[bool] = []
