"""Speech recognition: one streaming interface, two engines (vosk, pocketsphinx), engine choice.

A :class:`Recognizer` holds the loaded model (once per process) and the grammars; each utterance
gets a fresh, disposable :class:`UtteranceDecoder` (``accept(pcm)`` … ``finish() -> Transcript``).
In grammar mode only *complete* grammar phrases count: anything else (a partial phrase, "[unk]",
nothing) comes back as a rejected transcript with ``text == ""``, so it can never become a command.

Modes: ``command`` (catalog/config phrases, or free-form when no phrases are given), ``wake``
(the wake phrase, alone or followed by a command phrase, plus the command phrases so that ordinary
speech is not forced onto the wake phrase).

Crash/hang isolation: :class:`IsolatedRecognizer` runs the engine in a child process (see
``docs/speech.md`` for why). A native crash or a hang longer than :data:`FINISH_TIMEOUT_S` kills the
child, raises :class:`RecognizerCrashed` for that one utterance, and a new child is started.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from assistant.ops.paths import start_child

if TYPE_CHECKING:
    import subprocess
    from multiprocessing.connection import Connection

    from assistant.hearing.grammar import SpokenGrammar
    from assistant.ops.settings import Settings

_LOGGER = logging.getLogger(__name__)

Mode = Literal["command", "wake"]
FINISH_TIMEOUT_S: Final = 10.0
"""Longest wait for a child recognizer's final result before it counts as hung."""
CHILD_START_TIMEOUT_S: Final = 60.0
"""Longest wait for a child to load its model (vosk models take seconds on a Pi)."""
RESTART_BACKOFF_S: Final = (0.0, 1.0, 5.0, 30.0)
"""Delay before the 1st, 2nd, 3rd, … restart of a crashed child (last value repeats)."""
CHILD_STOP_TIMEOUT_S: Final = 2.0
POCKETSPHINX_NBEST: Final = 0
"""Next-best transcripts the daemon asks pocketsphinx for in language-model mode, for the matcher
to choose from (0 = 1-best only). Off: on held-out voices 5-best rescoring raised accuracy (clean
40 → 51 %, 10 dB 68 → 74 %) but also wrong actions (25 → 33 %, 10 → 19 %) and chatter false accepts
(docs/benchmarks/speech.md, round 4)."""


POCKETSPHINX_SECOND_OPINION: Final = True
"""Grammar mode with the built-in English catalog: decode each command a second time with a
trigram model of the paraphrase corpus plus the catalog, so the pipeline acts only on readings
both agree on and understands wording the catalog lacks (docs/benchmarks/speech.md)."""


class RecognitionError(Exception):
    """Recognition cannot be set up (no engine/model); the message says how to fix it."""


class RecognizerCrashed(RecognitionError):
    """The engine died or hung during one utterance; it has been restarted."""


@dataclass(frozen=True)
class Transcript:
    text: str
    """Accepted text (a complete grammar phrase, or free-form text); "" = rejected/nothing."""
    raw: str
    """What the engine returned before the complete-phrase check."""
    engine: str
    lang: str
    grammar: bool
    """Recognised against a phrase list."""
    decode_s: float = 0.0
    """CPU-side time spent in finish() (end-of-utterance latency inside the engine)."""
    alternatives: tuple[str, ...] = ()
    """The engine's next-best transcripts (normalised, distinct, not ``raw``), best first; empty
    unless N-best was asked for (:attr:`EngineSpec.nbest`). The matcher may pick one of them
    (:func:`assistant.hearing.listener.understand_best`)."""
    ahead_s: float = 0.0
    """Time spent decoding ahead during the trailing silence (``decode_ahead``) for this result."""
    confidence: float | None = None
    """0–1 acoustic confidence in ``raw`` (pocketsphinx grammar mode: the sentence's acoustic
    score against a free phone loop's); None when the engine gives none."""
    second: str = ""
    """Grammar mode with a second opinion: the same audio decoded with the wider language model
    (paraphrase corpus + catalog, :func:`assistant.hearing.langmodel.corpus_sentences`), for the
    understander; "" = none (not asked for, or nothing heard)."""
    candidate: str = ""
    """Distress spotter, stage 1 (wake search only): the emergency sentence the search *without*
    its chatter loop heard in this audio when the normal wake search heard neither the wake
    phrase nor an emergency; "" = none. Never acted on unless :attr:`free_text` confirms it
    (:mod:`assistant.hearing.spotter`)."""
    free_text: str = ""
    """Distress spotter, stage 2: the same audio transcribed freely with the large-vocabulary
    language model (only when there is a :attr:`candidate`)."""
    free_alternatives: tuple[str, ...] = ()
    """Next-best free transcripts from the same decode's lattice (stage 2 accepts any of them)."""
    spot_second: str = ""
    """Distress spotter, stage 2: the candidate's audio decoded with the command search's wider
    language model (the second opinion: the paraphrase corpus in older people's wording plus the
    catalog), read by the understander like the free transcripts (only with a :attr:`candidate`
    and :data:`assistant.hearing.spotter.SPOT_SECOND_OPINION`)."""
    rivals: tuple[tuple[str, float], ...] = ()
    """Command search (pocketsphinx grammar mode, ``CONFUSABLE_CHECK``): (sentence, margin) for
    each sentence one near-homophone away from :attr:`raw` or :attr:`second` in a configured value
    ("call my daughter" for "call my doctor"), with how much better the heard sentence fits the
    audio (acoustic log score per frame of the differing word; < 0: the rival fits better)."""
    spot_keyword: str = ""
    """Distress spotter, stage 2: the keyword of the candidate that keyphrase spotting also found
    in its audio ("help"; "" = not looked for or not found;
    :data:`assistant.hearing.spotter.SPOT_KEYWORD`)."""
    spot_phrase: str = ""
    """Distress spotter, stage 2: the candidate's emergency words (without stage 1's fillers) when
    keyphrase spotting of those words as one phrase found them in its audio ("" = not looked for
    or not found; :data:`assistant.hearing.spotter.SPOT_PHRASE_THRESHOLD`)."""


