"""The distress spotter on real (synthetic) speech: emergencies said without the wake phrase are
heard through its two stages (the wake search without its chatter loop proposes, free
transcription + the understanding stage confirm), and harmless sentences with danger words that
the first stage forces onto an emergency are not acted on. Sentences from the spotter's tuning
set (bench/data/speech-dev-emergency.json) whose wake search alone heard nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from speechgen import read_pcm, speechgen_fixture  # noqa: F401  (the `speechgen` fixture)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import speech
import speech_data as data

from assistant.conversation import actions as act
from assistant.conversation.dialogue import State
from assistant.hearing.listener import Listener, UtteranceRecognized
from assistant.hearing.recognizer import Transcript
from assistant.hearing.sources import WavSource
from assistant.pipeline import PipelineOptions, build_pipeline, cached_recognizer


@pytest.fixture(autouse=True)
def _front_end_the_sentences_were_chosen_with(monkeypatch: pytest.MonkeyPatch) -> None:
    """These sentences were chosen (clean TTS through RNNoise's float weights, always on) for
    what each stage does with them: borderline cases. The quiet-room gate passes clean TTS
    unfiltered (the wake search then hears "help me please" as "help me" by itself), and the
    int8 weights' last-digit differences flip stage 1 on "call me when you get home"; so the
    two stages are tested on the audio they were chosen with (the int8 weights' equivalence is
    tests/test_frontend.py's)."""
    from assistant.hearing import frontend

    monkeypatch.setattr(frontend, "RNNOISE_QUIET_DBFS", None)
    monkeypatch.setattr(frontend, "RNNOISE_INT8", False)


@pytest.fixture(scope="module")
def woken():
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    return build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase="hello jiayi"))


def _listen(pipeline, wav: Path) -> tuple[list[object], list[Transcript]]:
    """The daemon's listener on ``wav`` (from the factory: grammar, front-end, verification), with
    every transcript the recognizer returned."""
    events: list[object] = []
    decodes: list[tuple[str, bytes, Transcript]] = []
    listener = pipeline.listener(events.append, source=WavSource(wav), decodes=decodes)
    listener.source.start()
    listener.run_until_end()
    return events, [result for _mode, _audio, result in decodes]


@pytest.mark.parametrize(
    ("text", "voice"), [("help me please", "flite:slt"), ("get an ambulance", "flite:kal16")]
)
def test_emergency_without_wake_phrase_is_heard_through_both_stages(woken, speechgen, text, voice) -> None:
    wav = speechgen.say(text, voice, stretch=data.STRETCH)
    events, results = _listen(woken, wav)
    heard = [e for e in events if isinstance(e, UtteranceRecognized)]
    assert len(heard) == 1, events
    assert heard[0].spotted and not heard[0].after_wake and not heard[0].spot_check
    understood = woken.understand_heard(heard[0])
    assert understood.intent == "emergency" and not understood.spot_check  # both readings: no question
    # the wake search alone did not hear it: stage 1 proposed, stage 2's free transcript confirmed
    (result,) = results
    assert result.candidate and woken.grammar().parse(result.candidate, "spot").intent == "emergency"
    readings = (result.free_text, *result.free_alternatives, result.spot_second)
    assert any(woken.heard_emergency(t) for t in readings), result


@pytest.mark.parametrize(
    ("text", "voice"),
    [("my chest of drawers is in the bedroom", "flite:kal16"), ("call me when you get home", "flite:kal16")],
)
def test_harmless_danger_words_proposed_by_stage_one_are_not_acted_on(woken, speechgen, text, voice) -> None:
    wav = speechgen.say(text, voice, stretch=data.STRETCH)
    events, results = _listen(woken, wav)
    assert not [e for e in events if isinstance(e, UtteranceRecognized)], events
    assert any(r.candidate for r in results), results  # stage 1 forced it onto an emergency …
    for r in results:  # … stage 2 did not confirm it
        assert not any(
            woken.heard_emergency(t) for t in (r.free_text, *r.free_alternatives, r.spot_second)
        ), r


