"""Recognizer grammars compiled from the intent catalog and the caregiver's config, *as spoken*.

The catalog templates (``(call|phone|ring) {contact}``) are kept as structure, not flattened:
one rule per slot (catalog values, or contacts/relations/aliases, the doctor, medications from
the config), one rule per intent (its templates as alternatives), and a ``<command>`` rule that
takes any intent, with optional politeness fillers before and after ("could you …  please").
Unlike the matcher's phrases nothing is normalised away: optional determiners ("a", "the", "my")
may precede slots and content words, because people say them.

Outputs:

* :meth:`SpokenGrammar.jsgf` — JSGF for pocketsphinx (compiled to a compact FSG), with an
  optional weighted *chatter* loop so out-of-scope speech has a path other than a command;
* :meth:`SpokenGrammar.accepts` — the complete-phrase check ("only complete phrases count");
* :meth:`SpokenGrammar.sample_phrases` — a bounded phrase list for vosk (word-list grammars),
  sampled so that every intent and every slot value appears.

Words a recognizer does not know are removed with :meth:`SpokenGrammar.pruned` (the alternative
that uses them is dropped, counted, logged once); a rule left with nothing is dropped with it.
``reject: true`` intents are part of the grammar (they parse, and the matcher maps them to no
intent), so "play some music" is not forced onto a real command.
"""

from __future__ import annotations

import itertools
import logging
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, Literal

from assistant.hearing.grammar_nodes import (
    Choice,
    Node,
    Ref,
    Seq,
    Tag,
    Word,
    WordNfa,
    codeterministic,
    cover_paths,
    jsgf_expr,
    minimal_dfa,
    node_words,
    prune,
    random_path,
    refs,
)

if TYPE_CHECKING:
    from assistant.ops.settings import Settings
    from assistant.understanding.catalog import Catalog, Template

_LOGGER = logging.getLogger(__name__)

