"""`jiayi understand` contract: one JSON object, null intent out of scope, --jsonl order and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = """\
person: {name: "Margaret Lee", address_as: "Margaret", language: en}
doctor: {name: "Dr. Chen", phone: "+15550100"}
emergency: {accept_alarm_only: true}
contacts:
  - {name: "Anna", relation: "daughter", phone: "+15550101"}
medications:
  - {name: "amlodipine", aliases: ["blood pressure pills", "降压药"], times: ["08:00"]}
"""


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def _jiayi(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", "understand", *args],
        input=stdin, capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip


def test_text_json_prints_exactly_one_object(config):
    proc = _jiayi("--text", "call my daughter", "--config", str(config), "--json")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert set(obj) == {"text", "lang", "intent", "slots", "confidence"}
    assert obj["intent"] == "call_contact" and obj["slots"] == {"contact": "Anna"} and obj["lang"] == "en"


def test_an_urgent_symptom_report_is_marked_urgent(config):
    proc = _jiayi("--text", "i have the worst stomach pain ever", "--config", str(config), "--json")
    assert proc.returncode == 0, proc.stderr
    obj = json.loads(proc.stdout)
    assert obj["intent"] == "report_symptom" and obj["urgent"] is True
    plain = json.loads(_jiayi("--text", "i have a headache", "--config", str(config), "--json").stdout)
    assert plain["intent"] == "report_symptom" and "urgent" not in plain


def test_out_of_scope_gives_null_intent(config):
    proc = _jiayi("--text", "play some music", "--config", str(config), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["intent"] is None


def test_jsonl_keeps_order_and_reports_bad_lines(config):
    lines = [
        {"text": "what time is it"},
        "this is not json",
        {"text": "降压药吃完了", "lang": "zh"},
        {"nothing": 1},
        {"text": "I can't breathe"},
    ]
    stdin = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n"
    proc = _jiayi("--jsonl", "--config", str(config), stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    assert len(out) == 5
    assert out[0]["intent"] == "time_query"
    assert "error" in out[1]
    assert out[2]["intent"] == "reorder_medication" and out[2]["lang"] == "zh"
    assert out[2]["slots"] == {"medication": "amlodipine"}
    assert "error" in out[3]
    assert out[4]["intent"] == "emergency"


def test_unknown_language_line_is_an_error_object(config):
    proc = _jiayi("--jsonl", "--config", str(config), stdin='{"text": "hola", "lang": "es"}\n')
    assert proc.returncode == 0
    assert "error" in json.loads(proc.stdout)
