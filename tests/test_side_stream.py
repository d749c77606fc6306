"""The front-end's side stream (round 18): RNNoise with some of the un-denoised audio mixed back,
made beside the main stream (``frontend.SIDE_DRY_SHARE``), for one search of a command
(``pocketsphinx_engine.SIDE_SEARCHES``) or a second decode of a rejected command
(``listener.SIDE_RETRY``). The daemon's pipeline (``build_pipeline``, its listener, front-end and
pocketsphinx), flite speech in kitchen noise."""

from __future__ import annotations

import array
import dataclasses
import sys
import wave
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import speech  # noqa: E402
import speech_data as data  # noqa: E402

from assistant.hearing import frontend, listener  # noqa: E402
from assistant.hearing import pocketsphinx_engine as engine  # noqa: E402
from assistant.hearing.listener import UtteranceRecognized, UtteranceRejected  # noqa: E402
from assistant.hearing.sources import WavSource  # noqa: E402
from assistant.pipeline import Pipeline, PipelineOptions, build_pipeline  # noqa: E402


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    if frontend.rnnoise_library() is None:
        pytest.skip("librnnoise is not installed (make venv installs pyrnnoise --no-deps)")
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    assert settings.asr.noise_filter == "rnnoise"
    return build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=""))


def _samples(wav: Path) -> array.array:
    with wave.open(str(wav), "rb") as handle:
        return array.array("h", handle.readframes(handle.getnframes()))


def _offset_of(scaled: array.array, source: array.array, share: float) -> int | None:
    """Where in ``source`` the stretch ``scaled`` (≈ share × source, within rounding) starts."""
    probe = [i for i in range(len(scaled)) if abs(scaled[i]) > 50][:400]
    assert len(probe) > 100
    for k in range(-len(scaled), len(source)):
        if all(
            abs(scaled[i] - share * (source[k + i] if 0 <= k + i < len(source) else 0)) <= 2 for i in probe
        ):
            return k
    return None


def test_the_daemon_gives_the_second_opinion_the_side_stream() -> None:
    """Round 18's choice: a side stream with 5 % of the un-denoised audio, for the second opinion
    only; no second decode of rejected commands."""
    assert frontend.SIDE_DRY_SHARE == 0.05
    assert engine.SIDE_SEARCHES == frozenset({"second"})
    assert not listener.SIDE_RETRY


