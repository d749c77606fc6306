"""Round 14 of issue 10 (oos17): someone else's wish told to us, a question about what the assistant
did, a call awaited from someone else, the speaker's own plan (``assistant.understanding.addressed``),
and dev17-oos's odd half kept out of the model's training (``train.DEV_ODD_NOT_TRAINED``). Every check is
switched on here (``monkeypatch``), whether it ships on or off. No line is taken from a bench set."""

from __future__ import annotations

import pytest

from assistant import data
from assistant.understanding import addressed, train
from assistant.understanding.normalize import normalize

SWITCHES = ("REPORTED_WISH", "ASKED_WHAT_DONE", "CALLED_BY_OTHER", "OWN_PLAN")


@pytest.fixture
def all_on(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SWITCHES:
        for lang in getattr(addressed, name):
            monkeypatch.setitem(getattr(addressed, name), lang, True)


def _check(fn, text: str, lang: str) -> bool:
    return fn(normalize(text, lang), lang, text)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("my nephew keeps telling me to ring the surgery about my hip", "en", True),
        ("the practice nurse wants me to book a smear, at eighty-one", "en", True),
        ("june reckons i ought to phone my son more", "en", True),
        ("my nephew says i should ring the surgery, so can you do it", "en", False),
        ("the nurse said to book a follow up, could you sort that", "en", False),
        ("i said i'd ring anna later", "en", False),
        ("护士让我每天给诊所打个电话报数", "zh", True),
        ("我外甥说让我去医院挂个号", "zh", True),
        ("我外甥说让我去医院挂个号，你帮我挂一个", "zh", False),
        ("跟大夫说让他打给我", "zh", False),
    ],
)
def test_reported_wish(all_on: None, text: str, lang: str, expected: bool) -> None:
    assert _check(addressed.reported_wish, text, lang) is expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("did you ring my son yesterday", "en", True),
        ("have you already ordered the inhaler", "en", True),
        ("can you ring my son", "en", False),
        ("你昨天是不是给我儿子打电话了", "zh", True),
        ("你帮我直接打过去吧", "zh", False),
    ],
)
def test_asked_what_done(all_on: None, text: str, lang: str, expected: bool) -> None:
    assert _check(addressed.asked_what_done, text, lang) is expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("i'll have my bath once the surgery rings", "en", True),
        ("i'm waiting for my son to ring", "en", True),
        ("ring my son", "en", False),
        ("盼着闺女晚上来个电话", "zh", True),
        ("叫闺女给我回个电话", "zh", False),
        ("等会儿给我闺女打个电话", "zh", False),
    ],
)
def test_called_by_other(all_on: None, text: str, lang: str, expected: bool) -> None:
    assert _check(addressed.called_by_other, text, lang) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i'll ring the surgery myself if the swelling comes back", True),
        ("one of these days i must book my eyes in", True),
        ("i should ring the surgery if it's no better, could you do it now", False),
        ("ring the surgery for me", False),
    ],
)
def test_own_plan(all_on: None, text: str, expected: bool) -> None:
    assert _check(addressed.own_plan, text, "en") is expected


def test_switched_off_nothing_fires(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SWITCHES:
        for lang in getattr(addressed, name):
            monkeypatch.setitem(getattr(addressed, name), lang, False)
    assert not _check(addressed.reported_wish, "my nephew keeps telling me to ring the surgery", "en")
    assert not _check(addressed.asked_what_done, "did you ring my son yesterday", "en")
    assert not _check(addressed.called_by_other, "i'm waiting for my son to ring", "en")
    assert not _check(addressed.own_plan, "i'll ring the surgery myself if it comes back", "en")


def test_dev17_oos_odd_half_is_exported_but_not_trained(monkeypatch: pytest.MonkeyPatch) -> None:
    folder = data.intents_dir() / "training"
    rows = [r for r in train._read_jsonl(folder / "dev-odd-en.jsonl") if r["source"].startswith("dev17-oos:")]
    assert len(rows) >= 120
    texts = {text for text, _ in train._dev_odd_rows(folder, "en")}
    assert "dev17-oos" in train.DEV_ODD_NOT_TRAINED["en"]
    assert not texts & {r["text"] for r in rows}
    monkeypatch.setattr(train, "DEV_ODD_NOT_TRAINED", {})
    assert {r["text"] for r in rows} <= {text for text, _ in train._dev_odd_rows(folder, "en")}
