"""The domain trigram language model (assistant/langmodel.py): counts, Witten-Bell probabilities
that sum to one per history, an ARPA file pocketsphinx loads, the filtered dictionary, and real
espeak-ng commands decoded in pocketsphinx's LM mode and matched to intents."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest
from speechgen import SpeechGen, read_pcm, speechgen_fixture  # noqa: F401

from assistant.hearing import langmodel
from assistant.hearing.grammar import compile_grammar
from assistant.ops.config import load_settings
from assistant.understanding.catalog import load_catalog

REPO = Path(__file__).resolve().parent.parent
TOY = ["call my doctor", "call my daughter", "call my doctor", "what time is it", "help me"]


@pytest.fixture(scope="module")
def toy_model() -> langmodel.LanguageModel:
    return langmodel.train(TOY)


def test_counts_and_vocabulary(toy_model) -> None:
    assert toy_model.vocabulary == (
        "call",
        "daughter",
        "doctor",
        "help",
        "is",
        "it",
        "me",
        "my",
        "time",
        "what",
    )
    counts = toy_model.counts()
    assert counts[1] == len(toy_model.vocabulary) + 2  # + <s>, </s>
    assert ("call", "my", "doctor") in toy_model.probs
    assert ("my", "call") not in toy_model.probs
    assert toy_model.sentences == len(TOY)


@pytest.mark.parametrize(
    "history",
    [(), ("<s>",), ("call",), ("my",), ("<s>", "call"), ("call", "my"), ("time", "is"), ("me", "what")],
)
def test_probabilities_sum_to_one_per_history(toy_model, history) -> None:
    targets = [*toy_model.vocabulary, langmodel.EOS]
    total = sum(10 ** toy_model.log10_prob(w, history) for w in targets)
    assert total == pytest.approx(1.0, abs=1e-9)
    assert 10 ** toy_model.log10_prob("<s>", history) < 1e-90  # sentence start is never predicted


def test_seen_continuations_beat_unseen_ones(toy_model) -> None:
    seen = toy_model.log10_prob("doctor", ("call", "my"))
    assert (
        seen > toy_model.log10_prob("daughter", ("call", "my")) > toy_model.log10_prob("time", ("call", "my"))
    )
    assert toy_model.log10_prob("time", ("call", "my")) > -99  # backoff keeps unseen paths possible


def test_arpa_file_is_well_formed_and_loads_in_pocketsphinx(toy_model, tmp_path) -> None:
    import pocketsphinx

    path = toy_model.write_arpa(tmp_path / "toy.arpa")
    text = path.read_text()
    declared = {int(n): int(c) for n, c in re.findall(r"ngram (\d)=(\d+)", text)}
    assert declared == toy_model.counts()
    for n in (1, 2, 3):
        section = text.split(f"\\{n}-grams:\n", 1)[1].split("\n\n", 1)[0].splitlines()
        assert len(section) == declared[n]
        assert all(len(line.split("\t")[1].split()) == n for line in section)
    assert text.rstrip().endswith("\\end\\")
    model = pocketsphinx.NGramModel(pocketsphinx.Config(), pocketsphinx.LogMath(), str(path))
    assert model.size() == 3


def test_filtered_dictionary_keeps_variants_and_reports_missing(tmp_path) -> None:
    import pocketsphinx

    full = os.path.join(pocketsphinx.get_model_path(), "en-us", "cmudict-en-us.dict")
    out, missing = langmodel.filtered_dictionary(full, ["doctor", "the", "zzyzxq"], tmp_path / "d.dict")
    heads = [line.split()[0] for line in out.read_text().splitlines()]
    assert "doctor" in heads and "the" in heads and "the(2)" in heads
    assert missing == ["zzyzxq"]
    assert {h.split("(")[0] for h in heads} == {"doctor", "the"}


def test_missing_words_get_pronunciations_composed_from_dictionary_words(tmp_path) -> None:
    import pocketsphinx

    full = os.path.join(pocketsphinx.get_model_path(), "en-us", "cmudict-en-us.dict")
    words = ["gp", "metformin", "stomachache", "ankle's", "chesty", "doctor", "zzyzxq"]
    out, missing = langmodel.filtered_dictionary(full, words, tmp_path / "d.dict", compose=True)
    entries = dict(line.split(" ", 1) for line in out.read_text().splitlines())
    assert entries["gp"] == "JH IY P IY"  # letter names
    assert entries["metformin"] == "M EH T F AO R M IH N"  # met + form + in
    assert entries["stomachache"] == "S T AH M AH K EY K"  # stomach + ache
    assert entries["ankle's"] == "AE NG K AH L Z"  # possessive
    assert entries["chesty"] == "CH EH S T IY"
    assert missing == ["zzyzxq"]  # nothing fits: still reported
    _, plain_missing = langmodel.filtered_dictionary(full, words, tmp_path / "p.dict")
    assert "gp" in plain_missing  # composing is asked for, never implied


def test_training_on_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        langmodel.train(["", "  "])
    with pytest.raises(ValueError):
        langmodel.train(TOY, backoff_scale=0)


def test_weighted_sentences_count_fractionally() -> None:
    heavy = langmodel.train([("call my doctor", 9.0), ("call my daughter", 1.0)])
    assert heavy.log10_prob("doctor", ("call", "my")) > heavy.log10_prob("daughter", ("call", "my"))
    total = sum(10 ** heavy.log10_prob(w, ("call", "my")) for w in [*heavy.vocabulary, langmodel.EOS])
    assert total == pytest.approx(1.0, abs=1e-9)


@pytest.fixture(scope="module")
def en_settings():
    return load_settings(REPO / "config.yaml")


def test_catalog_model_covers_every_intent(en_settings) -> None:
    from assistant.pipeline import DAEMON_GRAMMAR_OPTIONS

    grammar = compile_grammar(load_catalog("en"), en_settings, **DAEMON_GRAMMAR_OPTIONS)
    sentences = langmodel.domain_sentences(grammar, wake_phrase="hello doctor")
    texts = [t for t, _ in sentences]
    assert "hello doctor" in texts
    assert "call my doctor" in texts and "hello doctor call my doctor" in texts
    plain = langmodel.domain_sentences(grammar)
    # every intent carries the same total weight, however many slot values it has
    assert sum(w for _, w in plain) == pytest.approx(langmodel.INTENT_WEIGHT * len(grammar.intents))
    assert dict(plain)["yes"] > dict(plain)["call my doctor"]
    model = langmodel.train(sentences)
    assert set(model.vocabulary) <= grammar.words() | {"hello", "doctor"}
    assert math.isfinite(model.log10_prob("doctor", ("call", "my")))
    assert model.log10_prob("doctor", ("call", "my")) > model.log10_prob("doctor", ("what", "time"))


def test_the_second_opinion_weights_each_template_alike(en_settings) -> None:
    """``SECOND_OPINION_BY_TEMPLATE``: each template of an intent gets the same share of its count,
    so "call my son" (a one-line template) is not outweighed by "(ask|tell) {contact} to (call|phone|
    ring) me [back]"'s many expansions; with sentence weights the trigram model preferred the
    fragment "tell my son" to "call my son" (docs/benchmarks/speech.md, round 16)."""
    from assistant.hearing import grammar as grammar_module
    from assistant.pipeline import DAEMON_GRAMMAR_OPTIONS

    grammar = compile_grammar(load_catalog("en"), en_settings, **DAEMON_GRAMMAR_OPTIONS)
    by_sentence = langmodel.domain_sentences(grammar)
    by_template = langmodel.domain_sentences(grammar, by_template=True)
    for sentences in (by_sentence, by_template):  # every intent still carries the same total
        assert sum(w for _, w in sentences) == pytest.approx(langmodel.INTENT_WEIGHT * len(grammar.intents))
    assert grammar_module.CONTACT_POSSESSIVE  # the daemon's grammar says "tell my son to …"
    weights, before = dict(by_template), dict(by_sentence)
    assert before["call my son"] == before["tell my son to ring me back"]  # one sentence, one share
    assert weights["call my son"] > 4 * before["call my son"]
    assert weights["call my son"] > 10 * weights["tell my son to ring me back"]


SPOKEN = {  # tuning voice en-us 150; what people say, not catalog wording
    "call my doctor": "call_doctor",
    "what time is it": "time_query",
    "i took my pills": "medication_taken",
    "i have a headache": "report_symptom",
    "turn the volume up": "volume_up",
    "help me": "emergency",
    "no thank you": "no",
    "what can you do": "capabilities",
}


@pytest.fixture(scope="module")
def lm_recognizer(en_settings):
    from assistant.hearing.pocketsphinx_engine import PocketsphinxRecognizer
    from assistant.pipeline import DAEMON_GRAMMAR_OPTIONS

    grammar = compile_grammar(load_catalog("en"), en_settings, **DAEMON_GRAMMAR_OPTIONS)
    rec = PocketsphinxRecognizer(None, "hello doctor", grammar=grammar, language_model=True)
    yield rec
    rec.close()


def test_spoken_commands_through_the_language_model(lm_recognizer, en_settings, speechgen: SpeechGen) -> None:
    from assistant.hearing.listener import Listener, UtteranceRecognized
    from assistant.hearing.sources import WavSource
    from assistant.understanding.matcher import IntentMatcher

    matcher = IntentMatcher.from_settings(en_settings, "en")
    right = wrong = 0
    for text, intent in SPOKEN.items():
        events: list[object] = []
        listener = Listener(WavSource(speechgen.say(text, "en-us", 150)), lm_recognizer, events.append)
        listener.source.start()
        listener.run_until_end()
        got = [matcher.match(e.transcript).intent for e in events if isinstance(e, UtteranceRecognized)]
        right += got == [intent]
        wrong += any(g and g != intent for g in got)
    # measured 4 right / 2 wrong of 8 (en-us 150): this guards the LM path end to end, not the
    # issue's accuracy target, which the LM misses (docs/benchmarks/speech.md, round 3)
    assert right >= 4 and wrong <= 2, (right, wrong)


def test_language_model_wake_search_and_silence(lm_recognizer, speechgen: SpeechGen) -> None:
    d = lm_recognizer.begin("wake")
    d.accept(read_pcm(speechgen.say("hello doctor what time is it")))
    assert d.finish().text.startswith("hello doctor")
    d = lm_recognizer.begin("command")
    d.accept(read_pcm(speechgen.concat(2.0)))
    assert d.finish().text == ""


def test_cached_arpa_is_the_trained_file_and_is_read_back(tmp_path, monkeypatch) -> None:
    sentences = [("call my daughter", 1.0), ("call my doctor", 0.5), ("what time is it", 2.0)]
    cache = tmp_path / "models"
    path = langmodel.cached_arpa(sentences, "second", str(tmp_path), str(cache))
    assert path.parent == cache and path.name.startswith("lm-second-")
    expected = langmodel.train(sentences, backoff_scale=langmodel.BACKOFF_SCALE).arpa()
    assert path.read_text(encoding="utf-8") == expected  # byte for byte what training writes

    def no_training(*_args, **_kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(langmodel, "train", no_training)
    assert langmodel.cached_arpa(sentences, "second", str(tmp_path), str(cache)) == path
    changed = [("call my daughter", 1.0), ("call my doctor", 0.25), ("what time is it", 2.0)]
    with pytest.raises(AssertionError, match="trained again"):  # another weight: another file
        langmodel.cached_arpa(changed, "second", str(tmp_path), str(cache))


def test_arpa_without_a_cache_goes_to_the_work_folder(tmp_path) -> None:
    path = langmodel.cached_arpa([("call my daughter", 1.0)], "second", str(tmp_path))
    assert path == tmp_path / "second.arpa" and path.read_text(encoding="utf-8").startswith("\\data\\")
