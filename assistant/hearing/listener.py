"""The speech input pipeline: audio source → endpointing → recognizer → frozen events.

The :class:`Listener` runs in its own thread and delivers events through the ``put`` callback the
daemon gives it (the daemon passes its thread-safe ``EventQueue.put``); it never runs business
logic. Events:

* :class:`WakeDetected` — the wake phrase was heard (or push-to-talk pressed). The daemon plays the
  ``wake`` earcon; the next utterance is taken as one command without the wake phrase.
* :class:`UtteranceRecognized` — a complete command phrase (or free-form text).
* :class:`UtteranceRejected` — speech that was not a command (out of grammar, too short).
* :class:`ListeningEnded` — an awake window (after the wake phrase / ``expect_answer``) passed
  with no speech.
* :class:`ListenerError` — the recognizer crashed/hung (restarted) or the source failed.
* :class:`InputLevel` — the input RMS level, only when ``emit_levels`` (``jiayi listen``).

Awake windows run on *audio* time (chunks read), so a WAV file read faster than real time gives
the same results as a microphone.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol, TextIO

from assistant.hearing.endpointing import EndpointConfig, Endpointer
from assistant.hearing.recognizer import (
    Mode,
    Recognizer,
    RecognizerCrashed,
    Transcript,
    UtteranceDecoder,
    split_wake,
)
from assistant.hearing.sources import (
    CHUNK_BYTES,
    CHUNK_MS,
    AudioSource,
    AudioSourceError,
)

if TYPE_CHECKING:
    from assistant.hearing.frontend import Frontend
    from assistant.hearing.grammar import SpokenGrammar
    from assistant.understanding.result import Understanding


class Matches(Protocol):
    """What rescoring needs of the understanding stage (:class:`assistant.pipeline.Understander`)."""

    def match(self, text: str) -> Understanding: ...


_LOGGER = logging.getLogger(__name__)

READ_TIMEOUT_S: Final = 0.5
"""Longest wait for one chunk before the loop checks for stop()."""
WAKE_COMMAND_WINDOW_S: Final = 8.0
"""After the wake phrase alone, how long (audio time) a command may take to start."""
LEVEL_EVERY_CHUNKS: Final = 5
STOP_JOIN_TIMEOUT_S: Final = 3.0
GRAMMAR_PHRASE_LIMIT: Final = 400
"""Most flat matcher phrases in a recognizer grammar, only for a matcher without a catalog (the
daemon compiles the catalog itself: :func:`matcher_grammar`, :mod:`assistant.hearing.grammar`)."""
CHUNK_S: Final = CHUNK_MS / 1000.0
"""Parts of :func:`assistant.hearing.grammar.compile_grammar` the daemon uses: the chatter loop, optional
determiners and politeness fillers each made pocketsphinx less accurate and slower on the tuning
voices (docs/benchmarks/speech.md), so the daemon's grammar is the catalog templates as written."""
TRAILING_FEED_S: Final = 0.6
"""Trailing non-speech fed to the recognizer at the end of an utterance (the rest is not)."""
DECODE_AHEAD: Final = True
"""Let the recognizer decode during the rest of the trailing silence (see ``Listener._feed``)."""
NBEST_MIN_CONFIDENCE: Final = 0.0
"""A next-best transcript is only taken when the matcher's confidence in it reaches this (on top of
the matcher's own thresholds)."""
NBEST_MIN_VOTES: Final = 1
"""How many next-best transcripts must map to the same intent before it is taken (1 = the first
accepted one wins)."""
SIDE_RETRY: Final = False
"""A command that both readings leave without an intent (what :data:`judge <Listener>` says:
the pipeline would ask "please say it again") is decoded again, grammar and second opinion, on
the front-end's side stream (:data:`assistant.hearing.frontend.SIDE_DRY_SHARE`: RNNoise with some
of the un-denoised audio mixed back), and that reading is taken when it has an intent (round 18,
docs/benchmarks/speech.md). Needs the side stream; costs two decodes on rejected commands only.
Measured (replayed from the runs' readings, share 0.05, kitchen + living room 10 dB, tuning half
of 348): main + retry 261 → 285 right but wrong actions 12 → 15; with the second opinion on the
side stream already (:data:`assistant.hearing.pocketsphinx_engine.SIDE_SEARCHES`) 282 → 283, same
12 wrong, for two more decodes per rejection. Off."""
SIDE_CONFIRM: Final = False
"""A command the pipeline would not act on (rejected, or asked back "Did you say …?") whose
grammar reading has an intent is decoded again by the grammar on the front-end's side stream
(:data:`assistant.hearing.frontend.SIDE_DRY_SHARE`; the second opinion heard that stream already
and is not decoded again); when that reading is the same command (intent and slots), the first
reading is put ``confirmed`` (:attr:`UtteranceRecognized.confirmed`) and the pipeline may act on
the grammar's reading (:data:`assistant.pipeline.CONFIRMED_ACTS`). One grammar decode more per
command not acted on (about one in six in noise). Round 19 (cmd19, docs/benchmarks/speech.md),
replayed from two runs (kitchen + living room 10 dB, ``bench/speech_third_replay.py``): acting on
every confirmed reading 283 → 291 right of 348 on the tuning half but wrong actions 11 → 20; only
where the two readings share half the grammar's words (the asked-back ones) 283 → 288 (11 → 13
wrong), unseen half 145 → 147 of 174 (4 → 4 wrong). Off: it adds wrong actions where it was tuned."""
INPUT_KEEP_BYTES: Final = 2 * 16000 * 2
"""The front-end's input kept while no utterance is open (:class:`InputCopy`: more than the
endpointer's pre-roll)."""
NBEST_MAY_RAISE_EMERGENCY: Final = True
"""Whether a next-best transcript may supply an ``emergency`` intent the 1-best did not have.
Yes: a missed "help me" costs far more than a false alarm, which the dialogue handles (it asks /
calls out loud and can be cancelled); chatter false accepts are measured in the benchmark."""


