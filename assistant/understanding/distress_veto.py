"""A learned veto for the distress lexicon: "is this danger word really an emergency now?"

The lexicon (:mod:`.distress`) stays the fail-closed floor. Its clearing rules (other people, the
past, media, other senses) are hand-written and miss wordings their writers did not think of, so
a small classifier, trained on sentences that contain a danger word, may clear a standing cue when
it is confident the sentence is harmless (p(emergency) below :data:`VETO_BELOW`). It never clears:

* cries, alarms, self-harm and overdoses (:data:`FLOOR_CATEGORIES`): "help!", 救命, "I want to
  end it all", "I took a double dose";
* short utterances (:data:`FLOOR_LENGTH` words / characters or fewer): too little context;
* anything when the model could not be built (logged; the lexicon alone decides).

It never adds an emergency either: it only vetoes. Training examples (every line of the paraphrase
corpora, negated requests and ``intents/distress-cases-<lang>.yaml`` in which the lexicon hears a
danger word; label = emergency or not) are fitted with scikit-learn (logistic regression over the
intent model's word and character n-gram features, TF-IDF) in a *child process*, like the intent
model; the daemon reads the cached file in pure Python (:class:`.model.IntentModel` format, two
classes). Cache: ``<state_dir>/models/distress-<lang>-<hash>.bin``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from assistant import data
from assistant.understanding.model import (
    FEATURE_VERSION,
    IntentModel,
    cache_dir,
    features,
    inputs_hash,
    keep_in,
    load_or_train,
    train_in_child,
)
from assistant.understanding.normalize import normalize, tokenize

_LOGGER = logging.getLogger(__name__)

VETO_BELOW: Final = {"en": 0.1, "zh": 0.15}
"""p(emergency) under which a standing cue is cleared. Chosen on the training lines, 5-fold out of
fold, with the floor below. First round: en lost no emergency at 0.1 (0/373), one at 0.2; zh none
up to 0.3 (0/358); a floor without overdoses lost two English overdoses at 0.2, hence overdoses
are in it. With the dev7-9 cases: en 0/471 lost at 0.1 and 0.2, 1 at 0.3; zh 0/459 up to 0.3.
Round 8 (dev11 cases, compositional cues): en 0/581 lost at 0.1 and 0.15, 1 at 0.2; zh 0/742 at 0.15,
1 at 0.2 on the first round-8 lexicon and 0 at 0.2 / 1 at 0.3 on the final one — zh moved 0.2 → 0.15
for the margin (out of fold it clears 1 harmless line at 0.15, 2 at 0.2). Round 9 (dev12 lexicon, probe cases;
5 folds, seed 0): en 0/581 lost at 0.1, 1 at 0.15; zh 0/890 lost at 0.15 and 0.2, 2 at 0.3 — thresholds kept."""
EXTRA_DATA: Final = {"en": True, "zh": True}
"""Round 11 (dis14en): also train on the tuned-on odd halves of the distress dev sets and the
out-of-scope negatives (:func:`extra_files`; only their lines with a danger word count, as for every
veto example). en, 5 folds (seed 0), lexicon-standing lines outside the floor: without them 1/331
emergencies lost at 0.1, 2 at 0.2, 6 at 0.25; with them 0/571 lost up to 0.3 (3 at 0.4) while 7 of
15 standing harmless lines are cleared at 0.2–0.3 (5 at 0.1). Those folds share duplicated lines;
leaving each distress dev set's odd half out in turn (every copy of its lines) is stricter: with the
extra data 2/240 standing emergencies lost at 0.2 and 1 at 0.1 ("i am choking on a bit of meat",
"my spray is not helping with the chest pain this time") against 0 at 0.1 without, clearing 4 vs 3
of 7 harmless. Pooled unseen halves 9 → 8/287 false alarms at the same recall, dev14 even 3 → 2/85;
left OFF for the recall risk. zh: not measured (off).
**On for English since round 12 (dis15en)**, with :data:`ACUTE_FLOOR`, at 0.2, the odd halves now
including distress-dev15's. Measured against main (the raiser retrained on dev15's odd half in both):
dev15 even (unseen) false alarms 8 → 6/90 at recall 46/46; the pooled unseen distress halves (dev5,
dev10–14 even) 12 → 11/372 at recall 316/339 unchanged; without the acute floor 5/90 and 10/372 (also
no recall lost) but leaving each odd half out in turn lost 2/268 standing emergencies at 0.2 ("i am
choking on a bit of meat", "my spray is not helping with the chest pain this time"); with the floor
1/247 (the spray line, p 0.17; 0 at 0.15, where dev15 even gained only one line and the pool none).
The intent sets' pooled even halves, the held-out sets: docs/benchmarks/intent.md (round 12).
**On for Mandarin since round 13 (dis16zh)**, with :data:`ACUTE_FLOOR`, at :data:`VETO_BELOW_EXTRA` 0.15, the
odd halves through distress-dev16's. Leaving each distress dev set's odd half (dev5, dev10–16) out of
its training in turn: 0/389 standing emergencies of that half cleared, 3 of 4 standing harmless lines
cleared. Measured on round 13's lexicon with the raiser at ``ODD_HALVES_UP_TO`` 16 (off → on): pooled
unseen distress halves, stage, false alarms 19 → 17/426 (dev5, dev15 even) at recall 382/411
unchanged; dev16 even unchanged (54/59); the intent sets' pooled even halves unchanged (false
emergencies 8/1954)."""
SCOPE_FEATURES: Final = {"en": False, "zh": False}
"""Round 12 (dis15en): the veto also reads the lexicon's own reading of the line
(:meth:`.distress.DistressDetector.scope`): each cue's category, whose it is (the speaker, someone
near, someone far, a thing), the reason the rules would clear it, and the line's evidence (the past,
a recovery, media, urgency, an ongoing state …) as features beside the n-grams, so that weak
evidence the rules do not act on alone ("… he's thriving now", a pet, a story) can add up to "not an
emergency to the speaker now". Measured and left OFF: with the extra data (at 0.1) dev15 even did not
move (8/90) nor did dev15's own tuned odd half; nearly every training line whose cue the rules leave
standing is an emergency (5 harmless of 336 without the extra data, 21 of 620 with it), so "#why:none"
taught the veto to clear less, not more (5-fold: 0 harmless cleared at 0.1, against 1)."""
VETO_BELOW_EXTRA: Final = {"en": 0.15, "zh": 0.15}
"""The threshold used when :data:`EXTRA_DATA` is on for the language (5 folds: 0 lost up to 0.3; each
odd half left out in turn, with :data:`ACUTE_FLOOR`: 0 lost at 0.15, 1 at 0.2 — see EXTRA_DATA).
dis15en shipped 0.2 (dev15 even false alarms 8 → 6/90, pool 12 → 11/372); the lead chose 0.15
before any held-out run at it: at 0.2 the leave-one-half-out check clears "my spray is not helping
with the chest pain this time" (p 0.17), and a missed emergency costs more than a false alarm the
speaker can cancel (at 0.15: dev15 even 8 → 7/90, pool 12/372 unchanged)."""
ACUTE_FLOOR: Final = {"en": True, "zh": True}
"""Round 12 (dis15en): the veto never clears a standing cue for the most acute signs, those the lexicon
marks as never mild (``never_mild``: choking, something stuck, not breathing, blue lips, unconscious …),
whatever the rest of the line says. Leaving each distress dev set's odd half out of the extra-data
veto's training in turn, the one emergency lost at 0.1–0.15 was "i am choking on a bit of meat" (p
0.05). On with :data:`EXTRA_DATA` (round 12); with the extra data at 0.15 the pooled unseen distress
halves kept one more emergency (dev14 even, 316 → 317/339), at 0.2 (shipped) none more and none fewer."""
FLOOR_CATEGORIES: Final = frozenset({"cry", "request", "alarm", "self_harm", "overdose"})
"""``request`` (round 8): asking for a person while unwell ("fetch someone, I feel dreadful")."""
FLOOR_LENGTH: Final = {"en": 6, "zh": 8}
LR_C: Final = 10.0
EMERGENCY: Final = "emergency"
CLEAR: Final = "clear"
TRAIN_TIMEOUT_S: Final = 300.0
_PLACEHOLDERS: Final = {
    "en": {"{contact}": "anna", "{doctor}": "dr chen", "{medication}": "amlodipine"},
    "zh": {"{contact}": "安娜", "{doctor}": "陈医生", "{medication}": "降压药"},
}


def veto_features(text: str | tuple[str, tuple[str, ...]], lang: str) -> list[str]:
    """Features of a normalised utterance (the intent model's n-grams, no config names); a
    ``(text, scope)`` pair adds the scope features (:data:`SCOPE_FEATURES`)."""
    if isinstance(text, tuple):
        return features(tokenize(text[0], lang), lang) + list(text[1])
    return features(tokenize(text, lang), lang)


def training_files(lang: str) -> list[Path]:
    folder = data.intents_dir()
    return [
        folder / f"distress-{lang}.yaml",
        folder / f"distress-cases-{lang}.yaml",
        folder / "symptoms.yaml",
        folder / "training" / f"paraphrases-{lang}.jsonl",
        folder / "training" / f"negated-{lang}.jsonl",
    ]


class DistressCasesError(Exception):
    """``intents/distress-cases-<lang>.yaml`` is broken; the message names the file and the key."""


def extra_files(lang: str) -> list[Path]:
    """Files the veto also learns from when :data:`EXTRA_DATA` is on: the raiser's odd halves of the
    distress dev sets (never an even half) and the out-of-scope negatives."""
    if not EXTRA_DATA.get(lang):
        return []
    folder = data.intents_dir() / "training"
    return [folder / f"distress-odd-{lang}.jsonl", folder / f"negatives-{lang}.jsonl"]


def threshold(lang: str) -> float:
    """p(emergency) under which a standing cue is cleared, for the data the veto is trained on."""
    return VETO_BELOW_EXTRA[lang] if EXTRA_DATA.get(lang) else VETO_BELOW[lang]


def cases(lang: str) -> list[tuple[str, bool]]:
    """``intents/distress-cases-<lang>.yaml``: ``emergency:`` and ``harmless:`` lists of sentences."""
    from assistant.understanding.catalog import read_yaml

    path = data.intents_dir() / f"distress-cases-{lang}.yaml"
    raw = read_yaml(path, DistressCasesError, "distress cases")
    if not isinstance(raw, dict):
        raise DistressCasesError(f"{path}: expected a mapping with 'emergency:' and 'harmless:'")
    out: list[tuple[str, bool]] = []
    for key, label in (("emergency", True), ("harmless", False)):
        items = raw.get(key)
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            raise DistressCasesError(f"{path}: '{key}' must be a list of sentences")
        out += [(str(x), label) for x in items]
    return out


def examples(lang: str) -> tuple[list[str], list[bool]]:
    """Normalised lines in which the lexicon hears a danger word, and whether each is an emergency."""
    from assistant.understanding.distress import DistressDetector
    from assistant.understanding.distress_raise import later_odd_half

    rows: list[tuple[str, bool]] = list(cases(lang))
    for path in training_files(lang) + extra_files(lang):
        if path.suffix == ".jsonl" and path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    if later_odd_half(str(row.get("source", "")), lang):
                        continue  # a distress dev set's odd half after ODD_HALVES_UP_TO (as for the raiser)
                    rows.append((str(row["text"]), row.get("intent") == EMERGENCY))
    detector = DistressDetector(lang)
    texts: list = []
    labels: list[bool] = []
    for raw, label in rows:
        for key, value in _PLACEHOLDERS[lang].items():
            raw = raw.replace(key, value)
        text = normalize(raw, lang)
        if text and detector.detect(text, normalized=True).any_cue:
            texts.append((text, tuple(detector.scope(text))) if SCOPE_FEATURES.get(lang) else text)
            labels.append(label)
    return texts, labels


def train(lang: str) -> IntentModel:
    return fit_binary(*examples(lang), lang, LR_C)


def fit_binary(texts: list, labels: list[int], lang: str, c: float) -> IntentModel:
    """A two-class logistic model (clear / emergency) over :func:`veto_features`, as an
    :class:`IntentModel` the stage reads without scikit-learn; shared by the veto and the raiser
    (:mod:`.distress_raise`), which differ only in their examples and thresholds."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    vec = TfidfVectorizer(analyzer=lambda t: veto_features(t, lang), sublinear_tf=True, min_df=1)
    matrix = vec.fit_transform(texts)
    clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(matrix, labels)
    vocabulary = [""] * len(vec.vocabulary_)
    for feat, col in vec.vocabulary_.items():
        vocabulary[col] = feat
    half = clf.coef_[0] / 2.0  # two-class softmax at temperature 1 == the logistic of coef·x + b
    weights = array("f")
    for w in half.astype("float32").tolist():
        weights.extend((-w, w))
    b = float(clf.intercept_[0]) / 2.0
    meta = {
        "examples": len(texts),
        "emergencies": sum(labels),
        "features": len(vocabulary),
        "train_s": round(time.perf_counter() - start, 2),
    }
    idf = array("f", vec.idf_.astype("float32").tolist())
    return IntentModel(lang, [CLEAR, EMERGENCY], vocabulary, idf, weights, [-b, b], 1.0, meta)


class DistressVeto:
    """p(emergency) of a normalised utterance, and whether a standing cue may be vetoed."""

    def __init__(self, model: IntentModel) -> None:
        self.model = model
        self.lang = model.lang

    def p_emergency(self, text: str, scope: Sequence[str] = ()) -> float:
        return self.model.predict(tokenize(text, self.lang), scope).prob(EMERGENCY)

    def clears(self, text: str, categories: set[str], scope: Sequence[str] = ()) -> bool:
        """``scope``: the lexicon's reading of the line (only when :data:`SCOPE_FEATURES` is on)."""
        if categories & FLOOR_CATEGORIES or len(tokenize(text, self.lang)) <= FLOOR_LENGTH[self.lang]:
            return False
        p = self.p_emergency(text, scope) if scope else self.p_emergency(text)
        return p < threshold(self.lang)


def data_hash(lang: str) -> str:
    from assistant.understanding.distress_raise import ODD_HALVES_UP_TO

    return inputs_hash(
        f"distress-veto v{FEATURE_VERSION} C={LR_C} {lang} scope={SCOPE_FEATURES.get(lang)}"
        f" odd<={ODD_HALVES_UP_TO[lang]}",
        training_files(lang) + extra_files(lang),
        ("distress_veto.py", "distress.py", "model.py", "normalize.py"),
    )


_VETOES: dict[tuple[str, str], DistressVeto] = {}
_LOCK = threading.Lock()


def load_or_build(lang: str, state_dir: str = "") -> DistressVeto:
    """The veto for ``lang``: from this process, else the cache, else trained now in a child process."""
    key = (lang, data_hash(lang))
    path = cache_dir(state_dir) / f"distress-{lang}-{key[1]}.bin"
    with _LOCK:
        veto = _VETOES.get(key)
        if veto is not None:
            keep_in(path, veto.model, "distress_veto")
            return veto
        veto = _VETOES[key] = DistressVeto(
            load_or_train(path, "distress_veto", lambda: _train_in_child(lang, path))
        )
        return veto


def _train_in_child(lang: str, path: Path) -> None:
    train_in_child("assistant.understanding.distress_veto", lang, path, "distress veto")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="train the Jiayi distress veto")
    parser.add_argument("--lang", choices=("en", "zh"), required=True)
    parser.add_argument("--out", required=True, help="model file to write")
    args = parser.parse_args(argv)
    model = train(args.lang)
    model.save(Path(args.out))
    print(json.dumps({"lang": args.lang, **model.meta}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
