"""The noise front-end on real audio: RNNoise's int8 weight set (same network as the wheel's
float one, less CPU) and the quiet-room gate (RNNoise skipped when the noise floor is low)."""

from __future__ import annotations

import array
import ctypes

import pytest
from speechgen import SpeechGen, read_pcm, require_noise, speechgen_fixture  # noqa: F401

from assistant.hearing import frontend


def _rnnoise_library() -> str:
    path = frontend.rnnoise_library()
    if path is None:
        pytest.skip("librnnoise is not installed (make venv installs pyrnnoise --no-deps)")
    return str(path)


def _energy(pcm: bytes) -> float:
    samples = array.array("h", pcm)
    return sum(s * s for s in samples) / max(1, len(samples))


def _denoise(fe: frontend.Frontend, pcm: bytes, chunk: int = 960) -> bytes:
    return b"".join(fe.process(pcm[i : i + chunk]) for i in range(0, len(pcm), chunk))


def _difference(a: bytes, b: bytes) -> float:
    """Energy of the difference relative to the energy of ``a`` (same length compared)."""
    x, y = array.array("h", a), array.array("h", b)
    n = min(len(x), len(y))
    diff = sum((x[i] - y[i]) ** 2 for i in range(n))
    return diff / max(1.0, sum(x[i] * x[i] for i in range(n)))


@pytest.fixture(scope="module")
def noisy_command(speechgen: SpeechGen) -> bytes:
    speech = speechgen.say("call my daughter please", voice="flite:slt")
    return read_pcm(speechgen.with_noise(speech, "kitchen.wav", snr_db=5, seed=3))


