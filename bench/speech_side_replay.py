"""Replay which stream each search of a command decodes (round 18): the front-end's main stream
(RNNoise) or its side stream (``frontend.SIDE_DRY_SHARE``). Three ``bench/speech.py --jsonl``
runs of the same tuning files and share — main only, ``SIDE_SEARCHES={'command'}`` (grammar on
the side stream) and ``SIDE_SEARCHES={'second'}`` — hold every pair of readings: the grammar's
and the second opinion's from either stream (the endpointer hears the main stream in all three,
so the utterances are the same). This puts them together as a variant would and scores it with
:meth:`Pipeline.understand_heard`, as ``bench/speech_replay.py`` does:

* ``main`` / ``grammar-side`` / ``second-side`` — the three runs as they are;
* ``both-side`` — both searches on the side stream;
* ``retry`` — main stream; when the pipeline takes nothing, both on the side stream
  (``listener.SIDE_RETRY``); ``retry-second`` — the retry with only the second opinion on the side;
  ``second-side-retry`` — the second opinion on the side stream, then the retry.

Tuning material only (``dev``, ``dev-confusable``).

    .venv/bin/python bench/speech_side_replay.py main.jsonl grammar-side.jsonl second-side.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import speech  # noqa: E402
from speech_replay import heard  # noqa: E402

from assistant.pipeline import PipelineOptions, build_pipeline  # noqa: E402


def _key(record: dict[str, Any]) -> tuple[str, ...]:
    return (record["set"], record["cond"], record["voice"], record["text"])


def combined(grammar: list[Any], second: list[Any]) -> list[Any]:
    """One utterance's reading: the grammar's part of ``grammar``, the second opinion of ``second``."""
    transcript, _, intent, slots, after_wake = grammar[:5]
    other = second[1]
    if intent is None:  # the grammar rejected it: the second opinion is all that was heard
        transcript = other
    return [transcript, other, intent, slots, after_wake, []]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("main")
    ap.add_argument("grammar_side")
    ap.add_argument("second_side")
    args = ap.parse_args(argv)
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    pipeline = build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=""))
    expected = speech.data.dev_commands() | speech.data.dev_commands(speech.data.DEV_CONFUSABLE)
    runs = [
        {_key(r): r for r in map(json.loads, Path(p).read_text().splitlines())}
        for p in (args.main, args.grammar_side, args.second_side)
    ]
    keys = [k for k in runs[0] if all(k in run for run in runs)]
    variants = (
        "main",
        "grammar-side",
        "second-side",
        "both-side",
        "retry",
        "retry-second",
        "second-side-retry",
    )
    tallies: dict[str, dict[str, speech.Tally]] = {v: {} for v in variants}
    uneven = 0
    for key in keys:
        main_r, gside, sside = (run[key] for run in runs)
        readings = [r.get("readings") or [] for r in (main_r, gside, sside)]
        if len({len(r) for r in readings}) != 1 or len(readings[0]) > 1:
            uneven += 1  # endpointed differently (should not happen): main stream's readings
        if len(readings[0]) == 1 and len(readings[1]) == 1 and len(readings[2]) == 1:
            m, g, s = (r[0] for r in readings)
            both = [combined(g, s)]
            second_only = [combined(m, s)]
        else:
            both = second_only = readings[0]
        first = readings[0]

        def taken(utterances: list[Any]) -> bool:
            return any(pipeline.understand_heard(heard(u)).intent is not None for u in utterances)

        picks = {
            "main": first,
            "grammar-side": readings[1],
            "second-side": readings[2],
            "both-side": both,
            "retry": first if taken(first) or not taken(both) else both,
            "retry-second": first if taken(first) or not taken(second_only) else second_only,
            "second-side-retry": readings[2] if taken(readings[2]) or not taken(both) else both,
        }
        text = key[3].removeprefix(speech.data.WAKE_PHRASE).strip()
        for variant, utterances in picks.items():
            name = f"{key[0]} {key[1]}"
            tally = tallies[variant].setdefault(name, speech.Tally(name))
            intents, asked = speech.decide([pipeline.understand_heard(heard(u)) for u in utterances])
            tally.count(intents, asked, expected[text])
    print(f"{len(keys)} files in all three runs; {uneven} endpointed differently")
    for variant in variants:
        speech.table(variant, list(tallies[variant].values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
