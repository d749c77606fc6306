"""Issue 11 probes: no input crashes a command. Every case was a traceback before the fix.

Config files that ``run`` tripped on are caught by ``check-config`` (same line-numbered report),
``run``/``chat`` refuse them in one sentence, and ``understand`` answers every line of a
``--jsonl`` stream, bad WAV lines included.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.ops import config
from assistant.ops.config_checks import RESERVED_DEVICE_ID_RE

ROOT = Path(__file__).resolve().parent.parent
BASE = """\
person: {name: "Margaret Lee", address_as: "Margaret", language: en}
doctor: {name: "Dr. Chen", phone: "+15550100"}
emergency: {accept_alarm_only: true}
contacts:
  - {name: "Anna", relation: "daughter", phone: "+15550101", emergency: true}
medications:
  - {name: "amlodipine", aliases: ["blood pressure pills"], times: ["08:00"]}
"""


def _jiayi(
    *args: str, stdin: bytes = b"", cwd: Path = ROOT, timeout: float = 90
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        input=stdin, capture_output=True, timeout=timeout, cwd=cwd,
    )  # fmt: skip


def _no_traceback(proc: subprocess.CompletedProcess) -> str:
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    return err


def _write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(BASE + extra, encoding="utf-8")
    return path


# ------------------------------------------------------------------ configs run tripped on


def _probe_files(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """name -> (extra YAML, key the one problem must name)."""
    (tmp_path / "statefile").write_text("not a folder")
    (tmp_path / "notacert.pem").write_text("hello, I am not a certificate\n")
    (tmp_path / "junk.key").write_bytes(b"\x00\x01binary")
    return {
        "unclosed_ipv6_url": ('backend: {url: "mqtt://[::1"}\n', "backend.url"),
        "state_dir_is_a_file": ('state_dir: "statefile"\n', "state_dir"),
        "state_dir_below_a_file": ('state_dir: "statefile/inside"\n', "state_dir"),
        "ca_file_not_a_certificate": (
            'backend: {url: "mqtts://broker.example.org:8883", tls: {ca_file: "notacert.pem"}}\n',
            "backend.tls.ca_file",
        ),
        "client_cert_not_a_certificate": (
            "backend:\n  url: mqtts://broker.example.org:8883\n"
            "  tls: {cert_file: notacert.pem, key_file: junk.key}\n",
            "backend.tls.cert_file",
        ),
        "lone_surrogate_in_doctor_name": ("", "doctor.name"),
        "device_id_is_the_backends_client_id": ('backend: {device_id: "backend-0"}\n', "backend.device_id"),
        "contact_called_ambulance": ("", "contacts[1].name"),
        "password_file_is_a_folder": (
            'backend: {url: "mqtt://127.0.0.1", password_file: "."}\n',
            "backend.password_file",
        ),
    }


PROBES = [
    "unclosed_ipv6_url",
    "state_dir_is_a_file",
    "state_dir_below_a_file",
    "ca_file_not_a_certificate",
    "client_cert_not_a_certificate",
    "lone_surrogate_in_doctor_name",
    "device_id_is_the_backends_client_id",
    "contact_called_ambulance",
    "password_file_is_a_folder",
]


def _probe_config(tmp_path: Path, name: str) -> tuple[Path, str]:
    extra, key = _probe_files(tmp_path)[name]
    path = _write(tmp_path, extra)
    if name == "lone_surrogate_in_doctor_name":
        path.write_text(BASE.replace('"Dr. Chen"', '"Dr. \\ud800Chen"'), encoding="utf-8")
    if name == "contact_called_ambulance":
        path.write_text(
            BASE.replace("medications:", '  - {name: "Ambulance", phone: "+15550199"}\nmedications:'),
            encoding="utf-8",
        )
    return path, key


@pytest.mark.parametrize("name", PROBES)
def test_check_config_reports_what_run_would_trip_on(tmp_path: Path, name: str) -> None:
    path, key = _probe_config(tmp_path, name)
    problems = config.check_config(path)
    assert [p.key for p in problems] == [key], "\n".join(map(str, problems))
    assert problems[0].line is not None
    str(problems[0]).encode("utf-8")  # printable: no lone surrogate reaches the terminal


@pytest.mark.parametrize(
    "name",
    [
        "unclosed_ipv6_url",
        "state_dir_is_a_file",
        "ca_file_not_a_certificate",
        "lone_surrogate_in_doctor_name",
    ],
)
def test_run_and_chat_refuse_in_one_sentence(tmp_path: Path, name: str) -> None:
    path, key = _probe_config(tmp_path, name)
    for command in (["run", "--text", "--config", str(path)], ["chat", "--config", str(path)]):
        proc = _jiayi(*command, stdin=b"call my doctor\nyes\n")
        err = _no_traceback(proc)
        assert proc.returncode == 2, err
        assert key in err


def test_run_with_a_state_dir_option_that_is_a_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "")
    (tmp_path / "statefile").write_text("x")
    proc = _jiayi(
        "run", "--text", "--config", str(path), "--state-dir", str(tmp_path / "statefile"), stdin=b""
    )
    err = _no_traceback(proc)
    assert proc.returncode == 2 and "statefile is a file" in err


def test_reserved_device_ids_cover_the_backends_real_client_ids(tmp_path: Path) -> None:
    """The reference backend's MQTT client ids, as built in jiayi_backend/service.py."""
    from jiayi_backend.service import ReferenceBackend

    backend = ReferenceBackend("mqtt://127.0.0.1:1", tmp_path / "b.sqlite3", workers=2)
    try:
        for worker in backend.workers:
            for client_id in (worker.name, f"{worker.name}-commands"):
                assert client_id.startswith("jiayi-")
                assert RESERVED_DEVICE_ID_RE.match(client_id.removeprefix("jiayi-")), client_id
    finally:
        backend.store.close()
    assert RESERVED_DEVICE_ID_RE.match("cmd-1a2b3c4d")
    assert not RESERVED_DEVICE_ID_RE.match("margaret-home")


