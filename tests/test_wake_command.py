"""A command said after the wake phrase in the same breath ("hello jiayi call my son") is heard the
way the same command said alone is: the audio after the wake phrase (cut at the wake search's
word alignment) is decoded again with the command search and the second opinion, and the
pipeline decides on the two readings (docs/benchmarks/speech.md, round 12). Before, the wake
search's own reading of the command was acted on alone. Real pocketsphinx, flite speech, the
tuning material's wording (bench/data/speech-dev-wake.json)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from speechgen import read_pcm, speechgen_fixture  # noqa: F401  (the `speechgen` fixture)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import speech
import speech_data as data

from assistant.hearing.listener import UtteranceRecognized, WakeDetected
from assistant.pipeline import PipelineOptions, build_pipeline, cached_recognizer


@pytest.fixture(scope="module")
def woken():
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    return build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase="hello jiayi"))


def test_the_command_after_the_wake_phrase_is_cut_at_the_wake_phrase(woken, speechgen) -> None:
    wav = speechgen.say("hello jiayi call my son", "flite:slt", stretch=data.STRETCH)
    pcm = read_pcm(wav)
    recognizer = cached_recognizer(woken.engine_spec())
    assert recognizer._decode_with("wake", pcm) == "hello jiayi call my son"
    cut = recognizer._wake_end("hello jiayi call my son")
    assert cut is not None and 0.5 < cut / 32000 < len(pcm) / 32000 - 0.8, cut
    assert cut % 2 == 0
    assert recognizer._decode_with("command", pcm[cut:]) == "call my son"  # nothing of "jiayi" left
    assert recognizer._wake_end("hello jiayi") is None  # the wake phrase alone: no command to cut
    assert recognizer._wake_end("call my son") is None


def test_the_command_after_the_wake_phrase_gets_the_second_opinion(woken, speechgen) -> None:
    wav = speechgen.say("hello jiayi call my son", "flite:kal16", stretch=data.STRETCH)
    events = woken.listen_wav(wav)
    assert isinstance(events[0], WakeDetected), events
    (heard,) = [e for e in events if isinstance(e, UtteranceRecognized)]
    assert heard.after_wake and heard.parsed
    assert (heard.transcript, heard.intent) == ("call my son", "call_contact")
    assert heard.second == "call my son"  # the wider language model heard the command too
    understood = woken.understand_heard(heard)
    assert (understood.intent, understood.confidence, understood.unsure) == ("call_contact", 1.0, False)


def test_before_the_wake_search_alone_decided(woken, speechgen, monkeypatch) -> None:
    """The old path, for contrast: no second opinion after the wake phrase."""
    recognizer = cached_recognizer(woken.engine_spec())
    monkeypatch.setattr(recognizer, "command_after_wake", False)
    wav = speechgen.say("hello jiayi call my son", "flite:kal16", stretch=data.STRETCH)
    (heard,) = [e for e in woken.listen_wav(wav) if isinstance(e, UtteranceRecognized)]
    assert heard.intent == "call_contact" and heard.second == ""


def test_the_wake_phrase_alone_still_opens_the_window(woken, speechgen) -> None:
    wav = speechgen.say("hello jiayi", "flite:slt", stretch=data.STRETCH)
    events = woken.listen_wav(wav)
    assert [type(e) for e in events] == [WakeDetected], events


def test_both_readings_of_the_command_confirm_the_wake_phrase(woken, speechgen) -> None:
    """:data:`WAKE_BY_COMMAND`: the audio after the spotter's search's wake phrase, heard as the
    very same command by the command search and the second opinion, confirms the wake phrase."""
    recognizer = cached_recognizer(woken.engine_spec())
    pcm = read_pcm(speechgen.say("hello jiayi call my son", "flite:slt", stretch=data.STRETCH))
    assert recognizer._decode_with("spot", pcm) == "hello jiayi call my son"
    cut = recognizer._wake_end("hello jiayi call my son")
    assert cut is not None
    assert recognizer._wake_confirmed(pcm[cut:]) == ("hello jiayi call my son", "call my son")
    assert recognizer._wake_confirmed(pcm[cut : cut + 3200]) is None  # 0.1 s: nothing to decode


def test_household_talk_with_hello_does_not_wake_through_the_command(woken, speechgen) -> None:
    wav = speechgen.with_noise(
        speechgen.say("say hello to your mother for me", "flite:slt", stretch=data.STRETCH),
        "kitchen.wav",
        10,
        seed=101,
    )
    events = woken.listen_wav(wav)
    assert not any(isinstance(e, (WakeDetected, UtteranceRecognized)) for e in events), events


def test_each_search_gives_back_its_utterance_memory_with_the_same_readings(
    woken, speechgen, monkeypatch
) -> None:
    """``RELEASE_AFTER_DECODE``: after a decode has been read, an empty utterance resets the search
    (its history and lattice are freed; docs/benchmarks/speech.md, Memory). The readings, word
    alignments included, are the ones decoding without it gives, in any order of searches."""
    from assistant.hearing import pocketsphinx_engine

    recognizer = cached_recognizer(woken.engine_spec())
    pcm = read_pcm(speechgen.say("hello jiayi call my son", "flite:kal16", stretch=data.STRETCH))
    other = read_pcm(speechgen.say("i have fallen and i can't get up", "flite:slt", stretch=data.STRETCH))

    def readings() -> list[object]:
        out: list[object] = []
        for audio in (pcm, other, pcm):
            for search in ("wake", "spot", "command", "second", "wake_kws"):
                out.append((recognizer._decode_with(search, audio), tuple(recognizer.last_words)))
        return out

    released = readings()
    hyp = recognizer._decoder.hyp()
    assert hyp is None or not hyp.hypstr  # the last search holds nothing of the utterance
    monkeypatch.setattr(pocketsphinx_engine, "RELEASE_AFTER_DECODE", False)
    assert readings() == released
    assert released[0][0] == "hello jiayi call my son"


def test_grammar_searches_made_on_demand_read_as_searches_kept_built(woken, speechgen, monkeypatch) -> None:
    """``RESIDENT_GRAMMAR_SEARCHES``: at most two of the command, wake and spotter searches are
    built at a time; one removed is made again from its transitions when activated. In an order
    of searches that removes and remakes each of them, every reading and word alignment is the one
    the recognizer that keeps all three built gives (docs/benchmarks/speech.md, round 17)."""
    from assistant.hearing import pocketsphinx_engine
    from assistant.hearing.recognizer import build_recognizer

    spec = woken.engine_spec()
    on_demand = cached_recognizer(spec)
    assert pocketsphinx_engine.RESIDENT_GRAMMAR_SEARCHES == 2
    assert set(on_demand._fsg_sources) == {"command", "wake", "spot"}
    assert on_demand._fsg_built[-2:] == on_demand._fsg_built  # never more than two
    monkeypatch.setattr(pocketsphinx_engine, "RESIDENT_GRAMMAR_SEARCHES", 0)
    kept = build_recognizer(spec)
    assert not kept._fsg_sources and not kept._fsg_built
    pcm = read_pcm(speechgen.say("hello jiayi call my son", "flite:kal16", stretch=data.STRETCH))
    other = read_pcm(speechgen.say("i have fallen and i can't get up", "flite:slt", stretch=data.STRETCH))
    order = ("command", "wake", "spot", "command", "second", "wake")

    def readings(recognizer: pocketsphinx_engine.PocketsphinxRecognizer) -> list[object]:
        out: list[object] = []
        for audio in (pcm, other):
            for search in order:
                out.append((search, recognizer._decode_with(search, audio), tuple(recognizer.last_words)))
                assert len(recognizer._fsg_built) <= 2
        return out

    remade = readings(on_demand)
    assert remade == readings(kept)
    assert remade[1][:2] == ("wake", "hello jiayi call my son")
    removed = next(s for s in ("command", "wake", "spot") if s not in on_demand._fsg_built)
    with pytest.raises(KeyError):  # a removed search is gone from the decoder
        on_demand._decoder.activate_search(removed)
