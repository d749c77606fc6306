"""Spoken replies: recorded prompts when present, else pyttsx3 (espeak-ng) in a worker process.

:class:`Speaker` turns :class:`assistant.conversation.actions.Say` into audio and plays it through an
:class:`assistant.conversation.playback.AudioSink`:

1. ``audio/prompts/<lang>/<prompt_id>.wav`` (e.g. recorded by a family member) is played as is;
2. otherwise :class:`SynthesisWorker` synthesizes a WAV with pyttsx3 in a **child process**
   that keeps one engine (pyttsx3 must create and run its engine in one thread, and can hang on
   repeated ``runAndWait``, pyttsx3 #126). Each utterance has a timeout; a hung worker is killed
   and respawned (``restarts`` counts it) — a thread could not be killed;
3. when pyttsx3 fails, ``espeak-ng -w`` is run directly for that utterance (logged).

Volume is applied as a gain on every sound (prompts, speech and earcons alike), so "louder"
and "quieter" work the same for recorded voices. Logs carry prompt ids, sources and timings;
the text itself only when ``privacy.log_transcripts`` is on (it can hold health details).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final

from assistant import data
from assistant.conversation.actions import Say
from assistant.conversation.playback import PLAYBACK_MARGIN_S, AudioSink, Pcm, read_wav, scale_pcm
from assistant.ops.paths import start_child
from assistant.ops.settings import Settings, Voice

_LOGGER = logging.getLogger(__name__)

SYNTH_TIMEOUT_S: Final = 15.0
"""Base time one utterance may take to synthesize before the worker is declared hung."""
SYNTH_TIMEOUT_PER_CHAR_S: Final = 0.05
"""Extra synthesis time allowed per character of text (long messages)."""
WORKER_START_ALLOWANCE_S: Final = 20.0
"""Time a new worker may take to start, import pyttsx3 and warm its engine up."""
WORKER_KILL_TIMEOUT_S: Final = 5.0
"""How long to wait for a killed or closed worker process to exit."""
ESPEAK_TIMEOUT_S: Final = 30.0
"""Time limit for the ``espeak-ng -w`` fallback."""
ESPEAK_VOICES_TIMEOUT_S: Final = 10.0
"""Time limit for ``espeak-ng --voices``."""
MIN_VOLUME: Final = 0.1
"""Volume never goes below this: "quieter, quieter" must not silence the assistant."""
MAX_VOLUME: Final = 1.0
MIN_RATE_WPM: Final = 80
MAX_RATE_WPM: Final = 300
SLOW_RATE_FACTOR: Final = 0.8
"""A ``Say(slow=True)`` (the urgent-symptom question) is synthesised at this fraction of ``voice.rate_wpm``."""
SYNTH_ATTEMPTS: Final = 2
"""pyttsx3 runs per utterance before the worker reports failure (see pyttsx3_synthesize)."""
WAV_HEADER_BYTES: Final = 44
RATE_SET_ATTEMPTS: Final = 3
"""Tries to make espeak take a voice and rate before giving up on pyttsx3 for an utterance."""
EARCONS: Final = ("wake", "listening", "done", "error")

_PROMPT_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,80}$")


class SynthesisFailed(RuntimeError):
    """The worker reported an error (pyttsx3 missing, unknown voice, no file written)."""


class SynthesisTimeout(SynthesisFailed):
    """The worker did not answer within the utterance's timeout (it was killed and respawned)."""


@dataclass(frozen=True)
class SynthRequest:
    """One utterance for the worker; picklable (crosses the process boundary)."""

    text: str
    voice: str
    rate_wpm: int
    out_path: str


@dataclass(frozen=True)
class Rendered:
    """Audio for one :class:`Say`, before volume and playback."""

    pcm: Pcm
    source: str
    """``prompt`` (recorded WAV), ``pyttsx3`` or ``espeak-ng`` (fallback)."""
    synth_s: float
    """Seconds spent producing it."""


@dataclass(frozen=True)
class Spoken:
    """What :meth:`Speaker.say` did (for logs, the daemon and tests)."""

    prompt_id: str
    source: str
    duration_s: float
    synth_s: float
    completed: bool
    """False when playback did not finish within its timeout (and was stopped)."""


# ------------------------------------------------------------------ worker-side functions

