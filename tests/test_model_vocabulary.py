"""The learned models' feature lookup (:class:`assistant.understanding.model.Vocabulary`, a sorted
bytes blob instead of a dict, for memory) gives exactly the scores a dict gave: same columns for
every feature of the dev sets, bit-identical scores, and a model file that round-trips."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path

import pytest

from assistant.understanding import distress_veto
from assistant.understanding import model as model_mod
from assistant.understanding.model import IntentModel, Vocabulary, features
from assistant.understanding.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
DEV_SETS = (
    "intent-dev-en.jsonl",
    "intent-dev6-en.jsonl",
    "intent-dev7-oos-en.jsonl",
    "distress-dev5-en.jsonl",
)


def _dict_scores(model: IntentModel, index: dict[str, int], tokens: list[str]) -> list[float]:
    """The scores as computed before (a dict from feature to column), for comparison."""
    counts = Counter(features(tokens, model.lang))
    n = len(model.classes)
    scores = list(model._bias)
    acc = [0.0] * n
    norm = 0.0
    for feat, tf in counts.items():
        col = index.get(feat)
        if col is None:
            continue
        value = (1.0 + math.log(tf)) * model._idf[col]
        norm += value * value
        for c in range(n):
            acc[c] += value * model._weights[col * n + c]
    if norm > 0.0:
        scale = 1.0 / math.sqrt(norm)
        scores = [b + a * scale for b, a in zip(scores, acc, strict=True)]
    return scores


def _dev_tokens() -> list[list[str]]:
    out = []
    for name in DEV_SETS:
        for line in (ROOT / "bench" / "data" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(normalize(json.loads(line)["text"], "en").split())
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> list[IntentModel]:
    state = str(tmp_path_factory.mktemp("state"))
    return [model_mod.load_or_build("en", state), distress_veto.load_or_build("en", state).model]


def test_scores_equal_a_dict_lookup_on_the_dev_sets(models) -> None:
    sentences = _dev_tokens()
    assert len(sentences) > 500
    for model in models:
        index = {f: i for i, f in enumerate(model._index.features())}
        assert len(index) == len(model._index) > 10_000
        known = 0
        for tokens in sentences:
            for feat in set(features(tokens, "en")):
                assert model._index.get(feat) == index.get(feat)
                known += feat in index
            assert model.scores(tokens) == _dict_scores(model, index, tokens)  # bit-identical
        assert known > 1000  # the sets exercise found and missing features alike


def test_unsorted_features_and_round_trip(models, tmp_path: Path) -> None:
    model = models[0]
    vocabulary = model._index.features()
    shuffled = vocabulary[:]
    random.Random(7).shuffle(shuffled)
    lookup = Vocabulary(shuffled)
    for column in range(0, len(shuffled), 97):
        assert lookup.get(shuffled[column]) == column
    assert lookup.features() == shuffled
    assert lookup.get("w:no-such-feature") is None and lookup.get("") is None
    path = tmp_path / "m.bin"
    model.save(path)
    again = IntentModel.load(path)
    assert again._index.features() == vocabulary
    assert again.predict(["call", "#contact"]) == model.predict(["call", "#contact"])


def test_a_feature_twice_is_an_inconsistent_model() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        Vocabulary(["b:x", "a:y", "b:x"])
    assert Vocabulary(["c:\ue000ab", "c:zz"]).get("c:\ue000ab") == 0  # non-ASCII sorts by code point


def test_hash_collisions_still_find_the_right_column(models, monkeypatch) -> None:
    """Round 13 (lat13): the lookup bisects the features' hashes; rows sharing a hash are told apart
    by their bytes. With 2 hash bits nearly every lookup collides, and still finds its own column."""
    monkeypatch.setattr(model_mod, "_HASH_MASK", 0b11)
    vocabulary = models[1]._index.features()[:3000]
    lookup = Vocabulary(vocabulary)
    assert len(set(lookup._hashes)) == 4
    for column, feature in enumerate(vocabulary):
        assert lookup.get(feature) == column
    assert lookup.get("w:no-such-feature") is None and lookup.get("c:\ue000zz") is None