DETERMINERS_EN: Final = ("a", "an", "the", "my", "some")
"""Optional before slots and content words in English (the matcher removes them again)."""
POST_FILLERS_EN: Final = ("please", "thank you", "thanks", "for me", "now", "right now", "then")
COMMAND_PRE_FILLERS_EN: Final = ("please", "oh", "well", "now", "um")
"""``fillers="short"``: the few one-word politeness and hesitation openers allowed before any
English command ("please ring my daughter", "oh what is the time"), instead of the catalog's
whole filler list (``fillers=True``: "would you be able to", "is it possible to", …, which made
the command search slower and less accurate, round 2 of docs/benchmarks/speech.md)."""
COMMAND_POST_FILLERS_EN: Final = ("please", "for me", "thank you", "thanks", "now")
"""``fillers="short"``: what may follow any English command ("ring annie for me", "louder please")."""
FUNCTION_WORDS_EN: Final = frozenset(
    """a an the my some your his her our their this that these those it its them they he she we
    you i me is am are was were be been being do does did have has had will would can could
    shall should may might must to of for with on in at by from up down off out about as and or
    but if so not no never nor what which when who whom whose where why how again once more
    very really quite too just all both each any lot bit little few many much please now then
    there here ago yet still also only even well""".split()
)
"""Words that never take a determiner in front (the rest of a template's words may)."""
CHATTER_WORDS_EN: Final = tuple(
    """the a and to of in is it you that he was for on are with as his they be at one have this
    from or had by word but what some we can out other were all there when up use your how said
    an each she which do their time if will way about many then them write would like so these
    her long make thing see him two has look more day could go come did number sound no most
    people my over know water than call first who may down side been now find weather lovely
    today grandson coming sunday garden spring dinner friend house tea cup nice sunny rain
    children school television walk shop book dog cat bird tree flower morning night week
    year money car bus train town church""".split()
)
"""The garbage loop's words: common English words plus everyday topics (never matched to intents)."""
CHATTER_WEIGHT: Final = 0.02
"""Prior weight of the chatter path against 1.0 for a command (tuned on the tuning voices only)."""
FSG_CODETERMINISTIC: bool = False
"""Give pocketsphinx's grammar searches a non-deterministic automaton with the same sentences and
fewer states than the minimal DFA (:func:`grammar_nodes.codeterministic`: the minimal DFA of the
reversed sentences, turned round): pocketsphinx's ``fsg_history_end_frame`` walks every state × 42
phones every frame (28 % of decoding instructions, round 18). States (without the chatter loop)
command 1,157 → 1,025, wake 1,159 → 1,028, spot 1,243 → 1,098; transitions −20 / −11 / −9 %; no
empty moves. Off: more HMMs stay active (several states per prefix), +2 % decoding instructions,
command search CPU +8 % (docs/benchmarks/speech.md, round 18 — nfa18). Not with
``wake_tail`` (which extends the DFA's state after the wake phrase)."""
SPOT_WORDINGS_EN: Final = (
    "[please] help [me] [please]",
    "help (help|me help me|help help)",
    "(somebody|someone|anybody|anyone) [please] help [me] [please]",
    "(can|could) (somebody|someone|anybody|anyone) help [me]",
    "(i have|i've) (fallen|fallen over|fallen down|had a fall|collapsed|hurt myself|been hurt)",
    "i've {danger}",
    "i (can't|cannot|can not) (get up|stand up|move|breathe|get my breath|catch my breath)",
    "i (fell|have fallen|fell over|fell down) and i (can't|cannot|can not) (get up|move)",
    "i've fallen and i (can't|cannot|can not) (get up|move)",
    "i'm {danger}",
    "i'm (on the floor|bleeding|choking|dying|in pain|hurt|going to faint|going to pass out)",
    "i (think|feel like) i'm (dying|having a heart attack|having a stroke|going to faint)",
    "i'm having (chest pains|a heart attack|a stroke|a fall)",
    "(call|get|send|ring) [for] (an|the) ambulance [please]",
    "(call|get|send for|ring for) (an ambulance|help|a doctor) (quickly|now|please)",
    "i need (an ambulance|help now|help quickly|a doctor now)",
)
"""Extra ways people call for help that only the distress spotter's stage-1 search (``spot``)
knows: contractions ("i've fallen", "i can't get up"), determiners ("an ambulance"), "please" and
repeated "help". Catalog template syntax; ``{danger}`` is the catalog's slot. A sentence these
propose is still only a candidate until stage 2 (free transcription + the understander) confirms
it, so they widen what is proposed without acting on anything by themselves."""
SPOT_PRE_EN: Final = ("please", "help", "help me")
SPOT_POST_EN: Final = ("please", "help", "help me")
VOSK_PHRASE_LIMIT: Final = 1500
"""Most phrases in a vosk grammar list (vosk compiles the list into a graph per utterance)."""
_ABBREVIATIONS_EN: Final = {"dr": "doctor", "mr": "mister", "mrs": "missus", "ms": "miss", "st": "saint"}
_WORD_RE: Final = re.compile(r"[a-z']+|[0-9]+")
_HAN_RE: Final = re.compile(r"[\u3400-\u9fff]")
_SEP_EN: Final = " "


