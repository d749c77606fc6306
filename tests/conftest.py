"""Shared test set-up. Area helpers live in tests/<area>_helpers.py or tests/speechgen.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
# Both `import mqtt_helpers` and `from tests import mqtt_helpers` work.
for p in (str(TESTS_DIR), str(REPO_ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)


# Trained intent / distress-veto models shared by every state dir the tests make (and the daemons
# they start as subprocesses, which inherit the variable): each is trained once per data change.
os.environ.setdefault("JIAYI_MODEL_CACHE", str(REPO_ROOT / ".pytest_cache" / "d" / "jiayi-models"))


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT
