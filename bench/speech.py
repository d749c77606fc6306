"""Speech benchmark: the product's own pipeline (``build_pipeline``) on real and synthetic speech.

Sets (``--sets``, default all):

* ``pico`` — (a) Picovoice's speech-to-intent benchmark: 619 recordings of people ordering coffee,
  the coffee catalog in our format chosen by config (``bench/catalogs/coffee/config.yaml`` says
  ``understanding.catalog: .``), clean and kitchen noise at 24 … 6 dB mixed and scored the
  benchmark's way (intent and every labelled slot right; a rejection is wrong);
* ``own`` — (b) our English commands in people's wording, flite kal16 / slt and festival
  kal_diphone voices slowed a little, clean and kitchen / living-room noise at 20, 10, 5 dB;
* ``household`` — (c) audio with no command for the device (kitchen noise, television/radio
  stand-ins read by several voices, a two-voice conversation): false wakes, false activations
  (any intent) and false actions per hour, with the daemon's wake phrase and always listening;
* ``dev`` — our own *tuning* commands (``bench/data/speech-dev-commands-en.jsonl``: 73 sentences
  in older people's wording, 8 of them out of scope, written for tuning the command search and
  never part of (b)), same voices and noises as (b); choices are made here, (b) is only reported;
* ``dev-confusable`` — the second *tuning* set of the command search
  (``bench/data/speech-dev-confusable-en.jsonl``, round 15: near-homophone contacts, doctors and
  medicines, falls against swollen limbs), as ``dev``: every ``--every``-th from ``--offset``;
* ``emergency`` — (d) spoken emergencies with the wake phrase on (the distress spotter must hear
  them without it), clean and kitchen 10 / 5 dB; and the wake phrase before our commands (wake
  misses);
* ``dev-emergency`` — the distress spotter's *tuning* set (``bench/data/speech-dev-emergency.json``,
  not part of the benchmark): other emergencies (clean, 10, 5 dB) and harmless sentences with
  danger words ("my chest of drawers", clean and 10 dB), wake phrase on, every ``--every``-th.
* ``dev-wake`` — the wake phrase's and spotter's second tuning set (``bench/data/speech-dev-wake.json``,
  not part of the benchmark): wake phrase + command (clean, kitchen 10 dB: wake misses), emergencies
  in everyday wording ("i've fallen over"; clean, 10, 5 dB) and harmless household sentences (clean,
  10 dB), every ``--every``-th from ``--offset`` (tune on offset 0, offset 1 is the held-out half).
* ``dev-wake-cmd`` — the wake phrase said before each *tuning* command of ``dev`` in one breath
  ("hello jiayi ring annie for me"; wake + command as (d) says it, on tuning sentences), clean and
  kitchen / living-room noise at ``--own-snrs``, every ``--every``-th from ``--offset``: what the
  command after the wake phrase costs against the same commands in ``dev``, and wake misses.
* ``dev-household`` — the spotter's household-like *tuning* audio (``bench/data/speech-dev-household.json``,
  not part of the benchmark): television / radio passages and conversation lines read by other
  voices than (c), with other noises; false wakes / activations / actions per hour, wake phrase on,
  every ``--every``-th passage and line from ``--offset`` (tune on offset 0).

Every file is decoded by a fresh listener (front-end, endpointer, decoder state) from the
pipeline, as ``jiayi understand --wav`` does. Reported per condition: accuracy, wrong actions,
rejections; overall: CPU real-time factor (whole pipeline incl. front-end / audio), latency from
the end of the utterance (after the trailing silence) to the intent (p50/p95), peak RSS.

    .venv/bin/python bench/speech.py                              # everything, all files
    .venv/bin/python bench/speech.py --sets pico --every 4        # a quarter of the recordings
    .venv/bin/python bench/speech.py --set asr.noise_filter=none  # a config key changed
    .venv/bin/python bench/speech.py --tune hearing.pocketsphinx_engine.GRAMMAR_REMOVE_NOISE=False
    .venv/bin/python bench/speech.py --jsonl /tmp/run.jsonl       # one record per utterance
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import speech_data as data  # noqa: E402  (puts tests/ on the path: speechgen)
from speechgen import ACTION_INTENTS  # noqa: E402
from tuning import apply_tuning  # noqa: E402  (the replay scripts call speech.apply_tuning)

import assistant.hearing.listener as listener_module  # noqa: E402
from assistant.conversation.dialogue import NEVER_CHECKED  # noqa: E402
from assistant.hearing.listener import UtteranceRecognized, WakeDetected  # noqa: E402
from assistant.ops.config import load_settings  # noqa: E402
from assistant.ops.settings import Settings  # noqa: E402
from assistant.pipeline import Pipeline, PipelineOptions, build_pipeline  # noqa: E402
from assistant.understanding.result import Understanding  # noqa: E402

COFFEE_CONFIG: Final = data.REPO / "bench" / "catalogs" / "coffee" / "config.yaml"
FAMILY_CONFIG: Final = data.REPO / "config.yaml"
ACTIONS: Final = ACTION_INTENTS
"""Intents that do something outside the conversation (send, call, alert, record)."""


@dataclass
class Tally:
    """One condition's counts."""

    label: str
    total: int = 0
    right: int = 0
    wrong: int = 0
    """An intent that is not the expected one (or wrong slots): a wrong action."""
    rejected: int = 0
    asked: int = 0
    """Heard unsure (the "Did you say …?" band, ``asr.act_confidence`` / ``confirm_confidence``):
    asked back, not acted on; ``asked_right`` of them were the expected command."""
    asked_right: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    def count(self, intents: list[str], asked: list[str], intent: str | None) -> None:
        """One utterance: the intents acted on and asked about (:func:`decide`), against ``intent``
        (None: out of scope, where no intent is right)."""
        expected = [] if intent is None else [intent]
        self.total += 1
        self.right += intents == expected
        self.wrong += any(x != intent for x in intents)
        self.rejected += not intents and not asked and intent is not None
        self.asked += bool(asked) and not intents
        self.asked_right += bool(asked) and not intents and asked == expected

    def row(self) -> str:
        n = max(1, self.total)
        return (
            f"| {self.label} | {self.right / n:.3f} | {self.wrong / n:.1%} | {self.rejected / n:.1%} "
            f"| {self.asked / n:.1%} ({self.asked_right}) | {self.total} |"
        )