@dataclass(frozen=True)
class SpokenGrammar:
    """Rules (name → node) in dependency order; picklable and hashable (it travels to the
    recognizer's child process inside ``EngineSpec``)."""

    lang: str
    rules: tuple[tuple[str, Node], ...]
    intents: tuple[str, ...]
    """Intent ids that have a rule ``intent_<id>``, in catalog order (reject intents included)."""
    wake_phrase: str = ""
    chatter: tuple[str, ...] = ()
    """Garbage-loop words ("" = no chatter path)."""
    dropped: int = 0
    """Alternatives removed because a recognizer does not know one of their words."""
    spotted: tuple[str, ...] = ()
    """Intents heard without the wake phrase (the always-on distress spotter: the catalog's
    emergency-tier intents)."""
    spot_rules: tuple[tuple[str, Node], ...] = ()
    """The spotter's stage-1 search (mode ``spot``): rule name → the rule as that search has it
    (a spotted intent with :data:`SPOT_WORDINGS_EN`, determiners and fillers added); the other
    modes never see these."""

    # ---------------------------------------------------------------- views

    def rule(self, name: str) -> Node | None:
        return dict(self.rules).get(name)

    def words(self) -> set[str]:
        out: set[str] = set(self.wake_phrase.split()) | set(self.chatter)
        for _, node in (*self.rules, *self.spot_rules):
            out.update(node_words(node))
        return out

    # ---------------------------------------------------------------- pruning

    def pruned(self, known: Callable[[str], bool]) -> SpokenGrammar:
        """Drop every alternative that uses a word ``known`` rejects (counted, logged once)."""
        unknown = sorted(w for w in self.words() if not known(w))
        if not unknown:
            return self
        bad = frozenset(unknown)
        dead: set[str] = set()
        rules: list[tuple[str, Node]] = []
        dropped = 0
        for name, node in self.rules:
            kept, lost = prune(node, bad, dead)
            dropped += lost
            if kept is None:
                dead.add(name)
            else:
                rules.append((name, kept))
        spot_rules: list[tuple[str, Node]] = []
        for name, node in self.spot_rules:
            kept, lost = prune(node, bad, dead)
            if kept is not None:
                spot_rules.append((name, kept))
        live = {n for n, _ in rules}
        wake = self.wake_phrase if not set(self.wake_phrase.split()) & bad else ""
        _LOGGER.warning(
            "grammar: %d word(s) unknown to the recognizer; %d alternative(s) dropped%s",
            len(unknown),
            dropped,
            "; wake phrase unusable" if self.wake_phrase and not wake else "",
        )
        return replace(
            self,
            rules=tuple(rules),
            spot_rules=tuple((n, r) for n, r in spot_rules if n in live),
            intents=tuple(i for i in self.intents if f"intent_{i}" in live),
            spotted=tuple(i for i in self.spotted if f"intent_{i}" in live),
            wake_phrase=wake,
            chatter=tuple(w for w in self.chatter if w not in bad),
            dropped=self.dropped + dropped,
        )

    # ---------------------------------------------------------------- JSGF

    def jsgf(self, mode: str = "command", *, chatter: bool = True) -> str:
        """JSGF text with one public rule ``<mode>`` (``command`` or ``wake``)."""
        lines = ["#JSGF V1.0;", f"grammar jiayi_{mode};"]
        for name, node in self.rules:
            lines.append(f"<{name}> = {jsgf_expr(node) or '<NULL>'};")
        top = ["/1.0/ <command>"]
        if mode == "wake" and self.wake_phrase:
            top.insert(0, f"/1.0/ {self.wake_phrase} [ <command> ]")
        if chatter and self.chatter:
            lines.append(f"<chatter_word> = ( {' | '.join(self.chatter)} );")
            top.append(f"/{CHATTER_WEIGHT}/ <chatter_word>+")
        lines.append(f"public <top_{mode}> = {' | '.join(top)};")
        return "\n".join(lines) + "\n"

    # ---------------------------------------------------------------- FSG (word automaton)

    def fsg_transitions(
        self,
        mode: str = "command",
        *,
        chatter: bool = True,
        chatter_weight: float = CHATTER_WEIGHT,
        wake_tail: bool = False,
    ) -> tuple[int, int, list[Any]]:
        """(start, final, transitions) of a minimal deterministic word automaton for
        ``Decoder.create_fsg``: shared prefixes *and* suffixes, no null transitions except into
        the single final state. Much faster to search than the JSGF's FSG (which inlines every
        rule with null transitions: seconds per utterance with this catalog). ``chatter`` adds the
        garbage loop (entered with ``chatter_weight`` against 1.0 for a sentence); ``wake_tail``
        (wake search) also lets the wake phrase be followed by chatter instead of a command, so a
        command misheard in noise no longer costs the wake phrase itself."""
        start, accepting, edges = minimal_dfa(WordNfa(self._rules_for(mode), self._top(mode)))
        if mode == "command" or not self.wake_phrase:  # the automaton of <command>: keep it for accepts()
            _DFA_CACHE.setdefault(self, (start, frozenset(accepting), edges))
        if FSG_CODETERMINISTIC and not (wake_tail and mode == "wake"):
            start, sentence_end, arcs = codeterministic(start, accepting, edges)
            final = sentence_end  # no arcs out: the chatter loop ends there too
            trans: list[Any] = [(a, b, 1.0, w) for a, b, w in arcs]
            loop = 1 + max(b for _, b, _ in arcs)
            if chatter and self.chatter:
                for w in self.chatter:
                    trans.append((start, loop, chatter_weight, w))
                    trans.append((loop, loop, 1.0 / len(self.chatter), w))
                trans.append((loop, final, 1.0))
            return start, final, trans
        final = len(edges)
        trans = [(a, b, 1.0, w) for a, out in enumerate(edges) for w, b in out.items()]
        trans += [(a, final, 1.0) for a in accepting]
        if chatter and self.chatter:
            loop = final + 1
            for w in self.chatter:
                trans.append((start, loop, chatter_weight, w))
                trans.append((loop, loop, 1.0 / len(self.chatter), w))
            trans.append((loop, final, 1.0))
            if wake_tail and mode == "wake" and self.wake_phrase:
                state: int | None = start
                for word in self.wake_phrase.split():
                    state = edges[state].get(word) if state is not None else None
                if state is not None:  # the wake phrase, then anything (a command it missed)
                    tail = final + 2
                    for w in self.chatter:
                        trans.append((state, tail, chatter_weight, w))
                        trans.append((tail, tail, 1.0 / len(self.chatter), w))
                    trans.append((tail, final, 1.0))
        return start, final, trans

    def _top(self, mode: str) -> Node:
        if mode == "spot":
            mode = "wake"
        if mode == "wake" and self.wake_phrase:
            return Choice((Seq((Ref("wake"), Choice((Ref("command"),), optional=True))), Ref("command")))
        return Ref("command")

    def _rules_for(self, mode: str) -> dict[str, Node]:
        rules = dict(self.rules)
        if mode == "spot":
            rules.update(self.spot_rules)
            mode = "wake"
        if mode == "wake" and self.wake_phrase:
            rules["wake"] = Seq(tuple(Word(w) for w in self.wake_phrase.split()))
        return rules

    def nfa_for(self, top: Node) -> WordNfa:
        """The word automaton of ``top`` over these rules."""
        return WordNfa(dict(self.rules), top)

    # ---------------------------------------------------------------- reading a sentence back

    def parse(self, text: str, mode: str = "command") -> GrammarParse | None:
        """Intent and slots of a complete sentence, read off the path it takes through the
        grammar (None: not a complete sentence, e.g. chatter). Repeated words are different
        paths, so "a medium medium roast" keeps both slots.

        In ``wake`` and ``spot`` mode a sentence is the wake phrase then optionally a command,
        or a command: both readings are followed at once over the one command automaton (the
        wake phrase's words are walked here), which reads exactly as the automaton of the
        whole wake grammar did, in a third of its memory (round 13)."""
        words = text.split()
        if not words:
            return None
        start, accepting, by_word = self._reading_table(spot=mode == "spot")
        wake = self.wake_phrase.split() if mode in ("wake", "spot") and self.wake_phrase else []
        command: list[tuple[int, tuple[Tag, ...]]] = [(start, ())]
        woken: list[tuple[int, tuple[Tag, ...]]] = [(start, ())] if wake else []
        """The reading that starts with the wake phrase: the state is only used after it."""
        for index, word in enumerate(words):
            command = [(t, (*tags, tag)) for s, tags in command for tag, t in by_word[s].get(word, ())]
            if index < len(wake):
                woken = [(start, (*tags, _WAKE_TAG)) for _, tags in woken if word == wake[index]]
            else:
                woken = [(t, (*tags, tag)) for s, tags in woken for tag, t in by_word[s].get(word, ())]
            found = len(command) + len(woken)
            if not found or found > _MAX_PARSE_PATHS:
                return None
        ends = [tags for s, tags in command if s in accepting]
        ends += [tags for s, tags in woken if s in accepting or len(words) == len(wake)]
        readings = sorted({_reading(tags) for tags in ends})
        if not readings:
            return None
        woke, intent, slots = readings[0]
        return GrammarParse(intent or None, dict(slots), woke, ambiguous=len(readings) > 1)

    def _reading_table(self, *, spot: bool) -> tuple[int, frozenset[int], list[dict[str, tuple[Any, ...]]]]:
        """The tagged minimal automaton of ``<command>`` (with the spotter's wordings of its
        intent for ``spot``), grouped by word; built once per grammar."""
        key = (self, "spot" if spot else "command")
        automaton = _TAGGED_CACHE.get(key)
        if automaton is None:
            rules = self._rules_for("spot") if spot else dict(self.rules)
            start, accepting, edges = minimal_dfa(WordNfa(rules, Ref("command"), tagged=True))
            automaton = _TAGGED_CACHE[key] = (start, frozenset(accepting), _by_word(edges))
        return automaton

    # ---------------------------------------------------------------- complete-phrase check

    def accepts(self, text: str, mode: str = "command") -> bool:
        """Whether ``text`` (space-separated words) is a complete sentence of ``<command>``
        (or, in ``wake`` mode, the wake phrase optionally followed by one)."""
        words = text.split()
        if not words:
            return False
        if self._accepts(words):
            return True
        if mode == "wake" and self.wake_phrase:
            wake = self.wake_phrase.split()
            if words[: len(wake)] == wake:
                rest = words[len(wake) :]
                return not rest or self._accepts(rest)
        return False

    def _accepts(self, words: list[str]) -> bool:
        """``words`` is a complete sentence of ``<command>``, walked on its minimal automaton
        (the one :meth:`fsg_transitions` built for the command search, when it did: a tenth of
        the word NFA's memory)."""
        cached = _DFA_CACHE.get(self)
        if cached is None:
            start, accepting, edges = minimal_dfa(WordNfa(dict(self.rules), Ref("command")))
            cached = _DFA_CACHE[self] = (start, frozenset(accepting), edges)
        state: int | None = cached[0]
        edges = cached[2]
        for word in words:
            state = edges[state].get(word)
            if state is None:
                return False
        return state in cached[1]

    # ---------------------------------------------------------------- vosk

    def sample_phrases(self, limit: int = VOSK_PHRASE_LIMIT, *, seed: int = 0) -> list[str]:
        """A bounded list of complete sentences: every intent, every slot value and every
        template at least once (round-robin over intents), then random paths up to ``limit``."""
        rules = dict(self.rules)
        sep = "" if self.lang == "zh" else _SEP_EN
        out: dict[str, None] = {}

        def add(words: Iterable[str]) -> None:
            phrase = sep.join(w for w in words if w)
            if phrase and len(out) < limit:
                out.setdefault(phrase, None)

        # 1. the shortest path through every template of every intent, with each slot value
        per_intent: list[list[list[str]]] = []
        for intent in self.intents:
            node = rules[f"intent_{intent}"]
            options = node.options if isinstance(node, Choice) else (node,)
            per_intent.append([w for option in options for w in cover_paths(option, rules)])
        for paths in itertools.zip_longest(*per_intent):  # intents take turns: all appear
            for words in paths:
                if words is not None:
                    add(words)
        # 2. random paths, intents taking turns, until the limit
        rng = random.Random(seed)
        for _ in range(limit * 3):
            if len(out) >= limit:
                break
            intent = self.intents[rng.randrange(len(self.intents))] if self.intents else None
            if intent is None:
                break
            add(random_path(Ref(f"intent_{intent}"), rules, rng))
        return list(out)