# ------------------------------------------------------------------------------- events


@dataclass(frozen=True)
class WakeDetected:
    engine: str
    source: str = "wake_phrase"
    """``wake_phrase`` or ``push_to_talk``."""
    monotonic: float = 0.0


@dataclass(frozen=True)
class UtteranceRecognized:
    transcript: str
    lang: str
    engine: str
    end_of_speech_monotonic: float
    """When the last speech frame was read (``time.monotonic()``)."""
    endpoint_monotonic: float
    """When the trailing silence completed the utterance."""
    recognized_monotonic: float
    """When the recognizer's final result was ready."""
    speech_s: float = 0.0
    after_wake: bool = False
    grammar: bool = True
    alternatives: tuple[str, ...] = ()
    """The recognizer's next-best transcripts (wake phrase removed), best first; the daemon lets
    the matcher choose among them (:func:`understand_best`)."""
    parsed: bool = False
    """Decoded with the catalog grammar and read back through it: ``intent`` and ``slots`` are
    the sentence's own (no matcher needed)."""
    intent: str | None = None
    """With ``parsed``: the intent whose template the sentence follows (a ``reject`` intent too)."""
    slots: tuple[tuple[str, str], ...] = ()
    """With ``parsed``: (slot, canonical value) pairs."""
    confidence: float | None = None
    """0–1 acoustic confidence from the recognizer (None: it gives none)."""
    spotted: bool = False
    """Heard without the wake phrase by the always-on distress spotter (an emergency intent)."""
    spot_check: bool = False
    """With ``spotted``: only one of stage 2's two readings confirmed it, so the dialogue asks
    "Did you call for help?" before acting (:data:`assistant.hearing.spotter.SPOT_CHECK_ONE_READING`)."""
    decoded_ahead_s: float = 0.0
    """Time the recognizer spent decoding ahead during the trailing silence (0 = it did not);
    the result was late only by what exceeded the rest of the silence."""
    second: str = ""
    """The same audio decoded with the wider language model (grammar mode, command search):
    the pipeline acts when both readings agree (:meth:`assistant.pipeline.Pipeline.understand_heard`).
    With ``parsed`` False and ``second`` set, the grammar rejected the sentence and this is all
    that was heard."""
    rivals: tuple[tuple[str, float], ...] = ()
    """Near-homophone rivals of the readings and how much better the heard words fit the audio
    (:attr:`assistant.hearing.recognizer.Transcript.rivals`)."""
    confirmed: bool = False
    """With ``parsed``: the grammar heard the same intent and slots again on the front-end's side
    stream (:data:`SIDE_CONFIRM`), a third reading of the same audio."""


@dataclass(frozen=True)
class UtteranceRejected:
    reason: str
    """``no_match`` (not a complete phrase), ``too_short`` (noise), ``not_woken`` (no wake phrase)."""
    engine: str
    speech_s: float = 0.0


@dataclass(frozen=True)
class ListeningEnded:
    reason: str = "timeout"


@dataclass(frozen=True)
class ListenerError:
    message: str
    fatal: bool = False


@dataclass(frozen=True)
class InputLevel:
    rms: float
    in_speech: bool
    noise_floor: float


Put = Callable[[object], None]


# ------------------------------------------------------------------------------- push-to-talk


class PushToTalk(Protocol):
    """A button (GPIO on a device profile, a key on stdin in development)."""

    def start(self, on_press: Callable[[], None]) -> None: ...

    def stop(self) -> None: ...


