"""pocketsphinx engine on real espeak-ng speech: grammar, complete-phrase rejection, free-form
fallback, and the child-process isolation surviving a crash and a hang."""

from __future__ import annotations

import dataclasses
import os
import signal

import pytest
from speechgen import SpeechGen, read_pcm, speechgen_fixture  # noqa: F401

from assistant.hearing.pocketsphinx_engine import PocketsphinxRecognizer
from assistant.hearing.recognizer import EngineSpec, IsolatedRecognizer, RecognizerCrashed

COMMANDS = [
    "call my doctor",
    "what time is it",
    "i took my pills",
    "turn up the volume",
    "i need help",
    "book an appointment",
]


@pytest.fixture(scope="module")
def recognizer() -> PocketsphinxRecognizer:
    return PocketsphinxRecognizer([*COMMANDS, "call zzyzxq now"], "hello doctor")


def _decode(rec, pcm: bytes, mode: str = "command"):
    d = rec.begin(mode)
    for i in range(0, len(pcm), 960):
        d.accept(pcm[i : i + 960])
    return d.finish()


@pytest.mark.parametrize(("voice", "wpm"), [("en-us", 150), ("en-gb", 120)])
def test_grammar_recognizes_complete_phrases(recognizer, speechgen: SpeechGen, voice: str, wpm: int) -> None:
    hits = [_decode(recognizer, read_pcm(speechgen.say(c, voice, wpm))).text for c in COMMANDS]
    assert sum(h == c for h, c in zip(hits, COMMANDS, strict=True)) >= len(COMMANDS) - 1, hits


def test_out_of_grammar_speech_and_silence_are_rejected(recognizer, speechgen: SpeechGen) -> None:
    for text in ("my grandson is coming on sunday", "the weather is lovely today", "what"):
        result = _decode(recognizer, read_pcm(speechgen.say(text)))
        assert result.text == "", (text, result.raw)  # partial phrases never count
    assert _decode(recognizer, b"\x00\x00" * 32000).text == ""


def test_phrases_with_unknown_words_are_dropped(recognizer) -> None:
    assert "call zzyzxq now" in recognizer.dropped_phrases
    assert all("zzyzxq" in p for p in recognizer.dropped_phrases)


def test_wake_grammar_spots_wake_alone_and_with_command(speechgen: SpeechGen) -> None:
    # Its own recognizer: pocketsphinx's live cepstral-mean normalisation adapts to everything a
    # decoder heard before, so a shared one would make this depend on the tests that ran first.
    recognizer = PocketsphinxRecognizer([*COMMANDS, "call zzyzxq now"], "hello doctor")
    assert _decode(recognizer, read_pcm(speechgen.say("hello doctor")), "wake").text == "hello doctor"
    both = _decode(recognizer, read_pcm(speechgen.say("hello doctor what time is it")), "wake").text
    assert both == "hello doctor what time is it"


def test_free_form_fallback_returns_words(speechgen: SpeechGen) -> None:
    rec = PocketsphinxRecognizer(None)
    result = _decode(rec, read_pcm(speechgen.say("what time is it", wpm=130)))
    # free-form English is weak here (see docs/speech.md); it must still produce words
    assert not result.grammar and len(result.text.split()) >= 2