def test_without_verifier_a_candidate_is_never_acted_on(woken, speechgen) -> None:
    from assistant.hearing.frontend import make_frontend

    wav = speechgen.say("help me please", "flite:slt", stretch=data.STRETCH)
    assert woken.listener(lambda _e: None, source=WavSource(wav))._verify is not None  # always wired
    events: list[object] = []
    bare = Listener(
        WavSource(wav),
        cached_recognizer(woken.engine_spec()),
        events.append,
        wake_phrase=woken.wake_phrase,
        grammar=woken.reading_grammar(),
        frontend=make_frontend(woken.settings.asr.noise_filter),
    )
    bare.source.start()
    bare.run_until_end()
    assert read_pcm(wav)
    assert not [e for e in events if isinstance(e, UtteranceRecognized)], events


def test_spot_search_knows_everyday_wording_the_command_search_does_not(woken) -> None:
    grammar = woken.reading_grammar()
    for text in ("i've fallen over", "please help me", "get an ambulance", "help help", "i can't get up"):
        spot = grammar.parse(text, "spot")
        assert spot is not None and spot.intent == "emergency" and not spot.woke, text
        assert grammar.parse(text, "wake") is None, text  # the wake and command searches are unchanged
        assert grammar.parse(text, "command") is None, text
    assert grammar.parse("hello jiayi call my son", "spot").woke
    assert grammar.parse("my chest of drawers", "spot") is None


@pytest.mark.parametrize(
    ("text", "voice"), [("i've fallen over", "flite:slt"), ("help me i can't move", "flite:kal16")]
)
def test_contractions_are_heard_without_the_wake_phrase(woken, speechgen, text, voice) -> None:
    wav = speechgen.say(text, voice, stretch=data.STRETCH)
    events, results = _listen(woken, wav)
    heard = [e for e in events if isinstance(e, UtteranceRecognized)]
    assert len(heard) == 1 and heard[0].spotted, (events, results)
    assert woken.understand_heard(heard[0]).intent == "emergency"
    assert not any(woken.grammar().parse(r.raw, "wake") for r in results)  # the wake search alone: nothing


def test_second_opinion_confirms_what_the_free_model_mishears(woken, speechgen, monkeypatch) -> None:
    """festival's "i have had a fall": the free model hears "… a fool", the wider model of the
    command search's second opinion hears the fall; with either reading enough (the measured
    alternative, ``SPOT_VERIFY_BOTH = False``) stage 2 confirms it."""
    from assistant.hearing import spotter

    monkeypatch.setattr(spotter, "SPOT_VERIFY_BOTH", False)
    wav = speechgen.say("i have had a fall", "festival:kal_diphone", stretch=data.STRETCH)
    events, results = _listen(woken, wav)
    heard = [e for e in events if isinstance(e, UtteranceRecognized)]
    assert len(heard) == 1 and heard[0].spotted, (events, results)
    (result,) = results
    assert not any(woken.heard_emergency(t) for t in (result.free_text, *result.free_alternatives)), result
    assert woken.heard_emergency(result.spot_second), result


def test_one_reading_alone_is_not_acted_on_without_the_question(woken, speechgen, monkeypatch) -> None:
    """``SPOT_VERIFY_BOTH``: one reading alone confirms nothing; with the question off
    (``SPOT_CHECK_ONE_READING = False``, round 11) the mishearing is dropped."""
    from assistant.hearing import spotter

    monkeypatch.setattr(spotter, "SPOT_CHECK_ONE_READING", False)
    wav = speechgen.say("i have had a fall", "festival:kal_diphone", stretch=data.STRETCH)
    events, results = _listen(woken, wav)
    assert not [e for e in events if isinstance(e, UtteranceRecognized)], events
    (result,) = results
    assert result.candidate and woken.heard_emergency(result.spot_second), result


def test_one_reading_asks_did_you_call_for_help(woken, speechgen) -> None:
    """The default: the same candidate, confirmed by the second opinion but not the free model,
    is asked about slowly ("Did you call for help?") instead of dropped, and nothing is sent."""
    wav = speechgen.say("i have had a fall", "festival:kal_diphone", stretch=data.STRETCH)
    events, results = _listen(woken, wav)
    heard = [e for e in events if isinstance(e, UtteranceRecognized)]
    assert len(heard) == 1 and heard[0].spotted and heard[0].spot_check, (events, results)
    (result,) = results
    assert not any(woken.heard_emergency(t) for t in (result.free_text, *result.free_alternatives)), result
    understood = woken.understand_heard(heard[0])
    assert understood.intent == "emergency" and understood.spot_check
    assert understood.to_json()["spot_check"] is True
    d, _clock = _dialogue(woken)
    out = d.handle(understood)
    (question,) = [a for a in out if isinstance(a, act.Say)]
    assert question.prompt_id == "spot_check" and question.slow
    assert question.text == "Did you call for help? Say yes or help, and I will call for help."
    assert any(isinstance(a, act.ExpectAnswer) for a in out)
    assert not [a for a in out if isinstance(a, act.SendRequest)] and d.state is State.AWAITING_URGENT_ANSWER


