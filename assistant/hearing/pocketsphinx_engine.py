"""pocketsphinx engine: the out-of-the-box English recognizer (``pocketsphinx.get_model_path()``).

Grammar mode uses one JSGF/FSG search per mode (``command``, ``wake``); free-form uses the bundled
``en-us.lm.bin`` (loaded only when asked for: it costs about 70 MB and is far less accurate).
Language-model mode (``language_model=True`` with a catalog grammar) decodes with a trigram model
trained on the catalog's sentences (:mod:`assistant.hearing.langmodel`) and a dictionary filtered to the
domain words; the transcript is then left to the intent matcher (no complete-phrase check).
Words missing from the pronunciation dictionary drop their phrase (counted in the log). Only a
hypothesis that equals a complete grammar phrase is accepted; partial phrases are rejected.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from assistant.hearing import grammar as grammar_module
from assistant.hearing import grammar_cache, shared_scores
from assistant.hearing import spotter as spotter_module
from assistant.hearing.recognizer import Mode, Transcript, normalize_phrase, unique_phrases, wake_grammar
from assistant.hearing.sources import SAMPLE_RATE, rms_level

if TYPE_CHECKING:
    from assistant.hearing.grammar import SpokenGrammar

_LOGGER = logging.getLogger(__name__)

ENGINE: Final = "pocketsphinx"
_JSGF_WORD_OK: Final = frozenset("abcdefghijklmnopqrstuvwxyz'")
LM_WEIGHT: Final = 10.0
"""pocketsphinx ``-lw`` in language-model mode (tuning voices only; see docs/benchmarks/speech.md)."""
LM_WORD_INSERTION: Final = 0.65
"""pocketsphinx ``-wip`` in language-model mode."""
NBEST_MAX_LOG_GAP: Final = 50.0
"""N-best: an alternative whose path score is more than this (natural log) below the best
N-best entry's is left out, so a far-worse hypothesis can never be offered to the matcher."""
NBEST_SCAN_LIMIT: Final = 50
"""Most lattice paths read while collecting distinct N-best transcripts (bounds decode time)."""
GRAMMAR_WHOLE_UTTERANCE: Final = True
"""Grammar mode: hold the utterance's audio and decode it in one go at the end, with the
cepstral mean of that utterance alone (batch CMN). Nothing carries over from one utterance to
the next, so results never depend on what was heard before (docs/benchmarks/speech.md)."""
GRAMMAR_REMOVE_NOISE: Final[bool | None] = False
"""pocketsphinx's own spectral noise removal in grammar mode (None = the model's setting, on).
Off: its noise estimate carries over from one utterance to the next, so a file's result depended
on the files decoded before it (measured: the same recording heard as "can i have …" or "can i
get …" by the order alone); the RNNoise front-end does that job. Written to a private copy of
the model's ``feat.params``: the model's file overrides a decoder option that equals the library
default, so setting it on the decoder alone does nothing."""
GRAMMAR_BEAMS: Final[dict[str, float]] = {}
"""Search beams in grammar mode (``beam``, ``wbeam``, ``pbeam``; empty = the library's)."""
GRAMMAR_TOPN: Final = 4
"""Gaussians per codebook the grammar-mode decoder scores each senone with (pocketsphinx's
``topn``, the library's default 4). It is the acoustic model's, so every search of that decoder
(command, wake, spotter, second opinion) uses it; the spotter's free transcriber and the
language-model mode keep the library's. Measured (docs/benchmarks/speech.md, round 15): 3 saves
about 10–20 % of the decodes' CPU and kept the tuning commands' accuracy, but lost one of 12 set
(b) commands in kitchen noise; 2 lost 1 + 3 tuning commands in noise. Kept at 4."""
PHONE_LOOP_CONFIDENCE: Final = False
"""Grammar mode: decode the utterance a second time with a free phone loop and report how far
the grammar's acoustic score falls below it (:func:`confidence_from_gap`). Off: measured, it did
not separate misheard commands from right ones, and household speech forced onto a command
scored *closer* to the phone loop than real commands did (docs/benchmarks/speech.md); it costs
about 0.02 of real time."""
CHATTER_MODES: Final = frozenset({"wake"})
"""Searches that get the grammar's chatter (garbage) loop: only the wake search, where most
speech is not meant for the device; after the wake phrase every sentence is taken as a command
(the loop rejected real commands there)."""
CONFIDENCE_PER_WORD: Final = False
"""Confidence from the worst word's span instead of the whole utterance's average. Off: on the
Picovoice recordings neither separated misheard slot values from right ones, and the worst word
spreads right answers far wider (docs/benchmarks/speech.md)."""
CONFIDENCE_SCORE_UNIT: Final = 1000.0
"""Factor from the bindings' scaled acoustic log scores to the gap :func:`confidence_from_gap` takes."""
CONFIDENCE_GAP_SCALE: Final = 4.0
"""Gap per frame (scaled, :data:`CONFIDENCE_SCORE_UNIT`) below the phone loop at which confidence reaches 0."""
EXTRA_PRONUNCIATIONS: Final = {
    "jiayi": ("JH IY AA IY", "JH Y AA IY", "JH IY AH IY"),
}
"""Words the CMU dictionary lacks, as people say them (the default wake phrase's name)."""
WAKE_NAME_ENGLISH_READINGS: Final[dict[str, tuple[str, ...]]] = {"jiayi": ("JH AY AA IY",)}
"""More pronunciations of a wake-phrase name, added after :data:`EXTRA_PRONUNCIATIONS`' (empty =
off): the name read as English spelling ("jye-ah-ee", as festival's letter-to-sound rules say
it), where the pinyin readings above start "jee-" / "jyah-". With :data:`WAKE_KWS_ALL_PRONUNCIATIONS`,
dev-wake-cmd (every 4th tuning command, 57 per condition): wake misses clean / kitchen 10 dB /
living 10 dB 14.0 / 35.1 / 28.1 % -> 3.5 / 8.8 / 7.0 %, festival's kitchen misses 14 -> 3 of 19
(docs/benchmarks/speech.md, round 17)."""
WAKE_KWS_ALL_PRONUNCIATIONS: Final = True
"""The wake phrase's keyphrase searches (:data:`WAKE_KWS_THRESHOLD`,
:data:`WAKE_KWS_ALONE_THRESHOLD`) list the phrase once per pronunciation of its name
(:data:`EXTRA_PRONUNCIATIONS`, :data:`WAKE_NAME_ENGLISH_READINGS`): pocketsphinx's keyphrase
spotting looks for a word's first pronunciation only, where the grammar searches try every one
(docs/benchmarks/speech.md, round 17). Off: the phrase once, as written."""
SECOND_OPINION_MODES: Final = frozenset({"command"})
"""Grammar-mode searches whose audio is also decoded with the wider language model (the
paraphrase corpus plus the catalog's sentences, :func:`langmodel.corpus_sentences`), so the
pipeline can act only when both readings agree and can understand wording the catalog's
templates lack (docs/benchmarks/speech.md, "second opinion"). Empty = off."""
SECOND_OPINION_SKIP_INTENTS: Final[frozenset[str]] = frozenset()
"""Gating the second opinion (round 9 in docs/benchmarks/speech.md): when the grammar's reading
is one of these intents the wider language model is not run and the grammar's sentence stands
as its own second opinion (the two readings then agree). Empty = every command gets both
decodes (measured: skipping harmless questions saved little CPU for more wrong answers)."""
SECOND_OPINION_SEARCH: Final = "second"
"""Name of the wider language model's search in the decoder."""
SECOND_OPINION_CONFIG: Final[dict[str, float | bool]] = {"lw": 10.0, "fwdflat": False}
"""Decoder settings of the wider language model's search (a search reads them when it is made;
the grammar's searches keep the model's): the language weight of the catalog LM mode, and no
second (flat-lexicon) pass: the second opinion then costs 0.022 of real time instead of 0.029,
equally accurate on the tuning commands."""
SECOND_OPINION_LOOKAHEAD: Final[int | None] = None
"""Frames of phone-loop lookahead of the second opinion's search (pocketsphinx's ``pl_window``,
which a search reads when it is activated; None = the library's 5). The grammar's searches never
look ahead (pocketsphinx sets it to 0 for them). 0 is what :data:`SHARED_SCORES` needs: the
scores it reads back come in frame order only (docs/benchmarks/speech.md, round 18). Measured at
0: 6 of 90 captured second-opinion sentences change and the search costs 3 % more (the lookahead
is what prunes it). None (the library's) in the daemon."""
SHARED_SCORES: Final = False
"""One acoustic scoring pass for the command search and the second opinion of the same audio
(:mod:`assistant.hearing.shared_scores`): the command search scores every senone and writes the
scores, the second opinion is decoded from them instead of from the audio (no features or
Gaussians again). Needs :data:`SECOND_OPINION_LOOKAHEAD` 0; off (or unavailable: another
pocketsphinx build) = each search scores its own (docs/benchmarks/speech.md, round 18). Measured
with it: decoding −6 % of CPU (scoring every senone doubles the command search's cost), whole RTF
0.078 → 0.075 side by side; tuning commands 408 → 415 right of 522, but the unseen quarter of dev
wrong actions 0 / 1.9 / 0 → 0 / 3.7 / 1.9 % (clean / kitchen / living 10 dB), same accuracy. Off."""
COMPOSE_PRONUNCIATIONS: Final = True
"""Grammar mode: a word the CMU dictionary lacks ("gp", "metformin", "stomachache", "ankle's")
gets a pronunciation put together from dictionary words (:func:`langmodel.composed_pronunciation`)
instead of dropping every sentence that uses it."""
SPOT_SEARCH: Final = "spot"
"""The distress spotter's stage-1 search: the wake grammar without the chatter loop, its
emergency intent with the spotter's extra wordings (``SpokenGrammar.spot_rules``;
:mod:`assistant.hearing.spotter`). Also the grammar mode its sentences are read back in."""
WAKE_TAIL: Final = False
"""Let the wake search's wake phrase be followed by chatter (``fsg_transitions(wake_tail=True)``)
and, when that path wins, keep the wake phrase and decode the utterance again without the chatter
loop for the command (:meth:`PocketsphinxRecognizer._wake_then_command`). Off: on the tuning
set it did not lower the wake misses at 10 dB (the chatter loop wins from the *first* word: "hello
jiayi" itself is heard as "will will or to …") and in clean speech it lost a command now and then
to the tail (docs/benchmarks/speech.md, round 9)."""
WAKE_KWS_THRESHOLD: Final = 1e-30
"""Second chance for the wake phrase (0 = off): when the wake search (with its chatter loop)
missed it but the spotter's search (without the loop, already run on that audio) starts with it,
the wake phrase counts if pocketsphinx's keyphrase spotting (``kws`` search of the wake phrase
alone, this detection threshold) also finds it. On the tuning set: wake misses at 10 dB kitchen
29 → 19 of 36, no false wake in 165 harmless utterances and 90 emergencies; the spotter's search
alone would have missed 8 of 36, but round 5 measured that search alone waking 65 times an hour
on a conversation (docs/benchmarks/speech.md, round 9). Costs a keyphrase decode (≈ 0.02 of real
time) only when the spotter's search starts with the wake phrase."""
WAKE_KWS_SEARCH: Final = "wake_kws"
SPOT_KEYWORD_SEARCH: Final = "spot_keyword"
SPOT_PHRASE_SEARCH: Final = "spot_phrase"
"""Keyphrase search of a candidate's own emergency words (:data:`spotter.SPOT_PHRASE_THRESHOLD`),
made again for each candidate."""
"""Keyphrase search of :data:`spotter.SPOT_KEYWORD` (stage 2's third reading)."""
COMMAND_AFTER_WAKE: Final = True
"""A command said after the wake phrase in the same breath ("hello jiayi call my son") is heard
as a command said alone is: the audio after the wake phrase's last word (the wake search's word
alignment) is decoded again with the command search *and* the second opinion, so the pipeline
decides on two readings as it does without the wake phrase. Off (before round 12): the wake
search's own reading of the command stood alone, with no second opinion — 13.9 % / 16.7 % wrong
actions (clean / 10 dB) after the wake phrase against 5.6 % without it
(docs/benchmarks/speech.md, round 12)."""
WAKE_BY_COMMAND: Final = True
"""A third chance for the wake phrase: the spotter's search (no chatter loop) starts with it but
keyphrase spotting did not confirm it (:data:`WAKE_KWS_THRESHOLD`); the audio after it is
decoded as a command (:data:`COMMAND_AFTER_WAKE`), and when the command search and the second
opinion hear the very same complete command, the wake phrase counts. Tuning half of dev-wake-cmd
(111 per condition): wake misses kitchen / living 10 dB 53 / 30 -> 48 / 27; no false wake in 72
harmless household sentences (dev-wake, clean and 10 dB) nor in 108 emergencies
(docs/benchmarks/speech.md, round 12)."""
WAKE_KWS_ALONE_THRESHOLD: Final = 1e-10
"""A fourth chance for the wake phrase (0 = off): neither the wake search nor the spotter's
search heard it (the chatter loop took "hello jiayi" as "are it call of see on …", and the
search without the loop found no sentence at all, as for the flite slt voice at 10 dB kitchen
noise), yet keyphrase spotting of the wake phrase alone finds it at this *strict* threshold
(far stricter than :data:`WAKE_KWS_THRESHOLD`, which only confirms a search's wake phrase)
within :data:`WAKE_KWS_ALONE_MAX_START_S` of the utterance's start. The wake phrase counts and
the audio after the keyphrase's end is decoded as a command (:data:`COMMAND_AFTER_WAKE`)
(docs/benchmarks/speech.md, round 15). Costs a keyphrase decode (≈ 0.02 of real time) on
wake-mode utterances neither search woke on or proposed an emergency for."""
WAKE_KWS_ALONE_SEARCH: Final = "wake_kws_alone"
WAKE_KWS_ALONE_MAX_START_S: Final = 1.5
"""The strict keyphrase must start this close to the utterance's start (the endpointer may start
an utterance on a noise bump up to a second before the speech; a "hello jiayi" said in the middle
of a television passage does not count)."""
WAKE_KWS_LOOSE: Final = False
"""A fifth chance for the wake phrase, for utterances the four above missed: keyphrase spotting
of the wake phrase at the *confirming* threshold (:data:`WAKE_KWS_THRESHOLD`, looser than
:data:`WAKE_KWS_ALONE_THRESHOLD`) near the utterance's start (:data:`WAKE_KWS_ALONE_MAX_START_S`),
and the wake phrase counts only when the audio after it is heard as the very same complete
command by the command search and the second opinion (:data:`WAKE_BY_COMMAND`'s test). Costs a
keyphrase decode on wake-mode utterances nobody woke on, and two command decodes when it finds
the phrase (docs/benchmarks/speech.md, round 16)."""
WAKE_CUT_BACK_S: Final = 0.0
"""How far before the end of the wake phrase's last word (as aligned) the command's audio starts."""
MIN_COMMAND_AFTER_WAKE_S: Final = 0.25
"""Less audio than this after the wake phrase is not decoded as a command."""
RELEASE_AFTER_DECODE: Final = True
"""After a whole-utterance decode has been read (sentence and word alignment), start and end an
empty utterance on the same search (:func:`release_search`): a search keeps its word history and
lattice until its next utterance, so each of the wake, spotter and command searches held its own
(about 6 MB for a 10 s utterance, searches added up in the recognizer's peak memory). Results are
unchanged: every search starts afresh at ``start_utt`` and grammar decoding keeps nothing between
utterances (:data:`GRAMMAR_WHOLE_UTTERANCE`; docs/benchmarks/speech.md, Memory)."""
RESIDENT_GRAMMAR_SEARCHES: Final = 2
"""At most this many of the grammar's searches (command, wake, spotter) are built in the decoder
at a time (0 = all three, always). Each costs the recognizer about 10 MB (pocketsphinx gives
every automaton state a 101-entry hash table and builds a lexical tree per search); the wake and
spotter searches run on every wake-mode utterance, the command search after the wake phrase.
A search not built is made when it is next activated, from its transitions kept as JSON (about
0.1 MB each; the same states, words and weights, so the same search and the same readings), and
the least recently used one is removed first, giving its memory back. Costs ≈ 0.06 s of CPU per
search made (here, under load), about two per spoken command, the command search's when its
utterance begins (while it is spoken); the daemon's recognizer peak 73 → 63 MB
(docs/benchmarks/speech.md, round 17)."""
CONFUSABLE_CHECK: Final = False
"""Command search: when one word of the grammar's sentence sounds like another word that would
make a grammar sentence with another intent or slot value ("call my daughter" / "call my
doctor"), align the audio to both sentences and report how much better the heard one fits
(:attr:`Transcript.rivals`); the pipeline asks "Did you say …?"
when the heard sentence wins by little (``pipeline.RIVAL_ASK_MARGIN``, docs/benchmarks/speech.md,
round 15). Both decoders share such near-homophones, so their agreement cannot catch them."""
CONFUSABLE_MAX_PHONE_SHARE: Final = 0.5
"""Two words are confusable when the phone edit distance between their pronunciations is at
most this share of the longer one's phones (daughter D AO T ER / doctor D AA K T ER: 2 of 5)."""
CONFUSABLE_MAX_RIVALS: Final = 3
"""At most this many rival sentences (the closest-sounding substitutions) are aligned."""
RIVAL_SLOTS: Final = ("contact", "doctor", "medication")
"""Slots whose spoken words get rivals: whom to call, which doctor, which medicine (the
caregiver's configured values)."""
RIVAL_ONE_VALUE_SLOTS: Final = frozenset({"doctor"})
"""Slots with one value (one family doctor): two of its words are never rivals ("doctor" /
"doctors")."""
RIVAL_IGNORED_WORDS: Final = frozenset({"my", "the", "a", "an", "of", "family", "medical", "health"})
"""Words of those slots that name nobody by themselves."""
SIDE_SEARCHES: Final[frozenset[str]] = frozenset({"second"})
"""Searches of a command (``command``: the grammar, ``second``: the second opinion) that decode
the front-end's side stream (:data:`assistant.hearing.frontend.SIDE_DRY_SHARE`: RNNoise with
some of the un-denoised audio mixed back) instead of the main stream, when there is one. The
second opinion: in noise it heard nothing usable on RNNoise's output alone (round 17). Measured
(round 18, docs/benchmarks/speech.md, kitchen + living room 10 dB, share 0.05): second opinion
261 → 282 right of 348 on the tuning half with the same 12 wrong actions (held-out 263 → 277 of
342, wrong 8 → 6); the grammar 254 (10 wrong); both 272 (12). Empty = both decode the main
stream. The command after the wake phrase (wake search) keeps the main stream (see
:data:`SIDE_AFTER_WAKE`)."""
SIDE_AFTER_WAKE: Final[frozenset[str]] = frozenset()
"""Searches of the command said after the wake phrase in the same breath
(:data:`COMMAND_AFTER_WAKE`: ``command``, ``second``) that decode the audio after the wake phrase
from the front-end's side stream instead of the main stream, as :data:`SIDE_SEARCHES` does for a
command said alone. Empty = the main stream. Measured with ``{"second"}`` (round 19,
docs/benchmarks/speech.md; dev-wake-cmd, kitchen 10 dB, every 6th tuning command, 39 files):
tuning slice 33 → 34 right, wrong actions 1 → 0; held-out slice (offset 1, 36 files) 29 → 29
right, wrong actions 1 → 2. No gain on unseen audio: off."""
PATCHED_LABEL: Final = "+jiayi"
"""The local version label of pocketsphinx built by ``scripts/pocketsphinx-patched.sh`` (``make
venv``) with ``third_party/pocketsphinx/*.patch``: the FSG search's end of frame visits only the
word-exit lists filled in that frame, not every automaton state × every phone (round 19,
docs/benchmarks/speech.md: same sentences; the decoding's instructions and CPU measured there).
PyPI's wheel (``PATCHED_POCKETSPHINX=0``, or a failed build) decodes the same with more CPU."""


