"""The learned intent model: a linear classifier over word and character n-grams, run in pure Python.

Trained by :mod:`assistant.understanding.train` (scikit-learn ``LinearSVC`` on TF-IDF features,
softmax with a temperature fitted on a held-out fold, so probabilities are calibrated and in 0–1)
on the catalog's expansions, the paraphrase corpora (``intents/training/``) and their negatives,
with an explicit out-of-scope class :data:`OOS`.

Why pure-Python inference: importing scikit-learn costs ~117 MB of RSS (scipy, numpy), the Pi's
budget for the whole understanding stage is 30 MB. Training therefore runs in a *child process*
(``python -m assistant.understanding.train``) and writes a compact file (feature list, idf, weights
as float32); the daemon only reads that file. The file is cached in ``<state_dir>/models/`` under a
hash of everything it was built from (training data, catalog, relations, feature code), so it is
built once per data version — a few seconds — and loaded in milliseconds afterwards.

Features (:func:`features`): English stems and stem bigrams plus character 3–5-grams of the
words; Mandarin characters 1–3-grams plus toneless-pinyin syllables and syllable pairs, so
recogniser homophones (陈一生 / 陈医生) share features. Config names are replaced by ``#slot``
markers before features are taken, so the model does not depend on one household's names.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import add, mul
from pathlib import Path
from typing import Final

from assistant import data
from assistant.ops.paths import sha256
from assistant.understanding.normalize import pinyin_tokens, stem_tokens_en

_LOGGER = logging.getLogger(__name__)

OOS: Final = "__oos__"
"""The out-of-scope class (chit-chat, smart home, negated requests …)."""
NEGATED: Final = "__negated__"
"""A declined or negated request ("no need to call Anna"): asks for nothing."""
SKIP_BIGRAMS_EN: Final = False
"""English stem pairs one word apart ("ring … boy", "order … tablets") as features too: a filler,
an endearment or an article between the two words leaves the pair. Off: round 11 (dev14) measured
the pooled earlier even halves +2 in-scope lines of 669, dev14's even half unchanged (129 / 149),
the tuned-on halves 2 lines fewer, false accepts unchanged, and 4 MB more memory (the feature list)."""
FEATURE_VERSION: Final = 4
"""Bump when :func:`features` or the training recipe changes (invalidates cached models)."""
TRAIN_TIMEOUT_S: Final = 300.0
_MAGIC: Final = b"JIAYI-INTENT-MODEL\n"
_MARKER_CHARS: Final = {"#contact": "\ue000", "#doctor": "\ue001", "#medication": "\ue002"}


def features(tokens: Sequence[str], lang: str) -> list[str]:
    """Feature strings of one utterance (tokens already normalised, config names as ``#slot``)."""
    out: list[str] = []
    if lang == "zh":
        chars = "".join(_MARKER_CHARS.get(t, t) for t in tokens)
        padded = f"^{chars}$"
        for n in (1, 2, 3):
            out.extend("c:" + padded[i : i + n] for i in range(len(padded) - n + 1))
        syllables = ["^", *pinyin_tokens(list(tokens)), "$"]
        out.extend("p:" + s for s in syllables[1:-1])
        out.extend("q:" + a + "_" + b for a, b in zip(syllables, syllables[1:], strict=False))
        return out
    stems = stem_tokens_en(list(tokens))
    out.extend("w:" + s for s in stems)
    padded_stems = ["^", *stems, "$"]
    out.extend("b:" + a + "_" + b for a, b in zip(padded_stems, padded_stems[1:], strict=False))
    if SKIP_BIGRAMS_EN:
        out.extend("s:" + a + "_" + b for a, b in zip(stems, stems[2:], strict=False))
    text = " " + " ".join(tokens) + " "
    for n in (3, 4, 5):
        out.extend("c:" + text[i : i + n] for i in range(len(text) - n + 1))
    return out


HASH_BITS: Final = 32
""":class:`Vocabulary` finds a feature by the low :data:`HASH_BITS` bits of its ``str`` hash, in a
sorted array searched by ``bisect`` (C), then checks the bytes: 4 + 4 bytes per feature."""
_HASH_MASK: Final = (1 << HASH_BITS) - 1


class Vocabulary:
    """Feature string → column, without a dict: the features' UTF-8 encodings sorted in one bytes
    object (UTF-8 byte order is code-point order), found through a sorted array of their hashes.

    Why not a dict: a dict of 34 000 feature strings costs about 4–6 MB in the daemon (the
    strings, their int columns and the table), this about 0.8 MB. A lookup (round 13, lat13) is
    ``bisect`` over the low :data:`HASH_BITS` bits of the feature's ``str`` hash (this process's:
    the arrays are built at load, never stored), then one byte comparison for each row with that
    hash (an unknown feature seldom gets that far): about 1 µs, a fifth of the earlier binary
    search over the bytes in Python. Same columns, so the model's scores are exactly the ones a
    dict gives (``tests/test_model_vocabulary.py``)."""

    __slots__ = ("_blob", "_ends", "_columns", "_size", "_hashes", "_rows")

    def __init__(self, features: Sequence[str]) -> None:
        encoded = [feature.encode("utf-8") for feature in features]
        self._columns: array | None = None
        hashes = array("I", (hash(feature) & _HASH_MASK for feature in features))
        if not all(a < b for a, b in zip(encoded, encoded[1:], strict=False)):
            # the trainer writes features in scikit-learn's sorted order, so this is rare
            order = sorted(range(len(encoded)), key=encoded.__getitem__)
            encoded = [encoded[column] for column in order]
            if any(a == b for a, b in zip(encoded, encoded[1:], strict=False)):
                raise ValueError("model file is inconsistent (a feature twice)")
            self._columns = array("I", order)
            hashes = array("I", (hashes[column] for column in order))
        self._blob = b"".join(encoded)
        self._ends = array("I")
        end = 0
        for word in encoded:
            end += len(word)
            self._ends.append(end)
        self._size = len(encoded)
        # one list while sorting (hash, row) pairs packed in one int: the load's peak stays small
        keys = sorted(hashes[row] << 32 | row for row in range(self._size))
        self._hashes = array("I", (key >> 32 for key in keys))
        self._rows = array("I", (key & 0xFFFFFFFF for key in keys))

    def __len__(self) -> int:
        return self._size

    def get(self, feature: str) -> int | None:
        """The feature's column, None when the model does not know it."""
        h = hash(feature) & _HASH_MASK
        hashes = self._hashes
        i = bisect_left(hashes, h)
        key = None
        while i < self._size and hashes[i] == h:
            row = self._rows[i]
            if key is None:
                key = feature.encode("utf-8")
            if self._blob[self._ends[row - 1] if row else 0 : self._ends[row]] == key:
                return row if self._columns is None else self._columns[row]
            i += 1
        return None

    def features(self) -> list[str]:
        """The features in column order (the model file's order)."""
        out = [""] * self._size
        start = 0
        for row, end in enumerate(self._ends):
            out[row if self._columns is None else self._columns[row]] = self._blob[start:end].decode("utf-8")
            start = end
        return out


@dataclass(frozen=True)
class Prediction:
    """Class probabilities of one utterance, best first."""

    ranked: tuple[tuple[str, float], ...]

    def prob(self, label: str) -> float:
        for name, p in self.ranked:
            if name == label:
                return p
        return 0.0

    def best(self, exclude: frozenset[str] = frozenset()) -> tuple[str, float, float]:
        """Best label not in ``exclude``, its probability and the runner-up's."""
        kept = [(n, p) for n, p in self.ranked if n not in exclude]
        if not kept:
            return OOS, 0.0, 0.0
        return kept[0][0], kept[0][1], kept[1][1] if len(kept) > 1 else 0.0


class IntentModel:
    """A trained linear model: ``predict(tokens)`` → calibrated class probabilities (pure Python)."""

    def __init__(
        self,
        lang: str,
        classes: Sequence[str],
        vocabulary: Sequence[str],
        idf: array,
        weights: array,
        bias: Sequence[float],
        temperature: float,
        meta: dict | None = None,
    ) -> None:
        self.lang = lang
        self.classes = tuple(classes)
        self._index = Vocabulary(vocabulary)
        self._idf = idf
        self._weights = weights
        self._bias = tuple(bias)
        self.temperature = temperature
        self.meta = meta or {}
        if len(weights) != len(vocabulary) * len(self.classes) or len(idf) != len(vocabulary):
            raise ValueError("model file is inconsistent (weights / vocabulary / classes)")

    def scores(self, tokens: Sequence[str], extra: Sequence[str] = ()) -> list[float]:
        """Raw decision scores per class (TF-IDF with sublinear tf, l2-normalised, as in training);
        ``extra``: features added to the n-grams (the distress veto's scope features)."""
        counts = Counter(features(tokens, self.lang))
        counts.update(extra)
        n = len(self.classes)
        idf, column = self._idf, self._index.get
        values: list[float] = []
        rows: list[int] = []
        norm = 0.0
        for feat, tf in counts.items():
            col = column(feat)
            if col is None:
                continue
            value = (1.0 + math.log(tf)) * idf[col]
            norm += value * value
            values.append(value)
            rows.append(col * n)
        if norm <= 0.0:
            return list(self._bias)
        # per class, the features' weighted values summed in feature order from 0.0 (map / reduce
        # in C): the very sums the per-feature loop over the classes made, at a third of its cost
        weights, scale = self._weights, 1.0 / math.sqrt(norm)
        per_class = zip(*[weights[row : row + n] for row in rows], strict=True)
        return [
            b + reduce(add, map(mul, values, column), 0.0) * scale
            for b, column in zip(self._bias, per_class, strict=True)
        ]

    def predict(self, tokens: Sequence[str], extra: Sequence[str] = ()) -> Prediction:
        scores = self.scores(tokens, extra)
        top = max(scores)
        exps = [math.exp((s - top) / self.temperature) for s in scores]
        total = sum(exps)
        probs = [e / total for e in exps]
        return Prediction(tuple(sorted(zip(self.classes, probs, strict=True), key=lambda kv: -kv[1])))

    # ------------------------------------------------------------ file format

    def save(self, path: Path) -> None:
        """Write atomically: magic line, one JSON line (classes, vocabulary, bias, meta), then float32 arrays."""
        header = {
            "lang": self.lang,
            "classes": list(self.classes),
            "vocabulary": self._index.features(),
            "bias": list(self._bias),
            "temperature": self.temperature,
            "meta": self.meta,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(_MAGIC)
                out.write(json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n")
                out.write(self._idf.tobytes())
                out.write(self._weights.tobytes())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> IntentModel:
        raw = path.read_bytes()
        if not raw.startswith(_MAGIC):
            raise ValueError(f"{path}: not a Jiayi intent model")
        end = raw.index(b"\n", len(_MAGIC))
        header = json.loads(raw[len(_MAGIC) : end].decode("utf-8"))
        n_feat, n_cls = len(header["vocabulary"]), len(header["classes"])
        body = memoryview(raw)[end + 1 :]
        idf = array("f")
        idf.frombytes(body[: 4 * n_feat])
        weights = array("f")
        weights.frombytes(body[4 * n_feat : 4 * n_feat + 4 * n_feat * n_cls])
        body.release()
        del body, raw  # the file's bytes are copied out: not held while the vocabulary is built (load peak)
        return cls(
            header["lang"],
            header["classes"],
            header["vocabulary"],
            idf,
            weights,
            header["bias"],
            float(header["temperature"]),
            header.get("meta") or {},
        )


# ---------------------------------------------------------------- build or load (cached)


def training_files(lang: str) -> list[Path]:
    """Everything a model is built from (its hash names the cached file)."""
    folder = data.intents_dir()
    return [
        folder / f"{lang}.yaml",
        folder / "relations.yaml",
        folder / "training" / f"paraphrases-{lang}.jsonl",
        folder / "training" / f"paraphrases-everyday-{lang}.jsonl",
        folder / "training" / f"negated-{lang}.jsonl",
        folder / "training" / f"negatives-{lang}.jsonl",
        folder / "training" / f"negatives-talk-{lang}.jsonl",  # read when train.TALK_NEGATIVES[lang]
        folder / "training" / f"dev-odd-{lang}.jsonl",  # read when train.DEV_ODD_HALVES[lang]
    ]


def data_hash(lang: str, holdout: bool = False) -> str:
    return inputs_hash(
        f"v{FEATURE_VERSION} {lang} holdout={holdout}",
        training_files(lang),
        ("train.py", "model.py", "normalize.py", "slots.py", "polarity.py"),  # code that shapes the features
    )


def inputs_hash(header: str, files: list[Path], code: tuple[str, ...]) -> str:
    """16 hex digits naming a cached model: ``header``, the data ``files`` (a missing one counts as
    such) and this package's modules named in ``code``."""
    digest = sha256(f"{header}\n".encode())  # not hashlib: OpenSSL stays unloaded (ops.lazy_imports)
    for file in files:
        digest.update(file.name.encode())
        try:
            digest.update(file.read_bytes())
        except OSError:
            digest.update(b"<missing>")
    for name in code:
        module = Path(__file__).with_name(name)
        digest.update(module.read_bytes() if module.exists() else b"")
    return digest.hexdigest()[:16]


_MODELS: dict[tuple[str, str], IntentModel] = {}
_LOCK = threading.Lock()


SHARED_CACHE_ENV: Final = "JIAYI_MODEL_CACHE"
"""A folder of trained models shared by every state dir on this machine (the test suite sets it, so
each daemon it starts does not train again; a device image may ship one). Consulted when the state
dir has no model; a model trained here is copied there too."""


def _shared(path: Path) -> Path | None:
    folder = os.environ.get(SHARED_CACHE_ENV, "")
    return Path(folder) / path.name if folder else None


def load_cached(path: Path, what: str) -> IntentModel | None:
    """The model file at ``path``, else its copy in ``$JIAYI_MODEL_CACHE`` (then copied to ``path``);
    None when neither is readable (an unreadable file is logged and trained again)."""
    for candidate in (path, _shared(path)):
        if candidate is None or not candidate.exists():
            continue
        try:
            model = IntentModel.load(candidate)
        except (OSError, ValueError, KeyError) as err:
            _LOGGER.warning("event=%s_unreadable path=%s error=%s", what, candidate, err)
            continue
        if candidate != path:
            _copy(candidate, path)
        return model
    return None


def share_trained(path: Path) -> None:
    """Copy a model trained into a state dir to ``$JIAYI_MODEL_CACHE`` (when set)."""
    shared = _shared(path)
    if shared is not None and path.exists():
        _copy(path, shared)


def _copy(src: Path, dst: Path) -> None:
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)  # readers never see half a file
    except OSError as err:
        _LOGGER.warning("event=model_not_copied to=%s error=%s", dst, err)


def cache_dir(state_dir: str = "") -> Path:
    from assistant.ops.paths import state_dir as resolve

    return resolve(state_dir) / "models"


def load_or_build(lang: str, state_dir: str = "", *, holdout: bool = False) -> IntentModel:
    """The model for ``lang``: from this process, else the state dir's cache, else trained now.

    Training runs in a child process (scikit-learn never enters this one); the result is cached
    under ``<state_dir>/models/intent-<lang>-<hash>.bin``. ``holdout`` trains without every fifth
    paraphrase line (benchmarks report on those lines).
    """
    key = (lang, data_hash(lang, holdout))
    path = cache_dir(state_dir) / f"intent-{lang}-{key[1]}{'-holdout' if holdout else ''}.bin"
    with _LOCK:
        model = _MODELS.get(key)
        if model is not None:
            keep_in(path, model, "intent_model")
            return model
        model = _MODELS[key] = load_or_train(
            path, "intent_model", lambda: _train_in_child(lang, path, holdout)
        )
        return model


def keep_in(path: Path, model: IntentModel, what: str) -> None:
    """A model already in this process, saved to ``path`` when missing there (another state dir in
    the same process: keep each one complete); a failure is logged, the model still used."""
    if path.exists():
        return
    try:
        model.save(path)
    except OSError as err:
        _LOGGER.warning("event=%s_not_cached path=%s error=%s", what, path, err)


def load_or_train(path: Path, what: str, train: Callable[[], None]) -> IntentModel:
    """The cached model at ``path`` (or in ``$JIAYI_MODEL_CACHE``), else ``train()`` writes it there
    and it is shared with the cache."""
    model = load_cached(path, what)
    if model is None:
        train()
        model = IntentModel.load(path)
        share_trained(path)
    return model


def _train_in_child(lang: str, path: Path, holdout: bool) -> None:
    train_in_child(
        "assistant.understanding.train", lang, path, "intent model", ("--holdout",) if holdout else ()
    )


def train_in_child(module: str, lang: str, path: Path, what: str, extra: tuple[str, ...] = ()) -> None:
    """``python -m <module> --lang <lang> --out <path>`` (scikit-learn never enters this process);
    RuntimeError with the child's last lines when it fails or writes nothing."""
    from assistant.ops.paths import child_env

    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", module, "--lang", lang, "--out", str(path), *extra]
    _LOGGER.info("event=%s_training lang=%s path=%s", what.replace(" ", "_"), lang, path)
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=TRAIN_TIMEOUT_S, env=child_env(), check=False
    )
    if done.returncode != 0 or not path.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"training the {lang} {what} failed: {' | '.join(tail)}")
