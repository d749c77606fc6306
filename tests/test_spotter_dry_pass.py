"""The spotter's second pass on lightly denoised audio (``spotter.SPOT_DRY_SHARE``, round 18): the
listener keeps RNNoise's input under each utterance, aligned with what the recognizer got, and
decodes a wake-mode utterance again on it when the denoised audio heard nothing and stage 1
nearly fired. Real front-end, recognizer and speech."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from speechgen import read_pcm, speechgen_fixture  # noqa: F401  (the `speechgen` fixture)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import speech
import speech_data as data

from assistant.hearing import spotter
from assistant.hearing.frontend import RNNOISE_DELAY, make_frontend
from assistant.hearing.listener import UtteranceRecognized, WakeDetected
from assistant.hearing.sources import CHUNK_BYTES, WavSource
from assistant.pipeline import PipelineOptions, build_pipeline


@pytest.fixture(scope="module")
def woken():
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    return build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase="hello jiayi"))


def _frontend_output(pipeline, wav: Path) -> bytes:
    """What the daemon's front-end (fresh, as each listener's) makes of ``wav``, chunk by chunk."""
    frontend = make_frontend(pipeline.settings.asr.noise_filter)
    pcm = read_pcm(wav)
    return b"".join(frontend.process(pcm[i : i + CHUNK_BYTES]) for i in range(0, len(pcm), CHUNK_BYTES))


def _listen(pipeline, wav: Path) -> tuple[list[object], list[tuple[bytes, Any]], bytes]:
    """The daemon's listener on ``wav`` (from the factory); every decode's (audio, transcript)
    in order, and the front-end's output stream."""
    events: list[object] = []
    decodes: list[tuple[str, bytes, Any]] = []
    listener = pipeline.listener(events.append, source=WavSource(wav), decodes=decodes)
    listener.source.start()
    listener.run_until_end()
    return events, [(audio, result) for _mode, audio, result in decodes], _frontend_output(pipeline, wav)


def test_second_pass_decodes_the_front_ends_input_under_the_same_utterance(
    woken, speechgen, monkeypatch
) -> None:
    """Every wake-mode utterance that heard nothing is decoded again ("any"), on the input alone
    (share 1.0): that audio is exactly RNNoise's input under what the first decode got."""
    monkeypatch.setattr(spotter, "SPOT_DRY_SHARE", 1.0)
    monkeypatch.setattr(spotter, "SPOT_DRY_WHEN", "any")
    wav = speechgen.with_noise(
        speechgen.say("say hello to your mother for me", "flite:slt", stretch=data.STRETCH),
        "kitchen.wav",
        10,
        seed=101,
    )
    events, decodes, output = _listen(woken, wav)
    assert not any(isinstance(e, (WakeDetected, UtteranceRecognized)) for e in events), events
    assert len(decodes) >= 2 and len(decodes) % 2 == 0, [r.raw for _a, r in decodes]
    stream = bytes(2 * RNNOISE_DELAY) + read_pcm(wav)  # output sample j is input sample j - delay
    for (wet, _first), (dry, _again) in zip(decodes[::2], decodes[1::2], strict=True):
        at = output.find(wet)
        assert at >= 0 and at % 2 == 0
        assert dry == stream[at : at + len(wet)] and dry != wet


def test_second_pass_off_decodes_once(woken, speechgen, monkeypatch) -> None:
    monkeypatch.setattr(spotter, "SPOT_DRY_SHARE", 0.0)
    monkeypatch.setattr(spotter, "SPOT_DRY_WHEN", "any")
    wav = speechgen.with_noise(
        speechgen.say("say hello to your mother for me", "flite:slt", stretch=data.STRETCH),
        "kitchen.wav",
        10,
        seed=101,
    )
    _events, decodes, _output = _listen(woken, wav)
    assert len(decodes) == 1, [r.raw for _a, r in decodes]


def test_dry_mix_adds_the_share_of_the_input() -> None:
    import array

    wet = array.array("h", [100, -200, 32000]).tobytes()
    dry = array.array("h", [1000, 1000, 10000]).tobytes()
    assert array.array("h", spotter.dry_mix(wet, dry, 0.25)).tolist() == [350, 50, 32767]
    assert spotter.dry_mix(wet, dry, 1.0) == dry


def test_no_second_pass_in_a_quiet_room(woken, speechgen, monkeypatch) -> None:
    """Clean speech: RNNoise takes out almost nothing (spotter.SPOT_DRY_MIN_REMOVED_DB), so a
    second decode would only be another chance to mishear."""
    monkeypatch.setattr(spotter, "SPOT_DRY_SHARE", 0.3)
    monkeypatch.setattr(spotter, "SPOT_DRY_WHEN", "any")
    wav = speechgen.say("say hello to your mother for me", "flite:slt", stretch=data.STRETCH)
    _events, decodes, _output = _listen(woken, wav)
    assert len(decodes) == 1, [r.raw for _a, r in decodes]
    ((wet, _result),) = decodes
    dry = (bytes(2 * RNNOISE_DELAY) + read_pcm(wav))[: len(wet)]
    assert spotter.removed_db(wet, wet) == 0.0 and spotter.removed_db(wet, dry) < 0.5


def test_emergency_lost_in_5_db_is_heard_on_the_lightly_denoised_audio(woken, speechgen, monkeypatch) -> None:
    """A tuning sentence at 5 dB (bench/wake_trace.py's mixing): on RNNoise's output the wake
    search and stage 1 hear no emergency at all; RNNoise's output plus 0.3 of its input, decoded
    again by the same two stages, is heard as "i have chest pain" and acted on or asked about."""
    wav = speechgen.with_noise(
        speechgen.say("i have chest pain", "flite:kal16", stretch=data.STRETCH), "kitchen.wav", 5, seed=100
    )
    monkeypatch.setattr(spotter, "SPOT_DRY_SHARE", 0.0)
    events, decodes, _output = _listen(woken, wav)
    assert not any(isinstance(e, UtteranceRecognized) and e.spotted for e in events), events
    monkeypatch.setattr(spotter, "SPOT_DRY_SHARE", 0.3)
    monkeypatch.setattr(spotter, "SPOT_DRY_WHEN", "any")
    events, decodes, _output = _listen(woken, wav)
    (heard,) = [e for e in events if isinstance(e, UtteranceRecognized)]
    assert heard.spotted and not heard.after_wake, heard
    assert woken.understand_heard(heard).intent == "emergency"
    assert len(decodes) == 2 and "chest pain" in decodes[1][1].candidate, [r.raw for _a, r in decodes]
