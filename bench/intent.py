"""Intent benchmark: accuracy, out-of-scope false accepts, emergency recall, negation, latency.

Dev sets (``bench/data/intent-dev-<lang>.jsonl``) are written separately from the catalog phrases.
Each line is ``{"text", "intent", "slots"}`` (``intent: null`` = out of scope) or
``{"text", "not_intent"}`` (a negated request that must not trigger that intent).
Every 4th dev line (index % 4 == 3) is held out: it was never looked at while tuning.
Test sets (``bench/data/intent-test-<lang>.jsonl``) were written later, from scratch, before the
second tuning round; only their totals are reported (``--errors`` lists tuning-set misses only).

    .venv/bin/python bench/intent.py [--lang en|zh] [--json] [--errors]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.catalog import Catalog, IntentDef, load_catalog  # noqa: E402
from assistant.matcher import IntentMatcher  # noqa: E402
from assistant.settings import Contact, Doctor, Medication, Person, Settings  # noqa: E402

IGNORED_SLOTS = frozenset({"danger"})  # detail slot, not part of the stable intent contract
HELD_OUT_EVERY = 4
BIG_CATALOG_PHRASES = 300
WORDS = (
    "garden window kettle radio weather music taxi lights heating curtains television story news joke "
    "recipe shopping bread milk alarm door garage letter parcel bus train station church library"
).split()
ZH_WORDS = "洗碗机 热水器 门铃 风扇 加湿器 打印机 吸尘器 烤面包机 冰箱 喷泉 扫地机 电饭煲 鱼缸 跑步机 投影仪 车棚".split()


def demo_settings(lang: str) -> Settings:
    return Settings(
        person=Person("Margaret Lee", "Margaret", lang),  # type: ignore[arg-type]
        doctor=Doctor("Dr. Chen", "+15550100", aliases=("陈医生", "陈大夫")),
        contacts=(
            Contact("Anna", "daughter", aliases=("安娜",), phone="+15550101", emergency=True),
            Contact("David", "son", phone="+15550102"),
        ),
        medications=(
            Medication("amlodipine", aliases=("blood pressure pills", "降压药"), times=(dt.time(8),)),
            Medication("metformin", aliases=("diabetes pills", "降糖药"), times=(dt.time(8), dt.time(18))),
        ),
    )


def big_catalog(catalog: Catalog) -> Catalog:
    """The real catalog plus synthetic out-of-domain intents up to ~300 phrase templates."""
    intents = dict(catalog.intents)
    count = sum(len(i.phrases) for i in intents.values())
    words = ZH_WORDS if catalog.lang == "zh" else WORDS
    verbs = (
        ("打开|开", "关掉|关", "查")
        if catalog.lang == "zh"
        else ("open|switch on", "close|switch off", "check")
    )
    n = 0
    while count < BIG_CATALOG_PHRASES:
        word = words[n % len(words)]
        verb = verbs[(n // len(words)) % len(verbs)]
        sep = "" if catalog.lang == "zh" else " "
        phrases = (f"({verb}){sep}{word}", f"[please]{sep}({verb}){sep}[the]{sep}{word}{sep}[now]")
        if catalog.lang == "zh":
            phrases = (f"({verb}){word}", f"[请]({verb})[一下]{word}")
        intents[f"extra_{n}"] = IntentDef(f"extra_{n}", "plain", (), frozenset(), phrases, {})
        count += len(phrases)
        n += 1
    big = copy.copy(catalog)
    object.__setattr__(big, "intents", intents)
    return big


def load_set(lang: str, kind: str = "dev") -> list[dict]:
    path = ROOT / "bench" / "data" / f"intent-{kind}-{lang}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(matcher: IntentMatcher, rows: list[dict]) -> dict:
    in_scope = correct = oos = false_accepts = emerg = emerg_hit = neg = neg_ok = 0
    errors: list[str] = []
    for row in rows:
        u = matcher.match(row["text"])
        got_slots = {k: v for k, v in u.slots.items() if k not in IGNORED_SLOTS}
        if "not_intent" in row:
            neg += 1
            ok = u.intent != row["not_intent"]
            neg_ok += ok
        elif row["intent"] is None:
            oos += 1
            ok = u.intent is None
            false_accepts += not ok
        else:
            in_scope += 1
            ok = u.intent == row["intent"] and got_slots == row.get("slots", {})
            correct += ok
            if row["intent"] == "emergency":
                emerg += 1
                emerg_hit += u.intent == "emergency"
        if not ok:
            want = row.get("intent", "!" + str(row.get("not_intent")))
            errors.append(
                f"{row['text']!r}: want {want} {row.get('slots', {})} got {u.intent} {got_slots} ({u.confidence:.2f})"
            )
    return {
        "utterances": len(rows),
        "in_scope": in_scope,
        "accuracy": correct / in_scope if in_scope else 1.0,
        "out_of_scope": oos,
        "false_accept_rate": false_accepts / oos if oos else 0.0,
        "emergency": emerg,
        "emergency_recall": emerg_hit / emerg if emerg else 1.0,
        "negations": neg,
        "negation_ok": neg_ok / neg if neg else 1.0,
        "errors": errors,
    }


def latency(matcher: IntentMatcher, rows: list[dict], rounds: int = 5) -> dict:
    texts = [r["text"] for r in rows]
    for t in texts:  # warm caches once (the daemon matches many utterances per process)
        matcher.match(t)
    samples: list[float] = []
    for _ in range(rounds):
        for t in texts:
            start = time.perf_counter()
            matcher.match(t)
            samples.append((time.perf_counter() - start) * 1000.0)
    samples.sort()
    return {
        "p50_ms": statistics.median(samples),
        "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        "max_ms": samples[-1],
    }


def cold_latency(matcher_factory, rows: list[dict]) -> float:
    """p99 on first sight of each utterance (no pinyin cache), fresh matcher."""
    matcher = matcher_factory()
    samples = []
    for r in rows:
        start = time.perf_counter()
        matcher.match(r["text"])
        samples.append((time.perf_counter() - start) * 1000.0)
    samples.sort()
    return samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def run(lang: str) -> dict:
    settings = demo_settings(lang)
    rows = load_set(lang, "dev")
    test = load_set(lang, "test")
    tuning = [r for i, r in enumerate(rows) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1]
    held_out = [r for i, r in enumerate(rows) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
    start = time.perf_counter()
    matcher = IntentMatcher.from_settings(settings, lang)
    build_ms = (time.perf_counter() - start) * 1000.0
    catalog = load_catalog(lang)
    big = IntentMatcher(big_catalog(catalog), settings)
    return {
        "lang": lang,
        "catalog_phrases": sum(len(i.phrases) for i in catalog.intents.values()),
        "index_sentences": sum(len(v) for v in matcher._entries.values()),
        "build_ms": build_ms,
        "all": evaluate(matcher, rows),
        "tuning": evaluate(matcher, tuning),
        "held_out": evaluate(matcher, held_out),
        "test": evaluate(matcher, test),
        "latency": latency(matcher, rows + test),
        "cold_p99_ms": cold_latency(lambda: IntentMatcher(catalog, settings), rows + test),
        "big_catalog_phrases": sum(len(i.phrases) for i in big.catalog.intents.values()),
        "big_catalog": evaluate(big, rows),
        "big_catalog_test": evaluate(big, test),
        "big_latency": latency(big, rows + test),
    }


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def report(res: dict, verbose: bool) -> None:
    print(
        f"## {res['lang']}: {res['catalog_phrases']} phrase templates, {res['index_sentences']} index sentences, build {res['build_ms']:.0f} ms"
    )
    print("| set | utterances | in-scope accuracy | false accepts | emergency recall | negation ok |")
    print("|---|---|---|---|---|---|")
    big_label = f"{res['big_catalog_phrases']}-phrase catalog"
    labels = {
        "all": "dev, all",
        "tuning": "dev, tuning",
        "held_out": "dev, held out",
        "test": "test",
        "big_catalog": f"dev, all, {big_label}",
        "big_catalog_test": f"test, {big_label}",
    }
    for name, label in labels.items():
        r = res[name]
        print(
            f"| {label} | {r['utterances']} ({r['in_scope']} in, {r['out_of_scope']} out) | {_pct(r['accuracy'])} "
            f"| {_pct(r['false_accept_rate'])} | {_pct(r['emergency_recall'])} ({r['emergency']}) | {_pct(r['negation_ok'])} ({r['negations']}) |"
        )
    lat, big = res["latency"], res["big_latency"]
    print(
        f"\nlatency per utterance: p50 {lat['p50_ms']:.3f} ms, p99 {lat['p99_ms']:.3f} ms (max {lat['max_ms']:.2f}); "
        f"cold p99 {res['cold_p99_ms']:.3f} ms; {res['big_catalog_phrases']}-phrase catalog p50 {big['p50_ms']:.3f} ms, p99 {big['p99_ms']:.3f} ms\n"
    )
    if verbose:
        for e in res["tuning"]["errors"]:  # held-out misses are not shown (no tuning on them)
            print("  miss:", e)  # test-set misses are never printed either
        print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "zh"), action="append")
    parser.add_argument("--json", action="store_true", help="print one JSON object per language")
    parser.add_argument("--errors", action="store_true", help="list every miss")
    args = parser.parse_args()
    for lang in args.lang or ["en", "zh"]:
        res = run(lang)
        if args.json:
            print(json.dumps(res, ensure_ascii=False))
        else:
            report(res, args.errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