def test_int8_weights_load_and_denoise_like_the_float_ones(
    noisy_command: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rnnoise_library()
    monkeypatch.setattr(frontend, "RNNOISE_INT8", False)
    float_net = frontend.RNNoise()
    assert float_net.model is None
    reference = _denoise(float_net, noisy_command)
    monkeypatch.setattr(frontend, "RNNOISE_INT8", True)
    int8_net = frontend.RNNoise()
    assert int8_net.model is not None, "the wheel's library carries float copies; the int8 set must load"
    denoised = _denoise(int8_net, noisy_command)
    assert len(denoised) == len(reference)
    assert _difference(reference, denoised) < 1e-3
    # and it does denoise: the last second (trailing pause: kitchen noise alone) loses most energy
    tail = 16000 * 2
    assert _energy(denoised[-tail:]) < 0.3 * _energy(noisy_command[-tail:])


def test_kitchen_noise_alone_is_suppressed() -> None:
    _rnnoise_library()
    noise = read_pcm(require_noise("kitchen.wav"))[: 16000 * 2 * 4]  # 4 s (the file is 16 kHz)
    out = _denoise(frontend.RNNoise(), noise)
    assert _energy(out[16000:]) < 0.2 * _energy(noise[16000:])  # after 0.5 s of adaptation


def test_weight_blob_round_trips_the_librarys_own_weights(noisy_command: bytes) -> None:
    """All arrays (float copies included) written as a blob and loaded back give the built-in
    model's output exactly: the blob layout is what ``rnnoise_model_from_buffer`` reads."""
    path = _rnnoise_library()
    lib = frontend._load_rnnoise(path)
    table = (frontend._WeightArray * 1024).in_dll(lib, "rnnoise_arrays")
    arrays = []
    for entry in table:
        if not entry.name:
            break
        arrays.append((entry.name.decode(), entry.type, ctypes.string_at(entry.data, entry.size)))
    blob_bytes = frontend.weight_blob(arrays)
    assert len(blob_bytes) % frontend.WEIGHT_BLOCK == 0
    blob = ctypes.create_string_buffer(blob_bytes, len(blob_bytes))
    model = lib.rnnoise_model_from_buffer(blob, len(blob_bytes))
    assert model
    a, b = lib.rnnoise_create(None), lib.rnnoise_create(model)
    frame = (ctypes.c_float * 480)()
    other = (ctypes.c_float * 480)()
    samples = array.array("h", noisy_command)
    try:
        for start in range(0, 480 * 50, 480):
            for i in range(480):
                frame[i] = other[i] = float(samples[start // 3 + i // 3])
            lib.rnnoise_process_frame(a, frame, frame)
            lib.rnnoise_process_frame(b, other, other)
            assert list(frame) == list(other)
    finally:
        lib.rnnoise_destroy(a)
        lib.rnnoise_destroy(b)
        # not rnnoise_model_free: the library's rnnoise_model_from_buffer leaves the model's FILE
        # pointer uninitialised, and model_free fcloses it (a crash, depending on the heap)


def test_missing_library_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(frontend.FrontendError, match="cannot load"):
        frontend.RNNoise(tmp_path / "librnnoise.so")


def test_quiet_gate_passes_clean_speech_unfiltered_and_delayed(speechgen: SpeechGen) -> None:
    _rnnoise_library()
    pcm = read_pcm(speechgen.say("what time is it", voice="flite:kal16"))
    gate = frontend.QuietGate(frontend.RNNoise(), -60.0)
    out = _denoise(gate, pcm)
    assert not gate.active, f"clean speech (floor {gate.noise_floor_dbfs} dBFS) must not need RNNoise"
    assert gate.passed_s > 0.8 * len(pcm) / 32000
    assert len(out) == len(pcm)  # unfiltered: no resampler lag, only the fixed delay
    delay = frontend.RNNOISE_DELAY * 2
    tail = 16000  # the last 0.5 s, long after the switch
    assert out[-tail:] == pcm[len(pcm) - tail - delay : len(pcm) - delay]


def test_quiet_gate_keeps_rnnoise_on_in_kitchen_noise(noisy_command: bytes) -> None:
    _rnnoise_library()
    gate = frontend.QuietGate(frontend.RNNoise(), -60.0)
    gated = _denoise(gate, noisy_command)
    assert gate.active and gate.passed_s == 0.0
    assert gate.noise_floor_dbfs is not None and gate.noise_floor_dbfs > -50
    assert gated == _denoise(frontend.RNNoise(), noisy_command)  # exactly what RNNoise alone gives


def test_quiet_gate_switches_on_when_the_kitchen_gets_noisy(
    speechgen: SpeechGen, noisy_command: bytes
) -> None:
    """Quiet speech, then a noisy command: RNNoise comes on within the floor's 2 s window and
    the stream stays aligned (no audio repeated or lost beyond the filter's own lag)."""
    _rnnoise_library()
    quiet = read_pcm(speechgen.say("what time is it", voice="flite:kal16"))
    gate = frontend.QuietGate(frontend.RNNoise(), -60.0)
    first = _denoise(gate, quiet)
    assert not gate.active
    second = _denoise(gate, noisy_command)
    assert gate.active
    assert gate.filtered_s > len(noisy_command) / 32000 - 2.5
    lag = len(quiet) + len(noisy_command) - len(first) - len(second)
    assert 0 <= lag < 2 * 2400  # what RNNoise holds back (frame and resampler buffers), < 150 ms


def test_the_gate_is_built_only_with_a_quiet_level(monkeypatch: pytest.MonkeyPatch) -> None:
    _rnnoise_library()
    assert frontend.RNNOISE_QUIET_DBFS is None  # off in the daemon (round 9)
    assert isinstance(frontend.make_frontend("rnnoise"), frontend.SideMix)  # the daemon's (round 18)
    monkeypatch.setattr(frontend, "SIDE_DRY_SHARE", 0.0)
    assert isinstance(frontend.make_frontend("rnnoise"), frontend.RNNoise)
    monkeypatch.setattr(frontend, "RNNOISE_QUIET_DBFS", -60.0)
    gate = frontend.make_frontend("rnnoise")
    assert isinstance(gate, frontend.QuietGate) and gate.quiet_dbfs == -60.0


def test_dry_mix_adds_the_delayed_input_back_to_rnnoise(
    noisy_command: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``RNNOISE_DRY_SHARE``: RNNoise's output plus that share of the input, delayed by
    ``RNNOISE_DELAY`` as the filtered path is; built only when the share is above 0."""
    _rnnoise_library()
    monkeypatch.setattr(frontend, "SIDE_DRY_SHARE", 0.0)
    assert isinstance(frontend.make_frontend("rnnoise"), frontend.RNNoise)  # 0.0: RNNoise alone
    monkeypatch.setattr(frontend, "RNNOISE_DRY_SHARE", 0.25)
    mix = frontend.make_frontend("rnnoise")
    assert isinstance(mix, frontend.DryMix) and mix.share == 0.25
    wet = array.array("h", _denoise(frontend.RNNoise(), noisy_command))
    mixed = array.array("h", _denoise(mix, noisy_command))
    assert len(mixed) == len(wet)
    dry = array.array("h", bytes(2 * frontend.RNNOISE_DELAY)) + array.array("h", noisy_command)
    assert all(
        abs(m - round(w + 0.25 * d)) <= 1
        for m, w, d in zip(mixed, wet, dry[: len(wet)], strict=True)
        if abs(w + 0.25 * d) < 32000
    )
    # gentler: the kitchen noise in the trailing pause keeps more energy than through RNNoise alone
    tail = 16000 * 2
    assert _energy(mixed[-tail:].tobytes()) > 1.5 * _energy(wet[-tail:].tobytes())


def test_side_mix_keeps_rnnoise_as_the_main_stream_and_mixes_the_input_into_the_side_one(
    noisy_command: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SIDE_DRY_SHARE`` (round 18): the main stream is RNNoise's output unchanged; beside it
    the delayed input, call for call as long as the main stream (the listener cuts both the same
    way), and the side stream mixed from the two is RNNoise's output plus that share of the input."""
    _rnnoise_library()
    monkeypatch.setattr(frontend, "SIDE_DRY_SHARE", 0.2)
    side_mix = frontend.make_frontend("rnnoise")
    assert isinstance(side_mix, frontend.SideMix) and side_mix.side_share == 0.2
    main, dry = bytearray(), bytearray()
    for i in range(0, len(noisy_command), 960):
        out = side_mix.process(noisy_command[i : i + 960])
        assert len(side_mix.dry) == len(out)
        main += out
        dry += side_mix.dry
    side = side_mix.side_of(bytes(main), bytes(dry))
    wet = _denoise(frontend.RNNoise(), noisy_command)
    assert bytes(main) == wet  # the endpointer and the other searches hear what they heard
    mixed = array.array("h", bytes(side))
    dry = array.array("h", bytes(2 * frontend.RNNOISE_DELAY)) + array.array("h", noisy_command)
    wet_samples = array.array("h", wet)
    assert all(
        abs(m - round(w + 0.2 * d)) <= 1
        for m, w, d in zip(mixed, wet_samples, dry[: len(wet_samples)], strict=True)
        if abs(w + 0.2 * d) < 32000
    )
    tail = 16000 * 2
    assert _energy(mixed[-tail:].tobytes()) > 1.5 * _energy(wet_samples[-tail:].tobytes())


def test_soxr_stream_gives_what_python_soxr_gives(noisy_command: bytes) -> None:
    """The ctypes resampler is python-soxr's ``ResampleStream`` (float32, HQ) sample for sample,
    over chunks of uneven length (a 1-sample chunk and an empty one included)."""
    np = pytest.importorskip("numpy")
    soxr = pytest.importorskip("soxr")
    samples = array.array("f", array.array("h", noisy_command))
    for rate_in, rate_out in ((16000, 48000), (48000, 16000)):
        ours = frontend.SoxrStream(rate_in, rate_out)
        theirs = soxr.ResampleStream(rate_in, rate_out, 1, dtype="float32", quality="HQ")
        got, want, start = array.array("f"), [], 0
        for size in [1, 0, 160, 1000, 7, 48000, *[2731] * 20]:
            chunk = samples[start : start + size]
            start += size
            got += ours.resample(chunk)
            want.append(theirs.resample_chunk(np.array(chunk, dtype=np.float32)))
        assert len(got) > 10000
        assert got.tobytes() == np.concatenate(want).astype(np.float32).tobytes()


def test_rnnoise_runs_without_numpy(noisy_command: bytes, tmp_path) -> None:
    """The daemon's front-end imports neither numpy nor python-soxr (14 MB of its memory)."""
    import subprocess
    import sys

    _rnnoise_library()
    (tmp_path / "in.raw").write_bytes(noisy_command)
    code = (
        "import sys; from pathlib import Path; from assistant.hearing import frontend;"
        "net = frontend.RNNoise(); out = net.process(Path(sys.argv[1]).read_bytes());"
        "print(len(out), net.model is not None, 'numpy' in sys.modules, 'soxr' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "in.raw")], capture_output=True, text=True, check=True
    )
    size, int8, numpy_loaded, soxr_loaded = done.stdout.split()
    assert int(size) > len(noisy_command) - 2 * 2400 and int8 == "True"
    assert (numpy_loaded, soxr_loaded) == ("False", "False")


def test_to_int16_rounds_half_to_even_and_clips() -> None:
    values = array.array("f", [0.5, 1.5, -0.5, -2.5, 2.4999, 40000.0, -40000.0, 32767.4, -32768.4])
    assert list(array.array("h", frontend.to_int16(values))) == [0, 2, 0, -2, 2, 32767, -32768, 32767, -32768]


def test_the_int16_resampler_rounds_and_clips_as_to_int16(noisy_command: bytes) -> None:
    """``SOXR_INT16_OUT``: libsoxr's own int16 output (scale 1/32768, no dither) is the float32
    output rounded half to even and clipped by :func:`frontend.to_int16`, sample for sample —
    on speech in noise, on it 6 times too loud (clipping), and on exact halves."""
    loud = array.array("h", [max(-32768, min(32767, 6 * v)) for v in array.array("h", noisy_command)])
    halves = array.array("h", [0, 1, -1, 3, -3] * 2000)
    clipped = []
    for pcm in (array.array("h", noisy_command), loud, halves):
        samples = array.array("f", pcm)
        up = frontend.SoxrStream(16000, 48000).resample(samples)
        up = array.array("f", [v + 0.5 for v in up])  # many exact halves after the way back
        as_float = frontend.SoxrStream(48000, 16000)
        as_int16 = frontend.SoxrStream(48000, 16000, int16_out=True)
        want, got = b"", b""
        for start in range(0, len(up), 1440):
            want += frontend.to_int16(as_float.resample(up[start : start + 1440]))
            got += as_int16.resample(up[start : start + 1440]).tobytes()
        assert len(got) > 1000 and got == want
        clipped.append(sum(abs(v) >= 32767 for v in array.array("h", got)))
    assert clipped[1] > 0  # the loud one did clip


def test_rnnoise_gives_the_same_audio_with_the_int16_resampler(
    noisy_command: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rnnoise_library()
    assert frontend.SOXR_INT16_OUT  # the daemon's
    fast = _denoise(frontend.RNNoise(), noisy_command)
    monkeypatch.setattr(frontend, "SOXR_INT16_OUT", False)
    assert _denoise(frontend.RNNoise(), noisy_command) == fast
