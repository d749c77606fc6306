"""A small domain n-gram language model for pocketsphinx, trained on the catalog's sentences.

The approach Rhasspy used with pocketsphinx: expand the catalog grammar as spoken (every
sentence of every intent, weighted so that each intent counts the same; :func:`domain_sentences`),
count trigrams in pure Python, smooth them with interpolated Witten-Bell and write an ARPA file
that pocketsphinx decodes in LM mode. pocketsphinx ships no LM builder (only a reader/converter,
``NGramModel``), so the counts and probabilities are computed here.

Witten-Bell, interpolated and written in backoff form: for a history ``h`` seen ``c(h)`` times
with ``t(h)`` distinct followers, ``P(w|h) = (c(h, w) + t(h)·P(w|h')) / (c(h) + t(h))`` and the
backoff weight of ``h`` is ``t(h) / (c(h) + t(h))`` (the probabilities of every history sum to 1;
``tests/test_langmodel.py`` checks this). Unigrams are interpolated with a uniform floor over the
domain vocabulary only: the model is closed-vocabulary, so with a dictionary filtered to the same
words (:func:`filtered_dictionary`) pocketsphinx searches a few hundred words instead of 130,000.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import random
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from assistant.ops.paths import sha256

if TYPE_CHECKING:
    from assistant.hearing.grammar import SpokenGrammar

_LOGGER = logging.getLogger(__name__)

BOS: Final = "<s>"
EOS: Final = "</s>"
ORDER: Final = 3
SENTENCES_PER_INTENT: Final = 2000
"""Most sentences expanded per intent (a seeded random subset beyond that)."""
INTENT_WEIGHT: Final = 100.0
"""Total n-gram count each intent contributes (its sentences share it)."""
BACKOFF_SCALE: Final = 0.1
"""Multiplies Witten-Bell's count of distinct followers (1.0 = plain Witten-Bell; 0.1 (tuning voices) keeps more
mass on the catalog's own word sequences and less for backing off to unseen ones)."""
_LOG_ZERO: Final = -99.0


@dataclass(frozen=True)
class LanguageModel:
    """Trigram model in backoff form: ``probs[ngram]`` and ``backoffs[history]`` are log10."""

    vocabulary: tuple[str, ...]
    """Domain words (without ``<s>``/``</s>``), sorted."""
    probs: dict[tuple[str, ...], float]
    backoffs: dict[tuple[str, ...], float]
    sentences: int

    def log10_prob(self, word: str, history: Sequence[str] = ()) -> float:
        """log10 P(word | history) with backoff (history: up to the last two words)."""
        hist = tuple(history)[-(ORDER - 1) :] if ORDER > 1 else ()
        penalty = 0.0
        while True:
            gram = (*hist, word)
            if gram in self.probs:
                return penalty + self.probs[gram]
            if not hist:
                return _LOG_ZERO
            penalty += self.backoffs.get(hist, 0.0)
            hist = hist[1:]

    def counts(self) -> dict[int, int]:
        out: Counter[int] = Counter(len(g) for g in self.probs)
        return {n: out[n] for n in range(1, ORDER + 1)}

    def arpa(self) -> str:
        """The model as an ARPA text file (what ``NGramModel``/``add_lm_file`` read)."""
        by_order: dict[int, list[tuple[str, ...]]] = defaultdict(list)
        for gram in self.probs:
            by_order[len(gram)].append(gram)
        lines = ["\\data\\"]
        lines += [f"ngram {n}={len(by_order[n])}" for n in range(1, ORDER + 1)]
        for n in range(1, ORDER + 1):
            lines += ["", f"\\{n}-grams:"]
            for gram in sorted(by_order[n]):
                line = f"{self.probs[gram]:.6f}\t{' '.join(gram)}"
                if n < ORDER and gram in self.backoffs:
                    line += f"\t{self.backoffs[gram]:.6f}"
                lines.append(line)
        lines += ["", "\\end\\", ""]
        return "\n".join(lines)

    def write_arpa(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.arpa(), encoding="utf-8")
        return path


