"""Endpointing tuned for older speakers: where an utterance starts and ends in a chunk stream.

A frame counts as speech when webrtcvad says so *and* its level is above the adaptive noise
floor. An utterance starts after :data:`START_VOICED_FRAMES` speech frames within the last
:data:`START_WINDOW_FRAMES` (a minimum speech duration that ignores clicks and bumps), and a
little pre-roll audio (:data:`PREROLL_S`) is handed over with the start so the first syllable
is not lost. It ends after ``settings.asr.trailing_silence_s`` of non-speech (default 1.2 s, so
slow, halting speech is not cut mid-sentence) or at ``max_utterance_s``.

Time here is *audio* time (frames counted), so results do not depend on how fast a WAV file is
read. The recognizers keep their own segment boundaries inside the utterance (vosk finishes a
segment at its own endpoint; the listener joins the segments), but only this module ends an
utterance.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from assistant.hearing.sources import CHUNK_BYTES, CHUNK_MS, SAMPLE_RATE, rms_level
from assistant.ops.settings import Asr

_LOGGER = logging.getLogger(__name__)

FRAME_S: Final = CHUNK_MS / 1000.0
PREROLL_S: Final = 0.3
START_WINDOW_FRAMES: Final = 10
START_VOICED_FRAMES: Final = 5
"""5 speech frames (150 ms) within 300 ms start an utterance."""
MIN_SPEECH_S: Final = 0.3
"""Utterances with less speech than this are dropped as noise."""
MIN_RMS: Final = 0.002
"""Absolute level (about −54 dBFS) below which nothing is speech."""
NOISE_FLOOR_RATIO: Final = 1.6
"""A speech frame must be at least this many times the noise-floor RMS (about 4 dB)."""

StepKind = Literal["idle", "start", "speech", "end"]
EndReason = Literal["silence", "max_length", "flush"]


@dataclass(frozen=True)
class EndpointConfig:
    trailing_silence_s: float = 1.2
    max_utterance_s: float = 12.0
    vad_aggressiveness: int = 2
    preroll_s: float = PREROLL_S
    min_speech_s: float = MIN_SPEECH_S

    @classmethod
    def from_asr(cls, asr: Asr) -> EndpointConfig:
        """From ``settings.asr``."""
        return cls(
            trailing_silence_s=float(asr.trailing_silence_s),
            max_utterance_s=float(asr.max_utterance_s),
            vad_aggressiveness=max(0, min(3, int(asr.vad_aggressiveness))),
        )


@dataclass(frozen=True)
class EndpointStep:
    """What one frame meant. ``audio`` is what to feed the recognizer now (pre-roll on ``start``)."""

    kind: StepKind
    audio: bytes = b""
    reason: EndReason | None = None
    speech_s: float = 0.0
    """On ``end``: seconds of speech frames in the utterance (short ones are noise)."""
    trailing_s: float = 0.0
    """On ``end``: seconds of non-speech since the last speech frame."""

    @property
    def too_short(self) -> bool:
        return self.kind == "end" and self.speech_s < MIN_SPEECH_S


class Endpointer:
    """Feed 30 ms frames of 16 kHz mono PCM with :meth:`process`; one instance per stream."""

    def __init__(self, config: EndpointConfig | None = None) -> None:
        self.config = config or EndpointConfig()
        self._vad = _vad(self.config.vad_aggressiveness)
        self._preroll: collections.deque[bytes] = collections.deque(
            maxlen=max(1, round(self.config.preroll_s / FRAME_S))
        )
        self._window: collections.deque[bool] = collections.deque(maxlen=START_WINDOW_FRAMES)
        self._noise_floor: float | None = None
        self._in_utterance = False
        self._frames = 0
        self._speech_frames = 0
        self._silent_frames = 0
        self._prev_voiced = False
        self.last_level = 0.0
        self.last_voiced = False

    @property
    def in_utterance(self) -> bool:
        return self._in_utterance

    @property
    def noise_floor(self) -> float:
        return self._noise_floor or 0.0

    def is_speech(self, frame: bytes) -> bool:
        """VAD and level gate for one frame (updates the level, not the state)."""
        level = rms_level(frame)
        self.last_level = level
        floor = self._noise_floor if self._noise_floor is not None else 0.0
        if level < MIN_RMS or level < floor * NOISE_FLOOR_RATIO:
            return False
        return bool(self._vad(frame, SAMPLE_RATE))

    def _track_floor(self, level: float) -> None:
        if self._noise_floor is None:
            self._noise_floor = level
        elif level < self._noise_floor:
            self._noise_floor = 0.8 * self._noise_floor + 0.2 * level
        else:
            self._noise_floor = 0.98 * self._noise_floor + 0.02 * level

    def process(self, frame: bytes) -> EndpointStep:
        if len(frame) != CHUNK_BYTES:
            frame = frame[:CHUNK_BYTES].ljust(CHUNK_BYTES, b"\x00")
        voiced = self.is_speech(frame)
        self.last_voiced = voiced
        cfg = self.config
        if not self._in_utterance:
            if not voiced:
                self._track_floor(self.last_level)
            self._window.append(voiced)
            self._preroll.append(frame)
            if sum(self._window) >= START_VOICED_FRAMES:
                self._in_utterance = True
                audio = b"".join(self._preroll)
                self._frames = len(self._preroll)
                self._speech_frames = sum(self._window)
                self._silent_frames = 0
                self._prev_voiced = True
                self._preroll.clear()
                self._window.clear()
                return EndpointStep("start", audio)
            return EndpointStep("idle")
        self._frames += 1
        if voiced:
            self._speech_frames += 1
            if self._prev_voiced:  # two speech frames in a row end a pause (one is often noise)
                self._silent_frames = 0
            else:
                self._silent_frames += 1
        else:
            self._silent_frames += 1
        self._prev_voiced = voiced
        if self._silent_frames * FRAME_S >= cfg.trailing_silence_s - 1e-9:
            return self._end(frame, "silence")
        if self._frames * FRAME_S >= cfg.max_utterance_s - 1e-9:
            return self._end(frame, "max_length")
        return EndpointStep("speech", frame)

    def flush(self) -> EndpointStep | None:
        """End of input: close an open utterance (None when none is open)."""
        if not self._in_utterance:
            return None
        return self._end(b"", "flush")

    def _end(self, frame: bytes, reason: EndReason) -> EndpointStep:
        step = EndpointStep(
            "end",
            frame,
            reason,
            speech_s=self._speech_frames * FRAME_S,
            trailing_s=self._silent_frames * FRAME_S,
        )
        self._in_utterance = False
        self._frames = self._speech_frames = self._silent_frames = 0
        self._prev_voiced = False
        return step

    def reset(self) -> None:
        """Drop any open utterance and the pre-roll (e.g. while the assistant is speaking)."""
        self._in_utterance = False
        self._preroll.clear()
        self._window.clear()
        self._frames = self._speech_frames = self._silent_frames = 0


def _vad(mode: int) -> Callable[[bytes, int], Any]:
    """webrtcvad's ``Vad(mode).is_speech`` (frame, sample rate) -> speech, from its C extension
    ``_webrtcvad`` directly when it is there: the ``webrtcvad`` module around it reads its own
    version with ``importlib.metadata`` at import, which brings in ``email``, ``zipfile`` and
    ``csv`` (≈ 2.7 MB resident in the daemon; docs/benchmarks/speech.md, Memory). The same calls
    as ``Vad.__init__`` / ``set_mode`` / ``is_speech`` make. Imported here, not at module load:
    a C extension, no audio device, kept out of import time."""
    try:
        import _webrtcvad
    except ImportError:  # a webrtcvad build without the separate extension module
        import webrtcvad

        return webrtcvad.Vad(mode).is_speech  # type: ignore[no-any-return]
    handle = _webrtcvad.create()
    _webrtcvad.init(handle)
    _webrtcvad.set_mode(handle, mode)

    def is_speech(frame: bytes, sample_rate: int) -> Any:
        return _webrtcvad.process(handle, sample_rate, frame, len(frame) // 2)

    return is_speech