def test_the_side_stream_goes_to_the_named_search_aligned_with_the_main_stream(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``SIDE_SEARCHES = {"second"}`` the second opinion decodes the side stream and the
    grammar the main one; the two are the same stretch of audio (side − main is the share of
    the recording itself, at one offset for the whole utterance)."""
    monkeypatch.setattr(frontend, "SIDE_DRY_SHARE", 0.25)
    monkeypatch.setattr(engine, "SIDE_SEARCHES", frozenset({"second"}))
    decoded: list[tuple[str, bytes]] = []
    decode_with = engine.PocketsphinxRecognizer._decode_with

    def recorded(self, search, audio):
        decoded.append((search, audio))
        return decode_with(self, search, audio)

    monkeypatch.setattr(engine.PocketsphinxRecognizer, "_decode_with", recorded)
    wav = data.spoken("could you ring my daughter", "flite:slt", "kitchen.wav", 10, seed=3)
    events = pipeline.listen_wav(wav)
    assert any(isinstance(e, UtteranceRecognized) for e in events), events
    by_search = dict(decoded)
    main, side = by_search["command"], by_search[engine.SECOND_OPINION_SEARCH]
    assert len(main) == len(side) > 16000 and main != side
    difference = array.array(
        "h", (s - m for s, m in zip(array.array("h", side), array.array("h", main), strict=True))
    )
    source = _samples(wav)
    start = _offset_of(difference, source, 0.25)
    assert start is not None
    stretch = source[max(0, start) : start + len(difference)]
    assert sum(abs(d - 0.25 * x) <= 2 for d, x in zip(difference[-len(stretch) :], stretch, strict=True)) > (
        0.99 * len(stretch)
    )


def test_without_a_side_stream_both_searches_hear_the_main_stream(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SIDE_SEARCHES`` names a search but ``SIDE_DRY_SHARE`` is 0: no side stream is made, so
    both searches decode RNNoise's output, as before round 18."""
    monkeypatch.setattr(frontend, "SIDE_DRY_SHARE", 0.0)
    monkeypatch.setattr(engine, "SIDE_SEARCHES", frozenset({"second"}))
    decoded: list[tuple[str, bytes]] = []
    decode_with = engine.PocketsphinxRecognizer._decode_with

    def recorded(self, search, audio):
        decoded.append((search, audio))
        return decode_with(self, search, audio)

    monkeypatch.setattr(engine.PocketsphinxRecognizer, "_decode_with", recorded)
    pipeline.listen_wav(data.spoken("could you ring my daughter", "flite:slt", "kitchen.wav", 10, seed=3))
    by_search = dict(decoded)
    assert by_search["command"] == by_search[engine.SECOND_OPINION_SEARCH]


def test_a_rejected_command_is_decoded_again_on_the_side_stream(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SIDE_RETRY``: a sentence the pipeline rejects ("please say it again") gets a second
    decode of both searches on the side stream, and is still rejected when that reading means
    nothing either; a command the pipeline takes is decoded once."""
    monkeypatch.setattr(frontend, "SIDE_DRY_SHARE", 0.1)
    monkeypatch.setattr(listener, "SIDE_RETRY", True)
    retried: list[object] = []
    retry = engine._PsDecoder.retry

    def counted(self):
        result = retry(self)
        retried.append(result)
        return result

    monkeypatch.setattr(engine._PsDecoder, "retry", counted)
    chatter = data.spoken("the roses along the fence are lovely this summer", "flite:slt", None, 0, seed=1)
    events = pipeline.listen_wav(chatter)
    assert len(retried) == 1 and retried[0] is not None, retried
    assert retried[0].second  # the second opinion decoded the side stream too
    taken = [e for e in events if isinstance(e, UtteranceRecognized) and pipeline.takes_heard(e)]
    assert not taken and any(isinstance(e, (UtteranceRecognized, UtteranceRejected)) for e in events)
    retried.clear()
    command = data.spoken("what time is it", "flite:slt", "kitchen.wav", 10, seed=1)
    understood = pipeline.understand_wav(command)
    assert understood.intent == "time_query" and not retried


def test_the_retry_reading_is_the_one_heard_when_the_pipeline_takes_it(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SIDE_RETRY``: when the first readings are rejected and the side stream's are taken, the
    listener puts the side stream's events only (the daemon acts on them)."""
    monkeypatch.setattr(frontend, "SIDE_DRY_SHARE", 0.1)
    monkeypatch.setattr(listener, "SIDE_RETRY", True)
    decode_whole = engine._PsDecoder._decode_whole

    def deaf(self):  # the main stream's readings: nothing usable
        raw, confidence, _second, *rest = decode_whole(self)
        return (
            ("", confidence, "the roses along the fence", *rest)
            if self._mode == "command"
            else (
                raw,
                confidence,
                _second,
                *rest,
            )
        )

    monkeypatch.setattr(engine._PsDecoder, "_decode_whole", deaf)
    events = pipeline.listen_wav(data.spoken("what time is it", "flite:slt", None, 0, seed=1))
    heard = [e for e in events if isinstance(e, UtteranceRecognized)]
    assert len(heard) == 1 and heard[0].second != "the roses along the fence", events
    assert pipeline.understand_heard(heard[0]).intent == "time_query"


def test_the_daemons_child_recognizer_decodes_the_side_stream_again(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon's recognizer runs in a child process: the side stream goes there beside the
    main one, and ``retry`` after ``finish`` decodes the kept side audio there."""
    from assistant.hearing import recognizer as recognizer_module

    monkeypatch.setattr(frontend, "SIDE_DRY_SHARE", 0.1)
    monkeypatch.setattr(listener, "SIDE_RETRY", True)
    retried: list[object] = []
    retry = recognizer_module._IsolatedDecoder.retry

    def counted(self):
        result = retry(self)
        retried.append(result)
        return result

    monkeypatch.setattr(recognizer_module._IsolatedDecoder, "retry", counted)
    daemon_like = build_pipeline(
        pipeline.settings, PipelineOptions(isolated=True, wake_phrase=""), understander=pipeline.understander
    )
    chatter = data.spoken("the roses along the fence are lovely this summer", "flite:slt", None, 0, seed=1)
    events: list[object] = []
    run = daemon_like.listener(events.append, source=WavSource(chatter))
    assert isinstance(run.recognizer, recognizer_module.IsolatedRecognizer)
    try:
        run.source.start()
        run.run_until_end()
    finally:
        run.recognizer.close()
    assert len(retried) == 1 and retried[0] is not None and retried[0].second, retried
    assert not [e for e in events if isinstance(e, UtteranceRecognized) and daemon_like.takes_heard(e)]


def test_a_grammar_reading_not_acted_on_is_confirmed_by_the_grammar_on_the_side_stream(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SIDE_CONFIRM`` (round 19): the grammar heard "what time is it", the second opinion nothing
    usable, so the pipeline would not act; the grammar decodes the side stream again (the second
    opinion, which heard that stream already, is not decoded again), hears the same command, and
    the reading is put ``confirmed``: acted on with ``CONFIRMED_ACTS``, rejected without it."""
    from assistant import pipeline as pipeline_module

    monkeypatch.setattr(listener, "SIDE_CONFIRM", True)
    decode_whole = engine._PsDecoder._decode_whole

    def deaf_second(self):  # the second opinion's reading: nothing usable
        raw, confidence, _second, *rest = decode_whole(self)
        return (
            (raw, confidence, "the roses along the fence", *rest)
            if self._mode == "command"
            else (
                raw,
                confidence,
                _second,
                *rest,
            )
        )

    searches: list[str] = []
    in_retry: list[bool] = []
    retry = engine._PsDecoder.retry
    decode_with = engine.PocketsphinxRecognizer._decode_with

    def counted(self):
        in_retry.append(True)
        try:
            return retry(self)
        finally:
            in_retry.clear()

    def recorded(self, search, audio):
        if in_retry:
            searches.append(search)
        return decode_with(self, search, audio)

    monkeypatch.setattr(engine.PocketsphinxRecognizer, "_decode_with", recorded)
    monkeypatch.setattr(engine._PsDecoder, "_decode_whole", deaf_second)
    monkeypatch.setattr(engine._PsDecoder, "retry", counted)
    events = pipeline.listen_wav(data.spoken("what time is it", "flite:slt", "kitchen.wav", 10, seed=1))
    heard = [e for e in events if isinstance(e, UtteranceRecognized)]
    assert len(heard) == 1 and heard[0].intent == "time_query" and heard[0].confirmed, events
    assert searches == ["command"], searches  # the grammar only
    assert pipeline.understand_heard(heard[0]).intent is None  # CONFIRMED_ACTS off: as before
    monkeypatch.setattr(pipeline_module, "CONFIRMED_ACTS", True)
    understood = pipeline.understand_heard(heard[0])
    assert understood.intent == "time_query" and not understood.unsure
    sure_other = dataclasses.replace(heard[0], second="call my doctor")
    assert pipeline.understand_heard(sure_other).intent != "time_query"


def test_a_command_acted_on_is_not_decoded_again_for_confirmation(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SIDE_CONFIRM``: both readings agree, so nothing is decoded again."""
    monkeypatch.setattr(listener, "SIDE_CONFIRM", True)
    retried: list[object] = []
    monkeypatch.setattr(engine._PsDecoder, "retry", lambda self: retried.append(self))
    understood = pipeline.understand_wav(data.spoken("what time is it", "flite:slt", None, 0, seed=1))
    assert understood.intent == "time_query" and not retried


def test_a_sure_emergency_of_the_language_model_alone_can_be_acted_on(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``pipeline.SECOND_EMERGENCY_ACTS_P`` (round 19, off): the grammar forced a symptom, the
    language model heard the emergency whole; asked about by default, acted on when it is that
    sure, never for the spotter's readings."""
    from assistant import pipeline as pipeline_module

    heard = UtteranceRecognized(
        "i can not get rid of off color",
        "en",
        "pocketsphinx",
        0.0,
        0.0,
        0.0,
        parsed=True,
        intent="report_symptom",
        slots=(("symptom", "unwell"),),
        second="i can not get up off the floor",
    )
    asked = pipeline.understand_heard(heard)
    assert asked.intent == "emergency" and asked.spot_check
    monkeypatch.setattr(pipeline_module, "SECOND_EMERGENCY_ACTS_P", 0.99)
    acted = pipeline.understand_heard(heard)
    assert acted.intent == "emergency" and not acted.spot_check
    assert pipeline.understand_heard(dataclasses.replace(heard, spotted=True)).spot_check
    weak = dataclasses.replace(heard, second="is ireland mayday outside")
    assert pipeline.understand_heard(weak).intent != "emergency" or pipeline.understand_heard(weak).spot_check
