"""Audio sources: WAV conversion and errors, stdin, null, microphone queue/overflow/reopen (fake
PortAudio stream: no microphone on CI), the factory."""

from __future__ import annotations

import io
import random
import subprocess
import wave
from pathlib import Path

import pytest

from assistant.hearing.sources import (
    CHUNK_BYTES,
    AudioSourceError,
    ChunkQueue,
    InputDevice,
    MicSource,
    NullSource,
    StdinSource,
    WavSource,
    find_input_device,
    open_source,
    read_wav_pcm16k,
)
from assistant.ops.settings import Audio


def _write_wav(path: Path, rate: int, channels: int, width: int, seconds: float) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"\x10\x00" * (int(rate * seconds) * channels * width // 2))
    return path


def test_wav_source_resamples_and_downmixes(tmp_path: Path) -> None:
    wav = _write_wav(tmp_path / "a.wav", 44100, 2, 2, 1.0)
    pcm = read_wav_pcm16k(wav)
    assert abs(len(pcm) - 32000) <= 4
    src = WavSource(wav)
    src.start()
    chunks = []
    while (c := src.read_chunk(0.1)) is not None:
        chunks.append(c)
    assert src.at_end and all(len(c) == CHUNK_BYTES for c in chunks)
    assert src.counters().chunks == len(chunks) == 34
    assert src.counters().last_chunk_monotonic is not None


def test_a_wav_in_the_microphone_format_is_read_as_heard_with_the_same_chunks(tmp_path: Path) -> None:
    """A 16 kHz mono 16-bit file is read chunk by chunk (no whole-file copy held: the daemon's
    memory, docs/benchmarks/speech.md round 17), giving exactly the chunks of the whole-file read
    (the last one padded), after a restart too; a file shorter than its header ends where the
    data ends, as the whole-file read does."""
    rng = random.Random(7)
    wav = tmp_path / "m.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(rng.randrange(256) for _ in range(2 * 16000 + 2 * 123)))
    pcm = read_wav_pcm16k(wav)
    expected = [pcm[i : i + CHUNK_BYTES].ljust(CHUNK_BYTES, b"\x00") for i in range(0, len(pcm), CHUNK_BYTES)]
    src = WavSource(wav)
    assert src._pcm is None and src.duration_s == len(pcm) / 32000
    for _ in range(2):
        src.start()
        chunks = []
        while (c := src.read_chunk(0.1)) is not None:
            chunks.append(c)
        assert chunks == expected and src.at_end
    cut = tmp_path / "cut.wav"
    cut.write_bytes(wav.read_bytes()[: 44 + 2 * 8000 + 7])  # the header still says 16123 frames
    src = WavSource(cut)
    src.start()
    chunks = []
    while (c := src.read_chunk(0.1)) is not None:
        chunks.append(c)
    whole = read_wav_pcm16k(cut)
    assert b"".join(chunks).rstrip(b"\x00") == whole.rstrip(b"\x00")
    assert len(chunks) == -(-len(whole) // CHUNK_BYTES)


def test_wav_source_rejects_non_pcm_with_clear_error(tmp_path: Path) -> None:
    flt = tmp_path / "float.wav"
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "16000",
            "-c",
            "1",
            "-e",
            "floating-point",
            "-b",
            "32",
            str(flt),
            "trim",
            "0",
            "0.1",
        ],
        check=True,
        timeout=10,
    )
    with pytest.raises(AudioSourceError, match="not a PCM WAV"):
        WavSource(flt)
    with pytest.raises(AudioSourceError, match="not found"):
        WavSource(tmp_path / "missing.wav")
    (tmp_path / "junk.wav").write_bytes(b"not a wav")
    with pytest.raises(AudioSourceError, match="not a PCM WAV"):
        WavSource(tmp_path / "junk.wav")


def test_wav_realtime_pacing_waits_for_the_chunk_time(tmp_path: Path) -> None:
    wav = _write_wav(tmp_path / "a.wav", 16000, 1, 2, 0.5)
    slept: list[float] = []
    src = WavSource(wav, realtime=True, sleep=slept.append)
    src.start()
    for _ in range(5):
        src.read_chunk(1.0)
    # the fake sleep does not move time, so each chunk is due 30 ms later than the previous one
    assert len(slept) == 4
    assert all(abs(b - a - 0.03) < 0.01 for a, b in zip(slept, slept[1:], strict=False))


def test_stdin_source_rechunks_and_ends() -> None:
    data = b"\x01\x00" * 1000  # 2000 bytes: 2 full chunks + a padded tail
    src = StdinSource(io.BytesIO(data))
    src.start()
    chunks = []
    while not src.at_end:
        c = src.read_chunk(2.0)
        if c is not None:
            chunks.append(c)
    assert len(chunks) == 3 and all(len(c) == CHUNK_BYTES for c in chunks)
    assert b"".join(chunks).startswith(data)


def test_null_source_returns_nothing_until_stopped() -> None:
    src = NullSource()
    src.start()
    assert src.read_chunk(0.01) is None
    src.stop()
    assert src.read_chunk(5.0) is None  # returns at once after stop


def test_chunk_queue_drops_oldest_and_counts() -> None:
    q = ChunkQueue(maxsize=3)
    for i in range(5):
        q.put(bytes([i]))
    assert q.dropped == 2 and len(q) == 3
    assert q.get(0.0) == bytes([2])


class FakeStream:
    """Stands in for a PortAudio stream (hardware we lack); the test drives its callback."""

    def __init__(self, device: int | None, on_audio) -> None:
        self.device, self.on_audio = device, on_audio
        self.started = self.closed = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def test_mic_counts_overflow_drops_and_reopens_lost_device() -> None:
    streams: list[FakeStream] = []
    now = [100.0]

    def factory(device, on_audio):
        streams.append(FakeStream(device, on_audio))
        return streams[-1]

    devices = [
        InputDevice(0, "HDA Intel: ALC", 2, 48000, True),
        InputDevice(3, "ReSpeaker 4 Mic Array", 4, 16000, False),
    ]
    mic = MicSource(
        "respeaker",
        stream_factory=factory,
        device_lister=lambda: devices,
        monotonic=lambda: now[0],
        rng=random.Random(1),
    )
    mic.start()
    assert streams[0].device == 3 and mic.device_name == "ReSpeaker 4 Mic Array"
    streams[0].on_audio(b"\x00\x10" * 480, True)  # one chunk, with an overflow flag
    assert mic.read_chunk(0.1) is not None
    for _ in range(250):  # reader falls behind: bounded queue drops the oldest
        streams[0].on_audio(b"\x00\x10" * 480, False)
    c = mic.counters()
    assert c.overflows == 1 and c.dropped == 50 and c.last_rms > 0
    while mic.read_chunk(0.0) is not None:
        pass
    now[0] += 2.5  # device delivers nothing: lost → reopened
    assert mic.read_chunk(0.0) is None
    assert len(streams) == 2 and streams[0].closed and mic.counters().reopens == 1
    now[0] += 0.1  # backoff: no immediate second reopen
    mic.read_chunk(0.0)
    assert len(streams) == 2
    now[0] += 5.0
    mic.read_chunk(0.0)
    assert len(streams) == 3
    streams[-1].on_audio(b"\x00\x10" * 480, False)
    assert mic.read_chunk(0.1) is not None
    mic.stop()


def test_find_input_device_errors_name_the_devices() -> None:
    devs = [InputDevice(1, "USB PnP Sound Device", 1, 44100, False)]
    assert find_input_device("usb pnp", devs).index == 1
    assert find_input_device("^USB.*Device$", devs).index == 1
    assert find_input_device("", devs) is None
    with pytest.raises(AudioSourceError, match="USB PnP Sound Device"):
        find_input_device("respeaker", devs)


def test_open_source_factory(tmp_path: Path) -> None:
    wav = _write_wav(tmp_path / "a.wav", 16000, 1, 2, 0.1)
    assert isinstance(open_source(Audio(input="null")), NullSource)
    assert isinstance(open_source(Audio(input="wav", input_wav=str(wav))), WavSource)
    assert isinstance(open_source(Audio(input="stdin")), StdinSource)
    assert isinstance(open_source(Audio(), wav_path=wav), WavSource)
    with pytest.raises(AudioSourceError, match="input_wav"):
        open_source(Audio(input="wav"))


def test_audio_libraries_not_imported_at_import_time() -> None:
    code = (
        "import sys, assistant.hearing.sources, assistant.hearing.listener, assistant.hearing.recognizer, assistant.hearing.vosk_models;"
        "bad=[m for m in ('sounddevice','vosk','pocketsphinx','webrtcvad','_webrtcvad') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([__import__("sys").executable, "-c", code], check=True, timeout=30)