@dataclass
class Meter:
    """CPU, audio and latency over the whole run."""

    cpu_s: float = 0.0
    audio_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    last: tuple[float, float] = (0.0, 0.0)
    """(CPU s, audio s) of the last :meth:`run`, booked to its condition by :meth:`note`."""
    by_condition: dict[str, list[float]] = field(default_factory=dict)
    utterances: int = 0
    load_s: float = 0.0
    """CPU seconds spent building recognizers (models, grammars, language models): once per
    process, as the daemon does at start, so not part of the real-time factor."""
    _loaded: set[int] = field(default_factory=set)

    def warm(self, pipeline: Pipeline) -> None:
        """Build ``pipeline``'s recognizer before its first file is timed (:attr:`load_s`)."""
        if id(pipeline) not in self._loaded:
            self._loaded.add(id(pipeline))
            cpu = time.process_time()
            pipeline.recognizer()
            self.load_s += time.process_time() - cpu

    def run(self, pipeline: Pipeline, wav: Path) -> tuple[list[object], list[Understanding]]:
        """Every listener event of ``wav`` and the understanding of each recognized utterance."""
        import wave

        self.warm(pipeline)
        with wave.open(str(wav), "rb") as handle:
            audio_s = handle.getnframes() / handle.getframerate()
        self.audio_s += audio_s
        cpu = time.process_time()
        events = pipeline.listen_wav(wav)
        understood = []
        for event in events:
            if isinstance(event, UtteranceRecognized):
                started = time.monotonic()
                understood.append(pipeline.understand_heard(event))
                decode = event.recognized_monotonic - event.endpoint_monotonic
                # Decoded ahead during the trailing silence: late only by what exceeded its rest
                # (the file is read faster than real time, so that wait is not in the timestamps).
                spare = pipeline.settings.asr.trailing_silence_s - listener_module.TRAILING_FEED_S
                late = max(0.0, event.decoded_ahead_s - spare)
                self.latencies.append(decode + late + time.monotonic() - started)
        cpu = time.process_time() - cpu
        self.cpu_s += cpu
        self.utterances += len(understood)
        self.last = (cpu, audio_s)
        return events, understood

    def note(self, **record: Any) -> None:
        cpu, audio_s = self.last
        self.last = (0.0, 0.0)
        booked = self.by_condition.setdefault(f"{record.get('set')} {record.get('cond')}", [0.0, 0.0])
        booked[0] += cpu
        booked[1] += audio_s
        record["cpu_s"] = round(cpu, 4)
        self.records.append(record)