_DFA_CACHE: dict[SpokenGrammar, tuple[int, frozenset[int], list[dict[Any, int]]]] = {}


_TAGGED_CACHE: dict[
    tuple[SpokenGrammar, str], tuple[int, frozenset[int], list[dict[str, tuple[Any, ...]]]]
] = {}
_WAKE_TAG: Final[Tag] = ("@wake", "", "")
"""The tag of the wake phrase's words (:class:`WordNfa` labels them so)."""
_MAX_PARSE_PATHS: Final = 1000
"""Paths followed at once while reading a sentence back (bounds a pathological grammar)."""


@dataclass(frozen=True)
class GrammarParse:
    """A decoded sentence read back through the grammar."""

    intent: str | None
    """The intent whose template the sentence follows (a ``reject`` intent's id included)."""
    slots: dict[str, str]
    """Slot name → canonical value (catalog value id, or the configured name)."""
    woke: bool = False
    """The sentence starts with the wake phrase."""
    ambiguous: bool = False
    """More than one reading (same words, different intent or slots); the first is given."""


def _by_word(edges: list[dict[Any, int]]) -> list[dict[str, tuple[Any, ...]]]:
    """Tagged edges grouped by word: state → word → ((tag, target), …); equal tags and pairs
    are one object (a third less memory than a list and a tuple per edge)."""
    shared: dict[Any, Any] = {}
    out: list[dict[str, tuple[Any, ...]]] = []
    for state_edges in edges:
        grouped: dict[str, list[Any]] = {}
        for (word, intent, slot, value), target in state_edges.items():
            tag = (intent, slot, value)
            tag = shared.setdefault(tag, tag)
            pair = shared.setdefault((tag, target), (tag, target))
            grouped.setdefault(word, []).append(pair)
        out.append({word: tuple(pairs) for word, pairs in grouped.items()})
    return out


