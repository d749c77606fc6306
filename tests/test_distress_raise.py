"""The learned distress raiser: trained in a child process, cached, and only ever adding an emergency
where the lexicon heard no danger word at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.understanding import distress_raise
from assistant.understanding.distress import LEARNED, DistressDetector
from assistant.understanding.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("raise-state")


@pytest.fixture(scope="module")
def en(state: Path) -> DistressDetector:
    return DistressDetector.for_stage("en", str(state))


@pytest.fixture(scope="module")
def zh(state: Path) -> DistressDetector:
    """The Mandarin detector with its raiser (on since round 11, at ZH_CANDIDATE)."""
    detector = DistressDetector.for_stage("zh", str(state))
    assert detector.raiser is not None  # on by default (RAISE_AT["zh"] == ZH_CANDIDATE)
    return detector


def test_raiser_is_built_once_and_cached(en: DistressDetector, zh: DistressDetector, state: Path) -> None:
    assert en.raiser is not None and zh.raiser is not None
    files = sorted(p.name for p in (state / "models").glob("distress-raise-*.bin"))
    assert [f.split("-")[2] for f in files] == ["en", "zh"], files
    meta = en.raiser.model.meta
    assert meta["examples"] > 5000 and 0 < meta["emergencies"] < meta["examples"], meta
    assert distress_raise.load_or_build("en", str(state)) is en.raiser


def test_a_language_raiser_switches_off(state: Path) -> None:
    assert distress_raise.RAISE_AT["zh"] == distress_raise.ZH_CANDIDATE
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(distress_raise.RAISE_AT, "zh", None)
        detector = DistressDetector.for_stage("zh", str(state))
        assert detector.raiser is None
        raiser = distress_raise.load_or_build("zh", str(state))
        assert not raiser.raises("胳膊麻了使不上劲觉得不对劲")  # never raises while off


# Own probe sentences (in no bench set): wordings without any lexicon cue that the raiser hears.
EN_RAISED = ["my arm has gone all funny and i do not feel right at all"]
ZH_RAISED = ["胳膊麻了，使不上劲，觉得不对劲"]


@pytest.mark.parametrize(("lang", "text"), [("en", t) for t in EN_RAISED] + [("zh", t) for t in ZH_RAISED])
def test_the_raiser_hears_what_the_lexicon_lacks(
    en: DistressDetector, zh: DistressDetector, lang: str, text: str
) -> None:
    detector = en if lang == "en" else zh
    assert not DistressDetector(lang).detect(text).emergency  # the lexicon alone hears nothing
    result = detector.detect(text)
    assert result.emergency and result.category == LEARNED, (
        text,
        detector.raiser.p_emergency(normalize(text, lang)),
    )


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "what time is it"),
        ("en", "call my daughter please"),
        ("en", "the kettle has boiled, shall i make the tea"),
        ("zh", "现在几点了"),
        ("zh", "给我女儿打个电话"),
        ("zh", "茶壶的水烧干了，差点糊了"),  # shares characters with danger words, says none
        ("zh", "他一生气就摔东西"),
        ("zh", "她心肠软，见不得人哭"),
    ],
)
def test_ordinary_requests_are_not_raised(
    en: DistressDetector, zh: DistressDetector, lang: str, text: str
) -> None:
    assert not (en if lang == "en" else zh).detect(text).emergency


def test_a_cleared_cue_is_never_raised(en: DistressDetector, monkeypatch: pytest.MonkeyPatch) -> None:
    """The raiser only speaks where no cue was heard: a cue the rules cleared stays cleared."""
    assert en.raiser is not None
    monkeypatch.setattr(en.raiser, "p_emergency", lambda _text: 1.0)  # a raiser sure of everything
    for text in ("he fell asleep during the film", "there's no pain in my chest now"):
        result = en.detect(text)
        assert not result.emergency and result.cleared, (text, result)
    assert en.detect("the weather is nice today").category == LEARNED


def test_without_a_raiser_the_lexicon_decides(monkeypatch: pytest.MonkeyPatch, state: Path) -> None:
    def broken(lang: str, state_dir: str = "") -> None:
        raise RuntimeError("no scikit-learn here")

    monkeypatch.setattr(distress_raise, "load_or_build", broken)
    detector = DistressDetector.for_stage("en", str(state))
    assert detector.raiser is None and detector.veto is not None
    assert detector.detect("i've fallen and i can't get up").emergency
    assert not detector.detect("what time is it").emergency


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_odd_halves_file_is_exactly_the_tuned_on_halves(lang: str) -> None:
    """``distress-odd-<lang>.jsonl`` holds odd lines only (an odd line equal to some set's even line is left
    out); no even (check) line of any halved set."""
    from bench.intent import DISTRESS_HALVES

    odd: set[str] = set()
    even: set[str] = set()
    for name in DISTRESS_HALVES:
        path = ROOT / "bench" / "data" / f"distress-{name}-{lang}.jsonl"
        if not path.exists():
            continue  # a set written for one language only
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        odd |= {r["text"] for r in rows[0::2]}
        even |= {normalize(r["text"], lang) for r in rows[1::2]}
    lines = distress_raise.odd_halves_file(lang).read_text(encoding="utf-8").splitlines()
    trained = [json.loads(line) for line in lines if line.strip()]
    assert {r["text"] for r in trained} <= odd and len(trained) >= 0.95 * len(odd)
    overlap = [n for n, r in enumerate(trained, 1) if normalize(r["text"], lang) in even]
    assert not overlap, f"odd-halves lines {overlap} equal a check line"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_odd_halves_line_is_a_fresh_line(lang: str) -> None:
    fresh: set[str] = set()
    for kind in ("fresh", "fresh2", "fresh3"):
        path = ROOT / "bench" / "data" / f"intent-{kind}-{lang}.jsonl"
        fresh |= {
            normalize(json.loads(x)["text"], lang) for x in path.read_text("utf-8").splitlines() if x.strip()
        }
    negatives = distress_raise.odd_halves_file(lang).with_name(f"distress-raise-negatives-{lang}.jsonl")
    for path in (distress_raise.odd_halves_file(lang), negatives):  # the raiser's own training files
        if lang == "zh":
            assert path.exists(), path
        if not path.exists():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        overlap = [
            n for n, x in enumerate(lines, 1) if x.strip() and normalize(json.loads(x)["text"], lang) in fresh
        ]
        assert not overlap, (
            f"{len(overlap)} line(s) of {path.name} equal a fresh test line: numbers {overlap}"
        )


def test_odd_halves_after_the_cut_are_not_trained_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Round 12: distress-dev15-zh's odd half is in the file but trained on only when ODD_HALVES_UP_TO
    reaches 15; round 13 reads it and dev16's (16). Below the cut a later half is not trained on; the
    hash names the cut."""
    rows = [json.loads(x) for x in distress_raise.odd_halves_file("zh").read_text("utf-8").splitlines() if x]
    later = {normalize(r["text"], "zh") for r in rows if r["source"] == "distress-dev16 odd"}
    earlier = {normalize(r["text"], "zh") for r in rows if r["source"] == "distress-dev15 odd"}
    assert len(later) >= 120 and len(earlier) >= 120
    # round 13 (dis16zh): Mandarin reads dev15's and dev16's odd halves (pooled unseen recall +1)
    assert distress_raise.ODD_HALVES_UP_TO == {"en": 15, "zh": 16}
    texts = set(distress_raise.examples("zh")[0])
    assert earlier <= texts and later <= texts
    cut = distress_raise.data_hash("zh")
    monkeypatch.setitem(distress_raise.ODD_HALVES_UP_TO, "zh", 14)
    fewer = set(distress_raise.examples("zh")[0])
    assert not (earlier | later) & fewer - texts and not later & fewer
    assert distress_raise.data_hash("zh") != cut
