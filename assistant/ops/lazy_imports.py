"""Standard-library modules the daemon imports but seldom uses, loaded on first use.

``paho.mqtt.client`` imports ``hashlib`` (websocket handshakes), ``ssl`` (TLS, and the names in
its ``except`` clauses) and ``urllib.request`` (proxy settings, read only when PySocks is
installed); ``hashlib`` and ``ssl`` bring OpenSSL's libcrypto and libssl, ``urllib.request``
brings ``http.client`` and ``email``. Measured (docs/benchmarks/speech.md, round 16): about 6 MB of
the daemon's resident memory, for a connection to a broker without TLS that uses none of them.

:func:`defer` puts a stand-in module in their place: ``import ssl`` still works everywhere, and
the real module is imported at the first attribute read (a TLS context, an ``except
ssl.SSLError`` clause reached by an exception, a hash); from then on the stand-in hands every
attribute read on to it, so both give the very same objects. (Python 3.11's
:class:`importlib.util.LazyLoader` would not do: an ``import`` statement reads the module's
``__spec__``, which loads it.)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any, Final

DEFERRED_MODULES: Final = ("hashlib", "ssl", "urllib.request")
"""Modules :func:`defer` defers (empty = none: every import runs at once, as before)."""

_LOCK = threading.RLock()


class Deferred(types.ModuleType):
    """A module not imported yet: the first attribute it lacks imports the real one."""

    def __getattr__(self, attr: str) -> Any:
        real = self.__dict__.get("_deferred_real")
        if real is None:
            real = _load(self)
        return getattr(real, attr)


def _load(stand_in: Deferred) -> types.ModuleType:
    name = stand_in.__name__
    with _LOCK:
        real = stand_in.__dict__.get("_deferred_real")
        if real is None:
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]  # the import below must find and run the real module
            real = importlib.import_module(name)
            stand_in.__dict__["_deferred_real"] = real
    return real


def defer(names: tuple[str, ...] = DEFERRED_MODULES) -> list[str]:
    """Put a :class:`Deferred` stand-in in ``sys.modules`` for each of ``names`` not imported
    yet; returns those. Call it before anything imports them (the daemon's start)."""
    deferred: list[str] = []
    with _LOCK:
        for name in names:
            if name in sys.modules:
                continue
            spec = importlib.util.find_spec(name)
            if spec is None:
                continue
            stand_in = Deferred(name)
            stand_in.__spec__ = spec  # what an ``import`` statement reads (not ``_initializing``)
            stand_in.__file__ = spec.origin
            sys.modules[name] = stand_in
            parent, _, child = name.rpartition(".")
            if parent:
                setattr(sys.modules[parent], child, stand_in)  # ``import urllib.request`` binds ``urllib``
            deferred.append(name)
    return deferred


def loaded(name: str) -> bool:
    """``name`` has really been imported (not only deferred)."""
    module = sys.modules.get(name)
    return module is not None and not isinstance(module, Deferred)
