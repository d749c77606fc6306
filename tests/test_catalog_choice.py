"""``understanding.catalog``: another command domain (the home catalog in docs/examples/) end to
end — check-config, ``jiayi understand --text`` and ``jiayi chat`` with a config that selects it,
and real speech (flite voices, else espeak-ng) decoded by the product's own pipeline with that
catalog's grammar and language model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from speechgen import speechgen_fixture  # noqa: F401

from assistant import cli
from assistant.ops import config
from assistant.pipeline import PipelineOptions, build_pipeline
from assistant.understanding.catalog import CatalogError
from assistant.understanding.catalog_files import catalog_file

REPO = Path(__file__).resolve().parent.parent
HOME = REPO / "docs" / "examples" / "catalog-home"
HOME_CONFIG = REPO / "docs" / "examples" / "config-home.yaml"
BASE = 'person:\n  name: "Margaret Lee"\n  address_as: "Margaret"\ndoctor:\n  name: "Dr. Chen"\n'
NO_ROUTE_OK = "emergency:\n  accept_alarm_only: true\n"  # no practice, no modem: the alarm only
SPOKEN = {  # commands of the home domain → (intent, slots) the pipeline must produce
    "turn on the lights in the kitchen": ("lights_on", {"room": "kitchen"}),
    "turn off the bedroom lights": ("lights_off", {"room": "bedroom"}),
    "switch off the lights in the living room": ("lights_off", {"room": "living_room"}),
    "turn on the kitchen lights": ("lights_on", {"room": "kitchen"}),
    "switch on the bedroom lamp": ("lights_on", {"room": "bedroom"}),
    "it is too cold in here": ("heating_up", {}),
    "turn up the heating": ("heating_up", {}),
    "what time is it": ("time_query", {}),
}
OUT_OF_SCOPE = "play some music"
FLITE_VOICES = ("flite:slt", "flite:kal", "flite:rms", "flite:awb")
ESPEAK_VOICES = ("en-us", "en-gb")
MIN_ACCURACY = 0.85
"""Measured 30/32 (flite, 4 voices: kal mishears "kitchen" twice) and 14/16 (espeak-ng en-us/en-gb:
en-us hears "off" as "on" twice) when this test was written."""


@pytest.fixture(autouse=True)
def _keep_log_level():
    """``jiayi chat`` quiets the "assistant" logger for its process; give it back to later tests."""
    import logging

    logger = logging.getLogger("assistant")
    level = logger.level
    yield
    logger.setLevel(level)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(BASE + text + NO_ROUTE_OK, encoding="utf-8")
    return path


def _understand(capsys, *args: str) -> dict:
    assert cli.main(["understand", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_example_config_selects_the_home_catalog(capsys):
    settings = config.load_settings(HOME_CONFIG)
    assert settings.understanding.catalog.folder == str(HOME)
    assert catalog_file(settings.understanding.catalog, "en") == HOME / "en.yaml"
    assert cli.main(["check-config", str(HOME_CONFIG)]) == 0
    capsys.readouterr()
    got = _understand(capsys, "--config", str(HOME_CONFIG), "--text", "switch on the kitchen lamp")
    assert (got["intent"], got["slots"]) == ("lights_on", {"room": "kitchen"})
    # the medical catalog is not loaded: its commands are out of scope here
    assert _understand(capsys, "--config", str(HOME_CONFIG), "--text", "call my doctor")["intent"] is None
    # and without the key the built-in catalog is used again
    assert _understand(capsys, "--text", "call my doctor")["intent"] == "call_doctor"


def test_one_file_per_language_and_relative_paths(tmp_path, capsys):
    shutil.copy(HOME / "en.yaml", tmp_path / "house.yaml")
    path = _write(tmp_path, "understanding:\n  catalog:\n    en: house.yaml\n")
    settings = config.load_settings(path)
    assert settings.understanding.catalog.files == (("en", str(tmp_path / "house.yaml")),)
    got = _understand(capsys, "--config", str(path), "--text", "it is too cold in here")
    assert got["intent"] == "heating_up"
    # a language the choice has no catalog for is a plain error, not a silent fallback
    with pytest.raises(CatalogError, match="no catalog for language 'zh'"):
        catalog_file(settings.understanding.catalog, "zh")
    assert cli.main(["understand", "--config", str(path), "--lang", "zh", "--text", "x"]) == 2
    assert "no catalog for language 'zh'" in capsys.readouterr().err


def test_chat_and_the_dialogue_use_the_chosen_catalog(capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("switch off the bedroom lamp\nplay some music\n"))
    assert cli.main(["chat", "--config", str(HOME_CONFIG)]) == 0
    out = capsys.readouterr().out
    assert "Jiayi: All right, lights off." in out
    assert "didn't catch that" in out.split("You: play some music")[1]


def test_a_prompts_file_beside_the_catalog_replaces_prompts_key_by_key(tmp_path, capsys, monkeypatch):
    import io

    folder = tmp_path / "home"
    folder.mkdir()
    shutil.copy(HOME / "en.yaml", folder / "en.yaml")
    (folder / "prompts-en.yaml").write_text('prompts:\n  greeting: "Hi {person}, the house is listening."\n')
    path = _write(tmp_path, "understanding:\n  catalog: home\n")
    monkeypatch.setattr("sys.stdin", io.StringIO("nonsense words\n"))
    assert cli.main(["chat", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Jiayi: Hi Margaret, the house is listening." in out
    assert "Sorry, I didn't catch that." in out  # a key the file leaves out keeps the built-in wording


@pytest.mark.parametrize(
    ("value", "files", "problem"),
    [
        ("nowhere", {}, "understanding.catalog: the folder .*nowhere does not exist; check the path"),
        ("cat/en.yaml", {"cat/en.yaml": "x"}, "is a file, not a folder; name the folder"),
        ("cat", {"cat/readme.txt": "x"}, "holds no catalog .*; put one catalog per language"),
        ("{fr: cat/fr.yaml}", {"cat/fr.yaml": "x"}, '"fr" is not a supported language; use en or zh'),
        ("{en: missing.yaml}", {}, "en: the file .*missing.yaml does not exist"),
        ("[a, b]", {}, "should be a folder or one catalog file per language"),
        (
            "cat",
            {"cat/en.yaml": "lang: en\nintents:\n  x:\n    tier: scary\n    phrases: [x]\n"},
            r"cat/en.yaml:3: intent 'x': tier must be one of .*; fix the catalog file",
        ),
        (
            "cat",
            {"cat/zh.yaml": "lang: zh\nintents:\n  x:\n    tier: plain\n    phrases: [x]\n"},
            r"no catalog for the person's language \(en\)",
        ),
        ("cat", {"cat/en.yaml": (HOME / "en.yaml").read_text(), "cat/prompts-en.yaml": "[1, 2]"}, "prompts"),
    ],
)
def test_check_config_reports_a_bad_catalog_with_line_key_and_fix(tmp_path, value, files, problem):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    path = _write(tmp_path, f"understanding:\n  catalog: {value}\n")
    problems = config.check_config(path)
    assert len(problems) >= 1
    first = str(problems[0])
    assert first.startswith(f"{path}:7 understanding.catalog: ")
    import re

    assert re.search(problem, first), first


@pytest.mark.slow
def test_home_commands_spoken_are_understood_through_the_pipeline(speechgen):
    """Real speech of the other domain (flite's four voices when installed, else espeak-ng's),
    decoded by build_pipeline with the home catalog's own grammar and language model (the
    daemon's path, not a phrase list). Out-of-scope speech must never become an intent."""
    voices = FLITE_VOICES if shutil.which("flite") else ESPEAK_VOICES
    settings = config.load_settings(HOME_CONFIG)
    pipeline = build_pipeline(settings, PipelineOptions(isolated=False, wake_phrase=""))
    assert pipeline.understander.catalog.path == str(HOME / "en.yaml")
    assert pipeline.grammar() is not None and "kitchen" in " ".join(pipeline.phrases())
    right, wrong = 0, []
    for voice in voices:
        for text, expected in SPOKEN.items():
            got = pipeline.understand_wav(speechgen.say(text, voice=voice, wpm=140))
            if (got.intent, got.slots) == expected:
                right += 1
            else:
                wrong.append((voice, text, got.transcript, got.intent, got.slots))
        assert pipeline.understand_wav(speechgen.say(OUT_OF_SCOPE, voice=voice, wpm=140)).intent is None
    total = len(voices) * len(SPOKEN)
    assert right / total >= MIN_ACCURACY, f"{right}/{total} right; wrong: {wrong}"


def test_the_daemon_runs_the_chosen_catalog(tmp_path):
    """``jiayi run``'s daemon: understanding and dialogue both come from the home catalog."""
    import dataclasses

    from e2e_helpers import running_daemon

    chosen = config.load_settings(HOME_CONFIG)
    settings = dataclasses.replace(chosen, state_dir=str(tmp_path / "state"))
    with running_daemon(settings, use_relay=False) as h:
        assert h.daemon.dialogue.catalog.path == str(HOME / "en.yaml")  # type: ignore[attr-defined]
        h.say("switch off the bedroom lamp")
        h.pump_until(lambda: "All right, lights off." in h.echo.said(), what="the home catalog's answer")
        h.say("call my doctor")
        h.pump_until(lambda: len(h.echo.said()) >= 3, what="a reply")  # after the alarm-only notice
        assert "didn't catch that" in h.echo.said()[-1] and h.echo.sent() == []
