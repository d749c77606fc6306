"""End to end on real speech: espeak-ng commands (several voices and speeds), kitchen/white noise
at 20/10/5 dB SNR, the microphone pipeline on WAV files, pocketsphinx, the intent matcher.
Out-of-scope speech and silence must not trigger anything; the wake phrase gates commands."""

from __future__ import annotations

import threading

import pytest
from speechgen import ACTION_INTENTS, SpeechGen, speechgen_fixture  # noqa: F401

from assistant.hearing.listener import (
    Listener,
    ListeningEnded,
    UtteranceRecognized,
    WakeDetected,
)
from assistant.hearing.recognizer import EngineSpec
from assistant.hearing.sources import WavSource
from assistant.ops.settings import Contact, Doctor, Medication, Person, Settings
from assistant.pipeline import Pipeline, PipelineOptions, build_pipeline, cached_recognizer

COMMANDS = {  # spoken text → intent the matcher must produce
    "call my doctor": "call_doctor",
    "what time is it": "time_query",
    "i took my pills": "medication_taken",
    "call my daughter": "call_contact",
    "repeat that": "repeat",
    "i feel dizzy": "report_symptom",
}
OUT_OF_SCOPE = ["my grandson is coming on sunday", "the weather is lovely today"]
# Chatter must never produce an action; a harmless "repeat" or "yes" with nothing pending only
# makes the assistant speak.
ACTIONS = ACTION_INTENTS
VOICES = [("en-us", 150), ("en-gb", 120)]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(
        person=Person("Margaret Lee", "Margaret", "en"),
        doctor=Doctor("Dr. Chen", "+15550100"),
        contacts=(Contact("Anna", "daughter", phone="+15550101"),),
        medications=(Medication("amlodipine", aliases=("blood pressure pills",)),),
    )


@pytest.fixture(scope="module")
def matcher(settings):
    from assistant.understanding.matcher import IntentMatcher

    return IntentMatcher.from_settings(settings, "en")


PHRASES = tuple(COMMANDS) + ("hello doctor",)


@pytest.fixture(scope="module")
def phrase_list_pipeline(settings, matcher) -> Pipeline:
    """The product's pipeline with a small fixed phrase list instead of the catalog grammar
    (``PipelineOptions.phrase_list``): tests using it carry ``phrase_list`` in their name."""
    options = PipelineOptions(isolated=False, wake_phrase="", phrase_list=PHRASES)
    return build_pipeline(settings, options, understander=matcher)


def _intents(pipeline: Pipeline, wav) -> list[str | None]:
    events = pipeline.listen_wav(wav)
    return [pipeline.understand_heard(e).intent for e in events if isinstance(e, UtteranceRecognized)]


def _accuracy(pipeline: Pipeline, speechgen: SpeechGen, noise: str | None, snr: float) -> float:
    right = total = 0
    for voice, wpm in VOICES:
        for i, (text, intent) in enumerate(COMMANDS.items()):
            wav = speechgen.say(text, voice, wpm)
            if noise:
                wav = speechgen.with_noise(wav, noise, snr, seed=i)
            total += 1
            right += _intents(pipeline, wav) == [intent]
    return right / total


@pytest.mark.slow
@pytest.mark.parametrize(
    ("noise", "snr", "minimum"),
    [(None, 0, 0.9), ("kitchen.wav", 20, 0.8), ("kitchen.wav", 10, 0.7), ("white_noise.wav", 5, 0.4)],
)
def test_spoken_intents_clean_and_in_noise_phrase_list(
    phrase_list_pipeline, speechgen, noise, snr, minimum
) -> None:
    assert _accuracy(phrase_list_pipeline, speechgen, noise, snr) >= minimum


@pytest.mark.slow
def test_out_of_scope_speech_and_silence_trigger_nothing_phrase_list(
    phrase_list_pipeline, speechgen: SpeechGen
) -> None:
    # The recognizer is shared across the session and adapts (cepstral mean) to what it heard
    # before, like a device that runs for days: chatter may come out as a harmless short phrase
    # depending on what came before, but never as an action.
    for voice, wpm in VOICES:
        for text in OUT_OF_SCOPE:
            assert not set(_intents(phrase_list_pipeline, speechgen.say(text, voice, wpm))) & ACTIONS
    quiet = speechgen.concat(3.0)
    assert phrase_list_pipeline.listen_wav(quiet) == []
    noisy_silence = speechgen.with_noise(speechgen.concat(speechgen.say("a", trail_s=3.0)), "kitchen.wav", 20)
    assert not [
        e for e in phrase_list_pipeline.listen_wav(noisy_silence) if isinstance(e, UtteranceRecognized)
    ]


