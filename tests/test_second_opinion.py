"""The command search's second opinion: the wider language model (paraphrase corpus + catalog)
decodes the same audio as the catalog grammar, and the pipeline acts on the two readings together
(agreement acts; a sure language-model reading stands in when the grammar rejects or overrules
it; an unsure disagreement asks again). Real understander, real pocketsphinx, flite speech."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import speech  # noqa: E402
import speech_data as data  # noqa: E402

from assistant.hearing import langmodel  # noqa: E402
from assistant.hearing.listener import UtteranceRecognized  # noqa: E402
from assistant.pipeline import (  # noqa: E402
    GRAMMAR_ALONE_CONFIDENCE,
    Pipeline,
    PipelineOptions,
    build_pipeline,
    word_overlap,
)


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    return build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=""))


def heard(transcript: str, second: str, *, intent: str | None = None, slots=()) -> UtteranceRecognized:
    """What the listener puts for one utterance: the grammar's parse (``intent``; None = the
    grammar rejected it and ``transcript`` is the language model's) and the second reading."""
    return UtteranceRecognized(
        transcript,
        "en",
        "pocketsphinx",
        0.0,
        0.0,
        0.0,
        parsed=intent is not None,
        intent=intent,
        slots=tuple(slots),
        second=second,
    )


def test_word_overlap_is_the_share_of_words_heard_again_in_order() -> None:
    assert word_overlap("i need new prescription", "i need the neighbours shin") == 0.5
    assert word_overlap("call my daughter", "call my daughter") == 1.0
    assert word_overlap("a b c", "c b a") == pytest.approx(1 / 3)
    assert word_overlap("", "anything") == 0.0


def test_corpus_sentences_fill_placeholders_with_the_caregivers_names(pipeline) -> None:
    sentences = langmodel.corpus_sentences(pipeline.grammar())
    texts = [t for t, _ in sentences]
    assert len(texts) > 5000
    assert not any("{" in t or "}" in t for t in texts)
    assert all(t == t.lower() and not any(ch.isdigit() for ch in t) for t in texts)
    words = {w for t in texts for w in t.split()}
    assert {"anna", "david", "amlodipine", "chen"} <= words  # config names, not the corpus pools


def test_both_readings_agree_so_it_acts(pipeline) -> None:
    u = pipeline.understand_heard(heard("what time is it", "what time is it", intent="time_query"))
    assert (u.intent, u.confidence) == ("time_query", 1.0)


def test_grammar_rejected_a_sentence_the_understander_is_sure_of(pipeline) -> None:
    u = pipeline.understand_heard(heard("give the surgery a ring for me", "give the surgery a ring for me"))
    assert u.intent == "call_doctor"
    assert u.transcript == "give the surgery a ring for me"


def test_grammar_rejected_and_the_second_reading_means_nothing(pipeline) -> None:
    u = pipeline.understand_heard(heard("the cat wants feeding", "the cat wants feeding"))
    assert u.intent is None


def test_readings_that_disagree_on_the_intent_ask_again(pipeline) -> None:
    u = pipeline.understand_heard(
        heard(
            "call my daughter", "call my daughter doctor", intent="call_contact", slots=[("contact", "Anna")]
        )
    )
    assert u.intent is None  # the understander gives call_doctor 0.95: not sure enough to overrule


def test_a_sure_second_reading_overrules_the_grammar(pipeline) -> None:
    u = pipeline.understand_heard(
        heard("call my daughter", "call my doctor", intent="call_contact", slots=[("contact", "Anna")])
    )
    assert u.intent == "call_doctor"


def test_same_command_for_another_person_asks_did_you_say(pipeline) -> None:
    """Round 14: the readings agree on calling but not on whom: ask, never ring the wrong one."""
    u = pipeline.understand_heard(
        heard("call my daughter", "call david", intent="call_contact", slots=[("contact", "Anna")])
    )
    assert (u.intent, u.slots, u.unsure) == ("call_contact", {"contact": "David"}, True)
    agreed = pipeline.understand_heard(
        heard("call my daughter", "call anna", intent="call_contact", slots=[("contact", "Anna")])
    )
    assert (agreed.intent, agreed.unsure) == ("call_contact", False)


def test_grammar_alone_when_the_second_reading_heard_mostly_the_same_words(pipeline) -> None:
    u = pipeline.understand_heard(
        heard("i need new prescription", "i need the neighbours shin", intent="reorder_medication")
    )
    assert (u.intent, u.confidence) == ("reorder_medication", GRAMMAR_ALONE_CONFIDENCE)
    # ... but not when the words are mostly different
    u = pipeline.understand_heard(heard("pardon", "ah order the", intent="repeat"))
    assert u.intent is None


