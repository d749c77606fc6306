"""Shared test set-up. Area helpers live in tests/<area>_helpers.py or tests/speechgen.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
# Both `import mqtt_helpers` and `from tests import mqtt_helpers` work.
for p in (str(TESTS_DIR), str(REPO_ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT
