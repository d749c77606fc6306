"""Endpointing on real (espeak-ng) speech: start with pre-roll, trailing silence, pauses of slow
speech, max length, noise rejection."""

from __future__ import annotations

import array
import random

from speechgen import SpeechGen, read_pcm, silence, speechgen_fixture  # noqa: F401

from assistant.hearing.endpointing import FRAME_S, EndpointConfig, Endpointer
from assistant.hearing.sources import CHUNK_BYTES


def _run(ep: Endpointer, pcm: bytes) -> list[tuple[float, str, object]]:
    out = []
    for i in range(0, len(pcm) - CHUNK_BYTES + 1, CHUNK_BYTES):
        step = ep.process(pcm[i : i + CHUNK_BYTES])
        if step.kind in ("start", "end"):
            out.append((round(i / CHUNK_BYTES * FRAME_S, 2), step.kind, step))
    return out


def test_one_utterance_with_preroll_and_configured_trailing_silence(speechgen: SpeechGen) -> None:
    pcm = read_pcm(speechgen.say("call my doctor please", lead_s=1.0, trail_s=2.0))
    marks = _run(Endpointer(EndpointConfig(trailing_silence_s=1.2)), pcm)
    assert [m[1] for m in marks] == ["start", "end"]
    (t_start, _, start), (t_end, _, end) = marks
    assert 0.9 <= t_start <= 1.4  # speech begins at 1.0 s
    assert len(start.audio) >= 8 * CHUNK_BYTES  # pre-roll handed over with the start
    speech_len = len(pcm) / 32000 - 3.0
    assert end.reason == "silence" and 1.2 <= end.trailing_s < 1.3
    # espeak-ng pads its own output with a little silence, so the end comes at most that early
    assert 1.0 + speech_len + 0.7 <= t_end <= 1.0 + speech_len + 1.2 + 0.1


def test_slow_halting_speech_is_not_cut_at_a_pause(speechgen: SpeechGen) -> None:
    a = speechgen.say("I need", wpm=90, lead_s=0.5, trail_s=0.0)
    b = speechgen.say("my blood pressure pills", wpm=90, lead_s=0.0, trail_s=1.6)
    # 0.2 s added to espeak-ng's own 0.8 s after "I need": a 1 s hesitation mid-sentence
    pcm = read_pcm(speechgen.concat(a, 0.2, b))
    kinds = [m[1] for m in _run(Endpointer(EndpointConfig(trailing_silence_s=1.2)), pcm)]
    assert kinds == ["start", "end"]
    short = [m[1] for m in _run(Endpointer(EndpointConfig(trailing_silence_s=0.5)), pcm)]
    assert short == ["start", "end", "start", "end"]  # the setting is what decides


def test_max_utterance_length_cuts_endless_speech(speechgen: SpeechGen) -> None:
    pcm = read_pcm(speechgen.say("one two three four five six seven eight nine ten " * 2, wpm=160))
    marks = _run(Endpointer(EndpointConfig(max_utterance_s=2.0)), pcm)
    assert marks[1][2].reason == "max_length"


def test_silence_and_a_click_do_not_start_an_utterance() -> None:
    ep = Endpointer()
    assert _run(ep, silence(3.0)) == []
    click = array.array("h", [20000 if i % 2 else -20000 for i in range(160)]).tobytes()
    assert _run(ep, silence(0.5) + click + silence(2.0)) == []


def test_steady_noise_raises_the_floor_instead_of_talking_forever() -> None:
    rng = random.Random(3)
    noise = array.array("h", (int(rng.gauss(0, 1500)) for _ in range(16000 * 6))).tobytes()
    marks = _run(Endpointer(EndpointConfig(vad_aggressiveness=3)), noise)
    assert all(m[1] != "end" or m[2].reason != "max_length" for m in marks)
    assert len(marks) <= 2