def _reading(tags: Iterable[Tag]) -> tuple[bool, str, tuple[tuple[str, str], ...]]:
    woke = False
    intent = ""
    slots: list[tuple[str, str]] = []
    for tag_intent, slot, value in tags:
        if tag_intent == "@wake":
            woke = True
        elif tag_intent and not intent:
            intent = tag_intent
        if slot and value:
            slots.append((slot, value))
    return woke, intent, tuple(slots)


# ----------------------------------------------------------------------------- compiling


def spoken_words(text: str, lang: str) -> list[str]:
    """Words of a config/catalog value as a recognizer spells them ("Dr. Chen" → doctor chen,
    "12 ounce" → twelve ounce: numbers are said, never read as digits)."""
    if lang == "zh":
        compact = "".join(text.split())
        return [compact] if compact else []
    from assistant.understanding.normalize import number_to_words  # compiling only (child's memory)

    words: list[str] = []
    for word in _WORD_RE.findall(text.lower().replace("’", "'")):
        if word.isdigit():
            words.extend(number_to_words(int(word)).split())
        else:
            words.append(_ABBREVIATIONS_EN.get(word, word))
    return words


def _words_node(text: str, lang: str, value: str = "") -> Node | None:
    """The words of ``text``; the last one carries ``value`` (see :attr:`Word.value`)."""
    words = spoken_words(text, lang)
    if not words:
        return None
    nodes = [Word(w) for w in words[:-1]] + [Word(words[-1], value)]
    return nodes[0] if len(nodes) == 1 else Seq(tuple(nodes))