@pytest.mark.slow
def test_wake_phrase_gates_commands_in_the_listener_thread(settings, speechgen: SpeechGen) -> None:
    wav = speechgen.concat(
        speechgen.say("what time is it"),  # no wake phrase: ignored
        speechgen.say("hello doctor"),
        speechgen.say("call my doctor"),  # one command after the wake phrase
        speechgen.say("what time is it"),  # asleep again: ignored
        speechgen.say("hello doctor repeat that"),  # wake + command in one breath
        9.0,  # nothing: no awake window is open
    )
    recognizer = cached_recognizer(EngineSpec("pocketsphinx", "en", "", PHRASES, "hello doctor"))
    events: list[object] = []
    lock = threading.Lock()

    def put(event: object) -> None:
        with lock:
            events.append(event)

    listener = Listener(WavSource(wav), recognizer, put, wake_phrase="hello doctor")
    listener.start()
    assert listener.join(timeout=60.0), "listener did not finish the WAV"
    kinds = [
        (type(e).__name__, getattr(e, "transcript", ""))
        for e in events
        if isinstance(e, WakeDetected | UtteranceRecognized | ListeningEnded)
    ]
    assert kinds == [
        ("WakeDetected", ""),
        ("UtteranceRecognized", "call my doctor"),
        ("WakeDetected", ""),
        ("UtteranceRecognized", "repeat that"),
    ]


@pytest.mark.slow
def test_expect_answer_takes_one_reply_without_wake_phrase(settings, speechgen: SpeechGen) -> None:
    wav = speechgen.concat(speechgen.say("yes"), 1.0)
    recognizer = cached_recognizer(EngineSpec("pocketsphinx", "en", "", ("yes", "no"), "hello doctor"))
    events: list[object] = []
    listener = Listener(WavSource(wav), recognizer, events.append, wake_phrase="hello doctor")
    listener.expect_answer(8.0)
    listener.source.start()
    listener.run_until_end()
    assert [e.transcript for e in events if isinstance(e, UtteranceRecognized)] == ["yes"]


def test_understand_wav_sets_transcript(settings, matcher, speechgen: SpeechGen) -> None:
    pipeline = build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=""), understander=matcher)

    result = pipeline.understand_wav(speechgen.say("what time is it", "flite:slt"))
    assert result.intent == "time_query" and result.transcript == "what time is it"
    nothing = pipeline.understand_wav(speechgen.concat(2.0))
    assert nothing.intent is None and nothing.transcript == ""


def test_nbest_rescoring_picks_the_first_alternative_the_matcher_accepts(matcher) -> None:
    from assistant.hearing.listener import understand_best

    chosen = understand_best(
        matcher, "tell my doctor", ("zebra crossing", "call my doctor", "what time is it")
    )
    assert (chosen.intent, chosen.transcript) == ("call_doctor", "call my doctor")
    kept = understand_best(matcher, "what time is it", ("call my doctor",))
    assert (kept.intent, kept.transcript) == ("time_query", "what time is it")  # 1-best accepted: kept
    rejected = understand_best(matcher, "tell my doctor", ("zebra zebra",))
    assert (rejected.intent, rejected.transcript) == (None, "tell my doctor")


def test_nbest_emergency_from_an_alternative_follows_the_switch(matcher, monkeypatch) -> None:
    import assistant.hearing.listener as listener_mod

    assert listener_mod.understand_best(matcher, "tell my doctor", ("i have fallen",)).intent == "emergency"
    monkeypatch.setattr(listener_mod, "NBEST_MAY_RAISE_EMERGENCY", False)
    assert listener_mod.understand_best(matcher, "tell my doctor", ("i have fallen",)).intent is None
    assert listener_mod.understand_best(matcher, "i have fallen", ()).intent == "emergency"  # 1-best still


def test_nbest_alternative_below_the_extra_confidence_floor_is_not_taken(matcher, monkeypatch) -> None:
    import assistant.hearing.listener as listener_mod

    monkeypatch.setattr(listener_mod, "NBEST_MIN_CONFIDENCE", 1.01)
    chosen = listener_mod.understand_best(matcher, "tell my doctor", ("call my doctor",))
    assert (chosen.intent, chosen.transcript) == (None, "tell my doctor")


def test_nbest_votes_need_agreeing_alternatives(matcher, monkeypatch) -> None:
    import assistant.hearing.listener as listener_mod

    monkeypatch.setattr(listener_mod, "NBEST_MIN_VOTES", 2)
    lone = listener_mod.understand_best(matcher, "tell my doctor", ("what time is it", "call my doctor"))
    assert lone.intent is None  # two alternatives, two different intents: no agreement
    agreed = listener_mod.understand_best(
        matcher, "tell my doctor", ("call my doctor", "what time is it", "call the doctor")
    )
    assert (agreed.intent, agreed.transcript) == ("call_doctor", "call the doctor")
