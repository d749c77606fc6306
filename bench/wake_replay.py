"""The product's whole wake-mode decode (wake search and every second chance for the wake
phrase, the spotter's stages) replayed offline on the audio segments the daemon's listener
handed the recognizer for the *tuning* material (``bench/wake_trace.py --save DIR``, and
``--household --save DIR`` for false wakes; never the benchmark's sets (c)/(d)), with constants
changed by ``--tune`` — so a wake-phrase variant is judged on exactly the daemon's input.

Per set and condition: sentences whose wake-mode segments woke (the decode's sentence starts
with the wake phrase), and spotter candidates. Household folders: wakes per recording.

    .venv/bin/python bench/wake_replay.py /tmp/segs --tune hearing.pocketsphinx_engine.X=Y
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import speech  # noqa: E402
import speech_data as data  # noqa: E402

from assistant.pipeline import PipelineOptions, build_pipeline, cached_recognizer  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--tune", action="append", default=[], metavar="MODULE.CONSTANT=VALUE")
    ap.add_argument("--sets", default="")
    ap.add_argument("--conds", default="")
    ap.add_argument("--out", help="per-sentence results (jsonl)")
    args = ap.parse_args(argv)
    speech.apply_tuning(args.tune)
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    pipeline = build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=data.WAKE_PHRASE))
    recognizer: Any = cached_recognizer(pipeline.engine_spec())
    wake = pipeline.wake_phrase
    sets = set(args.sets.split(",")) if args.sets else None
    conds = set(args.conds.split(",")) if args.conds else None
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    rows = []
    started = time.process_time()
    seconds = 0.0
    for folder in map(Path, args.folders):
        for line in (folder / "index.jsonl").read_text().splitlines():
            record = json.loads(line)
            if sets is not None and record["set"] not in sets:
                continue
            if conds is not None and record["cond"] not in conds:
                continue
            woke = candidates = 0
            raws = []
            for utt in record["utterances"]:
                if utt["mode"] != "wake":
                    continue
                audio = (folder / utt["audio"]).read_bytes()
                seconds += len(audio) / 32000
                decoder = recognizer.begin("wake")
                decoder.accept(audio)
                result = decoder.finish()
                raws.append(result.raw)
                woke += result.raw == wake or result.raw.startswith(wake + " ")
                candidates += bool(result.candidate)
            key = (record["set"], record["cond"] if record["set"] != "household" else "")
            t = tally[key]
            t[0] += 1
            t[1] += woke if record["set"] == "household" else bool(woke)
            t[2] += candidates
            rows.append(
                {**{k: record[k] for k in ("set", "cond", "voice", "text")}, "woke": woke, "raws": raws}
            )
    for (set_name, cond), (n, woke, cands) in sorted(tally.items()):
        print(f"{set_name:20s} {cond:8s} n={n:3d} woke={woke:3d} candidates={cands:3d}")
    print(f"decoder CPU RTF {(time.process_time() - started) / max(seconds, 1e-9):.3f} over {seconds:.0f} s")
    if args.out:
        Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
