"""pocketsphinx built with the project's patch (``third_party/pocketsphinx/``, ``make venv``;
``pocketsphinx_engine.PATCHED_LABEL``) reads what PyPI's wheel reads: the readings below were
recorded with PyPI's pocketsphinx 5.1.1 wheel on a slice of the tuning material (the dev commands,
clean and kitchen 10 dB, command search + second opinion; dev emergencies in kitchen 10 dB, the
wake search and both spotter stages), and both builds must give them word for word. Real
pocketsphinx, the built-in catalog's recognizer, flite speech (docs/benchmarks/speech.md, round 19)."""

from __future__ import annotations

import sys
import wave
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import speech  # noqa: E402
import speech_data as data  # noqa: E402

from assistant.hearing import pocketsphinx_engine as engine  # noqa: E402
from assistant.pipeline import Pipeline, PipelineOptions, build_pipeline  # noqa: E402

PATCH_DIR = Path(__file__).resolve().parent.parent / "third_party" / "pocketsphinx"

# (mode, sentence, voice, noise, SNR dB, (raw, second opinion, spotter candidate, free transcription))
RECORDED = [
    (
        "command",
        "i need to talk to doctor chen",
        "flite:kal16",
        None,
        0,
        ("i need to talk to doctor chen", "i need to talk to doctor chen", "", ""),
    ),
    (
        "command",
        "i need to talk to doctor chen",
        "flite:kal16",
        "kitchen.wav",
        10,
        ("i need to talk to doctor chen", "i need to talk to doctor chen", "", ""),
    ),
    (
        "command",
        "order some more metformin",
        "flite:kal16",
        None,
        0,
        ("order tablets", "order some more metformin", "", ""),
    ),
    (
        "command",
        "order some more metformin",
        "flite:kal16",
        "kitchen.wav",
        10,
        ("order more metformin", "order some more metformin", "", ""),
    ),
    (
        "command",
        "is it time for my medicine",
        "flite:kal16",
        None,
        0,
        ("is it time for my medicine", "is it time for my medicine", "", ""),
    ),
    (
        "command",
        "is it time for my medicine",
        "flite:kal16",
        "kitchen.wav",
        10,
        ("is it time for my medicine", "is it time for my medicine", "", ""),
    ),
    (
        "command",
        "i would like to see the doctor",
        "flite:kal16",
        None,
        0,
        ("i would like to see the doctor", "i would like to see the doctor", "", ""),
    ),
    (
        "command",
        "i would like to see the doctor",
        "flite:kal16",
        "kitchen.wav",
        10,
        ("i would like to see the doctor", "i would like to see the doctor", "", ""),
    ),
    (
        "command",
        "tell me the time please",
        "flite:kal16",
        None,
        0,
        ("tell me the time", "tell me the time please", "", ""),
    ),
    (
        "command",
        "tell me the time please",
        "flite:kal16",
        "kitchen.wav",
        10,
        ("tell me the time", "tell me the time please", "", ""),
    ),
    (
        "wake",
        "help me please",
        "flite:slt",
        "kitchen.wav",
        10,
        ("him it who the who use", "", "i can't move please", "yeah let me who needs"),
    ),
    (
        "wake",
        "get an ambulance",
        "flite:slt",
        "kitchen.wav",
        10,
        ("then him him who most", "", "get an ambulance", "get him loose"),
    ),
    (
        "wake",
        "i think i am having a stroke",
        "flite:slt",
        "kitchen.wav",
        10,
        ("find him time had who see are", "", "i think i am having stroke", "i can't i am having a few"),
    ),
]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    return build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=""))


def _pcm(text: str, voice: str, noise: str | None, snr: int) -> bytes:
    with wave.open(str(data.spoken(text, voice, noise, snr, seed=1)), "rb") as handle:
        return handle.readframes(handle.getnframes())


def test_readings_are_those_of_pypis_wheel(pipeline) -> None:
    recognizer = pipeline.recognizer()
    build = "patched" if engine.patched_build() else "PyPI wheel"
    for mode, text, voice, noise, snr, expected in RECORDED:
        decoder = recognizer.begin(mode)
        decoder.accept(_pcm(text, voice, noise, snr))
        heard = decoder.finish()
        got = (heard.raw, heard.second, heard.candidate, heard.free_text)
        assert got == expected, f"{build}: {mode} {text!r} {noise} {snr}"


def test_the_patch_touches_only_the_fsg_history() -> None:
    patches = sorted(PATCH_DIR.glob("*.patch"))
    assert patches, "no patch shipped"
    files = {
        line.split()[1].split("/", 1)[1]
        for patch in patches
        for line in patch.read_text().splitlines()
        if line.startswith("+++ ")
    }
    assert files == {"src/fsg_history.c", "src/fsg_history.h"}
