"""The one factory: audio → endpointing → recognizer → understanding.

The daemon, ``jiayi understand --wav``, ``jiayi listen``, the tests and ``bench/`` all build their
pipeline here, so none of them can test an easier path than the product runs::

    pipeline = build_pipeline(settings)                  # the daemon's own set-up
    pipeline.understand_text("call my doctor")           # typed input
    pipeline.understand_wav("command.wav")               # a recording, fresh decoder state
    listener = pipeline.listener(put)                    # live audio on a thread (the daemon)

:class:`PipelineOptions` is the only way to change it, and every option is documented; a test
that decodes with a smaller grammar sets :attr:`PipelineOptions.phrase_list` and says
``phrase_list`` in its name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, Protocol

from assistant.hearing.endpointing import EndpointConfig
from assistant.hearing.grammar import SpokenGrammar
from assistant.hearing.listener import (
    GRAMMAR_PHRASE_LIMIT,
    Listener,
    PushToTalk,
    UtteranceRecognized,
    understand_best,
)
from assistant.hearing.recognizer import (
    EngineSpec,
    Mode,
    Recognizer,
    Transcript,
    UtteranceDecoder,
    normalize_phrase,
)
from assistant.hearing.sources import AudioSource, WavSource
from assistant.ops.settings import Settings
from assistant.understanding.catalog import Catalog
from assistant.understanding.result import Understanding
from assistant.understanding.symptoms import is_urgent

Put = Callable[[object], None]

DAEMON_GRAMMAR_OPTIONS: Final = {"chatter": True, "determiners": False, "fillers": False}
"""How the daemon compiles the catalog into a spoken grammar: the catalog's templates as written,
plus the chatter (garbage) words, which only the wake search uses
(``pocketsphinx_engine.CHATTER_MODES``): in the command search the loop rejected 13 % of clean
and 55 % of 6 dB Picovoice commands and made decoding five times slower. No optional determiners
or politeness fillers (each made decoding slower and less accurate). Measured in
docs/benchmarks/speech.md. Round 17: ``"fillers": "short"`` (one word of
``grammar.COMMAND_PRE_FILLERS_EN`` / ``COMMAND_POST_FILLERS_EN`` around any command) gave the
same right answers on the tuning commands (224 of 270) with one more wrong action, 117 vs 116
of 135 on the held-out quarter, command search +9 % CPU: not adopted."""


SECOND_ALONE_P: Final = 0.95
"""The grammar rejected the sentence (or read it as out of scope): the wider language model's
transcript is acted on when the understander gives its intent at least this probability."""
SECOND_OVERRULES_P: Final = 0.99
"""The two readings disagree on the intent: the language model's is taken over the grammar's at
or above this probability (in practice a catalog phrase or a wording the learned model is sure
of). Tuning commands: 0.99 rather than never (> 1) gained 8–10 points of accuracy at the same
wrong-action rate; 0.95 gained 1–3 more points but wrong actions at 10 dB rose to 2.7 %."""
OVERRULE_ASK_OVERLAP: Final[float | None] = None
"""The language model overrules the grammar (:data:`SECOND_OVERRULES_P`) although the two
transcripts share at least this share of the grammar's words in order: the readings differ in a
word or two of the same sentence ("call my daughter" / "call my doctor"), a near-homophone the
audio does not settle, so the language model's reading is asked back ("Did you say …?",
:data:`OVERRULE_ASK_CONFIDENCE`) instead of acted on. None = always acted on: replayed on the
tuning half of dev (docs/benchmarks/speech.md, round 12), 0.5 / 0.67 cost 2.7–8.1 / 1.8–3.6
points of accuracy for one wrong action fewer in 333 (the overruling readings are mostly right)."""
OVERRULE_ASK_CONFIDENCE: Final = 0.9
"""Confidence of such an overruling reading (in the "Did you say …?" band of the defaults)."""
OVERRULE_ASK_PERSON: Final[str | None] = None
"""The language model overrules the grammar (another intent, :data:`SECOND_OVERRULES_P` sure) and
a reading phones someone (:data:`PERSON_INTENTS`): ask "Did you say …?"
(:data:`OVERRULE_ASK_CONFIDENCE`) on the language model's reading instead of acting on it.
``"second"``: when the language model's reading names one ("please ring my doctor" over the
grammar's "when is my appointment"); ``"either"``: when either reading does; None = acted on.
Replayed on the tuning quarter (round 17, two runs, 540 readings): "second" lost 21 right answers
for 5 wrong actions fewer ("either" 26 for 5), as round 12's overlap rule: off."""
SLOTS_DIFFER_ASK: Final[frozenset[str]] = frozenset({"contact", "doctor", "medication"})
"""The two readings give the same intent but one of these slots (whom to call, which medicine)
differs ("call Anna" / "call David"): ask "Did you say …?" (:data:`OVERRULE_ASK_CONFIDENCE`) on
the language model's reading when it is
:data:`SECOND_OVERRULES_P` sure, else on the grammar's, instead of acting on either (round 14,
docs/benchmarks/speech.md; an empty set = round 12's rule: the sure language-model reading acts;
symptoms are not in it: replayed on the tuning half, asking on them lost 4 right of 333, no
wrong action)."""
PERSON_INTENTS: Final = frozenset({"call_contact", "call_doctor"})
"""Intents that phone someone (:data:`OVERRULE_ASK_PERSON`; "ring my doctor" has no slot)."""
RIVAL_ASK_MARGIN: Final[float | None] = None
"""The reading decided on (both agreeing included) has a near-homophone rival in a configured
value ("call my daughter" / "call my doctor", ``UtteranceRecognized.rivals``) that the
understander reads as another command or person and that fits the audio within this margin
(acoustic log score per frame of the differing word, forced alignment of both sentences): ask
"Did you say …?" (:data:`OVERRULE_ASK_CONFIDENCE`) instead of acting. None = off."""
GRAMMAR_ALONE_OVERLAP: Final = 0.5
"""The readings disagree, the language model's transcript has no intent (or one the understander
gives less than :data:`GRAMMAR_ALONE_MAX_P`): the grammar's reading is still acted on when at
least this share of its words appear, in order, in the language model's transcript (the two
decoders heard mostly the same words; the grammar had the catalog's wording)."""
GRAMMAR_ALONE_MAX_P: Final = 0.7
"""See :data:`GRAMMAR_ALONE_OVERLAP`."""
EMERGENCY_NEEDS_BOTH: Final = True
"""An emergency decided from one reading only (the language model's alone or overruling, or the
grammar's alone) is not acted on silently but asked about, as the distress spotter's one-reading
candidates are ("Did you call for help?", ``Understanding.spot_check``: yes / help / silence →
the emergency, no → nothing). Both readings an emergency → acted on as before. Always listening
on household talk, a sentence one decoder forces onto an emergency was a false alarm
(docs/benchmarks/speech.md, round 14)."""
SECOND_EMERGENCY_ACTS_P: Final[float | None] = None
"""A command (not the spotter's, ``heard.spotted``) whose emergency only the language model's
reading gives, at least this sure, is acted on instead of asked ("Did you call for help?",
:data:`EMERGENCY_NEEDS_BOTH`). Round 19 (cmd19, docs/benchmarks/speech.md), replayed on kitchen +
living room 10 dB: 0.99 — "i can not get up off the floor" heard whole by the language model, the
grammar forcing a symptom — 283 → 289 right of 348 on the tuning half, wrong actions 11 → 11; the
unseen half 145 → 145 of 174 (no such reading there); 0.95 (the danger-word rule's floor) +9 right
but one wrong ("is ireland mayday outside" for "it is a lovely day outside"). None = off: no gain
on unseen audio."""
CONFIRMED_ACTS: Final = False
"""A grammar reading the pipeline would not act on (rejected or asked back) that the grammar heard
again, same intent and slots, on the front-end's side stream
(:attr:`assistant.hearing.listener.UtteranceRecognized.confirmed`,
:data:`assistant.hearing.listener.SIDE_CONFIRM`) is acted on, unless the language model's reading
is a sure other command (:data:`GRAMMAR_ALONE_MAX_P`), another person or medicine
(:data:`SLOTS_DIFFER_ASK`), or it is an emergency. Round 19 (cmd19, docs/benchmarks/speech.md):
the confirmed grammar readings the pipeline left were 8 more right and 9 more wrong actions of 348
(tuning half, kitchen + living room 10 dB; the asked-back ones alone +5 right, +2 wrong — "can
annie phone me" for "can you phone the surgery for me"); off."""
GRAMMAR_ALONE_CONFIDENCE: Final = 0.6
"""Confidence reported for a grammar reading the language model did not confirm (agreement: 1.0;
the language model alone: the understander's probability)."""


