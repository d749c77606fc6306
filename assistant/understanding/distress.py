"""Distress detector: is this utterance an emergency happening now to the speaker (or someone with her)?

Fail-closed by design. A danger cue (``intents/distress-<lang>.yaml``: falls, chest pain, breathing,
stroke signs, collapse, bleeding, overdose, self-harm, cries for help) makes the utterance an
emergency unless strong contrary evidence in the same utterance clears *that* cue:

* another sense of the words (an idiom covering the cue: "fell asleep", "stroke of luck", 气死我了);
* negation in scope, before ("I have not fallen", 没摔倒, "no chest pain") or after ("bleeding? not any
  more", 不疼了) — a hedge is not a negation ("I'm not sure, my chest hurts");
* a question or a hypothetical ("how do I get help if I fall?", 万一摔倒了怎么办, "signs of a stroke");
* someone else who is not here (a neighbour, a man in a film) without urgency; someone near (her
  husband, "he") only with the past, media or a medical history ("he had a stroke years ago");
* reported speech or media (TV, radio, news, a book) when the cue is not the speaker's own;
* long ago ("last year", 几年前), or recently and recovered ("I tripped yesterday but I'm fine").

Several cues: one uncleared cue is enough. With a learned veto (:mod:`.distress_veto`, built by
:meth:`DistressDetector.for_stage`), a classifier trained on danger-word sentences may still clear
the standing cues of a longer utterance it is confident is harmless — never a cry, an alarm,
self-harm or an overdose. Where the lexicon heard no danger word at all, a learned raiser
(:mod:`.distress_raise`, trained on every training line and the tuned-on dev halves) may still
call the line an emergency (category ``learned``) when it is confident; it never overrides a cue
the rules cleared. The dialogue's cancel window stays the safety net for the false alarms
that remain. Measured in ``docs/benchmarks/intent.md`` (section "Distress").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from assistant import data
from assistant.understanding.normalize import normalize, rewrite_sounds

if TYPE_CHECKING:
    from assistant.understanding.distress_raise import DistressRaiser
    from assistant.understanding.distress_veto import DistressVeto

_LOGGER = logging.getLogger(__name__)

SOUND_WORDS: Final = True
"""Mandarin: read a span that sounds like a danger word of ``sound_words:`` (toneless pinyin equal, at
most half its characters different, not a real word of ``sound_keep:``) as that word — the general
form of the hand-written ``sound_alikes`` (钟风 → 中风, 兄口 → 胸口, 摔了一脚 → 一跤). Round 11 (dis14zh)."""
SOUND_READINGS: Final = False
"""Mandarin ``sound_words``: also match a danger word's other readings (血 is read xie in 吐血 / 流血, but
the recogniser's 吐雪 / 流雪 reads xue). Round 12 (dis15zh), off: on ~20 k visible Mandarin lines it
changed one decision (a dev15 odd line, rightly); the unseen halves (distress pool, dev15 even) did
not move."""
CUE_BEFORE_WINDOW: Final = {"en": 6, "zh": 6}
"""How far back (words / characters) a negation or a subject is looked for."""
AFTER_WINDOW: Final = {"en": 40, "zh": 8}
"""Characters after a cue in which "not any more" / 不疼了 cancels it."""


class DistressLexiconError(Exception):
    """A distress lexicon file is broken; the message names the file and the key."""


ONLY_ASKING: Final = False
"""Round 11 (dis14en): the lexicon's ``only_asking`` ("…, just asking", "out of interest") clears every
cue like ``pretend``. Off: on distress-dev14's odd half it cleared 1 of 7 false alarms; the even half
and the pooled unseen halves did not move."""

DIALECT: Final = {"en": True, "zh": False}
"""Round 13 (dis16en): read regional English the standard way before looking for cues (``dialect:`` of the
lexicon: Scots "ah cannae", "ma chest is sair", Caribbean "mi cyaan", "mi chest a hurt mi", Southern US
"i done fell", dropped g's "breathin", "bleedin"); the veto and the raiser read the rewritten line too.
On: distress-dev16 even (unseen) emergencies 54 → 55/61, false alarms unchanged (1/73); the pooled even
halves through dev15 and the intent bench did not move."""
HELP_QUESTION: Final = {"en": False, "zh": False}
"""Round 13 (dis16en): a line that opens asking how to get help to come ("what's the number for the
ambulance", "how do i get them to come out", "would you ring whoever you ring") and then tells a cue
with no "if" / "in case" between (``help_question:`` of the lexicon) is asking for help now: the
question-opening rules do not clear that cue. Off: it fixed three tuned-on lines of distress-dev16's odd
half; no unseen figure moved (dev16 even 55/61, 1/73; the pooled even halves through dev15 363/385,
19/462)."""
MEDIA_SETTING: Final = {"en": True, "zh": False}
"""Round 13 (dis16en): media words in an earlier clause are the setting, not the story ("we were
watching the quiz and my wife just slumped sideways and now she won't wake up"): with urgency, a cue
of someone near in a later clause is not cleared as media. On: the pooled even halves through dev15
(unseen) 362 → 363/385 emergencies (dev12 even), false alarms unchanged (19/462); dev16 even unchanged."""
REASSURANCE: Final = {"en": False, "zh": False}
"""Round 13 (dis16en): "don't worry about me …" (``reassurance:`` of the lexicon) is said to spare the
listener, not a worry: its "about" / "worry" does not make the cue after it imagined. Off: one tuned-on
line of distress-dev16's odd half; no unseen figure moved (same figures as HELP_QUESTION)."""
ZH_FOLDED_QUESTION: Final = True
"""Round 13 (dis16zh): Mandarin normalisation folds an A-not-A question (下不下雨, 你能不能) and writes its
吗 at the very end of the line (:func:`.normalize.normalize_zh`); that 吗 asks about the folded clause,
not about a danger cue said later in the same breath (你帮我查一下明天下不下雨哎哟我这胸口疼得厉害, 你能不能找个
人来一趟我躺在地上够不着电话). When the detector knows the words as said (``detect(..., raw=)``) and the fold
is more than two characters before a cue, the question rules read that cue's line without the 吗 (and a
question opener inside the folded clause, 你能(不能), does not make it a question)."""
ZH_MY_ELDERS: Final = False
"""Round 13 (dis16zh): 我奶奶 / 俺婆婆 / 我家姥姥 — an elder the speaker names as her own (directly after
我 / 俺 / 咱, or 我家 …) — is someone near (often living with her), not far like 奶奶 said alone. Off: it
made one distress-dev16 odd line an emergency (我奶奶从床上掉下来了头流血了) and moved no unseen figure
(lexicon on the pooled distress halves 357/411, false alarms 22/426, and dev16 even 42/59, 5/70, on and
off). ``ZH_FOLDED_QUESTION`` off: pooled 356/411 (one emergency fewer), the rest unchanged.
Round 14 (dis17zh) re-measured it on round 14's lexicon: pooled distress halves through dev16 (stage 438/470,
20/496) and dev17 even (46/51, 11/80) identical on and off. Still off."""
_ZH_ELDERS: Final = ("奶奶", "爷爷", "外婆", "外公", "姥姥", "姥爷", "婆婆", "公公")
_ZH_MINE: Final = ("我", "俺", "咱", "我家", "俺家", "咱家", "我们家", "咱们家")
_ZH_OBJECT_AFTER: Final = frozenset("诉给帮跟和对让叫问教为替陪带送找")
"""The character before 我 / 老伴 when they are an object (告诉我, 给我, 帮老伴), not a clause's subject."""
_ZH_FOLD: Final = re.compile(r"(?<![不没一])(?![不没])([\u3400-\u9fff])[不没]\1(?!就)")

LEARNED: Final = "learned"
"""Category of an emergency the raiser (:mod:`.distress_raise`) heard where the lexicon heard nothing."""

_CHRONIC_CATEGORIES: Final = frozenset({"stroke", "breathing", "chest", "collapse"})
"""Cue categories a lasting trait (``chronic:``, 本来就 / 向来) can clear; never a fall, a bleed or a cry."""
_NEVER_THINGS: Final = frozenset({"cry", "request", "alarm", "self_harm", "overdose", "other", "bleeding"})
"""Cue categories a thing as subject never clears ("my dressing is soaked with blood")."""


@dataclass(frozen=True)
class Cue:
    """One danger cue found in an utterance."""

    category: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class DistressResult:
    """What the detector decided and why (``cleared`` pairs a cue with the evidence that cleared it)."""

    emergency: bool
    cues: tuple[Cue, ...] = ()
    """Cues that stand (any one makes an emergency)."""
    cleared: tuple[tuple[Cue, str], ...] = ()
    """Cues cleared by contrary evidence: ``(cue, reason)``; reason is idiom, negation, question,
    other_person, media, past, recovered, mild, thing or learned (the veto)."""

    @property
    def category(self) -> str | None:
        """Category of the first standing cue (fall, chest, breathing …), None if none stands."""
        return self.cues[0].category if self.cues else None

    @property
    def any_cue(self) -> bool:
        """A danger word was heard at all (standing or cleared)."""
        return bool(self.cues or self.cleared)


# ---------------------------------------------------------------- lexicon


def _words(lang: str, items: Iterable[str]) -> str:
    """One alternation of literal words/phrases, longest first."""
    parts = sorted(
        {re.escape(normalize(str(i), lang)) for i in items if str(i).strip()}, key=len, reverse=True
    )
    return "|".join(p for p in parts if p)


def _bounded(lang: str, pattern: str) -> str:
    return f"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])" if lang == "en" else f"(?:{pattern})"


@dataclass(frozen=True)
class DistressLexicon:
    """Compiled ``intents/distress-<lang>.yaml`` (plus cue phrases taken from the symptom vocabulary)."""

    lang: str
    cues: tuple[tuple[str, re.Pattern[str]], ...]
    idioms: re.Pattern[str] | None
    negation: re.Pattern[str] | None
    no_negation: re.Pattern[str] | None
    hedge: re.Pattern[str] | None
    clause_break: re.Pattern[str] | None
    after_negation: re.Pattern[str] | None
    recovered: re.Pattern[str] | None
    remote_past: re.Pattern[str] | None
    recent_past: re.Pattern[str] | None
    ongoing: re.Pattern[str] | None
    media: re.Pattern[str] | None
    hypothetical: re.Pattern[str] | None
    question_start: re.Pattern[str] | None
    question_when: re.Pattern[str] | None
    first_person: re.Pattern[str] | None
    others_far: re.Pattern[str] | None
    others_near: re.Pattern[str] | None
    urgency: re.Pattern[str] | None
    history: re.Pattern[str] | None
    mild: re.Pattern[str] | None = None
    mild_categories: frozenset[str] = frozenset()
    never_mild: re.Pattern[str] | None = None
    never_thing: re.Pattern[str] | None = None
    """Cue texts only a person does ("keeled over", "can not get up"): never cleared as a thing's."""
    """Cue texts that are never mild (choking, blue lips): "a bit of meat" is not "a bit"."""
    conditional_after: re.Pattern[str] | None = None
    body_words: re.Pattern[str] | None = None
    urgent_gap: re.Pattern[str] | None = None
    question_after: re.Pattern[str] | None = None
    pretend: re.Pattern[str] | None = None
    cry_sounds: frozenset[str] = frozenset()
    reported: re.Pattern[str] | None = None
    elsewhere: re.Pattern[str] | None = None
    polite_request: re.Pattern[str] | None = None
    """A cry for an ambulance asked as a polite question: a request, not a question about help."""
    """Someone near who lives elsewhere ("she lives in scotland", 她住在东北): treated as far."""
    mentions: re.Pattern[str] | None = None
    question_any: re.Pattern[str] | None = None
    sound_alikes: tuple[tuple[re.Pattern[str], str], ...] = ()
    """Recogniser sound-alikes rewritten before cues are looked for (跌到 → 跌倒, 凶口 → 胸口)."""
    sound_words: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Mandarin danger words with their toneless pinyin: a span that sounds the same but is written
    otherwise (钟风 → 中风, 旧护车 → 救护车) is read as the word (:meth:`DistressDetector._sound_words`)."""
    chronic: re.Pattern[str] | None = None
    """A lasting trait right before the cue in its clause (本来就, 向来, 天生): not happening now."""
    sound_keep: frozenset[str] = frozenset()
    """Real words that sound like a danger word and are never rewritten (中锋, 留学)."""
    dialect: tuple[tuple[re.Pattern[str], str], ...] = ()
    """Regional words rewritten to the standard ones before cues are looked for (:data:`DIALECT`)."""
    dialect_any: re.Pattern[str] | None = None
    """Any of the ``dialect`` patterns (one search decides whether a line needs rewriting)."""
    help_question: re.Pattern[str] | None = None
    """A line opening by asking how to get help to come (:data:`HELP_QUESTION`)."""
    reassurance: re.Pattern[str] | None = None
    """"Don't worry about me": not a worry (:data:`REASSURANCE`)."""


def _regex_list(raw: Any, where: str) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise DistressLexiconError(f"{where}: expected a list of patterns")
    return list(raw)


def _compile(lang: str, patterns: list[str], where: str, bounded: bool = True) -> re.Pattern[str] | None:
    if not patterns:
        return None
    body = "|".join(f"(?:{p})" for p in patterns)
    try:
        return re.compile(_bounded(lang, body) if bounded else body)
    except re.error as err:
        raise DistressLexiconError(f"{where}: bad pattern: {err}") from None


def _symptom_phrases(lang: str, ids: Iterable[str], where: str) -> list[str]:
    from assistant.understanding.symptoms import load_vocabulary

    vocab = load_vocabulary()
    out: list[str] = []
    for symptom_id in ids:
        entry = vocab.symptoms.get(symptom_id)
        if entry is None:
            raise DistressLexiconError(f"{where}: unknown symptom id '{symptom_id}' (intents/symptoms.yaml)")
        out.extend(re.escape(normalize(p, lang)) for p in entry.phrases(lang))
    return [p for p in out if p]


_CLASS_REF: Final = re.compile(r"\{([a-z_]+)\}")


def _composed_cues(raw: Mapping[str, Any], path: str) -> dict[str, list[str]]:
    """``compose:`` cues: templates over ``word_classes:``, expanded at load.

    A template names word classes in braces — ``"{cannot} {vital}"``, ``"{body} (\\w+ ){0,3}{acute}"`` —
    so one line covers every body part × acute state (or person request × unwell state) instead of
    one pattern per sentence. Braces that are not a class name (``{0,3}``) stay regex repetitions."""
    classes_raw = raw.get("word_classes") or {}
    compose_raw = raw.get("compose") or {}
    if not isinstance(classes_raw, Mapping) or not isinstance(compose_raw, Mapping):
        raise DistressLexiconError(f"{path}: 'word_classes' and 'compose' must be mappings")
    classes: dict[str, str] = {}
    for name, items in classes_raw.items():
        words = _regex_list(items, f"{path}: word_classes.{name}")
        if not words:
            raise DistressLexiconError(f"{path}: word_classes.{name} is empty")
        classes[str(name)] = "(?:" + "|".join(f"(?:{w})" for w in words) + ")"
    out: dict[str, list[str]] = {}
    for category, templates in compose_raw.items():
        where = f"{path}: compose.{category}"
        for template in _regex_list(templates, where):
            unknown = [n for n in _CLASS_REF.findall(template) if n not in classes]
            if unknown:
                raise DistressLexiconError(f"{where}: unknown word class '{unknown[0]}' in {template!r}")
            out.setdefault(str(category), []).append(_CLASS_REF.sub(lambda m: classes[m.group(1)], template))
    return out


def parse_lexicon(raw: Any, path: str, lang: str) -> DistressLexicon:
    """Validate and compile a loaded lexicon document (DistressLexiconError names the key at fault)."""
    if not isinstance(raw, Mapping):
        raise DistressLexiconError(f"{path}: expected a mapping with 'cues:'")
    cues_raw = raw.get("cues")
    if not isinstance(cues_raw, Mapping) or not cues_raw:
        raise DistressLexiconError(f"{path}: needs a non-empty 'cues:' mapping of category → patterns")
    extra = raw.get("cue_symptoms") or {}
    if not isinstance(extra, Mapping):
        raise DistressLexiconError(f"{path}: 'cue_symptoms' must map categories to symptom ids")
    composed = _composed_cues(raw, path)
    cues: list[tuple[str, re.Pattern[str]]] = []
    order = list(cues_raw) + [c for c in list(extra) + list(composed) if c not in cues_raw]
    for category in dict.fromkeys(order):
        where = f"{path}: cues.{category}"
        patterns = _regex_list(cues_raw.get(category), where) + composed.get(category, [])
        patterns += _symptom_phrases(lang, _regex_list(extra.get(category), where), f"{path}: cue_symptoms")
        compiled = _compile(lang, patterns, where)
        if compiled is not None:
            cues.append((str(category), compiled))

    def rx(key: str, bounded: bool = True) -> re.Pattern[str] | None:
        return _compile(lang, _regex_list(raw.get(key), f"{path}: {key}"), f"{path}: {key}", bounded)

    def words(key: str) -> list[str]:
        return [str(w) for w in _regex_list(raw.get(key), f"{path}: {key}")]

    negation = no_negation = None
    if raw.get("negation_regex"):
        negation = re.compile(str(raw["negation_regex"]))
    elif words("negators"):
        negs = [w for w in words("negators") if w != "no"]
        bridge = _words(lang, words("negation_bridge"))
        negation = re.compile(rf"(?<![a-z])(?:{_words(lang, negs)})(?: (?:{bridge}))*\s*$")
        no_bridge = _words(lang, words("no_bridge"))
        no_negation = re.compile(rf"(?<![a-z])(?:no need (?:to|for)|no)(?: (?:{no_bridge}))*\s*$")
    hedges = words("hedges")
    hedge = re.compile(rf"^\s*(?:{_words(lang, hedges)})(?![a-z])") if hedges else None
    breaks = words("clause_breaks")
    clause_break = None
    if breaks:
        body = _words(lang, breaks)
        clause_break = re.compile(_bounded(lang, body))
    who = {key: words(key) for key in ("first_person", "others_far", "others_near")}
    return DistressLexicon(
        lang=lang,
        cues=tuple(cues),
        idioms=rx("idioms"),
        negation=negation,
        no_negation=no_negation,
        hedge=hedge,
        clause_break=clause_break,
        after_negation=_compile(lang, _regex_list(raw.get("after_negation"), path), path, bounded=False),
        recovered=rx("recovered"),
        remote_past=rx("remote_past"),
        recent_past=rx("recent_past"),
        ongoing=rx("ongoing"),
        media=rx("media"),
        hypothetical=rx("hypothetical"),
        question_start=rx("question_starts", bounded=False),
        question_when=rx("question_when"),
        first_person=re.compile(_bounded(lang, _words(lang, who["first_person"])))
        if who["first_person"]
        else None,
        others_far=re.compile(_bounded(lang, _words(lang, who["others_far"]))) if who["others_far"] else None,
        others_near=re.compile(_bounded(lang, _words(lang, who["others_near"])))
        if who["others_near"]
        else None,
        urgency=rx("urgency"),
        history=rx("history"),
        mild=rx("mild"),
        mild_categories=frozenset(words("mild_categories")),
        never_mild=rx("never_mild", bounded=False),
        never_thing=rx("never_thing", bounded=False),
        conditional_after=rx("conditional_after"),
        body_words=_body_words(lang),
        urgent_gap=rx("urgent_gap"),
        question_after=rx("question_after", bounded=False),
        pretend=_compile(
            lang,
            _regex_list(raw.get("pretend"), f"{path}: pretend")
            + (_regex_list(raw.get("only_asking"), f"{path}: only_asking") if ONLY_ASKING else []),
            f"{path}: pretend",
        ),
        cry_sounds=frozenset(words("cry_sounds")),
        reported=rx("reported"),
        elsewhere=rx("elsewhere"),
        polite_request=rx("polite_request", bounded=False),
        mentions=rx("mentions"),
        question_any=rx("question_any", bounded=False),
        sound_alikes=_sound_alikes(raw.get("sound_alikes"), f"{path}: sound_alikes"),
        sound_words=_sound_words(lang, words("sound_words")) if SOUND_WORDS else (),
        sound_keep=frozenset(normalize(w, lang) for w in words("sound_keep")),
        chronic=rx("chronic", bounded=False),
        dialect=(dialect := _dialect(raw.get("dialect"), f"{path}: dialect")),
        dialect_any=re.compile("|".join(f"(?:{p.pattern})" for p, _ in dialect)) if dialect else None,
        help_question=rx("help_question", bounded=False),
        reassurance=rx("reassurance"),
    )


def _pairs(raw: Any, where: str) -> list[tuple[str, str]]:
    """A lexicon list of ``[pattern, replacement]`` pairs, checked for shape (``dialect:``, ``sound_alikes:``)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DistressLexiconError(f"{where}: expected a list of [pattern, replacement] pairs")
    for item in raw:
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise DistressLexiconError(f"{where}: each entry is [pattern, replacement], got {item!r}")
    return [(item[0], item[1]) for item in raw]


def _dialect(raw: Any, where: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """``[[pattern, replacement], …]``, each pattern bounded by word edges (English); the replacement
    may use groups (``\\1``) and need not keep the length."""
    out: list[tuple[re.Pattern[str], str]] = []
    for source, replacement in _pairs(raw, where):
        try:
            pattern = re.compile(rf"(?<![a-z])(?:{source})(?![a-z])")
            pattern.sub(replacement, "")
        except (re.error, IndexError) as err:
            raise DistressLexiconError(f"{where}: bad entry {[source, replacement]!r}: {err}") from None
        out.append((pattern, replacement))
    return tuple(out)


def _sound_words(lang: str, items: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``sound_words:`` normalised, each with its toneless pinyin (Mandarin only; two characters or more)."""
    if lang != "zh":
        return ()
    from assistant.understanding.normalize import pinyin_tokens, tokenize

    out: list[tuple[str, tuple[str, ...]]] = []
    for item in items:
        word = normalize(item, lang)
        if len(word) >= 2:
            sound = tuple(pinyin_tokens(tokenize(word, lang)))
            out.append((word, sound))
            if SOUND_READINGS:
                out += [(word, other) for other in _other_readings(word, sound)]
    return tuple(sorted(out, key=lambda x: -len(x[0])))


def _other_readings(word: str, sound: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The word's sound with one character read another way it can be read (血 is xie in 吐血 / 流血,
    the recogniser's 吐雪 reads tu xue): one reading changed at a time."""
    from pypinyin import Style, pinyin

    out: list[tuple[str, ...]] = []
    for i, ch in enumerate(word):
        if i >= len(sound):
            break
        for alt in pinyin(ch, style=Style.NORMAL, heteronym=True)[0]:
            if alt != sound[i] and alt.isalpha():
                out.append((*sound[:i], alt, *sound[i + 1 :]))
    return out


def _sound_alikes(raw: Any, where: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """``[[pattern, replacement], …]``; the replacement must keep the length (cue positions hold)."""
    out: list[tuple[re.Pattern[str], str]] = []
    for source, replacement in _pairs(raw, where):
        try:
            pattern = re.compile(source)
        except re.error as err:
            raise DistressLexiconError(f"{where}: bad pattern {source!r}: {err}") from None
        out.append((pattern, replacement))
    return tuple(out)


def _body_words(lang: str) -> re.Pattern[str] | None:
    """Body-part words from the symptom vocabulary ("my legs gave way" is the speaker, not a thing)."""
    from assistant.understanding.symptoms import load_vocabulary

    words = [w for part in load_vocabulary().body_parts.values() for w in part.words.get(lang, ())]
    return re.compile(_bounded(lang, _words(lang, words))) if words else None


def lexicon_path(lang: str) -> Path:
    return data.intents_dir() / f"distress-{lang}.yaml"


@lru_cache(maxsize=4)
def load_lexicon(lang: str, path: str | None = None) -> DistressLexicon:
    """Load ``intents/distress-<lang>.yaml`` (cached per process: it is data, not config)."""
    from assistant.understanding.catalog import read_yaml

    file = Path(path) if path else lexicon_path(lang)
    raw = read_yaml(file, DistressLexiconError, "distress lexicon")
    return parse_lexicon(raw, str(file), lang)


# ---------------------------------------------------------------- detection


def _spans(pattern: re.Pattern[str] | None, text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in pattern.finditer(text)] if pattern is not None else []


def _overlaps(a: tuple[int, int], spans: Iterable[tuple[int, int]]) -> bool:
    return any(s < a[1] and a[0] < e for s, e in spans)


class DistressDetector:
    """Decides, per utterance, whether a danger cue stands. Stateless after construction."""

    def __init__(
        self,
        lang: str,
        lexicon: DistressLexicon | None = None,
        *,
        veto: DistressVeto | None = None,
        raiser: DistressRaiser | None = None,
    ) -> None:
        self.lang = lang
        self.lex = lexicon or load_lexicon(lang)
        self.veto = veto
        self.raiser = raiser

    @classmethod
    def for_stage(cls, lang: str, state_dir: str = "") -> DistressDetector:
        """The lexicon plus the learned veto and raiser (built or loaded from the cache); without
        either one if it cannot be built (the veto only removes alarms, the raiser only adds them on
        lines without any cue, so each is safe to lose)."""
        from assistant.understanding import distress_raise, distress_veto

        try:
            veto = distress_veto.load_or_build(lang, state_dir)
        except Exception as err:  # any failure leaves the lexicon deciding alone
            _LOGGER.error("event=distress_veto_unavailable lang=%s error=%s", lang, err)
            veto = None
        raiser = None
        if distress_raise.RAISE_AT.get(lang) is not None:  # None switches a language's raiser off
            try:
                raiser = distress_raise.load_or_build(lang, state_dir)
            except Exception as err:
                _LOGGER.error("event=distress_raiser_unavailable lang=%s error=%s", lang, err)
        return cls(lang, veto=veto, raiser=raiser)

    def detect(self, text: str, *, normalized: bool = False, raw: str = "") -> DistressResult:
        """Cues in ``text`` and the evidence against each (``normalized``: text already normalised;
        ``raw``: the words as said, when ``text`` is normalised — see :data:`ZH_FOLDED_QUESTION`)."""
        raw = raw if normalized else text
        text = text if normalized else normalize(text, self.lang)
        for pattern, replacement in self.lex.sound_alikes:
            text = pattern.sub(lambda m, r=replacement: r if len(r) == len(m.group(0)) else m.group(0), text)
        if self.lex.sound_words:
            text = self._sound_words(text)
        text = self.standard(text)
        found: list[Cue] = []
        for category, pattern in self.lex.cues:
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    found.append(Cue(category, m.start(), m.end(), m.group(0)))
        if not found and self.lex.cry_sounds and len(text) <= 6:
            from assistant.understanding.normalize import pinyin_tokens, tokenize

            sound = " ".join(pinyin_tokens(tokenize(text, self.lang)))
            if sound in self.lex.cry_sounds:
                return DistressResult(True, (Cue("cry", 0, len(text), text),))
        if not found and self.lex.mentions is None:
            return self._raised(text)
        found = self._outermost(found)
        if self.lex.mentions is not None:  # weak words: only their clearing counts (a veto)
            for m in self.lex.mentions.finditer(text):
                if not any(c.start <= m.start() < c.end for c in found):
                    found.append(Cue("mention", m.start(), m.end(), m.group(0)))
        ctx = _Context.of(self.lex, text)
        folded = self._folded_question(raw, text)
        if folded is not None:
            ctx = replace(ctx, folded_end=folded)
        standing: list[Cue] = []
        cleared: list[tuple[Cue, str]] = []
        for cue in found:
            reason = self._clearing(cue, text, ctx)
            if reason:
                cleared.append((cue, reason))
            elif cue.category != "mention":
                standing.append(cue)
        scope = self._scope(found, text, ctx) if standing and self._reads_scope() else ()
        if (
            standing
            and self.veto is not None
            and not self._acute(standing)
            and self.veto.clears(text, {c.category for c in standing}, scope)
        ):
            cleared += [(cue, "learned") for cue in standing]
            standing = []
        if not standing and not cleared:
            return self._raised(text)
        return DistressResult(bool(standing), tuple(standing), tuple(cleared))

    def standard(self, text: str) -> str:
        """Regional words read the standard way (:data:`DIALECT`; "ah cannae get up" → "i can not get up")."""
        if (
            not DIALECT.get(self.lang)
            or self.lex.dialect_any is None
            or not self.lex.dialect_any.search(text)
        ):
            return text  # most lines: one search, no rewriting
        for pattern, replacement in self.lex.dialect:
            text = pattern.sub(replacement, text)
        return re.sub(" +", " ", text).strip()

    def _folded_question(self, raw: str, text: str) -> int | None:
        """Mandarin: where (in ``text``) the last A-not-A question folded by normalisation ends, when
        normalisation wrote its 吗 at the end of the line (:data:`ZH_FOLDED_QUESTION`); else None."""
        if not (ZH_FOLDED_QUESTION and self.lang == "zh" and raw and text.endswith("吗")):
            return None
        said = raw.lower()
        if re.search(r"[吗呢]\W*$", said):
            return None  # the speaker's own 吗
        folds = list(_ZH_FOLD.finditer(said))
        if not folds:
            return None
        head = normalize(said[: folds[-1].start()], self.lang)
        if head.endswith("吗") and not re.search(r"[吗呢]\W*$", said[: folds[-1].start()]):
            head = head[:-1]  # an earlier fold in the prefix wrote its own 吗
        return len(head) + 1

    def _new_clause(self, text: str, folded: int, cue: Cue) -> bool:
        """Mandarin: between a folded question and a cue, a new clause opens — an interjection (哎哟) or
        a subject (我, 老伴) that is no verb's object (告诉我中风…, 给我讲讲心梗 stay one question)."""
        between = text[folded : cue.end]
        if re.search("哎|唉|哟|呦", text[folded : cue.start]):
            return True
        for pattern in (self.lex.first_person, self.lex.others_near):
            if pattern is None:
                continue
            for m in pattern.finditer(between):
                if between[max(0, m.start() - 1) : m.start()] not in _ZH_OBJECT_AFTER:
                    return True
        return False

    def _acute(self, standing: list[Cue]) -> bool:
        """A standing cue for one of the most acute signs (``never_mild``), when
        ``distress_veto.ACUTE_FLOOR`` is on: never vetoed."""
        from assistant.understanding import distress_veto

        never = self.lex.never_mild
        return (
            bool(distress_veto.ACUTE_FLOOR.get(self.lang))
            and never is not None
            and any(never.search(c.text) for c in standing)
        )

    def _reads_scope(self) -> bool:
        from assistant.understanding import distress_veto

        return bool(distress_veto.SCOPE_FEATURES.get(self.lang))

    def scope(self, text: str) -> list[str]:
        """The lexicon's reading of a normalised line as features for the veto
        (``distress_veto.SCOPE_FEATURES``): see :meth:`_scope`. Empty without any cue."""
        text = self.standard(text)
        found: list[Cue] = []
        for category, pattern in self.lex.cues:
            found += [
                Cue(category, m.start(), m.end(), m.group(0))
                for m in pattern.finditer(text)
                if m.end() > m.start()
            ]
        found = self._outermost(found)
        if self.lex.mentions is not None:
            for m in self.lex.mentions.finditer(text):
                if not any(c.start <= m.start() < c.end for c in found):
                    found.append(Cue("mention", m.start(), m.end(), m.group(0)))
        return self._scope(found, text, _Context.of(self.lex, text)) if found else []

    def _scope(self, found: list[Cue], text: str, ctx: _Context) -> list[str]:
        """Per cue: ``#cat:`` its category, ``#who:`` whose it is (self / near / far / thing / none),
        ``#why:`` the reason the rules clear it (``none``: it stands); per line: ``#ctx:`` the evidence
        found (urgent, remote, recent, ongoing, recovered, media, reported, elsewhere, pretend, history,
        idiom). Words, not decisions: the veto weighs them with the n-grams."""
        out: list[str] = []
        for cue in found:
            who = self._who(text, cue, self._before(text, cue.start))
            why = self._clearing(cue, text, ctx) or "none"
            out += [f"#cat:{cue.category}", f"#who:{who}", f"#why:{why}", f"#catwho:{cue.category}:{who}"]
        flags = {
            "urgent": ctx.urgent,
            "remote": ctx.remote,
            "recent": ctx.recent,
            "ongoing": ctx.ongoing,
            "recovered": bool(ctx.recovered),
            "media": ctx.media,
            "reported": ctx.reported,
            "elsewhere": ctx.elsewhere,
            "pretend": ctx.pretend,
            "history": bool(ctx.history),
            "idiom": bool(ctx.idioms),
        }
        out += [f"#ctx:{name}" for name, on in flags.items() if on]
        return out

    def _sound_words(self, text: str) -> str:
        """Spans that sound like a danger word (toneless pinyin) but are written otherwise, rewritten to
        the word: what a Mandarin recogniser writes for 中风 / 救护车 / 一跤 when it picks the wrong
        characters. At least one and at most half the characters may differ (a span equal to the word
        needs nothing; one that shares too few characters is another word); real words that sound the
        same (``sound_keep``) stay. Same length, so cue positions hold."""
        return rewrite_sounds(text, self.lex.sound_words, self.lex.sound_keep)

    def _raised(self, text: str) -> DistressResult:
        """No danger word at all: the learned raiser may still hear an emergency (category
        ``learned``: "there's a heaviness on my chest", 我出气不赢了)."""
        if self.raiser is not None and text and self.raiser.raises(text):
            return DistressResult(True, (Cue(LEARNED, 0, len(text), text),))
        return DistressResult(False)

    @staticmethod
    def _outermost(cues: list[Cue]) -> list[Cue]:
        """Longest cue wins where cues overlap ("can not breathe" over "breathe")."""
        cues.sort(key=lambda c: (c.start, -(c.end - c.start)))
        out: list[Cue] = []
        for cue in cues:
            if out and cue.start < out[-1].end:
                if cue.end - cue.start > out[-1].end - out[-1].start:
                    out[-1] = cue
                continue
            out.append(cue)
        return out

    # ------------------------------------------------------------ evidence

    def _clearing(self, cue: Cue, text: str, ctx: _Context) -> str:
        span = (cue.start, cue.end)
        last_word = cue.start + (cue.text.rfind(" ") + 1 if self.lang == "en" else 0)
        for s, e in ctx.idioms:
            covered = min(e, cue.end) - max(s, cue.start)
            if covered >= (cue.end - cue.start) / 2 or (s <= last_word and cue.end <= e):
                return "idiom"
        before = self._before(text, cue.start)
        after = cue.category not in ("self_harm", "overdose") and self._negated_after(text, cue.end)
        if self._negated_before(before, cue) or after:
            return "negation"
        who = self._who(text, cue, before)
        if who == "thing" and cue.category not in _NEVER_THINGS:
            return "thing"  # "the souffle collapsed", "the engine is choking"
        if cue.category == "request" or self._polite_request(text, cue):
            if self._imagined(text, cue) or self._conditional_after(text, cue):
                return "question"  # a request is a request, asked politely or not
        elif self._hypothetical(text, cue, before, who, ctx.folded_end):
            return "question"
        if cue.category in self.lex.mild_categories and self._mild(text, cue) and not ctx.urgent:
            return "mild"
        if ctx.media and who != "self" and not self._media_setting(text, cue, who, ctx):
            return "media"
        if ctx.reported and who != "self" and not ctx.urgent:
            return "media"
        if ctx.elsewhere and who == "near" and not ctx.urgent:
            who = "far"  # "my sister has trouble breathing in the cold, she lives in scotland"
        if who == "far" and not ctx.urgent:
            return "other_person"
        history = (
            _overlaps(span, ctx.history)
            or any(s <= cue.start and cue.end <= e + 12 for s, e in ctx.history)
            or (who in ("near", "far") and any(s >= cue.end for s, _ in ctx.history))
        )  # "he had a stroke", 他摔了一跤住院了: someone else's history, or in hospital now
        if history and who != "self" and not ctx.urgent:
            return "other_person"
        if ctx.pretend:
            return "idiom"
        if self._chronic(cue, before) and not ctx.urgent:
            return "past"  # 我家老头子说话本来就含糊: how he always is
        if any(s <= cue.start < e and text.startswith(("from", "after", "since"), s) for s, e in ctx.history):
            return "past"
        if ctx.remote and not ctx.ongoing and not ctx.urgent:
            return "past"
        if ctx.recent and who in ("near", "far") and not ctx.ongoing and not ctx.urgent:
            return "past"  # "my husband fell on Tuesday": someone else, a time that is over
        if ctx.recovered_after(cue.end) and not ctx.urgent and not ctx.ongoing:
            return "recovered"
        return ""

    def _media_setting(self, text: str, cue: Cue, who: str, ctx: _Context) -> bool:
        """:data:`MEDIA_SETTING`: someone near, urgency, and every media word in a clause before the
        cue's ("we were watching the quiz and my wife just slumped …, she won't wake up")."""
        lex = self.lex
        if not MEDIA_SETTING.get(self.lang) or who != "near" or not ctx.urgent:
            return False
        if lex.media is None or lex.clause_break is None:
            return False
        breaks = [m.start() for m in lex.clause_break.finditer(text, 0, cue.start)]
        if not breaks:
            return False
        clause = breaks[-1]
        return all(m.end() <= clause for m in lex.media.finditer(text))

    def _chronic(self, cue: Cue, before: str) -> bool:
        """A lasting trait (本来就, 向来, 天生) in the cue's clause before or inside a stroke, breathing,
        chest or collapse cue (说话本来就含糊)."""
        if self.lex.chronic is None or cue.category not in _CHRONIC_CATEGORIES:
            return False
        return bool(self.lex.chronic.search(before + cue.text))

    def _before(self, text: str, start: int) -> str:
        """The clause before ``start``, at most the window, cut after the last clause break."""
        n = CUE_BEFORE_WINDOW[self.lang]
        if self.lang == "en":
            words = text[:start].split()[-n:]
            window = " ".join(words)
        else:
            window = text[max(0, start - n) : start]
        if self.lex.clause_break is not None:
            breaks = list(self.lex.clause_break.finditer(window))
            if breaks:
                window = window[breaks[-1].end() :]
        return window.strip()

    def _negated_before(self, before: str, cue: Cue) -> bool:
        if not before:
            return False
        neg = self.lex.negation
        if neg is not None:
            m = neg.search(before)
            stutter = (
                m is not None
                and self.lang == "en"
                and cue.text.startswith(("can not ", "could not "))
                and re.search(r"(?<![a-z])(can|could) $", before[: m.start()]) is not None
            )  # "i can't, i can't breathe": a repeated inability, not a negated one
            if m is not None and not stutter:
                after_neg = before[m.start() :].split(" ", 1)[1] if " " in before[m.start() :] else ""
                hedge = self.lex.hedge
                if not (hedge is not None and self.lang == "en" and hedge.match(after_neg)):
                    return True
        no = self.lex.no_negation
        if no is not None and cue.category != "cry" and no.search(before):
            return True
        if (
            no is not None
            and cue.category == "cry"
            and re.search(r"(?<![a-z])no need (?:to|for)\s*$", before)
        ):
            return True
        return False

    def _negated_after(self, text: str, end: int) -> bool:
        pattern = self.lex.after_negation
        if pattern is None:
            return False
        tail = text[end : end + AFTER_WINDOW[self.lang]]
        if self.lang == "en":
            return bool(re.match(rf"^\s*(?:{pattern.pattern})(?![a-z])", tail))
        return bool(pattern.match(tail))

    def _speaker_word(self, text: str, m: re.Match[str], cue: Cue) -> bool:
        """A possessive ("my book", "our car") is not the experiencer; "my legs", "my chest" are."""
        if self.lang != "en" or m.group(0) not in ("my", "our", "me", "us"):
            return True
        rest = text[m.end() :].lstrip()
        if m.start() >= cue.start or m.end() + 1 >= cue.start:
            return True
        body = self.lex.body_words
        return bool(body is not None and body.match(rest))

    def _mild(self, text: str, cue: Cue) -> bool:
        """Mild or brought on by effort, in the cue's clause ("a bit breathless on the stairs")."""
        if self.lex.mild is None:
            return False
        if self.lex.never_mild is not None and self.lex.never_mild.search(cue.text):
            return False
        lo = max(0, cue.start - (30 if self.lang == "en" else 8))
        hi = cue.end + (40 if self.lang == "en" else 10)
        return bool(self.lex.mild.search(text[lo:hi]))

    _AUX: Final = frozenset(
        "is are was were has have had been just keeps kept always will would got gone all having really".split()
    )
    _DETS: Final = frozenset("the a an my our this that his her their your its".split())
    _FACULTIES: Final = frozenset(
        "speech voice words breathing breath heart heartbeat pulse vision sight eyesight balance memory "
        "sugar pressure temperature head chest legs arms face mouth tongue lips body side left right".split()
    )

    def _thing_subject(self, text: str, cue: Cue) -> bool:
        """English: the cue's subject is a thing ("the old sofa is falling apart", "the deckchair collapsed")."""
        if self.lang != "en":
            return False
        words = text[: cue.start].split()
        while words and (words[-1] in self._AUX or (THING_PASSIVE.get(self.lang) and words[-1] == "being")):
            words.pop()
        if len(words) < 2:
            return False
        noun = words[-1]
        if noun in self._FACULTIES:
            return False  # "my speech is slurred" is the speaker
        lex = self.lex
        for pattern in (lex.first_person, lex.others_near, lex.others_far, lex.body_words):
            if pattern is not None and pattern.fullmatch(noun):
                return False
        for i in (-3, -2):
            if len(words) >= -i and words[i] in self._DETS:
                before = words[i - 1] if len(words) > -i else ""
                if before in self._PREPOSITIONS:
                    return THING_PHRASE and self._thing_with_place(words, i - 1, cue)
                    # else "… in the garden, can't get up": a place, not the subject
                if not (self.lex.never_thing is not None and self.lex.never_thing.search(cue.text)):
                    return True
        return False

    def _thing_with_place(self, words: list[str], prep: int, cue: Cue) -> bool:
        """``words[prep]`` is a preposition before the place ("in the pantry"): the subject is a thing
        only if a determiner and a noun that names no person, body part or faculty open the clause
        just before it ("the shelf in the pantry")."""
        if prep - 2 < -len(words) or words[prep - 2] not in self._DETS:
            return False
        opener = prep - 2 == -len(words) or words[prep - 3] in _CLAUSE_OPENERS
        noun = words[prep - 1]
        if not opener or not noun.isalpha() or noun in self._FUNCTION or noun in self._FACULTIES:
            return False
        lex = self.lex
        for pattern in (lex.first_person, lex.others_near, lex.others_far, lex.body_words):
            if pattern is not None and pattern.fullmatch(noun):
                return False
        return not (lex.never_thing is not None and lex.never_thing.search(cue.text))

    _PREPOSITIONS: Final = frozenset(
        "in on at by near under behind from into onto off over against beside between through across round "
        "around outside inside up down with like".split()
    )

    _FUNCTION: Final = frozenset(
        "i me my we us our you your he she it they him her them his their its the a an this that these those "
        "and but or so then now oh well yes no please help quick jiayi okay right sorry hello hi morning "
        "there here what who when where how why if as at in on by to from for of with just also too very "
        "think thought say said says feel felt know knew fear afraid worried scared am is are was were be "
        "been being has have had do does did can could will would should may might must not never again "
        "still all both only even really ever nearly almost suddenly probably maybe somebody someone "
        "anyone anybody everyone nobody one".split()
    )

    def _named_subject(self, text: str, cue: Cue) -> bool:
        """English: a bare word opening the cue's clause that is no function word: a name ("margaret fell")."""
        if self.lang != "en" or cue.text.split()[0] in ("i", "my", "we", "our", "me"):
            return False
        words = text[: cue.start].split()
        while words and (words[-1] in self._AUX or words[-1].endswith("ly")):
            words.pop()
        if not words:
            return False
        name = words[-1]
        opener = len(words) == 1 or words[-2] in ("and", "but", "so", "oh", "well", "think", "that", "then")
        lex = self.lex
        for pattern in (lex.first_person, lex.others_near, lex.others_far, lex.body_words):
            if pattern is not None and pattern.fullmatch(name):
                return False
        return opener and name.isalpha() and name not in self._FUNCTION and name not in self._FACULTIES

    def _who(self, text: str, cue: Cue, before: str) -> str:
        """self / near / far / none: the nearest person word before (or opening) the cue."""
        lex = self.lex
        head = text[: cue.end]
        best: tuple[int, str] | None = None
        longest = 0
        window_start = max(0, cue.start - (40 if self.lang == "en" else 8))
        for kind, pattern in (("self", lex.first_person), ("near", lex.others_near), ("far", lex.others_far)):
            if pattern is None:
                continue
            for m in pattern.finditer(head, window_start):
                if m.start() >= cue.end:
                    break
                pos = m.start()
                if self.lang == "en" and text[max(0, pos - 8) : pos].endswith(
                    ("like a ", "like an ", "as a ")
                ):
                    continue  # "panting like a dog": a comparison, not someone else
                if kind == "self" and not self._speaker_word(text, m, cue):
                    continue
                if kind != "self" and pos >= cue.start:
                    continue  # "take them all": a word inside the cue is not its experiencer
                if self.lang == "zh" and kind == "self" and pos < cue.start - 4:
                    continue  # 我看养生节目说胸口疼: the speaker is not the one with chest pain
                if (
                    self.lang == "zh"
                    and kind != "self"
                    and text[max(0, pos - 1) : pos] in ("被", "让", "把", "给", "要", "叫", "找", "请")
                ):
                    continue  # 我被狗咬了, 不要医生要救护车: the dog / doctor is not the experiencer
                if self.lang == "zh" and kind == "near" and self._someone_elses(text, pos):
                    kind = "far"  # 邻居家老头, 对门的老太太: someone else's, not mine (我家老头 is mine)
                if (
                    ZH_MY_ELDERS
                    and self.lang == "zh"
                    and kind == "far"
                    and m.group(0) in _ZH_ELDERS
                    and text[:pos].endswith(_ZH_MINE)
                ):
                    kind = "near"  # 我奶奶, 俺家婆婆: the speaker's own elder (ZH_MY_ELDERS)
                size = m.end() - m.start()
                if (
                    best is None
                    or pos > best[0]
                    or (pos == best[0] and size > longest)  # 孩子他爸 over 孩子
                    or (pos == best[0] and size == longest and kind != "self")
                ):
                    best, longest = (pos, kind), size
        if self._thing_subject(text, cue) and (best is None or best[0] < cue.start - 25):
            return "thing"
        if self._named_subject(text, cue) and (best is None or best[0] < cue.start - 25):
            return "near"
        if best is None:
            return "none"
        if best[1] == "self" and best[0] >= cue.start:
            return "self"  # "my chest hurts": the cue opens with the speaker
        return best[1]

    @staticmethod
    def _someone_elses(text: str, pos: int) -> bool:
        """Mandarin: a near word owned by someone else (邻居家老头, 对门的老太太, 有个老太太), not by 我/俺/咱."""
        head = text[:pos]
        if head.endswith(("有个", "有一个", "那个", "这个")):
            return True
        if head.endswith(("他", "她", "你", "人家", "他们", "她们", "同学", "朋友", "邻居", "同事")):
            return True  # 她妈妈, 同学她妈: someone else's mother, not the speaker's
        if head.endswith(("家", "的")):
            owner = head[:-1]
            return bool(owner) and not owner.endswith(
                ("我", "俺", "咱", "我们", "咱们", "俺们", "我们家", "俺家", "咱家")
            )
        return False

    def _imagined(self, text: str, cue: Cue) -> bool:
        """A conditional, a worry or a dream before the cue ("if I fall", 万一摔倒了的话)."""
        lex = self.lex
        prefix = text[: cue.start]
        if lex.hypothetical is not None:
            hits = list(lex.hypothetical.finditer(prefix))
            if REASSURANCE.get(self.lang) and lex.reassurance is not None and hits:
                spared = _spans(lex.reassurance, prefix)
                hits = [h for h in hits if not _overlaps(h.span(), spared)]
            if hits:
                gap = prefix[hits[-1].end() :]
                if lex.urgent_gap is None or not lex.urgent_gap.search(gap):
                    return True
            if self.lang == "zh" and re.match(
                r"^(了)?(的话|怎么办|会怎样|该怎么|有什么|是什么)", text[cue.end :]
            ):
                return True
        return False

    def _summons(self, text: str, cue: Cue) -> bool:
        """:data:`HELP_QUESTION`: the line opens asking how to get help to come and the cue is told
        after that question with no condition or worry between ("what's the number for the ambulance,
        my wife's not breathing"; not "who would you call if i had a fall")."""
        lex = self.lex
        if not HELP_QUESTION.get(self.lang) or lex.help_question is None:
            return False
        m = lex.help_question.search(text)
        if m is None or m.end() > cue.start:
            return False
        gap = text[m.end() : cue.start]
        for pattern in (lex.conditional_after, lex.hypothetical, lex.question_when):
            if pattern is not None and pattern.search(gap):
                return False
        return True

    def _polite_request(self, text: str, cue: Cue) -> bool:
        """A cry asked politely ("could you send an ambulance please", 能帮我叫救护车吗): still a request."""
        polite = self.lex.polite_request
        return cue.category == "cry" and polite is not None and polite.search(text) is not None

    def _conditional_after(self, text: str, cue: Cue) -> bool:
        cond = self.lex.conditional_after
        return cond is not None and cond.search(text, cue.end) is not None

    def _hypothetical(self, text: str, cue: Cue, before: str, who: str, folded: int | None = None) -> bool:
        lex = self.lex
        opener_folded = False
        if folded is not None and cue.start > folded + 2 and self._new_clause(text, folded, cue):
            text = text[:-1]  # the folded question's 吗 (ZH_FOLDED_QUESTION), not this cue's
            start = lex.question_start.search(text) if lex.question_start is not None else None
            opener_folded = start is not None and start.end() <= folded + 1
        prefix = text[: cue.start]
        if self._imagined(text, cue):
            return True
        urgent_cry = cue.category == "cry" and self.lang == "zh" and bool(re.search("快|赶紧|马上", cue.text))
        if lex.question_after is not None and lex.question_after.search(text, cue.end) and not urgent_cry:
            return True  # 快来帮帮我 stays a cry after 有没有人啊 (normalised to a question)
        summons = self._summons(text, cue)
        if lex.question_any is not None and lex.question_any.search(text) and not summons:
            return True
        if self.lang == "zh" and lex.question_after is not None and lex.question_when is not None:
            if lex.question_when.search(text) and lex.question_after.search(text):
                return True
        cond = lex.conditional_after
        if cond is not None and cond.search(text, cue.end):
            if " you" in f" {text}" or (lex.question_start is not None and lex.question_start.search(text)):
                return True
            if ADVICE_QUESTION and self.lang == "en" and _ADVICE_EN.match(text):
                return True  # "should i call an ambulance if i bang my head": asking what to do then
        if (
            lex.question_start is not None
            and lex.question_start.search(text)
            and not summons
            and not opener_folded
        ):
            if (
                who != "self"
                or cue.category in ("cry", "alarm")
                or (lex.question_when is not None and lex.question_when.search(prefix))
            ):
                return True
        return False


ADVICE_QUESTION: Final = False
"""Round 11 (dis14en), off (no unseen figure moved: dev14 even, pooled halves): a cue followed by a condition in a line that opens asking what the speaker
should do ("should i call an ambulance if …", "do i ring 999 when …") is a question, like the same
condition in a request to the assistant ("can you call an ambulance if i need one"). English only."""
_ADVICE_EN: Final = re.compile(
    r"^((so|oh|well|now|jiayi|er|erm|um|and|tell me|sorry) )*(should|shall|do|would|must|ought) (i|we)"
    r"(?! not)(?![a-z])"
)

THING_PHRASE: Final = False
THING_PASSIVE: Final = {"en": False, "zh": False}
"""Round 14 (dis17en): "being" is an auxiliary between a thing and its cue, as "been" is ("the roses are
being choked by bindweed"): the subject is the thing. Off: it fixed one tuned-on line of
distress-dev17's odd half; no unseen figure moved (pooled even halves through dev16, stage, 418/446
recall and 20/535 false alarms on and off; dev17 even 51/56, 4/80), and no training or intent-set line
changed its lexicon decision."""
"""Round 11 (dis14en), off (no unseen figure moved: dev14 even, pooled halves): a thing named with a place opens the clause ("the shelf in the pantry
collapsed", "and the ladder by the shed gave way"): its subject is the thing, not the place."""
_CLAUSE_OPENERS: Final = frozenset("and but so oh well then when".split())

_DECLINED_HELP: Final = {
    "en": r"(?<![a-z])(?:do not|no need to|no need for|not|never|without) (?:call |get |send |ring |phone |need |want )?"
    r"(?:for )?(?:an |the |any )?(?:ambulance|paramedics|help|nine nine nine)(?![a-z])",
    "zh": r"(?:不用|不要|别|不需要|甭|没必要)(?:叫|打|喊|找|派)?(?:救护车|一二零|急救|人来)",
}
"""Help the speaker declines: not urgency (the declined cue itself is cleared as negated; a standing
cue elsewhere still stands, fail-closed)."""


@dataclass(frozen=True)
class _Context:
    """Utterance-wide evidence, found once per utterance."""

    idioms: list[tuple[int, int]]
    history: list[tuple[int, int]]
    media: bool
    urgent: bool
    remote: bool
    ongoing: bool
    recovered: list[tuple[int, int]]
    pretend: bool = False
    reported: bool = False
    recent: bool = False
    elsewhere: bool = False
    folded_end: int | None = None
    """Mandarin: where a folded A-not-A question ends (:data:`ZH_FOLDED_QUESTION`)."""

    def recovered_after(self, pos: int) -> bool:
        return any(s >= pos for s, _ in self.recovered)

    @classmethod
    def of(cls, lex: DistressLexicon, text: str) -> _Context:
        recovered = _spans(lex.recovered, text)
        # "fine now" is a recovery, not urgency, and help declined ("don't call an ambulance", 不用叫
        # 救护车) is no urgency either: judge urgency on the text without them
        rest = text
        declined = (
            [m.span() for m in re.finditer(_DECLINED_HELP[lex.lang], text)]
            if lex.lang in _DECLINED_HELP
            else []
        )
        for s, e in sorted(recovered + declined, reverse=True):
            rest = rest[:s] + " " * (e - s) + rest[e:]
        remote = _spans(lex.remote_past, text)
        recent = _spans(lex.recent_past, text)
        ongoing = bool(lex.ongoing is not None and lex.ongoing.search(text))
        return cls(
            idioms=_spans(lex.idioms, text),
            history=_spans(lex.history, text),
            media=bool(lex.media is not None and lex.media.search(text)),
            urgent=bool(lex.urgency is not None and lex.urgency.search(rest)),
            remote=bool(remote) or (bool(recent) and bool(recovered)),
            ongoing=ongoing,
            recovered=recovered,
            pretend=bool(lex.pretend is not None and lex.pretend.search(text)),
            reported=bool(lex.reported is not None and lex.reported.search(text)),
            recent=bool(recent),
            elsewhere=bool(lex.elsewhere is not None and lex.elsewhere.search(text)),
        )
