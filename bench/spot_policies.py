"""Replay stage-2 rules of the distress spotter offline on ``bench/wake_trace.py`` records
(tuning material only: ``--jsonl`` of a trace, and of ``--household``): per set and condition,
utterances acted on + asked about ("Did you call for help?") / spoken, under each rule.

    .venv/bin/python bench/spot_policies.py /tmp/trace.jsonl /tmp/household.jsonl
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import speech  # noqa: E402

from assistant.hearing.spotter import agreement  # noqa: E402
from assistant.pipeline import PipelineOptions, build_pipeline  # noqa: E402

RULES: dict[str, dict[str, Any]] = {
    "round 11 (both readings)": {"ask": False},
    "ask, no agreement bar": {"agree": 0.0},
    "ask, agreement >= 0.5": {"agree": 0.5},
    "ask, agreement >= 0.6": {"agree": 0.6},
    "ask, agreement >= 0.5, second opinion any emergency": {"agree": 0.5, "second_bar": 0.0},
    "ask, agreement >= 0.5, readings <= 2x + 2 words": {"agree": 0.5, "maxlen": (2, 2)},
    "ask, agreement >= 0.5, readings <= 1x + 2 words": {"agree": 0.5, "maxlen": (1, 2)},
    "round 11, readings <= 2x + 2 words": {"ask": False, "maxlen": (2, 2)},
}


def main(paths: list[str]) -> int:
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    pipeline = build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase="hello jiayi"))
    understander = pipeline.understander

    def emergency_p(text: str) -> float:
        u = understander.match(text) if text else None
        ok = u is not None and u.intent is not None and understander.catalog.tier(u.intent) == "emergency"
        return u.confidence if ok and u is not None else 0.0

    def decide(u: dict[str, Any], rule: dict[str, Any]) -> str | None:
        cand = u["candidate"]
        if not cand:
            return None
        factor, extra = rule.get("maxlen", (1e9, 0))

        def short(t: str) -> bool:
            return len(t.split()) <= factor * len(cand.split()) + extra

        free_ok = [t for t in u["free"] if t and short(t) and emergency_p(t) > 0]
        second = u["second"] if short(u["second"]) else ""
        p_second = emergency_p(second)
        if free_ok and p_second >= 0.95:
            return "act"
        confirming = free_ok + ([second] if p_second >= 0.95 else [])
        bar = rule.get("second_bar")
        if bar is not None and 0 < p_second and p_second >= bar:
            confirming.append(second)
        if not confirming or not rule.get("ask", True):
            return None
        return "ask" if max(agreement(cand, t) for t in confirming) >= rule["agree"] else None

    counts: dict[str, collections.Counter[tuple[str, ...]]] = collections.defaultdict(collections.Counter)
    totals: collections.Counter[tuple[str, str]] = collections.Counter()
    for path in paths:
        for line in Path(path).read_text().splitlines():
            r = json.loads(line)
            if "set" in r:  # a sentence of the tuning sets
                key = (r["set"], r["cond"])
                totals[key] += 1
                direct = "emergency" in r["intents"] and not any(u["candidate"] for u in r["utterances"])
                for name, rule in RULES.items():
                    outs = [decide(u, rule) for u in r["utterances"]]
                    outcome = "act" if direct or "act" in outs else "ask" if "ask" in outs else ""
                    if outcome:
                        counts[name][(*key, outcome)] += 1
            elif "candidate" in r:  # a candidate in the household-like audio
                key = ("household", r["audio"])
                for name, rule in RULES.items():
                    outcome = decide(r, rule) or ""
                    if outcome:
                        counts[name][(*key, outcome)] += 1
    keys = sorted({k[:2] for c in counts.values() for k in c} | set(totals))
    print("| rule | " + " | ".join(f"{a} {b}" for a, b in keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, c in ((n, counts[n]) for n in RULES):
        cells = [f"{c[(*k, 'act')]}+{c[(*k, 'ask')]}/{totals[k] or '-'}" for k in keys]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