def patched_build() -> bool:
    """The installed pocketsphinx is the patched build (:data:`PATCHED_LABEL`); for benches and
    tests (reads the package metadata, so not called by the daemon)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return PATCHED_LABEL in version("pocketsphinx")
    except PackageNotFoundError:
        return False


SILENT_RMS: Final = 0.0005
"""An utterance quieter than this (about −66 dBFS) is not decoded (its batch CMN would be noise)."""


_ALT_MARK = re.compile(r"\(\d+\)")
"""A dictionary's alternative-pronunciation mark ("jiayi(2)"), as keyphrase spotting reports it."""


def _pronunciations() -> dict[str, tuple[str, ...]]:
    """:data:`EXTRA_PRONUNCIATIONS` with :data:`WAKE_NAME_ENGLISH_READINGS` after each word's own."""
    out = dict(EXTRA_PRONUNCIATIONS)
    for word, phones in WAKE_NAME_ENGLISH_READINGS.items():
        out[word] = (*out.get(word, ()), *(p for p in phones if p not in out.get(word, ())))
    return out


def _trie_expr(node: dict[str, Any]) -> str:
    """JSGF for a word trie: shared prefixes keep the search graph small (a flat list of
    thousands of alternatives makes pocketsphinx take seconds per utterance)."""
    alts = []
    for word, child in node.items():
        if word == "":
            continue
        sub = _trie_expr(child)
        alts.append(f"{word} {sub}".strip() if sub else word)
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else "( " + " | ".join(alts) + " )"
    return f"[ {body} ]" if "" in node else body


