"""systemd units: `systemd-analyze verify` accepts them, required settings are there, exposure stays low."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS_DIR = Path(__file__).resolve().parent.parent / "systemd"
UNITS = ("jiayi.service", "jiayi-backend.service")
INSTALLED_BIN = "/opt/jiayi/venv/bin/jiayi"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def settings(unit: str) -> dict[str, list[str]]:
    """key -> values (in order) over all sections; comments skipped."""
    out: dict[str, list[str]] = {}
    for line in (UNITS_DIR / unit).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        out.setdefault(key, []).append(value)
    return out


def unit_copy(unit: str, tmp_path: Path, extra: str = "") -> Path:
    """The unit with ExecStart pointing at a binary that exists here (verify checks it)."""
    jiayi = Path(sys.executable).with_name("jiayi")
    exe = str(jiayi if jiayi.exists() else Path(sys.executable))
    text = (UNITS_DIR / unit).read_text().replace(INSTALLED_BIN, exe)
    if extra:
        text = text.replace("[Service]\n", "[Service]\n" + extra + "\n", 1)
    path = tmp_path / unit
    path.write_text(text)
    return path


def verify(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ANALYZE, "verify", "--man=no", str(path)], capture_output=True, text=True, timeout=60
    )


def problems(proc: subprocess.CompletedProcess[str], path: Path) -> list[str]:
    # verify exits 0 even for unknown keys; it reports them on stderr as "<path>:<line>: ...".
    return [line for line in (proc.stdout + proc.stderr).splitlines() if path.name in line]


@needs_analyze
@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify_accepts_the_unit(unit, tmp_path):
    path = unit_copy(unit, tmp_path)
    proc = verify(path)
    assert proc.returncode == 0, proc.stderr
    assert problems(proc, path) == []


@needs_analyze
def test_verify_would_catch_a_broken_directive(tmp_path):
    """Control: the check above can fail."""
    path = unit_copy("jiayi.service", tmp_path, extra="WatchdogSek=30")
    assert any("WatchdogSek" in line for line in problems(verify(path), path))


def test_assistant_unit_has_the_required_settings():
    s = settings("jiayi.service")
    one = {k: v[-1] for k, v in s.items()}
    assert one["Type"] == "notify" and one["NotifyAccess"] == "main"
    assert one["WatchdogSec"] == "30"
    assert one["Restart"] == "on-failure" and one["RestartSec"] == "5"
    assert one["StartLimitIntervalSec"] == "0"
    assert one["User"] == "jiayi" and one["StateDirectory"] == "jiayi"
    assert one["ConfigurationDirectory"] == "jiayi"
    assert one["ExecStart"].startswith(INSTALLED_BIN + " run ")
    assert one["ExecReload"] == "/bin/kill -HUP $MAINPID"
    for key in (
        "NoNewPrivileges",
        "ProtectHome",
        "PrivateTmp",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectKernelLogs",
        "ProtectControlGroups",
        "ProtectClock",
        "ProtectHostname",
        "RestrictNamespaces",
        "LockPersonality",
    ):
        assert one[key] == "yes", key
    assert one["ProtectSystem"] == "strict"
    assert one["CapabilityBoundingSet"] == ""
    assert set(one["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"}
    assert "@system-service" in s["SystemCallFilter"]
    assert one["DevicePolicy"] == "closed"
    assert {"char-alsa rw", "char-ttyUSB rw", "/dev/gpiochip0 rw"} <= set(s["DeviceAllow"])
    assert "MemoryMax" in one
    # Would hide /dev/snd, /proc/asound or the device groups:
    for key in ("PrivateDevices", "ProcSubset", "PrivateUsers", "MemoryDenyWriteExecute"):
        assert key not in one, key


@needs_analyze
@pytest.mark.parametrize(("unit", "limit"), [("jiayi.service", 2.5), ("jiayi-backend.service", 2.0)])
def test_security_exposure_stays_low(unit, limit, tmp_path):
    path = unit_copy(unit, tmp_path)
    proc = subprocess.run(
        [ANALYZE, "security", "--offline=true", "--no-pager", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", proc.stdout + proc.stderr)
    if match is None:
        pytest.skip(f"systemd-analyze security --offline is not supported here: {proc.stderr[:200]}")
    assert float(match.group(1)) <= limit
