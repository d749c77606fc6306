"""Logging: no transcript in the log unless opted in; journald priority prefixes; structured events."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys

import pytest

from assistant.ops import logs as logsetup
from assistant.ops.settings import Doctor, Person, Privacy, Settings

SECRET = "I have chest pain and took two of my heart pills"


def settings(log_transcripts: bool) -> Settings:
    return Settings(
        person=Person("Margaret Lee", "Margaret", "en"),
        doctor=Doctor("Dr. Chen", "+15550100"),
        privacy=Privacy(log_transcripts=log_transcripts),
    )


@pytest.fixture(autouse=True)
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)
    logsetup._transcripts_allowed = False


def test_transcript_never_reaches_the_log_by_default():
    out = io.StringIO()
    logsetup.setup_logging(settings(False), stream=out, env={})
    log = logging.getLogger("assistant.daemon")
    assert logsetup.log_transcript(log, SECRET, lang="en") is False
    log.info("%s", logsetup.format_event("understood", intent="report_symptom", text=logsetup.redact(SECRET)))
    logsetup.log_event(log, "request_sent", id="r-1", type="report_symptom", latency_ms=42)
    text = out.getvalue()
    assert "chest" not in text and "pills" not in text
    assert f'text="<redacted {len(SECRET)} chars>"' in text
    assert "event=request_sent id=r-1 type=report_symptom latency_ms=42" in text
    assert "transcript_logging_on" not in text


def test_transcript_is_logged_when_opted_in_with_a_start_up_warning():
    out = io.StringIO()
    logsetup.setup_logging(settings(True), stream=out, env={})
    log = logging.getLogger("assistant.daemon")
    assert logsetup.log_transcript(log, SECRET, lang="en") is True
    text = out.getvalue()
    first = text.splitlines()[0]
    assert "WARNING" in first and "event=transcript_logging_on" in first
    assert f'event=transcript lang=en text="{SECRET}"' in text
    assert logsetup.redact(SECRET) == SECRET


def test_explicit_allowed_overrides_the_process_setting():
    out = io.StringIO()
    logsetup.setup_logging(None, stream=out, env={})
    log = logging.getLogger("assistant.chat")
    assert logsetup.log_transcript(log, "hello there", allowed=True)
    assert not logsetup.log_transcript(log, "secret words", allowed=False)
    assert "hello there" in out.getvalue() and "secret words" not in out.getvalue()


def test_journald_output_has_priority_prefix_on_every_line_and_no_timestamp(tmp_path):
    path = tmp_path / "journal"
    with open(path, "w+") as stream:
        st = os.fstat(stream.fileno())
        env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        logsetup.setup_logging(None, stream=stream, env=env)
        log = logging.getLogger("assistant.link.relay")
        logsetup.log_event(log, "broker_connected", url="mqtts://x:8883")
        log.warning("event=delivery_late id=r-2")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("event=action_failed kind=Say")
        log.debug("event=hidden")
    lines = path.read_text().splitlines()
    assert lines[0] == "<6>assistant.link.relay: event=broker_connected url=mqtts://x:8883"
    assert lines[1] == "<4>assistant.link.relay: event=delivery_late id=r-2"
    assert lines[2] == "<3>assistant.link.relay: event=action_failed kind=Say"
    assert len(lines) > 4 and all(line.startswith("<3>") for line in lines[2:])  # traceback lines too
    assert any("RuntimeError: boom" in line for line in lines)
    assert not any("event=hidden" in line for line in lines)


def test_journal_stream_for_another_file_is_ignored(tmp_path):
    out = io.StringIO()
    assert not logsetup.journal_stream_matches(out, {"JOURNAL_STREAM": "1:2"})
    with open(tmp_path / "f", "w") as f:
        assert not logsetup.journal_stream_matches(f, {"JOURNAL_STREAM": "1:2"})
        assert not logsetup.journal_stream_matches(f, {})


def test_journald_detection_in_a_real_process(tmp_path):
    """A child whose stderr is the file JOURNAL_STREAM names writes <N> prefixes; the parent's check is real."""
    path = tmp_path / "stderr"
    code = (
        "import logging, os, sys\n"
        "st = os.fstat(2)\n"
        "os.environ['JOURNAL_STREAM'] = f'{st.st_dev}:{st.st_ino}'\n"
        "from assistant.ops.logs import setup_logging\n"
        "setup_logging(None)\n"
        "logging.getLogger('assistant.x').error('event=broken')\n"
    )
    with open(path, "w") as err:
        subprocess.run([sys.executable, "-c", code], stderr=err, check=True, timeout=60)
    assert path.read_text() == "<3>assistant.x: event=broken\n"


def test_priorities():
    assert logsetup.syslog_priority(logging.DEBUG) == 7
    assert logsetup.syslog_priority(logging.INFO) == 6
    assert logsetup.syslog_priority(logging.WARNING) == 4
    assert logsetup.syslog_priority(logging.ERROR) == 3
    assert logsetup.syslog_priority(logging.CRITICAL) == 2
    assert logsetup.syslog_priority(5) == 7
