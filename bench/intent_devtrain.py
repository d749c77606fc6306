"""The model trained on the dev sets' odd halves (issue 10, round 12): pooled and leave-one-set-out.

``train.DEV_ODD_HALVES`` adds ``intents/training/dev-odd-<lang>.jsonl`` (the odd halves of every
``HALVED_SETS`` entry) to the model's examples. An even half shares its own odd half's writer and
style, so the plain pooled even-halves row flatters it; this script also trains, for each dev set X,
a model on the odd halves of every set except X and scores X's even half (leave one set out).

Per language and configuration (off; on at weight 1 and 2): the pooled even halves (every set, and
the ``POOLED_THROUGH`` row), the leave-one-set-out sum, and the paraphrase holdout (a model trained
``--holdout``). Totals only: no line of an even half is ever printed. Models are cached in
``--cache`` (trained in this process, deterministic).

    .venv/bin/python bench/intent_devtrain.py [--lang en|zh] [--cache DIR] [--repeat 1 --repeat 2] [--no-loso]
        [--tune understanding.train.SVC_C=0.5] [--no-off]

``--tune module.CONSTANT=value`` (repeatable; round 13) sets a constant of ``assistant.<module>`` in this
process before any model is trained (the trainer's weights and recipe: ``understanding.train.PER_TEMPLATE``,
``SVC_C`` …) and names the cached models after it; ``--no-off`` skips the configuration without the dev
odd halves.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from intent import (  # noqa: E402
    HALVED_SETS,
    POOLED_THROUGH,
    demo_settings,
    evaluate,
    holdout_rows,
    load_set,
    pooled,
)
from tuning import apply_tuning  # noqa: E402  (tests call intent_devtrain.apply_tuning)

TUNE_TAG = ""
"""Appended to the cached models' names: the ``--tune`` settings they were trained with."""
KEYS = ("correct", "in_scope", "false_accepts", "consequential_accepts", "oos", "negated_acted", "negated",
        "emergency_hit", "emergency", "false_alarm_any", "non_emergency")  # fmt: skip


def model_for(lang: str, cache: Path, on: bool, repeat: int, leave_out: str = "", holdout: bool = False):
    import assistant.understanding.train as train
    from assistant.understanding.model import IntentModel

    neg = "" if train.DEV_ODD_NEGATED_EMERGENCY else "-noneg"
    tag = f"{lang}-{'on' if on else 'off'}{neg}{TUNE_TAG}-x{repeat}-{leave_out or 'all'}{'-holdout' if holdout else ''}"
    path = cache / f"{tag}.bin"
    if not path.exists():
        saved = (train.DEV_ODD_HALVES, train.DEV_ODD_REPEAT, train.DEV_ODD_LEAVE_OUT)
        train.DEV_ODD_HALVES = {lang: on}  # type: ignore[misc]
        train.DEV_ODD_REPEAT = repeat  # type: ignore[misc]
        train.DEV_ODD_LEAVE_OUT = frozenset({leave_out} if leave_out else ())
        try:
            start = time.perf_counter()
            model = train.train(lang, holdout=holdout)
            model.save(path)
            print(f"  trained {tag} in {time.perf_counter() - start:.1f} s ({model.meta['examples']} examples)",
                  file=sys.stderr, flush=True)  # fmt: skip
        finally:
            train.DEV_ODD_HALVES, train.DEV_ODD_REPEAT, train.DEV_ODD_LEAVE_OUT = saved  # type: ignore[misc]
    return IntentModel.load(path)


def stage(lang: str, model):
    from assistant.understanding.catalog_files import load_catalog_for
    from assistant.understanding.understander import Understander

    settings = demo_settings(lang)
    return Understander(load_catalog_for(settings, lang), settings, model=model)


def _row(r: dict) -> dict:
    return {k: r[k] for k in KEYS}


def run(lang: str, cache: Path, repeats: list[int], loso: bool, off: bool = True) -> dict:
    halves = {
        k: load_set(lang, k)[1::2]
        for k in HALVED_SETS
        if (ROOT / "bench" / "data" / f"intent-{k}-{lang}.jsonl").exists()
    }
    earlier = HALVED_SETS[: HALVED_SETS.index(POOLED_THROUGH) + 1]
    held = holdout_rows(lang)
    out: dict = {}
    for on, repeat in [*([(False, 1)] if off else []), *((True, r) for r in repeats)]:
        name = f"on x{repeat}" if on else "off"
        u = stage(lang, model_for(lang, cache, on, repeat))
        per = {k: evaluate(u, rows, keep_errors=False) for k, rows in halves.items()}
        res = {
            "pooled_all": _row(pooled(list(per.values()))),
            "pooled_through": _row(pooled([per[k] for k in earlier if k in per])),
            "per_set": {k: _row(v) for k, v in per.items()},
        }
        hu = stage(lang, model_for(lang, cache, on, repeat, holdout=True))
        res["holdout"] = _row(evaluate(hu, held, keep_errors=False))
        if on and loso:
            parts = {}
            for k, rows in halves.items():
                parts[k] = evaluate(stage(lang, model_for(lang, cache, on, repeat, leave_out=k)), rows, False)
            res["loso_all"] = _row(pooled(list(parts.values())))
            res["loso_through"] = _row(pooled([parts[k] for k in earlier if k in parts]))
            res["loso_per_set"] = {k: _row(v) for k, v in parts.items()}
        out[name] = res
        print(json.dumps({"lang": lang, "config": name, **{k: v for k, v in res.items() if "per_set" not in k}}),
              flush=True)  # fmt: skip
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "zh"), action="append")
    parser.add_argument("--cache", help="folder for the trained models (default: a new temporary folder)")
    parser.add_argument("--repeat", type=int, action="append", help="weights to try (default: 1)")
    parser.add_argument("--no-loso", action="store_true", help="skip the leave-one-set-out models")
    parser.add_argument("--json", help="write the full result here")
    parser.add_argument("--tune", action="append", default=[], metavar="MODULE.CONSTANT=VALUE")
    parser.add_argument("--no-off", action="store_true", help="skip the model without the dev odd halves")
    parser.add_argument(
        "--no-negated-emergency", action="store_true", help="leave the dev odd negated emergency lines out"
    )
    args = parser.parse_args()
    if args.no_negated_emergency:
        import assistant.understanding.train as train

        train.DEV_ODD_NEGATED_EMERGENCY = False
    global TUNE_TAG
    TUNE_TAG = apply_tuning(args.tune)
    cache = Path(args.cache or tempfile.mkdtemp(prefix="jiayi-devtrain-"))
    cache.mkdir(parents=True, exist_ok=True)
    result = {
        lang: run(lang, cache, args.repeat or [1], not args.no_loso, not args.no_off)
        for lang in args.lang or ["en", "zh"]
    }
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
