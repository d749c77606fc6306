"""Slot values in speech: catalog values and the caregiver's names, including words nobody listed.

:class:`SlotIndex` compiles, once per catalog + config, every way a slot value may be said:

* catalog slot values and their synonyms (symptoms, danger words);
* the doctor's name, aliases and the catalog's generic doctor words ("my GP", 医生);
* contacts by name, alias, the relation written in the config *and every everyday word for that
  relation* (``intents/relations.yaml``: daughter → "my girl", 闺女; mother → mum, mom, 妈) — the
  caregiver writes ``relation: daughter`` once and "call my girl" works;
* medications by name and alias, and by what they are for ("my water pills", "heart pills",
  降压药) when exactly one configured medicine serves that purpose (``purposes`` / ``medicines``
  in the same file); Mandarin keys are toneless pinyin, so recogniser homophones match.

``mark_exact`` replaces the longest exact match by a ``#slot`` marker; ``fuzzy`` then catches
misrecognised config names ("met for men" → metformin).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from rapidfuzz import fuzz, process

from assistant import data
from assistant.ops.settings import Settings
from assistant.understanding.catalog import Catalog
from assistant.understanding.normalize import normalize, strip_hedges, tokenize

_LOGGER = logging.getLogger(__name__)

FUZZY_SLOT_CUTOFF: Final = 80.0
"""rapidfuzz ratio (0–100) for a misrecognised config name ("met for men" → metformin)."""
FUZZY_SLOT_CUTOFF_ZH: Final = 88.0
"""The same over toneless pinyin: one letter off a 3–4 syllable name (an lu di ping → 氨氯地平) still
matches; at 80, any two syllables one letter off a two-syllable name did (打给 da gei → 大卫 da wei,
讲啥呀 jiang sha ya → 降压药)."""
FUZZY_SPLIT_NAMES: Final = False
"""A misheard config name may start on a slot word when the rest of its window is not one ("am low
dipping": "am" is a slot word of "i am on for my …"). Off: round 11 (dev14) measured +1 line on
dev14's tuned-on half and nothing on any unseen half."""
NEGATION_WINDOW: Final = 2
"""Tokens before an emergency value in which a negation cancels it ("I did not fall")."""
EMERGENCY_SLOT: Final = "danger"
WEAK_EMERGENCY_VALUES: Final = frozenset({"help"})
CORRECTION_SLOTS: Final = frozenset({"contact", "medication"})
"""Slots whose value a self-correction replaces: "call my son no my daughter", 给我儿子打 不对 给我女儿打."""
_CORRECTIONS: Final = {
    "en": frozenset({"no", "nope", "sorry", "mean", "actually", "wait", "rather", "correction"}),
    "zh": ("不对", "说错了", "错了", "我是说", "应该是", "不是不是"),
}
_NOT_THIS: Final = {"en": frozenset({"not", "never"}), "zh": ("不是", "别", "不要", "不用")}
"""Said right before the second value, it is the one excluded: "ring anna, no, not david"."""
_EXCLUDED_FIRST_EN: Final = frozenset({"not", "never"})
_EXCLUDED_FIRST_ZH: Final = re.compile(r"(?:不是|别|不要|不用|甭|先别|不)(?:打给|拨给|给|找|叫|跟|打)?$")
"""Said right before the *first* value, it excludes that one and the later value is meant ("no, not
david, call anna", "don't ring david, ring anna", 别打给大卫，打给安娜, 不是大卫，打给安娜): the contrast a
correction word would otherwise have to mark. Only for two different values of one slot."""
NEGATED_FIRST_VALUE: Final = True
"""Round 11 (issue 10): a negated first contact / medicine gives way to the later one (see above)."""
"""Emergency values that alone ("help me find my glasses") only count when the rest is in vocabulary."""


@dataclass(frozen=True)
class _Synonym:
    keys: tuple[str, ...]
    slot: str
    value: str
    surface: tuple[str, ...] = ()


@dataclass(frozen=True)
class Marked:
    """An utterance with slot values replaced by ``#slot`` markers."""

    surface: list[str]
    keys: list[str]
    found: dict[str, str]
    """slot → canonical value (first occurrence, or the later one after a self-correction)."""
    emergency_strong: bool = False
    emergency_weak: bool = False


@dataclass(frozen=True)
class Relations:
    """``intents/relations.yaml``: relation words and medicine purposes per language."""

    relations: Mapping[str, Mapping[str, tuple[str, ...]]]
    purposes: Mapping[str, Mapping[str, tuple[str, ...]]]
    medicines: Mapping[str, tuple[str, ...]]
    names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Generic name (lowercase) → the same medicine's names in other languages and common brands
    (amlodipine → 氨氯地平): a config that says "metformin" is reached by 二甲双胍 and the reverse."""

    def same_medicine(self, name: str) -> tuple[str, ...]:
        """Every other name of ``name`` (``names:``, looked up from either side)."""
        key = name.strip().lower()
        out: list[str] = list(self.names.get(key, ()))
        for generic, others in self.names.items():
            if key in (o.lower() for o in others):
                out.extend([generic, *others])
        return tuple(w for w in dict.fromkeys(out) if w.lower() != key)

    def relation_id(self, written: str) -> str:
        """The relation id for a config's ``relation`` written in either language ("女儿" → daughter)."""
        word = written.strip().lower()
        if word in self.relations:
            return word
        for rid, langs in self.relations.items():
            if any(word == w.lower() for words in langs.values() for w in words):
                return rid
        return ""


@lru_cache(maxsize=2)
def load_relations(path: str | None = None) -> Relations:
    """``intents/relations.yaml`` (cached: data, not config). A broken file logs and means "none"."""
    from ruamel.yaml import YAML

    file = Path(path) if path else data.intents_dir() / "relations.yaml"
    try:
        raw: Any = YAML(typ="safe").load(file.read_text(encoding="utf-8")) or {}
    except Exception as err:  # the assistant keeps understanding names and aliases without it
        _LOGGER.warning("event=relations_unavailable file=%s error=%s", file, err)
        return Relations({}, {}, {})

    def groups(key: str) -> dict[str, dict[str, tuple[str, ...]]]:
        out: dict[str, dict[str, tuple[str, ...]]] = {}
        for gid, langs in (raw.get(key) or {}).items():
            if isinstance(langs, Mapping):
                out[str(gid)] = {str(k): tuple(str(w) for w in v or ()) for k, v in langs.items()}
        return out

    medicines = {
        str(k).lower(): tuple(str(p) for p in v or ()) for k, v in (raw.get("medicines") or {}).items()
    }
    names = {str(k).lower(): tuple(str(w) for w in v or ()) for k, v in (raw.get("names") or {}).items()}
    return Relations(groups("relations"), groups("purposes"), medicines, names)


class SlotIndex:
    """Every spoken form of every slot value of one catalog + config, indexed by first key."""

    def __init__(
        self,
        lang: str,
        canonical: Callable[[list[str]], list[str]],
        keys: Callable[[list[str]], list[str]],
        negations: frozenset[str] = frozenset(),
    ) -> None:
        self.lang = lang
        self._canonical = canonical
        self._keys = keys
        self._negations = negations
        self.vocab: set[str] = set()
        self.by_first: dict[str, list[_Synonym]] = {}
        self.fuzzy_by_len: dict[int, list[tuple[str, _Synonym]]] = {}
        self.surface_values: dict[str, list[tuple[str, str]]] = {}
        self._fuzzy_strings: dict[int, list[str]] = {}

    # ------------------------------------------------------------ building

    def add(self, text: str, slot: str, value: str) -> None:
        spoken = tokenize(normalize(text, self.lang), self.lang)
        toks = self._canonical(spoken)
        if not toks:
            return
        self.vocab.update(toks)
        self.vocab.update(spoken)
        keys = tuple(self._keys(toks))
        if self.lang == "zh" and len(toks) == 1:
            keys = (toks[0],)  # one syllable is too ambiguous in pinyin (肿 / 钟): match the character
        syn = _Synonym(keys, slot, value, tuple(toks) if self.lang == "zh" else ())
        bucket = self.by_first.setdefault(syn.keys[0], [])
        if syn not in bucket:
            bucket.append(syn)
            self.surface_values.setdefault(slot, []).append(
                ("".join(spoken) if self.lang == "zh" else " ".join(spoken), value)
            )

    def add_fuzzy(self, text: str, slot: str, value: str) -> None:
        toks = self._canonical(tokenize(normalize(text, self.lang), self.lang))
        if not toks:
            return
        keys = tuple(self._keys(toks))
        if self.lang == "zh" and len(keys) < 3:
            return  # two syllables one letter off are other words (嗯那 n na / 安娜 an na); homophones match exactly
        joined = " ".join(keys) if self.lang == "zh" else "".join(keys)
        if len(joined) >= 4:
            size = len(keys) if self.lang == "zh" else 0  # en: any window, spaces ignored
            self.fuzzy_by_len.setdefault(size, []).append((joined, _Synonym(keys, slot, value)))

    def build(self, catalog: Catalog, settings: Settings | None, only: frozenset[str] | None = None) -> None:
        """Index the catalog's slots (``only``: just these slot names) and the config's names."""
        relations = load_relations()
        for slot in catalog.slots.values():
            if only is not None and slot.name not in only:
                continue
            for value in slot.values:
                for syn in value.synonyms:
                    self.add(syn, slot.name, value.id)
            if not slot.from_config or settings is None:
                continue
            if slot.from_config == "doctor":
                self._add_doctor(slot.name, slot.synonyms, settings)
            elif slot.from_config == "contacts":
                self._add_contacts(slot.name, slot.relations, settings, relations)
            elif slot.from_config == "medications":
                self._add_medications(slot.name, settings, relations)
        for bucket in self.by_first.values():
            bucket.sort(key=lambda s: len(s.keys), reverse=True)
        self._fuzzy_strings = {id(lst): [c for c, _ in lst] for lst in self.fuzzy_by_len.values()}

    def _add_doctor(self, slot: str, generic: tuple[str, ...], settings: Settings) -> None:
        doctor = settings.doctor
        for text in (doctor.name, *doctor.aliases):
            self.add(text, slot, doctor.name)
            self.add_fuzzy(text, slot, doctor.name)
        for text in generic:
            self.add(text, slot, doctor.name)

    def _add_contacts(
        self, slot: str, catalog_relations: Mapping[str, tuple[str, ...]], settings: Settings, rel: Relations
    ) -> None:
        by_relation: dict[str, list[str]] = {}
        for contact in settings.contacts:
            rid = rel.relation_id(contact.relation) if contact.relation else ""
            if rid:
                by_relation.setdefault(rid, []).append(contact.name)
        for contact in settings.contacts:
            words = [contact.name, *contact.aliases]
            if contact.relation:
                words.append(contact.relation)
                words.extend(catalog_relations.get(contact.relation.strip().lower(), ()))
                rid = rel.relation_id(contact.relation)
                if rid and by_relation.get(rid) == [contact.name]:  # "my son" only when there is one son
                    words.extend(rel.relations.get(rid, {}).get(self.lang, ()))
                    words.extend(catalog_relations.get(rid, ()))
            for text in words:
                self.add(text, slot, contact.name)
            for text in (contact.name, *contact.aliases):
                self.add_fuzzy(text, slot, contact.name)
            if CONTACT_DIMINUTIVES_EN and self.lang == "en":
                others = {c.name.lower() for c in settings.contacts if c is not contact}
                for text in diminutives_en(contact.name):
                    if text not in others:
                        self.add(text, slot, contact.name)

    def _add_medications(self, slot: str, settings: Settings, rel: Relations) -> None:
        by_purpose: dict[str, list[str]] = {}
        for med in settings.medications:
            for purpose in rel.medicines.get(med.name.strip().lower(), ()):
                by_purpose.setdefault(purpose, []).append(med.name)
        for med in settings.medications:
            for text in (med.name, *med.aliases):
                self.add(text, slot, med.name)
                self.add_fuzzy(text, slot, med.name)
                for variant in medicine_word_variants(text, self.lang):
                    self.add(variant, slot, med.name)
            for text in rel.same_medicine(med.name):  # 二甲双胍 for a config that says metformin
                self.add(text, slot, med.name)
                self.add_fuzzy(text, slot, med.name)
        for purpose, names in by_purpose.items():
            if len(names) == 1:  # "my heart pills" only when one configured medicine is for the heart
                for text in rel.purposes.get(purpose, {}).get(self.lang, ()):
                    self.add(text, slot, names[0])
                    for variant in medicine_word_variants(text, self.lang):
                        self.add(variant, slot, names[0])

    # ------------------------------------------------------------ marking

    def mark_exact(self, surface: list[str], keys: list[str]) -> Marked:
        """Replace exact slot synonyms (longest first) by ``#slot`` markers."""
        marked: list[str] = []
        marked_keys: list[str] = []
        found: dict[str, str] = {}
        strong = weak = False
        i = 0
        while i < len(keys):
            if keys[i].startswith("#"):
                marked.append(surface[i])
                marked_keys.append(keys[i])
                i += 1
                continue
            hit = None
            for syn in self.by_first.get(keys[i], ()):
                if tuple(keys[i : i + len(syn.keys)]) == syn.keys and self._homophone_ok(syn, surface[i:]):
                    hit = syn
                    break
            if self.lang == "zh":
                for syn in self.by_first.get(surface[i], ()):
                    if hit is None or len(hit.keys) < len(syn.keys):
                        hit = syn
                    break
            if hit is None:
                marked.append(surface[i])
                marked_keys.append(keys[i])
                i += 1
                continue
            if hit.slot == EMERGENCY_SLOT:
                before = [t for t in marked[-NEGATION_WINDOW:] if not t.startswith("#")]
                if not any(t in self._negations for t in before):
                    if hit.value in WEAK_EMERGENCY_VALUES:
                        weak = True
                    else:
                        strong = True
            if (
                hit.slot in found
                and found[hit.slot] != hit.value
                and (self._corrects(marked, hit.slot) or self._first_excluded(marked, hit.slot))
            ):
                found[hit.slot] = hit.value  # "call my son no my daughter": the later one was meant
            found.setdefault(hit.slot, hit.value)
            marked.append("#" + hit.slot)
            marked_keys.append("#" + hit.slot)
            i += len(hit.keys)
        return Marked(marked, marked_keys, found, strong, weak)

    def _corrects(self, marked: list[str], slot: str) -> bool:
        """A self-correction between the slot's first value and this one ("no", "sorry", "I mean",
        不对, 说错了), and no "not" / 不是 right before this one ("ring Anna, no, not David")."""
        if slot not in CORRECTION_SLOTS:
            return False
        span = marked[marked.index("#" + slot) + 1 :]
        if self.lang == "zh":
            text = "".join(span)
            return any(w in text for w in _CORRECTIONS["zh"]) and not text.endswith(_NOT_THIS["zh"])
        return bool(set(span) & _CORRECTIONS["en"]) and not (span and span[-1] in _NOT_THIS["en"])

    def _first_excluded(self, marked: list[str], slot: str) -> bool:
        """The slot's first value was said as the one *not* meant (``_EXCLUDED_FIRST_EN`` / ``_ZH``)."""
        if not NEGATED_FIRST_VALUE or slot not in CORRECTION_SLOTS:
            return False
        before = [t for t in marked[: marked.index("#" + slot)] if not t.startswith("#")]
        if self.lang == "zh":
            return _EXCLUDED_FIRST_ZH.search("".join(before)[-5:]) is not None
        return any(t in _EXCLUDED_FIRST_EN for t in before[-3:])

    def _homophone_ok(self, syn: _Synonym, surface: list[str]) -> bool:
        """A two-syllable Mandarin word heard only as its pinyin must share a character with it:
        安那 / 大伟 are 安娜 / 大卫 misheard, 俺那 ("that … of mine") is not 安娜."""
        if self.lang != "zh" or len(syn.keys) != 2 or not syn.surface:
            return True
        return any(a == b for a, b in zip(syn.surface, surface[:2], strict=False))

    def fuzzy(
        self, surface: list[str], keys: list[str], found: dict[str, str], vocab: set[str]
    ) -> tuple[list[str], list[str]]:
        """Misrecognised config names ("met for men") → markers; words in ``vocab`` are left alone (en)."""
        if not self.fuzzy_by_len:
            return surface, keys
        i = 0
        out_s: list[str] = []
        out_k: list[str] = []
        # English, FUZZY_SPLIT_NAMES off: no window starts on a slot word (``_may_start``), so skip them
        en_whole = self.lang == "en" and not FUZZY_SPLIT_NAMES
        while i < len(keys):
            best: tuple[float, int, _Synonym] | None = None
            if not keys[i].startswith("#") and not (en_whole and surface[i] in vocab):
                for size, choices in self._fuzzy_windows():
                    window = keys[i : i + size]
                    if len(window) < size or any(k.startswith("#") for k in window):
                        continue
                    if self.lang == "en" and not self._may_start(surface[i : i + size], vocab):
                        continue
                    joined = " ".join(window) if self.lang == "zh" else "".join(window)
                    res = process.extractOne(
                        joined,
                        self._fuzzy_strings[id(choices)],
                        scorer=fuzz.ratio,
                        score_cutoff=FUZZY_SLOT_CUTOFF_ZH if self.lang == "zh" else FUZZY_SLOT_CUTOFF,
                    )
                    if res is not None and (best is None or res[1] > best[0]):
                        best = (res[1], size, choices[res[2]][1])
            if best is None:
                out_s.append(surface[i])
                out_k.append(keys[i])
                i += 1
                continue
            _, size, syn = best
            found.setdefault(syn.slot, syn.value)
            out_s.append("#" + syn.slot)
            out_k.append("#" + syn.slot)
            i += size
        return out_s, out_k

    @staticmethod
    def _may_start(window: list[str], vocab: set[str]) -> bool:
        """An English fuzzy window starts on a word that is no slot word ("met for men"), or — with
        :data:`FUZZY_SPLIT_NAMES` — on one when a later word of the window is none either: a name the
        recogniser split into words, the first of them a slot word ("am low dipping" → amlodipine)."""
        if window[0] not in vocab:
            return True
        return FUZZY_SPLIT_NAMES and len(window) >= 2 and any(w not in vocab for w in window[1:])

    def _fuzzy_windows(self) -> list[tuple[int, list[tuple[str, _Synonym]]]]:
        if self.lang == "zh":
            return sorted(self.fuzzy_by_len.items(), reverse=True)
        choices = self.fuzzy_by_len.get(0, [])
        return [(size, choices) for size in (3, 2, 1)] if choices else []


CONFIG_SLOTS: Final = frozenset({"doctor", "contact", "medication"})


_EN_MEDICINE_NOUNS: Final = ("pills", "pill", "tablets", "tablet", "medicine", "medication", "meds")
_EN_MEDICINE_VARIANTS: Final = (*_EN_MEDICINE_NOUNS, "ones", "one", "stuff")
_EN_MEDICINE_AFTER_NOUNS: Final = ("pills", "tablets", "medicine", "medication", "meds", "ones", "stuff")
_EN_MEDICINE_LINKS: Final = (
    "for my",
    "for the",
    "for",
    "i take for my",
    "i take for",
    "i have for my",
    "i am on for my",
)
CONTACT_DIMINUTIVES_EN: Final = True
"""Round 14 (in17en): a contact's everyday short and pet forms reach the contact ("get me Davey on the
phone", "ring Dave", "call our Annie"): the name's first three or four letters with -y / -ie / -ey / -e
(:func:`diminutives_en`). **On**: Measured on models cached with dev17's odd half in training (rule switches need no retraining;
``bench/intent_devtrain.py``'s models, scored with the switch on): leaving one set out, in scope 1089 → 1093 of 1176
(dev13 96 → 97, dev14 131 → 134: other writers' unseen halves; counted, not read), the pooled even
halves 1093 → 1097, false accepts and negated lines unchanged; dev17's unseen half 120 → 120."""


_OTHER_NAMES_EN: Final = frozenset("anne mary marie jane joan june rose ruby amy kate dane carl sue".split())
"""Short forms that are first names of their own (Anna → "anne", Margaret → "mary"): never read as
the contact, so "call Anne" still asks for someone who is not configured."""


def diminutives_en(name: str) -> tuple[str, ...]:
    """Pet and short forms of an English first name: David → davy, davie, davey, dave …; Anna → annie …"""
    word = name.strip().lower()
    if not word.isalpha() or len(word) < 4:
        return ()
    out = [word[:n] + end for n in (3, 4) if n < len(word) for end in ("y", "ie", "ey", "e")]
    return tuple(dict.fromkeys(w for w in out if w != word and w not in _OTHER_NAMES_EN))


MEDICINE_OF_EN: Final = False
"""Round 14 (in17en): the purpose told after the noun with "of", as speakers of Romance and Slavic
languages say it ("the medicine of the diabetes", "the pills of my pressure"). Off: Measured on models cached with dev17's odd half in training (rule switches need no retraining;
``bench/intent_devtrain.py``'s models, scored with the switch on), no
unseen line changed (leaving one set out 1089 of 1176, dev17's unseen half 120 of 146)."""
_EN_MEDICINE_OF_LINKS: Final = ("of the", "of my", "of")
_ZH_MEDICINE_TAILS: Final = ("的药", "药")
_ZH_MEDICINE_VARIANTS: Final = ("那个药", "的那个药", "那种药", "的那种药", "那个药片", "的那个药片")
ZH_PURPOSE_FORMS: Final = True
"""Mandarin: a medicine named by what it is for without the word 药 (降血压的那个, 降糖的那种) or with a verb of
treating before the illness (治糖尿病的, 管血压的, 控制血糖的药) reaches it like the purpose word itself."""
_ZH_PURPOSE_BARE: Final = ("的", "的那个", "的那种", "的那盒")
_ZH_TREAT_VERBS: Final = ("治", "管", "控制")
_ZH_VERB_FIRST: Final = frozenset("降抗护稀排消止控平安睡治管利")
"""A stem that starts with one of these already says what the medicine does (降压, 抗凝, 止痛)."""


def medicine_word_variants(text: str, lang: str) -> tuple[str, ...]:
    """Other everyday forms of a medicine word that ends in a medicine noun: "blood pressure pills"
    → "blood pressure ones / one / tablets / meds …" ("order the blood pressure ones") and the purpose
    told after the noun ("the tablets for my blood pressure", "the pills I take for my sugar"); 血压的药 →
    血压那个药 / 血压的那个药 … (a filler between what the medicine is for and 药)."""
    if lang == "zh":
        for tail in _ZH_MEDICINE_TAILS:
            stem = text[: -len(tail)]
            if text.endswith(tail) and len(stem) >= 2:
                out = [stem + v for v in _ZH_MEDICINE_VARIANTS if stem + v != text]
                if ZH_PURPOSE_FORMS and stem[0] in _ZH_VERB_FIRST:  # 降血压的药 → 降血压的 / 降血压的那个
                    out += [stem + v for v in _ZH_PURPOSE_BARE]
                elif ZH_PURPOSE_FORMS:  # 血压的药 → 治血压的 / 管血压的药 (血压的那个 alone may be the cuff)
                    out += [
                        verb + stem + end for verb in _ZH_TREAT_VERBS for end in ("的药", *_ZH_PURPOSE_BARE)
                    ]
                return tuple(dict.fromkeys(v for v in out if v != text))
        return ()
    words = text.split()
    if len(words) >= 2 and words[-1].lower() in _EN_MEDICINE_NOUNS:
        stem = " ".join(words[:-1])
        before = tuple(f"{stem} {v}" for v in _EN_MEDICINE_VARIANTS if v != words[-1].lower())
        # the purpose told after the noun: "the tablets for my blood pressure", "the pills I take for my sugar"
        after = tuple(
            f"{noun} {link} {stem}"
            for noun in _EN_MEDICINE_AFTER_NOUNS
            for link in (*_EN_MEDICINE_LINKS, *(_EN_MEDICINE_OF_LINKS if MEDICINE_OF_EN else ()))
        )
        return before + after
    return ()


def key_tokens(tokens: list[str], lang: str) -> list[str]:
    """Matching keys: stems (en) or toneless pinyin (zh), aligned one to one with ``tokens``."""
    from assistant.understanding.normalize import pinyin_tokens, stem_tokens_en

    return pinyin_tokens(tokens) if lang == "zh" else stem_tokens_en(tokens)


def config_slot_index(catalog: Catalog, settings: Settings | None) -> SlotIndex:
    """A slot index of the config-sourced slots only (doctor, contacts, medications): the learned
    model sees ``#contact`` instead of "Anna", so it does not depend on one household's names."""
    index = SlotIndex(catalog.lang, lambda toks: toks, lambda toks: key_tokens(toks, catalog.lang))
    index.build(catalog, settings, only=CONFIG_SLOTS)
    return index


def model_tokens(index: SlotIndex, display: str) -> tuple[list[str], dict[str, str]]:
    """Normalised text → tokens with config names as ``#slot`` markers, and the values found.
    Hesitations and polite hedges are dropped and negation words that decline nothing are masked
    (``strip_hedges``, ``polarity.mask_non_negations``), in training and in use alike."""
    from assistant.understanding.polarity import mask_non_negations

    display = mask_non_negations(strip_hedges(display, index.lang), index.lang)
    toks = tokenize(display, index.lang)
    marked = index.mark_exact(toks, key_tokens(toks, index.lang))
    surface, _ = index.fuzzy(marked.surface, marked.keys, marked.found, index.vocab)
    return surface, marked.found