class Understander(Protocol):
    """The understanding stage's seam: text in, :class:`Understanding` out."""

    lang: str
    catalog: Catalog

    def match(self, text: str) -> Understanding: ...

    def grammar_phrases(self, limit: int) -> Sequence[str]: ...


@dataclass(frozen=True)
class PipelineOptions:
    """How a pipeline differs from the daemon's. The defaults are the daemon's."""

    isolated: bool = True
    """Recognizer in a supervised child process (the daemon: survives native crashes). ``False``
    decodes in this process with a recognizer cached per engine spec (CLI, tests, benchmarks)."""

    lang: str | None = None
    """Language of the catalog and recognizer; ``None`` = ``settings.language``."""

    wake_phrase: str | None = None
    """Wake phrase for the listener; ``None`` = ``settings.voice.wake_phrase``, ``""`` = none."""

    phrase_list: tuple[str, ...] | None = None
    """Tests only: decode with this fixed list of phrases instead of the catalog's compiled grammar
    and language model (the product never does this). Tests that set it carry ``phrase_list`` in
    their name."""


class Pipeline:
    """A built pipeline: one understander, one recognizer spec, and ways to run them."""

    def __init__(self, settings: Settings, understander: Understander, options: PipelineOptions) -> None:
        self.settings = settings
        self.understander = understander
        self.options = options
        self.lang = understander.lang
        self.wake_phrase = (
            wake_phrase_for(settings, self.lang) if options.wake_phrase is None else options.wake_phrase
        )
        self._spec: EngineSpec | None = None

    # -------------------------------------------------------------------------- understanding

    def understand_text(self, text: str) -> Understanding:
        """Typed input, or a transcript: the understanding stage alone."""
        return self.understander.match(text)

    def understand_heard(self, heard: UtteranceRecognized) -> Understanding:
        """A recognized utterance → understanding: with a second opinion (``heard.second``) the
        two readings decide together (:meth:`understand_two_readings`); a sentence decoded with
        the catalog grammar carries its own intent and slots (:meth:`understand_parsed`); other
        transcripts (1-best plus any alternatives) go to the understander."""
        if heard.second:
            return self.understand_two_readings(heard)
        if heard.parsed:
            return self.understand_parsed(heard)
        return understand_best(self.understander, heard.transcript, heard.alternatives)

    def understand_parsed(self, heard: UtteranceRecognized) -> Understanding:
        """The grammar's reading of a decoded sentence, with the confidence decision
        (``asr.act_confidence`` / ``asr.confirm_confidence``, :func:`decide`): a reject intent
        or a confidence below ``confirm_confidence`` is no intent ("please say it again")."""
        catalog = self.understander.catalog
        intent_def = catalog.intents.get(heard.intent or "")
        confidence = 1.0 if heard.confidence is None else heard.confidence
        intent = None if intent_def is None or intent_def.reject else intent_def.id
        decision = decide(confidence, self.settings) if intent is not None else "repeat"
        if decision == "repeat":
            intent = None
        slots = dict(heard.slots) if intent is not None else {}
        return Understanding(
            text=heard.transcript,
            lang=self.lang,
            intent=intent,
            slots=slots,
            confidence=confidence,
            margin=1.0,
            tier=catalog.tier(intent) if intent is not None else None,  # type: ignore[arg-type]
            transcript=heard.transcript,
            unsure=decision == "confirm",
            urgent=intent == "report_symptom" and is_urgent(str(slots.get("symptom", ""))),
            spot_check=heard.spot_check and intent is not None and catalog.tier(intent) == "emergency",
        )

    def understand_two_readings(self, heard: UtteranceRecognized) -> Understanding:
        """Confidence from agreement: the grammar's reading (intent + slots of the catalog
        sentence) and the understander's reading of the wider language model's transcript of the
        same audio (``heard.second``). Both give the same intent (and no slot differs): act.
        The grammar rejected the sentence or heard something out of scope: the language model's
        reading alone, when the understander is :data:`SECOND_ALONE_P` sure. They disagree: the
        language model's reading when the understander is :data:`SECOND_OVERRULES_P` sure of it;
        the grammar's when the language model heard mostly the same words and no confident other
        intent (:data:`GRAMMAR_ALONE_OVERLAP`); else "please say it again".
        Tuned on ``bench/data/speech-dev-commands-en.jsonl`` (docs/benchmarks/speech.md)."""
        second = dataclasses.replace(self.understander.match(heard.second), transcript=heard.second)
        grammar = self.understand_parsed(heard) if heard.parsed else None
        nothing = Understanding(
            text=second.text, lang=self.lang, intent=None, confidence=0.0, transcript=heard.transcript
        )
        decided = self._one_of_two_readings(heard, grammar, second, nothing)
        if heard.confirmed and grammar is not None and (decided.intent is None or decided.unsure):
            decided = self._confirmed(grammar, second) or decided
        if decided.intent is not None and not decided.unsure and self._close_rival(heard, decided):
            # both decoders may share a near-homophone ("daughter" / "doctor"): the audio barely
            # prefers the one heard over a word that would call someone else, so ask
            decided = self._decided(decided, min(decided.confidence, OVERRULE_ASK_CONFIDENCE))
        if EMERGENCY_NEEDS_BOTH and self._emergency(decided):
            both = grammar is not None and self._emergency(grammar) and self._emergency(second)
            if (
                SECOND_EMERGENCY_ACTS_P is not None
                and not heard.spotted
                and self._emergency(second)
                and second.confidence >= SECOND_EMERGENCY_ACTS_P
            ):
                both = True  # a command (not the spotter's): the language model's sure emergency
            if not both or heard.spot_check:
                return dataclasses.replace(decided, spot_check=True)
        return decided

    def _confirmed(self, grammar: Understanding, second: Understanding) -> Understanding | None:
        """:data:`CONFIRMED_ACTS`: the grammar's reading, heard again on the side stream, acted on
        when the language model's reading is not a sure other command, person or medicine."""
        if not CONFIRMED_ACTS or grammar.intent is None:
            return None
        if self._emergency(grammar):
            return None  # an emergency from the grammar alone stays asked (EMERGENCY_NEEDS_BOTH)
        if second.intent not in (None, grammar.intent) and second.confidence >= GRAMMAR_ALONE_MAX_P:
            return None
        if second.intent == grammar.intent and any(
            second.slots.get(k, v) != v for k, v in grammar.slots.items() if k in SLOTS_DIFFER_ASK
        ):
            return None
        return self._decided(grammar, 1.0)

    def _close_rival(self, heard: UtteranceRecognized, decided: Understanding) -> bool:
        """The decided reading's words have a near-homophone rival (``heard.rivals``: one
        configured value swapped for one that sounds like it) that fits the audio within
        :data:`RIVAL_ASK_MARGIN` and that the understander reads as another command or another
        person, doctor or medicine."""
        if RIVAL_ASK_MARGIN is None:
            return False
        said = (decided.transcript or decided.text).split()
        for rival, margin in heard.rivals:
            words = rival.split()
            if margin >= RIVAL_ASK_MARGIN or len(words) != len(said):
                continue
            if sum(a != b for a, b in zip(said, words, strict=True)) != 1:
                continue  # a rival of the other reading's words
            other = self.understander.match(rival)
            if other.intent is not None and (
                other.intent != decided.intent
                or any(decided.slots.get(k, v) != v for k, v in other.slots.items() if k in SLOTS_DIFFER_ASK)
            ):
                return True
        return False

    def _emergency(self, u: Understanding) -> bool:
        return u.intent is not None and self.understander.catalog.tier(u.intent) == "emergency"

    def _one_of_two_readings(
        self,
        heard: UtteranceRecognized,
        grammar: Understanding | None,
        second: Understanding,
        nothing: Understanding,
    ) -> Understanding:
        """:meth:`understand_two_readings`' choice between the readings."""
        if grammar is None or grammar.intent is None:
            if second.intent is not None and second.confidence >= SECOND_ALONE_P:
                return self._decided(second, second.confidence)
            return nothing
        if second.intent == grammar.intent and all(
            second.slots[k] == v for k, v in grammar.slots.items() if k in second.slots
        ):
            return self._decided(grammar, 1.0)
        if second.intent == grammar.intent and any(
            second.slots.get(k, v) != v for k, v in grammar.slots.items() if k in SLOTS_DIFFER_ASK
        ):
            # Same command, another person or medicine: which one the audio does not settle,
            # and acting on the wrong one is worse than asking "Did you say …?".
            sure = second if second.confidence >= SECOND_OVERRULES_P else grammar
            return self._decided(sure, OVERRULE_ASK_CONFIDENCE)
        if second.intent is not None and second.confidence >= SECOND_OVERRULES_P:
            if (
                OVERRULE_ASK_OVERLAP is not None
                and word_overlap(heard.transcript, heard.second) >= OVERRULE_ASK_OVERLAP
            ):
                return self._decided(second, min(second.confidence, OVERRULE_ASK_CONFIDENCE))
            if self._names_person(second, grammar):
                return self._decided(second, min(second.confidence, OVERRULE_ASK_CONFIDENCE))
            return self._decided(second, second.confidence)
        heard_again = word_overlap(heard.transcript, heard.second)
        if (
            second.intent is None or second.confidence < GRAMMAR_ALONE_MAX_P
        ) and heard_again >= GRAMMAR_ALONE_OVERLAP:
            return self._decided(grammar, GRAMMAR_ALONE_CONFIDENCE)
        return nothing

    @staticmethod
    def _names_person(second: Understanding, grammar: Understanding) -> bool:
        """:data:`OVERRULE_ASK_PERSON`: whether an overruling reading is asked back."""
        if OVERRULE_ASK_PERSON is None:
            return False
        readings = (second,) if OVERRULE_ASK_PERSON == "second" else (second, grammar)
        return any(u.intent in PERSON_INTENTS for u in readings)

    def _decided(self, understood: Understanding, confidence: float) -> Understanding:
        """``understood`` with ``confidence``: no intent when :func:`decide` says "repeat", marked
        ``unsure`` (the dialogue asks "Did you say …?") when it says "confirm"."""
        decision = decide(confidence, self.settings) if understood.intent is not None else "act"
        if decision == "repeat":
            return dataclasses.replace(understood, intent=None, slots={}, tier=None, confidence=confidence)
        return dataclasses.replace(understood, confidence=confidence, unsure=decision == "confirm")

    # -------------------------------------------------------------------------- hearing

    def grammar(self) -> SpokenGrammar | None:
        """The catalog plus the caregiver's names compiled as spoken (``None`` with a phrase list)."""
        if self.options.phrase_list is not None:
            return None
        return _compiled_grammar(self.understander.catalog, self.settings)

    def phrases(self) -> list[str]:
        """The phrases the recognizer's grammar is built from."""
        if self.options.phrase_list is not None:
            return list(self.options.phrase_list)
        return list(self.understander.grammar_phrases(GRAMMAR_PHRASE_LIMIT))

    def engine_spec(self) -> EngineSpec:
        """Which engine, model and grammar decode (from ``settings.asr``), built once."""
        if self._spec is None:
            from assistant.hearing.recognizer import choose_engine

            spec = choose_engine(self.settings, self.phrases(), self.grammar(), lang=self.lang)
            self._spec = dataclasses.replace(spec, wake_phrase=self.wake_phrase)
        return self._spec

    def recognizer(self) -> Recognizer:
        """A supervised child-process recognizer (``isolated``) or the in-process cached one."""
        from assistant.hearing.recognizer import IsolatedRecognizer

        spec = self.engine_spec()
        return IsolatedRecognizer(spec) if self.options.isolated else cached_recognizer(spec)

    def listener(
        self,
        put: Put,
        *,
        source: AudioSource | None = None,
        push_to_talk: PushToTalk | None = None,
        emit_levels: bool = False,
        recognizer: Recognizer | None = None,
        decodes: list[tuple[str, bytes, Transcript]] | None = None,
    ) -> Listener:
        """The hearing stage on a thread: ``source`` (default: ``settings.audio``) → events to ``put``.
        ``decodes`` (tests, benches): every decode's (mode, audio it was given, transcript) is
        appended there, the listener being the daemon's in every other respect."""
        if source is None:
            from assistant.hearing.sources import open_source

            source = open_source(self.settings.audio)
        from assistant.hearing.frontend import make_frontend

        chosen = recognizer or self.recognizer()
        return Listener(
            source,
            chosen if decodes is None else RecordingRecognizer(chosen, decodes),
            put,
            wake_phrase=self.wake_phrase,
            endpoint_config=EndpointConfig.from_asr(self.settings.asr),
            push_to_talk=push_to_talk,
            emit_levels=emit_levels,
            log_transcripts=self.settings.privacy.log_transcripts,
            grammar=self.reading_grammar() if recognizer is None else None,
            frontend=make_frontend(self.settings.asr.noise_filter),
            verify=self.heard_emergency,
            judge=self.takes_heard,
        )

    def takes_heard(self, heard: UtteranceRecognized, acts: bool = False) -> bool:
        """Whether the pipeline acts on ``heard`` or asks about it (not "please say it again"):
        the listener's test for decoding a command again (:data:`assistant.hearing.listener.SIDE_RETRY`).
        ``acts``: whether it acts on it without asking (:data:`assistant.hearing.listener.SIDE_CONFIRM`)."""
        understood = self.understand_heard(heard)
        if not acts:
            return understood.intent is not None
        return understood.intent is not None and not understood.unsure and not understood.spot_check

    def heard_emergency(self, free_transcript: str, second_opinion: bool = False) -> bool:
        """The distress spotter's second stage: the understanding stage reads the free
        transcript of a candidate emergency as an emergency (:mod:`assistant.hearing.spotter`).
        ``second_opinion``: the transcript is the wider language model's, which leans towards
        the domain, so it counts only when the understander is as sure as it must be to take that
        model's reading alone for a command (:data:`SECOND_ALONE_P`)."""
        from assistant.hearing.spotter import heard_emergency

        return heard_emergency(self.understander, free_transcript, SECOND_ALONE_P if second_opinion else 0.0)

    def reading_grammar(self) -> SpokenGrammar | None:
        """The grammar transcripts are read back through (intent + slots straight from the
        decoded sentence), or None when the words go to the understander instead (language-model
        decoding, free-form, a test's phrase list)."""
        spec = self.engine_spec()
        if spec.language_model or self.options.phrase_list is not None or not self.settings.asr.grammar:
            return None
        grammar = self.grammar()
        if grammar is None:
            return None
        reading = dataclasses.replace(grammar, wake_phrase=normalize_phrase(self.wake_phrase))
        if spec.cache_dir:  # the tables kept in models/ beside the recognizer's (memory)
            from assistant.hearing.grammar_cache import preload_reading_tables

            preload_reading_tables(reading, spec.cache_dir)
        return reading

    def listen_wav(self, path: str | Path, *, recognizer: Recognizer | None = None) -> list[object]:
        """Every listener event for a WAV file, in order, decoded as fast as it goes."""
        events: list[object] = []
        listener = self.listener(events.append, source=WavSource(path), recognizer=recognizer)
        listener.source.start()
        listener.run_until_end()
        return events

    def transcribe_wav(self, path: str | Path) -> str:
        """Accepted transcripts of all utterances in a file, joined by spaces ("" = none)."""
        heard = [e for e in self.listen_wav(path) if isinstance(e, UtteranceRecognized)]
        return " ".join(e.transcript for e in heard)

    def understand_wav(self, path: str | Path) -> Understanding:
        """``jiayi understand --wav``: hearing then understanding on a recording (a fresh
        listener, front-end and decoder state per file: the result never depends on other files)."""
        heard = [e for e in self.listen_wav(path) if isinstance(e, UtteranceRecognized)]
        transcript = " ".join(e.transcript for e in heard)
        if not transcript:
            return Understanding(text="", lang=self.lang, intent=None, transcript="")
        if len(heard) == 1 or heard[0].parsed:
            understood = [self.understand_heard(e) for e in heard]
            return next((u for u in understood if u.intent is not None), understood[0])
        return dataclasses.replace(self.understander.match(transcript), transcript=transcript)