def _dialogue(pipeline):
    import datetime as dt

    from test_dialogue import make_settings

    from assistant.conversation.care_store import CareStore
    from assistant.conversation.dialogue import Dialogue
    from assistant.ops.clock import ManualClock

    clock = ManualClock(dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC))
    settings = make_settings("en")  # a practice and a family to alert
    return Dialogue(settings, pipeline.understander, clock, state=CareStore()), clock


def _asked(pipeline):
    """A dialogue that has just asked "Did you call for help?" about a spotted emergency."""
    import dataclasses

    d, clock = _dialogue(pipeline)
    spotted = dataclasses.replace(pipeline.understand_text("i have fallen"), spot_check=True)
    assert spotted.intent == "emergency"
    out = d.handle(spotted)
    assert [a.prompt_id for a in out if isinstance(a, act.Say)] == ["spot_check"]
    return d, clock


def _sent(out):
    return [a for a in out if isinstance(a, act.SendRequest)]


@pytest.mark.parametrize("answer", ["yes", "help"])
def test_did_you_call_for_help_yes_or_help_starts_the_emergency(woken, answer) -> None:
    d, clock = _asked(woken)
    out = d.handle(woken.understand_text(answer))
    assert d.state is State.EMERGENCY_CANCEL_WINDOW and not _sent(out)  # the spoken cancel window as ever
    clock.advance(d.settings.dialogue.emergency_cancel_s)
    (req,) = _sent(d.tick())
    assert req.request_type == "emergency" and req.tier == "emergency"


def test_did_you_call_for_help_no_sends_nothing(woken) -> None:
    d, clock = _asked(woken)
    out = d.handle(woken.understand_text("no"))
    assert d.state is State.IDLE and not _sent(out)
    assert [a.prompt_id for a in out if isinstance(a, act.Say)] == ["still_here"]
    clock.advance(120.0)
    assert not _sent(d.tick())


def test_did_you_call_for_help_unanswered_twice_fails_closed(woken) -> None:
    d, clock = _asked(woken)
    again = d.handle(act.Silence())
    assert [a.prompt_id for a in again if isinstance(a, act.Say)] == ["confirm_yes_no", "spot_check"]
    assert not _sent(again) and d.state is State.AWAITING_URGENT_ANSWER
    d.handle(act.Silence())
    assert d.state is State.EMERGENCY_CANCEL_WINDOW  # fail closed: she may not be able to answer
    out = d.handle(woken.understand_text("cancel"))  # … and the cancel window can still stop it
    assert d.state is State.IDLE and not _sent(out)


def test_fully_confirmed_spotted_emergency_is_not_asked_about(woken) -> None:
    d, _clock = _dialogue(woken)
    d.handle(woken.understand_text("i have fallen"))
    assert d.state is State.EMERGENCY_CANCEL_WINDOW


def test_wake_phrase_in_kitchen_noise_gets_a_second_chance(woken, speechgen) -> None:
    """At 10 dB the wake search's chatter loop wins over "hello jiayi"; the spotter's search
    (no loop) hears it and keyphrase spotting of the wake phrase confirms it."""
    from assistant.hearing.listener import WakeDetected

    wav = speechgen.with_noise(
        speechgen.say("hello jiayi call my son", "flite:slt", stretch=data.STRETCH),
        "kitchen.wav",
        10,
        seed=101,
    )
    events, results = _listen(woken, wav)
    assert any(isinstance(e, WakeDetected) for e in events), (events, results)
    (heard,) = [e for e in events if isinstance(e, UtteranceRecognized)]
    # The command after it is decided on two readings of its own audio (round 12): in this noise
    # they disagree ("call health center" / "mustn't"), so she is asked again; never another call.
    assert heard.after_wake and heard.second, heard
    assert woken.understand_heard(heard).intent in (None, "call_contact"), heard
    recognizer = cached_recognizer(woken.engine_spec())
    assert not woken.grammar().parse(recognizer._decode_with("wake", read_pcm(wav)) or "x", "wake"), (
        "wake search alone"
    )