def _choice(texts: Iterable[str | tuple[str, str]], lang: str) -> Choice | None:
    """One option per distinct text; ``(text, value)`` pairs tag the text with a slot value."""
    seen: dict[Node, None] = {}
    for item in texts:
        text, value = (item, "") if isinstance(item, str) else item
        node = _words_node(text, lang, value)
        if node is not None:
            seen.setdefault(node, None)
    return Choice(tuple(seen)) if seen else None


CONTACT_POSSESSIVE: Final = True
"""English: a contact's relation words are also spoken with "my" ("talk to my daughter"), as the
doctor slot's synonyms are ("my doctor"). Without them only "call my {contact}" could say "my
daughter", and the grammar forced "i want to talk to my daughter", "can i speak to my daughter",
"phone my daughter" … onto "… my doctor" (docs/benchmarks/speech.md, round 15). On since round 16,
with the second opinion's catalog part weighted per template (``langmodel.SECOND_OPINION_BY_TEMPLATE``):
alone it let that model prefer the fragment "tell my son" to "call my son" (round 16)."""


def slot_values(catalog: Catalog, name: str, settings: Settings | None) -> list[tuple[str, str]]:
    """(spoken text, canonical value) of a slot: catalog values by id, config names by the
    contact's, doctor's or medication's configured name (what the matcher fills slots with)."""
    slot = catalog.slots[name]
    texts = [(syn, value.id) for value in slot.values for syn in value.synonyms]
    if not slot.from_config or settings is None:
        return texts
    if slot.from_config == "doctor":
        doctor = settings.doctor
        texts += [(t, doctor.name) for t in (doctor.name, *doctor.aliases, *slot.synonyms)]
    elif slot.from_config == "contacts":
        for contact in settings.contacts:
            words = [contact.name, *contact.aliases]
            if contact.relation:
                related = [contact.relation, *slot.relations.get(contact.relation.strip().lower(), ())]
                words += related
                if CONTACT_POSSESSIVE and catalog.lang == "en":
                    words += [f"my {w}" for w in related]
            texts += [(t, contact.name) for t in words]
    elif slot.from_config == "medications":
        for med in settings.medications:
            texts += [(t, med.name) for t in (med.name, *med.aliases)]
    return texts


