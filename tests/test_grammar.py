"""The catalog compiled as a spoken recognizer grammar (assistant/grammar.py): both catalogs with
the example configs, structure kept (rules per slot and intent), unknown words dropped without a
crash, complete-phrase check, vosk phrase lists that cover every intent and slot value, and real
espeak-ng speech through the pocketsphinx automaton."""

from __future__ import annotations

from pathlib import Path

import pytest
from speechgen import SpeechGen, read_pcm, speechgen_fixture  # noqa: F401

from assistant.hearing.grammar import compile_grammar, spoken_words
from assistant.hearing.grammar_nodes import Choice, Ref
from assistant.ops.config import load_settings
from assistant.understanding.catalog import load_catalog

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def en_settings():
    return load_settings(REPO / "config.yaml")


@pytest.fixture(scope="module")
def en_grammar(en_settings):
    return compile_grammar(load_catalog("en"), en_settings)


def test_english_grammar_keeps_rules_per_slot_and_intent(en_grammar) -> None:
    names = [n for n, _ in en_grammar.rules]
    assert {"slot_contact", "slot_doctor", "slot_medication", "slot_symptom", "intent_call_contact"} <= set(
        names
    )
    contact = en_grammar.rule("slot_contact")
    assert isinstance(contact, Choice)
    assert "<slot_contact>" in en_grammar.jsgf()  # referenced, not flattened
    assert "out_weather" in en_grammar.intents  # reject intents give chatter somewhere to go
    jsgf = en_grammar.jsgf()
    assert "public <top_command>" in jsgf and "<chatter_word>+" in jsgf


@pytest.mark.parametrize(
    "text",
    [
        "call my daughter",
        "could you ring the surgery please",
        "i have taken my blood pressure pills",
        "i would like to book an appointment please",
        "phone annie",
        "i have a headache",
        "play some music",
    ],
)
def test_spoken_forms_parse(en_grammar, text: str) -> None:
    assert en_grammar.accepts(text)


@pytest.mark.parametrize("text", ["call", "the weather is lovely today", "call my", "tell my doctor", ""])
def test_partial_phrases_and_chatter_do_not_parse(en_grammar, text: str) -> None:
    assert not en_grammar.accepts(text)


def test_wake_mode_accepts_wake_alone_and_with_a_command(en_settings) -> None:
    g = compile_grammar(load_catalog("en"), en_settings, wake_phrase="hello doctor")
    assert g.accepts("hello doctor", "wake") and g.accepts("hello doctor what time is it", "wake")
    assert not g.accepts("hello doctor", "command")
    assert not g.accepts("hello doctor call", "wake")


def _whole_automaton_parse(grammar, text: str, mode: str):
    """Reference reading: the tagged minimal automaton of the whole ``mode`` grammar (how
    :meth:`SpokenGrammar.parse` read wake and spot sentences before round 13)."""
    from assistant.hearing.grammar import _by_word, _reading
    from assistant.hearing.grammar_nodes import WordNfa, minimal_dfa

    key = (id(grammar), mode)
    if key not in _WHOLE:
        start, accepting, edges = minimal_dfa(
            WordNfa(grammar._rules_for(mode), grammar._top(mode), tagged=True)
        )
        _WHOLE[key] = (start, set(accepting), _by_word(edges))
    start, accepting, by_word = _WHOLE[key]
    paths = [(start, ())]
    for word in text.split():
        paths = [(t, (*tags, tag)) for s, tags in paths for tag, t in by_word[s].get(word, ())]
        if not paths or len(paths) > 1000:
            return None
    readings = sorted({_reading(tags) for s, tags in paths if s in accepting})
    if not readings:
        return None
    woke, intent, slots = readings[0]
    return (intent or None, dict(slots), woke, len(readings) > 1)


_WHOLE: dict = {}