class StdinPushToTalk:
    """Development push-to-talk: every Enter on ``stream`` presses the button."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._stopped = threading.Event()

    def start(self, on_press: Callable[[], None]) -> None:
        stream = self._stream or sys.stdin

        def pump() -> None:
            for _line in stream:
                if self._stopped.is_set():
                    return
                on_press()

        threading.Thread(target=pump, name="push-to-talk", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()


# ------------------------------------------------------------------------------- listener


class InputCopy:
    """The front-end's input beside its output, aligned: :meth:`span` of main-stream positions is
    the input under that stretch of the denoised stream (delayed as the front-end delays it:
    :attr:`assistant.hearing.frontend.SideMix.dry` where the front-end gives it, else the input
    shifted by :data:`assistant.hearing.frontend.RNNOISE_DELAY`). One copy for both readers: the
    side stream of the second opinion (:data:`assistant.hearing.frontend.SIDE_DRY_SHARE`) and the
    spotter's second pass (:data:`assistant.hearing.spotter.SPOT_DRY_SHARE`). Kept from the open
    utterance's start, or the last :data:`INPUT_KEEP_BYTES` while none is open."""

    def __init__(self, frontend: Frontend) -> None:
        from assistant.hearing.frontend import RNNOISE_DELAY

        self._from_frontend = hasattr(frontend, "dry")
        self._frontend = frontend
        self._pending = bytearray() if self._from_frontend else bytearray(2 * RNNOISE_DELAY)
        """Input not yet under a whole chunk of the main stream (:meth:`add`)."""
        self._kept = bytearray()
        self._at = 0
        """Main-stream position of ``_kept[0]``."""

    def add(self, chunk: bytes, whole: int) -> None:
        """After the front-end turned ``chunk`` into output of which ``whole`` more bytes go on
        as main-stream chunks: the input under those bytes."""
        self._pending += self._frontend.dry if self._from_frontend else chunk  # type: ignore[attr-defined]
        self._kept += self._pending[:whole]
        del self._pending[:whole]

    def span(self, start: int, length: int) -> bytes:
        """The input under main-stream bytes ``start`` … ``start + length`` (b"" when not all kept)."""
        at = start - self._at
        if at < 0 or length <= 0 or at + length > len(self._kept):
            return b""
        return bytes(self._kept[at : at + length])

    def keep_last(self, end: int) -> None:
        """Nothing is read before main-stream position ``end`` − :data:`INPUT_KEEP_BYTES` any more."""
        drop = end - INPUT_KEEP_BYTES - self._at
        if drop > 0:
            del self._kept[:drop]
            self._at += drop


