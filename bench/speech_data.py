"""Audio for bench/speech.py: the Picovoice human recordings mixed the benchmark's way, our
commands and emergencies spoken by flite/festival voices, and household audio with no commands.

Everything is generated once into a cache folder (``$TMPDIR/jiayi-bench-speech``) and reused.
The Picovoice mixes follow the benchmark (its README, "method, in words"): a random stretch of
its kitchen noise as long as the recording, scaled so the loudest 2048-sample frame of speech
vs. noise gives the SNR, added, the mix normalised to peak 0.5. The noise offsets are drawn for
all recordings in name order from a fixed seed per SNR (as the research prototype did), so a
subsample sees the same mixes as the full set. Each recording gets 1.3 s of silence appended
before mixing (the noise covers it), so the endpointer ends the utterance the way it would live.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from speechgen import SpeechGen, noise_dir  # noqa: E402

DATA: Final = REPO.parent / "shared" / "data"
PICO: Final = DATA / "picovoice-s2i"
CACHE: Final = Path(tempfile.gettempdir()) / "jiayi-bench-speech"
PICO_SNRS: Final = ("clean", "24", "21", "18", "15", "12", "9", "6")
PICO_SEED: Final = 20240601
PICO_TRAIL_S: Final = 1.3
FRAME: Final = 2048

# (b): what people say (not catalog wording) → intent; the list of earlier rounds, unchanged.
EN_COMMANDS: Final = {
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
DEV_COMMANDS: Final = REPO / "bench" / "data" / "speech-dev-commands-en.jsonl"
"""Tuning commands for the command search (never part of (b)); ``intent: null`` = out of scope."""


DEV_CONFUSABLE: Final = REPO / "bench" / "data" / "speech-dev-confusable-en.jsonl"
"""Second tuning set for the command search (round 15, never part of (b)): commands whose
contact, doctor or medicine sounds like another ("ring my daughter" / "ring my doctor"), falls
against swollen limbs, and out-of-scope sentences with those words."""


def dev_commands(path: Path = DEV_COMMANDS) -> dict[str, str | None]:
    """The tuning commands: text → intent (None = out of scope, no intent is right)."""
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {row["text"]: row["intent"] for row in rows}


# (d): how people call for help (written before any tuning; not all are catalog wording).
EN_EMERGENCIES: Final = (
    "help me",
    "help",
    "i have fallen",
    "i fell and i can't get up",
    "call an ambulance",
    "i think i am having a heart attack",
    "somebody help me",
    "i can't breathe",
)
DEV_EMERGENCY: Final = REPO / "bench" / "data" / "speech-dev-emergency.json"
"""Tuning material for the distress spotter (set ``dev-emergency``): emergencies and harmless
sentences with danger words, none of them in (c) or (d)."""
DEV_WAKE: Final = REPO / "bench" / "data" / "speech-dev-wake.json"
"""Tuning material for the wake phrase and the spotter (set ``dev-wake``): wake phrase + command,
emergencies in everyday wording, harmless household sentences; none of them in (c) or (d)."""
DEV_HOUSEHOLD: Final = REPO / "bench" / "data" / "speech-dev-household.json"
"""Household-like tuning audio for the spotter (set ``dev-household``): television / radio passages
and conversation lines, none of them in (c); read by other voices, mixed with other noises."""
VOICES: Final = ("flite:kal16", "flite:slt", "festival:kal_diphone")
STRETCH: Final = 1.15
"""Slowed a little (duration × 1.15), as older people and people talking to a device speak."""
OWN_NOISES: Final = ("kitchen.wav", "living_room_background.wav")
OWN_SNRS: Final = (20, 10, 5)
WAKE_PHRASE: Final = "hello jiayi"

# (c): stand-ins for television and radio (long passages) and a conversation in the room.
PASSAGES: Final = (
    "Good evening and welcome to the news at six. The council has approved a new bus route "
    "that will connect the hospital with the town centre every twenty minutes. Doctors say the "
    "change will help older patients who have trouble getting to their appointments. In other "
    "news, the weather stays dry for the rest of the week, with sunny spells on Sunday.",
    "Now for today's recipe. Take two large onions, chop them finely and fry them in a little "
    "butter until they are soft and golden. Add the tomatoes, a pinch of salt and some pepper, "
    "then let it simmer for twenty minutes. While that cooks, boil the pasta in plenty of "
    "water. Stir it from time to time so it does not stick to the pan.",
    "It was a cold morning in November when the letter finally arrived. Margaret read it twice "
    "at the kitchen table, then folded it carefully and put it in her coat pocket. She had "
    "waited three years for this news, and now that it was here she did not know whether to "
    "laugh or cry. Outside, the postman was whistling as he walked down the lane.",
    "If you or someone you love has fallen recently, talk to your doctor about a free home "
    "safety check. Simple changes such as grab rails and brighter lights can prevent a fall. "
    "Call our helpline today, or ask your pharmacist for a leaflet. Remember to take your "
    "medicine as prescribed and keep moving every day.",
    "And that was the final whistle here at the stadium. What a game it has been, with three "
    "goals in the second half and a penalty saved in the last minute. The home crowd are on "
    "their feet, and the manager is shaking hands with every one of his players. We will have "
    "all the reaction after the break, so stay with us.",
    "Welcome back to the garden hour. This week we are planting bulbs for the spring. Dig a "
    "hole about three times as deep as the bulb, put it in with the pointed end up, and cover "
    "it with soil. Water them well, and then you can forget about them until the first green "
    "shoots appear in March. Next, a question from a listener about roses.",
)
PASSAGE_VOICES: Final = ("flite:awb", "flite:rms", "festival:kal_diphone", "flite:slt")
CONVERSATION: Final = (
    "Did you sleep well last night?",
    "Not really, the neighbours were playing music until midnight.",
    "Oh dear. Would you like a cup of tea?",
    "Yes please, with a little milk.",
    "What time is the doctor coming on Thursday?",
    "I think she said ten o'clock, but I will check the letter.",
    "Your daughter called while you were out, she wants you to call her back.",
    "I will phone her after lunch. Have you seen my glasses anywhere?",
    "They are on the table next to your pills.",
    "Thank you. I took the blue ones this morning, did I not?",
    "Yes, I saw you take them with breakfast.",
    "Shall we go for a walk if the rain stops?",
    "That would be lovely. Help me find my umbrella first.",
    "It is in the hall. Careful on the step, you nearly fell last week.",
)
CONVERSATION_VOICES: Final = ("flite:slt", "flite:kal16")


def dev_emergency() -> tuple[list[str], list[str]]:
    """(emergencies, harmless sentences) of the spotter's tuning set."""
    found = json.loads(DEV_EMERGENCY.read_text())
    return list(found["emergencies"]), list(found["harmless"])