class UtteranceDecoder(Protocol):
    def accept(self, pcm: bytes) -> None: ...

    def finish(self) -> Transcript: ...


class Recognizer(Protocol):
    engine: str
    lang: str

    def begin(self, mode: Mode = "command") -> UtteranceDecoder: ...

    def close(self) -> None: ...


_PUNCT = re.compile(r"[^\w\s'\[\]]", re.UNICODE)


def normalize_phrase(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces (the form grammars and checks use)."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def unique_phrases(phrases: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for p in phrases:
        n = normalize_phrase(p)
        if n:
            seen.setdefault(n, None)
    return list(seen)


def wake_grammar(wake_phrase: str, phrases: Sequence[str] | None) -> list[str]:
    """Phrases of the wake search: wake, wake + command, and plain commands (to absorb them)."""
    wake = normalize_phrase(wake_phrase)
    commands = unique_phrases(phrases or ())
    return unique_phrases([wake, *(f"{wake} {c}" for c in commands), *commands])


def split_wake(text: str, wake_phrase: str) -> tuple[bool, str]:
    """(wake phrase heard, the command after it) for a wake-mode transcript."""
    wake = normalize_phrase(wake_phrase)
    if not wake or not text:
        return False, ""
    if text == wake:
        return True, ""
    if text.startswith(wake + " "):
        return True, text[len(wake) + 1 :]
    return False, ""


# ---------------------------------------------------------------------------- engine choice


@dataclass(frozen=True)
class EngineSpec:
    """Everything needed to build a recognizer, picklable (a child process builds it)."""

    engine: Literal["vosk", "pocketsphinx"]
    lang: str
    model_path: str = ""
    phrases: tuple[str, ...] | None = None
    """Command phrases; None = free-form."""
    wake_phrase: str = ""
    grammar: SpokenGrammar | None = None
    """The catalog compiled as spoken (:mod:`assistant.hearing.grammar`); pocketsphinx uses it instead of
    ``phrases`` (vosk gets ``phrases`` sampled from it)."""
    language_model: bool = False
    """pocketsphinx: decode ``grammar`` as a trigram language model of its sentences."""
    nbest: int = 0
    """pocketsphinx language-model mode: return up to this many next-best transcripts as
    :attr:`Transcript.alternatives` (0 = none)."""
    second_opinion: bool = False
    """pocketsphinx grammar mode: also decode commands with the wider language model of the
    paraphrase corpus (:attr:`Transcript.second`); only for the built-in English catalog, which
    the corpus was written for."""
    cache_dir: str = ""
    """pocketsphinx: folder where trained language models are kept between starts (the state
    dir's ``models/``; "" = trained at every start)."""


def choose_engine(
    settings: Any,
    phrases: Sequence[str] | None = None,
    grammar: SpokenGrammar | None = None,
    lang: str | None = None,
) -> EngineSpec:
    """Apply ``asr.engine`` (``auto``: vosk with a model for the language, else pocketsphinx for
    English, else a RecognitionError saying how to install a model). With ``grammar`` (and
    ``asr.grammar`` on), pocketsphinx decodes with it as a finite-state grammar (``asr.decoder:
    grammar``) or as a trigram language model (``language_model``), vosk with its sampled phrases."""
    from assistant.hearing import vosk_models as models

    lang = lang or settings.language
    wanted = settings.asr.engine
    if not settings.asr.grammar:
        phrases = grammar = None
    use_phrases = tuple(phrases) if phrases is not None else None
    wake = settings.voice.wake_phrase
    if wanted in ("auto", "vosk"):
        try:
            info = models.resolve_model(settings, lang)
        except models.ModelError as err:
            raise RecognitionError(str(err)) from None
        if info is not None:
            if grammar is not None:
                use_phrases = tuple(grammar.sample_phrases())
            return EngineSpec("vosk", lang, str(info.path), use_phrases, wake)
        if wanted == "vosk":
            raise RecognitionError(_no_model_message(settings, lang))
    if lang != "en":
        raise RecognitionError(_no_model_message(settings, lang))
    if grammar is not None and settings.asr.decoder == "language_model":
        return EngineSpec(
            "pocketsphinx", lang, "", None, wake, grammar, language_model=True, nbest=POCKETSPHINX_NBEST
        )
    if grammar is not None:
        second = POCKETSPHINX_SECOND_OPINION and _built_in_catalog(settings)
        return EngineSpec(
            "pocketsphinx",
            lang,
            "",
            None,
            wake,
            grammar,
            second_opinion=second,
            cache_dir=_models_dir(settings),
        )
    return EngineSpec("pocketsphinx", lang, "", use_phrases, wake)


def _built_in_catalog(settings: Any) -> bool:
    """Whether ``settings`` leave ``understanding.catalog`` empty (the built-in catalogs)."""
    choice = getattr(getattr(settings, "understanding", None), "catalog", None)
    return choice is None or (not choice.folder and not choice.files)


def _models_dir(settings: Any) -> str:
    """The state dir's ``models/`` folder (where the intent model is cached too)."""
    from assistant.ops.paths import state_dir

    return str(state_dir(getattr(settings, "state_dir", "") or "") / "models")


def _no_model_message(settings: Settings, lang: str) -> str:
    from assistant.hearing import vosk_models as models

    suggestion = next((m.name for m in models.KNOWN_MODELS.values() if m.lang == lang), "a vosk model")
    return (
        f"no vosk speech model for language {lang!r} is installed in {models.models_dir(settings)}; "
        f"copy {suggestion}.zip onto the device and run `jiayi model install --from /path/to/{suggestion}.zip` "
        f"(or `jiayi model install {suggestion}` with internet)"
        + ("" if lang != "en" else "; or set asr.engine to pocketsphinx")
    )


def build_recognizer(spec: EngineSpec) -> Recognizer:
    """Build the engine in this process (loads the model once; cached for vosk)."""
    if spec.engine == "vosk":
        from assistant.hearing.vosk_engine import VoskRecognizer

        return VoskRecognizer(Path(spec.model_path), spec.phrases, spec.wake_phrase, lang=spec.lang)
    from assistant.hearing.pocketsphinx_engine import PocketsphinxRecognizer

    return PocketsphinxRecognizer(
        spec.phrases,
        spec.wake_phrase,
        lang=spec.lang,
        grammar=spec.grammar,
        language_model=spec.language_model,
        nbest=spec.nbest,
        second_opinion=spec.second_opinion,
        cache_dir=spec.cache_dir,
    )


def open_recognizer(
    settings: Any,
    phrases: Sequence[str] | None,
    *,
    isolated: bool = True,
    grammar: SpokenGrammar | None = None,
) -> Recognizer:
    spec = choose_engine(settings, phrases, grammar)
    return IsolatedRecognizer(spec) if isolated else build_recognizer(spec)


# ---------------------------------------------------------------------------- isolation


def _wait(proc: subprocess.Popen[bytes]) -> None:
    """Reap a child (killed if it has not exited within the stop timeout)."""
    import subprocess  # the parent's (the child process keeps it out: 0.6 MB)

    try:
        proc.wait(CHILD_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(CHILD_STOP_TIMEOUT_S)


def serve_child(conn: Any, spec: EngineSpec | None = None) -> None:
    """Child process: build the engine, then serve begin/audio/finish messages until close."""
    logging.basicConfig(level=logging.WARNING)
    if spec is None:
        try:
            kind, spec = conn.recv()
        except (EOFError, OSError):
            return
        if kind != "spec" or not isinstance(spec, EngineSpec):
            conn.send(("error", "recognizer child: expected the engine spec first"))
            return
    try:
        recognizer = build_recognizer(spec)
    except Exception as err:
        conn.send(("error", f"{type(err).__name__}: {err}"))
        return
    conn.send(("ready", None))
    decoder: UtteranceDecoder | None = None
    last: Any = None  # the last finished decoder (its audio, for "retry")
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        kind = msg[0]
        if kind == "audio":
            if decoder is not None:
                decoder.accept(msg[1])
        elif kind == "side":
            accept_side = getattr(decoder, "accept_side", None)
            if accept_side is not None:
                accept_side(msg[1])
        elif kind == "begin":
            decoder = recognizer.begin(msg[1])
        elif kind == "ahead":
            ahead = getattr(decoder, "decode_ahead", None)
            if ahead is not None:
                ahead()
        elif kind == "finish":
            result = decoder.finish() if decoder is not None else None
            last, decoder = decoder, None
            conn.send(("transcript", result))
        elif kind == "retry":
            retry = getattr(last, "retry", None)
            last = None
            conn.send(("transcript", retry() if retry is not None else None))
        elif kind == "close":
            recognizer.close()
            return


class _IsolatedDecoder:
    def __init__(self, owner: IsolatedRecognizer, mode: Mode) -> None:
        self._owner = owner
        self._mode = mode
        self._broken = False
        self._send(("begin", mode))

    def _send(self, msg: tuple[Any, ...]) -> None:
        if self._broken:
            return
        try:
            self._owner._conn.send(msg)
        except (OSError, ValueError, AttributeError):
            self._broken = True

    def accept(self, pcm: bytes) -> None:
        self._send(("audio", pcm))

    def decode_ahead(self) -> None:
        """Let the child decode what it has while the trailing silence passes."""
        self._send(("ahead",))

    def accept_side(self, pcm: bytes) -> None:
        """The same stretch of the front-end's side stream (:data:`assistant.hearing.frontend.SIDE_DRY_SHARE`)."""
        self._send(("side", pcm))

    def retry(self) -> Transcript | None:
        """After :meth:`finish`: the command decoded again on the side stream (None: none kept)."""
        result = self._answer(("retry",))
        return result if result.raw or result.second else None

    def finish(self) -> Transcript:
        return self._answer(("finish",))

    def _answer(self, msg: tuple[Any, ...]) -> Transcript:
        self._send(msg)
        conn = self._owner._conn
        started = time.monotonic()
        try:
            if self._broken or conn is None or not conn.poll(self._owner.finish_timeout_s):
                raise RecognizerCrashed(f"{self._owner.engine} recognizer did not answer; restarting it")
            kind, payload = conn.recv()
        except (EOFError, OSError) as err:
            self._owner._restart_after_crash()
            raise RecognizerCrashed(f"{self._owner.engine} recognizer crashed; restarting it") from err
        except RecognizerCrashed:
            self._owner._restart_after_crash()
            raise
        if kind != "transcript" or payload is None:
            return Transcript("", "", self._owner.engine, self._owner.lang, False)
        return replace(payload, decode_s=time.monotonic() - started)


class IsolatedRecognizer:
    """The engine in a child process; restarted (with backoff) after a crash or hang."""

    def __init__(
        self,
        spec: EngineSpec,
        *,
        start_timeout_s: float = CHILD_START_TIMEOUT_S,
        finish_timeout_s: float = FINISH_TIMEOUT_S,
    ) -> None:
        self.spec = spec
        self.finish_timeout_s = finish_timeout_s
        self.engine = spec.engine
        self.lang = spec.lang
        self.restarts = 0
        self._start_timeout_s = start_timeout_s
        self._conn: Connection | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._next_start_at = 0.0
        self._start()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _start(self) -> None:
        try:
            parent, proc = start_child("assistant.hearing.recognizer_child")
        except OSError as err:
            raise RecognitionError(f"{self.engine} recognizer could not start: {err}") from None
        try:
            parent.send(("spec", self.spec))
            ready = parent.poll(self._start_timeout_s)
        except OSError:
            ready = False
        if not ready:
            proc.kill()
            proc.wait(CHILD_STOP_TIMEOUT_S)
            parent.close()
            raise RecognitionError(f"{self.engine} recognizer did not start within {self._start_timeout_s} s")
        try:
            kind, payload = parent.recv()
        except (EOFError, OSError):
            _wait(proc)
            parent.close()
            raise RecognitionError(f"{self.engine} recognizer exited while starting") from None
        if kind == "error":
            _wait(proc)
            parent.close()
            raise RecognitionError(payload)
        self._conn, self._proc = parent, proc

    def _kill(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is not None and proc.poll() is None:
            proc.kill()
        if proc is not None:
            _wait(proc)

    def _restart_after_crash(self) -> None:
        self._kill()
        delay = RESTART_BACKOFF_S[min(self.restarts, len(RESTART_BACKOFF_S) - 1)]
        self.restarts += 1
        self._next_start_at = time.monotonic() + delay
        _LOGGER.error("recognizer child failed (%d restart(s)); next start in %.0f s", self.restarts, delay)

    def begin(self, mode: Mode = "command") -> UtteranceDecoder:
        if self._proc is None or self._proc.poll() is not None:
            if time.monotonic() < self._next_start_at:
                raise RecognizerCrashed(f"{self.engine} recognizer is restarting")
            self._kill()
            self._start()
        return _IsolatedDecoder(self, mode)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.send(("close",))
            except (OSError, ValueError):
                pass
        proc = self._proc
        if proc is not None:
            _wait(proc)
        self._kill()
