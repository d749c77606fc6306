"""The bilingual lay symptom vocabulary (``intents/symptoms.yaml``) and finding symptoms in speech.

``load_vocabulary()`` reads 343 symptoms (id, body part, spoken name per language, urgent flag,
lay phrases in English and Mandarin) and 58 body parts. :class:`SymptomFinder` turns an utterance
into a normalised symptom id and, when one was named, a body part:

1. the longest vocabulary phrase in the utterance wins (so urgent wordings, which are longer, beat
   their plain neighbours: "crushing pain in my chest" over "pain in my chest"); bare one-word
   phrases that are loose on their own (cold, wind, 烧, 吐) only count when nothing longer matched;
2. otherwise body-part patterns: "my X hurts", "pain in my X", "X is swollen", "sore X", X疼/X肿/X痒
   → ``<part>_pain`` (or the part's swelling / itch / numbness entry) and the part.

Only ids and body-part ids leave the device as slots; the words heard go only in the transcript,
which is sent only when the caregiver opted in (``backend.send_transcripts``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from assistant import data
from assistant.understanding.normalize import normalize, pinyin_tokens, standard_zh, tokenize
from assistant.understanding.readings import find_reading

_LOGGER = logging.getLogger(__name__)

LOOSE_PHRASES: Final = {
    "en": frozenset(
        {"cold", "wind", "runs", "fit", "hot", "low", "down", "sick", "off", "funny", "pump", "plate"}
    ),
    "zh": frozenset({"烧", "吐", "冷", "热", "风", "累", "晕", "麻", "痒", "喘", "乏"}),
}
"""Phrases too loose to count when anything longer matched (helper's note in the vocabulary)."""

READINGS: Final = True
"""Mandarin: a blood pressure, blood sugar or temperature said as an out-of-range figure (早上量的血压
一百六十多, 空腹血糖九点多) is a symptom report (:mod:`.readings`) when no symptom word was heard."""
_ZH_DEGREE: Final = re.compile(r"有一点儿?|有点儿?|有些|特别|非常|挺|蛮|越来越|又|老是|总是|一直")
"""Mandarin degree and again-words said inside a symptom phrase (气有点短 = 气短, 头有些晕 = 头晕,
血压又高了 = 血压高了)."""

# "my X hurts" kinds: (English pattern with {part}, Mandarin pattern with {part}, symptom suffix)
_PART_PATTERNS_EN: Final = (
    (
        r"(?:my |the |in my |on my )?{part} (?:is |are |has been |have been |feels |feel |keeps )?(?:really |very |so |a bit |bit |quite |awfully )?(?:hurting|hurts|hurt|aching|aches|ache|sore|painful|killing me|throbbing|playing up|giving me (?:grief|gyp|jip)|bad|agony|tender)",
        "pain",
    ),
    (
        r"(?:pain|pains|ache|aching|soreness|twinge|twinges|stabbing|throbbing|cramp|cramps)(?: pain)? (?:in|on|at|round|around|behind|under|down) (?:my |the )?(?:\w+ )?{part}",
        "pain",
    ),
    (r"(?:sore|aching|painful|bad|stiff|tender|dodgy|gammy|poorly) {part}", "pain"),
    (
        r"{part} (?:is |are |has |have |looks |feels )?(?:gone |got |all |a bit |really |very )?(?:swollen|swelling|puffy|puffed up|up like a balloon)",
        "swelling",
    ),
    (r"(?:swollen|swelling in (?:my |the )?|puffy) {part}", "swelling"),
    (r"{part} (?:is |are |feels |keeps )?(?:really |very |so )?(?:itchy|itching|itches)", "itch"),
    (
        r"{part} (?:is |are |has |have |feels |feel |gone |keeps going )*(?:numb|tingly|tingling|dead|pins and needles)",
        "numbness",
    ),
)
_PART_PATTERNS_ZH: Final = (
    (
        r"{part}(?:有点|有些|特别|很|好|老是|一直|总是|又|还是|还)?(?:疼|痛|酸|胀痛|刺痛|隐隐作痛|疼得|不舒服|难受)",
        "pain",
    ),
    (r"{part}(?:有点|有些|很|又)?(?:肿|肿了|发肿|浮肿)", "swelling"),
    (r"{part}(?:有点|有些|很|好)?(?:痒|发痒)", "itch"),
    (r"{part}(?:有点|有些|很|发)?(?:麻|木|麻木|发麻)", "numbness"),
)
_KIND_FALLBACK: Final = {"pain": "pain", "swelling": "swelling", "itch": "itch", "numbness": "numbness"}


class SymptomVocabularyError(Exception):
    """``intents/symptoms.yaml`` is broken; the message says where."""


@dataclass(frozen=True)
class Symptom:
    id: str
    body_part: str
    say: Mapping[str, str]
    urgent: bool
    words: Mapping[str, tuple[str, ...]]
    """Language → lay phrases."""

    def phrases(self, lang: str) -> tuple[str, ...]:
        return self.words.get(lang, ())


@dataclass(frozen=True)
class BodyPart:
    id: str
    words: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Vocabulary:
    symptoms: Mapping[str, Symptom]
    body_parts: Mapping[str, BodyPart]

    def say(self, symptom_id: str, lang: str) -> str:
        entry = self.symptoms.get(symptom_id)
        return entry.say.get(lang, "") if entry else ""


@dataclass(frozen=True)
class FoundSymptom:
    symptom: str
    """Normalised symptom id (``intents/symptoms.yaml``)."""
    body_part: str = ""
    """Body part id when the person named one ("my knee hurts"), else ''."""
    urgent: bool = False
    span: tuple[int, int] = field(default=(0, 0))
    loose: bool = False
    """Only a loose one-word phrase matched (cold, 烧): weak evidence of a symptom report."""
    reading: bool = False
    """Found as an out-of-range home reading (血压一百六, 血糖十一点五), not a symptom word."""


def _str_tuple(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SymptomVocabularyError(f"{where}: expected a list of phrases")
    return tuple(str(v) for v in value)


def parse_vocabulary(raw: Any, path: str) -> Vocabulary:
    if not isinstance(raw, Mapping):
        raise SymptomVocabularyError(f"{path}: expected 'symptoms:' and 'body_parts:'")
    parts: dict[str, BodyPart] = {}
    for n, item in enumerate(raw.get("body_parts") or [], 1):
        if not isinstance(item, Mapping) or "id" not in item:
            raise SymptomVocabularyError(f"{path}: body_parts item {n}: needs an id")
        words = {lang: _str_tuple(item.get(lang), f"{path}: body part {item['id']}") for lang in ("en", "zh")}
        parts[str(item["id"])] = BodyPart(str(item["id"]), words)
    symptoms: dict[str, Symptom] = {}
    for n, item in enumerate(raw.get("symptoms") or [], 1):
        where = f"{path}: symptoms item {n}"
        if not isinstance(item, Mapping) or "id" not in item:
            raise SymptomVocabularyError(f"{where}: needs an id")
        sid = str(item["id"])
        part = str(item.get("body_part") or "")
        if part and part not in parts:
            raise SymptomVocabularyError(f"{where} '{sid}': unknown body_part '{part}'")
        say = item.get("say") or {}
        if not isinstance(say, Mapping):
            raise SymptomVocabularyError(f"{where} '{sid}': 'say' maps en/zh to a spoken name")
        words = {lang: _str_tuple(item.get(lang), f"{where} '{sid}'") for lang in ("en", "zh")}
        symptoms[sid] = Symptom(
            sid, part, {str(k): str(v) for k, v in say.items()}, bool(item.get("urgent")), words
        )
    if not symptoms:
        raise SymptomVocabularyError(f"{path}: no symptoms")
    return Vocabulary(symptoms, parts)


def vocabulary_path() -> Path:
    return data.intents_dir() / "symptoms.yaml"


@lru_cache(maxsize=2)
def load_vocabulary(path: str | None = None) -> Vocabulary:
    """``intents/symptoms.yaml``, parsed once per process (it is data, not config)."""
    from assistant.understanding.catalog import read_yaml

    file = Path(path) if path else vocabulary_path()
    raw = read_yaml(file, SymptomVocabularyError, "symptom vocabulary")
    return parse_vocabulary(raw, str(file))


def symptom_names(lang: str) -> dict[str, str]:
    """Symptom id → spoken name in ``lang`` (for read-backs: "Shall I tell Dr. Chen you have …?")."""
    try:
        vocab = load_vocabulary()
    except SymptomVocabularyError as err:
        _LOGGER.warning("event=symptom_vocabulary_unavailable error=%s", err)
        return {}
    return {sid: s.say[lang] for sid, s in vocab.symptoms.items() if s.say.get(lang)}


def is_urgent(symptom_id: str) -> bool:
    """The vocabulary marks ``symptom_id`` ``urgent: true`` (False for unknown ids or no vocabulary)."""
    if not symptom_id:
        return False
    try:
        entry = load_vocabulary().symptoms.get(symptom_id)
    except SymptomVocabularyError:
        return False
    return bool(entry and entry.urgent)


SPOKEN_IS_EN: Final = False
"""Round 12 (issue 10): an English phrase "<noun> is <state>" ("mouth is dry", "throat is sore") is also
found as said with a contraction, which ``normalize`` reads as a possessive and drops ("my mouth's dry"
→ "my mouth dry"). Off: dev15 odd +1 symptom, nothing on any unseen half."""
_EN_NOUN_IS: Final = re.compile(r"^((?:my )?[a-z]+) is ([a-z].*)$")


class SymptomFinder:
    """Finds one symptom (id + body part) in an utterance of one language."""

    def __init__(self, lang: str, vocabulary: Vocabulary | None = None) -> None:
        self.lang = lang
        self.vocab = vocabulary or load_vocabulary()
        phrase_to_id: dict[str, str] = {}
        for sid, entry in self.vocab.symptoms.items():
            for phrase in entry.phrases(lang):
                key = self._key(phrase)
                if key and key not in phrase_to_id:
                    phrase_to_id[key] = sid
        if lang == "en" and SPOKEN_IS_EN:
            for key, sid in list(phrase_to_id.items()):
                m = _EN_NOUN_IS.match(key)
                if m is not None:
                    phrase_to_id.setdefault(f"{m.group(1)} {m.group(2)}", sid)  # "my mouth's dry"
        self._phrase_to_id = phrase_to_id
        loose = LOOSE_PHRASES.get(lang, frozenset())
        strict = sorted((p for p in phrase_to_id if p not in loose), key=len, reverse=True)
        self._strict = self._alternation(strict)
        self._loose = self._alternation(
            sorted((p for p in phrase_to_id if p in loose), key=len, reverse=True)
        )
        part_words: dict[str, str] = {}
        for pid, part in self.vocab.body_parts.items():
            for word in part.words.get(lang, ()):
                key = self._key(word)
                if key and key not in part_words:
                    part_words[key] = pid
        self._part_of_word = part_words
        named = [w for w in part_words if self.lang == "en" or len(w) >= 2]
        self._part_any = self._alternation(sorted(named, key=len, reverse=True))
        part_alt = "|".join(re.escape(w) for w in sorted(part_words, key=len, reverse=True))
        patterns = _PART_PATTERNS_ZH if lang == "zh" else _PART_PATTERNS_EN
        self._part_patterns = [
            (re.compile(self._bounded(p.replace("{part}", f"(?P<part>{part_alt})"))), kind)
            for p, kind in patterns
        ]
        # Mandarin sound-alikes of a phrase (咳素 / 拉度子 / 眼经 for 咳嗽 / 拉肚子 / 眼睛, as a recogniser
        # writes them): the phrase's toneless pinyin → the phrases that read so
        self._by_sound: dict[tuple[str, ...], list[str]] = {}
        if lang == "zh":
            for phrase in strict:
                chars = tokenize(phrase, lang)
                if len(chars) >= 3 and len(chars) == len(phrase):
                    self._by_sound.setdefault(tuple(pinyin_tokens(chars)), []).append(phrase)
        self._longest_sound = max((len(k) for k in self._by_sound), default=0)
        self._by_part_kind: dict[tuple[str, str], str] = {}
        for sid, entry in self.vocab.symptoms.items():
            for kind in ("pain", "swelling", "itch", "numbness"):
                if sid == f"{entry.body_part}_{kind}" or (kind == "pain" and sid == f"{entry.body_part}ache"):
                    self._by_part_kind.setdefault((entry.body_part, kind), sid)

    def _key(self, phrase: str) -> str:
        key = normalize(phrase, self.lang)
        return standard_zh(key) if self.lang == "zh" else key

    def _sound_alike(self, text: str) -> FoundSymptom | None:
        """A vocabulary phrase of three or more characters the recogniser wrote with homophones: the
        same toneless pinyin, at most half of the characters different (拉度子 = 拉肚子, 头云眼花 =
        头晕眼花). Two characters are too many words' sound (干疼 / 肝疼, 发少 / 发烧): those are left
        to the model's pinyin features. Longest first."""
        chars = list(text)
        if not self._by_sound or len(chars) < 2 or any(len(c.encode()) < 3 for c in chars):
            return None
        sound = pinyin_tokens(chars)
        for size in range(min(self._longest_sound, len(chars)), 2, -1):
            for start in range(len(chars) - size + 1):
                said = "".join(chars[start : start + size])
                for phrase in self._by_sound.get(tuple(sound[start : start + size]), ()):
                    same = sum(a == b for a, b in zip(said, phrase, strict=True))
                    if same >= 1 and size - same <= size // 2:
                        sid = self._phrase_to_id[phrase]
                        entry = self.vocab.symptoms[sid]
                        return FoundSymptom(sid, self._named_part(text), entry.urgent, (start, start + size))
        return None

    def _bounded(self, body: str) -> str:
        return f"(?<![a-z0-9])(?:{body})(?![a-z0-9])" if self.lang == "en" else f"(?:{body})"

    def _alternation(self, phrases: list[str]) -> re.Pattern[str] | None:
        if not phrases:
            return None
        return re.compile(self._bounded("|".join(re.escape(p) for p in phrases)))

    def find(self, text: str, *, normalized: bool = False) -> FoundSymptom | None:
        """The best symptom in ``text`` (None if none): longest phrase, else a body-part pattern.
        Mandarin puts degree words inside a phrase (气有点短, 头有些晕, 腿特别沉): when nothing matched
        as said, the text without them is tried (the span is then in that text)."""
        text = text if normalized else normalize(text, self.lang)
        if self.lang == "zh":
            text = standard_zh(text)  # 脑壳疼 / 波棱盖疼 / 膝头哥痛: 头疼, 膝盖疼
        if not text:
            return None
        found = self._find(text, loose_ok=self.lang != "zh")
        if found is None and self.lang == "zh":
            plain = _ZH_DEGREE.sub("", text)
            found = self._find(plain, loose_ok=False) if plain != text else None
            found = found or self._sound_alike(text.replace(" ", "")) or self._find(text, loose_ok=True)
            if (found is None or found.loose) and READINGS:
                found = self.reading(text) or found
        return found

    def reading(self, text: str) -> FoundSymptom | None:
        """An out-of-range home reading in normalised standard Mandarin (:mod:`.readings`) as a symptom."""
        if self.lang != "zh":
            return None
        got = find_reading(text)
        if got is None or got.symptom not in self.vocab.symptoms:
            return None
        entry = self.vocab.symptoms[got.symptom]
        return FoundSymptom(got.symptom, entry.body_part, entry.urgent, got.span, reading=True)

    def _find(self, text: str, *, loose_ok: bool) -> FoundSymptom | None:
        best: re.Match[str] | None = None
        if self._strict is not None:
            for m in self._strict.finditer(text):
                if best is None or len(m.group(0)) > len(best.group(0)):
                    best = m
        part_hit = self._part_hit(text)
        if best is not None:
            sid = self._phrase_to_id[best.group(0)]
            entry = self.vocab.symptoms[sid]
            # a body-part pattern that is longer names the place better ("pain in my left knee")
            if part_hit is not None and len(part_hit[2]) > len(best.group(0)) + 2 and not entry.urgent:
                return self._from_part(*part_hit)
            named = self._named_part(text)
            return FoundSymptom(sid, named or "", entry.urgent, best.span())
        if part_hit is not None:
            return self._from_part(*part_hit)
        if loose_ok and self._loose is not None:
            m = self._loose.search(text)
            if m is not None:
                sid = self._phrase_to_id[m.group(0)]
                return FoundSymptom(sid, "", self.vocab.symptoms[sid].urgent, m.span(), loose=True)
        return None

    def _part_hit(self, text: str) -> tuple[str, str, str, tuple[int, int]] | None:
        best: tuple[str, str, str, tuple[int, int]] | None = None
        for pattern, kind in self._part_patterns:
            for m in pattern.finditer(text):
                part = self._part_of_word.get(m.group("part"), "")
                if part and (best is None or len(m.group(0)) > len(best[2])):
                    best = (part, kind, m.group(0), m.span())
        return best

    def _from_part(self, part: str, kind: str, _text: str, span: tuple[int, int]) -> FoundSymptom:
        sid = self._by_part_kind.get((part, kind)) or _KIND_FALLBACK[kind]
        if sid not in self.vocab.symptoms:
            sid = {"pain": "muscle_ache", "itch": "itch", "swelling": "swelling", "numbness": "numbness"}[
                kind
            ]
        entry = self.vocab.symptoms.get(sid)
        return FoundSymptom(sid, part, bool(entry and entry.urgent), span)

    def _named_part(self, text: str) -> str:
        m = self._part_any.search(text) if self._part_any is not None else None
        return self._part_of_word.get(m.group(0), "") if m is not None else ""
