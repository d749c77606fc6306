"""Round 13, Mandarin distress (dis16zh): the dev set's shape, an A-not-A question's 吗 that normalisation
moves to the end of the line (``distress.ZH_FOLDED_QUESTION``), the speaker's own elders
(``distress.ZH_MY_ELDERS``, off) and the round's lexicon forms, probed in wordings that are not the set's."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from test_understander import _settings

from assistant.pipeline import build_understander
from assistant.understanding import distress
from assistant.understanding.distress import DistressDetector
from assistant.understanding.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
DEV16 = ROOT / "bench" / "data" / "distress-dev16-zh.jsonl"


def _rows() -> list[dict]:
    return [json.loads(line) for line in DEV16.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_dev16_zh_has_the_promised_shape() -> None:
    rows = _rows()
    assert len(rows) >= 250
    assert all(set(r) == {"text", "emergency", "note"} and isinstance(r["emergency"], bool) for r in rows)
    assert len({r["text"] for r in rows}) == len(rows)
    emergencies = sum(r["emergency"] for r in rows)
    declined = sum(r["note"] in ("negated", "declining") for r in rows)
    assert 0.40 <= emergencies / len(rows) <= 0.50 and 0.08 <= declined / len(rows) <= 0.12
    assert not any(r["emergency"] for r in rows if r["note"] in ("negated", "declining"))
    for half in (rows[0::2], rows[1::2]):
        assert 50 <= sum(r["emergency"] for r in half) <= 65
    odd, even = Counter(r["note"] for r in rows[0::2]), Counter(r["note"] for r in rows[1::2])
    assert len(odd | even) >= 20  # many kinds, in both halves


@pytest.fixture(scope="module")
def lexicon() -> DistressDetector:
    return DistressDetector("zh")


# ---------------------------------------------------------------- a folded question's 吗


def test_normalisation_moves_a_folded_question_to_the_end() -> None:
    """What the rule is for: 能不能 → 能 … 吗, the 吗 after everything said later."""
    assert normalize("你能不能快点，我老伴倒在地上了", "zh").endswith("了吗")


@pytest.mark.parametrize(
    "text",
    [
        "你能不能快点，我老伴倒在地上了，叫不醒",
        "你看看外面下不下雨，哎呀我这胸口一下子疼得厉害",
        "你能不能来一趟我摔在厕所里爬不起来",
    ],
)
def test_a_question_before_a_new_clause_does_not_clear_its_cue(
    lexicon: DistressDetector, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    assert lexicon.detect(text).emergency
    said = normalize(text, "zh")
    assert lexicon.detect(said, normalized=True, raw=text).emergency  # as the stage calls it
    monkeypatch.setattr(distress, "ZH_FOLDED_QUESTION", False)
    assert not lexicon.detect(text).emergency  # off: the moved 吗 made it a question


@pytest.mark.parametrize(
    "text",
    [
        "摔一跤会不会中风",  # the question is about the cue
        "你能不能告诉我中风有什么症状",  # 我 is 告诉's object, not a new clause
        "你能不能给我讲讲心绞痛",
        "我胸口疼得厉害是不是心脏病",  # the fold after the cue
    ],
)
def test_a_question_about_the_cue_stays_a_question(lexicon: DistressDetector, text: str) -> None:
    assert not lexicon.detect(text).emergency


def test_without_the_words_as_said_nothing_changes(lexicon: DistressDetector) -> None:
    said = normalize("你能不能快点，我老伴倒在地上了", "zh")
    assert not lexicon.detect(said, normalized=True).emergency  # no raw: the 吗 is read as before


# ---------------------------------------------------------------- the speaker's own elders


def test_my_grandmother_is_near_when_on(lexicon: DistressDetector, monkeypatch: pytest.MonkeyPatch) -> None:
    """Off (no unseen figure moved): 奶奶 is far, as before."""
    text = "俺奶奶从凳子上掉下来了"
    assert not distress.ZH_MY_ELDERS and not lexicon.detect(text).emergency
    monkeypatch.setattr(distress, "ZH_MY_ELDERS", True)
    assert lexicon.detect(text).emergency
    assert not lexicon.detect("同学的奶奶从凳子上掉下来了").emergency  # someone else's


# ---------------------------------------------------------------- the round's lexicon forms


@pytest.mark.parametrize(
    "text",
    [
        "阿爸食错药，依家冇反应",  # Cantonese 食 / 冇
        "他把一整瓶降压药全塞嘴里了",
        "咳了一大碗血",
        "我估计这次熬不过去了",
        "绳子都挂好了",
        "老头子心不跳了",
        "我右半边身子不是我自己的了",
        "嘴角一直往外流口水",
        "我从板凳上搭下来了",
        "老伴摔了动不得",
    ],
)
def test_round_13_emergencies(lexicon: DistressDetector, text: str) -> None:
    assert lexicon.detect(text).emergency


@pytest.mark.parametrize(
    "text",
    [
        "笑得我从椅子上滚下来了",
        "火锅辣得我嘴都冒火了",
        "这菜贵得我差点晕过去",
        "炒股亏得我要吐血",
        "被他气得我心口疼",
        "手机又死机了怎么都叫不醒",
        "孙子摔断了胳膊已经打了石膏",
        "心肺复苏的手法是怎么做",
        "摔倒了怎么起来才好",
        "被烫了要冲凉水对吧",
    ],
)
def test_round_13_harmless_lines(lexicon: DistressDetector, text: str) -> None:
    assert not lexicon.detect(text).emergency


def test_the_stage_reads_the_folded_question_with_the_words_as_said(tmp_path: Path) -> None:
    zh = build_understander(_settings("zh", tmp_path), "zh")
    assert zh.match("你能不能快点，我老伴倒在地上了，叫不醒").intent == "emergency"
    assert zh.match("摔一跤会不会中风").intent != "emergency"


# ---------------------------------------------------------------- what round 13 ships for the learned parts


def test_what_round_13_ships() -> None:
    from assistant.understanding import distress_raise, distress_veto

    assert distress_raise.ODD_HALVES_UP_TO["zh"] == 16  # the raiser reads dev15's and dev16's odd halves
    assert distress_veto.EXTRA_DATA["zh"] and distress_veto.ACUTE_FLOOR["zh"]  # unseen false alarms fell
    assert distress_veto.threshold("zh") == 0.15
    assert [p.name for p in distress_veto.extra_files("zh")] == [
        "distress-odd-zh.jsonl",
        "negatives-zh.jsonl",
    ]
    assert distress.ZH_FOLDED_QUESTION and not distress.ZH_MY_ELDERS


class _SureItIsHarmless:
    """A veto that would clear anything: what is left standing is the floor's doing."""

    def clears(self, text: str, categories: set[str], scope: object = ()) -> bool:
        from assistant.understanding import distress_veto

        return not categories & distress_veto.FLOOR_CATEGORIES


def test_the_mandarin_acute_floor_keeps_choking_from_any_veto(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.understanding import distress_veto

    detector = DistressDetector("zh", veto=_SureItIsHarmless())  # type: ignore[arg-type]
    acute = "老头子吃饭被一块肉噎住了脸都憋紫了"
    plain = "老伴在卫生间里摔倒了一直在喊我"
    monkeypatch.setitem(distress_veto.ACUTE_FLOOR, "zh", False)
    assert not detector.detect(acute).emergency and not detector.detect(plain).emergency
    monkeypatch.setitem(distress_veto.ACUTE_FLOOR, "zh", True)
    assert detector.detect(acute).emergency  # choking, blue: never_mild, never vetoed
    assert not detector.detect(plain).emergency  # other cues: the veto still decides
