"""Fingerprint of every decision of the understanding stage, to prove a speed-up changed none.

Runs the stage (as ``bench/intent.py`` builds it) over the dev, tune and test sets, every halved dev
set (both halves) and the training holdout (with the holdout model), and hashes each sentence's
full :class:`Understanding`: intent, slots, tier, urgent, confidence and margin rounded to 6 places.
Never reads the held-out ``fresh*`` sets.

Usage::

    STATE_DIRECTORY=<dir> .venv/bin/python bench/intent_hash.py [--lang en|zh] [--out lines.jsonl]

Prints one ``sha256`` per language (and the number of sentences); ``--out`` writes the per-line
records so two runs can be diffed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from intent import HALVED_SETS, demo_settings, holdout_rows, load_set  # noqa: E402


def record(u) -> dict:
    return {
        "text": u.text,
        "intent": u.intent,
        "slots": dict(sorted((u.slots or {}).items())),
        "tier": u.tier,
        "urgent": bool(u.urgent),
        "confidence": round(float(u.confidence), 6),
        "margin": round(float(u.margin), 6),
    }


def run(lang: str) -> list[dict]:
    from assistant.pipeline import build_understander
    from assistant.understanding.understander import Understander

    settings = demo_settings(lang)
    understander = build_understander(settings, lang)
    held = Understander.from_settings(settings, lang, holdout=True)
    texts = [r["text"] for kind in ("dev", "tune", "test") for r in load_set(lang, kind)]
    for kind in HALVED_SETS:
        if (ROOT / "bench" / "data" / f"intent-{kind}-{lang}.jsonl").exists():
            texts += [r["text"] for r in load_set(lang, kind)]
    out = [{"set": "stage", "in": t, **record(understander.match(t))} for t in texts]
    out += [{"set": "holdout", "in": r["text"], **record(held.match(r["text"]))} for r in holdout_rows(lang)]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "zh"), action="append")
    parser.add_argument("--out", help="write per-line records (JSONL) here")
    args = parser.parse_args()
    lines: list[str] = []
    for lang in args.lang or ["en", "zh"]:
        rows = run(lang)
        body = [json.dumps({"lang": lang, **r}, ensure_ascii=False, sort_keys=True) for r in rows]
        lines += body
        digest = hashlib.sha256("\n".join(body).encode("utf-8")).hexdigest()
        print(f"{lang}: {len(rows)} sentences, sha256 {digest}")
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
