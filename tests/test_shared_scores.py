"""One acoustic scoring pass for the command search and the second opinion
(``pocketsphinx_engine.SHARED_SCORES``, off in the daemon; ``shared_scores``): the second opinion
decoded from the command search's senone scores reads as it does from the audio. Real pocketsphinx,
the built-in catalog's recognizer, flite speech."""

from __future__ import annotations

import sys
import wave
from pathlib import Path
from types import SimpleNamespace

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import speech  # noqa: E402
import speech_data as data  # noqa: E402

from assistant.hearing import pocketsphinx_engine as engine  # noqa: E402
from assistant.hearing import shared_scores  # noqa: E402
from assistant.pipeline import Pipeline, PipelineOptions, build_pipeline  # noqa: E402


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    return build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=""))


def _pcm(text: str, voice: str, noise: str | None = None, snr: int = 0) -> bytes:
    with wave.open(str(data.spoken(text, voice, noise, snr, seed=1)), "rb") as handle:
        return handle.readframes(handle.getnframes())


def _heard(recognizer, pcm: bytes):
    decoder = recognizer.begin("command")
    decoder.accept(pcm)
    return decoder.finish()


def test_attach_only_to_a_pocketsphinx_decoder() -> None:
    assert shared_scores.attach(SimpleNamespace(config={})) is None
    assert shared_scores.attach(object()) is None


def test_the_second_opinion_from_shared_scores_reads_as_from_the_audio(
    pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    recognizer = pipeline.recognizer()
    scores = shared_scores.attach(recognizer._decoder)
    assert scores is not None, "this pocketsphinx build's layout was not recognised"
    monkeypatch.setattr(engine, "SECOND_OPINION_LOOKAHEAD", 0)  # what shared scores need
    monkeypatch.setattr(recognizer, "_active_search", "")  # activated again with it
    replayed: list[int] = []
    decode = type(scores).decode

    def spied(self, audio_bytes: int) -> int:
        frames = decode(self, audio_bytes)
        replayed.append(frames)
        return frames

    monkeypatch.setattr(type(scores), "decode", spied)
    try:
        cases = [
            ("call my doctor", "flite:slt", None, 0),
            ("i have run out of my heart pills", "festival:kal_diphone", None, 0),
            ("what time is it", "flite:kal16", "kitchen.wav", 10),
        ]
        for text, voice, noise, snr in cases:
            pcm = _pcm(text, voice, noise, snr)
            monkeypatch.setattr(recognizer, "_scores", None)
            alone = _heard(recognizer, pcm)
            monkeypatch.setattr(recognizer, "_scores", scores)
            replayed.clear()
            shared = _heard(recognizer, pcm)
            assert replayed and replayed[0] > 0, "the second opinion was not decoded from the scores"
            assert (shared.raw, shared.second) == (alone.raw, alone.second), text
            assert scores.frames == 0  # used once, then dropped
    finally:
        recognizer._active_search = ""  # later tests activate the second opinion with the default