def test_wake_and_spot_readings_equal_the_whole_grammars_automaton(en_settings) -> None:
    """Wake and spot sentences are read over the command automaton (the wake phrase walked
    alongside): the same reading, sentence for sentence, as the whole wake grammar's automaton,
    on complete, cut, shuffled, doubled-wake and random sentences."""
    import random

    g = compile_grammar(load_catalog("en"), en_settings, wake_phrase="hello jiayi")
    assert g.spot_rules, "the spot mode must be part of the comparison"
    phrases = g.sample_phrases(60, seed=3)
    rng = random.Random(4)
    vocab = sorted({w for p in phrases for w in p.split()} | {"hello", "jiayi"})
    sentences = {"hello jiayi", "hello", "hello jiayi hello jiayi", "jiayi call my daughter"}
    for phrase in phrases:
        words = phrase.split()
        cut = " ".join(words[: rng.randrange(1, len(words) + 1)])
        sentences |= {phrase, f"hello jiayi {phrase}", cut, f"hello jiayi {cut}", f"hello {phrase}"}
        sentences.add(" ".join(rng.sample(words, len(words))))
    sentences |= {" ".join(rng.choice(vocab) for _ in range(rng.randrange(1, 7))) for _ in range(60)}
    read = {"wake": 0, "spot": 0, "woke": 0}
    for mode in ("wake", "spot"):
        for text in sorted(sentences):
            got = g.parse(text, mode)
            want = _whole_automaton_parse(g, text, mode)
            assert (got and (got.intent, got.slots, got.woke, got.ambiguous)) == want, (mode, text)
            if got is not None:
                read[mode] += 1
                read["woke"] += got.woke
    assert min(read.values()) > 40  # much of the comparison is on sentences that do parse


def test_unknown_words_drop_their_alternative_only(en_grammar, caplog) -> None:
    pruned = en_grammar.pruned(lambda w: w not in {"amlodipine", "ring"})
    assert pruned.dropped >= 2
    assert not pruned.accepts("ring my doctor") and pruned.accepts("call my doctor")
    assert not pruned.accepts("i took amlodipine") and pruned.accepts("i took my blood pressure pills")
    assert "unknown to the recognizer" in caplog.text
    everything_unknown = en_grammar.pruned(lambda w: False)
    assert everything_unknown.intents == ()  # nothing left, and no crash


def test_slot_without_config_values_drops_only_its_templates() -> None:
    g = compile_grammar(load_catalog("en"), None)
    assert "call_contact" in g.intents  # "(make|place) [phone] call" has no slot
    assert g.accepts("make phone call") and not g.accepts("call anna")


def test_short_fillers_allow_a_politeness_word_around_any_command(en_settings) -> None:
    """``fillers="short"``: one opener from ``COMMAND_PRE_FILLERS_EN`` and one closer from
    ``COMMAND_POST_FILLERS_EN`` around a command, read back as the command; no catalog fillers,
    no stacking, and Mandarin gets none."""
    from assistant.hearing import grammar as grammar_module

    short = compile_grammar(load_catalog("en"), en_settings, determiners=False, fillers="short")
    bare = compile_grammar(load_catalog("en"), en_settings, determiners=False, fillers=False)
    assert not bare.accepts("please ring my daughter")
    for text, command in (
        ("please ring my daughter", "ring my daughter"),
        ("oh what time is it thank you", "what time is it"),
        ("um call anna please", "call anna"),
    ):
        parsed, plain = short.parse(text), bare.parse(command)
        assert parsed is not None and plain is not None and parsed.intent == plain.intent
    assert short.parse("please ring my daughter").slots == {"contact": "Anna"}  # type: ignore[union-attr]
    assert not short.accepts("please please ring my daughter")
    assert not short.accepts("would you be able to call anna")  # the catalog's long fillers: not in it
    assert set(grammar_module.COMMAND_PRE_FILLERS_EN) <= short.words()
    zh = compile_grammar(load_catalog("zh"), None, fillers="short")
    assert zh.rule("pre_filler") is None and zh.rule("post_filler") is None


def test_config_names_are_spelled_as_spoken() -> None:
    assert spoken_words("Dr. Chen", "en") == ["doctor", "chen"]
    assert spoken_words("陈 医生", "zh") == ["陈医生"]


