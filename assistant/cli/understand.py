"""``jiayi understand``: what the assistant makes of a sentence, a WAV file, or a stream of them.

    jiayi understand --text "call my daughter" [--lang en|zh] [--config PATH] --json
    jiayi understand --wav FILE [--lang L] [--config PATH] --json
    jiayi understand --jsonl [--lang L] [--config PATH] < lines   # {"text": ...} or {"wav": PATH}

Output is ``Understanding.to_json()``: ``{"text", "lang", "intent", "slots", "confidence"}`` (plus
``"urgent": true`` for a report of an urgent symptom) with
``"intent": null`` when out of scope. In ``--jsonl`` mode everything is loaded once and every
input line (blank, not UTF-8, not JSON, a missing or broken WAV file...) gives exactly one output line,
in order; a bad one gives ``{"error": "line N: ...", "line": N}`` and the stream carries on.
Single-shot modes print one plain sentence and exit 2 when the input is unusable.
"""

from __future__ import annotations

import argparse
import json
import logging
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final

from assistant.cli import UserError, settings_from_args
from assistant.ops.settings import LANGUAGES, Settings

_LOGGER = logging.getLogger(__name__)

if TYPE_CHECKING:
    from assistant.pipeline import Pipeline
    from assistant.understanding.result import Understanding


def add_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "understand",
        help="show the intent and slots the assistant understands from a sentence or WAV file",
        description="Match a sentence (or a WAV recording) against the intent catalog and the config.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="the sentence to understand")
    source.add_argument("--wav", metavar="FILE", help="a 16 kHz mono WAV recording to recognise first")
    source.add_argument(
        "--jsonl",
        action="store_true",
        help='read {"text": ...} or {"wav": ...} objects from stdin, one per line',
    )
    parser.add_argument("--lang", choices=LANGUAGES, help="language (default: the config's)")
    parser.add_argument("--config", metavar="PATH", help="config.yaml (default: the usual search path)")
    parser.add_argument("--json", action="store_true", help="print the JSON object (always on for --jsonl)")
    parser.set_defaults(func=run_understand)