def cached_arpa(
    sentences: Sequence[tuple[str, float]] | Callable[[], Iterable[tuple[str, float]]],
    name: str,
    workdir: str,
    cache_dir: str = "",
) -> Path:
    """The ARPA file of :func:`train` (:data:`BACKOFF_SCALE`) on ``sentences`` (or on what the
    function ``sentences`` yields, called again only to train: the hash is taken as they are
    made, so a later start never holds them all; about 3 MB of the recognizer's resident memory
    for the second opinion's 13,600 sentences).

    With ``cache_dir`` (the state dir's ``models/``) the file is kept there under a hash of the
    sentences, their weights and this module's code, and a later start reads it instead of
    training: training in Python costs about 24 MB of peak memory in the recognizer's process
    for the second opinion's model (docs/benchmarks/speech.md, Memory), reading the file a few
    milliseconds. The file is the one training would write, byte for byte."""
    if cache_dir:
        digest = sha256(f"{name} {BACKOFF_SCALE!r} {ORDER}\n".encode())
        digest.update(Path(__file__).read_bytes())
        for sentence, weight in sentences() if callable(sentences) else sentences:
            digest.update(f"{sentence}\t{weight!r}\n".encode())
        path = Path(cache_dir) / f"lm-{name}-{digest.hexdigest()[:16]}.arpa"
        if path.exists():
            return path
    model = train(list(sentences()) if callable(sentences) else sentences, backoff_scale=BACKOFF_SCALE)
    if cache_dir:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(model.arpa())
            os.replace(tmp, path)  # readers never see half a file
            return path
        except OSError as err:
            _LOGGER.warning("event=language_model_not_cached path=%s error=%s", path, err)
    return model.write_arpa(Path(workdir) / f"{name}.arpa")


def train(
    sentences: Iterable[str | tuple[str, float]], *, backoff_scale: float = BACKOFF_SCALE
) -> LanguageModel:
    """Witten-Bell trigram model of ``sentences`` (space-separated words, or (sentence, weight)
    pairs: fractional counts; duplicates add up);
    ``backoff_scale`` (> 0) scales the mass set aside for unseen continuations."""
    grams: list[defaultdict[tuple[str, ...], float]] = [defaultdict(float) for _ in range(ORDER + 1)]
    n_sentences = 0
    for item in sentences:
        sentence, weight = (item, 1.0) if isinstance(item, str) else item
        words = sentence.split()
        if not words or weight <= 0:
            continue
        n_sentences += 1
        padded = [BOS, *words, EOS]
        for n in range(1, ORDER + 1):
            for i in range(len(padded) - n + 1):
                gram = tuple(padded[i : i + n])
                if gram[-1] == BOS:
                    continue
                grams[n][gram] += weight
    if not n_sentences:
        raise ValueError("no sentences to train a language model on")
    if backoff_scale <= 0:
        raise ValueError("backoff_scale must be positive")
    vocab = sorted({g[0] for g in grams[1] if g[0] not in (BOS, EOS)})
    # history statistics: c(h) = tokens following h, t(h) = distinct followers
    hist_count: list[defaultdict[tuple[str, ...], float]] = [defaultdict(float) for _ in range(ORDER + 1)]
    hist_types: list[defaultdict[tuple[str, ...], float]] = [defaultdict(float) for _ in range(ORDER + 1)]
    for n in range(2, ORDER + 1):
        for gram, c in grams[n].items():
            hist_count[n][gram[:-1]] += c
            hist_types[n][gram[:-1]] += backoff_scale
    probs: dict[tuple[str, ...], float] = {}
    linear: dict[tuple[str, ...], float] = {}
    # unigrams: Witten-Bell against a uniform floor over the domain vocabulary (+ </s>)
    targets = len(vocab) + 1
    total = sum(grams[1].values())
    types = len(grams[1])
    for gram, c in grams[1].items():
        linear[gram] = (c + types / targets) / (total + types)
    backoff_linear: dict[tuple[str, ...], float] = {}

    def lower(word: str, hist: tuple[str, ...]) -> float:
        """Interpolated P(word | hist) of an order below, from what is already computed."""
        weight = 1.0
        while True:
            gram = (*hist, word)
            if gram in linear:
                return weight * linear[gram]
            if not hist:
                return 0.0
            weight *= backoff_linear.get(hist, 1.0)
            hist = hist[1:]

    for n in range(2, ORDER + 1):
        for hist, c in hist_count[n].items():
            backoff_linear[hist] = hist_types[n][hist] / (c + hist_types[n][hist])
        for gram, c in grams[n].items():
            hist = gram[:-1]
            t = hist_types[n][hist]
            linear[gram] = (c + t * lower(gram[-1], hist[1:])) / (hist_count[n][hist] + t)
    for gram, p in linear.items():
        probs[gram] = math.log10(p)
    probs[(BOS,)] = _LOG_ZERO
    backoffs = {h: math.log10(w) for h, w in backoff_linear.items()}
    return LanguageModel(tuple(vocab), probs, backoffs, n_sentences)


