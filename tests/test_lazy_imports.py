"""The daemon's deferred standard-library modules (``assistant.ops.lazy_imports``, memory)."""

from __future__ import annotations

import subprocess
import sys

_PRELUDE = "import sys\nfrom assistant.ops.lazy_imports import defer, loaded\nassert defer()\n"


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _PRELUDE + code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_daemons_imports_leave_openssl_http_and_email_unloaded() -> None:
    out = _run(
        "import assistant.daemon, assistant.pipeline, assistant.link.relay, assistant.link.connection\n"
        "import assistant.link.tuning, assistant.ops.config_checks, assistant.hearing.vosk_models\n"
        "import assistant.understanding.model as model, paho.mqtt.client\n"
        "model.data_hash('en')  # the intent model's cache key, read at every start\n"
        "print(sorted(m for m in ('ssl', '_ssl', 'hashlib', '_hashlib', 'urllib.request', 'http.client',"
        " 'email.message') if m in sys.modules and loaded(m)))\n"
    )
    assert out.strip() == "[]"


def test_a_deferred_module_gives_the_real_modules_objects_at_first_use() -> None:
    out = _run(
        "import hashlib, ssl, urllib.request\n"
        "assert not loaded('ssl') and not loaded('hashlib')\n"
        "print(hashlib.sha256(b'abc').hexdigest())\n"
        "print(ssl.SSLError is sys.modules['ssl'].SSLError, loaded('ssl'), loaded('hashlib'))\n"
        "import ssl as again\n"
        "print(again.CERT_REQUIRED == sys.modules['ssl'].CERT_REQUIRED, callable(urllib.request.getproxies))\n"
        "try:\n"
        "    raise sys.modules['ssl'].SSLWantReadError()\n"
        "except ssl.SSLWantReadError:\n"
        "    print('caught')\n"
    )
    assert out.split("\n")[:4] == [
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "True True True",
        "True True",
        "caught",
    ]


def test_a_module_imported_already_is_not_deferred() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import ssl\nfrom assistant.ops.lazy_imports import defer\nprint(defer())"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "['hashlib', 'urllib.request']"


def test_paho_sets_up_tls_through_the_deferred_ssl() -> None:
    """The relay's TLS set-up (``client.tls_set`` with ``ssl.CERT_REQUIRED``, as
    ``link.connection`` calls it) works when ``ssl`` was deferred: the context is the real one."""
    out = _run(
        "import ssl\n"
        "import paho.mqtt.client as mqtt\n"
        "client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)\n"
        "assert not loaded('ssl')\n"
        "client.tls_set(cert_reqs=ssl.CERT_REQUIRED)\n"
        "context = client._ssl_context\n"
        "print(loaded('ssl'), isinstance(context, sys.modules['ssl'].SSLContext), context.verify_mode == ssl.CERT_REQUIRED)\n"
    )
    assert out.strip() == "True True True"


def test_an_english_understander_never_loads_pypinyin() -> None:
    """pypinyin's dictionaries cost an English daemon ~55 MB of RSS (round 12 had made the Mandarin
    sound table at import): built on first Mandarin use only; a Mandarin line still loads it."""
    out = _run(
        "import assistant.daemon, assistant.pipeline\n"
        "from assistant.understanding import normalize\n"
        "print(normalize.normalize('call my daughter please', 'en'), 'pypinyin' in sys.modules)\n"
        "print(normalize.sound_zh('雪压有点高'), 'pypinyin' in sys.modules)\n"
    )
    assert out.splitlines() == ["call my daughter please False", "血压有点高 True"]