_ENGINE: Any = None


def pyttsx3_synthesize(request: SynthRequest) -> None:
    """Worker function: synthesize ``request.text`` to ``request.out_path`` with one kept engine."""
    global _ENGINE
    import pyttsx3

    if _ENGINE is None:
        _ENGINE = pyttsx3.init()
    engine = _ENGINE
    voice_id = _resolve_voice(engine, request.voice)
    out = Path(request.out_path)
    # Measured: about one fresh engine in twelve ends its first runAndWait without writing the
    # file (pyttsx3 2.99 cancels a synthesis it thinks is still playing); once more fixes it.
    for _attempt in range(SYNTH_ATTEMPTS):
        _apply_voice_and_rate(engine, voice_id, request.rate_wpm)
        engine.save_to_file(request.text, request.out_path)
        engine.runAndWait()
        if out.is_file() and out.stat().st_size > WAV_HEADER_BYTES:
            return
    raise RuntimeError("pyttsx3 wrote no audio")


def pyttsx3_warm_up() -> None:
    """Worker start-up: create the engine and speak a throwaway word (primes espeak-ng)."""
    with tempfile.TemporaryDirectory(prefix="jiayi-tts-warm-") as folder:
        pyttsx3_synthesize(SynthRequest("ready", "en", 175, str(Path(folder) / "warm.wav")))


def _apply_voice_and_rate(engine: Any, voice_id: str, rate_wpm: int) -> None:
    """Set voice and rate so that they really apply to the next utterance.

    Measured with pyttsx3 2.99 / espeak-ng 1.51: ``engine.setProperty`` goes through pyttsx3's
    command queue (a refused voice is swallowed), and espeak's asynchronous mode queues
    ``SetParameter`` too: about one rate change in five was lost, so speech came out at the
    previous rate. Setting them on the espeak driver directly and ``espeak_Synchronize`` before
    and after makes them stick (0 of 60 lost); we still check, and fail loudly otherwise.
    """
    try:
        from pyttsx3.drivers import _espeak
        from pyttsx3.drivers.espeak import EspeakDriver
    except (ImportError, OSError):  # not espeak (another platform): pyttsx3's own way
        engine.setProperty("voice", voice_id)
        engine.setProperty("rate", rate_wpm)
        engine.setProperty("volume", 1.0)
        return
    for _attempt in range(RATE_SET_ATTEMPTS):
        _espeak.Synchronize()
        EspeakDriver.setProperty("voice", voice_id)
        EspeakDriver.setProperty("rate", rate_wpm)
        EspeakDriver.setProperty("volume", 1.0)
        _espeak.Synchronize()
        if _espeak.GetParameter(_espeak.RATE) == rate_wpm and engine.getProperty("voice") == voice_id:
            return
    raise RuntimeError(f"espeak-ng did not take voice {voice_id!r} at {rate_wpm} wpm")


_VOICE_IDS: dict[str, str] = {}


def _resolve_voice(engine: Any, wanted: str) -> str:
    """espeak-ng voice identifier (``gmw/en``) for a language, file or name (``en-gb``).

    espeak's SetVoiceByName only knows file names: ``en-gb`` (file ``gmw/en``) would be
    refused silently and the previous voice (maybe Mandarin) kept.
    """
    key = wanted.lower()
    if key not in _VOICE_IDS:
        for voice in engine.getProperty("voices"):
            ident = str(voice.id).lower()
            names = {ident, ident.rsplit("/", 1)[-1], str(voice.name).lower()}
            names.update(str(lang).lower() for lang in (voice.languages or ()))
            if key in names:
                _VOICE_IDS[key] = ident
                break
        else:
            raise ValueError(f"espeak-ng has no voice {wanted!r}")
    return _VOICE_IDS[key]


def serve_worker(conn: Connection) -> None:
    """Child process (``python -m assistant.conversation.tts_child FD``): take the parent's import
    path, then its synthesis and warm-up functions (pickled by reference), then serve requests."""
    for folder in reversed(conn.recv()):  # before unpickling functions from the parent's modules
        if folder not in sys.path:
            sys.path.insert(0, folder)
    synth_fn, warm_up = conn.recv()
    _worker_main(conn, synth_fn, warm_up)


