"""Word-level grammar nodes (words, rule references, sequences, choices) and what is built from them:
JSGF expressions, pruning of unknown words, covering and random paths (vosk phrase lists), and a
word automaton (NFA, then a minimal DFA for pocketsphinx's FSG and the complete-phrase check).

:mod:`assistant.hearing.grammar` compiles the catalog into these nodes; nothing here knows the catalog.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# ----------------------------------------------------------------------------- nodes


@dataclass(frozen=True)
class Word:
    text: str
    value: str = ""
    """On the last word of a slot value's words: the value it stands for (a catalog value id or a
    config name), so a decoded path can be read back to slots (:class:`WordNfa` ``tagged``)."""


@dataclass(frozen=True)
class Ref:
    rule: str


@dataclass(frozen=True)
class Seq:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Choice:
    options: tuple[Any, ...]
    optional: bool = False


Node = Word | Ref | Seq | Choice


# ----------------------------------------------------------------------------- walking nodes


def refs(node: Node) -> set[str]:
    """Names of the rules ``node`` refers to."""
    return _leaves(node, lambda leaf: {leaf.rule} if isinstance(leaf, Ref) else set())


def node_words(node: Node) -> set[str]:
    """The words ``node`` can say (not following references)."""
    return _leaves(node, lambda leaf: {leaf.text} if isinstance(leaf, Word) else set())


def _leaves(node: Node, pick: Callable[[Word | Ref], set[str]]) -> set[str]:
    if isinstance(node, Seq):
        return set().union(*(_leaves(i, pick) for i in node.items))
    if isinstance(node, Choice):
        return set().union(*(_leaves(o, pick) for o in node.options))
    return pick(node)


def prune(node: Node, bad: frozenset[str], dead: set[str]) -> tuple[Node | None, int]:
    """(node without alternatives using ``bad`` words or ``dead`` rules or None, alternatives lost)."""
    if isinstance(node, Word):
        return (None, 0) if node.text in bad else (node, 0)
    if isinstance(node, Ref):
        return (None, 0) if node.rule in dead else (node, 0)
    if isinstance(node, Seq):
        items, lost = [], 0
        for item in node.items:
            kept, n = prune(item, bad, dead)
            lost += n
            if kept is None:
                return None, lost
            items.append(kept)
        return Seq(tuple(items)), lost
    options, lost = [], 0
    for option in node.options:
        kept, n = prune(option, bad, dead)
        lost += n
        if kept is None:
            lost += 1
        else:
            options.append(kept)
    if not options:
        return (Choice((), optional=True) if node.optional else None), lost
    return Choice(tuple(options), node.optional), lost


def jsgf_expr(node: Node) -> str:
    if isinstance(node, Word):
        return node.text
    if isinstance(node, Ref):
        return f"<{node.rule}>"
    if isinstance(node, Seq):
        parts = [p for p in (jsgf_expr(i) for i in node.items) if p]
        return " ".join(parts)
    rendered = [jsgf_expr(o) for o in node.options]
    parts = list(dict.fromkeys(p for p in rendered if p))
    if not parts:
        return ""
    body = " | ".join(parts)
    if node.optional or len(parts) < len(rendered):  # an empty option makes the choice optional
        return f"[ {body} ]"
    return f"( {body} )" if len(parts) > 1 else body


def cover_paths(node: Node, rules: dict[str, Node]) -> Iterator[list[str]]:
    """Paths that together use every option of the outermost choices/slots once (short forms:
    optional parts left out except when they are the option being covered)."""
    variants = _variants(node, rules)
    width = max((len(v) for v in variants), default=0)
    for k in range(max(1, width)):
        words: list[str] = []
        for options in variants:
            if options:
                words.extend(options[min(k, len(options) - 1)])
        yield words


def _variants(node: Node, rules: dict[str, Node]) -> list[list[list[str]]]:
    """Per position of a sequence: the word lists its options expand to (shortest first)."""
    items = node.items if isinstance(node, Seq) else (node,)
    out: list[list[list[str]]] = []
    for item in items:
        if isinstance(item, Word):
            out.append([[item.text]])
        elif isinstance(item, Ref):
            target = rules[item.rule]
            opts = target.options if isinstance(target, Choice) else (target,)
            out.append([_shortest(o, rules) for o in opts])
        elif isinstance(item, Choice):
            if item.optional:
                out.append([[]])
            else:
                out.append([_shortest(o, rules) for o in item.options])
        else:
            out.append([_shortest(item, rules)])
    return out


def _shortest(node: Node, rules: dict[str, Node]) -> list[str]:
    if isinstance(node, Word):
        return [node.text]
    if isinstance(node, Ref):
        return _shortest(rules[node.rule], rules)
    if isinstance(node, Seq):
        return list(itertools.chain.from_iterable(_shortest(i, rules) for i in node.items))
    if node.optional or not node.options:
        return []
    return min((_shortest(o, rules) for o in node.options), key=len)


def random_path(node: Node, rules: dict[str, Node], rng: random.Random) -> list[str]:
    if isinstance(node, Word):
        return [node.text]
    if isinstance(node, Ref):
        return random_path(rules[node.rule], rules, rng)
    if isinstance(node, Seq):
        return list(itertools.chain.from_iterable(random_path(i, rules, rng) for i in node.items))
    if not node.options or (node.optional and rng.random() < 0.6):
        return []
    return random_path(node.options[rng.randrange(len(node.options))], rules, rng)


def minimal_dfa(nfa: WordNfa) -> tuple[int, list[int], list[dict[Label, int]]]:
    """Subset construction, then merging of equivalent states (the language is finite, so the
    automaton is acyclic and states merge bottom-up by (accepting, outgoing edges)).

    Memory: a subset is known by the sorted tuple of its NFA states (a frozenset costs several
    times more); the frozenset itself lives only until that subset has been expanded, and is
    walked in the same order as always, so the automaton is exactly the same."""
    subsets: dict[tuple[int, ...], int] = {}
    edges: list[dict[Label, int]] = []
    accepting: list[bool] = []
    start_set = frozenset(nfa.closure({nfa.start}))
    stack = [(start_set, 0)]
    subsets[tuple(sorted(start_set))] = 0
    edges.append({})
    accepting.append(nfa.final in start_set)
    while stack:
        current, index = stack.pop()
        out: dict[Label, set[int]] = {}
        for state in current:
            for word, targets in nfa.edges[state].items():
                out.setdefault(word, set()).update(targets)
        for word, targets in out.items():
            target = frozenset(nfa.closure(set(targets)))
            key = tuple(sorted(target))
            found = subsets.get(key)
            if found is None:
                found = subsets[key] = len(edges)
                edges.append({})
                accepting.append(nfa.final in target)
                stack.append((target, found))
            edges[index][word] = found
    del subsets
    register: dict[tuple[bool, tuple[tuple[Label, int], ...]], int] = {}
    canon: dict[int, int] = {}
    merged_edges: list[dict[Label, int]] = []
    merged_accepting: list[int] = []

    def visit(state: int) -> int:
        done = canon.get(state)
        if done is not None:
            return done
        out = tuple(sorted((w, visit(t)) for w, t in edges[state].items()))
        key = (accepting[state], out)
        found = register.get(key)
        if found is None:
            found = len(merged_edges)
            register[key] = found
            merged_edges.append(dict(out))
            if accepting[state]:
                merged_accepting.append(found)
        canon[state] = found
        return found

    start = visit(0)
    return start, merged_accepting, merged_edges


Label = Any
"""An automaton arc's label: a word, or with ``tagged`` a :data:`Tag`-carrying tuple."""
Tag = tuple[str, str, str]
"""(intent, slot, value) of a tagged arc: the intent rule it is inside, the slot rule and the
value a slot's last word completes ("" where none)."""


