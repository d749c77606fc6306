"""The learned distress veto: trained in a child process, cached, and only ever clearing alarms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.understanding import distress_raise, distress_veto
from assistant.understanding.distress import DistressDetector
from assistant.understanding.normalize import normalize


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("veto-state")


@pytest.fixture(scope="module")
def en(state: Path) -> DistressDetector:
    return DistressDetector.for_stage("en", str(state))


@pytest.fixture(scope="module")
def zh(state: Path) -> DistressDetector:
    return DistressDetector.for_stage("zh", str(state))


def test_veto_is_built_once_and_cached(en: DistressDetector, zh: DistressDetector, state: Path) -> None:
    assert en.veto is not None and zh.veto is not None
    files = sorted(p.name for p in (state / "models").glob("distress-*.bin") if "-raise-" not in p.name)
    assert [f.split("-")[1] for f in files] == ["en", "zh"], files
    meta = en.veto.model.meta
    assert meta["examples"] > 500 and 0 < meta["emergencies"] < meta["examples"], meta
    again = distress_veto.load_or_build("en", str(state))
    assert again is en.veto  # same process, same data: no second training


EN_EMERGENCIES = [
    "i've fallen and hurt my hip", "my chest hurts and i feel sick", "i slipped in the kitchen and i can't get up",
    "my husband is on the floor and won't wake up", "i can't breathe properly and my lips are blue",
    "i took the whole packet of sleeping tablets", "the frying pan has caught fire",
]  # fmt: skip
ZH_EMERGENCIES = [
    "我摔倒了髋骨疼",
    "我胸口疼想吐",
    "我在厨房滑倒了起不来",
    "老伴躺在地上叫不醒",
    "我喘不上气嘴唇发紫",
]


@pytest.mark.parametrize("text", EN_EMERGENCIES)
def test_english_emergencies_survive_the_veto(en: DistressDetector, text: str) -> None:
    assert en.detect(text).emergency, (text, en.veto.p_emergency(normalize(text, "en")))


@pytest.mark.parametrize("text", ZH_EMERGENCIES)
def test_mandarin_emergencies_survive_the_veto(zh: DistressDetector, text: str) -> None:
    assert zh.detect(text).emergency, (text, zh.veto.p_emergency(normalize(text, "zh")))


def test_cries_and_short_utterances_are_never_vetoed(en: DistressDetector, zh: DistressDetector) -> None:
    for detector, text, categories in (
        (en, "thank you for the lovely flowers please help", {"cry"}),
        (en, "the weather is lovely and i want to end it all", {"self_harm"}),
        (zh, "今天天气真好救命", {"cry"}),
    ):
        assert detector.veto is not None
        assert not detector.veto.clears(normalize(text, detector.lang), categories)
    assert not en.veto.clears("i can not get up", {"fall"})  # too short to judge: the lexicon decides
    assert en.detect("help").emergency and zh.detect("救命").emergency


def test_a_confident_veto_clears_with_a_reason(en: DistressDetector, monkeypatch: pytest.MonkeyPatch) -> None:
    assert en.veto is not None
    monkeypatch.setattr(en.veto, "p_emergency", lambda _text: 0.01)  # a veto sure that all is harmless
    result = en.detect("i have been having chest pain every morning for a year")
    assert not result.emergency and "learned" in {why for _, why in result.cleared}, result
    assert en.detect("help me my husband has collapsed in the garden").emergency  # a cry: the floor holds
    assert en.detect("i can't breathe").emergency  # short: the floor holds
    # asking for a person while unwell (round 8's request category): the floor holds
    result = en.detect("could you please fetch my daughter over here, i am feeling really poorly")
    assert result.emergency and result.category == "request", result


def test_without_a_veto_the_lexicon_decides(monkeypatch: pytest.MonkeyPatch, state: Path) -> None:
    def broken(lang: str, state_dir: str = "") -> None:
        raise RuntimeError("no scikit-learn here")

    monkeypatch.setattr(distress_veto, "load_or_build", broken)
    detector = DistressDetector.for_stage("en", str(state))
    assert detector.veto is None
    assert detector.detect("i've fallen and i can't get up").emergency
    assert not detector.detect("he fell asleep during the film").emergency


ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cases_share_no_line_with_the_fresh_test_sets(lang: str) -> None:
    """The veto's own training sentences never equal a held-out test line (compared, never printed).

    fresh3 was written after the cases by someone who had seen neither; the lines its natural
    wording shares with a case are recorded by line number (``intent-fresh3-overlap.json``,
    ``distress``) and left out of its "no catalog or training sentence" figures; any other
    overlap fails."""
    data = ROOT / "bench" / "data"
    allowed = set(json.loads((data / "intent-fresh3-overlap.json").read_text("utf-8"))["distress"][lang])
    fresh: set[str] = set()
    for kind in ("fresh", "fresh2", "fresh3"):
        path = data / f"intent-{kind}-{lang}.jsonl"
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            fresh |= {
                normalize(json.loads(line)["text"], lang)
                for n, line in enumerate(lines, 1)
                if line.strip() and not (kind == "fresh3" and n in allowed)
            }
    overlap = [
        n for n, (text, _) in enumerate(distress_veto.cases(lang), 1) if normalize(text, lang) in fresh
    ]
    assert not overlap, f"{len(overlap)} distress case(s) equal a fresh test line: case numbers {overlap}"


def test_broken_cases_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "distress-cases-en.yaml").write_text("emergency: help\nharmless: []\n", encoding="utf-8")
    monkeypatch.setattr(distress_veto.data, "intents_dir", lambda: tmp_path)
    with pytest.raises(distress_veto.DistressCasesError, match="'emergency' must be a list"):
        distress_veto.cases("en")


@pytest.mark.parametrize("name", ["dev10", "dev11", "dev12", "dev13", "dev14", "dev15", "dev16", "dev17"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_dev_check_half_is_never_trained_on(lang: str, name: str) -> None:
    """distress-dev10's and dev11's even lines are the round-7 and round-8 checks: no veto case or
    training sentence equals one."""
    path = ROOT / "bench" / "data" / f"distress-{name}-{lang}.jsonl"
    if name in ("dev14", "dev15", "dev16", "dev17") and not path.exists():
        pytest.skip(f"distress-{name} is written per language by separate helpers; this one is not here")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 200
    check = {normalize(r["text"], lang) for r in rows[1::2]}
    trained = {normalize(text, lang) for text, _ in distress_veto.cases(lang)}
    for path in distress_veto.training_files(lang) + distress_raise.training_files(lang):
        if path.suffix == ".jsonl":
            lines = path.read_text(encoding="utf-8").splitlines()
            trained |= {normalize(json.loads(line)["text"], lang) for line in lines if line.strip()}
    overlap = sorted(check & trained)
    assert not overlap, f"{len(overlap)} {name} check line(s) are trained on"
