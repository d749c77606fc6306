"""Logging: structured, content-free by default, journald-friendly.

Log lines carry event types, ids and timings (``event=request_sent id=… type=call_doctor
latency_ms=42``), never what the person said or anything about their health. Transcripts are
logged only through :func:`log_transcript`, and only when the caregiver opted in with
``privacy.log_transcripts`` (a WARNING says so at start-up).

Under systemd (``$JOURNAL_STREAM`` names our stderr) every line is prefixed with its syslog
priority (``<6>`` info, ``<4>`` warning, ``<3>`` error …) so journald records levels, and no
timestamp is written (journald adds its own). Elsewhere lines get a timestamp and level name.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any, Final, TextIO

from assistant.ops.settings import Settings

_LOGGER = logging.getLogger(__name__)

SYSLOG_PRIORITY: Final[dict[int, int]] = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}
PLAIN_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_FORMAT: Final = "%(name)s: %(message)s"
QUIET_LIBRARIES: Final = ("paho", "urllib3", "asyncio")
"""Chatty third-party loggers kept at WARNING unless --verbose."""

_transcripts_allowed = False
"""Process-wide opt-in, set only by :func:`setup_logging` from ``settings.privacy``."""


def syslog_priority(levelno: int) -> int:
    for level in sorted(SYSLOG_PRIORITY, reverse=True):
        if levelno >= level:
            return SYSLOG_PRIORITY[level]
    return 7


class JournalFormatter(logging.Formatter):
    """``<N>name: message``, with the priority prefix on every line (tracebacks included)."""

    def __init__(self) -> None:
        super().__init__(JOURNAL_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines() or [""])


def journal_stream_matches(stream: TextIO, env: Mapping[str, str] | None = None) -> bool:
    """True when ``$JOURNAL_STREAM`` (``device:inode``) is the file behind ``stream`` (systemd's check)."""
    env = os.environ if env is None else env
    value = env.get("JOURNAL_STREAM", "")
    if ":" not in value:
        return False
    try:
        dev, ino = (int(part) for part in value.split(":", 1))
        st = os.fstat(stream.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


def setup_logging(
    settings: Settings | None = None,
    *,
    verbose: bool = False,
    stream: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> logging.Handler:
    """Install the one root handler (replacing earlier ones) and the transcript opt-in.

    Call at start-up and again after a config reload (the opt-in follows the new settings).
    """
    global _transcripts_allowed
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    if journal_stream_matches(stream, env):
        handler.setFormatter(JournalFormatter())
    else:
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)
    _transcripts_allowed = bool(settings is not None and settings.privacy.log_transcripts)
    if _transcripts_allowed:
        _LOGGER.warning(
            "event=transcript_logging_on what the person says is written to this log "
            "(privacy.log_transcripts); turn it off when no longer needed"
        )
    return handler


def transcripts_allowed() -> bool:
    return _transcripts_allowed


def _value(v: Any) -> str:
    text = str(v)
    if text == "" or any(c.isspace() or c in '="' for c in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


def format_event(event: str, **fields: Any) -> str:
    """``event=request_sent id=… type=call_doctor`` (values with spaces are quoted)."""
    return " ".join([f"event={event}", *(f"{k}={_value(v)}" for k, v in fields.items())])


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured event. Pass ids, types, counts and timings only, never content."""
    if logger.isEnabledFor(level):
        logger.log(level, "%s", format_event(event, **fields))


def redact(text: str, allowed: bool | None = None) -> str:
    """``text`` when transcript logging is opted in, else only its length: ``<redacted 23 chars>``."""
    if transcripts_allowed() if allowed is None else allowed:
        return text
    return f"<redacted {len(text)} chars>"


def log_transcript(
    logger: logging.Logger,
    text: str,
    *,
    lang: str = "",
    allowed: bool | None = None,
    level: int = logging.INFO,
) -> bool:
    """Log what was heard, only when opted in (``allowed`` overrides the process-wide setting).

    Returns True when the text was logged. Without the opt-in nothing is logged at all, not even
    the length, so the log does not reveal when the person spoke at length.
    """
    if not (transcripts_allowed() if allowed is None else allowed):
        return False
    log_event(logger, "transcript", level, lang=lang or "-", text=text)
    return True