class WordNfa:
    """Word-level NFA (Thompson construction) of a rule, for the complete-phrase check.

    ``tagged``: every arc is labelled ``(word, intent, slot, value)`` instead of the bare word
    (intent from the enclosing ``intent_<id>`` rule or ``@wake`` for the wake phrase, slot from
    the enclosing ``slot_<name>`` rule, value from :attr:`Word.value`), so the minimal automaton
    over these labels reads a decoded sentence back to its intent and slots."""

    def __init__(self, rules: dict[str, Node], top: Node, *, tagged: bool = False) -> None:
        self._rules = rules
        self._tagged = tagged
        self._eps: list[list[int]] = []
        self.edges: list[dict[Label, list[int]]] = []
        self.start = self._new()
        self.final = self._build(top, self.start, ("", ""))

    def _new(self) -> int:
        self._eps.append([])
        self.edges.append({})
        return len(self._eps) - 1

    def _build(self, node: Node, start: int, ctx: tuple[str, str]) -> int:
        if isinstance(node, Word):
            end = self._new()
            label: Label = (node.text, *ctx, node.value) if self._tagged else node.text
            self.edges[start].setdefault(label, []).append(end)
            return end
        if isinstance(node, Ref):
            target = self._rules.get(node.rule)
            if target is None:
                return self._new()  # unreachable end: a dropped rule accepts nothing
            kind, _, name = node.rule.partition("_")
            if kind == "intent":
                ctx = (name, "")
            elif kind == "slot":
                ctx = (ctx[0], name)
            elif kind == "wake":
                ctx = ("@wake", "")
            return self._build(target, start, ctx)
        if isinstance(node, Seq):
            state = start
            for item in node.items:
                state = self._build(item, state, ctx)
            return state
        end = self._new()
        for option in node.options:
            self._eps[self._build(option, start, ctx)].append(end)
        if node.optional or not node.options:
            self._eps[start].append(end)
        return end

    def closure(self, states: set[int]) -> set[int]:
        stack = list(states)
        while stack:
            for nxt in self._eps[stack.pop()]:
                if nxt not in states:
                    states.add(nxt)
                    stack.append(nxt)
        return states

    def accepts(self, words: list[str]) -> bool:
        states = self.closure({self.start})
        for word in words:
            nxt = {t for s in states for t in self.edges[s].get(word, ())}
            if not nxt:
                return False
            states = self.closure(nxt)
        return self.final in states


