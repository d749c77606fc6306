"""Intent catalogs: data files (``intents/<lang>.yaml``) that describe what the assistant understands.

A catalog lists intents (id, risk tier, example phrases in a small template syntax, slots,
spoken responses) and slot value lists with synonyms. Slots may instead take their values
from the caregiver's config (``doctor``, ``contacts``, ``medications``). The format is
domain-neutral; see ``docs/catalog-format.md``.

Template syntax: ``(a|b)`` one of the alternatives, ``[x]`` or ``[a|b]`` optional, ``{slot}`` a
slot value. Everything else is literal text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from assistant import data

_LOGGER = logging.getLogger(__name__)

TIERS: Final = ("emergency", "confirm", "plain")
RESPONSE_KEYS: Final = ("confirm", "done", "answer")
PLACEHOLDERS: Final = frozenset({"doctor", "contact", "medication", "symptom", "time", "person", "danger"})
CONFIG_SOURCES: Final = ("doctor", "contacts", "medications")
MAX_EXPANSIONS_PER_PHRASE: Final = 5000
_ID_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
"""Intent, slot and value ids: they travel as the protocol's request types and slot names
(docs/protocol.md: ``[a-z][a-z0-9_]{0,63}``), so a catalog that could not be relayed fails to load."""
_PLACEHOLDER_RE: Final = re.compile(r"\{([a-z_]+)\}")
_PUNCT_RE: Final = re.compile(r"[^\w\s]+")
INTENT_KEYS: Final = frozenset(
    {"tier", "confirm", "help_words", "slots", "phrases", "responses", "description", "reject"}
)


class CatalogError(Exception):
    """A catalog file is broken; the message names the file, the intent or slot, and the problem."""


# ---------------------------------------------------------------- data model


@dataclass(frozen=True)
class SlotValue:
    id: str
    """Canonical value id (reported in ``Understanding.slots``)."""
    say: str
    """How the value is spoken back in responses."""
    synonyms: tuple[str, ...]
    """Words and phrases that mean this value."""


@dataclass(frozen=True)
class SlotDef:
    name: str
    values: tuple[SlotValue, ...] = ()
    """Catalog values (empty for config-sourced slots)."""
    from_config: str = ""
    """``doctor``, ``contacts`` or ``medications`` when values come from the caregiver's config."""
    synonyms: tuple[str, ...] = ()
    """Extra words for a single config value (generic words for ``doctor``: "my GP", "医生")."""
    relations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Relation word (as written in the config) → words for it in this language."""


@dataclass(frozen=True)
class IntentDef:
    id: str
    tier: str
    slots: tuple[str, ...]
    """Slot names this intent reports."""
    optional_slots: frozenset[str]
    phrases: tuple[str, ...]
    """Templates as written in the file."""
    responses: Mapping[str, str]
    """``confirm`` / ``done`` / ``answer`` → sentence with ``{placeholders}``."""
    line: int = 0
    reject: bool = False
    """An out-of-scope pattern ("play some music"): matched like an intent, reported as no intent."""
    confirm: bool = False
    """The dialogue reads the request back and waits for "yes" before acting (default: tier ``confirm``)."""
    help_words: tuple[str, ...] = ()
    """Bare calls for help ("help me", 救命) the matcher did not take as this intent: said once the
    dialogue asks whether help is needed, said again within a minute it starts this intent."""


@dataclass(frozen=True)
class Catalog:
    lang: str
    path: str
    fillers: tuple[str, ...]
    negations: tuple[str, ...]
    slots: Mapping[str, SlotDef]
    intents: Mapping[str, IntentDef]
    synonyms: tuple[tuple[str, ...], ...] = ()
    """Word groups that mean the same for matching; the first word of each group stands for all."""

    def intent_ids(self) -> tuple[str, ...]:
        """Ids the matcher can report (``reject: true`` intents are never reported)."""
        return tuple(i for i, d in self.intents.items() if not d.reject)

    def tier(self, intent: str | None) -> str:
        """Risk tier of ``intent`` (``plain`` for no intent or one this catalog does not have)."""
        found = self.intents.get(intent or "")
        return found.tier if found is not None else "plain"

    def confirms(self, intent: str | None) -> bool:
        """True when the dialogue reads ``intent`` back and waits for "yes" before acting."""
        found = self.intents.get(intent or "")
        return found is not None and found.confirm

    def help_intent(self, text: str) -> str | None:
        """The intent whose ``help_words`` is exactly this utterance (punctuation and case ignored)."""
        said = help_key(text)
        return next((i.id for i in self.intents.values() if said in i.help_words), None)

    def response(self, intent: str, key: str) -> str:
        """The response template ``key`` of ``intent`` ('' when the intent has none)."""
        return self.intents[intent].responses.get(key, "")

    def say_value(self, slot: str, value_id: str) -> str:
        """Spoken form of a catalog slot value (config values are spoken as their name)."""
        slot_def = self.slots.get(slot)
        if slot_def is not None:
            for value in slot_def.values:
                if value.id == value_id:
                    return value.say
        return value_id


def help_key(text: str) -> str:
    """How help words are compared: lowercase, punctuation removed, spaces collapsed."""
    return " ".join(_PUNCT_RE.sub(" ", text.lower()).split())


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill ``{placeholders}``; unknown ones are left as written."""
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), template)