class _Pipelines:
    """One pipeline per language (the product's own factory), built on first use and kept."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._by_lang: dict[str, Pipeline] = {}

    def get(self, lang: str) -> Pipeline:
        from assistant.pipeline import PipelineOptions, build_pipeline
        from assistant.understanding.catalog import CatalogError

        if lang not in LANGUAGES:
            raise UserError(f"unknown language '{lang}' (use one of: {', '.join(LANGUAGES)})")
        if lang not in self._by_lang:
            try:
                # A recording is one command: no wake phrase is required in it.
                options = PipelineOptions(isolated=False, lang=lang, wake_phrase="")
                self._by_lang[lang] = build_pipeline(self.settings, options)
            except CatalogError as err:
                raise UserError(str(err)) from None
        return self._by_lang[lang]


MAX_LINE_BYTES: Final = 256 * 1024
"""A longer ``--jsonl`` line is answered with an error without being parsed."""
MAX_TEXT_CHARS: Final = 2000
"""Longest sentence worth matching (a person says a few dozen words at a time)."""
MAX_WAV_BYTES: Final = 200 * 1024 * 1024
"""About 100 minutes of 16 kHz mono: anything larger is not one spoken command."""
_MP3_MAGIC: Final = (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")


class InputProblem(Exception):
    """One input cannot be understood; the message is one plain sentence for the user."""


def _sox_hint(name: str) -> str:
    return f"convert it first, e.g. `sox {name} -r 16000 -c 1 -b 16 out.wav`"


def check_wav_file(path: str) -> Path:
    """The path when it looks like a WAV file; InputProblem in plain words when it cannot be one."""
    if not path.strip():
        raise InputProblem("no WAV file was named")
    wav = Path(path)
    try:
        info = wav.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise InputProblem(f"WAV file not found: {path}") from None
    except (OSError, ValueError) as err:
        raise InputProblem(f"{path} cannot be opened ({getattr(err, 'strerror', None) or err})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputProblem(f"{path} is a folder, not a WAV file")
    if not stat.S_ISREG(info.st_mode):
        raise InputProblem(f"{path} is not a regular file")
    if info.st_size == 0:
        raise InputProblem(f"{path} is empty (0 bytes), not a recording")
    if info.st_size > MAX_WAV_BYTES:
        raise InputProblem(f"{path} is too big ({info.st_size // 1_000_000} MB) to be one spoken command")
    try:
        with wav.open("rb") as handle:
            head = handle.read(12)
    except OSError as err:
        raise InputProblem(f"{path} cannot be read ({err.strerror or err})") from None
    if head.startswith(_MP3_MAGIC):
        raise InputProblem(f"{path} is an MP3 file, not a WAV file; {_sox_hint(wav.name)}")
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise InputProblem(f"{path} is not a WAV file; {_sox_hint(wav.name)}")
    return wav


def _understand_wav(pipeline: Pipeline, path: str) -> Understanding:
    from assistant.hearing.sources import AudioSourceError

    wav = check_wav_file(path)
    try:
        return pipeline.understand_wav(wav)
    except AudioSourceError as err:  # float samples, odd channel counts, truncated files...
        raise InputProblem(str(err)) from None
    except (OSError, EOFError, ValueError, ArithmeticError) as err:  # includes wave.Error, audioop.error
        _LOGGER.debug("reading %s failed", path, exc_info=True)
        raise InputProblem(
            f"{path} could not be read as a 16-bit PCM WAV file ({type(err).__name__}); {_sox_hint(wav.name)}"
        ) from None


def _understand_text(pipeline: Pipeline, text: str) -> Understanding:
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise InputProblem("the text holds a broken character (not valid Unicode); send it as UTF-8 text")
    if len(text) > MAX_TEXT_CHARS:
        raise InputProblem(f"the text is {len(text)} characters long; send at most {MAX_TEXT_CHARS}")
    return pipeline.understand_text(text)


def _print_human(result: Understanding) -> None:
    if result.intent is None:
        print(f"(not understood) {result.text!r} confidence {result.confidence:.2f}")
        return
    slots = ", ".join(f"{k}={v}" for k, v in result.slots.items())
    print(f"{result.intent}" + (f" [{slots}]" if slots else "") + f" confidence {result.confidence:.2f}")


def run_understand(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    pipelines = _Pipelines(settings)
    default_lang = args.lang or settings.language
    if args.jsonl:
        return _run_jsonl(sys.stdin.buffer, pipelines, default_lang)
    pipeline = pipelines.get(default_lang)
    try:
        result = _understand_wav(pipeline, args.wav) if args.wav else _understand_text(pipeline, args.text)
    except InputProblem as err:
        raise UserError(str(err)) from None
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        _print_human(result)
    return 0


def _run_jsonl(stream: BinaryIO, pipelines: _Pipelines, default_lang: str) -> int:
    """One output line for every input line, in order, whatever the line holds."""
    for line_no, raw in enumerate(stream, 1):
        answer = _one_line(raw, line_no, pipelines, default_lang)
        text = json.dumps(answer, ensure_ascii=False)
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):  # a broken file name quoted back
            text = json.dumps(answer)
        print(text.translate(_LINE_BREAKS_ESCAPED), flush=True)
    return 0


# Characters JSON leaves raw inside strings but line readers (Python's str.splitlines, JavaScript)
# take as line breaks: escaped, so every answer stays one line. They can only occur inside strings.
_LINE_BREAKS_ESCAPED = {ord(ch): f"\\u{ord(ch):04x}" for ch in "\x85\u2028\u2029"}


def _error(line_no: int, message: str) -> dict[str, Any]:
    return {"error": f"line {line_no}: {message}", "line": line_no}


def _one_line(raw: bytes, line_no: int, pipelines: _Pipelines, default_lang: str) -> dict[str, Any]:
    if len(raw) > MAX_LINE_BYTES:
        return _error(line_no, f"the line is longer than {MAX_LINE_BYTES} bytes")
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _error(line_no, "not UTF-8 text")
    if not line.strip():
        return _error(line_no, 'empty line; expected {"text": ...} or {"wav": ...}')
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        return _error(line_no, f"not JSON ({err.msg})")
    except RecursionError:
        return _error(line_no, "the JSON is nested too deeply")
    if not isinstance(obj, dict) or not (isinstance(obj.get("text"), str) or isinstance(obj.get("wav"), str)):
        return _error(line_no, 'expected {"text": ...} or {"wav": ...}')
    lang = obj.get("lang") or default_lang
    if not isinstance(lang, str):
        return _error(line_no, f"lang must be text (one of: {', '.join(LANGUAGES)})")
    try:
        pipeline = pipelines.get(lang)
        if isinstance(obj.get("text"), str):
            result = _understand_text(pipeline, obj["text"])
        else:
            result = _understand_wav(pipeline, obj["wav"])
    except (UserError, InputProblem) as err:
        return _error(line_no, str(err))
    except Exception as err:  # one bad line must never end the stream
        _LOGGER.debug("line %d failed", line_no, exc_info=True)
        return _error(line_no, f"could not be understood ({type(err).__name__})")
    return result.to_json()