class StageClock:
    """CPU time per stage of the hearing pipeline (``--stages``): the bench wraps the stages'
    entry points (front-end, endpointer, each pocketsphinx search, the spotter's free
    transcription, understanding); "other" is the rest (listener, WAV reading, events)."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.nested: set[str] = set()
        """Stages timed inside another (RNNoise inside the quiet-room gate): not subtracted twice."""
        self._depth = 0

    def wrap(self, owner: Any, method: str, stage: Callable[..., str] | str) -> None:
        original = getattr(owner, method)
        clock = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            clock._depth += 1
            try:
                return original(*args, **kwargs)
            finally:
                clock._depth -= 1
                name = stage if isinstance(stage, str) else stage(*args, **kwargs)
                if clock._depth:
                    name = f"  within it: {name}"
                    clock.nested.add(name)
                clock.cpu[name] = clock.cpu.get(name, 0.0) + time.process_time() - started
                clock.calls[name] = clock.calls.get(name, 0) + 1

        setattr(owner, method, timed)

    def install(self) -> None:
        from assistant.hearing import endpointing, frontend, pocketsphinx_engine, spotter

        for name in dir(frontend):
            cls = getattr(frontend, name)
            if isinstance(cls, type) and "process" in vars(cls):
                self.wrap(cls, "process", f"front-end ({cls.__name__})")
        self.wrap(endpointing.Endpointer, "process", "endpointing")
        recognizer = pocketsphinx_engine.PocketsphinxRecognizer
        self.wrap(recognizer, "_decode_with", lambda _self, search, _audio: f"decode: {search} search")
        self.wrap(recognizer, "_confidence", "decode: phone loop (confidence)")
        self.wrap(spotter.FreeTranscriber, "transcribe", "spotter stage 2 (free transcription)")
        self.wrap(Pipeline, "understand_heard", "understanding")

    def report(self, meter: Meter) -> None:
        audio = max(meter.audio_s, 1e-9)
        print(
            f"\n{meter.utterances} utterances recognized (a search decoded more often was decoded ahead again)"
        )
        print("\n| stage | calls | CPU s | RTF | share |\n|---|---|---|---|---|")
        rows = sorted(self.cpu.items(), key=lambda kv: -kv[1])
        timed = sum(cpu for name, cpu in self.cpu.items() if name not in self.nested)
        rows.append(("other (listener, WAV reading, events)", meter.cpu_s - timed))
        for name, cpu in rows:
            calls = self.calls.get(name, "")
            print(
                f"| {name} | {calls} | {cpu:.1f} | {cpu / audio:.4f} | {cpu / max(meter.cpu_s, 1e-9):.0%} |"
            )


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


# ------------------------------------------------------------------------------ sets


def run_pico(pipeline: Pipeline, meter: Meter, snrs: Iterable[str], every: int, offset: int) -> list[Tally]:
    catalog = pipeline.understander.catalog
    items = data.pico_items(every, offset)
    tallies = []
    for snr in snrs:
        tally = Tally("clean" if snr == "clean" else f"kitchen {snr} dB")
        for item, wav in data.pico_wavs(items, snr):
            _events, understood = meter.run(pipeline, wav)
            got = next((u for u in understood if u.intent is not None), None)
            slots = {camel(k): catalog.say_value(k, v) for k, v in (got.slots if got else {}).items()}
            ok = (
                got is not None
                and camel(got.intent or "") == item.intent
                and all(slots.get(k) == v for k, v in item.slots.items())
            )
            tally.total += 1
            tally.right += ok
            tally.wrong += got is not None and not ok
            tally.rejected += got is None
            meter.note(
                set="pico",
                cond=tally.label,
                file=item.name,
                ok=ok,
                heard=[u.transcript for u in understood],
                intent=got.intent if got else None,
                confidence=[round(u.confidence, 4) for u in understood],
            )
        tallies.append(tally)
    return tallies


def decide(understood: list[Any]) -> tuple[list[str], list[str]]:
    """The intents acted on and those asked about, as the dialogue does: an unsure reading is asked
    back, except what is never asked; a spotted emergency only one reading confirmed is asked about
    ("Did you call for help?")."""
    acted = [
        u
        for u in understood
        if u.intent is not None and (not u.unsure or u.intent in NEVER_CHECKED) and not u.spot_check
    ]
    return [u.intent for u in acted], [
        u.intent for u in understood if u.intent is not None and u not in acted
    ]


def run_commands(
    pipeline: Pipeline,
    meter: Meter,
    commands: dict[str, str | None],
    every: int,
    set_name: str,
    conditions: list[Any],
) -> list[Tally]:
    tallies = []
    texts = list(commands.items())[::every]
    for noise, snr in conditions:
        label = "clean" if noise is None else f"{noise.removesuffix('.wav').split('_')[0]} {snr} dB"
        tally = Tally(label)
        for voice in data.VOICES:
            for i, (text, intent) in enumerate(texts):
                wav = data.spoken(text, voice, noise, snr, seed=100 + i)
                events, understood = meter.run(pipeline, wav)
                intents, asked = decide(understood)
                expected = [] if intent is None else [intent]
                tally.count(intents, asked, intent)
                meter.note(
                    set=set_name,
                    cond=label,
                    voice=voice,
                    text=text,
                    ok=intents == expected,
                    heard=[u.transcript for u in understood],
                    intents=intents,
                    confidence=[round(u.confidence, 4) for u in understood],
                    woke=any(isinstance(e, WakeDetected) for e in events),
                    readings=_readings(events),
                )
        tallies.append(tally)
    return tallies


def _readings(events: list[object]) -> list[list[Any]]:
    """Per recognized utterance: [transcript, second opinion, the grammar's intent (None = it
    rejected), its slots, after the wake phrase, near-homophone rivals with their margins], so decision
    rules can be replayed offline."""
    return [
        [
            e.transcript,
            e.second,
            e.intent if e.parsed else None,
            dict(e.slots),
            e.after_wake,
            [[r, round(m, 3)] for r, m in e.rivals],
        ]
        for e in events
        if isinstance(e, UtteranceRecognized)
    ]


def run_household(
    pipeline: Pipeline, meter: Meter, audio: list[tuple[str, Path]] | None = None, set_name: str = "household"
) -> list[Tally]:
    tallies = []
    for label, wav in data.household() if audio is None else audio:
        events, understood = meter.run(pipeline, wav)
        hours = _duration(wav) / 3600.0
        wakes = sum(isinstance(e, WakeDetected) for e in events)
        active = [u.intent for u in understood if u.intent is not None]
        # "Did you call for help?" is an activation (she is asked), not an action
        actions = [u.intent for u in understood if u.intent in ACTIONS and not u.spot_check]
        asked = sum(u.spot_check for u in understood)
        tally = Tally(label)
        tally.extra = {
            "minutes": hours * 60,
            "wakes_per_h": wakes / hours,
            "activations_per_h": len(active) / hours,
            "actions_per_h": len(actions) / hours,
            "spot_checks_per_h": asked / hours,
        }
        meter.note(
            set=set_name,
            cond=label,
            wake=pipeline.wake_phrase,
            heard=[u.transcript for u in understood],
            intents=[u.intent for u in understood],
            spot_checks=asked,
            confidence=[round(u.confidence, 4) for u in understood],
            wakes=wakes,
            readings=_readings(events),
        )
        tallies.append(tally)
    return tallies


def run_harmless(pipeline: Pipeline, meter: Meter, texts: list[str], conditions: list[Any]) -> list[Tally]:
    """Sentences meant for nobody: right = no intent, wrong = any intent (a false activation)."""
    tallies = []
    for noise, snr in conditions:
        tally = Tally("clean" if noise is None else f"{noise.removesuffix('.wav').split('_')[0]} {snr} dB")
        for voice in data.VOICES:
            for i, text in enumerate(texts):
                wav = data.spoken(text, voice, noise, snr, seed=300 + i)
                events, understood = meter.run(pipeline, wav)
                intents = [u.intent for u in understood if u.intent is not None]
                asked = any(u.spot_check for u in understood)  # "Did you call for help?"
                tally.total += 1
                tally.right += not intents
                tally.wrong += bool(intents) and not asked
                tally.asked += bool(intents) and asked
                meter.note(
                    set="dev-harmless",
                    cond=tally.label,
                    voice=voice,
                    text=text,
                    ok=not intents,
                    heard=[u.transcript for u in understood],
                    intents=intents,
                    spot_check=asked,
                    woke=any(isinstance(e, WakeDetected) for e in events),
                )
        tallies.append(tally)
    return tallies


def _spotter_stats(pipeline: Pipeline) -> None:
    """Stage 2 of the distress spotter in this process's recognizer: calls and CPU."""
    from assistant.pipeline import cached_recognizer

    free = getattr(cached_recognizer(pipeline.engine_spec()), "free", None)
    if free is not None and free.calls:
        print(
            f"spotter stage 2 (free transcription): {free.calls} call(s), {free.cpu_s:.1f} s CPU "
            f"({free.cpu_s / free.calls * 1000:.0f} ms each), model load {free.load_s:.2f} s"
        )


