"""What each stage of the wake search and the distress spotter said, per utterance, on *tuning*
material only (``dev-emergency``, ``dev-wake``; never the benchmark's sets (c)/(d)).

For every spoken sentence the daemon's listener runs (front-end, endpointing, wake search, the
spotter's two stages, the pipeline's verification) and each utterance handed to the recognizer is
recorded: the wake search's sentence (with its chatter loop), stage 1's candidate (without it),
stage 2's free transcripts and whether the understander confirmed one, and the final event. The
audio segments the recognizer got are saved too (``--save DIR``: one ``.raw`` 16 kHz s16le file
per utterance + ``index.jsonl``), so decoder variants can be compared offline on exactly the
daemon's input (``--frontend none`` saves the segments without RNNoise instead).

    .venv/bin/python bench/wake_trace.py --every 2 --jsonl /tmp/trace.jsonl --save /tmp/segs
"""

from __future__ import annotations

import argparse
import json
import sys
import wave
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import speech  # noqa: E402
import speech_data as data  # noqa: E402

from assistant.hearing.frontend import make_frontend  # noqa: E402
from assistant.hearing.listener import UtteranceRecognized, WakeDetected  # noqa: E402
from assistant.hearing.recognizer import Transcript  # noqa: E402
from assistant.hearing.sources import CHUNK_BYTES, WavSource  # noqa: E402
from assistant.pipeline import Pipeline, PipelineOptions, build_pipeline, cached_recognizer  # noqa: E402


class Streams:
    """The front-end's input and output streams of one file, as the daemon's listener (a fresh
    front-end, chunk by chunk) makes them: the un-denoised audio of each segment the recognizer
    got is cut from the input, aligned as the listener aligns it (:class:`listener.InputCopy`)."""

    def __init__(self, noise_filter: str, wav: Path) -> None:
        frontend = make_frontend(noise_filter)
        with wave.open(str(wav), "rb") as f:
            pcm = f.readframes(f.getnframes())
        chunks = [pcm[i : i + CHUNK_BYTES] for i in range(0, len(pcm), CHUNK_BYTES)]
        self.input = pcm if frontend is not None else b""
        self.output = b"".join(frontend.process(c) for c in chunks) if frontend is not None else b""

    def dry_of(self, segment: bytes) -> bytes:
        """The input audio under ``segment`` of the output (b"" when not found)."""
        from assistant.hearing.frontend import RNNOISE_DELAY

        out = self.output
        at = out.find(segment[:3200]) if segment and out else -1
        while at >= 0 and (at % 2 or out[at : at + len(segment)] != segment):
            at = out.find(segment[:3200], at + 1)  # RNNoise's silence repeats: the next match
        if at < 0:
            return b""
        dry = bytes(2 * RNNOISE_DELAY) + self.input
        return dry[at : at + len(segment)]


def listen(pipeline: Pipeline, wav: Path) -> tuple[list[object], list[tuple[str, bytes, Transcript]]]:
    """The daemon's listener on ``wav`` (from the factory); every (mode, audio, transcript) the
    recognizer produced."""
    events: list[object] = []
    results: list[tuple[str, bytes, Transcript]] = []
    listener = pipeline.listener(events.append, source=WavSource(wav), decodes=results)
    listener.source.start()
    listener.run_until_end()
    return events, results