def test_no_second_chance_without_the_wake_phrase(woken, speechgen) -> None:
    recognizer = cached_recognizer(woken.engine_spec())
    wav = speechgen.with_noise(
        speechgen.say("say hello to your mother for me", "flite:slt", stretch=data.STRETCH),
        "kitchen.wav",
        10,
        seed=101,
    )
    assert recognizer._spot_woken("hello jiayi call my son", read_pcm(wav)) == ""  # kws does not find it
    from assistant.hearing.listener import WakeDetected

    events, _results = _listen(woken, wav)
    assert not any(isinstance(e, (WakeDetected, UtteranceRecognized)) for e in events), events


def test_free_transcription_is_unloaded_when_idle_and_reloaded_alike(woken, speechgen) -> None:
    import time

    from assistant.hearing import spotter

    wav = speechgen.say("help me please", "flite:slt", stretch=data.STRETCH)
    _events, first = _listen(woken, wav)
    free = cached_recognizer(woken.engine_spec()).free
    assert free.loaded and first[0].free_text
    assert not free.unload_if_idle()  # just used: kept
    assert free.unload_if_idle(now=time.monotonic() + spotter.FREE_LM_IDLE_S + 1.0)
    assert not free.loaded
    events, again = _listen(woken, wav)  # the next candidate loads it again, with the same result
    assert free.loaded
    assert [e for e in events if isinstance(e, UtteranceRecognized)]
    assert (again[0].free_text, again[0].free_alternatives) == (
        first[0].free_text,
        first[0].free_alternatives,
    )


def test_frequent_words_dictionary_is_ranked_and_cached(tmp_path, monkeypatch) -> None:
    import os

    import pocketsphinx

    from assistant.hearing import spotter

    lm = os.path.join(pocketsphinx.get_model_path(), "en-us", "en-us.lm.bin")
    full = tmp_path / "small.dict"
    full.write_text(
        "zygote Z AY G OW T\nthe DH AH\nthe(2) DH IY\nhelp HH EH L P\nambulance AE M B Y AH L AH N S\n",
        encoding="utf-8",
    )
    cache = tmp_path / "models"
    made = spotter._frequent_words_dictionary(lm, str(full), str(tmp_path / "out.dict"), 3, str(cache))
    assert Path(made).parent == cache
    # most probable first, every pronunciation of a kept word, the rarest word left out
    assert Path(made).read_text(encoding="utf-8") == (
        "the DH AH\nthe(2) DH IY\nhelp HH EH L P\nambulance AE M B Y AH L AH N S\n"
    )

    Path(made).write_text("kept HH EH L P\n", encoding="utf-8")  # a later load reads the cached file as is
    again = spotter._frequent_words_dictionary(lm, str(full), str(tmp_path / "out.dict"), 3, str(cache))
    assert again == made and Path(again).read_text(encoding="utf-8") == "kept HH EH L P\n"
    assert not (tmp_path / "out.dict").exists()


def test_agreement_reads_words_in_order_with_contractions_expanded() -> None:
    from assistant.hearing import spotter

    assert spotter.agreement("i think i am dying", "i've think i'm dying") == 1.0
    assert spotter.agreement("i got chest pain", "i have chest pain") == 0.75
    assert spotter.agreement("send for an ambulance now", "set alarm collapsed at the marathon") == 0.0
    assert spotter.agreement("", "help") == 0.0


NEWS_FREE = (
    "the minister said the new scheme would help families with the cost of feeding this winter "
    "opposition members called it the little too late meanwhile the price of petrol has fallen for "
    "the third month in the role and the bank"
)
NEWS_SECOND = (
    "minister say niece funeral's family's little stuffy diggers window off physician understand it "
    "too late to to leeds tingly all the price of central has fallen photo down fan opened banged"
)


def test_long_readings_of_television_are_not_sentences(woken) -> None:
    from assistant.hearing import spotter

    # why it matters: the understanding stage alone raises the free reading of a news passage
    # (round 12's English veto no longer raises the second opinion's garbled reading, NEWS_SECOND)
    assert woken.heard_emergency(NEWS_FREE)
    assert not spotter.sentence_sized("this is emergency help me", NEWS_FREE)
    assert spotter.sentence_sized("help me i've fallen", "i'll be i've fallen how")
    assert not spotter.sentence_sized("help me", "")