class Listener:
    def __init__(
        self,
        source: AudioSource,
        recognizer: Recognizer,
        put: Put,
        *,
        wake_phrase: str = "",
        endpoint_config: EndpointConfig | None = None,
        push_to_talk: PushToTalk | None = None,
        emit_levels: bool = False,
        log_transcripts: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
        grammar: SpokenGrammar | None = None,
        frontend: Frontend | None = None,
        verify: Callable[..., bool] | None = None,
        judge: Callable[..., bool] | None = None,
    ) -> None:
        """``grammar``: the catalog grammar the recognizer decodes with; every transcript is read
        back through it (intent, slots, wake phrase, and the emergency intents it spots without
        the wake phrase). ``frontend``: noise suppression / gain applied to every chunk first
        (one instance for the whole stream, as on a device). ``verify``: the distress spotter's
        second stage, given the free transcript of a candidate emergency (True = it is one;
        None = candidates are never acted on; :mod:`assistant.hearing.spotter`), and called with
        a second argument True for the wider language model's reading (stricter). ``judge``:
        whether a recognized command would be acted on or asked about (the pipeline's decision,
        True) rather than rejected, for :data:`SIDE_RETRY`."""
        self._judge = judge
        self._stream_at = 0
        """Bytes of the main stream given to the endpointer so far."""
        self._fed_at = 0
        """Stream position of the next byte fed to the decoder (its audio is one stretch)."""
        self.source = source
        self._verify = verify
        self.grammar = grammar
        self._frontend = frontend
        self._rebuffer = b""
        self.recognizer = recognizer
        self._put = put
        self.wake_phrase = wake_phrase
        self._endpointer = Endpointer(endpoint_config)
        self._push_to_talk = push_to_talk
        self._emit_levels = emit_levels
        self._log_transcripts = log_transcripts
        self._monotonic = monotonic
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pending_awake_s: float | None = None
        self._awake_until: float | None = None
        self._awake_by_wake = False
        self._audio_t = 0.0
        self._decoder: UtteranceDecoder | None = None
        self._mode: Mode = "command"
        self._last_voiced_at = 0.0
        self._held: list[bytes] = []
        self._held_fed = 0
        self._utterance_at = 0
        """Stream position of the current utterance's first byte fed to the decoder."""
        self._side_of = getattr(frontend, "side_of", None)
        """The front-end's side stream (:data:`assistant.hearing.frontend.SIDE_DRY_SHARE`)."""
        self._keep_dry = frontend is not None and self._keeps_dry()
        """The spotter's second pass on the un-denoised audio (:data:`spotter.SPOT_DRY_SHARE`)."""
        self._input = (
            InputCopy(frontend) if frontend is not None and (self._side_of or self._keep_dry) else None
        )
        self._wet_utterance: list[bytes] = []
        """What the current utterance's decoder got, for the spotter's second pass."""
        self._chunks = 0
        self._muted = False
        self.last_engine_answer_monotonic: float | None = None
        """When the recognizer last produced a result (watchdog heartbeat)."""

    # ------------------------------------------------------------------ control (any thread)

    def expect_answer(self, timeout_s: float) -> None:
        """Take the next utterance as a command without the wake phrase, for ``timeout_s``."""
        with self._lock:
            self._pending_awake_s = timeout_s

    def press_push_to_talk(self) -> None:
        self.expect_answer(WAKE_COMMAND_WINDOW_S)
        self._put(WakeDetected(self.recognizer.engine, "push_to_talk", self._monotonic()))

    def set_muted(self, muted: bool) -> None:
        """Ignore input (e.g. while the assistant speaks) without stopping the source."""
        with self._lock:
            self._muted = muted

    def start(self) -> None:
        try:
            self.source.start()
        except AudioSourceError as err:
            self._put(ListenerError(str(err), fatal=True))
            raise
        if self._push_to_talk is not None:
            self._push_to_talk.start(self.press_push_to_talk)
        self._thread = threading.Thread(target=self._run_loop, name="listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._push_to_talk is not None:
            self._push_to_talk.stop()
        self.source.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(STOP_JOIN_TIMEOUT_S)

    def join(self, timeout: float) -> bool:
        """Wait for a finite source to be used up; True when the thread ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # ------------------------------------------------------------------ loop

    def _run_loop(self) -> None:
        try:
            self.run_until_end()
        except Exception as err:  # keep the daemon informed instead of dying silently
            _LOGGER.exception("listener stopped")
            self._put(ListenerError(f"listener stopped: {type(err).__name__}: {err}", fatal=True))

    def run_until_end(self) -> None:
        """Process chunks until stop() or the end of a finite source (call directly for WAVs)."""
        while not self._stop.is_set():
            chunk = self.source.read_chunk(READ_TIMEOUT_S)
            if chunk is None:
                if self.source.at_end:
                    break
                continue
            self.process_chunk(chunk)
        step = self._endpointer.flush()
        if step is not None:
            if self._decoder is not None:
                self._feed(step)
            self._finish_utterance(step.speech_s, self._monotonic())

    @property
    def awake(self) -> bool:
        return not self.wake_phrase or (self._awake_until is not None and self._audio_t < self._awake_until)

    def process_chunk(self, chunk: bytes) -> None:
        if self._frontend is None:
            self._process_chunk(chunk)
            return
        data = self._rebuffer + self._frontend.process(chunk)
        whole = len(data) - len(data) % CHUNK_BYTES
        self._rebuffer = data[whole:]
        if self._input is not None:
            self._input.add(chunk, whole)
        for start in range(0, whole, CHUNK_BYTES):
            self._process_chunk(data[start : start + CHUNK_BYTES])

    def _keeps_dry(self) -> bool:
        """Keep the un-denoised audio for the spotter's second pass (:data:`spotter.SPOT_DRY_SHARE`):
        only behind a noise filter, with the grammar's reading, the spotter's stage 2 and the wake
        phrase (a device that listens for it)."""
        from assistant.hearing import spotter

        return (
            spotter.SPOT_DRY_SHARE > 0
            and self.grammar is not None
            and self._verify is not None
            and bool(self.wake_phrase)
        )

    def _process_chunk(self, chunk: bytes) -> None:
        now = self._monotonic()
        self._chunks += 1
        self._stream_at += len(chunk)
        if self._decoder is None and self._input is not None:
            self._input.keep_last(self._stream_at)
        self._audio_t += CHUNK_S
        with self._lock:
            pending, self._pending_awake_s = self._pending_awake_s, None
            muted = self._muted
        if pending is not None:
            self._awake_until = self._audio_t + pending
            self._awake_by_wake = False
        if muted:
            if self._decoder is not None:
                self._abandon_utterance()
            self._endpointer.reset()
            return
        step = self._endpointer.process(chunk)
        if self._emit_levels and self._chunks % LEVEL_EVERY_CHUNKS == 0:
            self._put(
                InputLevel(
                    self._endpointer.last_level, self._endpointer.in_utterance, self._endpointer.noise_floor
                )
            )
        if step.kind == "idle":
            if self.wake_phrase and self._awake_until is not None and self._audio_t >= self._awake_until:
                self._awake_until = None
                self._put(ListeningEnded("timeout"))
            return
        if step.kind == "start":
            self._fed_at = self._utterance_at = self._stream_at - len(step.audio)
            self._begin_utterance()
        if step.kind == "speech" and self._endpointer.last_voiced:
            self._last_voiced_at = now
        if self._decoder is not None and (step.audio or step.kind == "end"):
            self._feed(step)
        if step.kind == "end":
            if step.too_short:
                self._abandon_utterance()
                self._put(UtteranceRejected("too_short", self.recognizer.engine, step.speech_s))
                return
            self._finish_utterance(step.speech_s, now)

    def _feed(self, step: Any) -> None:
        """Speech goes to the decoder at once; a pause is held back and only fed when speech
        resumes (or, at the end, its first :data:`TRAILING_FEED_S`). The 1.2 s of trailing
        silence would otherwise skew pocketsphinx's cepstral mean (clean recordings with digital
        silence were recognised worse than noisy ones) and cost decode time.

        Once a pause is :data:`TRAILING_FEED_S` long, everything the decoder would get if the
        utterance ended there is known, so it is fed at once and the decoder may decode ahead
        (``decode_ahead``) while the rest of the trailing silence passes: the result is then
        ready at the endpoint. Should speech resume, the rest of the pause follows and the
        decoder decodes again at the end."""
        assert self._decoder is not None
        tail_bytes = round(TRAILING_FEED_S / CHUNK_S) * CHUNK_BYTES
        if step.kind != "end" and (step.kind == "start" or self._endpointer.last_voiced):
            if self._held:
                self._accept(b"".join(self._held)[self._held_fed :])
                self._held.clear()
                self._held_fed = 0
            self._accept(step.audio)
            return
        if step.kind == "end":
            tail = b"".join(self._held)[self._held_fed : tail_bytes]
            self._held.clear()
            self._held_fed = 0
            if tail:
                self._accept(tail)
            return
        self._held.append(step.audio)
        if not self._held_fed and len(self._held) * CHUNK_BYTES >= tail_bytes:
            self._accept(b"".join(self._held)[:tail_bytes])
            self._held_fed = tail_bytes
            ahead = getattr(self._decoder, "decode_ahead", None)
            if DECODE_AHEAD and ahead is not None:
                ahead()

    def _accept(self, pcm: bytes) -> None:
        """Feed the decoder ``pcm`` (the next stretch of the main stream) and, with a side
        stream, the same stretch of it."""
        assert self._decoder is not None
        self._decoder.accept(pcm)
        accept_side = getattr(self._decoder, "accept_side", None)
        if accept_side is not None and self._side_of is not None and self._input is not None:
            dry = self._input.span(self._fed_at, len(pcm))
            if dry:
                accept_side(self._side_of(pcm, dry))
        self._fed_at += len(pcm)
        if self._keep_dry:
            self._wet_utterance.append(pcm)

    def _take_dry(self) -> tuple[bytes, bytes]:
        """(what the utterance's decoder got, the un-denoised audio under it); b"" when not kept."""
        wet, self._wet_utterance = self._wet_utterance, []
        if not self._keep_dry or self._input is None:
            return b"", b""
        dry = self._input.span(self._utterance_at, self._fed_at - self._utterance_at)
        return (b"".join(wet), dry) if dry else (b"", b"")

    def _begin_utterance(self) -> None:
        self._held.clear()
        self._held_fed = 0
        self._wet_utterance = []
        self._mode = "command" if self.awake else "wake"
        self._last_voiced_at = self._monotonic()
        try:
            self._decoder = self.recognizer.begin(self._mode)
        except RecognizerCrashed as err:
            self._decoder = None
            self._put(ListenerError(str(err)))

    def _abandon_utterance(self) -> None:
        self._wet_utterance = []
        decoder, self._decoder = self._decoder, None
        if decoder is None:
            return
        try:
            decoder.finish()
        except RecognizerCrashed as err:
            self._put(ListenerError(str(err)))

    def _finish_utterance(self, speech_s: float, endpoint_at: float) -> None:
        decoder, self._decoder = self._decoder, None
        wet, dry = self._take_dry()
        if decoder is None:
            return
        try:
            result = decoder.finish()
        except RecognizerCrashed as err:
            self._put(ListenerError(str(err)))
            return
        done_at = self._monotonic()
        self.last_engine_answer_monotonic = done_at
        engine = self.recognizer.engine
        if self._log_transcripts:
            _LOGGER.info("heard %r (accepted %r) mode=%s", result.raw, result.text, self._mode)
        else:
            _LOGGER.debug("event=utterance mode=%s accepted=%s", self._mode, bool(result.text))
        if self.grammar is not None:
            if dry and self._mode == "wake":
                self._put_parsed_twice(result, wet, dry, speech_s, endpoint_at, done_at)
                return
            self._put_parsed_or_retry(decoder, result, speech_s, endpoint_at, done_at)
            return
        text, after_wake = result.text, False
        alternatives = result.alternatives
        if self._mode == "wake":
            woke, rest = split_wake(result.text, self.wake_phrase)
            if not woke:
                self._put(UtteranceRejected("not_woken", engine, speech_s))
                return
            self._put(WakeDetected(engine, "wake_phrase", done_at))
            if not rest:
                self._open_wake_window()
                return
            text, after_wake = rest, True
            split = (split_wake(alt, self.wake_phrase) for alt in alternatives)
            alternatives = tuple(dict.fromkeys(r for w, r in split if w and r and r != rest))
        else:
            after_wake = self._close_window()
        if not text:
            self._put(UtteranceRejected("no_match", engine, speech_s))
            return
        self._put(self._recognized(result, text, speech_s, endpoint_at, done_at, after_wake, alternatives))

    def _put_parsed_or_retry(
        self,
        decoder: UtteranceDecoder,
        result: Transcript,
        speech_s: float,
        endpoint_at: float,
        done_at: float,
    ) -> None:
        """:meth:`_put_parsed`, and with :data:`SIDE_RETRY` a command the pipeline would reject
        decoded again on the side stream: its events instead when the pipeline takes them."""
        retry = getattr(decoder, "retry", None)
        if SIDE_CONFIRM and self._mode == "command" and self._judge is not None and retry is not None:
            self._put_confirmed(retry, result, speech_s, endpoint_at, done_at)
            return
        if not (SIDE_RETRY and self._mode == "command" and self._judge is not None and retry is not None):
            self._put_parsed(result, speech_s, endpoint_at, done_at)
            return
        put = self._put
        window = (self._awake_until, self._awake_by_wake)
        first: list[object] = []
        chosen = first
        self._put = first.append
        try:
            self._put_parsed(result, speech_s, endpoint_at, done_at)
            if not self._taken(first):
                try:
                    again = retry()
                except RecognizerCrashed as err:
                    again = None
                    put(ListenerError(str(err)))
                if again is not None:
                    after = (self._awake_until, self._awake_by_wake)
                    self._awake_until, self._awake_by_wake = window
                    second: list[object] = []
                    self._put = second.append
                    self._put_parsed(again, speech_s, endpoint_at, self._monotonic())
                    if self._taken(second):
                        chosen = second
                    else:
                        self._awake_until, self._awake_by_wake = after
        finally:
            self._put = put
        for event in chosen:
            put(event)

    def _put_confirmed(
        self,
        retry: Callable[[], Transcript | None],
        result: Transcript,
        speech_s: float,
        endpoint_at: float,
        done_at: float,
    ) -> None:
        """:data:`SIDE_CONFIRM`: :meth:`_put_parsed`'s events, the grammar's reading marked
        ``confirmed`` when the pipeline would not act on it and the side stream's grammar reading
        is the same command."""
        assert self.grammar is not None and self._judge is not None
        events, _ = self._parsed_events(result, speech_s, endpoint_at, done_at)
        heard = next((e for e in events if isinstance(e, UtteranceRecognized) and e.parsed), None)
        if heard is not None and heard.intent is not None and not self._judge(heard, True):
            try:
                again = retry()
            except RecognizerCrashed as err:
                again = None
                self._put(ListenerError(str(err)))
            parse = self.grammar.parse(again.text, "command") if again is not None and again.text else None
            if parse is not None and parse.intent == heard.intent and parse.slots == dict(heard.slots):
                events = [dataclasses.replace(e, confirmed=True) if e is heard else e for e in events]
        for event in events:
            self._put(event)

    def _taken(self, events: list[object]) -> bool:
        """Some event is a command the pipeline acts on or asks about (:attr:`_judge`)."""
        assert self._judge is not None
        return any(isinstance(e, UtteranceRecognized) and self._judge(e) for e in events)

    def _parsed_events(
        self, result: Transcript, speech_s: float, endpoint_at: float, done_at: float
    ) -> tuple[list[object], tuple[float | None, bool]]:
        """What :meth:`_put_parsed` would put, and the awake window as it was before."""
        events: list[object] = []
        put, window = self._put, (self._awake_until, self._awake_by_wake)
        self._put = events.append
        try:
            self._put_parsed(result, speech_s, endpoint_at, done_at)
        finally:
            self._put = put
        return events, window

    def _put_parsed_twice(
        self, result: Transcript, wet: bytes, dry: bytes, speech_s: float, endpoint_at: float, done_at: float
    ) -> None:
        """Wake mode with the un-denoised audio kept (:data:`spotter.SPOT_DRY_SHARE`): when the
        denoised audio gave neither the wake phrase nor an emergency and stage 1 nearly fired
        (:func:`spotter.dry_pass_wanted`), the same utterance is decoded again on the lightly
        denoised audio (RNNoise's output + that share of its input, or the input alone at 1.0);
        an emergency heard there (acted on or asked about, by the same two stages) is what the
        utterance said. Otherwise the first decode's events stand."""
        from assistant.hearing import spotter

        events, window = self._parsed_events(result, speech_s, endpoint_at, done_at)
        heard = any(isinstance(e, (WakeDetected, UtteranceRecognized)) for e in events)
        if not heard and spotter.dry_pass_wanted(result, wet, dry):
            try:
                decoder = self.recognizer.begin("wake")
                decoder.accept(spotter.dry_mix(wet, dry, spotter.SPOT_DRY_SHARE))
                again = decoder.finish()
            except RecognizerCrashed as err:
                self._put(ListenerError(str(err)))
                again = None
            if again is not None:
                more, _ = self._parsed_events(again, speech_s, endpoint_at, self._monotonic())
                spotted = any(isinstance(e, UtteranceRecognized) and e.spotted for e in more)
                woke = any(isinstance(e, WakeDetected) for e in more)
                if spotted or (woke and spotter.SPOT_DRY_WAKES):
                    _LOGGER.debug("event=dry_pass heard=%s", "emergency" if spotted else "wake")
                    for event in more:
                        self._put(event)
                    return
                self._awake_until, self._awake_by_wake = window
        for event in events:
            self._put(event)

    def _put_parsed(self, result: Transcript, speech_s: float, endpoint_at: float, done_at: float) -> None:
        """Grammar decoding: the sentence read back through the grammar decides everything."""
        assert self.grammar is not None
        engine = self.recognizer.engine
        parse = self.grammar.parse(result.text, self._mode) if result.text else None
        spot_check = verified_candidate = False
        if self._mode == "wake" and (
            parse is None or not (parse.woke or parse.intent in self.grammar.spotted)
        ):
            verified = self._verified_candidate(result)
            if verified is not None:
                result, parse, spot_check = verified
                verified_candidate = True
        if parse is None and self._mode == "command" and result.second:
            after_wake = self._close_window()
            heard = self._recognized(result, result.second, speech_s, endpoint_at, done_at, after_wake, ())
            self._put(dataclasses.replace(heard, second=result.second))
            return
        if parse is None:
            if self._mode == "command":
                self._close_window()
            self._put(UtteranceRejected("no_match", engine, speech_s))
            return
        spotted = False
        if self._mode == "wake":
            if parse.woke:
                self._put(WakeDetected(engine, "wake_phrase", done_at))
                if parse.intent is None and result.second:
                    # words after the wake phrase that the command grammar did not hear whole:
                    # the second opinion alone, as for a command said without the wake phrase
                    heard = self._recognized(result, result.second, speech_s, endpoint_at, done_at, True, ())
                    self._put(dataclasses.replace(heard, second=result.second))
                    return
                if parse.intent is None:
                    self._open_wake_window()
                    return
                after_wake = True
            elif parse.intent in self.grammar.spotted:
                spotted, after_wake = True, False
                if not verified_candidate:
                    spot_check = self._wake_emergency_unconfirmed(result)
            else:
                self._put(UtteranceRejected("not_woken", engine, speech_s))
                return
        else:
            after_wake = self._close_window()
        text = split_wake(result.text, self.wake_phrase)[1] if parse.woke else result.text
        heard = self._recognized(result, text, speech_s, endpoint_at, done_at, after_wake, ())
        self._put(
            dataclasses.replace(
                heard,
                parsed=True,
                intent=parse.intent,
                slots=tuple(parse.slots.items()),
                spotted=spotted,
                spot_check=spotted and spot_check,
                second=result.second,
            )
        )

    def _verified_candidate(self, result: Transcript) -> tuple[Transcript, Any, bool] | None:
        """The spotter's candidate emergency as the heard sentence, when stage 2 confirms it,
        and whether it must be asked about first (only one of two readings confirmed it)."""
        assert self.grammar is not None
        if not result.candidate or self._verify is None:
            return None

        verdict = self._stage_two(result)
        if verdict is None:
            return None
        check = verdict == "ask"
        parse = self.grammar.parse(result.candidate, "spot")
        if parse is None or parse.woke or parse.intent not in self.grammar.spotted:
            return None
        if self._log_transcripts:
            _LOGGER.info(
                "spotted %r, verified by %r (ask first: %s)", result.candidate, result.free_text, check
            )
        else:
            _LOGGER.debug("event=spotter_verified check=%s", check)
        return dataclasses.replace(result, text=result.candidate), parse, check

    def _stage_two(self, result: Transcript) -> str | None:
        """Stage 2 on ``result.candidate``: "act" (confirmed), "ask" (only one reading confirms it,
        saying much the same words) or None (not confirmed)."""
        from assistant.hearing import spotter

        assert self._verify is not None
        candidate = result.candidate
        free = [
            t for t in (result.free_text, *result.free_alternatives) if spotter.sentence_sized(candidate, t)
        ]
        free_ok = [text for text in free if self._verify(text)]
        second_ok = spotter.sentence_sized(candidate, result.spot_second) and self._verify(
            result.spot_second, True
        )
        if spotter.SPOT_VERIFY_BOTH and result.spot_second:
            if free_ok and second_ok:
                return "act"
            confirming = [*free_ok, *([result.spot_second] if second_ok else [])]
            if (
                not second_ok
                and spotter.sentence_sized(candidate, result.spot_second)
                and self._spot_reads_emergency(result.spot_second)
            ):
                confirming.append(result.spot_second)  # for the question only (SPOT_CHECK_SECOND_PARSES)
            core = spotter.candidate_core(candidate, self._spot_parses) if confirming else ""
            if (
                spotter.SPOT_CHECK_ONE_READING
                and confirming
                and max(spotter.agreement(candidate, t, core) for t in confirming)
                >= spotter.SPOT_CHECK_MIN_AGREEMENT
            ):
                return "ask"
            if (
                spotter.SPOT_CHECK_ONE_READING
                and result.spot_keyword
                and result.spot_keyword in candidate.split()
                and spotter.sentence_sized(candidate, result.free_text)
            ):
                return "ask"  # the keyword spotted in the audio too (spotter.SPOT_KEYWORD)
            if spotter.SPOT_CHECK_ONE_READING and self._phrase_heard(result):
                return "ask"  # the candidate's own words found in its audio (spotter.SPOT_PHRASE_THRESHOLD)
            return None
        return "act" if free_ok or second_ok else None

    def _phrase_heard(self, result: Transcript) -> bool:
        """:data:`spotter.SPOT_PHRASE_THRESHOLD`: keyphrase spotting found the candidate's own
        emergency words in its audio, and neither stage-2 reading says more than the candidate
        (:func:`spotter.contradicts`)."""
        from assistant.hearing import spotter

        if not result.spot_phrase or not result.free_text:
            return False
        readings = [t for t in (result.free_text, result.spot_second) if t]
        return not any(spotter.contradicts(result.candidate, t) for t in readings)

    def _spot_reads_emergency(self, reading: str) -> bool:
        """:data:`spotter.SPOT_CHECK_SECOND_PARSES`: stage 1's grammar reads ``reading`` (the
        second opinion's) as an emergency."""
        from assistant.hearing import spotter

        return spotter.SPOT_CHECK_SECOND_PARSES and self._spot_parses(reading)

    def _spot_parses(self, sentence: str) -> bool:
        """Stage 1's grammar (``spot`` mode) reads ``sentence`` as an emergency."""
        if not sentence or self.grammar is None:
            return False
        parse = self.grammar.parse(sentence, "spot")
        return parse is not None and not parse.woke and parse.intent in self.grammar.spotted

    def _wake_emergency_unconfirmed(self, result: Transcript) -> bool:
        """The wake search's own emergency (stage 2's readings attached, ``candidate`` = its
        sentence) that stage 2 does not confirm: asked about, never dropped
        (:data:`spotter.VERIFY_WAKE_EMERGENCY`)."""
        if not result.candidate or result.candidate != result.text or self._verify is None:
            return False
        return self._stage_two(result) != "act"

    def _open_wake_window(self) -> None:
        self._awake_until = self._audio_t + WAKE_COMMAND_WINDOW_S
        self._awake_by_wake = True

    def _close_window(self) -> bool:
        """One command per wake / expect_answer; True when the window was opened by the wake phrase."""
        after_wake = self._awake_by_wake
        self._awake_until = None
        self._awake_by_wake = False
        return after_wake

    def _recognized(
        self,
        result: Transcript,
        text: str,
        speech_s: float,
        endpoint_at: float,
        done_at: float,
        after_wake: bool,
        alternatives: tuple[str, ...],
    ) -> UtteranceRecognized:
        return UtteranceRecognized(
            text,
            result.lang,
            self.recognizer.engine,
            end_of_speech_monotonic=self._last_voiced_at,
            endpoint_monotonic=endpoint_at,
            recognized_monotonic=done_at,
            speech_s=speech_s,
            after_wake=after_wake,
            grammar=result.grammar,
            alternatives=alternatives,
            confidence=result.confidence,
            decoded_ahead_s=result.ahead_s,
            rivals=result.rivals,
        )


def understand_best(matcher: Matches, transcript: str, alternatives: Sequence[str] = ()) -> Understanding:
    """N-best rescoring with the matcher: the 1-best transcript's understanding if the matcher
    accepts it (an intent above its own thresholds), else that of the first next-best transcript
    it accepts, else the 1-best's rejection. ``transcript`` of the result is the text chosen."""
    best = dataclasses.replace(matcher.match(transcript), transcript=transcript)
    if best.intent is not None:
        return best
    votes: dict[str, int] = {}
    for alternative in alternatives:
        understanding = matcher.match(alternative)
        if understanding.intent is None or understanding.confidence < NBEST_MIN_CONFIDENCE:
            continue
        if understanding.intent == "emergency" and not NBEST_MAY_RAISE_EMERGENCY:
            continue
        votes[understanding.intent] = votes.get(understanding.intent, 0) + 1
        if votes[understanding.intent] >= NBEST_MIN_VOTES:
            return dataclasses.replace(understanding, transcript=alternative)
    return best
