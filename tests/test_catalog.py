"""Intent catalogs load, validate, and broken catalogs give errors naming file and intent."""

from __future__ import annotations

import pytest

from assistant.understanding.catalog import CatalogError, expand_template, load_catalog, parse_template

REQUIRED_IDS = {
    "call_doctor", "call_contact", "emergency", "reorder_medication", "medication_taken", "medication_query",
    "report_symptom", "book_appointment", "appointment_query", "time_query", "capabilities", "cancel",
    "repeat", "yes", "no", "volume_up", "volume_down", "sent_today_query", "feeling_fine",
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_catalog_has_every_stable_intent_with_tier_and_responses(lang):
    catalog = load_catalog(lang)
    assert set(catalog.intent_ids()) == REQUIRED_IDS
    rejects = {i for i, d in catalog.intents.items() if d.reject}
    assert {"out_greeting", "out_weather", "out_music_media", "out_home"} <= rejects
    assert all(not catalog.intents[i].responses and not catalog.intents[i].slots for i in rejects)
    assert catalog.intents["emergency"].tier == "emergency"
    assert catalog.intents["call_doctor"].tier == "confirm"
    assert catalog.intents["time_query"].tier == "plain"
    assert catalog.intents["call_contact"].slots == ("contact",)
    assert catalog.intents["medication_taken"].optional_slots == frozenset({"medication"})
    assert "{doctor}" in catalog.response("call_doctor", "confirm")
    assert catalog.response("call_doctor", "done")
    assert catalog.say_value("symptom", "dizzy")


def test_template_expansion_alternatives_optional_slots():
    assert sorted(expand_template("(call|ring) [my] {doctor}")) == sorted(
        ["call my {doctor}", "call {doctor}", "ring my {doctor}", "ring {doctor}"]
    )
    assert expand_template("[a|b] c") == ["a c", "b c", "c"]
    with pytest.raises(ValueError):
        parse_template("(call|ring my doctor")


def _write(tmp_path, body: str):
    path = tmp_path / "en.yaml"
    path.write_text("lang: en\nslots:\n  thing:\n    values:\n      lamp: [lamp, light]\nintents:\n" + body)
    return path


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("  turn_on:\n    tier: plain\n    phrases: ['(turn on {thing}']\n", "unbalanced|closed by"),
        ("  turn_on:\n    tier: loud\n    phrases: ['turn on']\n", "tier"),
        ("  turn_on:\n    tier: plain\n    phrases: ['turn on {colour}']\n", "colour"),
        ("  turn_on:\n    tier: confirm\n    phrases: ['turn on {thing}']\n", "confirm"),
        ("  turn_on:\n    tier: plain\n    phrases: []\n", "phrase"),
        (
            "  turn_on:\n    tier: plain\n    phrases: ['turn on']\n    responses: {answer: 'ok {nope}'}\n",
            "nope",
        ),
        ("  turn_on:\n    reject: yes please\n    phrases: ['turn on']\n", "reject"),
        ("  turn_on:\n    reject: true\n    phrases: ['turn on']\n    responses: {answer: 'ok'}\n", "reject"),
    ],
)
def test_broken_catalog_names_file_and_intent(tmp_path, body, needle):
    path = _write(tmp_path, body)
    with pytest.raises(CatalogError) as err:
        load_catalog("en", path)
    message = str(err.value)
    assert str(path) in message and "turn_on" in message
    import re

    assert re.search(needle, message)


def test_an_intent_id_the_protocol_could_not_carry_is_refused_at_load(tmp_path):
    # Intent ids travel as request types ([a-z][a-z0-9_]{0,63}); a longer one was accepted here
    # and then refused by the relay after she had confirmed it.
    long_id = "turn_on_" + "x" * 57  # 65 characters
    path = _write(tmp_path, f"  {long_id}:\n    tier: plain\n    phrases: ['turn on']\n")
    with pytest.raises(CatalogError, match="at most 64 characters"):
        load_catalog("en", path)
    ok = _write(tmp_path, f"  {long_id[:64]}:\n    tier: plain\n    phrases: ['turn on']\n")
    assert long_id[:64] in load_catalog("en", ok).intents


def test_missing_catalog_file_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog("en", tmp_path / "nope.yaml")


