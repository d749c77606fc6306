"""Train the learned intent model (run in a child process: ``python -m assistant.understanding.train``).

Examples, per language:

* catalog phrases, expanded (up to :data:`PER_TEMPLATE` random expansions per template), slot
  placeholders filled from the catalog's values or from the pools below; ``reject: true``
  intents are out of scope;
* ``intents/training/paraphrases-<lang>.jsonl`` (``intent: null`` = out of scope);
* off (:data:`EVERYDAY_PARAPHRASES`): ``intents/training/paraphrases-everyday-<lang>.jsonl``;
* ``intents/training/negated-<lang>.jsonl`` as out of scope (a negated request asks for nothing);
* ``intents/training/negatives-<lang>.jsonl``: broad out-of-scope requests (smart-speaker
  wording that shares the domain's words: "what's on the doctor who tonight", 给狗买点狗粮);
* when :data:`DEV_ODD_HALVES` is on: ``intents/training/dev-odd-<lang>.jsonl``, the odd halves of the
  intent dev sets (negated lines as "asks for nothing", out-of-scope lines as negatives);
* Mandarin only: every example once more with one character swapped for a homophone (same
  toneless pinyin, a character seen in the examples), as the recogniser mishears (陈医生 → 陈一生);
  this raised held-out accuracy on homophone-swapped lines from 90.7 to 92.9 %;
* off (:data:`AUGMENT_SHARE`, measured in round 10): every example once more as a speech
  recogniser hands it over (:func:`_spoken_copies`: lowercase, no punctuation, a filler, polite
  opener or endearment, false start, repeated or dropped function word), generated, seeded.

``{contact}`` / ``{doctor}`` / ``{medication}`` are filled from fixed pools of names, relation
words and medicine words, then config names are marked with the *training household* below, so
the model sees both "#contact" and names it does not know. Deterministic (fixed seeds).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import re
import sys
import time
from array import array
from collections import Counter
from pathlib import Path
from typing import Final

from assistant import data
from assistant.understanding.catalog import Catalog, expand_template, load_catalog
from assistant.understanding.model import NEGATED, OOS, IntentModel, features
from assistant.understanding.normalize import normalize
from assistant.understanding.slots import config_slot_index, model_tokens

_LOGGER = logging.getLogger(__name__)

PER_TEMPLATE: Final = 40
HOLDOUT_EVERY: Final = 5
"""With ``--holdout`` every fifth paraphrase line is left out (benchmarks evaluate on it)."""
SVC_C: Final = 1.0
"""Chosen on the held-out paraphrases (0.25 / 0.5 / 1 / 2 / 4: 1.0 best for both languages)."""
HOMOPHONE_SHARE: float = 1.0
"""Share of Mandarin examples added again with one homophone swapped in (:func:`_homophone_copies`)."""
AUGMENT_SHARE: Final = {"en": 0.0, "zh": 0.0}
"""Share of the examples added again as a recogniser would hand them over (:func:`_spoken_copies`);
off. Round 10, English at 1.0: on the pooled even halves of every halved dev set +1 in-scope line
(617 → 618 of 644), out-of-scope false accepts 9 → 8 of 621, holdout paraphrases 738 → 742 of 797;
cross-validated unseen negatives 18 → 20 of 771 (consequential 5 → 4); on fresh3 one more in-scope
line and one more consequential false accept (5 → 6 of 176), fresh2 one line fewer: no gain that
pays for a rise in false accepts. Mandarin (fillers, stutters, polite wrappers, or stutters only,
at 0.5 or 1.0): 0–3 more in-scope lines of 672, 2–4 more out-of-scope lines accepted (15 → 17–19 of
560)."""
EVERYDAY_PARAPHRASES: Final = {"en": False, "zh": False}
"""Also train on ``intents/training/paraphrases-everyday-<lang>.jsonl`` (round 11, 188 English lines of
mine: capabilities and repeat in everyday words, volume by "voice" / "sound" / "noisy", emphatic
refusals, "when do they want me at the surgery", "pencil me in", story-first calls, symptom idioms,
questions about the assistant itself and look-alikes as out of scope). Off: with the other round-11
switches on, dev14's unseen half 129 → 129 of 149, the pooled earlier even halves 637 → 636 of 669
(false accepts 11 → 11, negated lines acting 6 → 5, emergencies on non-emergency lines 5 → 6).
Mandarin (round 13, in16zh: 81 lines of mine in 东北 / 四川 / 河南 / 上海 flavoured wording and grandchild
talk, ``paraphrases-everyday-zh.jsonl``): off. With ``addressed.GRANDCHILD_TO_US`` on, dev16zh's unseen
half 145 → 144 of 152, the pooled even halves through dev15-oos 1069 → 1065 of 1138 and one emergency
missed (68 → 67 of 68; false accepts 35 (16) → 31 (15)), distress pool 380 → 378 of 411 (false alarms
19 → 17 of 426); only the training holdout gained (816 → 822 of 863)."""
OOS_WEIGHT: Final = 1.0
"""Class weight of the out-of-scope class (1.5 and 2 tried: no gain)."""
POOLS: Final = {
    "en": {
        "contact": [
            "anna",
            "david",
            "our anna",
            "my daughter",
            "my son",
            "joan",
            "peter",
            "mary",
            "my sister",
            "my grandson",
            "my girl",
            "our david",
        ],
        "doctor": [
            "dr chen",
            "doctor chen",
            "the doctor",
            "my gp",
            "the doctor",
            "dr patel",
            "the surgery",
            "my doctor",
        ],
        "medication": [
            "amlodipine",
            "metformin",
            "my blood pressure pills",
            "my water pills",
            "my heart pills",
            "my tablets",
            "my diabetes pills",
            "the statins",
            "furosemide",
            "aspirin",
            "my pills",
        ],
    },
    "zh": {
        "contact": ["安娜", "大卫", "女儿", "儿子", "闺女", "小王", "孙子", "老伴", "我女儿", "我儿子"],
        "doctor": ["陈医生", "医生", "陈大夫", "大夫", "王医生", "张医生", "家庭医生"],
        "medication": ["降压药", "降糖药", "氨氯地平", "二甲双胍", "药", "心脏药", "阿司匹林", "血压药"],
    },
}
_PLACEHOLDER: Final = re.compile(r"\{([a-z_]+)\}")


def _training_settings(lang: str):  # -> Settings
    import datetime as dt

    from assistant.ops.settings import Contact, Doctor, Medication, Person, Settings

    return Settings(
        person=Person("Margaret Lee", "Margaret", lang),  # type: ignore[arg-type]
        doctor=Doctor("Dr. Chen", "+15550100", aliases=("陈医生", "陈大夫", "doctor chen")),
        contacts=(
            Contact("Anna", "daughter", aliases=("安娜",), phone="+15550101"),
            Contact("David", "son", aliases=("大卫",), phone="+15550102"),
        ),
        medications=(
            Medication("amlodipine", aliases=("blood pressure pills", "降压药"), times=(dt.time(8),)),
            Medication("metformin", aliases=("diabetes pills", "降糖药"), times=(dt.time(18),)),
        ),
    )


def _fill(text: str, lang: str, catalog: Catalog, rng: random.Random) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        pool = POOLS[lang].get(name)
        if pool:
            return rng.choice(pool)
        slot = catalog.slots.get(name)
        if slot is not None and slot.values:
            return rng.choice(rng.choice(slot.values).synonyms)
        return m.group(0)

    return _PLACEHOLDER.sub(one, text)


TALK_NEGATIVES: Final = {"en": False, "zh": True}
"""Round 11 (issue 10): also train on ``negatives-talk-<lang>.jsonl`` (device talk, calls / orders /
bookings told as done, wondering aloud, other people's calls, complaints about phones and pharmacies;
written for the round, out of scope). Measured on the unseen halves (earlier even halves pooled,
dev14-oos even): zh in scope +1, false accepts 20 → 19 pooled and 14 → 11 (consequential 6 → 3) on
dev14-oos even, negated lines acting 2 → 3 pooled: on. en cost in-scope lines (pooled 637 → 632 with
59 lines, → 635 with the 45 kept here, for 11 → 9 false accepts): off."""


DEV_ODD_HALVES: Final = {"en": True, "zh": False}
"""Round 12 (issue 10): also train on ``intents/training/dev-odd-<lang>.jsonl``, the odd (tuned-on)
halves of every intent dev set in ``bench/intent.py``'s ``HALVED_SETS`` (exported by
``bench/export_dev_odd.py``; labelled lines as examples, out-of-scope lines as negatives, negated
lines as "asks for nothing"), :data:`DEV_ODD_REPEAT` times each. On for English. An even half
shares its odd half's writer, so it was judged leaving one set out (for each dev set X a model
without X's odd half scores X's even half; ``bench/intent_devtrain.py``), summed over every halved
set: en in scope 902 → 913 of 978, out-of-scope false accepts 17 (7 consequential) → 13 (4) of 826,
negated lines acting 8 → 8 of 150, emergencies 17/17; zh 1036 → 1037 of 1106, false accepts 31 (12)
→ 21 (10) of 805, negated acting 4 → 3 of 127, emergencies 66/66. Paraphrase holdout en 738 → 745 of
797 (false accepts 1 → 2 of 378, one consequential), zh 816 → 827 of 863 (false accepts 5 (0) → 6
(2) of 373). Weight 2 (:data:`DEV_ODD_REPEAT`): en 915, 14 (4); zh 1038, 25 (12): not better.
Mandarin off: its in-scope gain is one line, and the model trained on every odd half misses one
emergency of dev12-neg's even half (7 → 6 of 7) and accepts two consequential holdout lines; extra
memory 18 → 23 MB. Round 13 (in16zh) decided it on a new writer's set, dev16zh (off / ×1 / ×2): a model
trained on every earlier odd half but not dev16zh's scores dev16zh's unseen half 138 / 138 / 138 of 152
(no gain for a writer it has not seen); with dev16zh's own odd half 138 / 139 / 140; pooled even halves
through dev15-oos (their writers' odd halves trained on) 1069 / 1071 / 1073 of 1138, false accepts 35
(16) / 26 (15) / 28 (14) of 884, negated lines acting 6 / 8 / 8 of 149, emergencies 68 / 68 / 68, false
emergencies 8 / 8 / 8 of 1954; distress pool (stage) 380 / 379 / 381 of 411, false alarms 19 / 16 / 18
of 426; holdout 816 / 826 / 826 of 863 (false accepts 5 (0) / 6 (2) / 4 (1)). Off: nothing gained on
the new writer, two more negated lines act, ×1 misses a distress-pool emergency.

Round 13 (oos16): **Mandarin on**, without its negated emergency lines
(:data:`DEV_ODD_NEGATED_EMERGENCY_LANGS`), judged on a new writer's set and the pool through round 12's
sets (``POOLED_THROUGH = "dev15-oos"``). With every negated line (first measured): dev16-oos even false
accepts 5 (2 consequential) → 3 (0) of 88 leaving dev16-oos's odd half out, 2 (0) with it; pooled even
halves in scope 1069 → 1069 of 1138, false accepts 35 (16) → 24 (13) of 884, negated lines acting 6 → 8
of 149; holdout 816 → 824 of 863, false accepts 5 (0) → 4 (1); but the pooled unseen distress halves lost
two emergencies (stage 380 → 378 of 411). Shipped (no negated emergency lines): see
docs/benchmarks/intent.md, round 13. Negated lines ×2 measured worse (false accepts 28 (14), negated 9).
The lead's check after the merge (in16zh had found no gain on a new writer, oos16 gains on the pool):
leaving one set out (``bench/intent_devtrain.py --lang zh --repeat 1``: for each dev set a model
without its odd half scores its even half — every set a new writer), off → on ×1, summed over every
halved set: in scope 1233 → 1233 of 1314, out-of-scope false accepts 40 (18 consequential) → 33 (15) of
995, negated lines acting 8 → 10 of 169, emergencies 74/74 both, false emergencies 9 → 9 of 2235;
through dev15-oos 1070 → 1072 of 1138, 35 (16) → 30 (14), negated 6 → 8 of 149; paraphrase holdout
816 → 827 of 863 (false accepts 5 (0) → 5 (1)). Kept on: three consequential false accepts fewer
against two negated lines more that act, seven false accepts fewer in all, no emergency lost.
**Off again at the end of the merge**: the full test suite showed the Mandarin model trained on the
dev odd halves rejecting plain requests the tests hold (降压药还剩多少 → medication_query,
我看降压药是不是又该订了 → reorder_medication: p ≈ 0.50, under the accept threshold; 0.89 and 0.79 on the
commit before oos16's merge) — the pooled figures did not show it, and a plain everyday request lost
is worse than the false accepts gained. Next: find which dev odd lines pull them out of scope (the
pharmacy talk of dev16-oos is the first suspect).

Round 14 (in17zh): the cause found, **still off** (emergencies). The plain requests were not pulled out
of scope: the model split them between the two medicine readings (降压药还剩多少: reorder_medication 0.53,
medication_query 0.41, out of scope 0.01; 我看降压药是不是又该订了: medication_query 0.39, appointment_query
0.31, reorder 0.28). Twelve odd lines of eight sets say "only N left" as an order (降糖药只剩两片了,
二甲双胍还剩四五片了再买些回来) next to the catalog's question 药还剩(多少|几片); trained without those twelve
lines (a probe, not shipped) the model gave medication_query 0.59 again and its softmax temperature fell
back from 0.20 to 0.15. Fixed in the stage, in general: ``understander.MEDICINE_PAIR`` (on) reads a line
the model splits between the two medicine readings as the question when the two together pass the accept
threshold (the asked-order rule turns it into the order when an order is asked); with it every
understanding test passes with this switch on (test_zh_sound's rules-off check now looks at the rules'
reading). Measured off → on with round 14's stage: a new writer (dev17zh, exported first; model without
its odd half) 125 → 126 of 147 in scope on its unseen even half without the stage's 唔 reading (128
with it, on the model trained with it), false accepts 0 → 1 (1 consequential) of 23; with its own odd half 129, emergencies
4 → 3 of 5; pooled even halves through dev16-oos (their own writers' odd halves trained on) 1233 → 1234
of 1314, false accepts 40 (18) → 25 (15) of 995, negated lines acting 8 → 9 of 169, emergencies 74/74;
holdout 816 → 825 of 863, false accepts 5 (0) → 5 (1); **the pooled unseen distress halves (stage,
through dev16) 436 → 434 of 470 emergencies**, false alarms 23 → 21 of 496. Two emergencies lost
again (as oos16 measured in round 13) and one on dev17zh's even half: off. Next: find the odd lines that
pull those emergencies away (harmless danger-word lines trained as out of scope are the suspect)."""
DEV_ODD_REPEAT: Final = 1
"""How many times each dev odd line is added (its weight against the paraphrases). Round 13 (with
dev16's odd half), ×2 against ×1 leaving one set out: in scope 939 → 943 of 1011 (pooled through
dev15-oos), false accepts 12 (3) → 14 (4) of 909, negated acting 8 → 9 of 171, dev16's even half
129 → 128 of 140; with every set in, 944 → 949 and the rest unchanged. Not better: stays 1."""
DEV_ODD_NEGATED_EMERGENCY: bool = True
"""Whether the dev odd halves' negated emergency lines ("no, I don't need an ambulance") are trained
on as "asks for nothing" (``bench/intent_devtrain.py --no-negated-emergency`` tries without). Kept:
without them (zh, round 12) the dev12-neg emergency the Mandarin model misses is still missed and
consequential false accepts leaving one set out stay at 12."""
DEV_ODD_NEGATED_EMERGENCY_LANGS: Final = frozenset({"en"})
"""Round 13 (oos16): languages whose dev odd negated emergency lines are trained on (with
:data:`DEV_ODD_NEGATED_EMERGENCY`). Mandarin left out: with them its model trained on the dev odd halves
lost two emergencies on the pooled unseen distress halves (stage 380 → 378 of 411, through dev15);
without them 381 of 411, false alarms 19 → 19 of 426, and on the pooled intent even halves in scope
1070 → 1074 of 1138 (false accepts 24 (13) → 26 (13) of 884: still 9 fewer than without dev odd
training)."""
DEV_ODD_NOT_TRAINED: Final[dict[str, frozenset[str]]] = {"en": frozenset({"dev17-oos"})}
"""Round 14 (oos17): dev sets whose exported odd lines the product model does not train on. dev17-oos's
odd half (135 English lines: things already done, others' wishes, plans, questions about what the
assistant did, talk to someone in the room, quoted text; negated lines; controls) cost the English model
on the pooled unseen even halves through dev16-oos: in scope 1090 → 1086 of 1176, false accepts 13 (4
consequential) → 15 (5) of 1015, negated lines acting 11 → 9 of 206; holdout 746 → 744 of 797; its own
writer's even half false accepts 7 (7) → 5 (5) of 79. Not a gain on unseen lines: left out. Per
language; Mandarin (which trains on no dev odd half now, ``DEV_ODD_HALVES``) was not measured."""
DEV_ODD_LEAVE_OUT: frozenset[str] = frozenset()
"""Dev sets (``source`` prefixes, e.g. ``"dev11"``) whose odd lines are skipped: set only by
``bench/intent_devtrain.py``'s leave-one-set-out check, never in the product."""


def _dev_odd_rows(folder: Path, lang: str) -> list[tuple[str, str]]:
    """(text, label) of the dev odd halves, each :data:`DEV_ODD_REPEAT` times (empty when off)."""
    path = folder / f"dev-odd-{lang}.jsonl"
    if not DEV_ODD_HALVES.get(lang, False) or not path.exists():
        return []
    out: list[tuple[str, str]] = []
    for row in _read_jsonl(path):
        if row["source"].rsplit(":", 1)[0] in DEV_ODD_LEAVE_OUT | DEV_ODD_NOT_TRAINED.get(lang, frozenset()):
            continue
        if row.get("not_intent") == "emergency" and not (
            DEV_ODD_NEGATED_EMERGENCY and lang in DEV_ODD_NEGATED_EMERGENCY_LANGS
        ):
            continue
        label = NEGATED if row.get("not_intent") is not None else (row.get("intent") or OOS)
        out += [(row["text"], label)] * DEV_ODD_REPEAT
    return out


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def examples(lang: str, holdout: bool = False) -> tuple[list[str], list[str]]:
    """(texts, labels) before marking; deterministic."""
    rng = random.Random(20261201)
    catalog = load_catalog(lang)
    texts: list[str] = []
    labels: list[str] = []
    for intent in catalog.intents.values():
        label = OOS if intent.reject else intent.id
        for template in intent.phrases:
            sentences = expand_template(template)
            rng.shuffle(sentences)
            for sentence in sentences[:PER_TEMPLATE]:
                texts.append(_fill(sentence, lang, catalog, rng))
                labels.append(label)
    folder = data.intents_dir() / "training"
    for i, row in enumerate(_read_jsonl(folder / f"paraphrases-{lang}.jsonl")):
        if holdout and i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1:
            continue
        texts.append(_fill(row["text"], lang, catalog, rng))
        labels.append(row["intent"] or OOS)
    everyday = folder / f"paraphrases-everyday-{lang}.jsonl"
    if EVERYDAY_PARAPHRASES.get(lang, False) and everyday.exists():
        for row in _read_jsonl(everyday):
            texts.append(_fill(row["text"], lang, catalog, rng))
            labels.append(row["intent"] or OOS)
    for row in _read_jsonl(folder / f"negated-{lang}.jsonl"):
        texts.append(_fill(row["text"], lang, catalog, rng))
        labels.append(NEGATED)
    negatives = folder / f"negatives-{lang}.jsonl"
    if negatives.exists():
        for row in _read_jsonl(negatives):
            texts.append(_fill(row["text"], lang, catalog, rng))
            labels.append(OOS)
    if TALK_NEGATIVES.get(lang, False):
        for row in _read_jsonl(folder / f"negatives-talk-{lang}.jsonl"):
            texts.append(_fill(row["text"], lang, catalog, rng))
            labels.append(OOS)
    for text, label in _dev_odd_rows(folder, lang):
        texts.append(text)
        labels.append(label)
    share = AUGMENT_SHARE.get(lang, 0.0)
    spoken = _spoken_copies(texts, labels, lang, random.Random(20261203), share) if share > 0.0 else []
    if lang == "zh" and HOMOPHONE_SHARE > 0.0:
        noisy = _homophone_copies(texts, labels, random.Random(20261202))
        texts += [t for t, _ in noisy]
        labels += [y for _, y in noisy]
    texts += [t for t, _ in spoken]
    labels += [y for _, y in spoken]
    tele_share = TELEGRAPHIC_SHARE.get(lang, 0.0)
    if lang == "en" and tele_share > 0.0:
        tele = _telegraphic_copies(texts, labels, random.Random(20261204), tele_share)
        texts += [t for t, _ in tele]
        labels += [y for _, y in tele]
    return texts, labels


TELEGRAPHIC_SHARE: Final = {"en": 0.5}
"""Round 14 (in17en): share of the English in-scope examples added again said telegraphically, as
older speakers of English as a second language and short-spoken people say them: articles,
possessives, auxiliaries, "can you" / "for me" and the like dropped ("can you call my daughter for me"
→ "call daughter"; :func:`_telegraphic_copies`). Negation words are kept; out-of-scope and negated
examples are not copied. **On at 0.5** (``bench/intent_devtrain.py --lang en --no-off --tune
"understanding.train.TELEGRAPHIC_SHARE={'en':0.5}"``, against 0.0, both with dev17's odd half; every set a
new writer): leaving one set out, in scope through dev16-oos 1089 → 1094 of 1176, false accepts 16 (6
consequential) → 15 (4) of 1015, negated lines acting 11 → 10 of 206, false emergencies 6 → 6; the pooled
even halves 1093 → 1097 (false accepts 13 (4) both); dev17's unseen half 120 → 125 of 146 leaving dev17
out (122 → 126 with it), its false accepts 1 (1) → 2 (2) of 23; paraphrase holdout 745 → 741 of 797
(false accepts 2 (1) → 1 (0) of 378). With ``slots.CONTACT_DIMINUTIVES_EN`` (shipped) and
``normalize.ESL_FORMS_EN`` (left off later) on: leaving one set out 1098, false accepts 15 (4), negated
10; pooled 1101; dev17 126 / 127.
At 1.0 (without those two): leaving one set out 1093, false accepts 13 (4), negated 11; pooled 1096;
dev17 125 / 126; holdout 743 — no better than 0.5, and a larger model."""
_EN_TELEGRAPHIC_DROP: Final = frozenset(
    "the a an my our to for me it is are am was do does did of some can could would will you your that "
    "this just have has been please be i".split()
)


def _telegraphic_copies(
    texts: list[str], labels: list[str], rng: random.Random, share: float
) -> list[tuple[str, str]]:
    """A share of the in-scope English examples with every :data:`_EN_TELEGRAPHIC_DROP` word dropped;
    kept only when two words or more are left and something was dropped. Seeded, built at train time."""
    out: list[tuple[str, str]] = []
    for text, label in zip(texts, labels, strict=True):
        if label in (OOS, NEGATED) or label.startswith("negated") or rng.random() >= share:
            continue
        words = _PUNCT.sub(" ", text.lower().replace("'", "").replace("\u2019", "")).split()
        kept = [w for w in words if w not in _EN_TELEGRAPHIC_DROP]
        if len(kept) >= 2 and len(kept) < len(words):
            out.append((" ".join(kept), label))
    return out


_EN_FILLERS: Final = tuple(
    "well|you know|i mean|so|oh|right|like|okay|now then|let me see|um|uh|er|ah".split("|")
)
_EN_OPENERS: Final = tuple(
    "please|could you|can you|would you|hello|excuse me|listen|oh dear|right then|now|hey".split("|")
)
_EN_CLOSERS: Final = (
    *"please|love|dear|pet|thank you|for me|if you would".split("|"),
    *"would you|thanks|okay|then|now|sweetheart|will you".split("|"),
)
_EN_DROPPABLE: Final = frozenset(
    "the a an my to for me it is of please some up on in that you can could just".split()
)
_ZH_FILLERS: Final = ("嗯", "那个", "就是", "呃", "啊", "这个", "然后", "哎")
_ZH_OPENERS: Final = ("请", "麻烦你", "劳驾", "喂", "哎", "那个", "你", "我说")
_ZH_CLOSERS: Final = ("吧", "啊", "呀", "好吗", "谢谢", "行吗", "哈", "嘛", "哦")
_ZH_AFTER: Final = frozenset("我你他她的了吧啊呢嘛给帮把跟和在就也都说")
_ZH_BEFORE: Final = frozenset("我你他她给帮把跟和在就也都今明昨这那")
"""A Mandarin filler or stutter goes between words, not inside one: after or before these characters."""
_ZH_DROPPABLE: Final = frozenset("的吧啊呢个呀嘛")
_PUNCT: Final = re.compile(r"[^\w\s'#{}\u3400-\u9fff]")


def _spoken_copies(
    texts: list[str], labels: list[str], lang: str, rng: random.Random, share: float = 1.0
) -> list[tuple[str, str]]:
    """A share of the examples again as a speech recogniser hands them over: lowercase, no
    punctuation, and one or two of a hesitation or filler inserted (um, well, you know; 嗯, 那个,
    就是), a polite opener or closing endearment, a false start that repeats the first words, a
    repeated word, a dropped function word. Negation words are never dropped or added, so a
    declined request stays one. Seeded, generated at build time (no sentence is listed)."""
    out: list[tuple[str, str]] = []
    for text, label in zip(texts, labels, strict=True):
        if rng.random() >= share:
            continue
        spoken = _spoken_en(text, rng) if lang == "en" else _spoken_zh(text, rng)
        if spoken and spoken != text:
            out.append((spoken, label))
    return out


def _spoken_en(text: str, rng: random.Random) -> str:
    words = _PUNCT.sub(" ", text.lower().replace("'", "").replace("\u2019", "")).split()
    if not words:
        return ""
    for _ in range(rng.choice((1, 1, 2))):
        kind = rng.random()
        if kind < 0.35:  # a hesitation or filler anywhere
            i = rng.randrange(len(words) + 1)
            words[i:i] = rng.choice(_EN_FILLERS).split()
        elif kind < 0.55:  # polite opener or closing endearment
            if rng.random() < 0.5:
                words[:0] = rng.choice(_EN_OPENERS).split()
            else:
                words += rng.choice(_EN_CLOSERS).split()
        elif kind < 0.70 and len(words) >= 3:  # false start: the first words said twice
            k = rng.randint(1, min(3, len(words) - 1))
            words[:0] = [*words[:k], *rng.choice(((), ("uh",), ("er",), ("i mean",)))]
        elif kind < 0.85:  # a word said twice
            i = rng.randrange(len(words))
            words.insert(i, words[i])
        else:  # a function word lost
            spots = [i for i, w in enumerate(words) if w in _EN_DROPPABLE]
            if spots and len(words) > 2:
                del words[rng.choice(spots)]
    return " ".join(" ".join(words).split())


def _spoken_zh(text: str, rng: random.Random) -> str:
    chars = [c for c in _PUNCT.sub("", text) if not c.isspace()] if not re.search(r"[a-z{]", text) else None
    if not chars:
        return ""
    for _ in range(rng.choice((1, 1, 2))):
        kind = rng.random()
        gaps = [i for i in range(1, len(chars)) if chars[i - 1] in _ZH_AFTER or chars[i] in _ZH_BEFORE]
        if kind < 0.35:
            i = rng.choice([*gaps, len(chars)])
            chars[i:i] = list(rng.choice(_ZH_FILLERS))
        elif kind < 0.55:
            if rng.random() < 0.5:
                chars[:0] = list(rng.choice(_ZH_OPENERS))
            else:
                chars += list(rng.choice(_ZH_CLOSERS))
        elif kind < 0.70 and len(chars) >= 3:
            k = rng.randint(1, min(3, len(chars) - 1))
            chars[:0] = chars[:k]
        elif kind < 0.85:
            i = rng.choice([0, *(g for g in gaps if chars[g] in _ZH_BEFORE)])
            chars.insert(i, chars[i])
        else:
            spots = [i for i, c in enumerate(chars) if c in _ZH_DROPPABLE]
            if spots and len(chars) > 2:
                del chars[rng.choice(spots)]
    return "".join(chars)


def _homophone_copies(texts: list[str], labels: list[str], rng: random.Random) -> list[tuple[str, str]]:
    """A share of the Mandarin examples again, one character swapped for a homophone (toneless
    pinyin) seen in the examples themselves, as the recogniser mishears: 陈医生 → 陈一生, 药 → 要."""
    from pypinyin import Style, lazy_pinyin

    def syllable(ch: str) -> str:
        return lazy_pinyin(ch, style=Style.NORMAL)[0]

    seen = Counter(ch for t in texts for ch in t if "\u4e00" <= ch <= "\u9fff")
    groups: dict[str, list[str]] = {}
    for ch, n in sorted(seen.items()):
        if n >= 3:
            groups.setdefault(syllable(ch), []).append(ch)
    out: list[tuple[str, str]] = []
    for text, label in zip(texts, labels, strict=True):
        if rng.random() >= HOMOPHONE_SHARE:
            continue
        spots = [i for i, ch in enumerate(text) if len(groups.get(syllable(ch), ())) > 1]
        if not spots:
            continue
        i = rng.choice(spots)
        swap = rng.choice([c for c in groups[syllable(text[i])] if c != text[i]])
        out.append((text[:i] + swap + text[i + 1 :], label))
    return out


SEED: Final = 0
"""liblinear's seed for the dual coordinate descent's shuffling: the same data trains the same model
(round 13's lat13 found two trainings of the English model on the same data deciding differently)."""


def train(lang: str, holdout: bool = False) -> IntentModel:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    start = time.perf_counter()
    catalog = load_catalog(lang)
    index = config_slot_index(catalog, _training_settings(lang))
    raw, labels = examples(lang, holdout)
    docs = [model_tokens(index, normalize(t, lang))[0] for t in raw]

    def analyzer(doc: list[str]) -> list[str]:
        return features(doc, lang)

    vec = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=2)
    matrix = vec.fit_transform(docs)
    # temperature: fit on a held-out fold, then train on everything
    fold = [i % 5 == 0 for i in range(len(docs))]
    rows_cal = [i for i, f in enumerate(fold) if f]
    rows_fit = [i for i, f in enumerate(fold) if not f]
    probe = LinearSVC(C=SVC_C, class_weight=_class_weight(labels), random_state=SEED).fit(
        matrix[rows_fit], [labels[i] for i in rows_fit]
    )
    temperature = _fit_temperature(
        probe.decision_function(matrix[rows_cal]), [labels[i] for i in rows_cal], list(probe.classes_)
    )
    clf = LinearSVC(C=SVC_C, class_weight=_class_weight(labels), random_state=SEED).fit(matrix, labels)
    vocabulary = [""] * len(vec.vocabulary_)
    for feat, col in vec.vocabulary_.items():
        vocabulary[col] = feat
    weights = array("f", clf.coef_.T.astype("float32").ravel().tolist())
    idf = array("f", vec.idf_.astype("float32").tolist())
    meta = {
        "examples": len(docs),
        "features": len(vocabulary),
        "train_s": round(time.perf_counter() - start, 2),
    }
    return IntentModel(
        lang, list(clf.classes_), vocabulary, idf, weights, clf.intercept_.tolist(), temperature, meta
    )


