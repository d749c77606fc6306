"""The practice's backend is its own package: it may use the shared wire protocol
(``assistant.link.protocol``) and nothing else of the device's code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ALLOWED = {"assistant", "assistant.link", "assistant.link.protocol"}


def test_jiayi_backend_imports_only_the_protocol_from_device_code() -> None:
    offending = []
    for path in sorted((REPO / "jiayi_backend").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module == "assistant.link.protocol":
                continue
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("assistant") and name not in ALLOWED:
                    offending.append(f"{path.relative_to(REPO)}:{node.lineno} {name}")
    assert not offending


def test_importing_every_backend_module_loads_no_device_module() -> None:
    code = (
        "import importlib, pkgutil, sys, jiayi_backend, jiayi_backend.web\n"
        "for m in pkgutil.walk_packages(jiayi_backend.__path__, 'jiayi_backend.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('\\n'.join(sorted(n for n in sys.modules if n.startswith('assistant'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert set(out.stdout.split()) <= ALLOWED, out.stdout