def test_format_works_for_a_non_medical_domain(tmp_path):
    from assistant.understanding.matcher import IntentMatcher

    path = _write(
        tmp_path,
        "  turn_on:\n    tier: plain\n    slots: [thing]\n    phrases: ['(turn|switch) on [the] {thing}']\n",
    )
    matcher = IntentMatcher(load_catalog("en", path))
    result = matcher.match("Please switch on the light")
    assert result.intent == "turn_on" and result.slots == {"thing": "lamp"}
    assert matcher.match("make me a sandwich").intent is None


def test_reject_intents_map_to_no_intent_in_any_domain(tmp_path):
    from assistant.understanding.matcher import IntentMatcher

    path = _write(
        tmp_path,
        "  turn_on:\n    tier: plain\n    slots: [thing]\n    phrases: ['(turn|switch) on [the] {thing}']\n"
        "  not_ours:\n    reject: true\n    phrases: ['(turn|switch) on [the] (oven|kettle)']\n",
    )
    catalog = load_catalog("en", path)
    assert catalog.intent_ids() == ("turn_on",)
    matcher = IntentMatcher(catalog)
    assert matcher.match("switch on the lamp").intent == "turn_on"
    rejected = matcher.match("switch on the kettle")
    assert rejected.intent is None and rejected.tier is None and rejected.confidence > 0.9
    assert not any("kettle" in p for p in matcher.grammar_phrases())


def test_synonym_groups_read_every_word_as_the_first(tmp_path):
    from assistant.understanding.matcher import IntentMatcher

    path = tmp_path / "en.yaml"
    path.write_text(
        "lang: en\nsynonyms:\n  - [switch on, power up, fire up]\n  - [lamp, lantern]\n"
        "slots:\n  thing:\n    values:\n      lamp: [lamp, light]\nintents:\n"
        "  turn_on:\n    tier: plain\n    slots: [thing]\n    phrases: ['switch on [the] {thing}']\n"
    )
    catalog = load_catalog("en", path)
    assert catalog.synonyms == (("switch on", "power up", "fire up"), ("lamp", "lantern"))
    matcher = IntentMatcher(catalog)
    result = matcher.match("fire up the lantern")  # neither word is in any phrase or slot
    assert result.intent == "turn_on" and result.slots == {"thing": "lamp"}
    assert "switch on lamp" in matcher.grammar_phrases()  # grammars keep the written words


@pytest.mark.parametrize(
    ("groups", "needle"),
    [
        ("call", "list of word groups"),
        ("\n  - [ring]", "at least two"),
        ("\n  - [a, b]\n  - [b, c]", "already"),
    ],
)
def test_broken_synonym_groups_are_clear_errors(tmp_path, groups, needle):
    path = tmp_path / "en.yaml"
    path.write_text("lang: en\nsynonyms: " + groups + "\nintents:\n  x:\n    tier: plain\n    phrases: [x]\n")
    with pytest.raises(CatalogError, match=needle):
        load_catalog("en", path)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("  turn_on:\n    tier: emergency\n    confirm: true\n    phrases: [x]\n", "never read back"),
        ("  turn_on:\n    tier: plain\n    confirm: true\n    phrases: [x]\n", "needs a 'confirm' response"),
        ("  turn_on:\n    tier: plain\n    confirm: maybe\n    phrases: [x]\n", "true or false"),
        (
            "  turn_on:\n    tier: plain\n    help_words: [help]\n    phrases: [x]\n"
            "  other:\n    tier: plain\n    help_words: [Help!]\n    phrases: [y]\n",
            "already a help word of 'turn_on'",
        ),
    ],
)
def test_broken_behaviour_keys_are_clear_errors(tmp_path, body, needle):
    path = tmp_path / "en.yaml"
    path.write_text("lang: en\nintents:\n" + body, encoding="utf-8")
    with pytest.raises(CatalogError, match=needle):
        load_catalog("en", path)


def test_builtin_catalogs_carry_the_dialogue_behaviour():
    for lang, word in (("en", "Help me!"), ("zh", "救命")):
        catalog = load_catalog(lang)
        assert catalog.help_intent(word) == "emergency"
        assert catalog.tier("emergency") == "emergency" and not catalog.confirms("emergency")
        assert catalog.confirms("call_doctor") and not catalog.confirms("medication_taken")