@pytest.mark.parametrize(
    ("candidate", "free", "second", "outcome"),
    [
        ("i have had a fall", "i have had a fall", "i have had a fall", "act"),  # both readings
        ("i have had a fall", "i have had a fool", "i have had a fall", "ask"),  # one, same words
        ("get an ambulance", "get an ambulance", "get anna ambulance", "ask"),
        # one reading, other words than the candidate's (round 10's false activation): dropped
        (
            "send for an ambulance now",
            "inside or not collapse of the marathon",
            "set alarm collapsed at the marathon",
            None,
        ),
        ("help me", "help yourself to a biscuit", "help yourself to biscuits", None),  # neither
        # round 15: stage 1 put "help" before the noise; without it the reading says half the words
        ("help ring for an ambulance", "and it the bank or an ambulance", "bang grandson's", "ask"),
        ("ring for an ambulance please", "then are a gamble", "bang grandson's", None),
        # round 15: the second opinion says the candidate's emergency words, which stage 1's
        # grammar reads as an emergency though the understander is not 0.95 sure of them
        ("can somebody help", "can somebody out", "can somebody help", "ask"),
        # since issue 10 round 10 the distress raiser reads "can somebody out" itself as a call for
        # help (p 0.92, no danger word), so that reading alone is enough to ask
        ("can somebody help", "can somebody out", "can somebody hold this", "ask"),
        # twelve seconds of a news item forced onto a short emergency; both long readings are
        # emergencies to the understander ("… has fallen …"): not sentence-sized, dropped
        ("this is emergency help me", NEWS_FREE, NEWS_SECOND, None),
    ],
)
def test_stage_two_acts_asks_or_drops(
    woken, speechgen, monkeypatch, candidate, free, second, outcome
) -> None:
    """Stage 2's decision on the recognizer's readings (the understander and grammar are the
    daemon's): both readings → act; one reading saying the candidate's words → ask; else drop.
    With round 15's two rules on (off in the daemon, as measured)."""
    from assistant.hearing import spotter

    monkeypatch.setattr(spotter, "SPOT_AGREEMENT_CORE", True)
    monkeypatch.setattr(spotter, "SPOT_CHECK_SECOND_PARSES", True)
    wav = speechgen.say("help", "flite:slt")
    listener = woken.listener(lambda _e: None, source=WavSource(wav))
    result = Transcript(
        "", "", "pocketsphinx", "en", True, candidate=candidate, free_text=free, spot_second=second
    )
    verified = listener._verified_candidate(result)
    if outcome is None:
        assert verified is None
        return
    assert verified is not None
    heard, parse, check = verified
    assert heard.text == candidate and parse.intent == "emergency"
    assert check is (outcome == "ask")


def test_candidate_core_drops_stage_one_fillers_only_when_an_emergency_is_left(woken, monkeypatch) -> None:
    from assistant.hearing import spotter

    monkeypatch.setattr(spotter, "SPOT_AGREEMENT_CORE", True)

    grammar = woken.reading_grammar()

    def is_emergency(sentence: str) -> bool:
        parse = grammar.parse(sentence, "spot")
        return parse is not None and parse.intent in grammar.spotted

    assert spotter.candidate_core("help ring for an ambulance", is_emergency) == "ring for an ambulance"
    assert spotter.candidate_core("my chest hurts help me", is_emergency) == "my chest hurts"
    assert spotter.candidate_core("help me", is_emergency) == "help me"  # not "me"
    assert spotter.candidate_core("please help me", is_emergency) == "help me"
    assert spotter.agreement("help ring for an ambulance", "they are an ambulance") == 0.4
    assert (
        spotter.agreement("help ring for an ambulance", "they are an ambulance", "ring for an ambulance")
        == 0.5
    )


def _verify(woken, speechgen, **readings):
    """The listener's verdict on a stage-1 candidate with these stage-2 readings (``Transcript``
    fields), decided on a short wav as the daemon decides it."""
    wav = speechgen.say("help", "flite:slt")
    listener = woken.listener(lambda _e: None, source=WavSource(wav))
    return listener._verified_candidate(Transcript("", "", "pocketsphinx", "en", True, **readings))


