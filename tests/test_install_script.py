"""install-pi.sh (shellcheck, --dry-run plans) and the device profiles it installs.

The script is only ever run with --dry-run here: this machine is not the Pi it installs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.ops import device_profiles as device
from assistant.ops.settings import Audio

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "install-pi.sh"


def dry_run(*args: str) -> subprocess.CompletedProcess[str]:
    assert "--dry-run" not in args
    return subprocess.run(
        ["bash", str(SCRIPT), "--dry-run", *args], capture_output=True, text=True, timeout=60
    )


def planned(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line[2:] for line in proc.stdout.splitlines() if line.startswith("+ ")]


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_shellcheck_clean():
    proc = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout


def test_dry_run_plans_the_whole_install_in_order(tmp_path):
    model = tmp_path / "vosk-model-small-en-us-0.15.zip"
    model.write_bytes(b"zip")
    proc = dry_run("--device", "respeaker-2mic", "--model", str(model))
    assert proc.returncode == 0, proc.stderr
    cmds = planned(proc)
    text = "\n".join(cmds)

    def index(prefix: str) -> int:
        matches = [i for i, c in enumerate(cmds) if c.startswith(prefix)]
        assert matches, f"not planned: {prefix}\n{text}"
        return matches[0]

    order = [
        index("apt-get update"),
        index("env DEBIAN_FRONTEND=noninteractive apt-get install -y"),
        min(
            index("useradd") if "useradd" in text else 10**6, index("usermod") if "usermod" in text else 10**6
        ),
        index("/usr/bin/python3 -m venv /opt/jiayi/venv") if "-m venv" in text else index("rsync"),
        index("/opt/jiayi/venv/bin/pip install --quiet /opt/jiayi/src"),
        index("bash /opt/jiayi/src/scripts/pocketsphinx-patched.sh /opt/jiayi/venv/bin/pip"),
        index("install -m 0640 -o root -g jiayi") if "config.yaml" in text else index("install -d"),
        index(f"install -m 0640 -o root -g jiayi {REPO}/device/respeaker-2mic.yaml /etc/jiayi/device.yaml"),
        index("/opt/jiayi/venv/bin/jiayi device apply /etc/jiayi/device.yaml"),
        index("runuser -u jiayi --"),
        index(f"install -m 0644 {REPO}/systemd/jiayi.service /etc/systemd/system/jiayi.service"),
        index("systemctl daemon-reload"),
        index("systemctl enable --now jiayi.service"),
    ]
    assert order == sorted(order)
    for pkg in ("espeak-ng", "libportaudio2", "alsa-utils", "python3-venv", "build-essential", "patch"):
        assert pkg in cmds[order[1]].split()
    user = next(c for c in cmds if c.startswith(("useradd", "usermod")))
    assert "audio,dialout,gpio" in user and user.endswith(" jiayi")
    model_cmd = next(c for c in cmds if c.startswith("runuser"))
    assert model_cmd.endswith(f"/opt/jiayi/venv/bin/jiayi model install --from {model}")
    assert "STATE_DIRECTORY=/var/lib/jiayi" in model_cmd
    assert "jiayi-backend.service" not in text


def test_dry_run_model_by_name_backend_and_no_start():
    cmds = planned(dry_run("--model", "vosk-model-small-cn-0.22", "--with-backend", "--no-start"))
    assert any(c.endswith("jiayi model install vosk-model-small-cn-0.22") for c in cmds)
    assert (
        f"install -m 0644 {REPO}/systemd/jiayi-backend.service /etc/systemd/system/jiayi-backend.service"
        in cmds
    )
    assert "systemctl enable jiayi.service jiayi-backend.service" in cmds
    assert not any("enable --now" in c for c in cmds)
    assert not any("device apply" in c for c in cmds)


def test_uninstall_keeps_settings_and_state_unless_purged():
    keep = dry_run("--uninstall")
    assert keep.returncode == 0, keep.stderr
    cmds = planned(keep)
    assert cmds[0] == "systemctl disable --now jiayi.service jiayi-backend.service"
    assert "rm -rf /opt/jiayi" in cmds
    assert not any("/etc/jiayi" in c or "/var/lib/jiayi" in c for c in cmds)
    assert "kept /etc/jiayi" in keep.stdout

    purge = planned(dry_run("--uninstall", "--purge"))
    assert any(c.startswith("rm -rf /etc/jiayi /var/lib/jiayi") for c in purge)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--device", "nope"), "unknown device profile 'nope' (known: respeaker-2mic|usb-speakerphone)"),
        (("--purge",), "--purge only goes with --uninstall"),
        (("--frobnicate",), "unknown option: --frobnicate"),
    ],
)
def test_bad_arguments_exit_2_with_plain_words(args, message):
    proc = dry_run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert planned(proc) == []


# ---------------------------------------------------------------- device profiles


@pytest.mark.parametrize("name", ["respeaker-2mic", "usb-speakerphone"])
def test_shipped_profiles_load(name):
    profile = device.load_profile(name)
    assert profile.name == name
    assert profile.input_device and profile.output_device
    assert profile.sample_rate == 16000
    assert all(argv[0] == "amixer" for argv in profile.mixer_commands())
    assert profile.button is not None and profile.button.chip == "gpiochip0"
    assert profile.notes


def test_list_profiles_and_respeaker_details():
    assert set(device.list_profiles()) >= {"respeaker-2mic", "usb-speakerphone"}
    p = device.load_profile("respeaker-2mic")
    assert p.button == device.GpioLine("gpiochip0", 17, True)
    import re

    assert re.search(p.input_device, "seeed-2mic-voicecard: bcm2835-i2s-wm8960-hifi wm8960-hifi-0 (hw:1,0)")


def test_profile_fills_only_empty_audio_patterns():
    p = device.load_profile("usb-speakerphone")
    filled = p.fill_audio(Audio())
    assert filled.input_device == p.input_device and filled.output_device == p.output_device
    kept = p.fill_audio(Audio(input_device="My Mic"))
    assert kept.input_device == "My Mic" and kept.output_device == p.output_device


def test_bad_profile_reports_every_problem_with_its_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: Bad Name\n"  # 1
        "audio:\n"  # 2
        "  input_device: '(unclosed'\n"  # 3
        "  sample_rate: 22050\n"  # 4
        "mixer:\n"  # 5
        "  - amixer sset Capture 80%\n"  # 6
        "  - rm -rf /\n"  # 7
        "gpio:\n"  # 8
        "  button: {chip: gpiochip0, line: 999}\n"  # 9
        "colour: red\n"  # 10
    )
    with pytest.raises(device.DeviceProfileError) as err:
        device.load_profile(str(bad))
    problems = err.value.problems
    text = "\n".join(problems)
    assert f"{bad}:1: name:" in text
    assert f"{bad}:3: audio.input_device: not a valid pattern" in text
    assert f"{bad}:4: audio.sample_rate" in text
    assert "audio.output_device: a device name pattern is required" in text
    assert f"{bad}:7: mixer entry 2 must be an amixer command" in text
    assert f"{bad}:9: gpio.button.line" in text
    assert f"{bad}:10: unknown key 'colour'" in text
    assert len(problems) == 7


def test_broken_yaml_and_missing_profile(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\naudio: [unclosed\n")
    with pytest.raises(device.DeviceProfileError, match=r"broken.yaml:\d+: not valid YAML"):
        device.load_profile(str(broken))
    with pytest.raises(device.DeviceProfileError, match="no such device profile .*respeaker-2mic"):
        device.load_profile("no-such-speaker")


def test_apply_mixer_reports_failures_without_stopping():
    calls = []

    class Proc:
        def __init__(self, rc: int) -> None:
            self.returncode, self.stderr = rc, "amixer: Unable to find simple control 'Mic',0"

    def fake_run(argv, **kwargs):
        calls.append(argv)
        assert kwargs["timeout"] == device.MIXER_TIMEOUT_S
        return Proc(1 if "'Mic'" in " ".join(argv) or "Mic" in argv else 0)

    failures = device.load_profile("usb-speakerphone").apply_mixer(run=fake_run)
    assert len(calls) == 2
    assert calls[0] == ["amixer", "-c", "Device", "sset", "Mic", "85%"]
    assert len(failures) == 1 and "Unable to find simple control" in failures[0]