class _TemplateCompiler:
    def __init__(self, lang: str, determiners: tuple[str, ...]) -> None:
        self.lang = lang
        self.det = Choice(tuple(Word(d) for d in determiners), optional=True) if determiners else None

    def seq(self, items: Template) -> Node:
        from assistant.understanding.catalog import SlotRef, Words

        out: list[Node] = []
        prev = ""
        for item in items:
            if isinstance(item, Words):
                for word in self.literal_words(item.text):
                    if self._det_before(word, prev):
                        out.append(self.det)  # type: ignore[arg-type]
                    out.append(Word(word))
                    prev = word
            elif isinstance(item, SlotRef):
                if self._det_before("", prev):
                    out.append(self.det)  # type: ignore[arg-type]
                out.append(Ref(f"slot_{item.name}"))
                prev = "{slot}"
            else:
                options = tuple(self.seq(o) for o in item.options)
                out.append(Choice(options, item.optional))
                prev = ""
        return out[0] if len(out) == 1 else Seq(tuple(out))

    def literal_words(self, text: str) -> list[str]:
        if self.lang == "zh":
            compact = "".join(text.split())
            return [compact] if compact else []
        return spoken_words(text, self.lang)

    def _det_before(self, word: str, prev: str) -> bool:
        if self.det is None or prev in DETERMINERS_EN:
            return False
        return word == "" or word not in FUNCTION_WORDS_EN


