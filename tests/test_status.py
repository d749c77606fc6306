"""Status snapshot: atomic writes, plain-language rendering, and `jiayi status` exit codes."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys

import pytest

from assistant.cli import main
from assistant.ops import status as st
from assistant.ops import watchdog as wd
from assistant.ops.clock import ManualClock

NOW = dt.datetime(2026, 11, 23, 14, 5, 0, tzinfo=dt.UTC)


def healthy(**changes) -> st.Status:
    base = st.Status(
        written_at=NOW.isoformat(),
        pid=4242,
        version="0.1.0",
        state="running",
        healthy=True,
        uptime_s=3600,
        language="en",
        audio_input="mic:ReSpeaker",
        mic_level_dbfs=-48.0,
        last_audio_age_s=0.1,
        engine="vosk",
        model="vosk-model-small-en-us-0.15",
        broker_url="mqtts://doctor.example:8883",
        broker_connected=True,
        outbox_depth=0,
        next_reminder_at=dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC).isoformat(),
        next_reminder="amlodipine",
    )
    return st.Status(**{**base.to_dict(), **changes})


def test_json_round_trip_and_unknown_fields_are_ignored():
    s = healthy(stale_probes=("audio",), last_error="mic_stalled")
    assert st.Status.from_json(s.to_json()) == s
    data = json.loads(s.to_json())
    data["added_in_a_later_version"] = 1
    del data["model"]
    again = st.Status.from_dict(data)
    assert again.model == "" and again.engine == "vosk"
    with pytest.raises(ValueError):
        st.Status.from_json("[1, 2]")


def test_writer_is_atomic_rate_limited_and_private(tmp_path):
    clock = ManualClock(NOW)
    writer = st.StatusWriter(tmp_path, clock, every_s=5.0)
    assert writer.maybe_write(healthy(outbox_depth=1))
    assert not writer.maybe_write(healthy(outbox_depth=2))  # too soon
    clock.advance(5)
    assert writer.maybe_write(healthy(outbox_depth=3))
    assert writer.writes == 2
    assert st.read_status(tmp_path).outbox_depth == 3
    assert not (tmp_path / "status.json.tmp").exists()
    assert stat.S_IMODE(os.stat(tmp_path / "status.json").st_mode) & 0o007 == 0
    assert st.read_status(tmp_path / "nothing-here") is None


def test_writer_failure_is_logged_not_raised(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    writer = st.StatusWriter(blocker, ManualClock(NOW))  # parent is a file: cannot write
    assert writer.write(healthy()) is False
    assert "status_write_failed" in caplog.text


def test_render_healthy():
    text = st.render(healthy(), NOW + dt.timedelta(seconds=3))
    assert text.startswith("Jiayi status: The assistant is running normally.")
    assert "3 seconds ago" in text
    assert "level -48 dBFS (quiet)" in text
    assert "vosk, model vosk-model-small-en-us-0.15 (en)" in text
    assert "connected to mqtts://doctor.example:8883; 0 requests waiting" in text
    assert "amlodipine at 20:00" in text
    assert "Last problem  none" in text
    assert st.assess(healthy(), NOW).healthy


def test_render_stale_snapshot_says_not_running():
    text = st.render(healthy(), NOW + dt.timedelta(minutes=5))
    assert "The assistant is not running: last seen 5 minutes ago." in text
    assert "sudo systemctl restart jiayi" in text
    verdict = st.assess(healthy(), NOW + dt.timedelta(minutes=5))
    assert not verdict.running and not verdict.healthy


def test_render_unhealthy_explains_the_error_in_plain_words():
    s = healthy(
        healthy=False,
        broker_connected=False,
        outbox_depth=2,
        last_error="broker_unreachable",
        last_error_at=dt.datetime(2026, 11, 23, 13, 58, tzinfo=dt.UTC).isoformat(),
        error_active=True,
        last_restart="restarted because the microphone stopped sending audio at 14:02",
    )
    text = st.render(s, NOW)
    assert "running but needs attention" in text
    assert "NOT connected to mqtts://doctor.example:8883; 2 requests waiting" in text
    assert "cannot be reached (no internet or the server is down). (still going on)" in text
    assert "[broker_unreachable at 13:58]" in text
    assert "Check the internet connection" in text
    assert "restarted because the microphone stopped sending audio at 14:02" in text


def test_every_error_code_has_plain_words():
    for code in (
        "mic_stalled",
        "broker_unreachable",
        "tls_failed",
        "model_missing",
        "tts_hung",
        "modem_missing",
    ):
        info = st.explain(code)
        assert info.meaning and info.what_to_do and code not in info.meaning
    assert "internal problem" in st.explain("action_failed:Say").meaning
    # Every watchdog probe code is explained.
    for probe in wd.STANDARD_PROBES.values():
        assert probe.code in st.ERRORS


def test_cli_status_healthy_exit_0(tmp_path, capsys):
    now = dt.datetime.now().astimezone()
    st.StatusWriter(tmp_path, ManualClock(now)).write(healthy(written_at=now.isoformat()))
    assert main(["status", "--state-dir", str(tmp_path)]) == 0
    assert "running normally" in capsys.readouterr().out


def test_cli_status_stale_exit_1_and_json(tmp_path, capsys):
    old = dt.datetime.now().astimezone() - dt.timedelta(minutes=5, seconds=2)
    st.StatusWriter(tmp_path, ManualClock(old)).write(healthy(written_at=old.isoformat()))
    (tmp_path / wd.LAST_RESTART_FILE).write_text(
        wd.RestartReason(
            "mic_stalled", "the microphone stopped sending audio", "2026-11-23T14:02:10", ""
        ).to_json()
    )
    assert main(["status", "--state-dir", str(tmp_path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["running"] is False and out["healthy"] is False
    assert out["headline"] == "The assistant is not running: last seen 5 minutes ago."
    assert out["status"]["last_restart"] == "restarted because the microphone stopped sending audio at 14:02"


def test_cli_status_without_snapshot_and_unreadable(tmp_path, capsys):
    assert main(["status", "--state-dir", str(tmp_path)]) == 1
    assert "has not run yet" in capsys.readouterr().out
    (tmp_path / "status.json").write_text("{not json")
    assert main(["status", "--state-dir", str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_jiayi_status_entry_point_runs(tmp_path):
    now = dt.datetime.now().astimezone()
    st.StatusWriter(tmp_path, ManualClock(now)).write(
        healthy(written_at=now.isoformat(), last_error="tts_hung", error_active=True, healthy=False)
    )
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "status", "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert "The voice output got stuck. (still going on)" in proc.stdout
