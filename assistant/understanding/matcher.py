"""Intent matcher: catalog + caregiver config compiled once into an index; ``match(text)`` per utterance.

Pipeline per utterance (the catalog phrases went through the same steps when the index was built):

1. normalise (:mod:`assistant.understanding.normalize`): case, punctuation, numbers, contractions; for Mandarin
   characters plus toneless pinyin, so homophones compare equal;
2. slot values: longest exact synonym match (pinyin for Mandarin), then fuzzy matching of config
   names (contacts, doctor, medications) to survive recogniser errors; each value becomes a
   ``#slot`` marker;
3. filler words removed (catalog ``fillers``);
4. rapidfuzz scores against every expanded catalog phrase whose slot markers the utterance has;
   a phrase is only eligible if it agrees on negation ("I don't need my pills" never matches
   "I need my pills");
5. best intent, confidence, margin to the runner-up intent; below the tier's threshold → no intent.
   A ``reject: true`` catalog intent (greetings, weather, music, lights …) that wins means "out of
   scope" → no intent; a runner-up of a different tier (or a reject pattern) within
   ``TIER_MARGIN`` makes the utterance ambiguous → no intent.

Distress is never rejected silently: an un-negated emergency value ("help", "I fell", 救命) is an
emergency whatever the rest of the sentence scores, and the emergency threshold is lower.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from rapidfuzz import fuzz, process

from assistant.ops.settings import Settings
from assistant.understanding.catalog import Catalog, expand_template, load_catalog
from assistant.understanding.normalize import normalize, pinyin_tokens, stem_tokens_en, tokenize
from assistant.understanding.result import Understanding
from assistant.understanding.slots import SlotIndex

_LOGGER = logging.getLogger(__name__)

ACCEPT_THRESHOLD: Final = 0.72
"""Minimum score for plain and confirm intents."""
EMERGENCY_THRESHOLD: Final = 0.6
"""Minimum score for the emergency intent (recall matters more than precision)."""
MIN_MARGIN: Final = 0.03
"""A best match this close to a different intent is ambiguous unless its score is high."""
CLEAR_SCORE: Final = 0.85
"""Scores at or above this are accepted regardless of margin to an intent of the same tier."""
TIER_MARGIN: Final = 0.04
"""A runner-up of another tier (or an out-of-scope pattern) this close makes the match ambiguous."""
REJECT_TIER: Final = "reject"
EMERGENCY_OVERRIDE_CONFIDENCE: Final = 0.95
CANDIDATES: Final = 12
PREFILTER_CUTOFF: Final = 45.0
"""rapidfuzz skips phrases that cannot reach this (0–100) early; far below any acceptance threshold."""
OOV_PENALTY: Final = 0.6
"""Score lost when every character of the utterance is outside the catalog's vocabulary (scaled)."""
WEAK_EMERGENCY_MAX_OOV: Final = 0.35
KEYWORD_WEIGHTS: Final = {"en": 0.2, "zh": 0.0}
"""How far keyword evidence moves the fuzzy phrase score, per language (0 = channel off).

en 0.2 was chosen on the dev set. zh is off: with 0.2 the zh dev set improved (96.4 → 97.4 %)
but the fresh test set dropped (86.0 → 84.1 %), so the channel does not generalise there yet."""
KEYWORD_PIVOT: Final = 0.7
"""Keyword coverage above this raises an intent's score, below it lowers it."""
KEYWORD_EXTRA_INTENTS: Final = 2
"""Best keyword intents scored even when no phrase of theirs was among the fuzzy candidates."""
REPEAT_MAX_TOKENS: Final = 3
"""Longest stutter collapsed before matching ("call call the doctor", 是的是的)."""
EMERGENCY_INTENT: Final = "emergency"


@dataclass(frozen=True)
class _Entry:
    key: str
    intent: str
    markers: frozenset[str]
    negated: bool


@dataclass(frozen=True)
class _Prepared:
    display: str
    key: str
    markers: dict[str, str]
    """slot → canonical value (first occurrence)."""
    negated: bool
    emergency_strong: bool
    """An un-negated emergency value ("I fell", 救命) was heard."""
    emergency_weak: bool
    """Only a weak emergency value ("help") was heard."""
    oov: float
    """Fraction of the utterance (characters of its matching keys) outside the catalog vocabulary."""


_COUNTED_WORDS: Final = frozenset(
    "zero oh one two three four five six seven eight nine 零 一 二 三 四 五 六 七 八 九 十 幺".split()
)


