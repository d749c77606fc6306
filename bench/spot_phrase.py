"""The distress spotter's acoustic reading (``spotter.SPOT_PHRASE_THRESHOLD``, round 16) on a
``bench/wake_trace.py --save`` trace of *tuning* material: for each stage-1 candidate of a
sentence stage 2 did not confirm (and of every harmless sentence), whether a stage-2 reading
says more than the candidate (``spotter.contradicts``), else whether keyphrase spotting finds the
candidate's words and how well the candidate fits the audio against a phone loop.

    .venv/bin/python bench/wake_trace.py --every 2 --conds "10 dB" --jsonl /tmp/t.jsonl --save /tmp/segs \\
        --sets dev-emergency,dev-wake-emergency,dev-harmless,dev-wake-harmless
    .venv/bin/python bench/spot_phrase.py /tmp/segs
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import speech  # noqa: E402
import speech_data as data  # noqa: E402

from assistant.hearing import spotter  # noqa: E402
from assistant.pipeline import PipelineOptions, build_pipeline, cached_recognizer  # noqa: E402


def main(segs: Path) -> int:
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    pipeline = build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=data.WAKE_PHRASE))
    recognizer = cached_recognizer(pipeline.engine_spec())
    for line in (segs / "index.jsonl").read_text().splitlines():
        record = json.loads(line)
        harmless = "harmless" in record["set"]
        if record["intents"] and not harmless:
            continue  # an emergency stage 2 already confirmed or asked about
        for utterance in record["utterances"]:
            candidate = utterance.get("candidate", "")
            if not candidate:
                continue
            free = utterance["free"][0] if utterance["free"] else ""
            head = f"{record['set']} {record['cond']} {record['voice']} | {record['text']} | {candidate}"
            if not free or any(spotter.contradicts(candidate, t) for t in (free, utterance["second"]) if t):
                print(f"{head} | a reading says more: {free!r}")
                continue
            audio = (segs / utterance["audio"]).read_bytes()
            phrase = recognizer._spot_phrase(candidate, audio)  # type: ignore[attr-defined]
            fit = recognizer._candidate_fit(candidate, audio)  # type: ignore[attr-defined]
            print(f"{head} | found {phrase!r} fit {fit:.2f} | before: {record['intents']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