def compile_grammar(
    catalog: Catalog,
    settings: Settings | None = None,
    *,
    include_reject: bool = True,
    chatter: bool = True,
    wake_phrase: str | None = None,
    determiners: bool = True,
    fillers: bool | Literal["short"] = True,
    spot_wordings: bool = True,
) -> SpokenGrammar:
    """Compile ``catalog`` (+ config names from ``settings``) into a :class:`SpokenGrammar`.
    ``fillers``: optional politeness words around every command — the catalog's fillers before
    and :data:`POST_FILLERS_EN` after (True), only :data:`COMMAND_PRE_FILLERS_EN` /
    :data:`COMMAND_POST_FILLERS_EN` (``"short"``, English; Mandarin gets none), or none (False)."""
    from assistant.understanding.catalog import parse_template

    lang = catalog.lang
    en = lang == "en"
    compiler = _TemplateCompiler(lang, DETERMINERS_EN if en and determiners else ())
    rules: list[tuple[str, Node]] = []
    for name in catalog.slots:
        choice = _choice(slot_values(catalog, name, settings), lang)
        if choice is not None:
            rules.append((f"slot_{name}", choice))
    slot_rules = {n for n, _ in rules}
    intents: list[str] = []
    for intent in catalog.intents.values():
        if intent.reject and not include_reject:
            continue
        options: list[Node] = []
        for template in intent.phrases:
            node = compiler.seq(parse_template(template))
            if refs(node) <= slot_rules:  # a slot with no values (no contacts configured)
                options.append(node)
        if options:
            rules.append((f"intent_{intent.id}", Choice(tuple(dict.fromkeys(options)))))
            intents.append(intent.id)
    dets = set(DETERMINERS_EN) if en else set()
    pre: Choice | None = None
    post: Choice | None = None
    if fillers == "short":
        pre = _choice(COMMAND_PRE_FILLERS_EN, lang) if en else None
        post = _choice(COMMAND_POST_FILLERS_EN, lang) if en else None
    elif fillers:
        pre = _choice([f for f in catalog.fillers if f not in dets], lang)
        post = _choice(POST_FILLERS_EN if en else catalog.fillers, lang)
    command: list[Node] = []
    if pre is not None:
        rules.append(("pre_filler", pre))
        command.append(Choice((Ref("pre_filler"),), optional=True))
    command.append(Choice(tuple(Ref(f"intent_{i}") for i in intents)))
    if post is not None:
        rules.append(("post_filler", post))
        command.append(Choice((Ref("post_filler"),), optional=True))
    rules.append(("command", Seq(tuple(command))))
    if wake_phrase is None:
        wake_phrase = settings.voice.wake_phrase if settings is not None else ""
    wake = " ".join(spoken_words(wake_phrase, lang)) if wake_phrase else ""
    garbage: tuple[str, ...] = ()
    if chatter and en:
        garbage = tuple(dict.fromkeys(CHATTER_WORDS_EN))
    spotted = tuple(i for i in intents if catalog.tier(i) == "emergency")
    spot_rules = _spot_rules(catalog, rules, spotted) if en and spot_wordings else ()
    return SpokenGrammar(
        lang, tuple(rules), tuple(intents), wake, garbage, spotted=spotted, spot_rules=spot_rules
    )


def _spot_rules(
    catalog: Catalog, rules: list[tuple[str, Node]], spotted: tuple[str, ...]
) -> tuple[tuple[str, Node], ...]:
    """The first spotted intent's rule as the spotter's stage-1 search has it: its templates
    plus :data:`SPOT_WORDINGS_EN`, with optional fillers around (no optional determiners before
    every word: on the tuning set they let nearly every harmless sentence become a candidate)."""
    from assistant.understanding.catalog import parse_template

    if not spotted:
        return ()
    compiler = _TemplateCompiler("en", ())
    slot_rules = {n for n, _ in rules if n.startswith("slot_")}
    intent = catalog.intents[spotted[0]]
    options: list[Node] = []
    from assistant.hearing import spotter

    extra = spotter.SPOT_EXTRA_WORDINGS_EN if spotter.SPOT_EXTRA_WORDINGS else ()
    for template in (*intent.phrases, *SPOT_WORDINGS_EN, *extra):
        node = compiler.seq(parse_template(template))
        if refs(node) <= slot_rules:
            options.append(node)
    pre = _choice(SPOT_PRE_EN, "en")
    post = _choice(SPOT_POST_EN, "en")
    assert pre is not None and post is not None
    body = Seq(
        (
            Choice(pre.options, optional=True),
            Choice(tuple(dict.fromkeys(options))),
            Choice(post.options, optional=True),
        )
    )
    return ((f"intent_{spotted[0]}", body),)
