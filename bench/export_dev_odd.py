"""Export the odd (tuned-on) halves of the intent dev sets as training data (issue 10, round 12).

Writes ``intents/training/dev-odd-<lang>.jsonl``: every odd line (``rows[0::2]``: lines 1, 3, 5 …)
of every set in ``bench/intent.py``'s ``HALVED_SETS`` that exists for the language, as
``{"text", "intent", "source"}`` (``intent: null`` = out of scope) or ``{"text", "not_intent",
"source"}`` (a negated line: trained as "asks for nothing"); ``source`` is ``<set>:<line number>``.
Never an even line, never a fresh or test set. Left out by exact comparison after normalisation,
without reading or printing them: odd lines equal to an even line of any halved intent or distress
dev set, to a line of ``intent-test`` or of a fresh test set, and lines already in the training
corpora (duplicates). Only counts are printed.

    .venv/bin/python bench/export_dev_odd.py [--lang en|zh]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from intent import HALVED_SETS  # noqa: E402

from assistant.understanding.normalize import normalize  # noqa: E402

DATA = ROOT / "bench" / "data"
OUT = ROOT / "intents" / "training"
EXISTING = ("paraphrases", "paraphrases-everyday", "negated", "negatives", "negatives-talk")


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _forbidden(lang: str) -> tuple[set[str], dict[str, int]]:
    """Normalised lines that may never be trained on: even halves, test and fresh sets (unread)."""
    out: set[str] = set()
    sizes: dict[str, int] = {}
    for kind in HALVED_SETS:
        path = DATA / f"intent-{kind}-{lang}.jsonl"
        if path.exists():
            out |= {normalize(r["text"], lang) for r in _rows(path)[1::2]}
    for path in sorted(DATA.glob(f"distress-dev*-{lang}.jsonl")):
        out |= {normalize(r["text"], lang) for r in _rows(path)[1::2]}
    for name in ("test", "fresh", "fresh2", "fresh3"):
        path = DATA / f"intent-{name}-{lang}.jsonl"
        lines = {normalize(r["text"], lang) for r in _rows(path)}
        sizes[name] = len(lines)
        out |= lines
    return out, sizes


def export(lang: str) -> dict[str, int]:
    forbidden, _ = _forbidden(lang)
    known = {
        normalize(r["text"], lang)
        for name in EXISTING
        if (OUT / f"{name}-{lang}.jsonl").exists()
        for r in _rows(OUT / f"{name}-{lang}.jsonl")
    }
    kept: list[dict] = []
    seen: set[str] = set()
    counts = {"odd": 0, "held_out_equal": 0, "already_trained": 0, "duplicate": 0}
    for kind in HALVED_SETS:
        path = DATA / f"intent-{kind}-{lang}.jsonl"
        if not path.exists():
            continue
        for n, row in enumerate(_rows(path), 1):
            if n % 2 == 0:
                continue  # an even line: the held-out check, never exported
            counts["odd"] += 1
            text = normalize(row["text"], lang)
            if text in forbidden:
                counts["held_out_equal"] += 1
                continue
            if text in known:
                counts["already_trained"] += 1
                continue
            if text in seen:
                counts["duplicate"] += 1
                continue
            seen.add(text)
            if row.get("not_intent") is not None:
                kept.append({"text": row["text"], "not_intent": row["not_intent"], "source": f"{kind}:{n}"})
            else:
                kept.append({"text": row["text"], "intent": row["intent"], "source": f"{kind}:{n}"})
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept)
    (OUT / f"dev-odd-{lang}.jsonl").write_text(body, encoding="utf-8")
    return {**counts, "kept": len(kept)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "zh"), action="append")
    args = parser.parse_args()
    for lang in args.lang or ["en", "zh"]:
        print(lang, json.dumps(export(lang)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