def test_fsg_automaton_is_compact_and_deterministic(en_grammar) -> None:
    start, final, transitions = en_grammar.fsg_transitions(chatter=False)
    seen: set[tuple[int, str]] = set()
    for t in transitions:
        if len(t) == 4:
            assert (t[0], t[3]) not in seen  # deterministic: one edge per word per state
            seen.add((t[0], t[3]))
    assert final > start >= 0 and len(transitions) < 40_000


def test_vosk_phrase_list_covers_every_intent_and_slot_value(en_grammar) -> None:
    phrases = en_grammar.sample_phrases(limit=1500)
    assert len(phrases) <= 1500 and all(en_grammar.accepts(p) for p in phrases[:300])
    text = "\n".join(phrases)
    for word in ("anna", "annie", "daughter", "david", "son", "amlodipine", "diabetes pills", "dizzy"):
        assert word in text, word
    for intent in en_grammar.intents:
        nfa = en_grammar.nfa_for(Ref(f"intent_{intent}"))
        assert any(nfa.accepts(p.split()) for p in phrases), intent


def test_mandarin_grammar_for_vosk_lists() -> None:
    settings = load_settings(REPO / "docs" / "examples" / "config-zh.yaml")
    g = compile_grammar(load_catalog("zh"), settings)
    assert g.chatter == () and len(g.intents) >= 10
    phrases = g.sample_phrases(limit=800)
    assert 0 < len(phrases) <= 800
    joined = "\n".join(phrases)
    for name in ("小丽", "丽丽", "女儿", "陈医生", "降压药"):
        assert name in joined, name
    assert all(" " not in p for p in phrases)


def test_every_intent_reaches_the_vosk_list(en_grammar) -> None:
    rules = dict(en_grammar.rules)
    command = rules["command"]
    refs = {r.rule for r in _walk(command) if isinstance(r, Ref)}
    assert {f"intent_{i}" for i in en_grammar.intents} <= refs


def _walk(node):
    yield node
    for child in getattr(node, "items", ()) or getattr(node, "options", ()):
        yield from _walk(child)


SPOKEN = {  # through the real catalog automaton (asr.decoder: grammar, the daemon's)
    "i took my pills": "medication_taken",
    "i have a headache": "report_symptom",
    "repeat that": "repeat",
    "yes please": "yes",
    "cancel that": "cancel",
    "what can you do": "capabilities",
}


def test_cached_fsg_transitions_are_the_built_ones(en_settings, tmp_path) -> None:
    """The recognizer reads its FSGs from the state dir's models/ from the second start on: the
    same transitions (order, weights, types) and the same automaton for ``accepts``."""
    from dataclasses import replace

    from assistant.hearing import grammar as grammar_module
    from assistant.hearing import grammar_cache

    grammar = replace(compile_grammar(load_catalog("en"), en_settings), wake_phrase="hello jiayi")
    cases = {
        "command": {"chatter": False},
        "wake": {"chatter": True, "chatter_weight": grammar_module.CHATTER_WEIGHT},
        "spot": {"chatter": False},
    }
    for mode, options in cases.items():
        grammar_module._DFA_CACHE.pop(grammar, None)
        built = grammar.fsg_transitions(mode, **options)
        automaton = grammar_module._DFA_CACHE.pop(grammar, None)
        first = grammar_cache.cached_fsg_transitions(grammar, mode, str(tmp_path), **options)
        grammar_module._DFA_CACHE.pop(grammar, None)
        again = grammar_cache.cached_fsg_transitions(grammar, mode, str(tmp_path), **options)
        assert first == built and again == built
        assert [tuple(map(type, t)) for t in again[2]] == [tuple(map(type, t)) for t in built[2]]
        assert grammar_module._DFA_CACHE.get(grammar) == automaton  # kept for the command search only
    assert len(list(tmp_path.glob("fsg-*.json"))) == 3
    grammar_module._DFA_CACHE.pop(grammar, None)
    assert grammar_cache.cached_fsg_transitions(grammar, "command", str(tmp_path), chatter=False)
    for text in ("what time is it", "call my daughter", "what time", "hello jiayi what time is it"):
        assert grammar.accepts(text, "wake") == (
            text in ("what time is it", "call my daughter", "hello jiayi what time is it")
        )


