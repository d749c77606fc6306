"""Cross-validated out-of-scope check (issue 10, round 7): a signal several times a dev half's size.

Five models per language, each trained without every fifth paraphrase (the bench's ``holdout``) and
without one fifth of ``intents/training/negatives-<lang>.jsonl``; each scores the negatives it did not
see. Reported: false accepts on those unseen negatives (consequential ones counted apart) and the
accuracy on the holdout paraphrases (intent only) of the first fold's model. Decision rules and
thresholds can be compared on the same models (they are cached in ``--cache``).

    .venv/bin/python bench/intent_cv.py [--lang en|zh] [--cache DIR] [--errors] [--sweep]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from intent import CONSEQUENTIAL, demo_settings, holdout_rows  # noqa: E402

FOLDS = 5


def fold_models(lang: str, cache: Path) -> list:
    import assistant.understanding.train as train
    from assistant.understanding.model import IntentModel, data_hash

    negatives = train.data.intents_dir() / "training" / f"negatives-{lang}.jsonl"
    original = train._read_jsonl
    models = []
    for k in range(FOLDS):
        path = cache / f"cv-{lang}-{data_hash(lang, True)}-{k}.bin"
        if not path.exists():

            def without_fold(p: Path, k: int = k) -> list[dict]:
                rows = original(p)
                if p.name == negatives.name:
                    rows = [r for i, r in enumerate(rows) if i % FOLDS != k]
                return rows

            train._read_jsonl = without_fold
            try:
                train.train(lang, holdout=True).save(path)
            finally:
                train._read_jsonl = original
        models.append(IntentModel.load(path))
    return models


def run(lang: str, cache: Path, errors: bool, sweep: bool = False) -> None:
    from assistant.understanding.catalog import load_catalog
    from assistant.understanding.understander import Understander

    path = ROOT / "intents" / "training" / f"negatives-{lang}.jsonl"
    negatives = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    settings, catalog = demo_settings(lang), load_catalog(lang)
    stages = [Understander(catalog, settings, model=m) for m in fold_models(lang, cache)]
    accepted: list[tuple[str, str]] = []
    for k, stage in enumerate(stages):
        for i, row in enumerate(negatives):
            if i % FOLDS == k:
                got = stage.match(row["text"]).intent
                if got is not None:
                    accepted.append((got, row["text"]))
    consequential = sum(intent in CONSEQUENTIAL for intent, _ in accepted)
    held = holdout_rows(lang)
    right = sum(stages[0].match(r["text"]).intent == r["intent"] for r in held)
    print(
        f"{lang}: unseen negatives accepted {len(accepted)}/{len(negatives)} ({consequential} consequential); "
        f"holdout (intent only) {right}/{len(held)}"
    )
    if errors:
        for intent, text in accepted:
            print(f"  {intent}: {text!r}")
    if sweep:
        sweep_thresholds(lang, stages, negatives, held)


SWEEP: tuple[float, ...] = (0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def sweep_thresholds(lang: str, stages: list, negatives: list[dict], held: list[dict]) -> None:
    """Per acting intent, what a least confidence would cost: unseen negatives it would stop (out of
    fold) against holdout lines of that intent it would lose (first fold's model)."""
    from assistant.understanding.understander import ACTS

    false: dict[str, list[float]] = {}
    for k, stage in enumerate(stages):
        for i, row in enumerate(negatives):
            if i % FOLDS == k:
                u = stage.match(row["text"])
                if u.intent in ACTS:
                    false.setdefault(u.intent, []).append(u.confidence)
    right: dict[str, list[float]] = {}
    for row in held:
        u = stages[0].match(row["text"])
        if u.intent == row["intent"] and u.intent in ACTS:
            right.setdefault(u.intent, []).append(u.confidence)
    print(f"  {lang} least confidence per acting intent: negatives stopped / holdout lines lost")
    for intent in sorted(ACTS):
        cells = [
            f"{t}: {sum(p < t for p in false.get(intent, []))}/{sum(p < t for p in right.get(intent, []))}"
            for t in SWEEP
        ]
        print(
            f"    {intent} (FA {len(false.get(intent, []))}, right {len(right.get(intent, []))}): {'  '.join(cells)}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "zh"), action="append")
    parser.add_argument("--cache", help="folder for the fold models (default: a new temporary folder)")
    parser.add_argument("--errors", action="store_true", help="list the accepted negatives")
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="per acting intent: negatives stopped / holdout lost by a least confidence",
    )
    args = parser.parse_args()
    cache = Path(args.cache) if args.cache else Path(tempfile.mkdtemp(prefix="intent-cv-"))
    cache.mkdir(parents=True, exist_ok=True)
    for lang in args.lang or ["en", "zh"]:
        run(lang, cache, args.errors, args.sweep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
