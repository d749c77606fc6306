"""The distress spotter: emergencies heard without the wake phrase, in two stages.

Without the wake phrase the device must still hear "help me" or "I have fallen", yet must not
act on a conversation or the television. One search cannot do both (docs/benchmarks/speech.md,
"Distress spotter"): the wake search's chatter loop keeps household speech from being forced
onto "i fainted", but absorbs most real emergencies in noise; without the loop nearly every
emergency is heard, and so are dozens of false ones an hour. So:

1. **Propose** (recognizer, wake search only): when the wake search (with its chatter loop)
   hears neither the wake phrase nor an emergency, the same audio is decoded again with the
   wake search's grammar *without* the chatter loop. An emergency sentence there is only a
   *candidate* (:attr:`Transcript.candidate`); it costs about 0.02 of real time on speech.
2. **Verify** (recognizer, then listener): only for a candidate, the same audio is transcribed
   freely with pocketsphinx's bundled large-vocabulary en-us language model
   (:class:`FreeTranscriber`, loaded on the first candidate) and the product's understanding
   stage reads that transcript (:func:`heard_emergency`: the distress detector with its
   negation, idiom, media and other-person rules, then the catalog and model). The candidate is
   acted on only when that says emergency too. Free transcription knows "chest of drawers",
   "stroke of luck" and "fell asleep", which the command grammar can only force onto an
   emergency.

Runs in the recognizer's process (the child in the daemon) because it needs the utterance's
audio; the understanding is applied by the listener with the pipeline's understander.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from assistant.hearing.recognizer import normalize_phrase
from assistant.hearing.sources import SAMPLE_RATE
from assistant.ops.paths import sha256

if TYPE_CHECKING:
    from assistant.pipeline import Understander

_LOGGER = logging.getLogger(__name__)

NBEST_SCAN_LIMIT: Final = 30
"""Most lattice paths read while collecting the next-best free transcripts."""

SPOTTER: Final = True
"""Propose and verify emergencies heard without the wake phrase (off: only the wake search's own
emergencies count, as before; measured in docs/benchmarks/speech.md)."""
FREE_LM_WORDS: Final = 20000
"""Dictionary of the free transcription: the language model's this-many most probable words
(unigram) of the CMU dictionary's 126 000. On the tuning set it confirmed as many emergencies
as the full dictionary (one more at 10 and 5 dB), rejected the same harmless sentences, was a
third faster and saves about 37 MB (the full dictionary's search tree)."""
FREE_LM_NBEST: Final = 3
"""Next-best free transcripts (from the lattice) stage 2 also reads: on the tuning set the 1-best
confirmed 15 and 8 of the candidate emergencies at 10 and 5 dB, with 3 next-best 20 and 14, at
one harmless sentence in 180 more ("my chest of drawers …" at 10 dB) and 0.003 s per call."""
SPOT_SECOND_OPINION: Final = True
"""Stage 2 also reads the candidate's audio as the command search's wider language model hears
it (the second opinion: paraphrase corpus + catalog, :attr:`Transcript.spot_second`; built-in
English catalog only). The free model often hears "i have had a fall" as "… a fool" / "… a full"
in noise; the wider model knows how older people say it (docs/benchmarks/speech.md, round 9)."""
SPOT_VERIFY_BOTH: Final = True
"""Stage 2 needs both readings (the free model's n-best and the second opinion) to be an
emergency, instead of either (only where the second opinion exists). Tuning half of dev-wake +
dev-emergency (docs/benchmarks/speech.md, round 11): harmless household sentences activated
2 / 5 of 36 (clean / 10 dB) with either reading, 0 / 0 with both; the price is emergencies
heard without the wake phrase (everyday wording .889 / .833 / .694 -> .722 / .472 / .417 at
clean / 10 / 5 dB). A device that raises alarms at the television gets unplugged."""
SPOT_CHECK_ONE_READING: Final = True
"""With :data:`SPOT_VERIFY_BOTH`, a candidate only one of the two readings confirms is not
dropped but *asked about*: the listener hands it on marked ``spot_check`` and the dialogue asks,
slowly, "Did you call for help?" (yes / help → the emergency; no / I'm fine → nothing; silence or
no clear answer, asked once more → the emergency: fail closed, as for an urgent symptom). On
household audio such a question is an activation, not an action (docs/benchmarks/speech.md,
round 12). Off: such candidates are dropped (round 11)."""
SPOT_CHECK_MIN_AGREEMENT: Final = 0.5
"""The question is asked only when the confirming reading says much the same words as stage 1's
candidate (:func:`agreement`, this share of the candidate's words in order): two decoders agreeing
on the words, not just the understander finding an emergency in a different sentence ("send for
an ambulance now" confirmed by "set alarm collapsed at the marathon")."""
SPOT_AGREEMENT_CORE: Final = False
"""Off, as measured (round 15: with :data:`SPOT_CHECK_SECOND_PARSES` on, 3 more of 36 tuning
emergencies asked at 10 dB, none more in test set (d), and one question in (c)'s conversation,
32.7 an hour, against 0). On: agreement is also measured against the candidate without the words stage 1's search may add
before and after an emergency (``grammar.SPOT_PRE_EN`` / ``SPOT_POST_EN``: "please", "help",
"help me"), and the higher share counts: the search often puts a "help" in front of noise before
the speech ("help ring for an ambulance" against the free model's "they are an ambulance": 0.4
with the filler, 0.5 without) (docs/benchmarks/speech.md, round 15)."""
SPOT_CHECK_SECOND_PARSES: Final = False
"""Off, as measured with :data:`SPOT_AGREEMENT_CORE` (round 15). On: for the question only ("ask", never "act"): the second opinion's reading also counts as
confirming when stage 1's own grammar reads it as an emergency (``spot`` mode) and it agrees
with the candidate (:data:`SPOT_CHECK_MIN_AGREEMENT`) — two decoders saying the same emergency
words, though the understander is not 0.95 sure of that wording ("can somebody help")
(docs/benchmarks/speech.md, round 15)."""
SPOT_KEYWORD: Final = ""
"""A third reading for the question only ("ask", never "act"; "" = off, as measured): when stage
1's candidate says this word ("help"), keyphrase spotting of the word alone (pocketsphinx ``kws``
search, :data:`SPOT_KEYWORD_THRESHOLD`) runs on the candidate's audio; if it finds the word, the
free transcript is sentence-sized (:func:`sentence_sized`) and neither reading confirmed the
candidate, it is asked about. In kitchen noise at 10 dB both readings turn a short "help help"
into "l l" / "i'll tell" and "bell pelt", while keyphrase spotting finds "help". Off because the
word is said in harmless sentences too: on the tuning half it asked "Did you call for help?"
after "can you help me with the crossword", "help yourself to a biscuit" and "help me with this
jar lid" (danger-word sentences asked 1 -> 7 of 45 clean, household-like conversation + kitchen
10 dB 0 -> 89.9 questions an hour; docs/benchmarks/speech.md, round 15)."""
SPOT_KEYWORD_THRESHOLD: Final = 1e-10
"""Detection threshold of :data:`SPOT_KEYWORD` (stricter = fewer detections): on the tuning half
at 10 dB, 1e-10 found "help" in every utterance with the word but none without it."""
SPOT_EXTRA_WORDINGS: Final = False
"""Stage 1's search (``spot``) also proposes :data:`SPOT_EXTRA_WORDINGS_EN` (round 16)."""
SPOT_EXTRA_WORDINGS_EN: Final = (
    "my chest (is hurting|hurts|is tight|feels tight|is killing me)",
    "(i've|i have) (slipped|tripped|fallen|fallen over|fallen down|had a fall) (in|on|down) the "
    "(bath|bathroom|stairs|floor|kitchen|garden|hall)",
    "i (slipped|tripped|fell|fell over|fell down) (in|on|down) the (bath|bathroom|stairs|floor|kitchen|garden|hall)",
)
"""Kinds of wording round 15 found stage 1 had no path for (a body part that hurts, a fall with
where it happened: "my chest is hurting", "i've slipped in the bath"), in catalog template
syntax as ``grammar.SPOT_WORDINGS_EN``; still only candidates until stage 2 confirms them."""
SPOT_PHRASE_THRESHOLD: Final = 1e-30
"""A third reading for the question only ("ask", never "act"; 0 = off): keyphrase spotting of
the candidate's own emergency words as one phrase (stage 1's fillers left out,
:func:`candidate_core`; at least :data:`SPOT_PHRASE_MIN_WORDS` words) at this detection threshold
on the candidate's audio — the acoustic evidence for those words, where the two readings' 1-best
sentences both misheard them ("get help quickly" → "get out quickly"). Asked about when it finds
them and the free transcript is sentence-sized (:func:`sentence_sized`) with nothing in it that
contradicts the candidate (:func:`contradicts`) (docs/benchmarks/speech.md, round 16)."""
SPOT_PHRASE_MAX_EXTRA_WORDS: Final = 0
""":func:`contradicts`: a stage-2 reading with more words than the candidate by more than this."""
SPOT_PHRASE_MIN_FIT: Final[float | None] = -0.6
"""With :data:`SPOT_PHRASE_THRESHOLD`, the candidate must also fit the whole audio about as well
as a free phone loop does (forced alignment minus phone loop, per frame, scaled as
``pocketsphinx_engine.CONFIDENCE_SCORE_UNIT``; None = not checked). Tuning half at 10 dB: the
emergencies it recovers -0.32 to +0.16, harmless sentences whose candidate words were found
-1.3 to -2.0 (docs/benchmarks/speech.md, round 16)."""
SPOT_PHRASE_MIN_WORDS: Final = 2
"""Fewest words of a candidate's emergency words :data:`SPOT_PHRASE_THRESHOLD` looks for."""
SPOT_READING_MAX_WORDS: Final = (2.0, 2)
"""A stage-2 reading counts only when it has at most this many words: (factor × the candidate's
words + extra). Television talks in long stretches; the endpointer then hands over up to 12 s of
speech, stage 1 forces it onto a short emergency and the distress detector finds "has fallen" in
a forty-word reading of a news item ("… the price of petrol has fallen for the third month …"),
which also acted on the round-11 rule (household-like tuning audio, television + dishes 10 dB).
Measured on the tuning material: no emergency lost (docs/benchmarks/speech.md, round 12)."""
VERIFY_WAKE_EMERGENCY: Final = True
"""The wake search's own emergency (heard without the wake phrase *with* its chatter loop, so no
stage-1 candidate) goes through stage 2 as well: acted on when both readings confirm it, else
asked about ("Did you call for help?") — never dropped, since the chatter loop already stood
against it. Before (rounds 7–12) it was acted on unverified: "Help me with this jar lid, would
you?" → "help me" (household-like tuning audio, docs/benchmarks/speech.md, round 14)."""
SPOT_DRY_SHARE: Final = 0.3
"""A second pass on lightly denoised audio (0 = off): when the wake-mode decode of RNNoise's
output heard neither the wake phrase nor an emergency (:data:`SPOT_DRY_WHEN`), in noise
(:data:`SPOT_DRY_MIN_REMOVED_DB`), the listener decodes the same utterance again (the whole
wake-mode decode, both stages and their rules) on RNNoise's output plus this share of its input
(aligned as ``frontend.DryMix``; 1.0 = the input alone, not denoised) and takes an emergency heard
there (acted on or asked about). RNNoise clips speech in noise; a little of the input keeps it.
The listener keeps the utterance's input only when this is on. Round 18, replayed on the daemon's
segments of the tuning material (docs/benchmarks/speech.md): kitchen 5 dB emergencies 47 -> 64 of
66 heard (tuning half), 22 -> 30 of 30 (dev-emergency's held-out half); 10 dB 60 -> 63 of 66; 2
more of 81 harmless sentences asked "Did you call for help?" at 10 dB, none acted on; the input
alone (1.0) recovered 3 of 19 at 5 dB."""
SPOT_DRY_WHEN: Final = "any"
"""When the second pass runs: "any" (every wake-mode utterance in noise that heard nothing) or
"candidate" (only when stage 1 proposed an emergency that stage 2 did not confirm nor ask about:
at 5 dB most lost emergencies get no candidate at all)."""
SPOT_DRY_MIN_REMOVED_DB: Final = 0.5
"""The second pass runs only when RNNoise took at least this much out of the utterance (the
input's RMS over the output's, dB): in noise, not in a quiet room, where the two are nearly the
same audio and a second decode is only another chance to mishear. Tuning segments (round 18):
clean television and conversation 0.0–0.4 dB, kitchen 10 dB 0.6–1.1 (a few to 8.9), 5 dB
1.1–5.8."""
SPOT_DRY_WAKES: Final = False
"""The second pass may also wake (its wake phrase is taken as the wake search's)."""
FREE_LM_IDLE_S: Final = 900.0
"""The free transcription's decoder is unloaded at the first utterance after this long without a
candidate (about 55 MB back to the system: the recognizer's process returns to its start-up
size); the next candidate loads it again (0.35–0.5 s of CPU, as the first one does)."""
FREE_LM_OPTIONS: Final[dict[str, Any]] = {}
"""Decoder options of the free transcription (beams …; empty = the library's: narrower beams
were 3× faster and lost most emergencies in noise on the tuning set)."""


class FreeTranscriber:
    """Free transcription with the bundled en-us trigram model over its most probable words
    (:data:`FREE_LM_WORDS`), loaded on first use (about 0.5 s of CPU and 55–65 MB in the
    recognizer's process): most utterances never need it."""

    def __init__(self, model_dir: str, remove_noise: bool | None, cache_dir: str = "") -> None:
        self._model_dir = model_dir
        self._cache_dir = cache_dir
        """Where the frequent-words dictionary is kept between starts ("" = made at every load)."""
        self._remove_noise = remove_noise
        self._decoder: Any = None
        self._workdir = ""
        self.load_s = 0.0
        self.calls = 0
        self.cpu_s = 0.0
        self.unloads = 0
        self._used_at = 0.0

    def _load(self) -> Any:
        import pocketsphinx

        from assistant.hearing.pocketsphinx_engine import _private_model

        started = time.process_time()
        self._workdir = tempfile.mkdtemp(prefix="jiayi-free-")
        hmm = _private_model(
            os.path.join(self._model_dir, "en-us", "en-us"), self._workdir, self._remove_noise
        )
        lm_path = os.path.join(self._model_dir, "en-us", "en-us.lm.bin")
        dict_path = _frequent_words_dictionary(
            lm_path,
            os.path.join(self._model_dir, "en-us", "cmudict-en-us.dict"),
            os.path.join(self._workdir, "frequent.dict"),
            FREE_LM_WORDS,
            self._cache_dir,
        )
        self._decoder = pocketsphinx.Decoder(
            hmm=hmm,
            lm=lm_path,
            dict=dict_path,
            samprate=SAMPLE_RATE,
            bestpath=False,
            loglevel="FATAL",
            **FREE_LM_OPTIONS,
        )
        self.load_s = time.process_time() - started
        _LOGGER.info("event=free_lm_loaded cpu_s=%.2f", self.load_s)
        return self._decoder

    def transcribe(self, audio: bytes) -> tuple[str, tuple[str, ...]]:
        """The utterance's words, lower case ("" = nothing heard), and up to
        :data:`FREE_LM_NBEST` distinct next-best transcripts."""
        started = time.process_time()
        decoder = self._decoder or self._load()
        decoder.start_utt()
        decoder.process_raw(audio, False, True)
        decoder.end_utt()
        hyp = decoder.hyp()
        best = normalize_phrase(hyp.hypstr) if hyp is not None and hyp.hypstr else ""
        others: list[str] = []
        for index, path in enumerate(decoder.nbest() or () if best and FREE_LM_NBEST else ()):
            if index >= NBEST_SCAN_LIMIT or len(others) >= FREE_LM_NBEST:
                break
            text = normalize_phrase(path.hypstr or "") if path is not None else ""
            if text and text != best and text not in others:
                others.append(text)
        from assistant.hearing.pocketsphinx_engine import RELEASE_AFTER_DECODE, release_search

        if RELEASE_AFTER_DECODE:
            release_search(decoder)
        self.calls += 1
        self.cpu_s += time.process_time() - started
        self._used_at = time.monotonic()
        return best, tuple(others)

    @property
    def loaded(self) -> bool:
        return self._decoder is not None

    def unload_if_idle(self, now: float | None = None) -> bool:
        """Unload the decoder when no candidate needed it for :data:`FREE_LM_IDLE_S` (the
        recognizer calls this as each utterance begins); True when it was unloaded."""
        if (
            self._decoder is None
            or (now if now is not None else time.monotonic()) - self._used_at < FREE_LM_IDLE_S
        ):
            return False
        self.close()
        release_memory()
        self.unloads += 1
        _LOGGER.info("event=free_lm_unloaded")
        return True

    def close(self) -> None:
        self._decoder = None
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = ""


def release_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``; measured: 16 MB
    of the free decoder's small allocations stay in the process without it). No-op elsewhere."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _frequent_words_dictionary(
    lm_path: str, full_dict: str, out: str, count: int, cache_dir: str = ""
) -> str:
    """The pronunciations of the ``count`` words the language model finds most probable.

    Kept in ``cache_dir`` (the state dir's ``models/``) when given, so a later start does not
    read the language model a second time (about 27 MB) just to rank its words. Memory: the
    dictionary is read twice rather than held whole (135 000 lines as Python strings cost
    about 20 MB of peak); the file is the same, word for word and line for line."""
    cached = _cached_dictionary_path(lm_path, full_dict, count, cache_dir) if cache_dir else None
    if cached is not None and cached.exists():
        return str(cached)
    import pocketsphinx

    words: dict[str, None] = {}
    with open(full_dict, encoding="utf-8") as handle:
        for line in handle:
            words.setdefault(line.split(" ", 1)[0].split("(", 1)[0], None)
    model = pocketsphinx.NGramModel.readfile(lm_path)
    ranked = sorted(words, key=lambda w: model.prob([w]), reverse=True)[:count]
    model = None  # the decoder loads its own copy; free this one first
    words.clear()
    lines: dict[str, list[str]] = {word: [] for word in ranked}
    with open(full_dict, encoding="utf-8") as handle:
        for line in handle:
            kept = lines.get(line.split(" ", 1)[0].split("(", 1)[0])
            if kept is not None:
                kept.append(line)

    def write(path: Path) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            for word in ranked:
                handle.writelines(lines[word])

    if cached is not None:
        tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            write(tmp)
            os.replace(tmp, cached)  # readers never see half a file
            return str(cached)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            _LOGGER.warning("event=free_dictionary_not_cached path=%s error=%s", cached, err)
    write(Path(out))
    return out


