"""Speech output: real pyttsx3/espeak-ng speech, recorded prompts, worker restarts, sinks, earcons, `jiayi say`."""

from __future__ import annotations

import importlib.util
import logging
import threading
import wave
from dataclasses import replace
from pathlib import Path

import pytest

from assistant import data
from assistant.cli import main
from assistant.conversation.actions import Say
from assistant.conversation.playback import (
    NullSink,
    Pcm,
    SinkUnavailable,
    WavFileSink,
    open_sink,
    pick_output_device,
    read_wav,
    rms,
    write_wav,
)
from assistant.conversation.voice import (
    MIN_VOLUME,
    Speaker,
    SynthesisFailed,
    SynthesisTimeout,
    SynthesisWorker,
    SynthRequest,
    pyttsx3_synthesize,
)
from assistant.ops.settings import Audio, Voice

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEECH_RMS_FLOOR = 500.0
"""Real speech from espeak-ng sits around 3000-4000 RMS; silence is 0."""

MORNING = "Good morning Margaret, it is time for your blood pressure tablet."
MORNING_WORDS = 11


# ---------------------------------------------------------------- worker functions (run in the child)


def hanging_synth(request: SynthRequest) -> None:
    """Behaves like pyttsx3, except that text containing HANG never returns (pyttsx3 #126)."""
    if "HANG" in request.text:
        threading.Event().wait(600)
    pyttsx3_synthesize(request)


def broken_synth(request: SynthRequest) -> None:
    raise RuntimeError("pyttsx3 could not initialise")


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def speaker():
    """One real pyttsx3 worker shared by the synthesis tests (the process start is the slow part)."""
    sink = NullSink()
    spk = Speaker(Voice(), sink)
    yield spk
    spk.close()


def _sine(freq: float, seconds: float, rate: int = 16000, level: int = 8000) -> Pcm:
    import array
    import math

    samples = array.array(
        "h", (int(level * math.sin(2 * math.pi * freq * i / rate)) for i in range(int(rate * seconds)))
    )
    return Pcm(samples.tobytes(), rate)


# ---------------------------------------------------------------- real synthesis


def test_english_speech_is_audible_and_paced_for_the_rate(speaker: Speaker) -> None:
    rendered = speaker.render(Say(MORNING, "reminder_due", "en"))
    assert rendered.source == "pyttsx3"
    assert rms(rendered.pcm) > SPEECH_RMS_FLOOR
    expected_s = MORNING_WORDS / speaker.rate_wpm * 60
    assert 0.5 * expected_s < rendered.pcm.duration_s < 2.0 * expected_s


def test_mandarin_speech_uses_the_pinyin_voice(speaker: Speaker) -> None:
    rendered = speaker.render(Say("王阿姨，早上好，该吃降压药了。", "reminder_due", "zh"))
    assert rendered.source == "pyttsx3"
    assert rms(rendered.pcm) > SPEECH_RMS_FLOOR
    assert 1.0 < rendered.pcm.duration_s < 10.0
    assert speaker.voice_for("zh") == "cmn-latn-pinyin"
    assert "cmn-latn-pinyin" not in speaker.check_voices()


def test_english_voice_comes_back_after_mandarin(speaker: Speaker) -> None:
    # espeak refuses "en-gb" by name; without resolving it the Mandarin voice would stay on.
    before = speaker.render(Say("Hello Margaret", "", "en")).pcm
    speaker.render(Say("你好", "", "zh"))
    after = speaker.render(Say("Hello Margaret", "", "en")).pcm
    assert abs(before.duration_s - after.duration_s) < 0.05


def test_slower_rate_gives_longer_audio(speaker: Speaker) -> None:
    fast = Speaker(replace(Voice(), rate_wpm=220), NullSink(), worker=speaker.worker)
    slow = Speaker(replace(Voice(), rate_wpm=100), NullSink(), worker=speaker.worker)
    fast_s = fast.render(Say(MORNING, "", "en")).pcm.duration_s
    slow_s = slow.render(Say(MORNING, "", "en")).pcm.duration_s
    assert slow_s > 1.5 * fast_s


def test_a_slow_say_is_spoken_more_slowly(speaker: Speaker) -> None:
    """The urgent-symptom question (``Say.slow``) at 0.8 x the configured rate."""
    normal_s = speaker.render(Say(MORNING, "", "en")).pcm.duration_s
    slow_s = speaker.render(Say(MORNING, "", "en", slow=True)).pcm.duration_s
    assert slow_s > 1.15 * normal_s


