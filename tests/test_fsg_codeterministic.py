"""The grammar searches' smaller automaton (``grammar.FSG_CODETERMINISTIC``, off in the daemon;
``grammar_nodes.codeterministic``): the same sentences as the minimal DFA with fewer states, and a
spoken command decoded through the pipeline with it. Real catalog, real pocketsphinx, flite speech."""

from __future__ import annotations

import sys
import wave
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import speech  # noqa: E402
import speech_data as data  # noqa: E402

from assistant.hearing import grammar as grammar_module  # noqa: E402
from assistant.hearing import grammar_nodes as nodes  # noqa: E402
from assistant.hearing.grammar import compile_grammar  # noqa: E402
from assistant.ops.config import load_settings  # noqa: E402
from assistant.pipeline import DAEMON_GRAMMAR_OPTIONS, PipelineOptions, build_pipeline  # noqa: E402
from assistant.understanding.catalog import load_catalog  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


class _FromTransitions:
    """FSG transitions as an automaton :func:`grammar_nodes.minimal_dfa` reads."""

    closure = nodes.WordNfa.closure

    def __init__(self, start: int, final: int, transitions: list[Any]) -> None:
        n = 1 + max(max(t[0], t[1]) for t in transitions)
        self._eps: list[list[int]] = [[] for _ in range(n)]
        self.edges: list[dict[str, list[int]]] = [{} for _ in range(n)]
        for t in transitions:
            if len(t) == 3:
                self._eps[t[0]].append(t[1])
            else:
                self.edges[t[0]].setdefault(t[3], []).append(t[1])
        self.start, self.final = start, final
        self.states = n


def _same_language(a: tuple, b: tuple) -> bool:
    """Two minimal DFAs are the same automaton up to numbering (so the same sentences)."""
    (sa, acc_a, ea), (sb, acc_b, eb) = a, b
    acc_a, acc_b = set(acc_a), set(acc_b)
    mapping = {sa: sb}
    stack = [sa]
    while stack:
        x = stack.pop()
        y = mapping[x]
        if (x in acc_a) != (y in acc_b) or set(ea[x]) != set(eb[y]):
            return False
        for word, t in ea[x].items():
            if t in mapping:
                if mapping[t] != eb[y][word]:
                    return False
            else:
                mapping[t] = eb[y][word]
                stack.append(t)
    return len(mapping) == len(ea) == len(eb)


@pytest.fixture(scope="module")
def grammar():
    settings = load_settings(REPO / "config.yaml")
    built = compile_grammar(load_catalog("en"), settings, **DAEMON_GRAMMAR_OPTIONS)
    return replace(built, wake_phrase="hello doctor")


@pytest.mark.parametrize("mode", ["command", "wake", "spot"])
def test_same_sentences_fewer_states(grammar, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grammar_module, "FSG_CODETERMINISTIC", False)
    old = _FromTransitions(*grammar.fsg_transitions(mode, chatter=False))
    monkeypatch.setattr(grammar_module, "FSG_CODETERMINISTIC", True)
    start, final, transitions = grammar.fsg_transitions(mode, chatter=False)
    new = _FromTransitions(start, final, transitions)
    assert all(len(t) == 4 for t in transitions), "no empty moves"
    assert new.states < 0.92 * old.states
    assert _same_language(nodes.minimal_dfa(old), nodes.minimal_dfa(new))
    # the chatter loop is the same few arcs either way
    chatty = grammar.fsg_transitions(mode, chatter=True)[2]
    assert len(chatty) == len(transitions) + 2 * len(grammar.chatter) + 1


def test_a_changed_automaton_is_caught(grammar, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grammar_module, "FSG_CODETERMINISTIC", True)
    start, final, transitions = grammar.fsg_transitions("command", chatter=False)
    dropped = _FromTransitions(start, final, transitions[1:])
    full = _FromTransitions(start, final, transitions)
    assert not _same_language(nodes.minimal_dfa(full), nodes.minimal_dfa(dropped))


def test_a_spoken_command_through_the_pipeline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(grammar_module, "FSG_CODETERMINISTIC", True)
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path))
    settings = speech.settings_with(speech.FAMILY_CONFIG, [])
    recognizer = build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase="")).recognizer()
    for text, voice in (("call my doctor", "flite:slt"), ("what time is it", "flite:kal16")):
        with wave.open(str(data.spoken(text, voice, None, 0, seed=1)), "rb") as handle:
            pcm = handle.readframes(handle.getnframes())
        decoder = recognizer.begin("command")
        decoder.accept(pcm)
        heard = decoder.finish()
        assert heard.text == text
        assert recognizer.grammar.accepts(heard.text)