# ---------------------------------------------------------------- template syntax


@dataclass(frozen=True)
class Words:
    """Literal text of a template."""

    text: str


@dataclass(frozen=True)
class SlotRef:
    """``{name}``: any value of a slot."""

    name: str


@dataclass(frozen=True)
class Alternatives:
    """``(a|b)`` (one of) or ``[a|b]`` (``optional``: one of, or nothing)."""

    options: tuple[Template, ...]
    optional: bool


Template = tuple[Words | SlotRef | Alternatives, ...]
"""A parsed phrase template: the public shape recogniser grammars compile from."""


def parse_template(template: str) -> Template:
    """Parse a phrase template into a sequence of literals, slots and alternatives (ValueError if broken)."""
    pos = 0

    def parse_seq(closers: str) -> tuple[Template, str]:
        nonlocal pos
        items: list[Words | SlotRef | Alternatives] = []
        buf: list[str] = []

        def flush() -> None:
            if buf:
                items.append(Words("".join(buf)))
                buf.clear()

        while pos < len(template):
            ch = template[pos]
            if ch in closers:
                flush()
                return tuple(items), ch
            pos += 1
            if ch in "([":
                flush()
                closer = ")" if ch == "(" else "]"
                options: list[Template] = []
                while True:
                    seq, end = parse_seq("|" + closer + ("]" if closer == ")" else ")"))
                    if end != "|" and end != closer:
                        raise ValueError(f"'{ch}' closed by '{end or 'end of text'}' at {pos}")
                    pos += 1
                    options.append(seq)
                    if end == closer:
                        break
                items.append(Alternatives(tuple(options), optional=(ch == "[")))
            elif ch == "{":
                flush()
                end = template.find("}", pos)
                if end < 0:
                    raise ValueError("'{' without '}'")
                name = template[pos:end].strip()
                if not _ID_RE.match(name):
                    raise ValueError(f"bad slot name '{{{name}}}'")
                items.append(SlotRef(name))
                pos = end + 1
            elif ch in ")]|}":
                raise ValueError(f"unexpected '{ch}' at {pos - 1}")
            else:
                buf.append(ch)
        flush()
        return tuple(items), ""

    seq, end = parse_seq("")
    if end:
        raise ValueError(f"unexpected '{end}'")
    return seq