def test_recorded_prompt_replaces_synthesis(tmp_path: Path, speaker: Speaker) -> None:
    recorded = _sine(600, 0.4)
    write_wav(tmp_path / "zh" / "reminder_due.wav", recorded)
    spk = Speaker(Voice(), NullSink(), prompts_dir=tmp_path, worker=speaker.worker)
    rendered = spk.render(Say("该吃药了", "reminder_due", "zh"))
    assert rendered.source == "prompt"
    assert rendered.pcm == recorded
    # the English prompt was not recorded: synthesized
    assert spk.render(Say("Time for your tablet", "reminder_due", "en")).source == "pyttsx3"
    # a prompt id can't reach outside the prompts folder
    write_wav(tmp_path / "secret.wav", recorded)
    assert spk.prompt_path("../secret", "zh") is None


def test_hung_worker_is_killed_restarted_and_the_next_utterance_works() -> None:
    worker = SynthesisWorker(hanging_synth, timeout_s=1.0)
    spk = Speaker(Voice(), NullSink(), worker=worker)
    try:
        assert spk.render(Say("First", "", "en")).source == "pyttsx3"
        with pytest.raises(SynthesisTimeout):
            worker.synthesize(SynthRequest("HANG", "en-gb", 130, str(spk._work_dir / "x.wav")))
        assert worker.restarts == 1
        # the person still hears a hung utterance: espeak-ng steps in after the restart
        hung = spk.render(Say("HANG here", "", "en"))
        assert hung.source == "espeak-ng"
        assert rms(hung.pcm) > SPEECH_RMS_FLOOR
        assert worker.restarts == 2
        after = spk.render(Say("Still here", "", "en"))
        assert after.source == "pyttsx3"
        assert rms(after.pcm) > SPEECH_RMS_FLOOR
    finally:
        spk.close()


def test_espeak_ng_fallback_when_pyttsx3_fails() -> None:
    spk = Speaker(Voice(), NullSink(), worker=SynthesisWorker(broken_synth))
    try:
        rendered = spk.render(Say("Your daughter is on her way.", "", "en"))
        assert rendered.source == "espeak-ng"
        assert rms(rendered.pcm) > SPEECH_RMS_FLOOR
        assert spk.fallbacks == 1
        assert spk.worker.restarts == 0  # an error reply is not a hang
    finally:
        spk.close()


def test_spoken_text_is_logged_only_when_allowed(
    tmp_path: Path, speaker: Speaker, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Your blood sugar was high"
    quiet = Speaker(Voice(), NullSink(), worker=speaker.worker)
    with caplog.at_level(logging.DEBUG):
        quiet.say(Say(secret, "symptom_ack", "en"))
    assert secret not in caplog.text
    assert "symptom_ack" in caplog.text
    caplog.clear()
    chatty = Speaker(Voice(), NullSink(), worker=speaker.worker, log_transcripts=True)
    with caplog.at_level(logging.INFO):
        chatty.say(Say(secret, "symptom_ack", "en"))
    assert secret in caplog.text


# ---------------------------------------------------------------- sinks and volume


def test_wav_sink_numbers_files_and_continues_after_a_restart(tmp_path: Path) -> None:
    sink = WavFileSink(tmp_path)
    sink.start()
    sink.play(_sine(500, 0.1), label="earcon-wake")
    sink.play(_sine(500, 0.1).data, 16000)
    assert [p.name for p in sink.written] == ["0001-earcon-wake.wav", "0002.wav"]
    again = WavFileSink(tmp_path)
    again.start()
    again.play(tmp_path / "0001-earcon-wake.wav", label="../../etc/passwd")
    assert again.written[0].parent == tmp_path
    assert again.written[0].name.startswith("0003-")
    assert read_wav(again.written[0]) == _sine(500, 0.1)
    assert again.wait(0.1)


def test_null_sink_counts_what_it_was_given() -> None:
    sink = NullSink()
    sink.play(_sine(500, 0.25))
    sink.play(_sine(500, 0.5).data, 16000)
    assert sink.played == 2
    assert sink.seconds == pytest.approx(0.75)
    with pytest.raises(ValueError):
        sink.play(b"\x00\x00")  # raw PCM without a rate


def test_open_sink_by_settings(tmp_path: Path) -> None:
    assert open_sink(Audio(output="null")).name == "null"
    assert open_sink(Audio(output="wav", output_dir=str(tmp_path / "out"))).name == "wav"
    assert (tmp_path / "out").is_dir()
    with pytest.raises(SinkUnavailable, match="output_dir"):
        open_sink(Audio(output="wav"))
    with pytest.raises(SinkUnavailable, match="no-such-speaker"):
        open_sink(Audio(output="speaker", output_device="no-such-speaker"))


def test_output_device_is_picked_by_name_pattern() -> None:
    devices = [
        {"name": "USB Mic", "max_output_channels": 0},
        {"name": "bcm2835 Headphones", "max_output_channels": 2},
        {"name": "ReSpeaker 4 Mic Array: USB Audio", "max_output_channels": 2},
    ]
    assert pick_output_device(devices, "respeaker") == 2
    assert pick_output_device(devices, r"bcm\d+") == 1
    assert pick_output_device(devices, "") is None
    with pytest.raises(SinkUnavailable, match="USB Mic") as err:
        pick_output_device(devices, "USB Mic")  # an input-only device is not a speaker
    assert "Headphones" in str(err.value)
    with pytest.raises(SinkUnavailable):
        pick_output_device(devices[:1], "")


def test_volume_is_clamped_and_scales_the_audio(tmp_path: Path) -> None:
    spk = Speaker(replace(Voice(), volume=3.0), WavFileSink(tmp_path), worker=SynthesisWorker(broken_synth))
    try:
        assert spk.volume == 1.0
        assert spk.set_volume(+0.5) == 1.0
        assert spk.play_earcon("done")
        assert spk.set_volume(-0.5) == pytest.approx(0.5)
        assert spk.play_earcon("done")
        assert spk.set_volume(-5.0) == MIN_VOLUME
        loud, soft = (read_wav(p) for p in spk.sink.written)
        assert rms(soft) == pytest.approx(rms(loud) * 0.5, rel=0.02)
    finally:
        spk.close()


# ---------------------------------------------------------------- earcons


def _dominant_hz(pcm: Pcm) -> float:
    samples = memoryview(pcm.data).cast("h")
    crossings = sum(1 for a, b in zip(samples, samples[1:], strict=False) if (a < 0) != (b < 0))
    return crossings / 2 / pcm.duration_s


@pytest.mark.parametrize("name", ["wake", "listening", "done", "error"])
def test_earcons_are_short_gentle_and_low_enough(name: str) -> None:
    path = data.audio_dir() / "earcons" / f"{name}.wav"
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 16000)
    pcm = read_wav(path)
    assert 0.1 < pcm.duration_s < 0.5
    assert rms(pcm) > 1000
    assert max(abs(s) for s in memoryview(pcm.data).cast("h")) < 0.6 * 32768
    # zero crossings over the whole file (gaps included) put a lower bound on the pitch
    assert 350 < _dominant_hz(pcm) < 900