def _worker_main(conn: Any, synth_fn: Callable[[SynthRequest], None], warm_up: Callable[[], None]) -> None:
    """Child process: warm up, say ``("ready", ...)``, then one request in, one reply out."""
    # pyttsx3's espeak driver prints "Audio saved to ..." on stdout; keep the CLI's stdout clean.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        warm_up()
    except Exception as err:  # reported with the first utterance instead
        conn.send(("ready", f"warm-up failed: {type(err).__name__}: {err}"))
    else:
        conn.send(("ready", ""))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # parent went away
        if request is None:
            return
        try:
            synth_fn(request)
        except Exception as err:
            conn.send(("error", f"{type(err).__name__}: {err}"))
        else:
            conn.send(("ok", ""))


class SynthesisWorker:
    """A child process that keeps one TTS engine; per-utterance timeout; killed and respawned when hung.

    ``synth_fn`` runs in the child (module-level, picklable); tests inject one that blocks to
    simulate the pyttsx3 hang. The child is a plain ``python -m assistant.conversation.tts_child``
    on a socket pair, as the recognizer's is, not multiprocessing's spawn: spawn also starts a
    resource-tracker process (13 MB, ``bench/memory.py``), and a threaded daemon must never fork.
    """

    def __init__(
        self,
        synth_fn: Callable[[SynthRequest], None] = pyttsx3_synthesize,
        *,
        warm_up: Callable[[], None] = pyttsx3_warm_up,
        timeout_s: float = SYNTH_TIMEOUT_S,
        start_allowance_s: float = WORKER_START_ALLOWANCE_S,
    ) -> None:
        self._synth_fn = synth_fn
        self._warm_up = warm_up
        self._timeout_s = timeout_s
        self._start_allowance_s = start_allowance_s
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._fresh = False
        self._lock = threading.Lock()
        self.restarts = 0
        """How many times a hung or dead worker was killed and replaced."""

    def start(self) -> None:
        """Start the worker process now (otherwise it starts with the first utterance)."""
        with self._lock:
            self._ensure_started()

    def _ensure_started(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        if self._process is not None:  # died on its own
            self._discard()
            self.restarts += 1
        try:
            parent, process = start_child("assistant.conversation.tts_child")
        except OSError as err:
            raise SynthesisFailed(f"TTS worker could not start: {err}") from None
        try:
            parent.send(list(sys.path))
            parent.send((self._synth_fn, self._warm_up))
        except OSError:
            pass  # it died at once: the first utterance finds out and replaces it
        self._process, self._conn, self._fresh = process, parent, True
        _LOGGER.debug("TTS worker started (pid %s)", process.pid)

    def synthesize(self, request: SynthRequest, timeout_s: float | None = None) -> None:
        """Write ``request.out_path``; SynthesisTimeout (worker replaced) or SynthesisFailed."""
        with self._lock:
            self._ensure_started()
            if self._fresh:
                self._wait_until_ready()
            limit = timeout_s if timeout_s is not None else self._timeout_s
            limit += SYNTH_TIMEOUT_PER_CHAR_S * len(request.text)
            try:
                self._conn.send(request)
                ready = self._conn.poll(limit)
                reply = self._conn.recv() if ready else None
            except (EOFError, OSError, BrokenPipeError) as err:
                self._replace(f"worker died: {err}")
                raise SynthesisFailed(f"TTS worker died: {err}") from err
            if reply is None:
                self._replace(f"no answer within {limit:.1f} s")
                raise SynthesisTimeout(f"TTS worker did not answer within {limit:.1f} s")
            status, detail = reply
            if status != "ok":
                raise SynthesisFailed(detail)

    def _wait_until_ready(self) -> None:
        """A new worker first warms its engine up and then says ready (bounded by the start allowance)."""
        try:
            reply = self._conn.recv() if self._conn.poll(self._start_allowance_s) else None
        except (EOFError, OSError) as err:
            self._replace(f"worker died while starting: {err}")
            raise SynthesisFailed(f"TTS worker died while starting: {err}") from err
        if reply is None:
            self._replace(f"not ready within {self._start_allowance_s:.1f} s")
            raise SynthesisTimeout(f"TTS worker not ready within {self._start_allowance_s:.1f} s")
        self._fresh = False
        if reply[1]:
            _LOGGER.warning("TTS worker %s", reply[1])

    def _replace(self, why: str) -> None:
        _LOGGER.warning("TTS worker %s; restarting it", why)
        self._discard()
        self.restarts += 1
        self._ensure_started()

    def _discard(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.poll() is None:
                process.kill()
            _reap(process)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._process is not None and self._process.poll() is None:
                try:
                    self._conn.send(None)
                except OSError:
                    pass
                _reap(self._process)
            self._discard()


def _reap(process: subprocess.Popen[bytes]) -> None:
    """Wait (bounded) for a closed or killed worker to exit; kill it if it has not."""
    try:
        process.wait(WORKER_KILL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        try:
            process.wait(WORKER_KILL_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _LOGGER.warning("TTS worker %s did not exit after kill", process.pid)


# ------------------------------------------------------------------ espeak-ng directly


def espeak_ng_synthesize(request: SynthRequest, timeout_s: float = ESPEAK_TIMEOUT_S) -> None:
    """Fallback: ``espeak-ng -w`` (text on stdin, so it can't be mistaken for an option)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SynthesisFailed("espeak-ng is not installed")
    try:
        subprocess.run(
            [exe, "-v", request.voice, "-s", str(request.rate_wpm), "-w", request.out_path, "--stdin"],
            input=request.text.encode("utf-8"),
            capture_output=True,
            timeout=timeout_s,
            check=True,
        )
    except subprocess.TimeoutExpired as err:
        raise SynthesisFailed(f"espeak-ng took longer than {timeout_s:.0f} s") from err
    except subprocess.CalledProcessError as err:
        raise SynthesisFailed(f"espeak-ng failed: {err.stderr.decode(errors='replace').strip()}") from err


def espeak_voices(timeout_s: float = ESPEAK_VOICES_TIMEOUT_S) -> set[str]:
    """Voice names and languages ``espeak-ng --voices`` lists (lower case); empty when unavailable."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return set()
    try:
        out = subprocess.run([exe, "--voices"], capture_output=True, timeout=timeout_s, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return set()
    names: set[str] = set()
    for line in out.decode(errors="replace").splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 5:
            names.update({parts[1].lower(), parts[3].lower(), parts[4].lower()})
    return names


# ------------------------------------------------------------------ speaker


def clamp_volume(volume: float) -> float:
    return max(MIN_VOLUME, min(MAX_VOLUME, float(volume)))


class Speaker:
    """Says things and plays earcons through one sink. Blocking; run it in the daemon's TTS thread."""

    def __init__(
        self,
        voice: Voice,
        sink: AudioSink,
        *,
        log_transcripts: bool = False,
        prompts_dir: str | os.PathLike[str] | None = None,
        earcons_dir: str | os.PathLike[str] | None = None,
        worker: SynthesisWorker | None = None,
    ) -> None:
        self.voice = voice
        self.sink = sink
        self.log_transcripts = log_transcripts
        self.prompts_dir = Path(prompts_dir) if prompts_dir else data.audio_dir() / "prompts"
        self.earcons_dir = Path(earcons_dir) if earcons_dir else data.audio_dir() / "earcons"
        self.worker = worker or SynthesisWorker()
        self.volume = clamp_volume(voice.volume)
        self.rate_wpm = max(MIN_RATE_WPM, min(MAX_RATE_WPM, int(voice.rate_wpm)))
        self.fallbacks = 0
        """Utterances synthesized by the ``espeak-ng`` fallback because pyttsx3 failed."""
        self._work_dir = Path(tempfile.mkdtemp(prefix="jiayi-tts-"))
        self._count = 0
        self._earcons: dict[str, Pcm] = {}

    @classmethod
    def from_settings(cls, settings: Settings, sink: AudioSink, **kwargs: Any) -> Speaker:
        return cls(settings.voice, sink, log_transcripts=settings.privacy.log_transcripts, **kwargs)

    # ---------------------------------------------------------------- voices

    def voice_for(self, lang: str) -> str:
        return self.voice.voice_zh if lang.lower().startswith("zh") else self.voice.voice_en

    def check_voices(self) -> list[str]:
        """Configured voices that ``espeak-ng --voices`` does not list (logged as warnings)."""
        available = espeak_voices()
        missing = [v for v in (self.voice.voice_en, self.voice.voice_zh) if v.lower() not in available]
        for name in missing:
            _LOGGER.warning("espeak-ng has no voice %r (see espeak-ng --voices)", name)
        return missing

    # ---------------------------------------------------------------- speech

    def prompt_path(self, prompt_id: str, lang: str) -> Path | None:
        """The recorded prompt for ``prompt_id`` in ``lang``, if one exists."""
        if not prompt_id or not _PROMPT_ID.match(prompt_id):
            return None
        folder = "zh" if lang.lower().startswith("zh") else "en"
        path = self.prompts_dir / folder / f"{prompt_id}.wav"
        return path if path.is_file() else None

    def render(self, say: Say) -> Rendered:
        """Audio for ``say`` at full volume: the recorded prompt, else synthesized speech."""
        started = time.monotonic()
        recorded = self.prompt_path(say.prompt_id, say.lang)
        if recorded is not None:
            try:
                return Rendered(read_wav(recorded), "prompt", time.monotonic() - started)
            except (OSError, ValueError, EOFError) as err:
                _LOGGER.warning("recorded prompt %s unusable (%s); synthesizing", recorded.name, err)
        self._count += 1
        out = self._work_dir / f"utterance-{self._count}.wav"
        rate = max(MIN_RATE_WPM, round(self.rate_wpm * SLOW_RATE_FACTOR)) if say.slow else self.rate_wpm
        request = SynthRequest(say.text, self.voice_for(say.lang), rate, str(out))
        source = "pyttsx3"
        try:
            self.worker.synthesize(request)
        except SynthesisFailed as err:
            _LOGGER.warning("pyttsx3 failed (%s); using espeak-ng directly", err)
            self.fallbacks += 1
            source = "espeak-ng"
            espeak_ng_synthesize(request)
        try:
            pcm = read_wav(out)
        finally:
            out.unlink(missing_ok=True)
        return Rendered(pcm, source, time.monotonic() - started)

    def say(self, say: Say) -> Spoken:
        """Speak ``say`` through the sink and wait until it has been heard (bounded)."""
        rendered = self.render(say)
        completed = self._play(rendered.pcm, label=say.prompt_id or "speech")
        spoken = Spoken(say.prompt_id, rendered.source, rendered.pcm.duration_s, rendered.synth_s, completed)
        if self.log_transcripts:
            _LOGGER.info(
                "said %r (prompt %s, %s, %.2f s audio, %.2f s to make)",
                say.text, say.prompt_id or "-", spoken.source, spoken.duration_s, spoken.synth_s,
            )  # fmt: skip
        else:
            _LOGGER.info(
                "said prompt %s (%s, %s, %.2f s audio, %.2f s to make)",
                say.prompt_id or "-", say.lang, spoken.source, spoken.duration_s, spoken.synth_s,
            )  # fmt: skip
        return spoken

    def play_earcon(self, name: str) -> bool:
        """Play ``wake``, ``listening``, ``done`` or ``error``; False when it is missing."""
        pcm = self._earcons.get(name)
        if pcm is None:
            if name not in EARCONS:
                _LOGGER.warning("unknown earcon %r", name)
                return False
            try:
                pcm = read_wav(self.earcons_dir / f"{name}.wav")
            except (OSError, ValueError, EOFError) as err:
                _LOGGER.warning("earcon %s unusable: %s", name, err)
                return False
            self._earcons[name] = pcm
        return self._play(pcm, label=f"earcon-{name}")

    def set_volume(self, delta: float) -> float:
        """Change the volume by ``delta`` (clamped to MIN_VOLUME … MAX_VOLUME); returns the new volume."""
        self.volume = clamp_volume(self.volume + delta)
        _LOGGER.info("volume now %.2f", self.volume)
        return self.volume

    def stop(self) -> None:
        """Cut off what is playing (e.g. the person started talking)."""
        self.sink.stop()

    def close(self) -> None:
        self.worker.close()
        shutil.rmtree(self._work_dir, ignore_errors=True)

    def _play(self, pcm: Pcm, *, label: str) -> bool:
        self.sink.play(scale_pcm(pcm, self.volume), label=label)
        if self.sink.wait(pcm.duration_s + PLAYBACK_MARGIN_S):
            return True
        _LOGGER.warning("playback of %s did not finish in time; stopped", label)
        self.sink.stop()
        return False
