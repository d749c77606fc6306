"""``jiayi understand``: what the assistant makes of a sentence, a WAV file, or a stream of them.

    jiayi understand --text "call my daughter" [--lang en|zh] [--config PATH] --json
    jiayi understand --wav FILE [--lang L] [--config PATH] --json
    jiayi understand --jsonl [--lang L] [--config PATH] < lines   # {"text": ...} or {"wav": PATH}

Output is ``Understanding.to_json()``: ``{"text", "lang", "intent", "slots", "confidence"}`` with
``"intent": null`` when out of scope. In ``--jsonl`` mode everything is loaded once and every
input line gives exactly one output line, in order; a malformed line gives ``{"error": ...}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TYPE_CHECKING, Any

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


def _understand_wav(pipeline: Pipeline, path: str) -> Understanding:
    return pipeline.understand_wav(path)


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
    if not args.jsonl:
        pipeline = pipelines.get(default_lang)
        if args.wav:
            result = _understand_wav(pipeline, args.wav)
        else:
            result = pipeline.understand_text(args.text)
        if args.json:
            print(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            _print_human(result)
        return 0
    for line_no, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        print(
            json.dumps(_one_line(line, line_no, pipelines, default_lang), ensure_ascii=False),
            flush=True,
        )
    return 0


def _one_line(line: str, line_no: int, pipelines: _Pipelines, default_lang: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        return {"error": f"line {line_no}: not JSON ({err.msg})", "line": line_no}
    if not isinstance(obj, dict) or not (isinstance(obj.get("text"), str) or isinstance(obj.get("wav"), str)):
        return {"error": f'line {line_no}: expected {{"text": ...}} or {{"wav": ...}}', "line": line_no}
    lang = obj.get("lang") or default_lang
    try:
        pipeline = pipelines.get(str(lang))
        if isinstance(obj.get("text"), str):
            result = pipeline.understand_text(obj["text"])
        else:
            result = _understand_wav(pipeline, obj["wav"])
    except UserError as err:
        return {"error": f"line {line_no}: {err}", "line": line_no}
    return result.to_json()
