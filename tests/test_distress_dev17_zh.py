"""Round 14, Mandarin distress (dis17zh): the dev set's shape and the round's lexicon forms, probed in
wordings that are not the set's (Hokkien 袂 / 佇 / 跋, Cantonese 晕低 / 冇晒反应, darkness in waves, a
headache with vomiting and confusion, gas left on; help called off, 哪天, 应该…还是, 原来是 …)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from test_understander import _settings

from assistant.pipeline import build_understander
from assistant.understanding.distress import DistressDetector

ROOT = Path(__file__).resolve().parent.parent
DEV17 = ROOT / "bench" / "data" / "distress-dev17-zh.jsonl"
DECLINED = ("negated", "declining", "cancelled")


def _rows() -> list[dict]:
    return [json.loads(line) for line in DEV17.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_dev17_zh_has_the_promised_shape() -> None:
    rows = _rows()
    assert len(rows) >= 250
    assert all(set(r) == {"text", "emergency", "note"} and isinstance(r["emergency"], bool) for r in rows)
    assert len({r["text"] for r in rows}) == len(rows)
    emergencies = sum(r["emergency"] for r in rows)
    declined = sum(r["note"] in DECLINED for r in rows)
    assert 95 <= emergencies <= 110 and 45 <= declined <= 55
    assert not any(r["emergency"] for r in rows if r["note"] in DECLINED)
    for half in (rows[0::2], rows[1::2]):
        assert abs(sum(r["emergency"] for r in half) - emergencies / 2) <= 1
        assert abs(sum(r["note"] in DECLINED for r in half) - declined / 2) <= 1
    odd, even = Counter(r["note"] for r in rows[0::2]), Counter(r["note"] for r in rows[1::2])
    assert len(odd | even) >= 25  # many kinds, in both halves


def test_dev17_odd_half_is_in_the_tuned_halves_file() -> None:
    """The odd half joins ``distress-odd-zh.jsonl`` (read only when ``ODD_HALVES_UP_TO['zh']`` ≥ 17)."""
    from assistant.understanding import distress_raise

    lines = distress_raise.odd_halves_file("zh").read_text(encoding="utf-8").splitlines()
    trained = [json.loads(line) for line in lines if line.strip()]
    mine = [r for r in trained if r["source"] == "distress-dev17 odd"]
    assert [r["text"] for r in mine] == [r["text"] for r in _rows()[0::2]]
    assert distress_raise.later_odd_half("distress-dev17 odd", "zh")  # measured at 17 and left at 16


@pytest.fixture(scope="module")
def lexicon() -> DistressDetector:
    return DistressDetector("zh")


@pytest.mark.parametrize(
    "text",
    [
        "眼前一阵一阵地发黑，人直往下出溜",  # darkness in waves
        "头疼得厉害，吐了两回，说话也迷迷糊糊的",  # headache, vomiting, confusion
        "阿公昏去了，叫袂醒",  # Hokkien 袂 = 不
        "阿嬷跋倒佇灶脚",  # Hokkien 跋 = fell, 佇 = 在
        "老豆晕低咗",  # Cantonese 晕低 = fainted
        "佢冇晒反应",  # no response at all
        "舌头转不过弯来了，话都说不好",
        "我左边没啥劲了，手也抬不高",
        "炉子一直开着，我头晕想吐",  # gas left on, and one feels it
    ],
)
def test_round_14_emergencies(lexicon: DistressDetector, text: str) -> None:
    assert lexicon.detect(text).emergency


@pytest.mark.parametrize(
    "text",
    [
        "一二零不用叫了，我儿子开车送我",  # help called off
        "哪天我要是中风了，就把房子给闺女",  # some day, not now
        "心口疼的时候应该吃药还是躺下",  # which of the two to do
        "心梗的前兆是哪些",
        "你说我这人命苦不苦",  # 命苦 is no cry
        "馋得我口水直往下咽",
        "差点摔了，还好扶住了",  # caught oneself
        "腰疼得厉害，坐都坐不住，躺着也不舒服",  # a back-pain report (the round left 坐都坐不住 out)
        "女主角在医院里晕倒了",  # a drama's character
        "孙子在屋里喊救命，原来是在玩捉人",  # it turned out to be nothing
    ],
)
def test_round_14_harmless_lines(lexicon: DistressDetector, text: str) -> None:
    assert not lexicon.detect(text).emergency


def test_the_stage_hears_the_round_14_forms(tmp_path: Path) -> None:
    zh = build_understander(_settings("zh", tmp_path), "zh")
    assert zh.match("阿公昏去了，叫袂醒").intent == "emergency"
    assert zh.match("救护车不用来了，我孙子送我去").intent != "emergency"


def test_what_round_14_ships() -> None:
    from assistant.understanding import distress_raise

    assert (
        distress_raise.ODD_HALVES_UP_TO["zh"] == 16
    )  # 17 measured: the pooled unseen halves lost one emergency