def _collapse_repeats(toks: list[str]) -> list[str]:
    """Drop immediate repeats of one to three tokens ("i i feel", "call call", 吃了吃了, 停停停)."""
    out: list[str] = []
    for tok in toks:
        out.append(tok)
        if tok in _COUNTED_WORDS:
            continue  # "nine nine nine" is a number, not a stutter
        for size in range(1, REPEAT_MAX_TOKENS + 1):
            if len(out) >= 2 * size and out[-size:] == out[-2 * size : -size]:
                del out[-size:]
                break
    return out


class IntentMatcher:
    """Matches one language's utterances against a catalog and the caregiver's names."""

    def __init__(self, catalog: Catalog, settings: Settings | None = None) -> None:
        self.catalog = catalog
        self.lang = catalog.lang
        self._negations = frozenset(catalog.negations)
        self._canon_by_first: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        self._build_canon()
        self._vocab: set[str] = {
            t for lst in self._canon_by_first.values() for _, target in lst for t in target
        }
        self.slot_index = SlotIndex(self.lang, self._canonical, self._keys, self._negations)
        self.slot_index.build(catalog, settings)
        self._vocab.update(self.slot_index.vocab)
        self._surface_values = self.slot_index.surface_values
        self._fillers_by_first: dict[str, list[tuple[str, ...]]] = {}
        for filler in catalog.fillers:
            toks = tuple(self._tokens(filler))
            if toks:
                self._fillers_by_first.setdefault(toks[0], []).append(toks)
        for lst in self._fillers_by_first.values():
            lst.sort(key=len, reverse=True)
        self._entries: dict[frozenset[str], list[_Entry]] = {}
        self._sentences: dict[str, list[str]] = {}
        self._key_vocab: set[str] = set()
        self._kw_intents: dict[str, frozenset[str]] = {}
        self._kw_idf: dict[str, float] = {}
        self._kw_oov_idf = 0.0
        self._build_index()
        self._build_keywords()
        self._choice_cache: dict[frozenset[str], tuple[list[str], list[_Entry]]] = {}
        self._intent_cache: dict[tuple[frozenset[str], str], tuple[list[str], list[_Entry]]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, lang: str | None = None) -> IntentMatcher:
        """Load the catalog for ``lang`` (default: the person's language) and compile it with the config."""
        return cls(load_catalog(lang or settings.language), settings)

    # ------------------------------------------------------------ index building

    def _build_canon(self) -> None:
        """Catalog ``synonyms:`` groups: every word or phrase of a group is read as the group's first."""
        for group in self.catalog.synonyms:
            target = tuple(tokenize(normalize(group[0], self.lang), self.lang))
            for word in group:  # the first maps to itself, so "预约" is not read as 预 + "约"
                toks = tuple(tokenize(normalize(word, self.lang), self.lang))
                if toks and target:
                    self._canon_by_first.setdefault(toks[0], []).append((toks, target))
        for lst in self._canon_by_first.values():
            lst.sort(key=lambda pair: len(pair[0]), reverse=True)

    def _canonical(self, toks: list[str]) -> list[str]:
        """Tokens with stutters collapsed and synonym-group words replaced by the group's first word."""
        toks = _collapse_repeats(toks)
        if not self._canon_by_first:
            return toks
        out: list[str] = []
        i = 0
        while i < len(toks):
            for src, target in self._canon_by_first.get(toks[i], ()):
                if tuple(toks[i : i + len(src)]) == src:
                    out.extend(target)
                    i += len(src)
                    break
            else:
                out.append(toks[i])
                i += 1
        return out

    def _tokens(self, text: str) -> list[str]:
        """Normalised, tokenised and synonym-mapped text (the same for catalog and speech)."""
        return self._canonical(tokenize(normalize(text, self.lang), self.lang))

    def _keys(self, tokens: list[str]) -> list[str]:
        return pinyin_tokens(tokens) if self.lang == "zh" else stem_tokens_en(tokens)

    def _build_index(self) -> None:
        seen: dict[str, str] = {}
        for intent in self.catalog.intents.values():
            sentences: list[str] = []
            for template in intent.phrases:
                for sentence in expand_template(template):
                    sentences.append(sentence)
                    marked = sentence
                    for slot in self.catalog.slots:
                        marked = marked.replace("{" + slot + "}", f" #{slot} ")
                    toks = self._tokens(marked)
                    self._vocab.update(t for t in toks if not t.startswith("#"))
                    # literal slot words in a phrase ("help me") become markers, as in speech
                    toks = self.slot_index.mark_exact(toks, self._keys(toks)).surface
                    toks = self._remove_fillers(toks) or toks  # a phrase of fillers only ("嗯") stays
                    if not toks:
                        continue
                    keys = self._keys(toks)
                    self._key_vocab.update(keys)
                    key = " ".join(keys)
                    if key in seen:
                        if seen[key] != intent.id:
                            _LOGGER.debug("phrase %r of %s also belongs to %s", key, intent.id, seen[key])
                        continue
                    seen[key] = intent.id
                    markers = frozenset(t[1:] for t in toks if t.startswith("#"))
                    entry = _Entry(key, intent.id, markers, any(t in self._negations for t in toks))
                    self._entries.setdefault(markers, []).append(entry)
            if not intent.reject:  # recogniser grammars keep to what the assistant understands
                self._sentences[intent.id] = sentences
        self._exact = seen
        for bucket in self.slot_index.by_first.values():
            for syn in bucket:
                self._key_vocab.update(syn.keys)
        for lst in self._fillers_by_first.values():
            for filler in lst:
                self._vocab.update(filler)

    def _features(self, key: str) -> set[str]:
        """Keyword evidence of a matching key: its words (en, stemmed) or syllables and syllable pairs (zh)."""
        toks = key.split()
        feats = set(toks)
        if self.lang == "zh":
            feats.update(a + "_" + b for a, b in zip(toks, toks[1:], strict=False))
        return feats

    def _build_keywords(self) -> None:
        """Per-feature set of intents whose phrases use it, weighted by how few intents share it (idf)."""
        postings: dict[str, set[str]] = {}
        for entries in self._entries.values():
            for entry in entries:
                for feat in self._features(entry.key):
                    postings.setdefault(feat, set()).add(entry.intent)
        n = len(self.catalog.intents)
        self._kw_intents = {f: frozenset(v) for f, v in postings.items()}
        self._kw_idf = {f: math.log((n + 1) / len(v)) for f, v in postings.items()}
        self._kw_oov_idf = math.log(n + 1)

    def _keyword_scores(self, key: str) -> dict[str, float]:
        """Share of the utterance's keyword weight that each intent's phrases cover (0–1)."""
        total = 0.0
        covered: dict[str, float] = {}
        for feat in self._features(key):
            idf = self._kw_idf.get(feat, self._kw_oov_idf)
            total += idf
            for intent in self._kw_intents.get(feat, ()):
                covered[intent] = covered.get(intent, 0.0) + idf
        if total <= 0.0:
            return {}
        return {intent: w / total for intent, w in covered.items()}

    def _remove_fillers(self, toks: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(toks):
            for filler in self._fillers_by_first.get(toks[i], ()):
                if tuple(toks[i : i + len(filler)]) == filler:
                    i += len(filler)
                    break
            else:
                out.append(toks[i])
                i += 1
        return out

    def _choices(self, markers: frozenset[str]) -> tuple[list[str], list[_Entry]]:
        cached = self._choice_cache.get(markers)
        if cached is None:
            entries = [e for m, lst in self._entries.items() if m <= markers for e in lst]
            cached = ([e.key for e in entries], entries)
            self._choice_cache[markers] = cached
        return cached

    def _intent_choices(self, markers: frozenset[str], intent: str) -> tuple[list[str], list[_Entry]]:
        cache_key = (markers, intent)
        cached = self._intent_cache.get(cache_key)
        if cached is None:
            entries = [e for e in self._choices(markers)[1] if e.intent == intent]
            cached = ([e.key for e in entries], entries)
            self._intent_cache[cache_key] = cached
        return cached

    # ------------------------------------------------------------ matching

    def _prepare(self, text: str) -> _Prepared:
        display = normalize(text, self.lang)
        surface = self._canonical(tokenize(display, self.lang))
        keys = self._keys(surface)
        # 2. exact slot values (longest first), then fuzzy config names
        m = self.slot_index.mark_exact(surface, keys)
        found, emergency_strong, emergency_weak = m.found, m.emergency_strong, m.emergency_weak
        marked, marked_keys = self.slot_index.fuzzy(m.surface, m.keys, found, self._vocab)
        # 3. fillers
        kept = self._remove_filler_pairs(marked, marked_keys)
        if not kept and len(marked) == 1:  # a lone filler word can still be an answer ("嗯" = yes)
            kept = [(marked[0], marked_keys[0])]
        negated = any(s in self._negations for s, _ in kept)
        key = " ".join(k for _, k in kept)
        total = sum(len(k) for _, k in kept) or 1
        oov = sum(len(k) for s, k in kept if not k.startswith("#") and s not in self._vocab) / total
        return _Prepared(display, key, found, negated, emergency_strong, emergency_weak, oov)

    def _remove_filler_pairs(self, surface: list[str], keys: list[str]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        i = 0
        while i < len(surface):
            for filler in self._fillers_by_first.get(surface[i], ()):
                if tuple(surface[i : i + len(filler)]) == filler:
                    i += len(filler)
                    break
            else:
                out.append((surface[i], keys[i]))
                i += 1
        return out

    def exact(self, text: str) -> tuple[str | None, dict[str, str]]:
        """The intent whose expanded catalog phrase equals ``text`` after normalisation, fillers and
        slot marking (None if none), and the slot values heard. Microseconds: no fuzzy scoring."""
        prep = self._prepare(text)
        return self._exact.get(prep.key), prep.markers

    def match(self, text: str) -> Understanding:
        """Understand one utterance; ``intent`` is None when it is out of scope or too unsure."""
        prep = self._prepare(text)
        if not prep.key:
            return Understanding(text=prep.display, lang=self.lang, intent=None)
        markers = frozenset(prep.markers)
        keys, entries = self._choices(markers)
        best_by_intent: dict[str, float] = {}
        if keys:
            candidates: dict[int, None] = {}
            for scorer in (fuzz.ratio, fuzz.token_set_ratio):
                found = process.extract(
                    prep.key, keys, scorer=scorer, limit=CANDIDATES, score_cutoff=PREFILTER_CUTOFF
                )
                for _, _, idx in found:
                    candidates[idx] = None
            for idx in candidates:
                entry = entries[idx]
                if entry.negated != prep.negated:
                    continue
                score = self._score(prep.key, entry.key) - OOV_PENALTY * prep.oov
                if score > best_by_intent.get(entry.intent, -1.0):
                    best_by_intent[entry.intent] = score
            self._add_keyword_evidence(prep, markers, best_by_intent)
        ranked = sorted(best_by_intent.items(), key=lambda kv: kv[1], reverse=True)
        intent, score = ranked[0] if ranked else (None, 0.0)
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        other = max(  # out-of-scope patterns never outweigh a call for help ("good morning, help me")
            (
                v
                for k, v in best_by_intent.items()
                if k != EMERGENCY_INTENT and not self.catalog.intents[k].reject
            ),
            default=0.0,
        )
        emergency = prep.emergency_strong or (
            prep.emergency_weak
            and prep.oov <= WEAK_EMERGENCY_MAX_OOV
            and (other < CLEAR_SCORE or all(t.startswith("#") for t in prep.key.split()))
        )
        if emergency and intent != EMERGENCY_INTENT:
            runner_up = score
            intent, score = (
                EMERGENCY_INTENT,
                max(best_by_intent.get(EMERGENCY_INTENT, 0.0), EMERGENCY_OVERRIDE_CONFIDENCE),
            )
        elif emergency:
            score = max(score, EMERGENCY_OVERRIDE_CONFIDENCE)
        if intent is not None and intent != EMERGENCY_INTENT and len(ranked) > 1:
            intent, score, runner_up = self._resolve_close_tiers(
                ranked, best_by_intent, intent, score, runner_up
            )
        margin = max(0.0, score - runner_up)
        if intent is None or not self._accepted(intent, score, margin):
            return Understanding(
                text=prep.display, lang=self.lang, intent=None, confidence=score, margin=margin
            )
        intent_def = self.catalog.intents[intent]
        if intent_def.reject:
            return Understanding(
                text=prep.display, lang=self.lang, intent=None, confidence=score, margin=margin
            )
        slots = {name: prep.markers[name] for name in intent_def.slots if name in prep.markers}
        return Understanding(
            text=prep.display,
            lang=self.lang,
            intent=intent,
            slots=slots,
            confidence=min(1.0, score),
            margin=min(1.0, margin),
            tier=intent_def.tier,  # type: ignore[arg-type]
        )

    def _add_keyword_evidence(
        self, prep: _Prepared, markers: frozenset[str], best_by_intent: dict[str, float]
    ) -> None:
        """Blend keyword coverage into the fuzzy scores; the best keyword intents join the race."""
        weight = KEYWORD_WEIGHTS.get(self.lang, 0.0)
        kw = self._keyword_scores(prep.key) if weight > 0.0 else {}
        if not kw:
            return
        extra = sorted((i for i in kw if i not in best_by_intent), key=kw.__getitem__, reverse=True)
        for intent in extra[:KEYWORD_EXTRA_INTENTS]:
            keys, entries = self._intent_choices(markers, intent)
            eligible = [k for k, e in zip(keys, entries, strict=True) if e.negated == prep.negated]
            if not eligible:
                continue
            res = process.extractOne(prep.key, eligible, scorer=fuzz.ratio)
            if res is not None:
                best_by_intent[intent] = self._score(prep.key, res[0]) - OOV_PENALTY * prep.oov
        for intent, score in best_by_intent.items():
            best_by_intent[intent] = score + weight * (kw.get(intent, 0.0) - KEYWORD_PIVOT)

    def _tier(self, intent: str) -> str:
        intent_def = self.catalog.intents[intent]
        return REJECT_TIER if intent_def.reject else intent_def.tier

    def _resolve_close_tiers(
        self,
        ranked: list[tuple[str, float]],
        best_by_intent: dict[str, float],
        intent: str,
        score: float,
        runner_up: float,
    ) -> tuple[str | None, float, float]:
        """Margin rule across tiers: a close emergency runner-up wins (distress is never dropped);
        a close runner-up of another tier or an out-of-scope pattern makes the match ambiguous."""
        emergency_score = best_by_intent.get(EMERGENCY_INTENT, 0.0)
        if emergency_score >= EMERGENCY_THRESHOLD and score - emergency_score < TIER_MARGIN:
            return EMERGENCY_INTENT, emergency_score, score
        second, second_score = ranked[1]
        if self._tier(intent) != self._tier(second) and score - second_score < TIER_MARGIN:
            return None, score, second_score
        return intent, score, runner_up

    @staticmethod
    def _score(query: str, key: str) -> float:
        return (0.5 * fuzz.ratio(query, key) + 0.5 * fuzz.token_set_ratio(query, key)) / 100.0

    def _accepted(self, intent: str, score: float, margin: float) -> bool:
        threshold = EMERGENCY_THRESHOLD if intent == EMERGENCY_INTENT else ACCEPT_THRESHOLD
        if score < threshold:
            return False
        return score >= CLEAR_SCORE or margin >= MIN_MARGIN or intent == EMERGENCY_INTENT

    # ------------------------------------------------------------ recogniser support

    def grammar_phrases(self, limit: int | None = None) -> list[str]:
        """Fully expanded sentences with slot values filled in, lowercase, for recogniser grammars.

        Intents take turns so that a ``limit`` keeps every intent represented.
        """
        per_intent = [self._iter_filled(sentences) for sentences in self._sentences.values()]
        out: list[str] = []
        seen: set[str] = set()
        active = list(per_intent)
        while active and (limit is None or len(out) < limit):
            still: list[Iterable[str]] = []
            for it in active:
                for sentence in it:  # type: ignore[attr-defined]
                    if sentence not in seen:
                        seen.add(sentence)
                        out.append(sentence)
                        still.append(it)
                        break
                if limit is not None and len(out) >= limit:
                    break
            active = still
        return out

    phrases = grammar_phrases

    def _iter_filled(self, sentences: list[str]):  # -> Iterator[str]
        for sentence in sentences:
            yield from self._fill(sentence)

    def _fill(self, sentence: str):  # -> Iterator[str]
        for slot, values in self._surface_values.items():
            token = "{" + slot + "}"
            if token in sentence:
                for surface, _ in values:
                    yield from self._fill(sentence.replace(token, surface, 1))
                return
        if "{" in sentence:  # slot with no values (e.g. no contacts configured)
            return
        text = normalize(sentence, self.lang)
        if text:
            yield text

    @property
    def vocabulary_words(self) -> set[str]:
        """Every token of the catalog's phrases, slot values, fillers and the config's names."""
        return self._vocab

    def vocabulary(self) -> set[str]:
        """Every word (en) or character/Latin word (zh) the grammar phrases use."""
        vocab: set[str] = set()
        for sentence in self.grammar_phrases():
            vocab.update(tokenize(sentence, self.lang))
        return vocab