def _cached_dictionary_path(lm_path: str, full_dict: str, count: int, cache_dir: str) -> Path:
    """Where the frequent-words dictionary is kept: named by the model files (path, size, time),
    the word count and this module's code."""
    digest = sha256(f"{count}\n".encode())
    for name in (lm_path, full_dict):
        info = os.stat(name)
        digest.update(f"{name} {info.st_size} {info.st_mtime_ns}\n".encode())
    digest.update(Path(__file__).read_bytes())
    return Path(cache_dir) / f"free-words-{digest.hexdigest()[:16]}.dict"


def sentence_sized(candidate: str, reading: str) -> bool:
    """The reading is about as long as the candidate sentence (:data:`SPOT_READING_MAX_WORDS`),
    not a stretch of television; "" is not."""
    factor, extra = SPOT_READING_MAX_WORDS
    words = len(reading.split())
    return 0 < words <= factor * len(candidate.split()) + extra


def agreement(candidate: str, reading: str, core: str = "") -> float:
    """Share of the candidate's words the reading says too, in order (contractions expanded:
    "i've think i'm dying" agrees fully with "i have think i am dying"); with ``core`` (the
    candidate without stage 1's fillers, :func:`candidate_core`) the higher of the two shares
    (:data:`SPOT_AGREEMENT_CORE`)."""
    from assistant.pipeline import word_overlap
    from assistant.understanding.normalize import normalize_en

    said = normalize_en(reading)
    share = word_overlap(normalize_en(candidate), said)
    if SPOT_AGREEMENT_CORE and core and core != candidate:
        share = max(share, word_overlap(normalize_en(core), said))
    return share