def test_committed_earcons_match_the_generator(tmp_path: Path) -> None:
    script = REPO_ROOT / "scripts" / "make_earcons.py"
    spec = importlib.util.spec_from_file_location("make_earcons", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for made in module.write_all(tmp_path):
        committed = data.audio_dir() / "earcons" / made.name
        assert made.read_bytes() == committed.read_bytes(), made.name


def test_speaker_plays_earcons_through_the_sink(tmp_path: Path) -> None:
    spk = Speaker(Voice(), WavFileSink(tmp_path), worker=SynthesisWorker(broken_synth))
    try:
        assert spk.play_earcon("wake")
        assert not spk.play_earcon("fanfare")
        assert [p.name for p in spk.sink.written] == ["0001-earcon-wake.wav"]
    finally:
        spk.close()


# ---------------------------------------------------------------- jiayi say


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        'person:\n  name: "Margaret Lee"\n  address_as: "Margaret"\n  language: en\n'
        'doctor:\n  name: "Dr. Chen"\n  phone: "+1 555 0100"\n'
        "emergency:\n  accept_alarm_only: true\n" + extra,
        encoding="utf-8",
    )
    return path


def test_jiayi_say_writes_a_wav(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "said.wav"
    code = main(["say", "Good morning Margaret", "--wav", str(out), "--config", str(_config(tmp_path))])
    assert code == 0
    assert rms(read_wav(out)) > SPEECH_RMS_FLOOR
    assert str(out) in capsys.readouterr().out
    zh = tmp_path / "zh.wav"
    assert main(["say", "早上好", "--lang", "zh", "--wav", str(zh), "--config", str(_config(tmp_path))]) == 0
    assert rms(read_wav(zh)) > SPEECH_RMS_FLOOR


def test_jiayi_say_without_a_speaker_suggests_wav(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, 'audio:\n  output: speaker\n  output_device: "no-such-speaker"\n')
    assert main(["say", "Hello", "--config", str(config)]) == 2
    assert "--wav" in capsys.readouterr().err


def test_the_tts_worker_is_one_plain_child_process() -> None:
    # It was multiprocessing's spawn, which also started a resource-tracker process (13 MB,
    # bench/memory.py); now one plain child, as the recognizer's.
    import os

    children_file = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    before = set(children_file.read_text().split())  # earlier tests may have left a tracker of their own
    worker = SynthesisWorker(broken_synth)
    try:
        worker.start()
        pid = worker._process.pid
        assert set(children_file.read_text().split()) - before == {str(pid)}
        # the function from this test module reached the child through the parent's import path
        with pytest.raises(SynthesisFailed, match="could not initialise"):
            worker.synthesize(SynthRequest("Hello", "en-gb", 130, "/nonexistent/x.wav"))
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")  # read once it has answered
        assert b"assistant.conversation.tts_child" in command
    finally:
        worker.close()
    assert worker._process is None