def _jsgf(name: str, phrases: Sequence[str]) -> str:
    root: dict[str, Any] = {}
    for phrase in phrases:
        node = root
        for word in phrase.split():
            node = node.setdefault(word, {})
        node[""] = {}
    return f"#JSGF V1.0;\ngrammar {name};\npublic <{name}> = {_trie_expr(root)};\n"


class _PsDecoder:
    def __init__(self, owner: PocketsphinxRecognizer, mode: Mode) -> None:
        self._owner = owner
        self._mode = mode
        self._search = owner._search_for(mode)
        self._whole = owner.whole_utterance and mode in owner._grammar_modes
        self._held: list[bytes] = []
        self._side: list[bytes] = []
        """The same audio from the front-end's side stream (:meth:`accept_side`; empty: none)."""
        self._keyword = ""
        self._phrase = ""
        self._ahead: tuple[str, float | None, str, float, str, tuple[str, ...], str] | None = None
        self._rivals: tuple[tuple[str, float], ...] = ()
        """(rival sentence, margin) of the last whole-utterance decode (:data:`CONFUSABLE_CHECK`)."""
        self._side_second: str | None = None
        """The second opinion of the last whole-utterance decode when it was decoded from the side
        stream (:data:`SIDE_SEARCHES`): :meth:`retry` reuses it instead of decoding it again."""
        if not self._whole:
            owner._activate(self._search)
            owner._decoder.start_utt()
        elif self._search in owner._fsg_sources:  # made now, while the utterance is spoken
            owner._build_fsg(self._search)

    def accept(self, pcm: bytes) -> None:
        if self._whole:
            self._held.append(pcm)
            self._ahead = None
        else:
            self._owner._decoder.process_raw(pcm, False, False)

    def accept_side(self, pcm: bytes) -> None:
        """The stretch of the front-end's side stream that goes with the last :meth:`accept`."""
        if self._whole:
            self._side.append(pcm)

    def _audio_for(self, search: str, audio: bytes) -> bytes:
        """The side stream's audio for a command search in :data:`SIDE_SEARCHES`, else ``audio``."""
        if self._mode != "command" or search not in SIDE_SEARCHES or not self._side:
            return audio
        side = b"".join(self._side)
        return side if len(side) == len(audio) else audio

    def retry(self) -> Transcript | None:
        """After :meth:`finish`: the command decoded again, grammar and second opinion, on the
        side stream (:data:`assistant.hearing.listener.SIDE_RETRY`); None without one."""
        owner = self._owner
        if self._mode != "command" or not self._side or owner.grammar is None:
            return None
        started = time.monotonic()
        audio, self._side = b"".join(self._side), []
        if rms_level(audio) < SILENT_RMS:
            return None
        raw = owner._decode_with(self._search, audio)
        second = ""
        if self._side_second is not None:  # the same side audio gave it already: the same reading
            second = self._side_second
        elif self._mode in owner._second_modes:
            second = raw if owner._second_skipped(raw) else owner._decode_with(SECOND_OPINION_SEARCH, audio)
        owner.last_rivals = owner._rival_of_readings(raw, second, audio)
        text = raw if owner.grammar.accepts(raw, self._mode) else ""
        return Transcript(
            text,
            raw,
            ENGINE,
            owner.lang,
            True,
            decode_s=time.monotonic() - started,
            second=second,
            rivals=owner.last_rivals,
        )

    def decode_ahead(self) -> None:
        """Whole-utterance mode: decode what has been held so far now; :meth:`finish` reuses it
        unless more audio came (see ``Listener._feed``)."""
        if self._whole and self._ahead is None:
            started = time.monotonic()
            raw, confidence, second, candidate, free, spot_second = self._decode_whole()
            self._ahead = (raw, confidence, second, time.monotonic() - started, candidate, free, spot_second)

    def _decode_whole(self) -> tuple[str, float | None, str, str, tuple[str, ...], str]:
        """(sentence, confidence, second opinion, spotter candidate, the candidate's free
        transcripts, the candidate's second-opinion transcript) of the held audio."""
        owner = self._owner
        audio = b"".join(self._held)
        audible = rms_level(audio) >= SILENT_RMS  # digital silence: nothing to normalise or decode
        side = b"".join(self._side) if self._mode == "wake" and SIDE_AFTER_WAKE and self._side else b""
        owner._side_whole = (audio, side) if len(side) == len(audio) else None
        pair = audible and self._mode in owner._second_modes and not owner.phone_loop
        owner._keep_scores(pair)
        raw = owner._decode_with(self._search, self._audio_for("command", audio)) if audible else ""
        owner.last_rivals = ()
        wake_end = owner._wake_end(raw) if self._mode == "wake" else None
        if raw and self._mode == "wake" and owner.wake_tail:
            raw = owner._wake_then_command(raw, audio)
        confidence = owner._confidence(audio) if raw and owner.phone_loop else None
        second = ""
        self._side_second = None
        if audible and self._mode in owner._second_modes:
            heard_by, skipped = self._audio_for("second", audio), owner._second_skipped(raw)
            second = raw if skipped else owner._decode_with(SECOND_OPINION_SEARCH, heard_by)
            if heard_by is not audio and not skipped:
                self._side_second = second
        if self._mode == "command":
            owner.last_rivals = owner._rival_of_readings(raw, second, audio)
        candidate, free, spot_second, keyword, phrase = "", (), "", "", ""
        if audible and self._mode == "wake" and owner.spots and not owner._wakes_or_spots(raw):
            candidate = owner._decode_with(SPOT_SEARCH, audio)
            spot_wake_end = owner._wake_end(candidate)
            woken = owner._spot_woken(candidate, audio)
            confirmed = (
                None if woken or spot_wake_end is None else owner._wake_confirmed(audio[spot_wake_end:])
            )
            if woken:
                raw, candidate, wake_end = woken, "", spot_wake_end
            elif confirmed is not None:
                (raw, second), candidate, wake_end = confirmed, "", None
            elif owner._spotted(candidate):
                free, spot_second = owner._stage_two(audio)
                keyword = owner._spot_keyword(candidate, audio)
                phrase = owner._spot_phrase(candidate, audio, (free[0] if free else "", spot_second))
            else:
                candidate = ""
                kws_end = owner._kws_wake_end(audio)
                loose = None if kws_end is not None else owner._loose_wake(audio)
                if kws_end is not None:
                    raw, wake_end = owner.grammar.wake_phrase, kws_end
                elif loose is not None:
                    (raw, second), wake_end = loose, None
        elif audible and self._mode == "wake" and owner.spots and owner._spotted_by_wake(raw):
            # the wake search's own emergency gets stage 2's readings too (spotter.VERIFY_WAKE_EMERGENCY)
            candidate, free, spot_second = raw, *owner._stage_two(audio)
            keyword = owner._spot_keyword(candidate, audio)
            phrase = owner._spot_phrase(candidate, audio, (free[0] if free else "", spot_second))
        if wake_end is not None and owner.command_after_wake and not candidate:
            raw, second = owner._command_after_wake(raw, audio[wake_end:], second)
        self._rivals = owner.last_rivals
        self._keyword = keyword  # read by finish() with the rest of this decode
        self._phrase = phrase
        return raw, confidence, second, candidate, free, spot_second

    def finish(self) -> Transcript:
        started = time.monotonic()
        owner = self._owner
        decoder = owner._decoder
        confidence: float | None = None
        ahead_s = 0.0
        second = ""
        candidate, free, spot_second = "", (), ""
        if self._whole:
            if self._ahead is None:
                raw, confidence, second, candidate, free, spot_second = self._decode_whole()
            else:
                raw, confidence, second, ahead_s, candidate, free, spot_second = self._ahead
            self._held = []
        else:
            decoder.end_utt()
            hyp = decoder.hyp()
            raw = normalize_phrase(hyp.hypstr) if hyp is not None and hyp.hypstr else ""
        grammar = owner.grammar
        alternatives: tuple[str, ...] = ()
        if self._mode in owner._lm_modes:
            text = raw  # the intent matcher judges imperfect text
            used_grammar = True
            if owner.nbest > 0 and raw:
                alternatives = _alternatives(decoder, raw, owner.nbest)
        elif grammar is not None and self._mode in owner._grammar_modes:
            text = raw if grammar.accepts(raw, self._mode) else ""
            used_grammar = True
        else:
            allowed = owner._allowed.get(self._mode)
            text = raw if allowed is None or raw in allowed else ""
            used_grammar = allowed is not None
        return Transcript(
            text,
            raw,
            ENGINE,
            owner.lang,
            used_grammar,
            decode_s=time.monotonic() - started,
            alternatives=alternatives,
            confidence=confidence,
            ahead_s=ahead_s,
            second=second,
            candidate=candidate,
            free_text=free[0] if free else "",
            free_alternatives=tuple(free[1:]),
            spot_second=spot_second,
            rivals=self._rivals if self._whole else (),
            spot_keyword=self._keyword if candidate else "",
            spot_phrase=self._phrase if candidate else "",
        )


