"""Intent benchmark: accuracy, out-of-scope false accepts, emergency recall, negation, latency.

Dev sets (``bench/data/intent-dev-<lang>.jsonl``) are written separately from the catalog phrases.
Each line is ``{"text", "intent", "slots"}`` (``intent: null`` = out of scope) or
``{"text", "not_intent"}`` (a negated request that must not trigger that intent).
Every 4th dev line (index % 4 == 3) is held out: it was never looked at while tuning.
Test sets (``bench/data/intent-test-<lang>.jsonl``) were written later, from scratch, before the
second tuning round; only their totals are kept and reported, last. Tune sets
(``bench/data/intent-tune-<lang>.jsonl``, same schema) were written for the third round; ``--errors``
lists dev-tuning and tune misses.

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

from assistant.ops.settings import Contact, Doctor, Medication, Person, Settings  # noqa: E402
from assistant.pipeline import build_understander  # noqa: E402
from assistant.understanding.catalog import Catalog, IntentDef, load_catalog  # noqa: E402
from assistant.understanding.matcher import IntentMatcher  # noqa: E402

IGNORED_SLOTS = frozenset({"danger"})  # detail slot, not part of the stable intent contract
HELD_OUT_EVERY = 4
BIG_CATALOG_PHRASES = 400
# Padding for the "bigger catalog" run: plausible future features of a health assistant
# (each a plain intent with two phrase templates), not in any dev/test set.
PAD_EN = (
    ("log_blood_pressure", "(record|log|note) my blood pressure [reading]", "my blood pressure is [reading]"),
    ("log_weight", "(record|log|note) my weight", "i weigh"),
    ("log_glucose", "(record|log|note) my (glucose|sugar) [reading]", "my (glucose|sugar) reading is"),
    ("log_water", "i (drank|had) (glass|cup) of water", "(record|log) water"),
    ("log_mood", "i feel (lonely|sad|low|down)", "i am (lonely|sad|feeling low)"),
    ("log_steps", "how many steps (did i walk|today)", "(record|log) my walk"),
    ("pharmacy_hours", "when (is|does) (pharmacy|chemist) open", "(is|are) (pharmacy|chemist) open [today]"),
    ("carer_visit", "when is (carer|nurse) coming", "(is|will) (carer|nurse) coming today"),
    ("device_battery", "(how much|what is) battery [left]", "(are you|is it) charged"),
    ("device_wifi", "(are you|is it) (online|connected)", "is (internet|wifi) working"),
    ("exercise_tips", "(give|tell) me (exercise|stretch)", "what exercise (should|can) i do"),
    (
        "diet_tips",
        "what (should|can) i eat with (diabetes|high blood pressure)",
        "(is|are) (salt|sugar) bad for me",
    ),
    ("side_effects", "what are side effects of {medication}", "(does|can) {medication} (cause|make me)"),
    ("missed_dose", "i (forgot|missed) my {medication}", "i (forgot|missed) (dose|pills|tablets)"),
    (
        "test_results",
        "(are|have) my (results|test results|blood test) (back|come back)",
        "what did my (results|blood test) say",
    ),
    ("transport_clinic", "how do i get to {doctor}", "(book|arrange) (transport|lift) to {doctor}"),
    (
        "vaccination",
        "(when is|book) my (flu jab|vaccine|vaccination|booster)",
        "have i had my (flu jab|vaccine|booster)",
    ),
    ("hearing_aid", "my hearing aid (is not working|needs battery)", "(order|get) hearing aid batteries"),
    ("glasses_check", "(book|need) (eye test|eye check)", "when is my eye test"),
    ("dentist", "(book|need) dentist [appointment]", "when is my dentist appointment"),
)
PAD_ZH = (
    ("log_blood_pressure", "(记|记录)[一下]血压", "我的血压是"),
    ("log_weight", "(记|记录)[一下]体重", "我(体重|称了)"),
    ("log_glucose", "(记|记录)[一下]血糖", "我的血糖是"),
    ("log_water", "我喝了(一杯|一碗)水", "记录喝水"),
    ("log_mood", "我(心情不好|很孤单|有点难过)", "我(觉得|感到)(孤单|难过)"),
    ("log_steps", "我今天走了多少步", "记录(散步|走路)"),
    ("pharmacy_hours", "药店(几点|什么时候)开门", "药店今天开(吗|不开)"),
    ("carer_visit", "护工(什么时候|几点)来", "护工今天来(吗|不来)"),
    ("device_battery", "(还有|剩)多少电", "你充(好|满)电了(吗|没有)"),
    ("device_wifi", "(网|网络)(通|连上)了(吗|没有)", "(无线网|网络)(好|正常)吗"),
    ("exercise_tips", "我(该|可以)做什么(运动|锻炼)", "教我做[点](运动|操)"),
    ("diet_tips", "(糖尿病|高血压)(该|能)吃什么", "(盐|糖)吃多了(好|不好)吗"),
    ("side_effects", "{medication}有什么副作用", "{medication}(会|能)(引起|导致)"),
    ("missed_dose", "我忘(了|记)吃{medication}", "我(漏|忘)吃[了]一次药"),
    ("test_results", "(化验|检查)结果出来了(吗|没有)", "我的(化验|验血)结果怎么样"),
    ("transport_clinic", "怎么去{doctor}", "(安排|约)车去{doctor}"),
    ("vaccination", "(什么时候|预约)打(疫苗|流感针)", "我打过(疫苗|流感针)(吗|没有)"),
    ("hearing_aid", "助听器(坏了|没电了)", "(买|订)助听器电池"),
    ("glasses_check", "(预约|要)查眼睛", "我什么时候查眼睛"),
    ("dentist", "(预约|要)看牙", "我什么时候看牙"),
)


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
    """The real catalog plus plausible future intents, up to ~400 phrase templates."""
    intents = dict(catalog.intents)
    count = sum(len(i.phrases) for i in intents.values())
    pads = PAD_ZH if catalog.lang == "zh" else PAD_EN
    for n, (name, *phrases) in enumerate(pads * 3):
        if count >= BIG_CATALOG_PHRASES:
            break
        slots = ("medication",) if "{medication}" in phrases[0] else ()
        intent_id = f"pad_{name}_{n}"
        intents[intent_id] = IntentDef(intent_id, "plain", slots, frozenset(), tuple(phrases), {})
        count += len(phrases)
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


def _totals_only(result: dict) -> dict:
    """Test-set misses are never kept (so neither --errors nor --json can show them)."""
    return {**result, "errors": []}


def run(lang: str, with_test: bool = True) -> dict:
    settings = demo_settings(lang)
    rows = load_set(lang, "dev")
    tune = load_set(lang, "tune")
    test = load_set(lang, "test") if with_test else []
    tuning = [r for i, r in enumerate(rows) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1]
    held_out = [r for i, r in enumerate(rows) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
    start = time.perf_counter()
    matcher = build_understander(settings, lang)
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
        "tune": evaluate(matcher, tune),
        "test": _totals_only(evaluate(matcher, test)),
        "latency": latency(matcher, rows + tune + test),
        "cold_p99_ms": cold_latency(lambda: IntentMatcher(catalog, settings), rows + tune + test),
        "big_catalog_phrases": sum(len(i.phrases) for i in big.catalog.intents.values()),
        "big_catalog": evaluate(big, rows + tune),
        "big_catalog_test": _totals_only(evaluate(big, test)),
        "big_latency": latency(big, rows + tune + test),
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
        "tune": "tune",
        "big_catalog": f"dev + tune, {big_label}",
        "test": "test",
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
        for e in res["tune"]["errors"]:
            print("  tune miss:", e)
        print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "zh"), action="append")
    parser.add_argument("--json", action="store_true", help="print one JSON object per language")
    parser.add_argument("--errors", action="store_true", help="list every tuning-set miss")
    parser.add_argument(
        "--dev-only",
        action="store_true",
        help="skip the test set (use while tuning; test rows read as empty)",
    )
    args = parser.parse_args()
    for lang in args.lang or ["en", "zh"]:
        res = run(lang, with_test=not args.dev_only)
        if args.json:
            print(json.dumps(res, ensure_ascii=False))
        else:
            report(res, args.errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
