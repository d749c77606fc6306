"""Real test speech: espeak-ng or flite voices/speeds → 16 kHz mono WAV (sox), noise mixed at an SNR.

Reusable by every area's tests::

    from speechgen import SpeechGen, speechgen_fixture  # noqa: F401  (provides the `speechgen` fixture)

    def test_x(speechgen):
        wav = speechgen.say("call my doctor", voice="en-us", wpm=150)
        human = speechgen.say("call my doctor", voice="flite:slt")   # flite's diphone/clustergen voices
        noisy = speechgen.with_noise(wav, "kitchen.wav", snr_db=10)

Generated files are cached (keyed by text, voice, speed, padding, noise, SNR, seed) in pytest's
cache dir (``.pytest_cache/d/jiayi-speech``), so reruns do not call espeak-ng again. Noise comes
from ``../shared/data/noise`` next to the repository (:func:`noise_dir`); tests skip with a clear
reason only when that folder is missing.
"""

from __future__ import annotations

import array
import hashlib
import random
import shutil
import subprocess
import wave
from pathlib import Path
from typing import Final

import pytest

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
RATE: Final = 16000
GENERATOR_VERSION: Final = 2
"""Part of every cache key: bump when the audio a call produces changes (2 = seeded sox dither).

sox dithers when it converts espeak-ng's 22 kHz output to 16 kHz 16-bit; unseeded, that noise
differed on every run, and pocketsphinx's result on a few utterances flipped with it, so a fresh
machine (CI) could fail where a warm cache passed. Seeded dither keeps the realistic noise floor
(a real microphone never sends digital silence) and makes the audio identical everywhere."""
LEAD_S: Final = 0.5
TRAIL_S: Final = 1.6
"""Trailing silence padded after speech: longer than the default 1.2 s endpoint."""
TOOL_TIMEOUT_S: Final = 30.0
FLITE_PREFIX: Final = "flite:"
"""``voice="flite:slt"`` speaks with flite (a different synthesiser from espeak-ng) instead."""


def noise_dir(repo_root: Path = REPO_ROOT) -> Path:
    return Path(repo_root).parent / "shared" / "data" / "noise"


def require_noise(name: str = "kitchen.wav") -> Path:
    path = noise_dir() / name
    if not path.is_file():
        pytest.skip(f"noise file {path} is missing (shared test data not provisioned)")
    return path


def read_pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2), path
        return w.readframes(w.getnframes())


def write_pcm(path: Path, pcm: bytes) -> Path:
    tmp = path.with_suffix(".part.wav")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm)
    tmp.replace(path)
    return path


def silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(seconds * RATE)


def _power(samples: array.array) -> float:
    return sum(s * s for s in samples) / max(1, len(samples))


def mix_at_snr(speech: bytes, noise: bytes, snr_db: float, seed: int = 0) -> bytes:
    """ "rms" method of the noise README: random noise segment scaled so that
    10·log10(P_speech / P_noise) = snr_db, added, then scaled down if it would clip."""
    sp = array.array("h", speech)
    nz = array.array("h", noise)
    if len(nz) < len(sp):
        nz = nz * (len(sp) // len(nz) + 1)
    start = random.Random(seed).randrange(0, len(nz) - len(sp) + 1)
    seg = nz[start : start + len(sp)]
    p_speech, p_noise = _power(sp), _power(seg)
    gain = (p_speech / (p_noise * 10 ** (snr_db / 10))) ** 0.5 if p_noise > 0 else 0.0
    mixed = [a + gain * b for a, b in zip(sp, seg, strict=True)]
    peak = max((abs(x) for x in mixed), default=0.0)
    scale = 32767.0 / peak if peak > 32767.0 else 1.0
    return array.array("h", (int(x * scale) for x in mixed)).tobytes()


class SpeechGen:
    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        for tool in ("espeak-ng", "sox"):
            if shutil.which(tool) is None:
                pytest.skip(f"{tool} is not installed")

    def _key(self, *parts: object) -> Path:
        digest = hashlib.sha1(repr((GENERATOR_VERSION, *parts)).encode()).hexdigest()[:16]
        return self.cache_dir / f"{digest}.wav"

    def say(
        self,
        text: str,
        voice: str = "en-us",
        wpm: int = 150,
        *,
        lead_s: float = LEAD_S,
        trail_s: float = TRAIL_S,
        pitch: int | None = None,
    ) -> Path:
        """``text`` spoken by espeak-ng (or flite for ``voice="flite:<name>"``: kal, slt, rms, awb;
        ``wpm`` and ``pitch`` apply to espeak-ng only), 16 kHz mono 16-bit, with silence around it."""
        out = self._key("say", text, voice, wpm, lead_s, trail_s, pitch)
        if out.exists():
            return out
        raw = out.with_suffix(".tts.wav")
        if voice.startswith(FLITE_PREFIX):
            if shutil.which("flite") is None:
                pytest.skip("flite is not installed (make system-deps installs it)")
            cmd = ["flite", "-voice", voice[len(FLITE_PREFIX) :], "-o", str(raw), "-t"]
        else:
            cmd = ["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw)]
            if pitch is not None:
                cmd += ["-p", str(pitch)]
        subprocess.run([*cmd, text], check=True, timeout=TOOL_TIMEOUT_S, capture_output=True)
        tmp = out.with_suffix(".part.wav")
        subprocess.run(
            [
                "sox",
                "-R",  # repeatable: sox seeds its dither, so every run writes the same samples
                str(raw),
                "-r",
                str(RATE),
                "-c",
                "1",
                "-b",
                "16",
                str(tmp),
                "pad",
                str(lead_s),
                str(trail_s),
            ],
            check=True,
            timeout=TOOL_TIMEOUT_S,
            capture_output=True,
        )
        raw.unlink(missing_ok=True)
        tmp.replace(out)
        return out

    def with_noise(self, speech_wav: Path, noise_name: str, snr_db: float, seed: int = 0) -> Path:
        noise_path = require_noise(noise_name)
        out = self._key("noise", speech_wav.name, noise_name, snr_db, seed)
        if out.exists():
            return out
        mixed = mix_at_snr(read_pcm(speech_wav), read_pcm(noise_path), snr_db, seed)
        return write_pcm(out, mixed)

    def concat(self, *parts: Path | float, name: str = "") -> Path:
        """WAVs and silences (floats, seconds) one after another."""
        out = self._key("concat", tuple(str(p) for p in parts), name)
        if out.exists():
            return out
        pcm = b"".join(silence(p) if isinstance(p, float | int) else read_pcm(p) for p in parts)
        return write_pcm(out, pcm)


@pytest.fixture(scope="session", name="speechgen")
def speechgen_fixture(request: pytest.FixtureRequest) -> SpeechGen:
    """Session fixture ``speechgen``; import ``speechgen_fixture`` into a test module to use it."""
    return SpeechGen(Path(request.config.cache.mkdir("jiayi-speech")))
