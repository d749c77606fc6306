#!/usr/bin/env python3
"""Generate the four earcons in ``audio/earcons/`` (standard library only, deterministic).

Short, gentle sine chimes: 16 kHz mono 16-bit, under half a second, fundamentals between
500 and 900 Hz (older listeners lose high frequencies first), a soft second harmonic so small
speakers still carry them, and raised-cosine fades so nothing clicks.

    python3 scripts/make_earcons.py [OUT_DIR]
"""

from __future__ import annotations

import array
import math
import sys
import wave
from pathlib import Path

SAMPLE_RATE = 16_000
PEAK = 0.45
"""Peak level as a fraction of full scale: clearly audible, never harsh."""
FADE_S = 0.015
HARMONIC = 0.25
"""Level of the second harmonic relative to the fundamental."""

# name -> notes as (frequency Hz, duration s); a short gap of silence separates notes.
EARCONS: dict[str, tuple[tuple[float, float], ...]] = {
    "wake": ((523.25, 0.12), (659.25, 0.16)),  # C5 -> E5, rising: "I'm here"
    "listening": ((659.25, 0.2),),  # E5, one soft note: "go ahead"
    "done": ((783.99, 0.11), (587.33, 0.17)),  # G5 -> D5, settling down: "finished"
    "error": ((554.37, 0.12), (523.25, 0.2)),  # C#5 -> C5, small step down: "that didn't work"
}
GAP_S = 0.04


def _note(freq: float, seconds: float) -> list[float]:
    count = int(SAMPLE_RATE * seconds)
    fade = int(SAMPLE_RATE * FADE_S)
    out = []
    for i in range(count):
        t = i / SAMPLE_RATE
        value = math.sin(2 * math.pi * freq * t) + HARMONIC * math.sin(4 * math.pi * freq * t)
        value /= 1 + HARMONIC
        # raised-cosine fade in/out, plus a gentle exponential decay like a chime
        if i < fade:
            value *= 0.5 - 0.5 * math.cos(math.pi * i / fade)
        elif i >= count - fade:
            value *= 0.5 - 0.5 * math.cos(math.pi * (count - i) / fade)
        value *= math.exp(-3.0 * t / seconds)
        out.append(value)
    return out


def render(notes: tuple[tuple[float, float], ...]) -> bytes:
    samples: list[float] = []
    for index, (freq, seconds) in enumerate(notes):
        if index:
            samples.extend([0.0] * int(SAMPLE_RATE * GAP_S))
        samples.extend(_note(freq, seconds))
    return array.array("h", (round(s * PEAK * 32767) for s in samples)).tobytes()


def write_all(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, notes in EARCONS.items():
        path = out_dir / f"{name}.wav"
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(SAMPLE_RATE)
            wav.writeframes(render(notes))
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "audio" / "earcons"
    for path in write_all(out_dir):
        with wave.open(str(path), "rb") as wav:
            print(f"{path}: {wav.getnframes() / wav.getframerate():.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
