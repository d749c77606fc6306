"""The daemon hears, answers and speaks (issue 3's done criterion): ``audio.input: wav`` with real
espeak-ng speech, pocketsphinx (English) through the pipeline factory (``assistant.pipeline``) in its isolated child process,
``audio.output: wav`` for the reply. Out-of-scope speech and silence trigger nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from e2e_helpers import make_settings, nonsilent_wavs, running_daemon
from speechgen import SpeechGen, speechgen_fixture  # noqa: F401

from assistant.ops.clock import ManualClock
from assistant.ops.settings import Asr, Audio, PhoneFallback

LISTENER_TIMEOUT_S = 30.0


def _speech_settings(tmp_path: Path, wav: Path):
    audio = Audio(input="wav", input_wav=str(wav), output="wav", output_dir=str(tmp_path / "spoken"))
    # A modem route is configured, so the alarm-only start-up notice is not among the replies.
    phone = PhoneFallback(driver="modem", serial_port=str(tmp_path / "no-modem"))
    return make_settings(
        tmp_path / "state", audio=audio, asr=Asr(engine="pocketsphinx"), phone_fallback=phone
    )


def _speech_wavs(folder: Path) -> list[Path]:
    return [p for p in nonsilent_wavs(folder) if "earcon" not in p.name]


def _heard_everything(h) -> bool:
    """The WAV was read to its end and the daemon handled every event the listener put."""
    listener = h.daemon.listener
    return listener.join(0) and h.daemon.events.counters().depth == 0 and not h.daemon.speech.busy()


def test_daemon_hears_what_time_is_it_from_a_wav_and_speaks_the_answer(
    tmp_path: Path, speechgen: SpeechGen
) -> None:
    # flite, not espeak-ng: espeak voices are a poor stand-in for people with pocketsphinx (38 %
    # against 81 %, docs/benchmarks/speech.md); with the command search's second opinion the
    # espeak "what time is it" is heard by the grammar but "what i get" by the language model,
    # and the daemon asks again (measured, round 6).
    wav = speechgen.say("what time is it", "flite:slt")  # 0.5 s of silence before, 1.6 s after
    settings = _speech_settings(tmp_path, wav)
    clock = ManualClock(dt.datetime(2026, 11, 23, 14, 30, tzinfo=dt.UTC))
    # sink None: the daemon opens the WAV sink from settings.audio itself.
    with running_daemon(
        settings, clock=clock, components={"sink": None}, use_relay=False, use_listener=True
    ) as h:
        assert h.daemon.listener is not None and h.daemon.status().audio_input == "wav"
        h.pump_until(lambda: h.echo.said(), LISTENER_TIMEOUT_S, what="a spoken reply")
        (reply,) = h.echo.said()
        assert "2" in reply or "two" in reply.lower() or "half past" in reply.lower(), reply
        wavs = h.pump_until(lambda: _speech_wavs(tmp_path / "spoken"), what="a spoken reply WAV")
        assert len(wavs) == 1
        assert h.echo.sent() == []
        assert h.daemon.status().engine == "pocketsphinx"
    assert h.daemon.state.value == "stopped"
    assert h.daemon.listener.join(0)  # the listener thread ended with the daemon


CHATTER = ("the weather is lovely today", "my grandson is coming on sunday", "i like gardening in the spring")


def test_out_of_scope_speech_sends_no_request(tmp_path: Path, speechgen: SpeechGen) -> None:
    parts: list[Path | float] = []
    for text in CHATTER:
        parts += [speechgen.say(text), 1.0]
    wav = speechgen.concat(*parts, name="chatter")
    settings = _speech_settings(tmp_path, wav)
    with running_daemon(settings, components={"sink": None}, use_relay=False, use_listener=True) as h:
        h.pump_until(lambda: _heard_everything(h), LISTENER_TIMEOUT_S, what="the WAV processed")
        # pocketsphinx's grammar may mishear chatter as a short phrase ("sorry"), but nothing that
        # leaves the device: no request and no error.
        assert h.echo.sent() == []
        assert h.daemon.last_error == ""


def test_silence_only_triggers_nothing(tmp_path: Path, speechgen: SpeechGen) -> None:
    wav = speechgen.concat(5.0, name="silence-only")
    settings = _speech_settings(tmp_path, wav)
    with running_daemon(settings, components={"sink": None}, use_relay=False, use_listener=True) as h:
        h.pump_until(lambda: _heard_everything(h), LISTENER_TIMEOUT_S, what="the WAV processed")
        assert h.echo.said() == [] and h.echo.sent() == []
        assert _speech_wavs(tmp_path / "spoken") == []
        assert h.daemon.last_error == ""