def test_isolated_recognizer_survives_a_crash_and_a_hang(speechgen: SpeechGen) -> None:
    pcm = read_pcm(speechgen.say("call my doctor"))
    rec = IsolatedRecognizer(EngineSpec("pocketsphinx", "en", phrases=tuple(COMMANDS)), finish_timeout_s=2.0)
    try:
        assert _decode(rec, pcm).text == "call my doctor"
        d = rec.begin("command")
        d.accept(pcm[: len(pcm) // 2])
        os.kill(rec.pid, signal.SIGKILL)  # a native crash in the engine
        with pytest.raises(RecognizerCrashed):
            d.accept(pcm[len(pcm) // 2 :])
            d.finish()
        assert _decode(rec, pcm).text == "call my doctor"  # restarted (first restart: no delay)
        assert rec.restarts == 1
        d = rec.begin("command")
        os.kill(rec.pid, signal.SIGSTOP)  # a hang
        d.accept(pcm)
        with pytest.raises(RecognizerCrashed):
            d.finish()
        assert rec.restarts == 2 and rec.pid is None
    finally:
        rec.close()


def test_the_isolated_recognizer_is_one_plain_child_process() -> None:
    # multiprocessing's spawn re-imported the daemon's main module in the child and started a
    # resource-tracker process beside it (13 MB, bench/memory.py); the child is now started directly.
    from pathlib import Path

    rec = IsolatedRecognizer(EngineSpec("pocketsphinx", "en", phrases=tuple(COMMANDS)))
    try:
        children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ") for pid in children]
        assert str(rec.pid) in children
        assert any(b"assistant.hearing.recognizer_child" in c for c in commands)
        assert not any(b"resource_tracker" in c for c in commands)
    finally:
        rec.close()
    assert rec.pid is None


def test_language_model_mode_in_the_child_process(speechgen: SpeechGen) -> None:
    from assistant.hearing.grammar import compile_grammar
    from assistant.hearing.recognizer import choose_engine
    from assistant.ops.config import load_settings
    from assistant.pipeline import DAEMON_GRAMMAR_OPTIONS
    from assistant.understanding.catalog import load_catalog

    settings = load_settings(os.path.join(os.path.dirname(__file__), "..", "config.yaml"))
    grammar = compile_grammar(load_catalog("en"), settings, **DAEMON_GRAMMAR_OPTIONS)
    spec = EngineSpec("pocketsphinx", "en", grammar=grammar, language_model=True)
    rec = IsolatedRecognizer(spec)
    try:
        result = _decode(rec, read_pcm(speechgen.say("what time is it")))
        assert result.text == "what time is it" and result.grammar  # the matcher judges the text
        assert _decode(rec, b"\x00\x00" * 32000).text == ""
    finally:
        rec.close()
    assert not choose_engine(settings, ["what time is it"], grammar).language_model  # asr.decoder: grammar
    lm_settings = dataclasses.replace(
        settings, asr=dataclasses.replace(settings.asr, decoder="language_model")
    )
    assert choose_engine(lm_settings, ["what time is it"], grammar).language_model


def test_language_model_mode_returns_distinct_next_best_transcripts(speechgen: SpeechGen) -> None:
    from assistant.hearing.grammar import compile_grammar
    from assistant.hearing.recognizer import POCKETSPHINX_NBEST, choose_engine, normalize_phrase
    from assistant.ops.config import load_settings
    from assistant.pipeline import DAEMON_GRAMMAR_OPTIONS
    from assistant.understanding.catalog import load_catalog

    settings = load_settings(os.path.join(os.path.dirname(__file__), "..", "config.yaml"))
    grammar = compile_grammar(load_catalog("en"), settings, **DAEMON_GRAMMAR_OPTIONS)
    rec = IsolatedRecognizer(EngineSpec("pocketsphinx", "en", grammar=grammar, language_model=True, nbest=4))
    try:
        result = _decode(rec, read_pcm(speechgen.say("call my doctor", voice="en-gb", wpm=120)))
        assert result.raw and 1 <= len(result.alternatives) <= 4
        assert result.raw not in result.alternatives
        assert len(set(result.alternatives)) == len(result.alternatives)
        assert all(a == normalize_phrase(a) for a in result.alternatives)
        assert _decode(rec, b"\x00\x00" * 32000).alternatives == ()
    finally:
        rec.close()
    lm_settings = dataclasses.replace(
        settings, asr=dataclasses.replace(settings.asr, decoder="language_model")
    )
    assert choose_engine(lm_settings, None, grammar).nbest == POCKETSPHINX_NBEST