def dev_wake() -> tuple[list[str], list[str], list[str]]:
    """(wake phrase + command, emergencies, harmless sentences) of the wake tuning set."""
    found = json.loads(DEV_WAKE.read_text())
    return list(found["wake"]), list(found["emergencies"]), list(found["harmless"])


DEV_PASSAGE_VOICES: Final = ("flite:kal16", "flite:kal", "flite:awb")
DEV_CONVERSATION_VOICES: Final = ("flite:rms", "festival:kal_diphone")
DEV_HOUSEHOLD_NOISES: Final = ("running_tap.wav", "exercise_bike.wav", "dude_miaowing.wav")


def dev_household(every: int = 2, offset: int = 0) -> list[tuple[str, Path]]:
    """(label, WAV) of the spotter's household-like tuning audio: every ``every``-th passage and
    conversation line from ``offset`` (offset 0 = the tuning half), read by other voices than (c)
    and mixed with other noise files / segments (noise alone, television, conversation, television
    + dishes 10 dB, conversation + kitchen 10 dB)."""
    found = json.loads(DEV_HOUSEHOLD.read_text())
    passages = list(found["passages"])[offset::every]
    lines = list(found["conversation"])[offset::every]
    gen = speechgen()
    noises = [noise_dir(REPO) / n for n in DEV_HOUSEHOLD_NOISES]
    out = [("dev noise", gen.concat(*noises, name="dev-household-noise"))]
    tv: list[Path | float] = []
    for i, text in enumerate(passages):
        for j in (i, i + 1):  # each passage in two voices
            tv += [gen.say(text, DEV_PASSAGE_VOICES[j % len(DEV_PASSAGE_VOICES)]), 0.8]
    out.append(("dev television", gen.concat(*tv, name=f"dev-household-tv-{every}-{offset}")))
    talk: list[Path | float] = []
    for i, line in enumerate(lines * 2):
        voice = DEV_CONVERSATION_VOICES[(i + i // len(lines)) % 2]  # each line in both voices
        talk += [gen.say(line, voice, lead_s=0.2, trail_s=0.3), 0.5]
    out.append(("dev conversation", gen.concat(*talk, name=f"dev-household-talk-{every}-{offset}")))
    out.append(
        ("dev television + dishes 10 dB", gen.with_noise(out[1][1], "doing_the_dishes.wav", 10, seed=41))
    )
    out.append(("dev conversation + kitchen 10 dB", gen.with_noise(out[2][1], "kitchen.wav", 10, seed=43)))
    return out


def speechgen() -> SpeechGen:
    return SpeechGen(CACHE / "tts")


# ------------------------------------------------------------------------------ Picovoice


@dataclass(frozen=True)
class PicoItem:
    name: str
    index: int
    """Position among all recordings in name order (picks the noise offset)."""
    intent: str
    slots: dict[str, str]


def pico_items(every: int = 1, offset: int = 0) -> list[PicoItem]:
    """Recordings that exist and have a label, in name order; every ``every``-th from ``offset``."""
    labels = json.loads((PICO / "label.json").read_text())
    names = sorted(p.stem for p in (PICO / "clean").glob("*.flac"))
    items = []
    for index, name in enumerate(names):
        label = labels.get(f"{name}.wav")
        if label is not None:
            slots = {k: str(v).strip() for k, v in label["slots"].items()}
            items.append(PicoItem(name, index, label["intent"], slots))
    return items[offset::every]


def _read(path: Path) -> bytes:
    with wave.open(str(path), "rb") as handle:
        return handle.readframes(handle.getnframes())


def _write(path: Path, pcm: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with wave.open(str(tmp), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes(pcm)
    tmp.replace(path)
    return path


def pico_wavs(items: list[PicoItem], snr: str) -> Iterator[tuple[PicoItem, Path]]:
    """(item, WAV) at ``snr`` ("clean" or dB), made on first use."""
    import numpy as np

    noise: np.ndarray | None = None
    draws: np.ndarray | None = None
    for item in items:
        out = CACHE / "pico" / snr / f"{item.name}.wav"
        if not out.exists():
            clean_wav = CACHE / "pico" / "flac" / f"{item.name}.wav"
            if not clean_wav.exists():
                clean_wav.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run(
                    ["sox", str(PICO / "clean" / f"{item.name}.flac"), str(clean_wav)], check=True, timeout=60
                )
            clean = np.frombuffer(_read(clean_wav), dtype=np.int16).astype(np.float64) / 32768.0
            clean = np.concatenate([clean, np.zeros(int(PICO_TRAIL_S * 16000))])
            if snr == "clean":
                mixed = clean
            else:
                if noise is None:
                    noise = np.frombuffer(_read(noise_dir(REPO) / "kitchen.wav"), dtype=np.int16) / 32768.0
                    draws = np.random.default_rng([PICO_SEED, int(snr)]).random(700)
                assert draws is not None
                start = int(draws[item.index] * (len(noise) - len(clean)))
                mixed = _mix(clean, noise[start : start + len(clean)], float(snr))
            _write(out, np.clip(np.rint(mixed * 32767), -32768, 32767).astype(np.int16).tobytes())
        yield item, out


def _mix(clean: object, part: object, snr_db: float) -> object:
    import numpy as np

    def peak(x: np.ndarray) -> float:
        n = len(x) // FRAME
        return float((x[: n * FRAME].reshape(n, FRAME) ** 2).sum(axis=1).max())

    scale = np.sqrt(peak(clean) / (peak(part) * 10 ** (snr_db / 10.0)))  # type: ignore[arg-type]
    noisy = clean + scale * part  # type: ignore[operator]
    return noisy / (2 * np.max(np.abs(noisy)))


# ------------------------------------------------------------------------------ TTS sets


def spoken(text: str, voice: str, noise: str | None, snr: float, seed: int) -> Path:
    gen = speechgen()
    wav = gen.say(text, voice, stretch=STRETCH)
    return gen.with_noise(wav, noise, snr, seed=seed) if noise else wav


def household() -> list[tuple[str, Path]]:
    """(label, WAV) of audio with no command for the device: noise, "television", a conversation."""
    gen = speechgen()
    noises = [
        noise_dir(REPO) / n for n in ("kitchen.wav", "living_room_background.wav", "doing_the_dishes.wav")
    ]
    out = [("noise", gen.concat(*noises, name="household-noise"))]
    tv: list[Path | float] = []
    for i, text in enumerate(PASSAGES):
        for j, voice in enumerate(PASSAGE_VOICES):
            if (i + j) % 2 == 0:  # each passage in two voices, every voice used
                tv += [gen.say(text, voice), 0.8]
    out.append(("television", gen.concat(*tv, name="household-tv")))
    talk: list[Path | float] = []
    for i, line in enumerate(CONVERSATION * 2):
        talk += [gen.say(line, CONVERSATION_VOICES[i % 2], lead_s=0.2, trail_s=0.3), 0.4]
    out.append(("conversation", gen.concat(*talk, name="household-talk")))
    tv_noisy = gen.with_noise(out[1][1], "kitchen.wav", 10, seed=7)
    out.append(("television + kitchen 10 dB", tv_noisy))
    return out
