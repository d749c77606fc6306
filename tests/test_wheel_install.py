"""The package as a user gets it: a wheel built from this tree, installed into a fresh venv outside
the checkout, run from an unrelated folder. Catalogs, prompts, earcons, device profiles, the
embedded config and the protocol schemas must come from the installed package, never the checkout.

Offline: the wheel is built without build isolation (setuptools and wheel come from the test
extra) and installed with ``--no-deps``; the fresh venv sees the project venv's dependencies
through a ``.pth`` line (a plain path: the project's editable-install hook is not run there).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from speechgen import speechgen_fixture  # noqa: F401

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "assistant", "jiayi_backend", "intents", "audio", "device")
"""What the build needs (copied, so building never writes build/ or egg-info into the checkout)."""
STEP_TIMEOUT_S = 120.0
PROBE = """
import json, assistant, assistant.data as d, assistant.ops.config as c, assistant.link.protocol as p
from assistant.conversation.prompts import load_prompts
print(json.dumps({
    "package": assistant.__file__,
    "intents": str(d.intents_dir()), "audio": str(d.audio_dir()), "device": str(d.device_dir()),
    "earcons": sorted(f.name for f in (d.audio_dir() / "earcons").glob("*.wav")),
    "profiles": sorted(f.name for f in d.device_dir().glob("*.yaml")),
    "config": str(c.EMBEDDED_CONFIG), "protocol": p.__file__,
    "greeting": load_prompts("zh").text("greeting", person="王阿姨"),
}))
"""


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT_S)
    assert done.returncode == 0, f"{cmd} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """(fresh venv, environment, working folder) with the wheel installed."""
    top = tmp_path_factory.mktemp("wheel")
    src, dist, env_dir, work = top / "src", top / "dist", top / "venv", top / "work"
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIAYI_", "PYTHON"))}
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    _run([*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist), str(src)], top, env)
    (wheel,) = dist.glob("jiayi-*.whl")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], top, env)
    site = Path(purelib.stdout.strip())
    (site / "project-deps.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    _run([*pip, "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)], top, env)
    work.mkdir()
    return env_dir, env, work


def test_wheel_carries_its_data_and_loads_it_from_the_install(installed):
    env_dir, env, work = installed
    probe = json.loads(_run([str(env_dir / "bin" / "python"), "-c", PROBE], work, env).stdout)
    for key in ("package", "intents", "audio", "device", "config", "protocol"):
        assert Path(probe[key]).resolve().is_relative_to(env_dir.resolve()), (key, probe[key])
        assert not Path(probe[key]).resolve().is_relative_to(REPO), (key, probe[key])
    assert probe["earcons"] == ["done.wav", "error.wav", "listening.wav", "wake.wav"]
    assert "respeaker-2mic.yaml" in probe["profiles"]
    assert "王阿姨" in probe["greeting"]


def test_installed_jiayi_checks_config_and_understands_text_and_speech(installed, speechgen):
    env_dir, env, work = installed
    jiayi = str(env_dir / "bin" / "jiayi")
    checked = _run([jiayi, "check-config"], work, env)
    assert "default_config.yaml (built in) is OK" in checked.stdout
    text = json.loads(_run([jiayi, "understand", "--text", "call my doctor", "--json"], work, env).stdout)
    assert (text["intent"], text["lang"]) == ("call_doctor", "en")
    wav = speechgen.say(
        "i need to talk to my doctor", voice="flite:kal16", stretch=1.15
    )  # espeak: a poor stand-in
    heard = json.loads(_run([jiayi, "understand", "--wav", str(wav), "--json"], work, env).stdout)
    assert heard["intent"] == "call_doctor" and "doctor" in heard["transcript"]