def _expand_seq(seq: Template) -> Iterator[str]:
    if not seq:
        yield ""
        return
    head, rest = seq[0], seq[1:]
    if isinstance(head, Words):
        heads: list[str] = [head.text]
    elif isinstance(head, SlotRef):
        heads = ["{" + head.name + "}"]
    else:
        heads = [h for option in head.options for h in _expand_seq(option)]
        if head.optional:
            heads.append("")
    tails = list(_expand_seq(rest))
    for h in heads:
        for t in tails:
            yield h + t


def count_expansions(seq: Template) -> int:
    total = 1
    for item in seq:
        if isinstance(item, Alternatives):
            total *= sum(count_expansions(o) for o in item.options) + (1 if item.optional else 0)
    return total


def expand_template(template: str) -> list[str]:
    """All sentences a template stands for, slots kept as ``{slot}``; whitespace collapsed."""
    seq = parse_template(template)
    out: list[str] = []
    seen: set[str] = set()
    for text in _expand_seq(seq):
        text = " ".join(text.split())
        if text and text not in seen:
            seen.add(text)
            out.append(text)
    return out


def template_slots(template: str) -> set[str]:
    return set(re.findall(r"\{([^}]*)\}", template))


# ---------------------------------------------------------------- loading


def catalog_path(lang: str) -> Path:
    """The built-in catalog of ``lang`` (a configured one: :mod:`assistant.understanding.catalog_files`)."""
    return data.intents_dir() / f"{lang}.yaml"


_CACHE: dict[tuple[str, str, int, int], Catalog] = {}


def load_catalog(lang: str, path: str | Path | None = None) -> Catalog:
    """Load and validate the catalog for ``lang`` (``intents/<lang>.yaml`` unless ``path``).

    Parsed catalogs are shared per process until the file changes on disk (nobody mutates one).
    """
    file = Path(path) if path is not None else catalog_path(lang)
    try:
        stat = file.stat()
        key = (lang, str(file.resolve()), stat.st_mtime_ns, stat.st_size)
    except OSError as err:
        raise CatalogError(f"{file}: cannot read the catalog ({err.strerror})") from None
    if key not in _CACHE:
        _CACHE[key] = _read_catalog(lang, file)
    return _CACHE[key]


def _read_catalog(lang: str, file: Path) -> Catalog:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise CatalogError(f"{file}: cannot read the catalog ({err.strerror})") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{file}: not a text file (UTF-8)") from None
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as err:
        raise CatalogError(f"{file}: not valid YAML: {err}") from None
    return parse_catalog(data, str(file), lang)