@pytest.mark.parametrize(
    ("candidate", "free", "keyword", "outcome"),
    [
        ("help help", "l l", "help", "ask"),  # 10 dB: both readings lost the word, kws found it
        ("help help", "l l", "", None),  # not found by keyphrase spotting: dropped as before
        ("i have had a fall", "i have a full", "help", None),  # the candidate does not say it
        ("this is emergency help me", NEWS_FREE, "help", None),  # a stretch of television
    ],
)
def test_keyword_spotted_in_the_candidate_asks(woken, speechgen, candidate, free, keyword, outcome) -> None:
    """spotter.SPOT_KEYWORD: "help" found by keyphrase spotting in a sentence-sized candidate's
    audio is a third reading, for the question only."""
    verified = _verify(
        woken, speechgen, candidate=candidate, free_text=free, spot_second="bell pelt", spot_keyword=keyword
    )
    assert (verified is not None and verified[2]) if outcome == "ask" else verified is None


def test_keyword_spotting_finds_help_in_noise_and_not_elsewhere(woken, speechgen, tmp_path) -> None:
    """The keyword reading itself (off in the daemon, spotter.SPOT_KEYWORD = ""; measured in
    round 15): keyphrase spotting finds "help" in a noisy "help help" both grammar readings lost."""
    from assistant.hearing import pocketsphinx_engine as engine
    from assistant.hearing import spotter

    recognizer = cached_recognizer(woken.engine_spec())
    noisy = speechgen.with_noise(
        speechgen.say("help help", "flite:slt", stretch=data.STRETCH), "kitchen.wav", 10, seed=101
    )
    assert recognizer._spot_keyword("help help", read_pcm(noisy)) == ""  # off: not looked for
    path = tmp_path / "help.kws"
    path.write_text(f"help /{spotter.SPOT_KEYWORD_THRESHOLD:g}/\n")
    recognizer._decoder.add_kws(engine.SPOT_KEYWORD_SEARCH, str(path))  # made again if there
    recognizer.spot_keyword = "help"
    try:
        assert recognizer._spot_keyword("help help", read_pcm(noisy)) == "help"
        other = speechgen.say("i have had a fall", "flite:slt", stretch=data.STRETCH)
        assert recognizer._spot_keyword("help i have had a fall", read_pcm(other)) == ""
        assert recognizer._spot_keyword("i have had a fall", read_pcm(noisy)) == ""  # not said
    finally:
        recognizer.spot_keyword = ""


def test_strict_wake_keyphrase_near_the_start_wakes(woken, speechgen, monkeypatch) -> None:
    """pocketsphinx_engine.WAKE_KWS_ALONE_THRESHOLD: "hello jiayi" + words neither grammar search
    can complete (a tuning sentence of dev-wake) leaves both with no sentence at all; strict
    keyphrase spotting near the utterance's start finds the wake phrase, so it counts, and the
    rest is decoded as a command said after the wake phrase (its own two readings)."""
    from assistant.hearing import pocketsphinx_engine as engine
    from assistant.hearing.listener import WakeDetected

    recognizer = cached_recognizer(woken.engine_spec())
    wav = speechgen.say("hello jiayi have i had my pills", "flite:slt", stretch=data.STRETCH)
    pcm = read_pcm(wav)
    assert recognizer._decode_with("wake", pcm) == "" and recognizer._decode_with("spot", pcm) == ""
    end = recognizer._kws_wake_end(pcm)
    assert end is not None and 0.5 * 32000 < end < len(pcm) - 0.5 * 32000
    events, _results = _listen(woken, wav)
    assert any(isinstance(e, WakeDetected) for e in events), events
    heard = [e for e in events if isinstance(e, UtteranceRecognized)]
    assert all(e.after_wake and not e.spotted for e in heard), heard
    harmless = read_pcm(speechgen.say("say hello to your mother for me", "flite:slt", stretch=data.STRETCH))
    assert recognizer._kws_wake_end(harmless) is None
    monkeypatch.setattr(engine, "WAKE_KWS_ALONE_MAX_START_S", 0.2)  # found, but too late
    assert recognizer._kws_wake_end(pcm) is None


@pytest.fixture(scope="module")
def always():
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    return build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=""))