def material(every: int, offset: int) -> list[tuple[str, str, list[tuple[str | None, int | None]]]]:
    """(set, text, conditions) of the tuning material."""
    pick = slice(offset, None, every)
    noisy = [(None, None), ("kitchen.wav", 10), ("kitchen.wav", 5)]
    emergencies, harmless = data.dev_emergency()
    wakes, emergencies2, harmless2 = data.dev_wake()
    out = [("dev-emergency", t, noisy) for t in emergencies[pick]]
    out += [("dev-harmless", t, noisy[:2]) for t in harmless[pick]]
    out += [("dev-wake", t, noisy[:2]) for t in wakes[pick]]
    out += [("dev-wake-emergency", t, noisy) for t in emergencies2[pick]]
    out += [("dev-wake-harmless", t, noisy[:2]) for t in harmless2[pick]]
    commands = list(data.dev_commands())[pick]
    out += [("dev-wake-cmd", f"{data.WAKE_PHRASE} {t}", noisy[:2]) for t in commands]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--every", type=int, default=2)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--sets", default="", help="comma-separated subset of the material's sets")
    ap.add_argument("--conds", default="", help="comma-separated subset of clean, '10 dB', '5 dB'")
    ap.add_argument("--frontend", default="", help="noise filter for the listener (default: the config's)")
    ap.add_argument("--tune", action="append", default=[], metavar="MODULE.CONSTANT=VALUE")
    ap.add_argument("--jsonl", required=True)
    ap.add_argument("--save", help="folder for the audio segments the recognizer got")
    ap.add_argument(
        "--household",
        action="store_true",
        help="trace the household-like tuning audio (dev-household, --every/--offset) instead: "
        "one record per utterance the spotter's stage 1 proposed",
    )
    args = ap.parse_args(argv)
    speech.apply_tuning(args.tune)
    overrides = [f"asr.noise_filter={args.frontend}"] if args.frontend else []
    settings = speech.settings_with(speech.FAMILY_CONFIG, overrides)
    pipeline = build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=data.WAKE_PHRASE))
    noise_filter = settings.asr.noise_filter
    recognizer: Any = cached_recognizer(pipeline.engine_spec())
    save = Path(args.save) if args.save else None
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
    if args.household:
        return _household(pipeline, recognizer, noise_filter, args.every, args.offset, Path(args.jsonl), save)
    wanted = set(args.sets.split(",")) if args.sets else None
    conds = set(args.conds.split(",")) if args.conds else None
    records = []
    for set_name, text, conditions in material(args.every, args.offset):
        if wanted is not None and set_name not in wanted:
            continue
        for noise, snr in conditions:
            cond = "clean" if noise is None else f"{snr} dB"
            if conds is not None and cond not in conds:
                continue
            seed = 100 if set_name != "dev-harmless" else 300
            for voice in data.VOICES:
                wav = data.spoken(text, voice, noise, snr or 0, seed=seed)
                events, results = listen(pipeline, wav)
                streams = Streams(noise_filter, wav) if save is not None else None
                heard = [e for e in events if isinstance(e, UtteranceRecognized)]
                understood = [pipeline.understand_heard(e) for e in heard]
                utterances = []
                for index, (mode, audio, result) in enumerate(results):
                    verified = [
                        pipeline.heard_emergency(t) for t in (result.free_text, *result.free_alternatives)
                    ]
                    second = ""
                    if result.candidate:  # what the wider language model (second opinion) hears
                        second = recognizer._decode_with("second", audio)
                    item: dict[str, Any] = {
                        "mode": mode,
                        "raw": result.raw,
                        "candidate": result.candidate,
                        "free": [result.free_text, *result.free_alternatives] if result.free_text else [],
                        "verified": any(verified),
                        "second": second,
                        "second_verified": pipeline.heard_emergency(second, True),
                        "seconds": round(len(audio) / 32000, 2),
                    }
                    if save is not None:
                        name = f"{len(records):04d}-{index}.raw"
                        (save / name).write_bytes(audio)
                        item["audio"] = name
                        dry = streams.dry_of(audio) if streams is not None else b""
                        if dry:
                            (save / name.replace(".raw", ".dry.raw")).write_bytes(dry)
                            item["dry"] = name.replace(".raw", ".dry.raw")
                    utterances.append(item)
                record = {
                    "set": set_name,
                    "cond": cond,
                    "voice": voice,
                    "text": text,
                    "woke": any(isinstance(e, WakeDetected) for e in events),
                    "intents": [u.intent for u in understood],
                    "spotted": [e.spotted for e in heard],
                    "utterances": utterances,
                }
                records.append(record)
                print(json.dumps(record), flush=True)
    Path(args.jsonl).write_text("".join(json.dumps(r) + "\n" for r in records))
    if save is not None:
        (save / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return 0


def _household(
    pipeline: Pipeline,
    recognizer: Any,
    noise_filter: str,
    every: int,
    offset: int,
    out: Path,
    save: Path | None = None,
) -> int:
    """Each candidate of stage 1 in the household-like tuning audio: what both readings said.
    With ``save``: every utterance's audio too (``index.jsonl``: one record per recording, set
    ``household``), for offline decoder variants (false wakes)."""
    records = []
    index = []
    for label, wav in data.dev_household(every, offset):
        events, results = listen(pipeline, wav)
        if save is not None:
            streams = Streams(noise_filter, wav)
            utterances = []
            for number, (mode, audio, result) in enumerate(results):
                name = f"h{len(index):02d}-{number:03d}.raw"
                (save / name).write_bytes(audio)
                item = {"mode": mode, "raw": result.raw, "audio": name}
                dry = streams.dry_of(audio)
                if dry:
                    (save / name.replace(".raw", ".dry.raw")).write_bytes(dry)
                    item["dry"] = name.replace(".raw", ".dry.raw")
                utterances.append(item)
            index.append(
                {
                    "set": "household",
                    "cond": label,
                    "voice": "",
                    "text": label,
                    "woke": False,
                    "utterances": utterances,
                }
            )
        for mode, audio, result in results:
            if not result.candidate:
                continue
            free = [result.free_text, *result.free_alternatives] if result.free_text else []
            record = {
                "audio": label,
                "mode": mode,
                "raw": result.raw,
                "candidate": result.candidate,
                "free": free,
                "verified": any(pipeline.heard_emergency(t) for t in free),
                "second": result.spot_second,
                "second_verified": pipeline.heard_emergency(result.spot_second, True),
                "seconds": round(len(audio) / 32000, 2),
            }
            records.append(record)
            print(json.dumps(record), flush=True)
        spotted = [e for e in events if isinstance(e, UtteranceRecognized) and e.spotted]
        print(json.dumps({"audio": label, "utterances": len(results), "spotted": len(spotted)}), flush=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in records))
    if save is not None:
        (save / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in index))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