def phone_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Edit distance between two phone sequences (insert, delete, substitute: 1 each)."""
    row = list(range(len(b) + 1))
    for i, pa in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, pb in enumerate(b, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (pa != pb))
    return row[-1]


def confidence_from_gap(gap_per_frame: float) -> float:
    """0–1 from the grammar path's acoustic log score per frame minus the free phone loop's
    (≤ 0: the phone loop may say any sounds, so it scores at least as well as any sentence).
    0 gap → 1.0; :data:`CONFIDENCE_GAP_SCALE` or more below → 0.0; linear between."""
    return max(0.0, min(1.0, 1.0 + gap_per_frame / CONFIDENCE_GAP_SCALE))


def _log(probability: float) -> float:
    """A segment's acoustic score: the bindings give it as a probability of pocketsphinx's scaled
    log score, so its log is in pocketsphinx's scaled units (only differences are used)."""
    return math.log(max(probability, 1e-300))


def _is_filler(word: str) -> bool:
    return word.startswith(("<", "[", "+")) or word in ("SIL",)


def _span_score(loop: list[tuple[float, int, int]], start: int, end: int) -> float:
    """The phone loop's score over frames ``start``–``end``, each phone's prorated by overlap."""
    total = 0.0
    for score, s_start, s_end in loop:
        overlap = min(end, s_end) - max(start, s_start) + 1
        if overlap > 0:
            total += score * overlap / max(1, s_end - s_start + 1)
    return total


def release_search(decoder: Any) -> None:
    """Free what the active search holds from its last utterance (history, lattice, hypothesis):
    an empty utterance resets it, as the next real one would (:data:`RELEASE_AFTER_DECODE`)."""
    decoder.start_utt()
    decoder.end_utt()


def _private_model(src: str, workdir: str, remove_noise: bool | None) -> str:
    """A model folder of links to ``src`` with its own ``feat.params`` (``remove_noise`` set)."""
    dst = os.path.join(workdir, "am")
    os.makedirs(dst)
    for name in os.listdir(src):
        if name != "feat.params":
            os.symlink(os.path.join(src, name), os.path.join(dst, name))
    with open(os.path.join(src, "feat.params"), encoding="utf-8") as handle:
        lines = handle.readlines()
    if remove_noise is not None:
        flag = "yes" if remove_noise else "no"
        lines = [f"-remove_noise {flag}\n" if line.startswith("-remove_noise") else line for line in lines]
    with open(os.path.join(dst, "feat.params"), "w", encoding="utf-8") as handle:
        handle.writelines(lines)
    return dst


def _alternatives(decoder: Any, best: str, count: int) -> tuple[str, ...]:
    """Up to ``count`` distinct next-best transcripts from the lattice, best first, within
    :data:`NBEST_MAX_LOG_GAP` of the top path (pocketsphinx reports path scores as probabilities)."""
    found: list[str] = []
    top_log: float | None = None
    for index, hyp in enumerate(decoder.nbest() or ()):
        if index >= NBEST_SCAN_LIMIT or len(found) >= count:
            break
        if hyp is None:  # the lattice iterator yields None for a path it cannot print
            continue
        score = float(hyp.score)
        log_score = math.log(score) if score > 0.0 else -math.inf
        if top_log is None:
            top_log = log_score
        if log_score < top_log - NBEST_MAX_LOG_GAP:
            break
        text = normalize_phrase(hyp.hypstr or "")
        if text and text != best and text not in found:
            found.append(text)
    return tuple(found)


