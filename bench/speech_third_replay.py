"""Replay a third reading for commands (round 19, cmd19): the command search decoded on the
front-end's side stream as well as on the main one. Two ``bench/speech.py --jsonl`` runs of the
same files — main (the grammar on RNNoise's output, the second opinion on the side stream) and
``SIDE_SEARCHES={'command','second'}`` (both on the side stream) — give three readings of each
utterance: the grammar's on the main stream (G), the grammar's on the side stream (G'), and the
second opinion (S, the same in both runs). Variants, scored with
:meth:`Pipeline.understand_heard` as ``bench/speech_replay.py`` does:

* ``main`` / ``side`` — the two runs as they are;
* ``retry`` — main; when the pipeline takes nothing, G' with S (``listener.SIDE_RETRY`` with the
  second opinion already on the side stream);
* ``retry-agree`` — main; when it takes nothing, act only when G' and S agree (intent and slots);
* ``retry-agree-ask`` — as ``retry-agree``, and when they do not, ask back a G' that G shares;
* ``guard`` — main; a reading acted on that G' does not give (another intent) is asked instead;
* ``agree-guard`` — ``retry-agree`` and ``guard`` together.

Tuning material only (``dev``, ``dev-confusable``); ``--show`` lists the misses (odd half only).

    .venv/bin/python bench/speech_third_replay.py main.jsonl side.jsonl [--tune …] [--show]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import speech  # noqa: E402
from speech_replay import heard  # noqa: E402

from assistant.pipeline import (  # noqa: E402
    GRAMMAR_ALONE_MAX_P,
    OVERRULE_ASK_CONFIDENCE,
    SLOTS_DIFFER_ASK,
    Pipeline,
    PipelineOptions,
    build_pipeline,
    word_overlap,
)
from assistant.understanding.result import Understanding  # noqa: E402


def _key(record: dict[str, Any]) -> tuple[str, ...]:
    return (record["set"], record["cond"], record["voice"], record["text"])


def _agree(a: list[Any], b: list[Any]) -> bool:
    """Two grammar readings with the same intent and slots."""
    return a[2] is not None and a[2] == b[2] and a[3] == b[3]


def variants(pipeline: Pipeline) -> dict[str, Callable[[list[Any], list[Any]], list[Understanding]]]:
    def u(reading: list[Any]) -> Understanding:
        return pipeline.understand_heard(heard(reading))

    def ask(understood: Understanding) -> Understanding:
        return dataclasses.replace(understood, unsure=True, confidence=OVERRULE_ASK_CONFIDENCE)

    def main(m: list[Any], s: list[Any]) -> list[Understanding]:
        return [u(m)]

    def side(m: list[Any], s: list[Any]) -> list[Understanding]:
        return [u(s)]

    def retry(m: list[Any], s: list[Any]) -> list[Understanding]:
        first = u(m)
        return [first] if first.intent is not None else [u(s)]

    def retry_agree(m: list[Any], s: list[Any]) -> list[Understanding]:
        first = u(m)
        if first.intent is not None:
            return [first]
        again = u(s)
        return [again] if again.intent is not None and again.confidence >= 1.0 else [first]

    def retry_agree_ask(m: list[Any], s: list[Any]) -> list[Understanding]:
        first = u(m)
        if first.intent is not None:
            return [first]
        again = u(s)
        if again.intent is not None and again.confidence >= 1.0:
            return [again]
        if _agree(m, s):
            parsed = pipeline.understand_parsed(heard([*m[:1], "", *m[2:]]))
            if parsed.intent is not None and not pipeline._emergency(parsed):
                return [ask(parsed)]
        return [first]

    def guard(m: list[Any], s: list[Any]) -> list[Understanding]:
        first = u(m)
        if first.intent is None or first.unsure or first.spot_check:
            return [first]
        if s[2] is not None and s[2] != first.intent and not pipeline._emergency(first):
            return [ask(first)]
        return [first]

    def grammars_agree(m: list[Any], s: list[Any], overlap: float = 0.0) -> list[Understanding]:
        """Main; when it acts on nothing (rejected or asked), the two grammar readings agree (intent
        and slots, not an emergency) and the second opinion has no sure other intent: act on G."""
        first = u(m)
        if first.intent is not None and not first.unsure and not first.spot_check:
            return [first]
        if not _agree(m, s) or not m[1]:
            return [first]
        parsed = pipeline.understand_parsed(heard([m[0], "", *m[2:]]))
        if parsed.intent is None or pipeline._emergency(parsed):
            return [first]
        other = pipeline.understander.match(m[1])
        if other.intent not in (None, parsed.intent) and other.confidence >= GRAMMAR_ALONE_MAX_P:
            return [first]
        if other.intent == parsed.intent and any(
            other.slots.get(k, v) != v for k, v in parsed.slots.items() if k in SLOTS_DIFFER_ASK
        ):
            return [first]  # another person or medicine: still asked
        if word_overlap(m[0], m[1]) < overlap:
            return [first]
        return [dataclasses.replace(parsed, confidence=1.0, unsure=False)]

    def grammars_agree_half(m: list[Any], s: list[Any]) -> list[Understanding]:
        return grammars_agree(m, s, 0.5)

    def grammars_agree_third(m: list[Any], s: list[Any]) -> list[Understanding]:
        return grammars_agree(m, s, 0.34)

    reading_grammar = pipeline.reading_grammar()
    assert reading_grammar is not None

    def exact_second(m: list[Any], s: list[Any], when: str) -> list[Understanding]:
        """Main; when it acts on nothing and the second opinion's transcript is itself a sentence
        of the command grammar (the catalog's own wording) whose intent the understander gives
        too: act on it (``when``: "rejected" — only where the grammar search rejected;
        "emergency" — only an emergency; "any")."""
        first = u(m)
        if first.intent is not None and not first.unsure and not first.spot_check:
            return [first]
        if when == "rejected" and m[2] is not None:
            return [first]
        parse = reading_grammar.parse(m[1], "command") if m[1] else None
        if parse is None or parse.intent is None:
            return [first]
        other = pipeline.understander.match(m[1])
        if other.intent != parse.intent:
            return [first]
        if when == "emergency" and not pipeline._emergency(other):
            return [first]
        return [dataclasses.replace(other, confidence=1.0, unsure=False, spot_check=False)]

    def sure_emergency(m: list[Any], s: list[Any], p: float) -> list[Understanding]:
        """Main; an emergency it would only ask about ("Did you call for help?", one reading) that
        the second opinion's reading gives at least ``p``: acted on."""
        first = u(m)
        if not first.spot_check or not m[1]:
            return [first]
        other = pipeline.understander.match(m[1])
        if other.intent != first.intent or other.confidence < p:
            return [first]
        return [dataclasses.replace(first, spot_check=False)]

    def agree_guard(m: list[Any], s: list[Any]) -> list[Understanding]:
        first = guard(m, s)
        return first if first[0].intent is not None else retry_agree(m, s)

    return {
        "main": main,
        "side": side,
        "retry": retry,
        "retry-agree": retry_agree,
        "retry-agree-ask": retry_agree_ask,
        "guard": guard,
        "agree-guard": agree_guard,
        "exact-rejected": lambda m, s: exact_second(m, s, "rejected"),
        "exact-emergency": lambda m, s: exact_second(m, s, "emergency"),
        "exact-any": lambda m, s: exact_second(m, s, "any"),
        "sure-emergency-0.95": lambda m, s: sure_emergency(m, s, 0.95),
        "sure-emergency-0.99": lambda m, s: sure_emergency(m, s, 0.99),
        "sure-emergency-0.999": lambda m, s: sure_emergency(m, s, 0.999),
        "grammars-agree": grammars_agree,
        "grammars-agree-0.34": grammars_agree_third,
        "grammars-agree-0.5": grammars_agree_half,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("main")
    ap.add_argument("side")
    ap.add_argument("--tune", action="append", default=[], metavar="MODULE.CONSTANT=VALUE")
    ap.add_argument("--show", default="", help="a variant whose misses to list (tuning half only)")
    args = ap.parse_args(argv)
    speech.apply_tuning(args.tune)
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    pipeline = build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=""))
    expected = speech.data.dev_commands() | speech.data.dev_commands(speech.data.DEV_CONFUSABLE)
    runs = [
        {_key(r): r for r in map(json.loads, Path(p).read_text().splitlines())}
        for p in (args.main, args.side)
    ]
    keys = [k for k in runs[0] if k in runs[1]]
    chosen = variants(pipeline)
    tallies: dict[str, dict[str, speech.Tally]] = {v: {} for v in chosen}
    uneven = 0
    for key in keys:
        readings = [run[key].get("readings") or [] for run in runs]
        text = key[3].removeprefix(speech.data.WAKE_PHRASE).strip()
        want = expected[text]
        for variant, pick in chosen.items():
            if len(readings[0]) == 1 and len(readings[1]) == 1:
                understood = pick(readings[0][0], readings[1][0])
            else:  # endpointed into several utterances: the main run's readings
                uneven += variant == "main"
                understood = [pipeline.understand_heard(heard(r)) for r in readings[0]]
            name = f"{key[0]} {key[1]}"
            tally = tallies[variant].setdefault(name, speech.Tally(name))
            intents, asked = speech.decide(understood)
            tally.count(intents, asked, want)
            if variant == args.show and intents != ([] if want is None else [want]):
                print(f"  {key[1]} {key[2]} {text!r} want={want} acted={intents} asked={asked}")
                print(f"      G={readings[0][0][:4] if readings[0] else None}")
                print(f"      G'={readings[1][0][:4] if readings[1] else None}")
    print(f"{len(keys)} files in both runs; {uneven} endpointed into several utterances")
    for variant in chosen:
        rows = list(tallies[variant].values())
        total = speech.Tally("all")
        for t in rows:
            total.total += t.total
            total.right += t.right
            total.wrong += t.wrong
            total.rejected += t.rejected
            total.asked += t.asked
            total.asked_right += t.asked_right
        speech.table(variant, [*rows, total])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
