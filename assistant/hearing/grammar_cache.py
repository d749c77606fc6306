"""Caches of the grammar's automata in the state dir's ``models/``: the recognizer's FSG
transitions (:func:`cached_fsg_transitions`) and the tables sentences are read back with
(:func:`preload_reading_tables`). Building either leaves several MB of Python objects resident in
the process that built it; reading the file holds what is used alone (docs/benchmarks/speech.md,
Memory, round 15). Every cache holds exactly what building gives; the key is a hash of the
grammar, the options and the code that builds the automaton."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.hearing import grammar as grammar_module
from assistant.hearing import grammar_nodes
from assistant.ops.paths import sha256

if TYPE_CHECKING:
    from assistant.hearing.grammar import SpokenGrammar

_LOGGER = logging.getLogger(__name__)


def cached_fsg_transitions(
    grammar: SpokenGrammar, mode: str, cache_dir: str, **options: Any
) -> tuple[int, int, list[Any]]:
    """:meth:`SpokenGrammar.fsg_transitions` of ``grammar`` (``options`` as there), kept in
    ``cache_dir`` (the state dir's ``models/``; "" = built every time) under a hash of the
    grammar, the mode, the options and the code that builds the automaton: a later start of the
    recognizer reads the transitions instead of building the minimal automaton, whose Python
    objects cost that process about 6 MB of resident memory that stays (docs/benchmarks/speech.md,
    Memory). The same transitions, in the same order and with the same weights (JSON keeps a
    float's exact value); the command automaton that :meth:`SpokenGrammar.accepts` walks is
    rebuilt from them when it would have been kept."""
    if not cache_dir:
        return grammar.fsg_transitions(mode, **options)

    codet = grammar_module.FSG_CODETERMINISTIC
    digest = sha256(f"{mode} {sorted(options.items())!r} codeterministic={codet}\n{grammar!r}\n".encode())
    for module in (__file__, grammar_module.__file__, grammar_nodes.__file__):
        digest.update(Path(module).read_bytes())
    path = Path(cache_dir) / f"fsg-{mode}-{digest.hexdigest()[:16]}.json"
    try:
        start, final, rows = json.loads(path.read_text(encoding="utf-8"))
        transitions = [tuple(row) for row in rows]
        if not all(isinstance(n, int) for n in (start, final)) or any(
            len(row) not in (3, 4) or not all(isinstance(n, int) for n in row[:2]) for row in transitions
        ):
            raise ValueError(f"{path}: not FSG transitions")
    except (OSError, ValueError, TypeError):
        start, final, transitions = grammar.fsg_transitions(mode, **options)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps([start, final, transitions], separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            _LOGGER.warning("event=fsg_not_cached path=%s error=%s", path, err)
        return start, final, transitions
    del rows
    if codet and not (options.get("wake_tail") and mode == "wake"):
        return start, final, transitions  # not a DFA: accepts() builds its own when asked
    if (mode == "command" or not grammar.wake_phrase) and grammar not in grammar_module._DFA_CACHE:
        edges: list[dict[Any, int]] = [{} for _ in range(final)]
        accepting: set[int] = set()
        for row in transitions:
            if len(row) == 4 and row[0] < final and row[1] < final:
                edges[row[0]][row[3]] = row[1]
            elif len(row) == 3 and row[0] < final and row[1] == final:
                accepting.add(row[0])
        grammar_module._DFA_CACHE[grammar] = (start, frozenset(accepting), edges)
    return start, final, transitions


def preload_reading_tables(grammar: SpokenGrammar, cache_dir: str) -> None:
    """Read the tables :meth:`SpokenGrammar.parse` reads sentences back with (``command``, and
    ``spot`` when the grammar has spotter rules) from ``cache_dir`` (the state dir's
    ``models/``), or build them now and keep them there. Building one walks the tagged automaton
    (a peak of about three times the table in Python objects, which stays resident); reading it
    back holds the table alone: 5.7 → about 2 MB in each of the daemon and the recognizer
    (docs/benchmarks/speech.md, Memory). The same table, edge for edge in the same order."""
    if not cache_dir:
        return

    for spot in (False, True) if grammar.spot_rules else (False,):
        key = (grammar, "spot" if spot else "command")
        if key in grammar_module._TAGGED_CACHE:
            continue
        digest = sha256(f"reading {key[1]}\n{grammar!r}\n".encode())
        for module in (__file__, grammar_module.__file__, grammar_nodes.__file__):
            digest.update(Path(module).read_bytes())
        path = Path(cache_dir) / f"reading-{key[1]}-{digest.hexdigest()[:16]}.jsonl"
        try:
            with open(path, encoding="utf-8") as handle:
                start, accepting = json.loads(handle.readline())
                shared: dict[Any, Any] = {}
                table: list[dict[str, tuple[Any, ...]]] = []
                for line in handle:
                    grouped: dict[str, list[Any]] = {}
                    for word, intent, slot, value, target in json.loads(line):
                        tag = (sys.intern(intent), sys.intern(slot), sys.intern(value))
                        tag = shared.setdefault(tag, tag)
                        pair = shared.setdefault((tag, target), (tag, target))
                        grouped.setdefault(sys.intern(word), []).append(pair)
                    table.append({word: tuple(pairs) for word, pairs in grouped.items()})
            grammar_module._TAGGED_CACHE[key] = (start, frozenset(accepting), table)
            continue
        except (OSError, ValueError, TypeError):
            pass
        start, accepting, table = grammar._reading_table(spot=spot)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as out:
                out.write(json.dumps([start, sorted(accepting)]) + "\n")
                for state in table:
                    rows = [[w, *tag, target] for w, pairs in state.items() for tag, target in pairs]
                    out.write(json.dumps(rows, ensure_ascii=False, separators=(",", ":")) + "\n")
            os.replace(tmp, path)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            _LOGGER.warning("event=reading_table_not_cached path=%s error=%s", path, err)