def _duration(wav: Path) -> float:
    import wave

    with wave.open(str(wav), "rb") as handle:
        return handle.getnframes() / handle.getframerate()


# ------------------------------------------------------------------------------ set-up


def settings_with(path: Path, overrides: list[str]) -> Settings:
    """The config file's settings with ``section.key=value`` overrides (what a caregiver would set)."""
    settings = load_settings(path)
    for item in overrides:
        key, _, raw = item.partition("=")
        section, name = key.split(".")
        try:
            value: Any = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        part = dataclasses.replace(getattr(settings, section), **{name: value})
        settings = dataclasses.replace(settings, **{section: part})
    return settings


def table(title: str, tallies: list[Tally]) -> None:
    print(
        f"\n{title}\n\n| condition | accuracy | wrong actions | rejected | asked back (right) | n |"
        "\n|---|---|---|---|---|---|"
    )
    for tally in tallies:
        print(tally.row())


def household_table(tallies: list[Tally], title: str) -> None:
    print(
        f'\n{title}\n\n| audio | minutes | wakes/h | activations/h | of them "Did you call for help?"/h '
        "| actions/h |\n|---|---|---|---|---|---|"
    )
    for t in tallies:
        e = t.extra
        print(
            f"| {t.label} | {e['minutes']:.1f} | {e['wakes_per_h']:.1f} | {e['activations_per_h']:.1f} | "
            f"{e['spot_checks_per_h']:.1f} | {e['actions_per_h']:.1f} |"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="pico,own,household,emergency")
    ap.add_argument("--every", type=int, default=1, help="use every N-th recording / command")
    ap.add_argument("--offset", type=int, default=0, help="start at this recording (with --every)")
    ap.add_argument("--snrs", default=",".join(data.PICO_SNRS), help="Picovoice conditions")
    ap.add_argument("--own-snrs", default="20,10,5", help="noise levels for our commands")
    ap.add_argument(
        "--own-conds",
        default="",
        help="only these conditions of our commands and the dev sets: clean, kitchen, living (default all)",
    )
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    ap.add_argument("--tune", action="append", default=[], metavar="MODULE.CONSTANT=VALUE")
    ap.add_argument("--jsonl", help="write one record per utterance here")
    ap.add_argument("--stages", action="store_true", help="CPU real-time factor per pipeline stage")
    args = ap.parse_args(argv)
    apply_tuning(args.tune)
    clock = StageClock() if args.stages else None
    if clock is not None:
        clock.install()
    sets = args.sets.split(",")
    meter = Meter()
    started = time.monotonic()
    print(f"sets={args.sets} every={args.every} set={args.set} tune={args.tune}")
    from assistant.hearing.pocketsphinx_engine import patched_build

    print(f"pocketsphinx: {'patched (round 19)' if patched_build() else 'PyPI wheel'}")
    if "pico" in sets:
        coffee = build_pipeline(
            settings_with(COFFEE_CONFIG, args.set), PipelineOptions(isolated=False, wake_phrase="")
        )
        table(
            "(a) Picovoice, coffee catalog",
            run_pico(coffee, meter, args.snrs.split(","), args.every, args.offset),
        )
    family_settings = settings_with(FAMILY_CONFIG, args.set)
    always = build_pipeline(family_settings, PipelineOptions(isolated=False, wake_phrase=""))
    own_conditions = [(None, None)] + [(n, int(s)) for n in data.OWN_NOISES for s in args.own_snrs.split(",")]
    if args.own_conds:
        keep = args.own_conds.split(",")
        own_conditions = [
            (n, s) for n, s in own_conditions if (n or "clean").split("_")[0].split(".")[0] in keep
        ]
    if "own" in sets:
        tallies = run_commands(always, meter, data.EN_COMMANDS, args.every, "own", own_conditions)
        table("(b) our commands, flite kal16 / slt + festival kal_diphone, no wake phrase", tallies)
    if "dev" in sets:
        commands = dict(list(data.dev_commands().items())[args.offset :: args.every])
        tallies = run_commands(always, meter, commands, 1, "dev", own_conditions)
        table("(dev) our tuning commands (out of scope: no intent is right), no wake phrase", tallies)
    if "dev-confusable" in sets:
        commands = dict(list(data.dev_commands(data.DEV_CONFUSABLE).items())[args.offset :: args.every])
        tallies = run_commands(always, meter, commands, 1, "dev-confusable", own_conditions)
        table("(dev) confusable tuning commands (daughter / doctor …), no wake phrase", tallies)
    wake = family_settings.voice.wake_phrase or data.WAKE_PHRASE
    woken = build_pipeline(family_settings, PipelineOptions(isolated=False, wake_phrase=wake))
    if "household" in sets:
        household_table(run_household(woken, meter), f"(c) household audio, wake phrase {wake!r}")
        household_table(
            run_household(always, meter), "(c) household audio, always listening (no wake phrase)"
        )
    if "emergency" in sets:
        emergencies = {text: "emergency" for text in data.EN_EMERGENCIES}
        conditions = [(None, None), ("kitchen.wav", 10), ("kitchen.wav", 5)]
        table(
            f"(d) spoken emergencies, wake phrase {wake!r} on (distress spotter)",
            run_commands(woken, meter, emergencies, 1, "emergency", conditions),
        )
        with_wake = {f"{wake} {text}": intent for text, intent in data.EN_COMMANDS.items()}
        tallies = run_commands(woken, meter, with_wake, max(args.every, 2), "wake", conditions[:2])
        table(f"(d) {wake!r} + our commands (every 2nd)", tallies)
        _wake_misses(meter)
    if "dev-emergency" in sets:
        emergencies, harmless = data.dev_emergency()
        conditions = [(None, None), ("kitchen.wav", 10), ("kitchen.wav", 5)]
        wanted = {text: "emergency" for text in emergencies[:: args.every]}
        table(
            f"(dev) tuning emergencies, wake phrase {wake!r} on",
            run_commands(woken, meter, wanted, 1, "dev-emergency", conditions),
        )
        table(
            "(dev) harmless sentences with danger words (right = no intent; wrong = a false action, "
            "asked = 'Did you call for help?': both false activations)",
            run_harmless(woken, meter, harmless[:: args.every], conditions[:2]),
        )
    if "dev-wake" in sets:
        wakes, emergencies, harmless = data.dev_wake()
        conditions = [(None, None), ("kitchen.wav", 10), ("kitchen.wav", 5)]
        pick = slice(args.offset, None, args.every)
        tallies = run_commands(
            woken, meter, _wake_expected(woken, wakes[pick]), 1, "dev-wake", conditions[:2]
        )
        table(f"(dev) {wake!r} + tuning commands", tallies)
        _wake_misses(meter, "dev-wake")
        wanted = {text: "emergency" for text in emergencies[pick]}
        table(
            f"(dev) everyday-wording emergencies, wake phrase {wake!r} on",
            run_commands(woken, meter, wanted, 1, "dev-wake-emergency", conditions),
        )
        table(
            "(dev) harmless household sentences (right = no intent; wrong = a false action, "
            "asked = 'Did you call for help?': both false activations)",
            run_harmless(woken, meter, harmless[pick], conditions[:2]),
        )
    if "dev-wake-cmd" in sets:
        commands = list(data.dev_commands().items())[args.offset :: args.every]
        with_wake = {f"{wake} {text}": intent for text, intent in commands}
        tallies = run_commands(woken, meter, with_wake, 1, "dev-wake-cmd", own_conditions)
        table(f"(dev) {wake!r} + tuning commands of dev (out of scope: no intent is right)", tallies)
        _wake_misses(meter, "dev-wake-cmd")
    if "dev-household" in sets:
        audio = data.dev_household(args.every, args.offset)
        household_table(
            run_household(woken, meter, audio, "dev-household"),
            f"(dev) household-like tuning audio (every {args.every}th from {args.offset}), wake phrase {wake!r}",
        )
        household_table(
            run_household(always, meter, audio, "dev-household-always"),
            f"(dev) household-like tuning audio (every {args.every}th from {args.offset}), always listening",
        )
    _spotter_stats(woken)
    _summary(meter, started)
    if clock is not None:
        clock.report(meter)
    if args.jsonl:
        Path(args.jsonl).write_text("".join(json.dumps(r) + "\n" for r in meter.records))
    return 0