def filtered_dictionary(
    dictionary: str | Path, words: Iterable[str], out: str | Path, *, compose: bool = False
) -> tuple[Path, list[str]]:
    """Write the pronunciation entries (with variants ``word(2)``) of ``words`` only; returns the
    file and the words the dictionary lacks. With ``compose``, a missing word gets a pronunciation
    put together from dictionary words (:func:`composed_pronunciation`) when it can."""
    wanted = set(words)
    parts: set[str] = set()
    if compose:
        for word in wanted:
            parts |= _part_candidates(word)
    found: set[str] = set()
    first: dict[str, str] = {}
    lines = []
    with open(dictionary, encoding="utf-8") as f:
        for line in f:
            head, _, phones = line.strip().partition(" ")
            base = head.split("(", 1)[0]
            if base in wanted:
                lines.append(line if line.endswith("\n") else line + "\n")
                found.add(base)
            if base in parts and base == head:
                first[base] = phones.strip()
    missing = sorted(wanted - found)
    if compose:
        still: list[str] = []
        for word in missing:
            phones = composed_pronunciation(word, first)
            if phones:
                lines.append(f"{word} {phones}\n")
            else:
                still.append(word)
        missing = still
    out = Path(out)
    out.write_text("".join(lines), encoding="utf-8")
    return out, missing


COMPOSE_MIN_PART: Final = 2
"""Shortest dictionary word a missing word may be split into (letters of an acronym aside)."""
COMPOSE_MAX_PARTS: Final = 4
_VOWEL_LETTERS: Final = frozenset("aeiouy")
_SIBILANTS: Final = frozenset({"S", "Z", "SH", "ZH", "CH", "JH"})
_VOICELESS: Final = frozenset({"P", "T", "K", "F", "TH"})


def _part_candidates(word: str) -> set[str]:
    """Every dictionary entry :func:`composed_pronunciation` may look up for ``word``."""
    base = word.removesuffix("'s")
    out = {base, *base, base[:-1]}
    out |= {base[i:j] for i in range(len(base)) for j in range(i + COMPOSE_MIN_PART, len(base) + 1)}
    return out


def composed_pronunciation(word: str, known: dict[str, str]) -> str:
    """A pronunciation for a word the dictionary lacks, from words it has (``known``: word →
    phones): a possessive (``ankle's`` = ankle + Z), an acronym of letters with no vowel (``gp`` =
    G P), a word + ``y`` (``chesty``), or a compound of up to :data:`COMPOSE_MAX_PARTS` dictionary
    words of two letters or more, fewest parts first (``stomachache``, ``metformin`` = met form
    in). "" when none of these works."""
    if word.endswith("'s") and len(word) > 2:
        base = known.get(word[:-2]) or composed_pronunciation(word[:-2], known)
        if not base:
            return ""
        last = base.split()[-1]
        ending = "IH Z" if last in _SIBILANTS else "S" if last in _VOICELESS else "Z"
        return f"{base} {ending}"
    if word.isalpha() and len(word) <= 4 and not set(word) & _VOWEL_LETTERS:
        letters = [known.get(ch, "") for ch in word]
        return " ".join(letters) if all(letters) else ""
    if word.endswith("y") and word[:-1] in known:
        return f"{known[word[:-1]]} IY"
    split = _fewest_parts(word, known)
    return " ".join(known[p] for p in split) if split else ""


def _fewest_parts(word: str, known: dict[str, str]) -> list[str]:
    best: list[str] = []

    def search(rest: str, parts: list[str]) -> None:
        nonlocal best
        if not rest:
            if not best or len(parts) < len(best):
                best = list(parts)
            return
        if len(parts) >= COMPOSE_MAX_PARTS or (best and len(parts) + 1 >= len(best)):
            return
        for end in range(len(rest), COMPOSE_MIN_PART - 1, -1):  # longest first part first
            head = rest[:end]
            if head in known and head != word:
                search(rest[end:], [*parts, head])

    search(word, [])
    return best


def _expand(node: Any, rules: dict[str, Any], cap: int, rng: random.Random) -> list[tuple[str, ...]]:
    """Every word sequence of a grammar node (a seeded random subset of ``cap`` when larger)."""
    from assistant.hearing.grammar_nodes import Choice, Ref, Word

    if isinstance(node, Word):
        return [(node.text,)] if node.text else [()]
    if isinstance(node, Ref):
        return _expand(rules[node.rule], rules, cap, rng)
    if isinstance(node, Choice):
        out: dict[tuple[str, ...], None] = dict.fromkeys([()] if node.optional or not node.options else [])
        for option in node.options:
            out.update(dict.fromkeys(_expand(option, rules, cap, rng)))
        paths = list(out)
        return paths if len(paths) <= cap else rng.sample(paths, cap)
    parts = [_expand(item, rules, cap, rng) for item in node.items]
    size = math.prod(len(p) for p in parts)
    if size <= cap:
        return [tuple(w for chunk in combo for w in chunk) for combo in itertools.product(*parts)]
    return list(
        dict.fromkeys(tuple(w for chunk in (rng.choice(p) for p in parts) for w in chunk) for _ in range(cap))
    )


