"""Stage-1 variants of the wake search and the distress spotter, compared offline on the audio
segments the daemon's listener handed the recognizer for the *tuning* material
(``bench/wake_trace.py --save DIR``; never the benchmark's sets (c)/(d)).

Each variant decodes every wake-mode segment with the product's recognizer (the daemon's
dictionary, model settings and searches) plus extra searches made here: chatter weights,
keyphrase spotting (``kws``) with per-phrase thresholds, extra emergency wordings. Reported per
variant and set/condition: how often the wake phrase was heard, how often an emergency was
proposed (a candidate for stage 2), and how often stage 2 (the free transcripts + the
understander) would confirm it.

    .venv/bin/python bench/wake_variants.py /tmp/segs --variants chatter,kws
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import speech  # noqa: E402
import speech_data as data  # noqa: E402

from assistant.hearing.recognizer import normalize_phrase  # noqa: E402
from assistant.pipeline import PipelineOptions, build_pipeline, cached_recognizer  # noqa: E402


def load(
    folder: Path, index: Path, sets: set[str] | None
) -> list[tuple[dict[str, Any], dict[str, Any], bytes]]:
    """(record, utterance, audio) of every wake-mode utterance."""
    out = []
    for line in index.read_text().splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if sets is not None and record["set"] not in sets:
            continue
        for utt in record["utterances"]:
            if utt["mode"] == "wake":
                out.append((record, utt, (folder / utt["audio"]).read_bytes()))
    return out


def wake_garbage(grammar: Any, weight: float, pre: bool) -> tuple[int, int, list[Any]]:
    """The wake search with the chatter loop also *after* the wake phrase (the wake phrase
    followed by anything) and, with ``pre``, before it (anything, then the wake phrase)."""
    start, final, trans = grammar.fsg_transitions("wake", chatter=True, chatter_weight=weight)
    first, second = grammar.wake_phrase.split()
    after_first = next(b for a, b, *rest in trans if a == start and rest[1:] == [first])
    after_wake = next(b for a, b, *rest in trans if a == after_first and rest[1:] == [second])
    chatter = grammar.chatter
    tail = final + 2
    for w in chatter:
        trans.append((after_wake, tail, weight, w))
        trans.append((tail, tail, 1.0 / len(chatter), w))
    trans.append((tail, final, 1.0))
    if pre:
        loop = final + 1  # the chatter loop of fsg_transitions
        trans.append((loop, after_first, weight, first))
    return start, final, trans


def decode(decoder: Any, search: str, audio: bytes) -> tuple[str, list[tuple[str, int, int]]]:
    decoder.activate_search(search)
    decoder.start_utt()
    decoder.process_raw(audio, False, True)
    decoder.end_utt()
    hyp = decoder.hyp()
    segs = [(s.word, s.start_frame, s.end_frame) for s in (decoder.seg() or ())]
    return (normalize_phrase(hyp.hypstr) if hyp is not None and hyp.hypstr else ""), segs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--variants", default="chatter")
    ap.add_argument("--index", help="the trace's records (default: FOLDER/index.jsonl)")
    ap.add_argument("--sets", default="")
    ap.add_argument("--out", help="write per-utterance results here (jsonl)")
    args = ap.parse_args(argv)
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    pipeline = build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=data.WAKE_PHRASE))
    recognizer: Any = cached_recognizer(pipeline.engine_spec())
    grammar = recognizer.grammar
    decoder = recognizer._decoder
    folder = Path(args.folder)
    items = load(
        folder,
        Path(args.index) if args.index else folder / "index.jsonl",
        set(args.sets.split(",")) if args.sets else None,
    )
    searches: dict[str, str] = {"base": "wake", "spot": "spot"}
    workdir = tempfile.mkdtemp(prefix="jiayi-variants-")
    variants = args.variants.split(",")
    if "chatter" in variants:
        for weight in (1e-4,):
            start, final, trans = grammar.fsg_transitions("wake", chatter=True, chatter_weight=weight)
            name = f"chatter{weight:g}"
            decoder.add_fsg(name, decoder.create_fsg(name, start, final, trans))
            searches[name] = name
    if "wakegarbage" in variants:
        for weight in (0.02,):
            for pre in (False, True):
                name = f"wakegarbage{weight:g}{'pre' if pre else ''}"
                start, final, trans = wake_garbage(grammar, weight, pre)
                decoder.add_fsg(name, decoder.create_fsg(name, start, final, trans))
                searches[name] = name
    if "kws" in variants:
        for threshold in (1e-20, 1e-30):
            path = os.path.join(workdir, f"kws{threshold:g}.txt")
            Path(path).write_text(f"{grammar.wake_phrase} /{threshold:g}/\n")
            name = f"kws{threshold:g}"
            decoder.add_kws(name, path)
            searches[name] = name
    results: dict[str, dict[tuple[str, str], list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    rows = []
    cpu: dict[str, float] = defaultdict(float)
    for record, _utt, audio in items:
        key = (record["set"], record["cond"])
        row = {"set": record["set"], "cond": record["cond"], "text": record["text"], "voice": record["voice"]}
        for name, search in searches.items():
            started = time.process_time()
            text, segs = decode(decoder, search, audio)
            cpu[name] += time.process_time() - started
            recognizer._active_search = search
            if search.startswith("wakegarbage"):
                words = text.split()
                wake = grammar.wake_phrase.split()
                woke = any(words[i : i + 2] == wake for i in range(len(words)))
                parse = grammar.parse(text, "wake") if text else None
                emergency = parse is not None and not parse.woke and parse.intent in grammar.spotted
            elif search.startswith("kws"):
                woke = grammar.wake_phrase in text
                emergency = False
            else:
                parse = grammar.parse(text, "wake") if text else None
                woke = parse is not None and parse.woke
                emergency = parse is not None and not parse.woke and parse.intent in grammar.spotted
            tally = results[name][key]
            tally[0] += 1
            tally[1] += woke
            tally[2] += emergency
            row[name] = text
        rows.append(row)
    seconds = sum(len(a) for _, _, a in items) / 32000
    for name in searches:
        print(f"\n## {name} (decoder RTF {cpu[name] / seconds:.3f})")
        for key, (n, woke, emergency) in sorted(results[name].items()):
            print(f"{key[0]:20s} {key[1]:6s} n={n:3d} woke={woke:3d} emergency={emergency:3d}")
    if args.out:
        Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
