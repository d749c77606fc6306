"""Helpers for the backend tests: a throw-away PostgreSQL database, ``jiayi backend run`` processes.

PostgreSQL runs on 127.0.0.1:5432 with trust auth on the development machines and in CI; every
test that needs it gets its own database with a random name, dropped afterwards. When the server
cannot be reached the test is skipped with the reason (set ``JIAYI_TEST_PG_URL`` to use another).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest
from e2e_helpers import ProcessOutput, jiayi_env

REPO: Final = Path(__file__).resolve().parent.parent
ADMIN_URL: Final = os.environ.get("JIAYI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _with_db(url: str, name: str) -> str:
    base, _, _old = url.rpartition("/")
    return f"{base}/{name}"


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database (URL), dropped at the end; skips the test when PostgreSQL is unreachable."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[backend]')")
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as err:
        pytest.skip(f"PostgreSQL is not reachable at {ADMIN_URL}: {str(err).strip()[:200]}")
    name = f"jiayi_test_{secrets.token_hex(6)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield _with_db(ADMIN_URL, name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def backend_process(args: list[str], log: Path) -> ProcessOutput:
    """``jiayi backend run <args>`` in its own process group; stdout collected, stderr to ``log``."""
    with open(log, "ab") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant", "backend", "run", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=jiayi_env(),
            cwd=str(REPO),
            start_new_session=True,
        )
    return ProcessOutput(process)


def stop_process(output: ProcessOutput, timeout_s: float = 10.0) -> int:
    """SIGTERM, wait (kill after the timeout); returns the exit code."""
    if output.process.poll() is None:
        output.process.terminate()
    code = output.finish(timeout_s)
    if output.process.stdout:
        output.process.stdout.close()
    return code