DEFAULT_WAKE_PHRASES: Final = {"en": "hello jiayi", "zh": "你好家医"}
"""The default wake phrase (``voice.wake_phrase``'s default) said in each language."""


def wake_phrase_for(settings: Settings, lang: str) -> str:
    """``voice.wake_phrase``, with the English default said in ``lang`` (你好家医 for Mandarin)."""
    phrase = settings.voice.wake_phrase
    if phrase == DEFAULT_WAKE_PHRASES["en"]:
        return DEFAULT_WAKE_PHRASES.get(lang, phrase)
    return phrase


def word_overlap(sentence: str, other: str) -> float:
    """Share of ``sentence``'s words that appear in ``other`` in the same order (longest common
    subsequence / words of ``sentence``; 0 for an empty sentence)."""
    a, b = sentence.split(), other.split()
    if not a:
        return 0.0
    row = [0] * (len(b) + 1)
    for word in a:
        diagonal = 0
        for j, other_word in enumerate(b):
            above = row[j + 1]
            row[j + 1] = diagonal + 1 if word == other_word else max(row[j + 1], row[j])
            diagonal = above
    return row[-1] / len(a)


Decision = Literal["act", "confirm", "repeat"]


def decide(confidence: float, settings: Settings) -> Decision:
    """What to do with a heard command of this acoustic confidence: act at or above
    ``asr.act_confidence``, ask "Did you say …?" at or above ``asr.confirm_confidence``, else ask
    to repeat."""
    if confidence >= settings.asr.act_confidence:
        return "act"
    if confidence >= settings.asr.confirm_confidence:
        return "confirm"
    return "repeat"


def build_understander(settings: Settings, lang: str | None = None) -> Understander:
    """The understanding stage for ``lang`` (default ``settings.language``) on the catalog the
    settings choose (``understanding.catalog``; CatalogError when it does not load): distress
    detector, learned model (cached in the state dir), catalog matcher, slots and polarity
    (:mod:`assistant.understanding.understander`)."""
    from assistant.understanding.catalog_files import load_catalog_for
    from assistant.understanding.understander import Understander as Stage

    return Stage.from_settings(settings, lang or settings.language, catalog=load_catalog_for(settings, lang))


def build_pipeline(
    settings: Settings,
    options: PipelineOptions = PipelineOptions(),
    *,
    understander: Understander | None = None,
) -> Pipeline:
    """The pipeline for ``settings`` (see :class:`PipelineOptions` for the only ways it may differ)."""
    lang = options.lang or settings.language
    return Pipeline(settings, understander or build_understander(settings, lang), options)


# ------------------------------------------------------------------------------ caches

_RECOGNIZERS: dict[EngineSpec, Recognizer] = {}
_GRAMMARS: dict[tuple[int, Settings], tuple[Catalog, SpokenGrammar]] = {}


class RecordingRecognizer:
    """``inner`` as it is, noting every decode in ``decodes``: (mode, the audio the decoder was
    given, its transcript) (:meth:`Pipeline.listener`'s ``decodes``). Everything else (side
    stream, decode-ahead, retry, engine, lang) is the wrapped recognizer's and decoder's own."""

    def __init__(self, inner: Recognizer, decodes: list[tuple[str, bytes, Transcript]]) -> None:
        self._inner = inner
        self._decodes = decodes

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def begin(self, mode: Mode = "command") -> UtteranceDecoder:
        return _RecordingDecoder(self._inner.begin(mode), mode, self._decodes)