def test_problem_lines_escape_control_characters(tmp_path: Path) -> None:
    path = _write(tmp_path, 'voice: {wake_phrase: "hello\\x1b[2Jdoctor\\x07"}\n')
    (problem,) = config.check_config(path)
    assert problem.key == "voice.wake_phrase"
    assert "\x1b" not in str(problem) and "\x07" not in str(problem)
    assert "control character" in str(problem)


# ------------------------------------------------------------------ understand


def _float_wav(path: Path) -> Path:
    data = struct.pack("<4f", 0.1, 0.2, 0.3, 0.4)
    fmt = struct.pack("<HHIIHH", 3, 1, 16000, 64000, 4, 32)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)
    return path


@pytest.fixture
def bad_wavs(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "folder.wav").mkdir()
    (tmp_path / "song.mp3").write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x0f" + b"\x00" * 64)
    (tmp_path / "text.wav").write_text("just some text, not audio\n")
    return {
        "missing": tmp_path / "missing.wav",
        "not_a_wav": tmp_path / "text.wav",
        "mp3": tmp_path / "song.mp3",
        "zero_bytes": tmp_path / "empty.wav",
        "float_samples": _float_wav(tmp_path / "float.wav"),
        "folder": tmp_path / "folder.wav",
    }


def test_jsonl_answers_every_line_and_carries_on(tmp_path: Path, bad_wavs: dict[str, Path]) -> None:
    cfg = _write(tmp_path, "")
    lines = [json.dumps({"wav": str(p)}).encode() for p in bad_wavs.values()]
    lines += [b"\xff\xfe not utf-8", b"", b'{"text": "\\ud800"}', b"[" * 5000, b'{"text": "call my doctor"}']
    proc = _jiayi("understand", "--jsonl", "--config", str(cfg), stdin=b"\n".join(lines) + b"\n")
    _no_traceback(proc)
    assert proc.returncode == 0
    out = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert len(out) == len(lines)
    for number, answer in enumerate(out[:-1], start=1):
        assert answer["line"] == number and answer["error"].startswith(f"line {number}: "), answer
    assert out[-1]["intent"] == "call_doctor"
    words = [a["error"] for a in out[: len(bad_wavs)]]
    assert "not found" in words[0]
    assert "not a WAV" in words[1]
    assert "MP3" in words[2]
    assert "0 bytes" in words[3]
    assert "not a PCM WAV" in words[4]
    assert "folder" in words[5]


@pytest.mark.parametrize("kind", ["missing", "mp3", "zero_bytes", "float_samples", "folder"])
def test_single_wav_prints_one_sentence_and_fails(
    tmp_path: Path, bad_wavs: dict[str, Path], kind: str
) -> None:
    cfg = _write(tmp_path, "")
    proc = _jiayi("understand", "--wav", str(bad_wavs[kind]), "--config", str(cfg), "--json")
    err = _no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert len(err.strip().splitlines()) == 1 and err.startswith("jiayi: "), err
