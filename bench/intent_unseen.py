"""Pooled unseen figure (issue 10, round 10): the even halves of every dev set in ``HALVED_SETS``
(never tuned on) scored together, per language, so a model change is judged on ~1 000 lines written
by several writers in several styles rather than on one set.

Per language: in-scope accuracy (intent plus contact / medication slots where labelled),
out-of-scope false accepts (consequential ones apart), negated lines that act, emergency recall,
over the pooled even halves; the same per set; and the tuned-on odd half of ``dev13`` for
reference. Totals only: no line of an even half is ever printed.

    STATE_DIRECTORY=$(mktemp -d) .venv/bin/python bench/intent_unseen.py [--lang en|zh] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from intent import HALVED_SETS, demo_settings, evaluate, load_set  # noqa: E402

KEYS = ("correct", "in_scope", "false_accepts", "consequential_accepts", "oos", "negated_acted", "negated",
        "emergency_hit", "emergency")  # fmt: skip


def run(lang: str) -> dict:
    from assistant.pipeline import build_understander

    understander = build_understander(demo_settings(lang), lang)
    out: dict = {"lang": lang, "sets": {}}
    pooled = dict.fromkeys(KEYS, 0)
    for name in HALVED_SETS:
        if not (ROOT / "bench" / "data" / f"intent-{name}-{lang}.jsonl").exists():
            continue
        rows = load_set(lang, name)
        r = evaluate(understander, rows[1::2], keep_errors=False)
        out["sets"][f"{name} even"] = {k: r[k] for k in KEYS}
        for k in KEYS:
            pooled[k] += r[k]
    out["pooled even"] = pooled
    r = evaluate(understander, load_set(lang, "dev13")[0::2], keep_errors=False)
    out["sets"]["dev13 odd (tuned on)"] = {k: r[k] for k in KEYS}
    return out


def _cell(num: int, den: int) -> str:
    return f"{100 * num / den:.1f} % ({num}/{den})" if den else "—"


def report(res: dict) -> None:
    print(f"## {res['lang']}")
    print("| set | in scope | OOS false accepts (consequential) | negated acting | emergency recall |")
    print("|---|---|---|---|---|")
    rows = {**res["sets"], "**pooled even**": res["pooled even"]}
    for name, r in rows.items():
        print(
            f"| {name} | {_cell(r['correct'], r['in_scope'])} "
            f"| {_cell(r['false_accepts'], r['oos'])} ({r['consequential_accepts']}) "
            f"| {r['negated_acted']}/{r['negated']} | {_cell(r['emergency_hit'], r['emergency'])} |"
        )
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "zh"), action="append")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for lang in args.lang or ["en", "zh"]:
        res = run(lang)
        print(json.dumps(res, ensure_ascii=False)) if args.json else report(res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