SECOND_OPINION_BY_TEMPLATE: Final = True
"""The second opinion's catalog part weights each *template* of an intent equally (its sentences
share the template's part), not each sentence: otherwise a template with many expansions ("(ask|tell)
{contact} to (call|phone|ring) me [back]": 2 × 3 × 2 per contact word) outweighs a short one
("call my {contact}") by its combinatorics, not by how often people say it. With the contacts'
"my daughter" forms (``grammar.CONTACT_POSSESSIVE``) the sentence-weighted model preferred the
fragment "tell my son" to "call my son" (log10 −4.18 against −4.65) and so misheard a clear "call
my son" (flite slt) as "tell my son"; template-weighted: −4.33 against −4.30 (docs/benchmarks/speech.md,
round 16)."""


def domain_sentences(
    grammar: SpokenGrammar,
    per_intent: int = SENTENCES_PER_INTENT,
    *,
    wake_phrase: str = "",
    by_template: bool = False,
) -> list[tuple[str, float]]:
    """(sentence, weight) to train on: every sentence of each intent's rule (a seeded random subset
    of ``per_intent`` when larger), weighted so that each intent has the same total count (an
    intent with many slot values does not crowd out "yes"). ``by_template``: each of the intent's
    templates gets the same share of that count, split among its sentences (a subset of
    ``per_intent`` ÷ templates each; :data:`SECOND_OPINION_BY_TEMPLATE`). With a wake phrase: the
    wake phrase alone (the weight of one intent) and followed by each sentence, plus the plain
    sentences."""
    from assistant.hearing.grammar_nodes import Choice

    rules = dict(grammar.rules)
    rng = random.Random(0)
    sep = "" if grammar.lang == "zh" else " "
    out: list[tuple[str, float]] = []
    for intent in grammar.intents:
        rule = rules[f"intent_{intent}"]
        if not by_template or not isinstance(rule, Choice) or not rule.options:
            paths = [p for p in _expand(rule, rules, per_intent, rng) if p]
            weight = INTENT_WEIGHT / len(paths) if paths else 0.0
            out.extend((sep.join(p), weight) for p in paths)
            continue
        cap = max(1, per_intent // len(rule.options))
        weights: dict[str, float] = {}
        for option in rule.options:
            paths = [p for p in _expand(option, rules, cap, rng) if p]
            for p in paths:
                text = sep.join(p)
                weights[text] = weights.get(text, 0.0) + INTENT_WEIGHT / len(rule.options) / len(paths)
        out.extend(weights.items())
    if wake_phrase:
        out = [(wake_phrase, INTENT_WEIGHT), *((f"{wake_phrase} {t}", w) for t, w in out), *out]
    return out


# ------------------------------------------------------------------------------ the wider language

CORPUS_PLACEHOLDERS: Final = ("contact", "doctor", "medication")
"""``{slot}`` placeholders of the paraphrase corpus, filled with the grammar's spoken slot values."""
CORPUS_SENTENCE_WEIGHT: Final = 1.0
"""Count of one paraphrase sentence (the catalog's sentences add :data:`INTENT_WEIGHT` per intent)."""
_CORPUS_WORD: Final = re.compile(r"[a-z']+")


def corpus_sentences(
    grammar: SpokenGrammar, path: str | Path | None = None, *, seed: int = 0
) -> list[tuple[str, float]]:
    """(sentence, weight) of the paraphrase training corpus (``intents/training/paraphrases-<lang>.jsonl``:
    ~5,000 sentences in older people's everyday wording, out-of-scope ones included, written
    independently of the speech benchmarks), lower-cased, digits and punctuation dropped, each
    ``{contact}`` / ``{doctor}`` / ``{medication}`` filled with a seeded choice of the grammar's
    own spoken values for that slot (the caregiver's names). English only (Mandarin has no
    word-level recognizer here)."""
    import json

    from assistant import data

    if grammar.lang != "en":
        return []
    if path is None:
        path = data.intents_dir() / "training" / f"paraphrases-{grammar.lang}.jsonl"
    rules = dict(grammar.rules)
    rng = random.Random(seed)
    values: dict[str, list[str]] = {}
    for slot in CORPUS_PLACEHOLDERS:
        node = rules.get(f"slot_{slot}")
        paths = _expand(node, rules, SENTENCES_PER_INTENT, rng) if node is not None else []
        values[slot] = sorted(" ".join(p) for p in paths if p)
    out: list[tuple[str, float]] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            text = str(json.loads(line).get("text") or "").lower().replace("’", "'")
            filled = re.sub(
                r"\{(\w+)\}",
                lambda m: rng.choice(values.get(m.group(1)) or [""]),
                text,
            )
            words = _CORPUS_WORD.findall(filled)
            if words:
                out.append((" ".join(words), CORPUS_SENTENCE_WEIGHT))
    return out