class PocketsphinxRecognizer:
    """One decoder per process; one utterance at a time (not thread-safe)."""

    engine = ENGINE

    def __init__(
        self,
        phrases: Sequence[str] | None,
        wake_phrase: str = "",
        *,
        lang: str = "en",
        grammar: SpokenGrammar | None = None,
        language_model: bool = False,
        nbest: int = 0,
        second_opinion: bool = False,
        cache_dir: str = "",
    ) -> None:
        """``grammar`` (compiled from the catalog, :mod:`assistant.hearing.grammar`) replaces ``phrases``;
        with ``language_model`` it is decoded as a trigram model of its sentences instead, and
        ``nbest`` > 0 adds up to that many next-best transcripts to each result; ``second_opinion``
        (grammar mode, the built-in English catalog) also decodes :data:`SECOND_OPINION_MODES`
        with the wider language model of the paraphrase corpus (:attr:`Transcript.second`), whose
        trained file is kept in ``cache_dir`` (:func:`langmodel.cached_arpa`; "" = trained each time)."""
        import pocketsphinx

        self.lang = lang
        self.cache_dir = cache_dir
        self.nbest = nbest
        model_dir = pocketsphinx.get_model_path()
        self._lm_path = os.path.join(model_dir, "en-us", "en-us.lm.bin")
        self._allowed: dict[str, frozenset[str] | None] = {}
        self.dropped_phrases: list[str] = []
        self.dropped_alternatives = 0
        self._free_loaded = False
        self._active_search = ""
        self.grammar: SpokenGrammar | None = None
        self._grammar_modes: set[str] = set()
        self._lm_modes: set[str] = set()
        self._second_modes: set[str] = set()
        self.has_second_opinion = False
        """The wider language model's search exists (:data:`SECOND_OPINION_SEARCH`)."""
        self._workdir = ""
        self.whole_utterance = GRAMMAR_WHOLE_UTTERANCE
        self.phone_loop = False
        self.spots = False
        """The distress spotter's two stages run on wake-mode utterances (:mod:`.spotter`)."""
        self.wake_kws = False
        """The wake phrase's keyphrase search exists (:data:`WAKE_KWS_THRESHOLD`)."""
        self.spot_keyword = ""
        """The keyword stage 2 spots in a candidate's audio (:data:`spotter.SPOT_KEYWORD`)."""
        self.wake_kws_alone = False
        """The strict keyphrase search exists (:data:`WAKE_KWS_ALONE_THRESHOLD`)."""
        self._phones_added = False
        """The phone loop search exists (:meth:`_candidate_fit`)."""
        self.wake_tail = False
        """The wake search lets the wake phrase be followed by chatter (:data:`WAKE_TAIL`)."""
        self.command_after_wake = False
        """A command after the wake phrase is decoded again as a command (:data:`COMMAND_AFTER_WAKE`)."""
        self.last_words: list[tuple[str, int, int]] = []
        """(word, first frame, last frame) of the last :meth:`_decode_with`."""
        self.free = spotter_module.FreeTranscriber(model_dir, GRAMMAR_REMOVE_NOISE, cache_dir)
        self.last_gaps = (0.0, 0.0)
        """(utterance, worst word) acoustic gap to the phone loop of the last confidence (tuning)."""
        self.last_rivals: tuple[tuple[str, float], ...] = ()
        """(rival sentence, margin) of the last command decode (:data:`CONFUSABLE_CHECK`)."""
        self._confusable: dict[str, list[tuple[float, str]]] = {}
        self._phones: dict[str, tuple[str, ...]] | None = None
        self._one_value: dict[str, str] = {}
        self._fsg_sources: dict[str, str] = {}
        """Grammar searches made on demand (:data:`RESIDENT_GRAMMAR_SEARCHES`): JSON of
        ``[start, final, transitions]`` by search name."""
        self._fsg_built: list[str] = []
        """Those of :attr:`_fsg_sources` built in the decoder now, least recently used first."""
        self._scores: shared_scores.SharedScores | None = None
        """The command search's senone scores for the second opinion (:data:`SHARED_SCORES`)."""
        self._scores_audio: bytes | None = None
        self._side_whole: tuple[bytes, bytes] | None = None
        """(held audio, its side stream) of the wake-mode utterance being decoded (:data:`SIDE_AFTER_WAKE`)."""
        """The audio those scores are of."""
        self._scores_wanted = False
        """The next :meth:`_decode_with` writes its scores (:meth:`_keep_scores`)."""
        if grammar is not None and language_model:
            self._decoder: Any = self._language_model_decoder(grammar, wake_phrase, model_dir)
            return
        if grammar is not None:
            words = grammar.words() | set(normalize_phrase(wake_phrase).split())
            corpus: list[tuple[str, float]] = []
            if second_opinion and SECOND_OPINION_MODES:
                from assistant.hearing import langmodel

                corpus = langmodel.corpus_sentences(grammar)
                words |= {w for sentence, _ in corpus for w in sentence.split()}
            self._decoder = self._grammar_decoder(model_dir, words)
            self._add_spoken_grammar(grammar, wake_phrase)
            if corpus and self.grammar is not None:
                self._add_second_opinion(corpus)
            if self.grammar is not None:  # read back in this process too (wake, spot)
                grammar_cache.preload_reading_tables(self.grammar, cache_dir)
            return
        self._decoder = pocketsphinx.Decoder(lm=None, samprate=SAMPLE_RATE, loglevel="FATAL")
        if phrases is not None:
            self._add_grammar("command", unique_phrases(phrases))
        if wake_phrase:
            self._add_grammar("wake", wake_grammar(wake_phrase, phrases))

    def _language_model_decoder(self, grammar: SpokenGrammar, wake_phrase: str, model_dir: str) -> Any:
        """A decoder over the domain words only, with one trigram search per mode."""
        import pocketsphinx

        from assistant.hearing import langmodel

        self._workdir = tempfile.mkdtemp(prefix="jiayi-lm-")
        full_dict = os.path.join(model_dir, "en-us", "cmudict-en-us.dict")
        wake = normalize_phrase(wake_phrase)
        words = grammar.words() | set(wake.split())
        dict_path, missing = langmodel.filtered_dictionary(
            full_dict,
            (w for w in words if set(w) <= _JSGF_WORD_OK),
            os.path.join(self._workdir, "domain.dict"),
        )
        known = words - set(missing)
        grammar = grammar.pruned(lambda w: w in known and set(w) <= _JSGF_WORD_OK)
        self.grammar = grammar
        self.dropped_alternatives = grammar.dropped
        decoder = pocketsphinx.Decoder(
            lm=None,
            dict=str(dict_path),
            samprate=SAMPLE_RATE,
            lw=LM_WEIGHT,
            wip=LM_WORD_INSERTION,
            loglevel="FATAL",
        )
        modes: dict[str, str] = {"command": ""}
        if wake and set(wake.split()) <= known:
            modes["wake"] = wake
        for mode, wake_words in modes.items():
            sentences = langmodel.domain_sentences(grammar, wake_phrase=wake_words)
            model = langmodel.train(sentences, backoff_scale=langmodel.BACKOFF_SCALE)
            arpa = model.write_arpa(os.path.join(self._workdir, f"{mode}.arpa"))
            decoder.add_lm_file(mode, str(arpa))
            self._lm_modes.add(mode)
        return decoder

    def _grammar_decoder(self, model_dir: str, words: set[str]) -> Any:
        """The grammar-mode decoder: private model settings, a dictionary of the grammar's words
        only (the full one costs memory), beams, no lattice rescoring (it returns sentences
        ending mid-grammar), extra pronunciations, and the phone loop."""
        import pocketsphinx

        from assistant.hearing import langmodel

        self._workdir = tempfile.mkdtemp(prefix="jiayi-fsg-")
        hmm = _private_model(os.path.join(model_dir, "en-us", "en-us"), self._workdir, GRAMMAR_REMOVE_NOISE)
        extra = _pronunciations()
        dict_path, _missing = langmodel.filtered_dictionary(
            os.path.join(model_dir, "en-us", "cmudict-en-us.dict"),
            (w for w in words if set(w) <= _JSGF_WORD_OK and w not in extra),
            os.path.join(self._workdir, "grammar.dict"),
            compose=COMPOSE_PRONUNCIATIONS,
        )
        decoder = pocketsphinx.Decoder(
            hmm=hmm,
            lm=None,
            dict=str(dict_path),
            samprate=SAMPLE_RATE,
            bestpath=False,
            loglevel="FATAL",
            **{"topn": GRAMMAR_TOPN, **GRAMMAR_BEAMS},
        )
        for word, phones in extra.items():
            for index, pron in enumerate(phones):
                name = word if index == 0 else f"{word}({index + 1})"
                if decoder.lookup_word(name) is None:
                    decoder.add_word(name, pron, index == len(phones) - 1)
        if PHONE_LOOP_CONFIDENCE:
            decoder.add_allphone_file("phones", None)
            self.phone_loop = True
        return decoder

    def _add_second_opinion(self, corpus: list[tuple[str, float]]) -> None:
        """The wider language model: a trigram model of the paraphrase corpus plus the catalog's
        own sentences (sentences with a word the dictionary lacks are left out)."""
        from assistant.hearing import langmodel

        assert self.grammar is not None
        grammar = self.grammar

        def sentences() -> Iterator[tuple[str, float]]:  # made as they are read (memory)
            domain = langmodel.domain_sentences(grammar, by_template=langmodel.SECOND_OPINION_BY_TEMPLATE)
            for text, weight in itertools.chain(domain, corpus):
                if all(self._known_word(w) for w in text.split()):
                    yield text, weight

        arpa = langmodel.cached_arpa(sentences, SECOND_OPINION_SEARCH, self._workdir, self.cache_dir)
        config = self._decoder.config
        before = {key: config[key] for key in SECOND_OPINION_CONFIG}
        for key, value in SECOND_OPINION_CONFIG.items():
            config[key] = value
        try:
            self._decoder.add_lm_file(SECOND_OPINION_SEARCH, str(arpa))
        finally:  # the grammar's searches (made already, or again later) keep their settings
            for key, value in before.items():
                config[key] = value
        self.has_second_opinion = True
        self._second_modes = set(SECOND_OPINION_MODES) & self._grammar_modes
        if SHARED_SCORES and SECOND_OPINION_LOOKAHEAD == 0 and self._second_modes:
            self._scores = shared_scores.attach(self._decoder)
        self.command_after_wake = (
            COMMAND_AFTER_WAKE and "command" in self._second_modes and "wake" in self._grammar_modes
        )

    def _decode_with(self, search: str, audio: bytes) -> str:
        """One whole-utterance decode of ``audio`` with ``search`` (normalised hypothesis, "" = none);
        its word alignment is kept in :attr:`last_words`. After :meth:`_keep_scores` it writes the
        senone scores for the second opinion of the same audio, which then decodes from them
        (:data:`SHARED_SCORES`)."""
        decoder = self._decoder
        scores = self._scores
        keep_scores, self._scores_wanted = self._scores_wanted, False
        self._activate(search)
        from_scores = search == SECOND_OPINION_SEARCH and audio is self._scores_audio
        self._scores_audio = None
        if not (from_scores and scores is not None and scores.decode(len(audio)) >= 0):
            write = scores is not None and keep_scores
            if write:
                scores.start_writing()
            try:
                decoder.start_utt()
                decoder.process_raw(audio, False, True)
                decoder.end_utt()
            finally:
                if write:
                    scores.stop_writing(int(decoder.n_frames()))
            self._scores_audio = audio if write else None
        hyp = decoder.hyp()
        text = normalize_phrase(_ALT_MARK.sub("", hyp.hypstr)) if hyp is not None and hyp.hypstr else ""
        self.last_words = (
            [(seg.word, seg.start_frame, seg.end_frame) for seg in decoder.seg()] if text else []
        )
        if RELEASE_AFTER_DECODE and not self.phone_loop:  # the phone loop reads this decode's segments
            release_search(decoder)
        return text

    def _keep_scores(self, wanted: bool) -> None:
        """The next decode is the command search's of audio the second opinion decodes next: it
        writes its senone scores for it (:data:`SHARED_SCORES`; nothing without)."""
        self._scores_wanted = wanted and self._scores is not None

    def _wake_end(self, sentence: str) -> int | None:
        """Byte offset in the last decode's audio where its wake phrase ends, when ``sentence``
        (that decode's) is the wake phrase followed by more words; None otherwise."""
        wake = self.grammar.wake_phrase if self.grammar is not None else ""
        if not wake or not sentence.startswith(wake + " "):
            return None
        wanted = wake.split()
        matched = 0
        for word, _start, end in self.last_words:
            if normalize_phrase(word.split("(", 1)[0]) != wanted[matched]:
                continue  # silence and fillers between the words
            matched += 1
            if matched == len(wanted):
                frame_samples = SAMPLE_RATE // int(self._decoder.config["frate"])
                cut = (end + 1) * frame_samples - round(WAKE_CUT_BACK_S * SAMPLE_RATE)
                return max(0, cut) * 2
        return None

    def _wake_confirmed(self, rest: bytes) -> tuple[str, str] | None:
        """:data:`WAKE_BY_COMMAND`: (wake phrase + command, second opinion) when both readings of
        ``rest`` (the audio after the spotter's search's wake phrase) are the same command."""
        if not WAKE_BY_COMMAND or not self.command_after_wake or self.grammar is None:
            return None
        wake = self.grammar.wake_phrase
        heard, second = self._command_after_wake(wake, rest, "")
        return (heard, second) if second and heard == f"{wake} {second}" else None

    def _side_rest(self, rest: bytes) -> bytes:
        """The side stream under ``rest``, the end of the utterance being decoded
        (:data:`SIDE_AFTER_WAKE`; b"" without)."""
        if self._side_whole is None or len(rest) > len(self._side_whole[0]):
            return b""
        audio, side = self._side_whole
        return side[len(audio) - len(rest) :]

    def _command_after_wake(self, sentence: str, rest: bytes, second: str) -> tuple[str, str]:
        """(wake-search sentence, second opinion) with the command after the wake phrase decoded
        again from ``rest`` (its audio) as a command said alone is (:data:`COMMAND_AFTER_WAKE`):
        the wake phrase plus the command search's sentence (the wake phrase alone when that
        search heard no complete command), and the second opinion of ``rest``."""
        assert self.grammar is not None
        if len(rest) < MIN_COMMAND_AFTER_WAKE_S * SAMPLE_RATE * 2 or rms_level(rest) < SILENT_RMS:
            return sentence, second
        wake = self.grammar.wake_phrase
        side = self._side_rest(rest)
        self._keep_scores(True)
        command = self._decode_with("command", side if side and "command" in SIDE_AFTER_WAKE else rest)
        heard = f"{wake} {command}" if command and self.grammar.accepts(command, "command") else wake
        second = (
            command
            if self._second_skipped(command)
            else self._decode_with(
                SECOND_OPINION_SEARCH, side if side and "second" in SIDE_AFTER_WAKE else rest
            )
        )
        self.last_rivals = self._rival_of_readings(command if heard != wake else "", second, rest)
        return heard, second

    def _confidence(self, audio: bytes) -> float:
        """The grammar path's acoustic score against the free phone loop's, as 0–1: over the
        whole utterance (:data:`CONFIDENCE_PER_WORD` off) or the worst word's span."""
        decoder = self._decoder
        words = [(s.word, _log(s.ascore), s.start_frame, s.end_frame) for s in decoder.seg()]
        frames = max(1, int(decoder.n_frames()))
        search = self._active_search
        self._activate("phones")
        decoder.start_utt()
        decoder.process_raw(audio, False, True)
        decoder.end_utt()
        loop = [(_log(s.ascore), s.start_frame, s.end_frame) for s in decoder.seg()]
        self._activate(search)
        whole = (sum(w[1] for w in words) - sum(x[0] for x in loop)) / frames
        worst = min(
            (
                (score - _span_score(loop, start, end)) / max(1, end - start + 1)
                for word, score, start, end in words
                if not _is_filler(word)
            ),
            default=whole,
        )
        self.last_gaps = (whole * CONFIDENCE_SCORE_UNIT, worst * CONFIDENCE_SCORE_UNIT)
        gap = worst if CONFIDENCE_PER_WORD else whole
        return confidence_from_gap(min(0.0, gap * CONFIDENCE_SCORE_UNIT))

    def _rivals(self, sentence: str, audio: bytes) -> tuple[tuple[str, float], ...]:
        """:data:`CONFUSABLE_CHECK`: the sentences one near-homophone away from ``sentence`` in a
        configured value (:meth:`_rivals_of`), each with how much better ``sentence`` fits the
        audio (forced alignment of both: acoustic log score difference per frame of the differing
        word, :data:`CONFIDENCE_SCORE_UNIT` scaled; < 0: the rival fits better)."""
        if not CONFUSABLE_CHECK or self.grammar is None:
            return ()
        rivals = self._rivals_of(sentence)
        heard = self._aligned(sentence, audio) if rivals else None
        if heard is None:
            return ()
        heard_score, heard_words = heard
        out: list[tuple[str, float]] = []
        for index, rival in rivals:
            aligned = self._aligned(rival, audio)
            if aligned is None or index >= len(heard_words):
                continue
            start, end = heard_words[index]
            out.append((rival, (heard_score - aligned[0]) * CONFIDENCE_SCORE_UNIT / max(1, end - start + 1)))
        return tuple(out)

    def _rival_of_readings(self, sentence: str, second: str, audio: bytes) -> tuple[tuple[str, float], ...]:
        """The rivals (:meth:`_rivals`) of the grammar's sentence and of the second opinion's."""
        rivals = self._rivals(sentence, audio) if sentence else ()
        if second and second != sentence:
            rivals += self._rivals(second, audio)
        return rivals

    def _rivals_of(self, sentence: str) -> list[tuple[int, str]]:
        """(word index, sentence): ``sentence`` with one of its configured-value words (whom to
        call, which doctor or medicine: :data:`RIVAL_SLOTS`) replaced by another such word that
        sounds like it, closest-sounding first (at most :data:`CONFUSABLE_MAX_RIVALS`). A rival
        the grammar reads as the very same command is left out; whether one it cannot read means
        something else is the understander's to say (``pipeline.close_rival``)."""
        assert self.grammar is not None
        parse = self.grammar.parse(sentence, "command")
        words = sentence.split()
        found: list[tuple[float, int, str]] = []
        for index, word in enumerate(words):
            for share, other in self._confusable_with(word):
                rival = " ".join([*words[:index], other, *words[index + 1 :]])
                other_parse = self.grammar.parse(rival, "command")
                if (
                    other_parse is not None
                    and parse is not None
                    and ((other_parse.intent, other_parse.slots) == (parse.intent, parse.slots))
                ):
                    continue
                found.append((share, index, rival))
        found.sort()
        return [(index, rival) for _share, index, rival in found[:CONFUSABLE_MAX_RIVALS]]

    def _confusable_with(self, word: str) -> list[tuple[float, str]]:
        """The configured-value words (:data:`RIVAL_SLOTS`) that sound like ``word``, itself one
        (:data:`CONFUSABLE_MAX_PHONE_SHARE`)."""
        if word in self._confusable:
            return self._confusable[word]
        if self._phones is None:
            assert self.grammar is not None
            rules = dict(self.grammar.rules)
            values: set[str] = set()
            for slot in RIVAL_SLOTS:
                if f"slot_{slot}" in rules:
                    words = grammar_module.node_words(rules[f"slot_{slot}"])
                    values |= words
                    if slot in RIVAL_ONE_VALUE_SLOTS:
                        self._one_value.update(dict.fromkeys(words, slot))
            self._phones = {}
            for other in values - RIVAL_IGNORED_WORDS:
                phones = self._decoder.lookup_word(other) if set(other) <= _JSGF_WORD_OK else None
                if phones:
                    self._phones[other] = tuple(phones.split())
        mine = self._phones.get(word)
        close: list[tuple[float, str]] = []
        if mine:
            for other, phones in self._phones.items():
                if other == word or self._one_value.get(other, "") == self._one_value.get(word, " "):
                    continue  # e.g. "doctor" / "doctors": the same doctor
                share = phone_distance(mine, phones) / max(len(mine), len(phones))
                if share <= CONFUSABLE_MAX_PHONE_SHARE:
                    close.append((share, other))
        self._confusable[word] = sorted(close)
        return self._confusable[word]

    def _aligned(self, sentence: str, audio: bytes) -> tuple[float, list[tuple[int, int]]] | None:
        """Forced alignment of ``audio`` to ``sentence``: (path log score, (first, last frame) per
        word), or None when it does not align."""
        decoder = self._decoder
        try:
            decoder.set_align_text(sentence)
        except (RuntimeError, ValueError):
            return None
        self._active_search = ""  # the alignment search is active now
        decoder.start_utt()
        decoder.process_raw(audio, False, True)
        decoder.end_utt()
        hyp = decoder.hyp()
        if hyp is None:
            return None
        spans = [(seg.start_frame, seg.end_frame) for seg in decoder.seg() if not _is_filler(seg.word)]
        return _log(hyp.score), spans

    def _second_skipped(self, sentence: str) -> bool:
        """The grammar heard an intent of :data:`SECOND_OPINION_SKIP_INTENTS` (no second decode)."""
        if not SECOND_OPINION_SKIP_INTENTS or not sentence or self.grammar is None:
            return False
        parsed = self.grammar.parse(sentence, "command")
        return parsed is not None and parsed.intent in SECOND_OPINION_SKIP_INTENTS

    def _activate(self, search: str) -> None:
        if search in self._fsg_sources:
            self._build_fsg(search)
        if self._active_search != search:  # current_search() crashes when none is active yet
            if search == SECOND_OPINION_SEARCH and SECOND_OPINION_LOOKAHEAD is not None:
                config = self._decoder.config
                window = config["pl_window"]
                config["pl_window"] = SECOND_OPINION_LOOKAHEAD  # read by activate_search
                try:
                    self._decoder.activate_search(search)
                finally:
                    config["pl_window"] = window
            else:
                self._decoder.activate_search(search)
            self._active_search = search

    def _known_word(self, word: str) -> bool:
        return set(word) <= _JSGF_WORD_OK and self._decoder.lookup_word(word) is not None

    def _add_spoken_grammar(self, grammar: SpokenGrammar, wake_phrase: str) -> None:
        if wake_phrase:
            grammar = replace(grammar, wake_phrase=normalize_phrase(wake_phrase))
        grammar = grammar.pruned(self._known_word)
        if not grammar.intents:
            _LOGGER.warning("catalog grammar is empty; falling back to free-form")
            return
        self.grammar = grammar
        self.dropped_alternatives = grammar.dropped
        modes = ["command", "wake"] if grammar.wake_phrase else ["command"]
        for mode in modes:
            start, final, transitions = grammar_cache.cached_fsg_transitions(
                grammar,
                mode,
                self.cache_dir,
                chatter=mode in CHATTER_MODES,
                chatter_weight=grammar_module.CHATTER_WEIGHT,
                wake_tail=WAKE_TAIL and mode == "wake",
            )
            self._add_fsg_search(mode, start, final, transitions)
            self._grammar_modes.add(mode)
        self.wake_tail = WAKE_TAIL and "wake" in modes and "wake" in CHATTER_MODES and bool(grammar.chatter)
        if spotter_module.SPOTTER and "wake" in CHATTER_MODES and "wake" in modes and grammar.spotted:
            start, final, transitions = grammar_cache.cached_fsg_transitions(
                grammar, "spot", self.cache_dir, chatter=False
            )
            self._add_fsg_search(SPOT_SEARCH, start, final, transitions)
            self.spots = True
            if WAKE_KWS_THRESHOLD and grammar.wake_phrase:
                self._add_keyphrase(WAKE_KWS_SEARCH, "wake.kws", grammar.wake_phrase, WAKE_KWS_THRESHOLD)
                self.wake_kws = True
            keyword = spotter_module.SPOT_KEYWORD
            if keyword and self._known_word(keyword):
                self._add_keyphrase(
                    SPOT_KEYWORD_SEARCH, "spot-keyword.kws", keyword, spotter_module.SPOT_KEYWORD_THRESHOLD
                )
                self.spot_keyword = keyword
            if WAKE_KWS_ALONE_THRESHOLD and grammar.wake_phrase:
                self._add_keyphrase(
                    WAKE_KWS_ALONE_SEARCH, "wake-alone.kws", grammar.wake_phrase, WAKE_KWS_ALONE_THRESHOLD
                )
                self.wake_kws_alone = True

    def _add_fsg_search(self, search: str, start: int, final: int, transitions: list[Any]) -> None:
        """A grammar search: built now, or kept as JSON and built on first activation
        (:data:`RESIDENT_GRAMMAR_SEARCHES`; the last ones added are built now, wake-mode's)."""
        if not RESIDENT_GRAMMAR_SEARCHES:
            self._decoder.add_fsg(search, self._decoder.create_fsg(search, start, final, transitions))
            return
        self._fsg_sources[search] = json.dumps([start, final, transitions], separators=(",", ":"))
        self._build_fsg(search)

    def _build_fsg(self, search: str) -> None:
        """Make ``search`` from :attr:`_fsg_sources` if it is not built, first removing the least
        recently used grammar searches beyond :data:`RESIDENT_GRAMMAR_SEARCHES` (never the active
        one); mark it the most recently used."""
        if search in self._fsg_built:
            self._fsg_built.remove(search)
            self._fsg_built.append(search)
            return
        while len(self._fsg_built) >= RESIDENT_GRAMMAR_SEARCHES:
            victim = next((s for s in self._fsg_built if s != self._active_search), None)
            if victim is None:
                break
            self._fsg_built.remove(victim)
            self._decoder.remove_search(victim)
        start, final, rows = json.loads(self._fsg_sources[search])
        transitions = [tuple(row) for row in rows]
        self._decoder.add_fsg(search, self._decoder.create_fsg(search, start, final, transitions))
        self._fsg_built.append(search)

    def _add_keyphrase(self, search: str, filename: str, phrase: str, threshold: float) -> None:
        """A keyphrase-spotting search for one phrase at one threshold (pocketsphinx reads the
        phrase list from a file in the work directory)."""
        path = os.path.join(self._workdir, filename)
        with open(path, "w", encoding="utf-8") as handle:
            handle.writelines(f"{spelled} /{threshold:g}/\n" for spelled in self._spellings(phrase))
        self._decoder.add_kws(search, path)

    def _spellings(self, phrase: str) -> list[str]:
        """``phrase`` once per pronunciation of its words that have extra ones (``jiayi``,
        ``jiayi(2)`` …: the decoder's names of them) when :data:`WAKE_KWS_ALL_PRONUNCIATIONS`;
        the phrase alone otherwise."""
        if not WAKE_KWS_ALL_PRONUNCIATIONS:
            return [phrase]
        extra = _pronunciations()
        choices = []
        for word in phrase.split():
            names = (
                [word]
                if word not in extra
                else [word] + [f"{word}({i})" for i in range(2, len(extra[word]) + 1)]
            )
            choices.append([n for n in names if self._decoder.lookup_word(n) is not None] or [word])
        return [" ".join(words) for words in itertools.product(*choices)]

    def _wake_then_command(self, raw: str, audio: bytes) -> str:
        """The wake search heard the wake phrase followed by chatter (:data:`WAKE_TAIL`): the
        wake phrase stands, and the same audio is decoded again without the chatter loop (the
        spotter's search), where the wake phrase must be followed by a command, as after the
        wake phrase alone; no such sentence → the wake phrase alone (the listener then waits for
        the command)."""
        assert self.grammar is not None
        wake = self.grammar.wake_phrase
        if not wake or not raw.startswith(wake + " ") or self.grammar.accepts(raw, "wake"):
            return raw
        if not self.spots:
            return wake
        forced = self._decode_with(SPOT_SEARCH, audio)
        parse = self.grammar.parse(forced, "wake") if forced.startswith(wake + " ") else None
        return forced if parse is not None and parse.woke and parse.intent else wake

    def _spot_woken(self, sentence: str, audio: bytes) -> str:
        """The spotter's search (no chatter loop) heard the wake phrase where the wake search did
        not: the wake phrase counts when keyphrase spotting of the wake phrase alone
        (:data:`WAKE_KWS_THRESHOLD`) finds it in the same audio too. Returns the sentence for the
        wake search's reading (the wake phrase, with its command when that is a wake-search
        sentence) or "" (not woken)."""
        assert self.grammar is not None
        wake = self.grammar.wake_phrase
        if not self.wake_kws or not wake or not (sentence == wake or sentence.startswith(wake + " ")):
            return ""
        if wake not in self._decode_with(WAKE_KWS_SEARCH, audio):
            return ""
        parse = self.grammar.parse(sentence, "wake")
        return sentence if parse is not None and parse.woke else wake

    def _loose_wake(self, audio: bytes) -> tuple[str, str] | None:
        """:data:`WAKE_KWS_LOOSE`: (wake phrase + command, second opinion) when keyphrase spotting
        at the confirming threshold finds the wake phrase near the start of ``audio`` and both
        readings of the audio after it are the same complete command; None otherwise."""
        if not WAKE_KWS_LOOSE or not self.wake_kws:
            return None
        end = self._kws_wake_end(audio, WAKE_KWS_SEARCH)
        return None if end is None else self._wake_confirmed(audio[end:])

    def _kws_wake_end(self, audio: bytes, search: str = WAKE_KWS_ALONE_SEARCH) -> int | None:
        """:data:`WAKE_KWS_ALONE_THRESHOLD`: byte offset where the wake phrase ends when strict
        keyphrase spotting (``search``) finds it near the start of ``audio``; None otherwise."""
        if search == WAKE_KWS_ALONE_SEARCH and not self.wake_kws_alone:
            return None
        if not self._decode_with(search, audio):
            return None
        frame_samples = SAMPLE_RATE // int(self._decoder.config["frate"])
        max_start = WAKE_KWS_ALONE_MAX_START_S * SAMPLE_RATE / frame_samples
        for _word, start, end in self.last_words:
            if start <= max_start:
                return (end + 1) * frame_samples * 2
        return None

    def _wakes_or_spots(self, sentence: str) -> bool:
        """The wake search's sentence starts with the wake phrase or is an emergency itself."""
        assert self.grammar is not None
        parse = self.grammar.parse(sentence, "wake") if sentence else None
        return parse is not None and (parse.woke or parse.intent in self.grammar.spotted)

    def _spotted_by_wake(self, sentence: str) -> bool:
        """The wake search's own sentence (with its chatter loop) is an emergency, to be verified
        as a spotter candidate is (:data:`spotter.VERIFY_WAKE_EMERGENCY`)."""
        assert self.grammar is not None
        if not spotter_module.VERIFY_WAKE_EMERGENCY or not sentence:
            return False
        parse = self.grammar.parse(sentence, "wake")
        return parse is not None and not parse.woke and parse.intent in self.grammar.spotted

    def _stage_two(self, audio: bytes) -> tuple[tuple[str, ...], str]:
        """Stage 2's readings of a candidate emergency: the free transcripts (best first) and the
        second opinion's ("" without one)."""
        best, others = self.free.transcribe(audio)
        spot_second = ""
        if spotter_module.SPOT_SECOND_OPINION and self.has_second_opinion:
            spot_second = self._decode_with(SECOND_OPINION_SEARCH, audio)
        return (best, *others), spot_second

    def _spot_keyword(self, candidate: str, audio: bytes) -> str:
        """:data:`spotter.SPOT_KEYWORD` when the candidate says it and keyphrase spotting finds it
        in ``audio`` too; "" otherwise."""
        if not self.spot_keyword or self.spot_keyword not in candidate.split():
            return ""
        return self.spot_keyword if self._decode_with(SPOT_KEYWORD_SEARCH, audio) else ""

    def _spot_phrase(self, candidate: str, audio: bytes, readings: tuple[str, str] | None = None) -> str:
        """:data:`spotter.SPOT_PHRASE_THRESHOLD`: the candidate's emergency words (without stage
        1's fillers, :func:`spotter.candidate_core`; the whole candidate when that leaves one word)
        when keyphrase spotting of them as one phrase finds them in ``audio``; "" otherwise (off,
        or a single word: "help" alone is said in harmless sentences too, round 15). With stage 2's
        ``readings`` (free, second opinion): "" without looking when the listener could not ask on
        it anyway (no free reading, or one says more than the candidate: :func:`spotter.contradicts`),
        which saves three decodes on television-length candidates and decides the same."""
        threshold = spotter_module.SPOT_PHRASE_THRESHOLD
        if not threshold or not candidate:
            return ""
        if readings is not None and (
            not readings[0] or any(spotter_module.contradicts(candidate, t) for t in readings if t)
        ):
            return ""
        core = spotter_module.candidate_core(candidate, self._spotted)
        if len(core.split()) < spotter_module.SPOT_PHRASE_MIN_WORDS:
            core = candidate  # "help help": its core "help" alone is said in harmless sentences
        if len(core.split()) < spotter_module.SPOT_PHRASE_MIN_WORDS or not self._known(core):
            return ""
        path = os.path.join(self._workdir, "spot-phrase.kws")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(f"{core} /{threshold:g}/\n")
        self._decoder.add_kws(SPOT_PHRASE_SEARCH, path)  # replaces the last candidate's search
        self._active_search = ""  # activate the new search even when the name was active
        if not self._decode_with(SPOT_PHRASE_SEARCH, audio):
            return ""
        least = spotter_module.SPOT_PHRASE_MIN_FIT
        return core if least is None or self._candidate_fit(candidate, audio) >= least else ""

    def _candidate_fit(self, sentence: str, audio: bytes) -> float:
        """How well ``sentence`` fits the whole of ``audio``: its forced alignment's acoustic log
        score per frame minus a free phone loop's (:data:`CONFIDENCE_SCORE_UNIT` scaled; ≤ 0
        mostly, -inf when it does not align). The phone loop search is added on first use."""
        aligned = self._aligned(sentence, audio)
        if aligned is None:
            return -math.inf
        frames = max(1, int(self._decoder.n_frames()))
        if not self._phones_added:
            if not self.phone_loop:
                self._decoder.add_allphone_file("phones", None)
            self._phones_added = True
        self._activate("phones")
        self._decoder.start_utt()
        self._decoder.process_raw(audio, False, True)
        self._decoder.end_utt()
        loop = sum(_log(seg.ascore) for seg in self._decoder.seg())
        if RELEASE_AFTER_DECODE:
            release_search(self._decoder)
        return (aligned[0] - loop) / frames * CONFIDENCE_SCORE_UNIT

    def _spotted(self, sentence: str) -> bool:
        """Stage 1: the chatter-free search's sentence is an emergency (without the wake phrase)."""
        assert self.grammar is not None
        parse = self.grammar.parse(sentence, SPOT_SEARCH) if sentence else None
        return parse is not None and not parse.woke and parse.intent in self.grammar.spotted

    def _known(self, phrase: str) -> bool:
        return all(
            set(w) <= _JSGF_WORD_OK and self._decoder.lookup_word(w) is not None for w in phrase.split()
        )

    def _add_grammar(self, name: str, phrases: list[str]) -> None:
        usable = [p for p in phrases if self._known(p)]
        dropped = [p for p in phrases if p not in usable]
        if dropped:
            self.dropped_phrases.extend(dropped)
            _LOGGER.warning(
                "%s grammar: %d phrase(s) use words pocketsphinx does not know", name, len(dropped)
            )
        if not usable:
            _LOGGER.warning("%s grammar is empty; falling back to free-form", name)
            return
        self._decoder.add_jsgf_string(name, _jsgf(name, usable))
        self._allowed[name] = frozenset(usable)

    def _search_for(self, mode: Mode) -> str:
        if mode in self._allowed or mode in self._grammar_modes or mode in self._lm_modes:
            return mode
        if not self._free_loaded:
            self._decoder.add_lm_file("free", self._lm_path)
            self._free_loaded = True
        return "free"

    def begin(self, mode: Mode = "command") -> _PsDecoder:
        self.free.unload_if_idle()
        return _PsDecoder(self, mode)

    def close(self) -> None:
        self._decoder = None
        self.free.close()
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = ""
