"""Fuzz (hypothesis): config loading never raises, and what it accepts ``run`` can use.

Valid configs are mutated leaf by leaf (random text with lone surrogates and control
characters, numbers, NaN, lists, nesting) and written as YAML (JSON is YAML 1.2, so
``"\\ud800"`` escapes reach the loader as they would from a caregiver's file); raw bytes cover
the reader. Properties: ``load_with_problems`` returns instead of raising; every problem prints as
UTF-8 with a line number or none; accepted settings hold no string that cannot be stored,
printed or sent, and a broker URL the relay can parse.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.link.protocol import parse_url
from assistant.ops import config
from assistant.ops.config_problems import unsafe_character

TEMPLATE: dict[str, Any] = {
    "person": {"name": "Margaret Lee", "address_as": "Margaret", "language": "en"},
    "doctor": {"name": "Dr. Chen", "phone": "+1 555 0100", "aliases": ["my GP"]},
    "contacts": [{"name": "Anna", "relation": "daughter", "phone": "+1 555 0101", "emergency": True}],
    "medications": [
        {"name": "amlodipine", "aliases": ["blood pressure pills"], "times": ["08:00"], "pack_size": 28}
    ],
    "voice": {"rate_wpm": 130, "volume": 1.0, "wake_phrase": ""},
    "quiet_hours": {"start": "22:00", "end": "07:00"},
    "backend": {"url": "mqtt://127.0.0.1:1883", "device_id": "margaret-home", "tls": {"ca_file": ""}},
    "phone_fallback": {"enabled": True, "driver": "log", "ring_timeout_s": 45},
    "dialogue": {"emergency_cancel_s": 5, "answer_timeout_s": 8},
    "state_dir": "state",
}

ANY_CHAR = st.characters(blacklist_categories=())  # includes lone surrogates (Cs) and controls
scalars = st.one_of(
    st.text(ANY_CHAR, max_size=24),
    st.sampled_from(["mqtt://[::1", "mqtts://h:99999", "mqtt://h/x", "backend-0", "", "25:00", "8:30", "."]),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(ANY_CHAR, max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _leaves(node: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))] + [path]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))] + [path]
    return [path]


LEAVES = [p for p in _leaves(TEMPLATE) if p]


def _set(tree: Any, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        tree = tree[key]
    tree[path[-1]] = value


@st.composite
def mutated_configs(draw: st.DrawFn) -> str:
    tree = json.loads(json.dumps(TEMPLATE))
    for path in draw(st.lists(st.sampled_from(LEAVES), max_size=4, unique=True)):
        try:
            _set(tree, path, draw(values))
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation replaced the parent
    if draw(st.booleans()):
        tree[draw(st.text(ANY_CHAR, max_size=10))] = draw(values)
    return json.dumps(tree, allow_nan=True)  # ensure_ascii: surrogates become \\udXXX escapes


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value):
        return [s for f in dataclasses.fields(value) for s in _strings(getattr(value, f.name))]
    if isinstance(value, tuple):
        return [s for item in value for s in _strings(item)]
    return []


def _check(path: Path) -> None:
    loaded, problems = config.load_with_problems(path)
    for problem in problems:
        str(problem).encode("utf-8")  # never a lone surrogate on the terminal
        assert problem.line is None or problem.line >= 1
    if loaded is None:
        assert problems
        return
    assert not problems
    for text in _strings(loaded):
        assert not unsafe_character(text), repr(text)
    if loaded.backend.url:
        parse_url(loaded.backend.url)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(mutated_configs())
def test_mutated_configs_never_raise(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_text(text, encoding="utf-8")
        _check(path)


@FUZZ
@given(
    st.binary(max_size=400)
    | st.text(ANY_CHAR, max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_bytes(data)
        _check(path)


@FUZZ
@given(st.integers(min_value=1, max_value=60), st.sampled_from("[{"))
def test_deep_nesting_is_a_problem_not_a_crash(depth: int, bracket: str) -> None:
    closing = {"[": "]", "{": "}"}[bracket]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_text("person: " + bracket * depth + closing * depth + "\n", encoding="utf-8")
        _check(path)


def test_very_deep_nesting_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("person:\n  name: " + "[" * 400_000 + "\n", encoding="utf-8")
    started = time.monotonic()
    _settings, problems = config.load_with_problems(path)
    assert time.monotonic() - started < 5.0
    assert [(p.line, p.message) for p in problems] == [(2, "the file is nested far too deeply")]


def test_groups_as_keys_are_refused_at_once(tmp_path: Path) -> None:
    """ruamel.yaml hashes complex keys recursively: 14 levels took minutes before the check."""
    path = tmp_path / "config.yaml"
    for text in (
        "person: " + "{" * 14 + "}" * 14 + "\n",
        "person:\n" + "".join("  " * (i + 1) + "? \n" for i in range(14)),
    ):
        path.write_text(text, encoding="utf-8")
        started = time.monotonic()
        _settings, problems = config.load_with_problems(path)
        assert time.monotonic() - started < 2.0
        assert [p.message for p in problems] == ["a list or a group of keys is used as a key"]
