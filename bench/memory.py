"""Daemon memory: peak RSS of ``jiayi run`` (parent) and its recognizer child, as deployed.

The daemon runs its own config (English, pocketsphinx, wake phrase, RNNoise, the catalog grammar)
on a WAV of kitchen noise with spoken commands (flite, festival) through ``audio.input: wav``,
with the local mosquitto as its backend and speech output to ``null``. Every 0.2 s the script
reads ``VmHWM`` (peak resident set) of the daemon and of each child from ``/proc``; it reports
the peaks once the WAV has been heard (``status`` says the source ended) or after a time limit.

    .venv/bin/python bench/memory.py [--url mqtt://127.0.0.1:1883] [--seconds 90]

Target (issue 12): daemon peak memory ≤ 120 MB with pocketsphinx, parent and child together.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

COMMANDS = (
    ("flite:kal16", "hello jiayi"),
    ("flite:kal16", "what time is it"),
    ("flite:slt", "hello jiayi"),
    ("flite:slt", "call my daughter"),
    ("festival:kal_diphone", "no"),
    ("flite:kal16", "hello jiayi"),
    ("flite:kal16", "i need more of my blood pressure pills"),
    ("flite:slt", "cancel"),
)
TARGET_MB = 120.0


def _vmhwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _cmd(pid: int) -> str:
    try:
        parts = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    return " ".join(p.decode(errors="replace") for p in parts if p)


def _short(text: str) -> str:
    return text if len(text) < 70 else text[:67] + "..."


def _children(pid: int) -> list[int]:
    """Children of every thread of ``pid`` (``task/<pid>/children`` alone lists only the main
    thread's: the TTS worker, started from the speech thread, was missed until round 13)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _wav(cache: Path) -> Path:
    from speechgen import SpeechGen

    gen = SpeechGen(cache)
    parts: list[Path | float] = [2.0]
    for voice, text in COMMANDS:
        parts += [gen.say(text, voice, stretch=1.15), 3.0]
    speech = gen.concat(*parts, name="memory-bench")
    return gen.with_noise(speech, "kitchen.wav", 20.0)


def _config(folder: Path, wav: Path, url: str) -> Path:
    path = folder / "config.yaml"
    path.write_text(
        f"""\
person: {{name: "Margaret Lee", address_as: "Margaret", language: en}}
doctor: {{name: "Dr. Chen", phone: "+1 555 0100"}}
contacts:
  - {{name: "Anna", relation: "daughter", phone: "+1 555 0111", emergency: true}}
medications:
  - {{name: "amlodipine", aliases: ["blood pressure pills"], times: ["08:00"]}}
backend: {{url: "{url}", device_id: "memory-bench"}}
phone_fallback: {{enabled: true, driver: log}}
emergency: {{accept_alarm_only: true}}
audio: {{input: wav, input_wav: "{wav}", output: "null"}}
""",
        encoding="utf-8",
    )
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="mqtt://127.0.0.1:1883", help="MQTT broker for the daemon")
    parser.add_argument("--seconds", type=float, default=90.0, help="stop after this long")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jiayi-memory-") as tmp:
        folder = Path(tmp)
        wav = _wav(ROOT / ".pytest_cache" / "d" / "jiayi-speech")
        config = _config(folder, wav, args.url)
        state = folder / "s"
        # First start trains the intent model into the state folder (a child process, once per
        # catalog change); it is reported separately, then the daemon runs again from the cache.
        first = _run(config, state, wav, max(args.seconds, 120.0), until_ready=True)  # stops once ready
        proc, peaks, names, text = _run(config, state, wav, args.seconds, until_ready=False)
    _report(first, "first start (model trained into the state folder)", audio_s=0.0)
    _report(
        (proc, peaks, names, text), "running from the cached model", audio_s=len(wav.read_bytes()) / 32000
    )
    return 0


def _run(config: Path, state: Path, wav: Path, seconds: float, until_ready: bool):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("JIAYI_CONFIG", None)
    log = tempfile.TemporaryFile("w+")
    command = [sys.executable, "-m", "assistant", "run", "--config", str(config), "--state-dir", str(state)]
    proc = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=str(ROOT),
    )
    peaks: dict[int, int] = {}
    names: dict[int, str] = {}
    start = time.monotonic()
    audio_s = len(wav.read_bytes()) / 32000
    first_name = " ".join(command)  # what a child forked from the daemon shows until it execs
    try:
        while time.monotonic() - start < seconds and proc.poll() is None:
            for pid in (proc.pid, *_children(proc.pid)):
                peaks[pid] = max(peaks.get(pid, 0), _vmhwm_kb(pid))
                if pid not in names or names[pid] == first_name:  # a child is named once it has exec'd
                    names[pid] = _cmd(pid)
            if until_ready:
                log.seek(0)
                if "event=daemon_ready" in log.read():
                    break
            elif time.monotonic() - start > audio_s + 15:  # heard the whole WAV, plus start-up
                break
            time.sleep(0.2)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    log.seek(0)
    return proc, peaks, names, log.read()


def _report(run, title: str, audio_s: float) -> None:
    proc, peaks, names, text = run
    peaks = dict(peaks)
    parent = peaks.pop(proc.pid, 0) / 1024
    children = {pid: kb / 1024 for pid, kb in peaks.items() if kb}
    recognizer = sum(mb for pid, mb in children.items() if "recognizer_child" in names.get(pid, ""))
    total = parent + recognizer
    child_text = (
        "; ".join(f"{mb:.0f} MB ({_short(names.get(pid, '?'))})" for pid, mb in children.items()) or "none"
    )
    print(f"## {title}")
    print(f"audio {audio_s:.0f} s; daemon parent peak {parent:.0f} MB; children peak {child_text}")
    print(
        f"together {total:.0f} MB (parent and recognizer child; target ≤ {TARGET_MB:.0f} MB: "
        f"{'met' if total <= TARGET_MB else 'NOT met'})"
    )
    print(f"every process together {parent + sum(children.values()):.0f} MB")
    events = sorted({w.split("=", 1)[1] for w in text.split() if w.startswith("event=")})
    print(f"events logged: {', '.join(events)}")
    if proc.returncode not in (0, -15, None):
        print(text[-2000:])


if __name__ == "__main__":
    raise SystemExit(main())
