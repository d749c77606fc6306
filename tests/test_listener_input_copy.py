"""The listener's one copy of the front-end's input (``listener.InputCopy``): both readers — the
side stream of the second opinion (``frontend.SIDE_DRY_SHARE``) and the spotter's second pass
(``spotter.SPOT_DRY_SHARE``) — get the input exactly under what the decoder got, whether the
front-end hands its delayed input over (``frontend.SideMix``) or not (RNNoise alone). A stand-in
recognizer notes the audio; no decoding."""

from __future__ import annotations

from pathlib import Path

import pytest
from speechgen import read_pcm, speechgen_fixture  # noqa: F401  (the `speechgen` fixture)

from assistant.hearing import frontend as fe
from assistant.hearing import listener as lis
from assistant.hearing.recognizer import Transcript
from assistant.hearing.sources import WavSource


class Decoder:
    def __init__(self, mode: str, log: list) -> None:
        self.mode, self.log, self.main, self.side = mode, log, bytearray(), bytearray()

    def accept(self, pcm: bytes) -> None:
        self.main += pcm

    def accept_side(self, pcm: bytes) -> None:
        self.side += pcm

    def finish(self) -> Transcript:
        self.log.append(("decode", self.mode, bytes(self.main), bytes(self.side)))
        return Transcript("", "", "pocketsphinx", "en", True)


class Recognizer:
    engine, lang = "pocketsphinx", "en"

    def __init__(self) -> None:
        self.log: list = []

    def begin(self, mode: str = "command") -> Decoder:
        return Decoder(mode, self.log)


def _run(wav: Path, wake_phrase: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list, lis.Listener]:
    recognizer = Recognizer()
    log = recognizer.log
    monkeypatch.setattr(
        lis.Listener, "_put_parsed_twice", lambda self, result, wet, dry, *a: log.append(("dry", wet, dry))
    )
    monkeypatch.setattr(lis.Listener, "_put_parsed_or_retry", lambda self, *a: log.append(("once",)))
    listener = lis.Listener(
        WavSource(wav),
        recognizer,  # type: ignore[arg-type]
        lambda _e: None,
        wake_phrase=wake_phrase,
        grammar=object(),  # type: ignore[arg-type]
        frontend=fe.make_frontend("rnnoise"),
        verify=lambda *_a: False,
    )
    listener.source.start()
    listener.run_until_end()
    return log, listener


def _long_wav(speechgen, tmp_path: Path) -> Path:
    """Three sentences back to back in kitchen noise (several utterances in one stream)."""
    import wave

    parts = [
        read_pcm(speechgen.with_noise(speechgen.say(t, "flite:slt"), "kitchen.wav", 10, seed=7))
        for t in ("call my son please", "i have fallen over", "what time is it")
    ]
    path = tmp_path / "long.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16000)
        out.writeframes(b"".join(parts))
    return path


@pytest.mark.parametrize("side_share", [0.05, 0.0])
def test_both_readers_get_the_input_under_what_the_decoder_got(
    speechgen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, side_share: float
) -> None:
    monkeypatch.setattr(fe, "RNNOISE_QUIET_DBFS", None)
    monkeypatch.setattr(fe, "SIDE_DRY_SHARE", side_share)
    wav = _long_wav(speechgen, tmp_path)
    log, listener = _run(wav, "hello jiayi", monkeypatch)
    frontend = fe.make_frontend("rnnoise")
    assert isinstance(frontend, fe.SideMix) == (side_share > 0)
    pcm = read_pcm(wav)
    output = b"".join(frontend.process(pcm[i : i + 960]) for i in range(0, len(pcm), 960))
    delayed = bytes(2 * fe.RNNOISE_DELAY) + pcm  # output sample j is input sample j - delay
    decodes = [e for e in log if e[0] == "decode"]
    passes = [e for e in log if e[0] == "dry"]
    assert len(decodes) >= 2 and len(passes) == len(decodes)  # every utterance, wake mode
    for (_kind, _mode, main, side), (_k, wet, dry) in zip(decodes, passes, strict=True):
        at = output.find(main)
        assert at >= 0 and at % 2 == 0 and wet == main
        assert dry == delayed[at : at + len(main)]
        if side_share > 0:
            assert side == frontend.side_of(main, dry)  # type: ignore[union-attr]
        else:
            assert side == b""  # no side stream without SideMix
    kept = len(listener._input._kept)  # type: ignore[union-attr]
    assert kept <= lis.INPUT_KEEP_BYTES  # no utterance open at the end: only the last 2 s


def test_command_mode_gets_the_side_stream_and_no_second_pass(
    speechgen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fe, "RNNOISE_QUIET_DBFS", None)
    monkeypatch.setattr(fe, "SIDE_DRY_SHARE", 0.05)
    log, listener = _run(_long_wav(speechgen, tmp_path), "", monkeypatch)
    assert not listener._keep_dry
    decodes = [e for e in log if e[0] == "decode"]
    assert decodes and all(
        mode == "command" and len(side) == len(main) > 0 for _k, mode, main, side in decodes
    )
    assert not [e for e in log if e[0] == "dry"]