def _conversation_line(speechgen, text: str, voice: str) -> Path:
    """A line of household talk as the household-like tuning audio renders it."""
    return speechgen.say(text, voice, lead_s=0.2, trail_s=0.3)


def test_wake_search_own_emergency_in_household_talk_is_asked_not_acted_on(woken, speechgen) -> None:
    """Round 14: the wake search (with its chatter loop) hears "help me" in "Help me with this jar
    lid, would you?" (household-like tuning audio). Its own emergency now goes through stage 2
    too; neither reading confirms it, so she is asked "Did you call for help?" (fail closed:
    never dropped), and nothing is sent."""
    wav = _conversation_line(speechgen, "Help me with this jar lid, would you?", "flite:rms")
    events, results = _listen(woken, wav)
    heard = [e for e in events if isinstance(e, UtteranceRecognized)]
    assert len(heard) == 1 and heard[0].spotted and heard[0].spot_check, (events, results)
    (result,) = results
    assert result.text == result.candidate == "help me", result  # the wake search's own emergency
    assert result.free_text, result  # stage 2 read it
    understood = woken.understand_heard(heard[0])
    assert understood.intent == "emergency" and understood.spot_check
    d, _clock = _dialogue(woken)
    out = d.handle(understood)
    assert [a.prompt_id for a in out if isinstance(a, act.Say)] == ["spot_check"]
    assert not [a for a in out if isinstance(a, act.SendRequest)]


def test_wake_search_own_emergency_confirmed_by_both_readings_is_acted_on(woken, speechgen) -> None:
    """The same path with a real emergency both stage-2 readings confirm: acted on, no question."""
    wav = _conversation_line(speechgen, "i have fallen", "flite:rms")
    events, results = _listen(woken, wav)
    heard = [e for e in events if isinstance(e, UtteranceRecognized)]
    assert len(heard) == 1 and heard[0].spotted and not heard[0].spot_check, (events, results)
    (result,) = results
    assert result.candidate == result.text and result.spot_second, result
    understood = woken.understand_heard(heard[0])
    assert understood.intent == "emergency" and not understood.spot_check


def test_always_listening_one_reading_emergency_is_asked(always, speechgen) -> None:
    """Always listening (no wake phrase): the grammar forces "help me with this jar …" onto "help
    me", the second opinion hears the jar; an emergency from one reading is asked about."""
    wav = _conversation_line(speechgen, "Help me with this jar lid, would you?", "flite:kal16")
    events = always.listen_wav(wav)
    (heard,) = [e for e in events if isinstance(e, UtteranceRecognized)]
    assert heard.parsed and heard.intent == "emergency" and "jar" not in heard.transcript, heard
    assert not always.heard_emergency(heard.second), heard
    understood = always.understand_heard(heard)
    assert understood.intent == "emergency" and understood.spot_check


def test_always_listening_emergency_both_readings_hear_is_acted_on(always, speechgen) -> None:
    wav = _conversation_line(speechgen, "i have fallen", "flite:kal16")
    events = always.listen_wav(wav)
    (heard,) = [e for e in events if isinstance(e, UtteranceRecognized)]
    understood = always.understand_heard(heard)
    assert understood.intent == "emergency" and not understood.spot_check, (heard, understood)


def test_a_reading_contradicts_a_candidate_when_it_says_more() -> None:
    """spotter.contradicts (round 16): a stage-2 reading with more words than the candidate."""
    from assistant.hearing import spotter

    assert not spotter.contradicts("help help", "l l")
    assert not spotter.contradicts("i got chest pain", "i have just been")
    assert spotter.contradicts("help me", "help me with this jar lid would you")
    # household-like tuning audio (conversation + kitchen 10 dB): one word more is more
    assert spotter.contradicts("help me i passed out please", "help me with the scarlet what do")
    assert not spotter.contradicts("i've fallen", "i have fallen")  # contractions expanded