class _RecordingDecoder:
    def __init__(
        self, decoder: UtteranceDecoder, mode: str, decodes: list[tuple[str, bytes, Transcript]]
    ) -> None:
        self._decoder = decoder
        self._mode = mode
        self._decodes = decodes
        self._audio = bytearray()

    def __getattr__(self, name: str) -> object:
        return getattr(self._decoder, name)

    def accept(self, pcm: bytes) -> None:
        self._audio += pcm
        self._decoder.accept(pcm)

    def finish(self) -> Transcript:
        result = self._decoder.finish()
        self._decodes.append((self._mode, bytes(self._audio), result))
        return result


def cached_recognizer(spec: EngineSpec) -> Recognizer:
    """In-process recognizer, built once per spec (models load once per process)."""
    if spec not in _RECOGNIZERS:
        from assistant.hearing.recognizer import build_recognizer

        _RECOGNIZERS[spec] = build_recognizer(spec)
    return _RECOGNIZERS[spec]


def _compiled_grammar(catalog: Catalog, settings: Settings) -> SpokenGrammar:
    key = (id(catalog), settings)
    cached = _GRAMMARS.get(key)
    if cached is None or cached[0] is not catalog:
        from assistant.hearing.grammar import compile_grammar

        cached = (catalog, compile_grammar(catalog, settings, **DAEMON_GRAMMAR_OPTIONS))
        _GRAMMARS[key] = cached
    return cached[1]