class _Reversed:
    """A DFA with its arcs turned round (start: a new state with empty moves into the DFA's
    accepting states; final: the DFA's start), for :func:`minimal_dfa`."""

    closure = WordNfa.closure

    def __init__(self, start: int, accepting: list[int], edges: list[dict[Label, int]]) -> None:
        n = len(edges)
        self._eps: list[list[int]] = [[] for _ in range(n + 1)]
        self.edges: list[dict[Label, list[int]]] = [{} for _ in range(n + 1)]
        for a, out in enumerate(edges):
            for word, b in out.items():
                self.edges[b].setdefault(word, []).append(a)
        self.start = n
        self._eps[n] = list(accepting)
        self.final = start


def codeterministic(
    start: int, accepting: list[int], edges: list[dict[Label, int]]
) -> tuple[int, int, list[tuple[int, int, Label]]]:
    """(start, final, arcs) of a word automaton with the same sentences as the minimal DFA
    ``(start, accepting, edges)`` and fewer states: the minimal DFA of the *reversed* sentences,
    turned round (one step of Brzozowski's construction), so it shares suffixes as a minimal DFA
    does and prefixes as far as a non-deterministic automaton can. Its several start states (the
    reversed automaton's accepting ones) become one new start state holding all their arcs, so
    there are no empty moves; states only those start states reached are dropped. One final
    state, with no arcs out (a finite language's reversed start has none in). Arcs ``(from, to,
    word)``, in a fixed order. Used for pocketsphinx's FSG (:data:`grammar.FSG_CODETERMINISTIC`):
    its per-frame bookkeeping is proportional to the number of states."""
    rstart, raccepting, redges = minimal_dfa(_Reversed(start, accepting, edges))
    if rstart in raccepting:
        raise ValueError("the empty sentence: not supported")
    arcs_out: list[list[tuple[Label, int]]] = [[] for _ in range(len(redges))]
    for a, out in enumerate(redges):
        for word, b in out.items():
            arcs_out[b].append((word, a))
    first = [*dict.fromkeys(arc for s in sorted(raccepting) for arc in arcs_out[s])]
    new_start = len(redges)
    arcs_out.append(first)
    order = {new_start: 0}
    stack = [new_start]
    while stack:
        state = stack.pop()
        for _, target in arcs_out[state]:
            if target not in order:
                order[target] = len(order)
                stack.append(target)
    arcs = [(order[s], order[t], w) for s in order for w, t in arcs_out[s]]
    return 0, order[rstart], arcs
