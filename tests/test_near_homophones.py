"""Near-homophone rivals (round 15): when a configured value in what was heard sounds like another
("my daughter" / "my doctor"), the recognizer aligns the audio to both sentences and the pipeline
asks "Did you say …?" when the heard one fits barely better and the rival would call someone
else. Both decoders share such mishearings, so their agreement alone cannot catch them. Real
understander, real pocketsphinx, flite speech."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import speech  # noqa: E402
import speech_data as data  # noqa: E402

from assistant import pipeline as pipeline_module  # noqa: E402
from assistant.hearing.listener import UtteranceRecognized  # noqa: E402
from assistant.hearing.pocketsphinx_engine import phone_distance  # noqa: E402
from assistant.pipeline import Pipeline, PipelineOptions, build_pipeline  # noqa: E402

MARGIN = 0.45
"""The margin measured in round 15 (off in the daemon: it asked two right commands for each wrong
one it stopped, docs/benchmarks/speech.md)."""


@pytest.fixture(name="rule_on")
def rival_rule_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.hearing import pocketsphinx_engine

    monkeypatch.setattr(pipeline_module, "RIVAL_ASK_MARGIN", MARGIN)
    monkeypatch.setattr(pocketsphinx_engine, "CONFUSABLE_CHECK", True)


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    return build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=""))


def heard(
    transcript: str, second: str, rivals=(), *, intent: str | None = None, slots=()
) -> UtteranceRecognized:
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
        rivals=tuple(rivals),
    )


def test_phone_distance_counts_edits() -> None:
    assert phone_distance("D AO T ER".split(), "D AA K T ER".split()) == 2
    assert phone_distance("S AH N".split(), "S AH N".split()) == 0
    assert phone_distance([], "A B".split()) == 2


def doctor(rivals) -> UtteranceRecognized:
    return heard(
        "call my doctor", "call my doctor", rivals, intent="call_doctor", slots=[("doctor", "Dr. Chen")]
    )


@pytest.mark.usefixtures("rule_on")
def test_agreement_with_a_close_rival_asks_did_you_say(pipeline) -> None:
    u = pipeline.understand_heard(doctor([("call my daughter", MARGIN - 0.01)]))
    assert (u.intent, u.unsure) == ("call_doctor", True)
    assert u.confidence == pipeline_module.OVERRULE_ASK_CONFIDENCE


@pytest.mark.usefixtures("rule_on")
def test_agreement_acts_when_the_audio_clearly_prefers_what_was_heard(pipeline) -> None:
    u = pipeline.understand_heard(doctor([("call my daughter", MARGIN + 0.01)]))
    assert (u.intent, u.unsure, u.confidence) == ("call_doctor", False, 1.0)
    assert not pipeline.understand_heard(doctor([])).unsure


@pytest.mark.usefixtures("rule_on")
def test_a_rival_that_means_the_same_command_is_no_reason_to_ask(pipeline) -> None:
    u = pipeline.understand_heard(doctor([("call my doc", -1.0)]))
    assert (u.intent, u.unsure) == ("call_doctor", False)


@pytest.mark.usefixtures("rule_on")
def test_a_rival_of_the_other_readings_words_is_not_this_ones(pipeline) -> None:
    # the second reading heard other words: its rival says nothing about the sentence acted on
    u = pipeline.understand_heard(
        heard(
            "call my doctor",
            "please call my doctor",
            [("please call my daughter", -1.0)],
            intent="call_doctor",
            slots=[("doctor", "Dr. Chen")],
        )
    )
    assert (u.intent, u.unsure) == ("call_doctor", False)


def test_the_daemon_has_the_rule_off() -> None:
    from assistant.hearing import pocketsphinx_engine

    assert pipeline_module.RIVAL_ASK_MARGIN is None
    assert pocketsphinx_engine.CONFUSABLE_CHECK is False


def test_off_acts_as_before(pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline_module, "RIVAL_ASK_MARGIN", None)
    u = pipeline.understand_heard(doctor([("call my daughter", -5.0)]))
    assert (u.intent, u.unsure) == ("call_doctor", False)


@pytest.mark.usefixtures("rule_on")
def test_an_emergency_is_never_held_back_by_a_rival(pipeline) -> None:
    u = pipeline.understand_heard(
        heard("i have fallen", "i have fallen", [("i have swollen", -1.0)], intent="emergency")
    )
    assert u.intent == "emergency"


@pytest.mark.slow
@pytest.mark.usefixtures("rule_on")
def test_recognizer_aligns_a_spoken_doctor_against_daughter(pipeline) -> None:
    """Real speech: the command search reports the daughter sentence as a rival with a margin."""
    wav = data.spoken("call my doctor please", "flite:kal16", None, 0, seed=1)
    found = [e for e in pipeline.listen_wav(wav) if isinstance(e, UtteranceRecognized) and e.rivals]
    assert found, "no rival reported"
    rivals = dict(found[0].rivals)
    daughter = [r for r in rivals if "daughter" in r.split()]
    assert daughter, rivals
    assert all(isinstance(m, float) for m in rivals.values())


def test_my_daughter_is_a_contact_in_the_grammar(pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """``grammar.CONTACT_POSSESSIVE`` (on since round 16; the test switches it off and on):
    "my <relation>" is spoken for contacts as "my doctor" is for the doctor, so the grammar no
    longer forces "talk to my daughter" onto "my doctor"."""
    from assistant.hearing import grammar as grammar_module
    from assistant.pipeline import DAEMON_GRAMMAR_OPTIONS

    catalog, settings = pipeline.understander.catalog, pipeline.settings
    monkeypatch.setattr(grammar_module, "CONTACT_POSSESSIVE", False)
    before = grammar_module.compile_grammar(catalog, settings, **DAEMON_GRAMMAR_OPTIONS)
    assert before.parse("can i speak to my daughter") is None  # round 15's grammar could not say it
    monkeypatch.setattr(grammar_module, "CONTACT_POSSESSIVE", True)
    grammar = grammar_module.compile_grammar(catalog, settings, **DAEMON_GRAMMAR_OPTIONS)
    for sentence in ("i want to talk to my daughter", "can i speak to my daughter", "phone my son"):
        parse = grammar.parse(sentence)
        assert parse is not None and parse.intent == "call_contact", sentence
    assert grammar.parse("can i speak to my daughter").slots == {"contact": "Anna"}
    assert grammar.parse("can i speak to my doctor").intent == "call_doctor"