def candidate_core(candidate: str, is_emergency: Callable[[str], bool]) -> str:
    """The candidate without the fillers stage 1's search may put before and after an emergency
    ("help i have chest pain" → "i have chest pain"), as long as what is left is an emergency
    sentence itself (``is_emergency``: "help me" stays "help me"); else the candidate."""
    from assistant.hearing.grammar import SPOT_POST_EN, SPOT_PRE_EN

    words = candidate.split()
    for fillers, from_start in ((SPOT_PRE_EN, True), (SPOT_POST_EN, False)):
        for filler in sorted((f.split() for f in fillers), key=len, reverse=True):
            size = len(filler)
            part = words[:size] if from_start else words[-size:]
            rest = words[size:] if from_start else words[:-size]
            if part == filler and rest and is_emergency(" ".join(rest)):
                words = rest
                break
    return " ".join(words)


def contradicts(candidate: str, reading: str) -> bool:
    """A stage-2 reading says more than the candidate (more than
    :data:`SPOT_PHRASE_MAX_EXTRA_WORDS` more words, counted as said and with contractions
    expanded, the smaller difference: "i'll tell" is as long as "help help"): other speech the
    candidate does not account for ("help me" in "help me with this jar lid"), so the
    candidate's words found in the audio may be part of a harmless sentence. A reading that
    only mishears the candidate's words ("help help" as "i'll tell", "i got chest pain" as "i
    have just been") says no more."""
    from assistant.understanding.normalize import normalize_en

    said = len(reading.split()) - len(candidate.split())
    expanded = len(normalize_en(reading).split()) - len(normalize_en(candidate).split())
    return min(said, expanded) > SPOT_PHRASE_MAX_EXTRA_WORDS


