"""``--tune module.CONSTANT=value`` for the bench scripts: set a constant of a module of
``assistant`` in this process (tuning runs only: the daemon uses the values in the code)."""

from __future__ import annotations

import ast
import importlib


def apply_tuning(tunes: list[str]) -> str:
    """Set each ``module.CONSTANT=value`` (``hearing.grammar.CHATTER_WEIGHT``,
    ``understanding.train.SVC_C``; the value a Python literal); returns a tag naming the tuning for
    cache file names ("" without any)."""
    for item in tunes:
        key, _, raw = item.partition("=")
        module_name, name = key.rsplit(".", 1)
        module = importlib.import_module(f"assistant.{module_name}")
        if not hasattr(module, name):
            raise SystemExit(f"no {name} in assistant.{module_name}")
        setattr(module, name, ast.literal_eval(raw))
    return "".join("-" + "".join(c if c.isalnum() or c in "._=" else "_" for c in t) for t in tunes)