def test_cached_reading_tables_are_the_built_ones(en_settings, tmp_path) -> None:
    """``preload_reading_tables``: the tables read back from models/ equal the built ones (state
    for state, word for word, edge order included), so every sentence reads the same."""
    import random
    from dataclasses import replace

    from assistant.hearing import grammar as grammar_module
    from assistant.hearing import grammar_cache

    grammar = replace(compile_grammar(load_catalog("en"), en_settings), wake_phrase="hello jiayi")
    keys = [(grammar, "command"), (grammar, "spot")]
    for key in keys:
        grammar_module._TAGGED_CACHE.pop(key, None)
    built = [grammar._reading_table(spot=spot) for spot in (False, True)]
    for key in keys:
        grammar_module._TAGGED_CACHE.pop(key, None)
    grammar_cache.preload_reading_tables(grammar, str(tmp_path))  # builds and writes
    assert [grammar_module._TAGGED_CACHE[key] for key in keys] == built
    assert len(list(tmp_path.glob("reading-*.jsonl"))) == 2
    for key in keys:
        grammar_module._TAGGED_CACHE.pop(key, None)
    grammar_cache.preload_reading_tables(grammar, str(tmp_path))  # reads
    assert [grammar_module._TAGGED_CACHE[key] for key in keys] == built
    rng = random.Random(5)
    sentences = grammar.sample_phrases(300) + ["hello jiayi", "help me", "i have fallen", "the the"]
    sentences += [f"hello jiayi {s}" for s in rng.sample(sentences, 50)]
    readings = [grammar.parse(s, mode) for s in sentences for mode in ("command", "wake", "spot")]
    for key in keys:
        grammar_module._TAGGED_CACHE[key] = built[keys.index(key)]
    assert [grammar.parse(s, mode) for s in sentences for mode in ("command", "wake", "spot")] == readings
    assert sum(r is not None for r in readings) > 300


@pytest.fixture(scope="module")
def catalog_recognizer(en_settings):
    from assistant.hearing.pocketsphinx_engine import PocketsphinxRecognizer

    grammar = compile_grammar(
        load_catalog("en"), en_settings, chatter=False, determiners=False, fillers=False
    )
    return PocketsphinxRecognizer(None, grammar=grammar)


@pytest.mark.parametrize(("noise", "snr"), [(None, 0), ("kitchen.wav", 20), ("kitchen.wav", 10)])
def test_spoken_commands_through_the_catalog_automaton(
    catalog_recognizer, en_settings, speechgen: SpeechGen, noise, snr
) -> None:
    from assistant.hearing.listener import Listener, UtteranceRecognized
    from assistant.hearing.sources import WavSource
    from assistant.understanding.matcher import IntentMatcher

    matcher = IntentMatcher.from_settings(en_settings, "en")
    right = wrong = 0
    for i, (text, intent) in enumerate(SPOKEN.items()):
        wav = speechgen.say(text, "en-us", 150)
        if noise:
            wav = speechgen.with_noise(wav, noise, snr, seed=i)
        events: list[object] = []
        listener = Listener(WavSource(wav), catalog_recognizer, events.append)
        listener.source.start()
        listener.run_until_end()
        got = [matcher.match(e.transcript).intent for e in events if isinstance(e, UtteranceRecognized)]
        right += got == [intent]
        wrong += any(g and g != intent for g in got)
    assert right >= len(SPOKEN) - 2 and wrong <= 1, (right, wrong)


def test_the_catalog_decoder_scores_with_grammar_topn(catalog_recognizer) -> None:
    """The grammar-mode decoder (every search of it) uses GRAMMAR_TOPN Gaussians per codebook."""
    from assistant.hearing import pocketsphinx_engine

    assert catalog_recognizer._decoder.config["topn"] == pocketsphinx_engine.GRAMMAR_TOPN


def test_silence_gives_nothing_through_the_catalog_automaton(catalog_recognizer, speechgen) -> None:

    d = catalog_recognizer.begin("command")
    d.accept(read_pcm(speechgen.concat(2.0)))
    assert d.finish().text == ""