@pytest.mark.parametrize(
    ("candidate", "free", "second", "phrase", "outcome"),
    [
        # 10 dB: both readings mishear the candidate's words, keyphrase spotting finds them
        ("help help", "i'll tell", "dial tablets", "help help", "ask"),
        ("i got chest pain", "i have just been", "i have just been", "i got chest pain", "ask"),
        ("help help", "i'll tell", "dial tablets", "", None),  # not found: dropped as before
        # found, but a reading says more than the candidate: a harmless sentence around it
        ("help me", "help me with this jar lid would you", "help me with this jar lid", "help me", None),
        ("help help", "", "", "help help", None),  # no free reading at all
    ],
)
def test_candidate_words_found_in_its_audio_ask(
    woken, speechgen, candidate, free, second, phrase, outcome
) -> None:
    """spotter.SPOT_PHRASE_THRESHOLD: the candidate's own words found by keyphrase spotting are a
    third reading, for the question only, when no stage-2 reading says more than the candidate."""
    verified = _verify(
        woken, speechgen, candidate=candidate, free_text=free, spot_second=second, spot_phrase=phrase
    )
    assert (verified is not None and verified[2]) if outcome == "ask" else verified is None


def test_keyphrase_spotting_finds_the_candidates_own_words_in_noise(woken, speechgen, monkeypatch) -> None:
    """The acoustic reading itself (spotter.SPOT_PHRASE_THRESHOLD): in kitchen noise at 10 dB the
    free model hears "i have chest pain" as "i have just been", yet keyphrase spotting of the
    candidate's words finds them; not in a sentence that does not say them; a one-word
    candidate is not looked for, and nothing is with the reading off."""
    from assistant.hearing import spotter

    recognizer = cached_recognizer(woken.engine_spec())
    said = speechgen.say("i have chest pain", "flite:kal16", stretch=data.STRETCH)
    noisy = read_pcm(speechgen.with_noise(said, "kitchen.wav", 10, seed=100))
    assert recognizer.free.transcribe(noisy)[0] != "i have chest pain"
    assert recognizer._spot_phrase("i have chest pain", noisy) == "i have chest pain"
    other = read_pcm(speechgen.say("i have had a fall", "flite:slt", stretch=data.STRETCH))
    assert recognizer._spot_phrase("i have chest pain", other) == ""
    assert recognizer._spot_phrase("help", noisy) == ""  # one word: not looked for
    # with stage 2's readings: not looked for when one says more (the listener could not ask on it)
    longer = ("i have chest pain in the film", "")
    assert recognizer._spot_phrase("i have chest pain", noisy, longer) == ""
    assert recognizer._spot_phrase("i have chest pain", noisy, ("", "")) == ""  # no free reading
    same = ("i have just been", "")
    assert recognizer._spot_phrase("i have chest pain", noisy, same) == "i have chest pain"
    monkeypatch.setattr(spotter, "SPOT_PHRASE_THRESHOLD", 0.0)
    assert recognizer._spot_phrase("i have chest pain", noisy) == ""


def test_wake_name_read_as_english_spelling_wakes_in_noise(woken, speechgen, tmp_path) -> None:
    """pocketsphinx_engine.WAKE_NAME_ENGLISH_READINGS and WAKE_KWS_ALL_PRONUNCIATIONS: festival
    reads "jiayi" as "jye-ah-ee" (JH AY AA IY), which none of the pinyin readings covers; in
    kitchen noise at 10 dB (a dev-wake sentence, the tuning mix) the wake search then heard
    "but look time my use". With the English reading the wake phrase is heard, and keyphrase
    spotting finds it only through that reading's own line."""
    from assistant.hearing import pocketsphinx_engine as engine
    from assistant.hearing.listener import WakeDetected

    recognizer = cached_recognizer(woken.engine_spec())
    assert recognizer._decoder.lookup_word("jiayi(4)") == "JH AY AA IY"
    assert recognizer._spellings("hello jiayi") == [
        "hello jiayi",
        "hello jiayi(2)",
        "hello jiayi(3)",
        "hello jiayi(4)",
    ]
    wav = speechgen.with_noise(
        speechgen.say("hello jiayi", "festival:kal_diphone", stretch=data.STRETCH),
        "kitchen.wav",
        10,
        seed=100,
    )
    events, _results = _listen(woken, wav)
    assert any(isinstance(e, WakeDetected) for e in events), events
    pcm = read_pcm(wav)
    for spelled, found in (("hello jiayi", False), ("hello jiayi(4)", True)):
        path = tmp_path / "one.kws"
        path.write_text(f"{spelled} /{engine.WAKE_KWS_THRESHOLD:g}/\n")
        recognizer._decoder.add_kws("probe_kws", str(path))
        recognizer._active_search = ""
        assert bool(recognizer._decode_with("probe_kws", pcm)) is found, spelled
    recognizer._active_search = ""