def dry_pass_wanted(result: Any, wet: bytes = b"", dry: bytes = b"") -> bool:
    """The first decode of a wake-mode utterance (a ``Transcript``) heard nothing and
    :data:`SPOT_DRY_WHEN` holds, in noise (:data:`SPOT_DRY_MIN_REMOVED_DB`, when the audio is
    given)."""
    if SPOT_DRY_WHEN != "any" and not result.candidate:
        return False
    return not (wet and dry) or removed_db(wet, dry) >= SPOT_DRY_MIN_REMOVED_DB


def removed_db(wet: bytes, dry: bytes) -> float:
    """How much louder RNNoise's input ``dry`` is than its output ``wet`` (RMS, dB)."""
    import math

    from assistant.hearing.sources import rms_level

    return 20.0 * math.log10(max(rms_level(dry), 1e-9) / max(rms_level(wet), 1e-9))


def dry_mix(wet: bytes, dry: bytes, share: float) -> bytes:
    """RNNoise's output ``wet`` plus ``share`` × its aligned input ``dry`` (16-bit, clipped);
    the input alone at ``share`` ≥ 1."""
    import array

    if share >= 1.0 or not wet:
        return dry
    w, d = array.array("h", wet), array.array("h", dry[: len(wet)])
    return array.array(
        "h", (max(-32768, min(32767, round(a + share * b))) for a, b in zip(w, d, strict=False))
    ).tobytes()


def heard_emergency(understander: Understander, text: str, min_confidence: float = 0.0) -> bool:
    """Stage 2's judgement: the understanding stage reads the transcript as an emergency-tier
    intent (at least ``min_confidence`` sure)."""
    if not text:
        return False
    understanding = understander.match(text)
    intent = understanding.intent
    return (
        intent is not None
        and understander.catalog.tier(intent) == "emergency"
        and understanding.confidence >= min_confidence
    )