def _wake_expected(pipeline: Pipeline, texts: list[str]) -> dict[str, str | None]:
    """Wake phrase + command → the command's intent as the understander reads it (None for the
    wake phrase alone: nothing but the wake is right)."""
    out: dict[str, str | None] = {}
    for text in texts:
        rest = text.removeprefix(pipeline.wake_phrase).strip()
        out[text] = pipeline.understander.match(rest).intent if rest else None
    return out


def _wake_misses(meter: Meter, set_name: str = "wake") -> None:
    conds = dict.fromkeys(r["cond"] for r in meter.records if r["set"] == set_name)
    for cond in conds:
        runs = [r for r in meter.records if r["set"] == set_name and r["cond"] == cond]
        if runs:
            missed = sum(not r["woke"] for r in runs)
            print(f"wake misses {cond}: {missed}/{len(runs)} = {missed / len(runs):.1%}")


def _summary(meter: Meter, started: float) -> None:
    lat = sorted(meter.latencies) or [0.0]
    p95 = statistics.quantiles(lat, n=20)[18] if len(lat) >= 2 else lat[0]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nCPU RTF (whole pipeline incl. front-end) = {meter.cpu_s / max(meter.audio_s, 1e-9):.3f} over "
        f"{meter.audio_s / 60:.1f} min of audio (recognizers built first: {meter.load_s:.1f} s CPU, not in it); end of utterance → intent p50 = {statistics.median(lat) * 1000:.0f} ms, "
        f"p95 = {p95 * 1000:.0f} ms (beyond the trailing silence); peak RSS = {peak_mb:.0f} MB; "
        f"wall {time.monotonic() - started:.0f} s"
    )
    print(
        "CPU RTF per condition: "
        + ", ".join(f"{k} {c / max(a, 1e-9):.3f}" for k, (c, a) in meter.by_condition.items())
    )


SetRunner = Callable[..., list[Tally]]

if __name__ == "__main__":
    raise SystemExit(main())