def read_yaml(file: Path, error: type[Exception], what: str) -> Any:
    """A YAML data file (safe loader); ``error`` names the file and says what went wrong."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe").load(file.read_text(encoding="utf-8"))
    except OSError as err:
        raise error(f"{file}: cannot read the {what} ({err.strerror})") from None
    except YAMLError as err:
        raise error(f"{file}: not valid YAML: {err}") from None


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise CatalogError(f"{where}: expected a list of words")
    return tuple(str(v) for v in value)


def _line(node: Any, key: str) -> int:
    try:
        return int(node.lc.key(key)[0]) + 1
    except Exception:  # plain dicts (typ=safe) carry no line numbers
        return 0


def _parse_slot(name: str, raw: Any, where: str) -> SlotDef:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: expected a mapping with 'values' or 'from_config'")
    unknown = set(raw) - {"values", "from_config", "synonyms", "relations"}
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {sorted(unknown)}")
    source = str(raw.get("from_config") or "")
    if source and source not in CONFIG_SOURCES:
        raise CatalogError(f"{where}: from_config must be one of {', '.join(CONFIG_SOURCES)}")
    values: list[SlotValue] = []
    raw_values = raw.get("values") or {}
    if not isinstance(raw_values, Mapping):
        raise CatalogError(f"{where}: 'values' must map value ids to synonyms")
    for value_id, spec in raw_values.items():
        vwhere = f"{where} value '{value_id}'"
        if not _ID_RE.match(str(value_id)):
            raise CatalogError(
                f"{vwhere}: value ids are lowercase letters, digits and '_', at most 64 characters"
            )
        if isinstance(spec, Mapping):
            synonyms = _str_list(spec.get("synonyms"), vwhere)
            say = str(spec.get("say") or (synonyms[0] if synonyms else value_id))
        else:
            synonyms = _str_list(spec, vwhere)
            say = synonyms[0] if synonyms else str(value_id)
        if not synonyms:
            raise CatalogError(f"{vwhere}: needs at least one synonym")
        values.append(SlotValue(str(value_id), say, synonyms))
    if not source and not values:
        raise CatalogError(f"{where}: needs 'values' or 'from_config'")
    relations_raw = raw.get("relations") or {}
    if not isinstance(relations_raw, Mapping):
        raise CatalogError(f"{where}: 'relations' must map relation words to lists")
    relations = {str(k): _str_list(v, f"{where} relation '{k}'") for k, v in relations_raw.items()}
    return SlotDef(
        name=name,
        values=tuple(values),
        from_config=source,
        synonyms=_str_list(raw.get("synonyms"), where),
        relations=relations,
    )


def _parse_intent(intent_id: str, raw: Any, slots: Mapping[str, SlotDef], where: str, line: int) -> IntentDef:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: expected a mapping with tier, phrases, responses")
    unknown = set(raw) - INTENT_KEYS
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {sorted(unknown)}")
    reject = _flag(raw, "reject", False, where)
    if reject and (raw.get("responses") or raw.get("slots") or raw.get("help_words")):
        raise CatalogError(
            f"{where}: a 'reject: true' intent has no slots, responses or help words (it is never reported)"
        )
    tier = str(raw.get("tier") or ("plain" if reject else ""))
    if tier not in TIERS:
        raise CatalogError(f"{where}: tier must be one of {', '.join(TIERS)} (got '{tier}')")
    confirm = _flag(raw, "confirm", tier == "confirm", where)
    if confirm and tier == "emergency":
        raise CatalogError(f"{where}: an emergency intent is never read back first (it has a cancel window)")
    slot_names: list[str] = []
    optional: set[str] = set()
    for spec in _str_list(raw.get("slots"), f"{where} slots"):
        name = spec.rstrip("?")
        if name not in slots:
            raise CatalogError(f"{where}: slot '{name}' is not defined under 'slots:'")
        if spec.endswith("?"):
            optional.add(name)
        slot_names.append(name)
    phrases = _str_list(raw.get("phrases"), f"{where} phrases")
    if not phrases:
        raise CatalogError(f"{where}: needs at least one phrase")
    used: set[str] = set()
    for number, phrase in enumerate(phrases, 1):
        pwhere = f"{where} phrase {number} '{phrase}'"
        try:
            seq = parse_template(phrase)
        except ValueError as err:
            raise CatalogError(f"{pwhere}: {err}") from None
        if count_expansions(seq) > MAX_EXPANSIONS_PER_PHRASE:
            raise CatalogError(f"{pwhere}: expands to more than {MAX_EXPANSIONS_PER_PHRASE} sentences")
        for name in template_slots(phrase):
            if name not in slots:
                raise CatalogError(f"{pwhere}: slot '{{{name}}}' is not defined under 'slots:'")
            used.add(name)
    for name in slot_names:
        if name not in used:
            raise CatalogError(f"{where}: slot '{name}' is declared but no phrase uses '{{{name}}}'")
    responses_raw = raw.get("responses") or {}
    if not isinstance(responses_raw, Mapping):
        raise CatalogError(f"{where}: 'responses' must map confirm/done/answer to sentences")
    responses: dict[str, str] = {}
    for key, text in responses_raw.items():
        if key not in RESPONSE_KEYS:
            raise CatalogError(f"{where}: response key '{key}' is not one of {', '.join(RESPONSE_KEYS)}")
        if not isinstance(text, str) or not text.strip():
            raise CatalogError(f"{where}: response '{key}' must be a sentence")
        bad = set(_PLACEHOLDER_RE.findall(text)) - PLACEHOLDERS - set(slots)
        if bad:
            raise CatalogError(f"{where}: response '{key}' uses unknown placeholder(s) {sorted(bad)}")
        responses[str(key)] = text
    if confirm and "confirm" not in responses:
        raise CatalogError(f"{where}: a confirmed intent needs a 'confirm' response (the read-back question)")
    help_words = tuple(help_key(w) for w in _str_list(raw.get("help_words"), f"{where} help_words"))
    return IntentDef(
        id=intent_id,
        tier=tier,
        slots=tuple(slot_names),
        optional_slots=frozenset(optional),
        phrases=phrases,
        responses=responses,
        line=line,
        reject=reject,
        confirm=confirm,
        help_words=tuple(w for w in help_words if w),
    )


def _flag(raw: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise CatalogError(f"{where}: '{key}' must be true or false")
    return value


def parse_catalog(data: Any, path: str, lang: str) -> Catalog:
    """Validate a loaded YAML document; CatalogError names the file and the intent at fault."""
    if not isinstance(data, Mapping):
        raise CatalogError(f"{path}: expected a mapping with 'intents:'")
    file_lang = str(data.get("lang") or lang)
    if file_lang != lang:
        raise CatalogError(f"{path}: catalog is for language '{file_lang}', expected '{lang}'")
    slots_raw = data.get("slots") or {}
    if not isinstance(slots_raw, Mapping):
        raise CatalogError(f"{path}: 'slots' must be a mapping")
    slots: dict[str, SlotDef] = {}
    for name, raw in slots_raw.items():
        where = f"{path}: slot '{name}'"
        if not _ID_RE.match(str(name)):
            raise CatalogError(
                f"{where}: slot names are lowercase letters, digits and '_', at most 64 characters"
            )
        slots[str(name)] = _parse_slot(str(name), raw, where)
    intents_raw = data.get("intents")
    if not isinstance(intents_raw, Mapping) or not intents_raw:
        raise CatalogError(f"{path}: needs a non-empty 'intents:' mapping")
    intents: dict[str, IntentDef] = {}
    for intent_id, raw in intents_raw.items():
        line = _line(intents_raw, intent_id)
        where = f"{path}" + (f":{line}" if line else "") + f": intent '{intent_id}'"
        if not isinstance(intent_id, str) or not _ID_RE.match(intent_id):
            raise CatalogError(
                f"{where}: intent ids are lowercase letters, digits and '_', at most 64 characters"
            )
        intents[intent_id] = _parse_intent(intent_id, raw, slots, where, line)
        for word in intents[intent_id].help_words:
            owner = next((i for i in intents.values() if i.id != intent_id and word in i.help_words), None)
            if owner is not None:
                raise CatalogError(f"{where}: help word '{word}' is already a help word of '{owner.id}'")
    return Catalog(
        lang=lang,
        path=path,
        fillers=_str_list(data.get("fillers"), f"{path}: fillers"),
        negations=_str_list(data.get("negations"), f"{path}: negations"),
        slots=slots,
        intents=intents,
        synonyms=_parse_synonyms(data.get("synonyms"), f"{path}: synonyms"),
    )


def _parse_synonyms(raw: Any, where: str) -> tuple[tuple[str, ...], ...]:
    """``synonyms:`` is a list of word groups (each a list of at least two words or phrases)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise CatalogError(f"{where}: expected a list of word groups")
    groups: list[tuple[str, ...]] = []
    seen: dict[str, int] = {}
    for n, group in enumerate(raw, 1):
        words = _str_list(group, f"{where} group {n}")
        if len(words) < 2:
            raise CatalogError(f"{where} group {n}: needs at least two words")
        for word in words:
            if word in seen:
                raise CatalogError(f"{where} group {n}: '{word}' is already in group {seen[word]}")
            seen[word] = n
        groups.append(words)
    return tuple(groups)
