"""The spotter's decision replayed offline on the wake-mode segments of a ``bench/wake_trace.py
--save`` trace of *tuning* material (never the benchmark's sets (c)/(d)): per segment, the
product's wake-mode decode and the listener's verdict (acted on, asked "Did you call for help?",
woke, nothing), then the same again on the segment's un-denoised audio (``.dry.raw``, saved by the
trace) or a mix of the two (``--mix K``: RNNoise's output + K × its input, as
``frontend.DryMix``), to see what a second pass on lightly denoised audio would add.

    .venv/bin/python bench/spot_replay.py /tmp/segs10 /tmp/segshh --mix 1.0 --mix 0.3
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import speech  # noqa: E402
import speech_data as data  # noqa: E402

from assistant.hearing import spotter  # noqa: E402
from assistant.hearing.listener import UtteranceRecognized, WakeDetected  # noqa: E402
from assistant.hearing.recognizer import Transcript  # noqa: E402
from assistant.pipeline import PipelineOptions, build_pipeline, cached_recognizer  # noqa: E402


def mixed(wet: bytes, dry: bytes, share: float) -> bytes:
    """The product's mix (:func:`spotter.dry_mix`): the dry audio alone at ``share`` ≥ 1."""
    return spotter.dry_mix(wet, dry, share)


class NoAudio:
    """A source that is never read: the listener only judges given transcripts here."""

    at_end = True

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def read_chunk(self, timeout: float) -> bytes | None:
        return None


class Verdicts:
    """The listener's verdict on one wake-mode transcript."""

    def __init__(self, pipeline: Any, recognizer: Any) -> None:
        self.events: list[object] = []
        self.listener = pipeline.listener(self.events.append, source=NoAudio())  # the daemon's
        self.recognizer = recognizer

    def of(self, result: Transcript) -> str:
        listener = self.listener
        self.events.clear()
        listener._mode = "wake"
        listener._awake_until = None

        class Done:
            def finish(self) -> Transcript:
                return result

        listener._decoder = Done()  # type: ignore[assignment]
        listener._finish_utterance(1.0, 0.0)
        for event in self.events:
            if isinstance(event, UtteranceRecognized) and event.spotted:
                return "ask" if event.spot_check else "act"
        return "wake" if any(isinstance(e, WakeDetected) for e in self.events) else ""

    def decode(self, audio: bytes) -> Transcript:
        decoder = self.recognizer.begin("wake")
        decoder.accept(audio)
        return decoder.finish()  # type: ignore[no-any-return]


RANK = {"act": 3, "ask": 2, "wake": 1, "": 0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--mix", type=float, action="append", default=[])
    ap.add_argument(
        "--when",
        default="candidate",
        help="candidate: only segments where stage 1 proposed (spotter.SPOT_DRY_WHEN); any: every segment",
    )
    ap.add_argument("--sets", default="", help="comma-separated subset of the trace's sets")
    ap.add_argument("--tune", action="append", default=[], metavar="MODULE.CONSTANT=VALUE")
    ap.add_argument("--out", help="per-segment verdicts (jsonl)")
    args = ap.parse_args(argv)
    speech.apply_tuning(args.tune)
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    pipeline = build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=data.WAKE_PHRASE))
    verdicts = Verdicts(pipeline, cached_recognizer(pipeline.engine_spec()))
    tally: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    rows = []
    for folder in map(Path, args.folders):
        for line in (folder / "index.jsonl").read_text().splitlines():
            record = json.loads(line)
            if args.sets and record["set"] not in args.sets.split(","):
                continue
            household = record["set"] == "household"
            key = (record["set"], record["cond"] if not household else "")
            # the trace's own verdict on the denoised audio (the daemon's first pass)
            first = "wake" if record.get("woke") else ""
            if any(record.get("spotted", [])):
                first = "heard"
            tally[(*key, "first")][first or "nothing"] += 1
            best: dict[str, str] = {}
            for utt in record["utterances"]:
                if utt["mode"] != "wake" or "dry" not in utt:
                    continue
                if not household and first:
                    continue  # the first pass heard something: no second pass
                wet = (folder / utt["audio"]).read_bytes()
                dry = (folder / utt["dry"]).read_bytes()
                if household and args.when != "any":  # no per-segment candidate kept: decode again
                    again = verdicts.decode(wet)
                    verdict = verdicts.of(again)
                    tally[(*key, "first-seg")][verdict or "nothing"] += 1
                    utt["candidate"] = again.candidate
                    if verdict:
                        continue
                if args.when == "candidate" and not utt.get("candidate"):
                    continue
                if not spotter.dry_pass_wanted(Transcript("", "", "", "", False, candidate="x"), wet, dry):
                    continue  # a quiet room: the product does not decode again (SPOT_DRY_MIN_REMOVED_DB)
                row: dict[str, Any] = {
                    "set": record["set"],
                    "cond": record["cond"],
                    "voice": record["voice"],
                    "text": record["text"],
                    "audio": utt["audio"],
                    "first": [utt["raw"], utt.get("candidate", "")],
                }
                for share in args.mix:
                    again = verdicts.decode(mixed(wet, dry, share))
                    row[f"mix{share:g}"] = [
                        verdicts.of(again),
                        again.raw,
                        again.candidate,
                        again.free_text,
                        again.spot_second,
                    ]
                    verdict = row[f"mix{share:g}"][0]
                    name = f"mix{share:g}"
                    if household:
                        tally[(*key, name)][verdict or "nothing"] += 1
                    elif RANK[verdict] > RANK[best.get(name, "")]:
                        best[name] = verdict
                rows.append(row)
                print(json.dumps(row), flush=True)
            if not household:
                for share in args.mix:
                    name = f"mix{share:g}"
                    tally[(*key, name)][(first or best.get(name, "")) or "nothing"] += 1
    for (set_name, cond, name), counts in sorted(tally.items()):
        print(f"{set_name:20s} {cond:8s} {name:8s} {dict(counts)}")
    if args.out:
        Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
