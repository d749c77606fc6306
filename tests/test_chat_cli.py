"""``jiayi chat`` and text-level dialogue flows through the real intent matcher."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys

import pytest

from assistant.cli.chat import ChatClock, chat
from assistant.conversation.care_store import CareStore
from assistant.conversation.dialogue import Dialogue, State
from assistant.ops.clock import ManualClock
from assistant.ops.settings import Backend, CheckIn, Contact, Doctor, Medication, Person, Settings

matcher_mod = pytest.importorskip("assistant.understanding.matcher")

UTC = dt.UTC
CONFIG = """\
person: {name: "Margaret Lee", address_as: "Margaret", language: en}
doctor: {name: "Dr. Chen", phone: "+15550100"}
backend: {url: "mqtt://127.0.0.1:1883"}
contacts:
  - {name: Anna, relation: daughter, phone: "+15550111", emergency: true}
  - {name: David, relation: son, phone: "+15550122", emergency: true}
medications:
  - {name: amlodipine, aliases: ["blood pressure pills", "降压药"], dose: "one tablet", times: ["08:00"]}
"""


def settings(lang: str = "en") -> Settings:
    return Settings(
        person=Person("Margaret Lee", "Margaret" if lang == "en" else "王阿姨", lang),
        doctor=Doctor("Dr. Chen" if lang == "en" else "陈医生", "+15550100", aliases=("陈大夫",)),
        contacts=(
            Contact("Anna", "daughter", aliases=("女儿",), phone="+15550111", emergency=True),
            Contact("David", "son", aliases=("儿子",), phone="+15550122", emergency=True),
        ),
        medications=(
            Medication("amlodipine", ("blood pressure pills", "降压药"), "one tablet", (dt.time(8, 0),)),
        ),
        checkin=CheckIn(time=None),
        backend=Backend(url="mqtt://127.0.0.1:1883"),  # what would go to the practice is shown
    )


def run_chat(lines: list[str], lang: str = "en", start=dt.datetime(2026, 11, 23, 12, 0, tzinfo=UTC)) -> str:
    s = settings(lang)
    matcher = matcher_mod.IntentMatcher.from_settings(s, lang)
    out = io.StringIO()
    clock = ChatClock(start, base=ManualClock(start))
    assert (
        chat(s, matcher, io.StringIO("\n".join(lines) + "\n"), out, lang=lang, store=CareStore(), clock=clock)
        == 0
    )
    return out.getvalue()


def test_chat_confirmation_prints_what_would_be_sent():
    text = run_chat(["call my doctor", "yes"])
    assert "Jiayi: Shall I ask Dr. Chen to call you?" in text
    assert '  → backend: call_doctor {"doctor": "Dr. Chen"} [confirm]' in text
    assert text.index("You: yes") < text.index("→ backend: call_doctor")


def test_chat_no_sends_nothing_and_silence_offers_phone():
    text = run_chat(["call my daughter", "no", "call my daughter", "", "", "yes"])
    assert "→ backend" not in text
    assert "Jiayi: Shall I phone Anna instead?" in text
    assert "  → phone: call_contact: ringing Anna +15550111" in text


def test_chat_emergency_sent_when_nobody_cancels_and_not_when_cancelled():
    text = run_chat(["I fell", "cancel"])
    assert "→ backend: emergency" not in text and "I did not send the alert" in text
    text = run_chat(["I fell", ""])
    assert '→ backend: emergency {"danger": "fall"} [emergency]' in text
    text = run_chat(["I can't breathe"])  # input ends inside the window: the alert still goes out
    assert "→ backend: emergency" in text


def test_chat_reminder_and_taken_in_mandarin():
    text = run_chat(
        ["吃过了", "你今天发了什么"], lang="zh", start=dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    )
    assert "Jiayi: 王阿姨，现在八点了，该吃降压药了，amlodipine。" in text
    assert '→ backend: medication_taken {"medication": "amlodipine", "scheduled": "08:00"}' in text
    assert "今天我发送了：八点，您吃了amlodipine。" in text


def test_text_level_yes_no_in_both_languages():
    for lang, ask, yes, no in (
        ("en", "call my son", "yeah", "no thanks"),
        ("zh", "给儿子打电话", "好的", "不用"),
    ):
        s = settings(lang)
        d = Dialogue(
            s, matcher_mod.IntentMatcher.from_settings(s, lang), ManualClock(), lang=lang, state=CareStore()
        )
        d.handle(ask)
        assert d.state is State.AWAITING_CONFIRMATION, lang
        assert d.handle(no) and d.state is State.IDLE
        d.handle(ask)
        sent = [a for a in d.handle(yes) if type(a).__name__ == "SendRequest"]
        assert [(r.request_type, r.slots) for r in sent] == [("call_contact", {"contact": "David"})], lang


def test_jiayi_chat_command_with_piped_stdin(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    state = tmp_path / "state"
    script = "what time is it\ncall my doctor\nyes\nwhat did you send today\n"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant",
            "chat",
            "--config",
            str(config),
            "--state-dir",
            str(state),
            "--now",
            "2026-11-23T13:00",
        ],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Jiayi: It's 1 o'clock in the afternoon." in proc.stdout
    assert "→ backend: call_doctor" in proc.stdout
    assert "Today I sent: at 1 o'clock, a request for Dr. Chen to call you back." in proc.stdout
    assert (state / "care.sqlite3").exists()


def test_jiayi_chat_bad_now_is_a_plain_error(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "chat", "--config", str(config), "--now", "soon"],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "--now" in proc.stderr and "Traceback" not in proc.stderr
