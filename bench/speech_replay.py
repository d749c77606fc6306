"""Replay the pipeline's decision on recorded readings: ``bench/speech.py --jsonl`` keeps, per
utterance, the grammar's sentence and intent and the second opinion (``readings``); this runs
:meth:`Pipeline.understand_heard` on them again with other decision constants (``--tune``, as in
``bench/speech.py``) and prints accuracy / wrong actions / asked back per set and condition, the
way ``bench/speech.py`` scores them. Decoding is not repeated, so a grid of rules costs seconds.
Tuning material only (``dev``, ``dev-wake-cmd``; never the test sets).

    .venv/bin/python bench/speech_replay.py /tmp/run.jsonl --tune pipeline.SECOND_OVERRULES_P=0.995
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import speech  # noqa: E402

from assistant.hearing.listener import UtteranceRecognized  # noqa: E402
from assistant.pipeline import Pipeline, PipelineOptions, build_pipeline  # noqa: E402


def heard(reading: list[Any]) -> UtteranceRecognized:
    transcript, second, intent, slots, after_wake = reading[:5]
    rivals = tuple((r, m) for r, m in reading[5]) if len(reading) > 5 else ()
    return UtteranceRecognized(
        transcript,
        "en",
        "pocketsphinx",
        0.0,
        0.0,
        0.0,
        after_wake=after_wake,
        parsed=intent is not None,
        intent=intent,
        slots=tuple(slots.items()),
        second=second,
        rivals=rivals,
    )


def score(pipeline: Pipeline, records: list[dict[str, Any]]) -> dict[str, speech.Tally]:
    tallies: dict[str, speech.Tally] = {}
    for record in records:
        key = f"{record['set']} {record['cond']}"
        tally = tallies.setdefault(key, speech.Tally(key))
        understood = [pipeline.understand_heard(heard(r)) for r in record["readings"]]
        intents, asked = speech.decide(understood)
        intent = record["expected"]
        tally.count(intents, asked, intent)
        if any(x != intent for x in intents) and record.get("show"):
            print(
                f"  wrong: {record['text']!r} {record['voice']} {record['cond']}: {record['readings']} -> {intents}"
            )
    return tallies


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("jsonl", nargs="+")
    ap.add_argument("--tune", action="append", default=[], metavar="MODULE.CONSTANT=VALUE")
    ap.add_argument("--sets", default="dev,dev-wake-cmd,dev-confusable")
    ap.add_argument(
        "--show-wrong", action="store_true", help="print each wrong action (tuning material only)"
    )
    args = ap.parse_args(argv)
    speech.apply_tuning(args.tune)
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    pipeline = build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=""))
    wanted = set(args.sets.split(","))
    records = []
    expected = speech.data.dev_commands() | speech.data.dev_commands(speech.data.DEV_CONFUSABLE)
    for path in args.jsonl:
        for line in Path(path).read_text().splitlines():
            record = json.loads(line)
            if record["set"] not in wanted or "readings" not in record:
                continue
            text = record["text"].removeprefix(speech.data.WAKE_PHRASE).strip()
            record["expected"] = expected[text]
            record["show"] = args.show_wrong
            records.append(record)
    speech.table(f"replay, tune={args.tune}", list(score(pipeline, records).values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
