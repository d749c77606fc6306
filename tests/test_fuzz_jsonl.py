"""Fuzz (hypothesis): the ``jiayi understand --jsonl`` reader answers every line and never raises.

Lines are random bytes, random JSON values, and ``{"text"|"wav"|"lang": ...}`` objects with
random field values (lone surrogates, numbers, nesting, paths to missing files, folders, empty
and non-WAV files). Property: one answer per line, in order; each answer is JSON that encodes as
UTF-8, and is either an understanding or ``{"error": "line N: ...", "line": N}``.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from fuzz_helpers import json_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.cli.understand import _Pipelines, _run_jsonl
from assistant.ops.config import default_settings


@pytest.fixture(scope="module")
def pipelines() -> _Pipelines:
    return _Pipelines(default_settings())


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("wavs")
    (folder / "empty.wav").write_bytes(b"")
    (folder / "text.wav").write_text("not audio")
    (folder / "riff.wav").write_bytes(b"RIFF\x04\x00\x00\x00WAVE")  # a header and nothing else
    (folder / "dir.wav").mkdir()
    return [str(folder / n) for n in ("empty.wav", "text.wav", "riff.wav", "dir.wav", "missing.wav")] + [
        "",
        "\x00",
    ]


def _objects(bad_files: list[str]) -> st.SearchStrategy[bytes]:
    fields = st.fixed_dictionaries(
        {},
        optional={
            "text": json_values | st.sampled_from(["call my doctor", "救命", "\ud800", "x" * 3000]),
            "wav": json_values | st.sampled_from(bad_files),
            "lang": json_values | st.sampled_from(["en", "zh", "es", ""]),
        },
    )
    return fields.map(lambda obj: json.dumps(obj).encode())


def _lines(bad_files: list[str]) -> st.SearchStrategy[list[bytes]]:
    one = st.one_of(
        st.binary(max_size=80).map(lambda b: b.replace(b"\n", b" ")),
        json_values.map(lambda v: json.dumps(v).encode()),
        _objects(bad_files),
    )
    return st.lists(one, min_size=1, max_size=6)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_line_gets_one_answer(pipelines: _Pipelines, bad_files: list[str], data: st.DataObject) -> None:
    lines = data.draw(_lines(bad_files))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert _run_jsonl(io.BytesIO(b"\n".join(lines) + b"\n"), pipelines, "en") == 0
    answers = out.getvalue().splitlines()
    assert len(answers) == len(lines)
    for number, text in enumerate(answers, start=1):
        text.encode("utf-8")
        answer = json.loads(text)
        if "error" in answer:
            assert answer["line"] == number and answer["error"].startswith(f"line {number}: ")
        else:
            assert set(answer) >= {"text", "lang", "intent", "slots", "confidence"}


def test_a_line_break_character_quoted_back_keeps_the_answer_on_one_line(pipelines: _Pipelines) -> None:
    """Found by the fuzz test: an unknown language 'x\\x85y' was echoed raw, and U+0085 (like
    U+2028/U+2029) is a line break to str.splitlines and JavaScript, so one answer read as two."""
    lines = [json.dumps({"text": "call my doctor", "lang": f"x{ch}y"}).encode() for ch in "\x85\u2028\u2029"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert _run_jsonl(io.BytesIO(b"\n".join(lines) + b"\n"), pipelines, "en") == 0
    answers = out.getvalue().splitlines()
    assert len(answers) == 3
    for number, (text, ch) in enumerate(zip(answers, "\x85\u2028\u2029", strict=True), start=1):
        answer = json.loads(text)
        assert answer["line"] == number and f"x{ch}y" in answer["error"]