def test_out_of_scope_by_the_grammar_and_no_confident_second_reading(pipeline) -> None:
    u = pipeline.understand_heard(heard("play some music", "play the music", intent="out_music_media"))
    assert u.intent is None


def test_only_the_built_in_catalog_gets_the_corpus_language_model(pipeline) -> None:
    assert pipeline.engine_spec().second_opinion
    coffee = build_pipeline(
        speech.settings_with(speech.COFFEE_CONFIG, []), PipelineOptions(isolated=False, wake_phrase="")
    )
    assert not coffee.engine_spec().second_opinion


@pytest.mark.slow
def test_wording_the_catalog_lacks_is_understood_from_speech(pipeline) -> None:
    """Real speech: a sentence the catalog grammar has no template for, three voices, clean."""
    assert pipeline.grammar().parse("my back is killing me") is None
    for voice in data.VOICES:
        wav = data.spoken("my back is killing me", voice, None, 0, seed=1)
        u = pipeline.understand_wav(wav)
        assert u.intent == "report_symptom", (voice, u)
        assert u.slots.get("symptom") == "back_pain", (voice, u)


def test_a_middling_confidence_asks_did_you_say(pipeline) -> None:
    # asr.act_confidence / asr.confirm_confidence (defaults 0.99 / 0.6, chosen on the tuning set):
    # a reading the two decoders do not share is marked unsure, and the dialogue asks "Did you say …?".
    import dataclasses

    settings = pipeline.settings
    always = dataclasses.replace(settings, asr=dataclasses.replace(settings.asr, act_confidence=0.0))
    p = build_pipeline(
        always, PipelineOptions(isolated=False, wake_phrase=""), understander=pipeline.understander
    )
    grammar_only = heard("what time is it", "what is the tie", intent="time_query")
    u = pipeline.understand_heard(grammar_only)
    assert u.intent == "time_query" and u.confidence == GRAMMAR_ALONE_CONFIDENCE and u.unsure
    assert not p.understand_heard(grammar_only).unsure  # a caregiver's act_confidence 0: act
    agreed = pipeline.understand_heard(heard("what time is it", "what time is it", intent="time_query"))
    assert agreed.intent == "time_query" and not agreed.unsure


def test_second_opinion_gate_skips_the_language_model_for_listed_intents(
    pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SECOND_OPINION_SKIP_INTENTS`` (off in the daemon): a listed intent heard by the grammar
    is its own second opinion (no second decode); anything else still gets both decodes."""
    from assistant.hearing import pocketsphinx_engine as engine
    from assistant.hearing.sources import SAMPLE_RATE

    monkeypatch.setattr(engine, "SECOND_OPINION_SKIP_INTENTS", frozenset({"time_query"}))
    recognizer = pipeline.recognizer()
    searches: list[str] = []
    decode_with = type(recognizer)._decode_with

    def counted(self, search, audio):
        searches.append(search)
        return decode_with(self, search, audio)

    monkeypatch.setattr(type(recognizer), "_decode_with", counted)
    import wave

    for text, second_decoded in (("what time is it", False), ("call my doctor", True)):
        searches.clear()
        with wave.open(str(data.spoken(text, "flite:slt", None, 0, seed=1)), "rb") as handle:
            assert handle.getframerate() == SAMPLE_RATE
            pcm = handle.readframes(handle.getnframes())
        decoder = recognizer.begin("command")
        decoder.accept(pcm)
        transcript = decoder.finish()
        assert transcript.raw == text, transcript
        assert (engine.SECOND_OPINION_SEARCH in searches) is second_decoded, (text, searches)
        if not second_decoded:
            assert transcript.second == transcript.raw


def test_an_overruling_reading_that_names_a_person_can_be_asked_back(pipeline, monkeypatch) -> None:
    """``OVERRULE_ASK_PERSON``: the language model's sure "please ring my doctor" over the grammar's
    "when is my appointment" (round 16) is asked back instead of phoning; off, it acts."""
    from assistant import pipeline as pipeline_module

    readings = heard("when is my appointment", "please ring my doctor", intent="appointment_query")
    acted = pipeline.understand_heard(readings)
    assert (acted.intent, acted.unsure) == ("call_doctor", False)
    monkeypatch.setattr(pipeline_module, "OVERRULE_ASK_PERSON", "second")
    asked = pipeline.understand_heard(readings)
    assert (asked.intent, asked.unsure) == ("call_doctor", True)
    # an overruling reading that calls nobody still acts under "second", not under "either"
    other = heard("call my daughter", "what time is it", intent="call_contact", slots=[("contact", "Anna")])
    assert pipeline.understand_heard(other).unsure is False
    monkeypatch.setattr(pipeline_module, "OVERRULE_ASK_PERSON", "either")
    assert pipeline.understand_heard(other).unsure is True