def _class_weight(labels: list[str]) -> dict[str, float]:
    return {label: OOS_WEIGHT if label == OOS else 1.0 for label in set(labels)}


def _fit_temperature(scores, labels: list[str], classes: list[str]) -> float:
    """Softmax temperature minimising the negative log-likelihood on held-out rows."""
    col = {c: i for i, c in enumerate(classes)}
    rows = [(list(map(float, s)), col[y]) for s, y in zip(scores, labels, strict=True) if y in col]
    best_t, best_nll = 1.0, math.inf
    for t in [0.05 * k for k in range(1, 41)]:
        nll = 0.0
        for s, y in rows:
            top = max(s)
            z = sum(math.exp((v - top) / t) for v in s)
            nll -= (s[y] - top) / t - math.log(z)
        if nll < best_nll:
            best_t, best_nll = t, nll
    return best_t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="train the Jiayi intent model")
    parser.add_argument("--lang", choices=("en", "zh"), required=True)
    parser.add_argument("--out", required=True, help="model file to write")
    parser.add_argument("--holdout", action="store_true", help="leave every fifth paraphrase out")
    args = parser.parse_args(argv)
    model = train(args.lang, args.holdout)
    model.save(Path(args.out))
    print(json.dumps({"lang": args.lang, **model.meta, "temperature": model.temperature}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
