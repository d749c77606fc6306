"""Intent benchmark: the understanding stage as the product builds it (``pipeline.build_understander``).

Per language and per set: in-scope accuracy (intent, plus the contact / medication slots where
labelled), out-of-scope false accepts, emergency recall, emergency false alarms, symptom recall,
negated lines that wrongly act, latency (p50 / p99 per sentence) and memory (RSS growth of
building the understander in a fresh process, with the model cached and from nothing).

Beside emergency recall (computed as before: ``emergency`` only), the urgent-symptom check: emergency
lines read as a ``report_symptom`` of an urgent symptom (``Understanding.urgent``; the dialogue asks
"Do you need help right now?" and an unanswered question raises the emergency) and its false-alarm
cost, harmless-danger / out-of-scope lines (and symptom lines) that would get the question.

Sets (``bench/data``):

* ``intent-fresh-<lang>.jsonl`` — the issue-10 test sets, written and committed before any tuning
  and never edited. Lines carry ``kind`` (in_scope, symptom, emergency, harmless_danger,
  out_of_scope, negated). **Only totals are ever computed for them**: this script keeps no
  per-line result for a fresh set, so neither ``--errors`` nor ``--json`` can show one.
* ``intent-fresh2-<lang>.jsonl`` — round 6 (issue 10): 454 / 449 lines written by someone who had
  seen neither the catalog nor the training corpora, committed before round 6's tuning, same
  rules. Reported whole and without the lines that happen to equal a catalog expansion or a
  training sentence (``intent-fresh2-overlap.json``).
* ``intent-fresh3-<lang>.jsonl`` — round 7 (issue 10): 458 / 457 lines by another writer who had
  seen neither the catalog nor the training corpora, committed before round 7's tuning, same rules
  and reported the same way (overlap by line number in ``intent-fresh3-overlap.json``, which also
  lists lines equal to a distress-veto case; those are left out of the "no catalog or training
  sentence" figures too).
* ``intent-dev``, ``intent-tune``, ``intent-test`` — older sets (used for tuning in this and
  earlier rounds; optimistic).
* ``intent-dev6-<lang>.jsonl`` — a dev set written before the model-tuning round of issue 10
  (item 2 and 4), reported in two halves: odd lines (``dev6 odd``, tuned on; ``--errors`` lists
  their misses) and even lines (``dev6 even``, held out: totals only, like the fresh sets).
* ``intent-dev7-oos-<lang>.jsonl`` — out-of-scope smart-speaker requests in seniors' wording
  (weather, music, TV, smart home, shopping, news, chit-chat, travel, recipes, general knowledge;
  ~40 % sharing the domain's words: "what's on the doctor who tonight", 给狗买点狗粮) plus ~65
  near in-scope lines, written before the out-of-scope round of issue 10; in halves like dev6:
  ``dev7-oos odd`` (tuned on, its out-of-scope lines are training negatives) and ``dev7-oos even``
  (held out: totals only).
* ``intent-dev10-oos-<lang>.jsonl`` — round 7 (issue 10): ~175 out-of-scope lines that share the
  domain's words (dialogue words in passing, other people's appointments and medicines, health news
  and general health questions, reminiscing about doctors, hearing-aid and device talk, talking to a
  visitor or a pet) plus ~70 near-miss in-scope lines, written before that round's tuning. In
  halves: ``dev10-oos odd`` (tuned on by reading ``--errors``; no line is ever copied into
  training) and ``dev10-oos even`` (held out: totals only).
* ``intent-dev8-zh.jsonl`` — a Mandarin dev set (320 in scope, 42 out of scope; regional and
  recogniser wording) written before the in-scope round of issue 10, in halves like dev6:
  ``dev8 odd`` tuned on (``--errors`` lists its misses), ``dev8 even`` totals only.
* ``intent-dev11-<lang>.jsonl`` — in-scope dev set (issue 10, round 7): ~267 in-scope lines per
  language over all 19 non-emergency intents in older people's wording (hesitant, indirect, polite,
  run-on, regional; Mandarin recogniser homophones), weighted to the consequential intents with
  contact / medication slots by name, alias, relation word and purpose, plus 40 out-of-scope
  look-alikes; written before the round's tuning, in halves like dev6: ``dev11 odd`` tuned on
  (``--errors`` lists its misses), ``dev11 even`` totals only.
* ``intent-dev12-<lang>.jsonl`` — in-scope dev set (issue 10, round 9) by a new writer: en 324 in
  scope over all 18 non-emergency intents in older people's everyday wording (story first, indirect,
  Hiberno-English "i'm after taking", Scots "the now" / "wee", US and Indian English "kindly",
  recogniser slips such as "amlodopine") + 40 out-of-scope look-alikes; zh 150 in scope weighted to
  60 everyday and regional symptom reports (腰酸背痛, 发寒热, 脑壳疼, 屙肚) + 20 out of scope. Written
  and committed before the round's tuning, in halves like dev6: ``dev12 odd`` tuned on, ``dev12
  even`` totals only.
* ``intent-dev12-neg-<lang>.jsonl`` — polarity dev set (issue 10, round 9): 173 declined or negated
  requests per language over every acting intent (``not_intent``: calls, messages, orders and
  refills, bookings, "I haven't taken my pills", "I'm not dizzy", "no, I don't need an ambulance";
  deferral, conditional, double negatives, negation far from the verb, colloquial refusal: "nah,
  leave it", 算了, 别麻烦了, 先不打) and 108 real requests that merely contain a negation ("I can't find
  my pills, order more", 我不舒服，帮我叫医生, emergencies), written by a new writer before the round's
  tuning; in halves like dev6: ``dev12-neg odd`` tuned on, ``dev12-neg even`` totals only.
* ``intent-dev12-oos-<lang>.jsonl`` — round 9 (issue 10): ~210 / 230 out-of-scope lines of kinds the
  earlier sets cover thinly (talk to a pet or a grandchild in the room, half-heard TV lines,
  reminiscing, complaints, opinions about doctors and medicine, other people's plans, questions to a
  person in the room, commands for other smart-speaker skills; zh also sound-alikes and digits) plus
  ~100 in-scope lines said in the same surroundings; written by a new writer and committed before
  that round's tuning. In halves like dev10-oos: odd lines tuned on, even lines totals only.
* ``intent-dev13zh-zh.jsonl`` — round 10 (issue 10, Mandarin only): 310 lines (116 in scope, 44
  symptom reports labelled with symptom ids, 50 emergencies, 38 harmless danger-word lines, 62 out
  of scope) in regional older speakers' Mandarin (东北, 四川/重庆, 粤语-influenced, 上海, 闽南) and
  recogniser homophones (要/药, 一声/医生, 九命/救命); written by a new writer and committed before
  tuning. Odd lines tuned on, even lines totals only.
* ``intent-dev13-oos-<lang>.jsonl`` — round 10 (issue 10): ~160 / 120 out-of-scope lines that talk
  about the domain without asking (doctors, pills, the pharmacy, family members by name, phones,
  hospitals, TV medical dramas, opinions, other people's plans, complaints about past care,
  how-things-work questions; some harmless danger words), ~45 / 33 negated, declined, deferred or
  conditional requests ("if it gets worse I'll ring the doctor", 先别打给我儿子, 等会儿再说) and ~55 / 40
  real requests that merely contain such words ("if it's no trouble, order my diabetes tablets",
  万一我忘了，现在就把降压药订上); written by a new writer and committed before that round's tuning.
  In halves like dev10-oos. ``earlier even halves, pooled`` adds up the even halves of every halved
  set before it (none tuned on in round 10).
* ``intent-dev13-<lang>.jsonl`` — in-scope dev set (issue 10, round 10) in recogniser style:
  lowercase, no punctuation, fillers (um, well, you know; 嗯, 那个, 就是), false starts and
  self-corrections ("call my son no my daughter"), misheard names ("am low dipine", 安那, 将压药); en
  202 in scope + 64 out of scope, zh 127 + 40; written before that round's tuning, in halves like
  dev6: ``dev13 odd`` tuned on, ``dev13 even`` totals only.
* ``intent-dev14zh-zh.jsonl`` — round 11 (issue 10, Mandarin only): 335 lines (233 in scope over all
  18 non-emergency intents, 33 symptom reports labelled with symptom ids, 14 emergencies, 10 harmless
  danger-word lines, 42 out of scope) in older speakers' everyday Mandarin: story first, hesitations
  (那个那个, 就是说), indirect requests (能不能麻烦你, 你看看), complaints that are requests (这药又快没了),
  kin terms (闺女, 小儿子, 老伴), medicines by purpose or look (降压的, 那个白色的小药片), colloquial times
  (下礼拜三, 后儿个, 晌午) and recogniser homophones (陈一生, 二甲双呱, 头运); committed before tuning. Odd
  lines tuned on, even lines totals only. In the pooled row since round 12.
* ``intent-dev14-en.jsonl`` — in-scope dev set (issue 10, round 11, English only): 268 in scope over
  all 18 non-emergency intents + 30 symptom reports + 38 out-of-scope look-alikes in older people's
  everyday wording (hesitant, indirect and polite frames, a story before the request, British / Irish /
  Scots / Australian / US / Indian English, old-fashioned words, recogniser slips, requests said as
  complaints); written and committed before that round's tuning, in halves like dev6.
* ``intent-dev15-en.jsonl`` — in-scope dev set (issue 10, round 12, English only) by a new writer:
  252 in scope over the 17 non-emergency intents + 30 symptom reports labelled with symptom ids + 36
  out-of-scope look-alikes, in the words of older people with word-finding trouble and mild memory
  problems (words that won't come: "the, the thing, for the pressure"; the wrong word for the right
  thing: "the doctor lady", "ring the pill shop"; trailing off, repeating, two things in one breath,
  asking again, describing instead of naming: "the little white ones I take at night"); committed
  alone before tuning, in halves like dev6. In the pooled row since round 13.
* ``intent-dev15zh-zh.jsonl`` — round 12 (issue 10, Mandarin only): 341 lines (253 in scope over the
  17 non-emergency intents, 36 symptom reports labelled with symptom ids, 10 emergencies, 6 harmless
  danger-word lines, 36 out of scope) as a recogniser delivers older people's speech: no punctuation,
  run-on sentences, words split by spaces, homophones and near-homophones (持药, 陈一声, 遇约, 将压药, 大为,
  安那, 投疼, 雪压), times and numbers said every way (两点半, 下午两点三十, 十四点, 差一刻十点, 幺二零) and short
  elliptic requests (那个药呢, 打点声, 在说一边); by a new writer, committed before tuning. Odd lines tuned
  on, even lines totals only. In the pooled row since round 13.
* ``intent-dev15-oos-<lang>.jsonl`` — round 12 (issue 10): what is said to the speaker or near it that
  belongs to other assistants or to people in the room (taxi, shopping list, radio, lights, TV,
  recipes, jokes, weather, prayers, buses; gossip and memories of the doctor, pills and family; a
  grandchild or carer asked to do things; a letter or pill leaflet read aloud; one side of a phone
  call), ~8 harmless danger-word lines, ~40 negated / past / hypothetical requests per language and
  ~25 % in-scope controls said in the same surroundings (en 275, zh 266); written by a new writer and
  committed before that round's tuning, in halves like dev10-oos. In the pooled row since round 13.
* ``intent-dev16zh-zh.jsonl`` — round 13 (issue 10, Mandarin only): 351 lines (262 in scope over the
  17 non-emergency intents, 32 symptom reports labelled with symptom ids, 10 emergencies, 6 harmless
  danger-word lines, 41 out of scope) by a new writer: older speakers' 东北 / 四川 / 河南 / 上海 flavoured
  Mandarin (整, 唠嗑, 啥子, 莫得, 恁, 中不中, 俺妮儿, 侬, 阿拉, 覅, 啥辰光), a long story before the request,
  polite indirect frames (能不能麻烦你…, 我想问一下是不是可以…), the speaker talked to like a grandchild
  (乖孙, 小家伙) and recogniser homophones without punctuation (大位, 按娜, 陈医声, 预越, 降塘药); committed
  alone before any run on it. Odd lines tuned on, even lines totals only. After ``POOLED_THROUGH``:
  not in the pooled row.
* ``intent-dev16-en.jsonl`` — in-scope dev set (issue 10, round 13, English only) by a new writer:
  252 in scope over the 17 non-emergency intents + 28 symptom reports labelled with symptom ids + 36
  out-of-scope lines + 30 negated / declined / deferred requests (``not_intent``), in the words of
  older speakers of Scottish, Irish, Indian, Caribbean, Southern US and Australian English ("get
  onto the surgery for me hen", "kindly fix one appointment", "mi sugar tablets dem nearly done",
  "I'm fixin' to run out"), someone just home from hospital, someone hard of hearing who repeats
  and asks back ("call David. David. my son. did you get that"), very polite indirect forms ("I
  wonder whether it might be possible …") and a story before the request; committed alone before
  tuning, in halves like dev6. After ``POOLED_THROUGH``: not in the pooled row.
* ``intent-dev16-oos-<lang>.jsonl`` — round 13 (issue 10): talk near the consequential intents that
  asks nothing: phones and calls as objects and topics (the phone bill, scam calls, a new mobile, 话费,
  诈骗电话), pharmacy and shop talk that is no order (prices, the pharmacist's manner, a pet's medicine,
  给狗买药), other people's and non-medical appointments (hairdresser, bank, car MOT, 理发预约, 年检),
  requests for other devices and services (TV, heating, taxi, radio station, 叫车), retold speech
  ("anna said she'd ring me tonight", 他说要给我打电话), memories and jokes; ~7 harmless danger-word
  lines, 40 negated / deferred / hypothetical requests per language and ~43 in-scope near misses said
  in the same surroundings (en 267, zh 265); written by a new writer and committed alone before that
  round's tuning, in halves like dev10-oos. After ``POOLED_THROUGH``: not in the pooled row.
* ``intent-dev17zh-zh.jsonl`` — round 14 (issue 10, Mandarin only): 341 lines (249 in scope over the
  17 non-emergency intents, 35 symptom reports labelled with symptom ids, 10 emergencies, 6 harmless
  danger-word lines, 41 out of scope) by a new writer: older speakers' 广东 / 福建 / 湖南 / 江西 flavoured
  Mandarin mixed with 普通话 (唔该, 畀, 冇, 食咗, 睇医生, 听日, 个女 / 个仔; 汝, 阮, 呷, 歹势, 查某囝, 后生; 么子, 恰,
  哒, 咯, 崽, 屋里; 把 for 给, 女崽, 么事), very short elliptic requests (闺女 电话, 打医生, 降压药 续方), dates
  and 农历 dates (初八, 腊月二十三, 正月十六, 端午节以后, 下礼拜三, 12号), relayed requests (医生说让我…, 闺女让我
  问问…, 老伴叫我…) beside relayed talk that asks nothing (医生说让我少吃盐), and recogniser homophones
  (安拿, 大胃, 店话, 成医生, 陈姨生, 将牙药, 降唐药, 二甲双瓜, 月一下, 挂个好, 迟药, 取晓). Nine
  ``medication_query`` lines label the medicine named although the catalog's ``medication_query`` has
  no slot (a writer's slip: they cannot be right). Committed alone before any run on it; odd lines
  tuned on, even lines totals only. After ``POOLED_THROUGH``: not in the pooled row.
* ``intent-dev17-oos-<lang>.jsonl`` — round 14 (issue 10): talk that asks nothing in kinds the earlier
  sets cover thinly: things already done or arranged ("i rang anna this morning", 药昨天已经送来了), what
  others said or want ("my daughter wants me to call the doctor", 医生说让我多喝水), wishes and plans
  without a request ("one of these days i'll get round to booking the optician", 等球赛完了我给大卫打过去),
  questions about what the assistant did ("did you order my diabetes pills last week?", 你早上是不是给我约了个号),
  talk to a person or pet in the room with our verbs ("rosie, ring your nan back", 咪咪乖，把药吃了), quoted
  and read-aloud text (a text, a card, a pill box, a crossword clue); 6 harmless danger-word lines, ~49
  negated / deferred / conditional / already-done requests per language and ~58 in-scope controls said
  in the same surroundings ("the note on the fridge says call anna sunday, and it's sunday, so call
  her", 安娜已经知道了，你再给大卫打一个), 4 symptom reports, 2 emergencies (en 270, zh 269); written by a new
  writer and committed alone before that round's tuning, kinds split evenly between the halves. After
  ``POOLED_THROUGH``: not in the pooled row.
* ``intent-dev17-en.jsonl`` — in-scope dev set (issue 10, round 14, English only) by a new writer:
  269 in scope over the 17 non-emergency intents (34 calls to a contact and 30 reorders by name, pet
  name, relation word, purpose and recogniser slip: "met for min", "am low dipping", "Davey") + 30
  symptom reports labelled with symptom ids + 40 out-of-scope look-alikes, in the words of older
  immigrants speaking English as a second language (Chinese-, Italian-, Polish-, Spanish-, Punjabi-born:
  "you make phone to my son David", "please, for me, order the medicine of the diabetes", "I take already
  the pressure pill", "call to my hija, Anna, por favor", "haan ji, yes"), telegraphic requests ("doctor.
  phone. please", "pills nearly finish, order"), requests mixed with times, dates and numbers ("I take 2 a
  day the metformin, and only 6 is left"), requests relayed from a nurse, carer, pharmacist or family
  ("nurse told me get the water tablets renewed"), requests wrapped in small talk and recogniser-style
  lowercase lines; committed alone before any run on it, in halves like dev6. After ``POOLED_THROUGH``:
  not in the pooled row.
* ``holdout`` — every fifth line of ``intents/training/paraphrases-<lang>.jsonl``, scored with a
  model trained without those lines (``train.py --holdout``).

    .venv/bin/python bench/intent.py [--lang en|zh] [--json] [--errors] [--no-fresh] [--distress]
    .venv/bin/python bench/intent.py --dev5 [--errors]   # distress tuning set, halves, and nothing else
    .venv/bin/python bench/intent.py --distress-dev dev10 [--distress-dev …|all] [--errors]
    .venv/bin/python bench/intent.py --distress-pool   # even halves of dev5, dev10–16 pooled

``--dev5`` scores ``bench/data/distress-dev5-<lang>.jsonl`` (emergencies and harmless danger-word
lines written for the distress detector) in two halves: odd lines (1, 3, 5 …: tuned on) and even
lines (a check never tuned on; ``--errors`` lists the odd half's misses only). The lexicon alone, the
detector (lexicon + learned veto) and the whole stage, plus the detector's own latency.
``--distress-dev dev10`` does the same for round 7's distress dev set (``distress-dev10-<lang>``,
written before that round's tuning: odd lines tuned on, even lines totals only); ``dev6``–``dev9``
(own batches of round 5, every line a veto case) are reported whole; ``--distress-dev dev11`` is
round 8's set, ``dev12`` round 9's, ``dev13`` round 10's, ``dev14`` round 11's, ``dev15`` round 12's
and ``dev16`` round 13's (``distress-dev11-<lang>`` … ``distress-dev16-<lang>``, same halves; dev14 to
dev16 may exist for one language only; dev16-en by dis16en: 122 emergencies in new wording — understated,
indirect, mid-story, hearing-impaired repetition, Scottish / Irish / Indian / Caribbean / Southern US
English, oblique overdose and self-harm, someone else in the home in danger now — 119 harmless
danger-word lines and 27 negated or declining lines; dev15-en by dis15en: 127 harmless danger-word lines, 92 emergencies, 53 plain non-urgent
symptom reports that must not alarm; dev15-zh by dis15zh: Mandarin colloquial, dialect, understated and
homophone emergencies, harmless danger-word lines and plain symptom reports); ``dev16`` is round 13's
(dev16-zh by dis16zh: 259 lines, 116 emergencies said obliquely, half-way, in dialect-flavoured
Mandarin, for someone else in the house, oblique overdoses and 想不开, homophones without punctuation;
117 harmless danger-word lines; 26 negated or declining); ``dev17`` is round 14's (dev17-en by dis17en:
272 lines, 112 emergencies — understated and stoic older speakers, emergencies told by what cannot be
done, a carer or spouse speaking for the person, confusion and slurred recogniser-like output, oblique
overdose and self-harm, allergic reactions, burns, choking, cold and heat, diabetic hypos — 110
harmless danger-word lines (idioms, the past and resolved, other people, media, questions,
hypotheticals, health talk that is not acute, other senses) and 50 negated or cancelled lines; notes
name each kind) and dev17-zh by dis17zh (262 lines by a new writer, 102 emergencies — understated (有点不对劲，半边身子使不上劲), what one cannot do
(起不来了, 喘不上气说不了话), a spouse or carer speaking (老头子叫不醒了), 四川 / 东北 / 粤 / 闽南 / 上海 / 湖南
flavoured, homophones without punctuation (九命, 就护车, 中峰, 昏道), overdoses (药吃多了一把), allergic
reactions, burns, choking, low blood sugar, gas — 110 harmless danger-word lines (idioms, the past and
resolved, other people, dramas and news, what-to-do questions, hypotheticals, non-acute health talk) and
50 negated, declining or cancelled); ``all`` runs every one.
``--distress-pool`` prints one pooled
"unseen" figure: the even halves of the halved distress dev sets up to ``DISTRESS_POOLED_THROUGH`` (dev5,
dev10–dev16 in round 14) together, per decider (lexicon, detector, stage) — no tuning round looked at
those lines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.ops.settings import Contact, Doctor, Medication, Person, Settings  # noqa: E402
from assistant.understanding.understander import ACTS  # noqa: E402

CONSEQUENTIAL = ACTS
"""Intents that act (alert, call, order, book, record a dose, send a symptom to the doctor; the
understander's own ``ACTS``): an out-of-scope line accepted as one of these is a consequential
false accept."""
CHECKED_SLOTS = frozenset({"contact", "medication"})
"""Slots compared for accuracy (symptom / danger / body_part are detail, reported separately)."""
HOLDOUT_EVERY = 5
HALVED_SETS = (
    "dev6", "dev7-oos", "dev10-oos", "dev8", "dev11", "dev12", "dev12-neg", "dev12-oos", "dev13-oos", "dev13zh",
    "dev13", "dev14zh", "dev14", "dev14-oos", "dev15", "dev15zh", "dev15-oos", "dev16zh", "dev16", "dev16-oos",
    "dev17zh", "dev17-oos", "dev17",
)  # fmt: skip
"""Dev sets reported in two halves: odd lines (1, 3, 5 …) tuned on (``--errors`` lists their
misses; dev7-oos's out-of-scope lines are training negatives, dev10-oos's never are) and even lines
held out (totals only)."""
POOLED_THROUGH = "dev16-oos"
"""The "earlier even halves, pooled" row sums the even halves of every ``HALVED_SETS`` entry up to
and including this one (the sets of rounds 6–13, none tuned on in round 14; round 13 pooled through
dev15-oos; round 12 pooled through
dev14-oos; round 11 pooled through
dev13; round 12's helpers compared through dev14, i.e. without dev14-oos, and the round-12 summary
added it; round 13 pools through dev15-oos): one larger unseen
figure beside the per-set rows, comparable before and after a round."""
PLACEHOLDER_VALUES = {
    "en": {"{contact}": "Anna", "{doctor}": "Dr. Chen", "{medication}": "amlodipine"},
    "zh": {"{contact}": "安娜", "{doctor}": "陈医生", "{medication}": "降压药"},
}


def demo_settings(lang: str) -> Settings:
    return Settings(
        person=Person("Margaret Lee", "Margaret", lang),  # type: ignore[arg-type]
        doctor=Doctor("Dr. Chen", "+15550100", aliases=("陈医生", "陈大夫")),
        contacts=(
            Contact("Anna", "daughter", aliases=("安娜",), phone="+15550101", emergency=True),
            Contact("David", "son", aliases=("大卫",), phone="+15550102"),
        ),
        medications=(
            Medication("amlodipine", aliases=("blood pressure pills", "降压药"), times=(dt.time(8),)),
            Medication("metformin", aliases=("diabetes pills", "降糖药"), times=(dt.time(8), dt.time(18))),
        ),
    )


def load_set(lang: str, kind: str) -> list[dict]:
    path = ROOT / "bench" / "data" / f"intent-{kind}-{lang}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fresh_sets(lang: str) -> dict[str, set[int]]:
    """The held-out sets and, for each, the line numbers that equal a catalog expansion (or, for
    fresh2 and fresh3, a training sentence; for fresh3 also a distress-veto case) as recorded when
    the set was committed."""
    data = ROOT / "bench" / "data"
    first = json.loads((data / "intent-fresh-catalog-overlap.json").read_text("utf-8"))
    out = {"fresh": set(first[lang])}
    for name in ("fresh2", "fresh3"):
        recorded = json.loads((data / f"intent-{name}-overlap.json").read_text("utf-8"))
        out[name] = {
            n
            for source in ("catalog", "training", "distress")
            for n in recorded.get(source, {}).get(lang, [])
        }
    return out


def holdout_rows(lang: str) -> list[dict]:
    path = ROOT / "intents" / "training" / f"paraphrases-{lang}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for i, row in enumerate(rows):
        if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1:
            text = row["text"]
            for key, value in PLACEHOLDER_VALUES[lang].items():
                text = text.replace(key, value)
            out.append({"text": text, "intent": row["intent"], "kind": _kind(row["intent"])})
    return out


def _kind(intent: str | None) -> str:
    if intent is None:
        return "out_of_scope"
    return {"emergency": "emergency", "report_symptom": "symptom"}.get(intent, "in_scope")


def _negated(row: dict) -> bool:
    """A negated line names the intent it must not produce; ``"not_intent": null`` (fresh3 writes the
    key on every line) is not a negated line."""
    return row.get("not_intent") is not None


def evaluate(understander, rows: list[dict], keep_errors: bool) -> dict:
    """Totals over ``rows``; per-line misses only when ``keep_errors`` (never for fresh sets)."""
    c = dict.fromkeys(
        ("in_scope", "correct", "oos", "false_accepts", "emergency", "emergency_hit", "harmless", "false_alarms",
         "symptom", "symptom_hit", "negated", "negated_acted", "false_alarm_any", "non_emergency",
         "consequential_accepts", "urgent_caught", "urgent_asked_harmless", "harmless_or_oos",
         "urgent_asked_symptom"),
        0,
    )  # fmt: skip
    errors: list[str] = []
    for row in rows:
        u = understander.match(row["text"])
        kind = row.get("kind") or ("negated" if _negated(row) else _kind(row.get("intent")))
        got_slots = {k: v for k, v in u.slots.items() if k in CHECKED_SLOTS}
        want_slots = {k: v for k, v in (row.get("slots") or {}).items() if k in CHECKED_SLOTS}
        ok = True
        if _negated(row):
            c["negated"] += 1
            ok = u.intent != row["not_intent"]
            c["negated_acted"] += not ok
        elif row["intent"] is None:
            c["oos"] += 1
            ok = u.intent is None
            c["false_accepts"] += not ok
            c["consequential_accepts"] += u.intent in CONSEQUENTIAL
        else:
            c["in_scope"] += 1
            # slots are checked where the line labels them ({} = must name none); null = not labelled
            ok = u.intent == row["intent"] and (row.get("slots") is None or got_slots == want_slots)
            c["correct"] += ok
        urgent = u.intent == "report_symptom" and u.urgent  # "Do you need help right now?"
        if kind == "emergency":
            c["emergency"] += 1
            c["emergency_hit"] += u.intent == "emergency"
            c["urgent_caught"] += urgent  # not in recall: the dialogue asks first (docs/dialogue.md)
        if kind in ("harmless_danger", "out_of_scope"):
            c["harmless_or_oos"] += 1
            c["urgent_asked_harmless"] += urgent  # the urgent question's false-alarm cost
        if kind == "symptom":
            c["urgent_asked_symptom"] += urgent
        if kind == "harmless_danger":
            c["harmless"] += 1
            c["false_alarms"] += u.intent == "emergency"
        if kind == "symptom":
            c["symptom"] += 1
            c["symptom_hit"] += u.intent == "report_symptom"
        if row.get("intent") != "emergency" and not _negated(row):
            c["non_emergency"] += 1
            c["false_alarm_any"] += u.intent == "emergency"
        if not ok and keep_errors:
            want = row.get("intent", "!" + str(row.get("not_intent")))
            errors.append(
                f"{row['text']!r}: want {want} {want_slots} got {u.intent} {got_slots} ({u.confidence:.2f})"
            )

    def rate(num: str, den: str, empty: float) -> float:
        return c[num] / c[den] if c[den] else empty

    return {
        "lines": len(rows),
        **c,
        "accuracy": rate("correct", "in_scope", 1.0),
        "false_accept_rate": rate("false_accepts", "oos", 0.0),
        "emergency_recall": rate("emergency_hit", "emergency", 1.0),
        "emergency_false_alarm_rate": rate("false_alarms", "harmless", 0.0),
        "any_false_alarm_rate": rate("false_alarm_any", "non_emergency", 0.0),
        "symptom_recall": rate("symptom_hit", "symptom", 1.0),
        "negated_acted_rate": rate("negated_acted", "negated", 0.0),
        "errors": errors,
    }


def pooled(parts: list[dict]) -> dict:
    """Totals of several ``evaluate`` results added up (rates recomputed from the sums)."""
    keys = [k for k, v in parts[0].items() if isinstance(v, int)]
    c = {k: sum(p[k] for p in parts) for k in keys}

    def rate(num: str, den: str, empty: float) -> float:
        return c[num] / c[den] if c[den] else empty

    return {
        **c,
        "accuracy": rate("correct", "in_scope", 1.0),
        "false_accept_rate": rate("false_accepts", "oos", 0.0),
        "emergency_recall": rate("emergency_hit", "emergency", 1.0),
        "emergency_false_alarm_rate": rate("false_alarms", "harmless", 0.0),
        "any_false_alarm_rate": rate("false_alarm_any", "non_emergency", 0.0),
        "symptom_recall": rate("symptom_hit", "symptom", 1.0),
        "negated_acted_rate": rate("negated_acted", "negated", 0.0),
        "errors": [],
    }


def latency(understander, texts: list[str], rounds: int = 3) -> dict:
    for t in texts:  # warm caches once (the daemon matches many utterances per process)
        understander.match(t)
    samples: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for t in texts:
            start, start_cpu = time.perf_counter(), time.thread_time()
            understander.match(t)
            cpu.append((time.thread_time() - start_cpu) * 1000.0)
            samples.append((time.perf_counter() - start) * 1000.0)
    samples.sort()
    cpu.sort()
    return {
        "p50_ms": statistics.median(samples),
        "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        "max_ms": samples[-1],
        "cpu_p50_ms": statistics.median(cpu),
        "cpu_p99_ms": cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))],
        "load_average": os.getloadavg()[0],
    }


_MEMORY_PROBE = """
import json, sys, time
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * 4096 / 1e6
sys.path.insert(0, {root!r} + '/bench')
from intent import demo_settings
settings = demo_settings({lang!r})
base = rss()
t = time.perf_counter()
if {which!r} == 'matcher':
    from assistant.understanding.matcher import IntentMatcher
    u = IntentMatcher.from_settings(settings, {lang!r})
else:
    from assistant.pipeline import build_understander
    u = build_understander(settings, {lang!r})
ms = (time.perf_counter() - t) * 1000
u.match('call my doctor')
print(json.dumps({{'rss_mb': rss() - base, 'build_ms': ms}}))
"""


def memory(lang: str, which: str, state_dir: str) -> dict:
    """RSS growth (MB) and time of building ``which`` in a fresh process."""
    env = {**os.environ, "STATE_DIRECTORY": state_dir}
    code = _MEMORY_PROBE.format(root=str(ROOT), lang=lang, which=which)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def distress_only(lang: str, sets: dict[str, list[dict]]) -> dict:
    """The distress detector alone (lexicon + learned veto): recall, false alarms on harmless danger lines."""
    from assistant.understanding.distress import DistressDetector

    detector = DistressDetector.for_stage(lang, os.environ.get("STATE_DIRECTORY", ""))
    out = {}
    for name, rows in sets.items():
        em = [r for r in rows if r.get("intent") == "emergency"]
        harmless = [r for r in rows if r.get("kind") == "harmless_danger"]
        other = [r for r in rows if r.get("intent") != "emergency" and not _negated(r)]
        out[name] = {
            "emergency": len(em),
            "recall": sum(detector.detect(r["text"]).emergency for r in em) / len(em) if em else 1.0,
            "harmless": len(harmless),
            "harmless_false_alarms": sum(detector.detect(r["text"]).emergency for r in harmless),
            "non_emergency": len(other),
            "any_false_alarms": sum(detector.detect(r["text"]).emergency for r in other),
        }
    return out


DISTRESS_HALVES = ("dev5", "dev10", "dev11", "dev12", "dev13", "dev14", "dev15", "dev16", "dev17")
"""Distress dev sets reported in halves (odd lines tuned on, even lines a check); dev6–9 were
tuning data as a whole (all their lines are veto cases) and are reported whole."""
DISTRESS_WHOLE = ("dev6", "dev7", "dev8", "dev9")
DISTRESS_POOLED_THROUGH = "dev16"
"""``--distress-pool`` sums the even halves of ``DISTRESS_HALVES`` up to and including this one (the
sets of rounds 5–13, none tuned on in round 14; round 13 through dev15, round 12 pooled through dev14, round 11 through dev13), so the pooled figure stays comparable while a
round adds sets; a new set's own halves are reported by ``--distress-dev <name>``."""


def distress_set_exists(name: str, lang: str) -> bool:
    """A distress dev set may be written for one language only (its other file absent)."""
    return (ROOT / "bench" / "data" / f"distress-{name}-{lang}.jsonl").exists()


def dev5(lang: str, keep_errors: bool, name: str = "dev5") -> dict:
    """A distress dev set (``distress-<name>-<lang>.jsonl``) in halves — or whole for dev6–9 — decided
    by the lexicon alone, the detector (lexicon + veto) and the whole understanding stage."""
    from assistant.pipeline import build_understander
    from assistant.understanding.distress import DistressDetector

    path = ROOT / "bench" / "data" / f"distress-{name}-{lang}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    lexicon = DistressDetector(lang)
    understander = build_understander(demo_settings(lang), lang)
    detector = understander.distress  # lexicon + learned veto, as the stage runs it
    deciders = {
        "lexicon": lambda t: lexicon.detect(t).emergency,
        "detector": lambda t: detector.detect(t).emergency,
        "stage": lambda t: understander.match(t).intent == "emergency",
    }
    out: dict = {"lang": lang, "set": name, "halves": {}, "errors": []}
    parts = (
        (("odd (tuned on)", rows[0::2]), ("even (check)", rows[1::2]))
        if name in DISTRESS_HALVES
        else (("whole (tuned on)", rows),)
    )
    for half, part in parts:
        for who, decide in deciders.items():
            em = [r for r in part if r["emergency"]]
            harmless = [r for r in part if not r["emergency"]]
            missed = [r for r in em if not decide(r["text"])]
            alarms = [r for r in harmless if decide(r["text"])]
            out["halves"][f"{half}, {who}"] = {
                "emergency": len(em),
                "hit": len(em) - len(missed),
                "harmless": len(harmless),
                "false_alarms": len(alarms),
                # dev15: plain non-urgent symptom reports (note "symptom"), counted among the harmless too
                "symptom": sum(r.get("note") == "symptom" for r in harmless),
                "symptom_alarms": sum(r.get("note") == "symptom" for r in alarms),
            }
            if keep_errors and not half.startswith("even"):
                out["errors"] += [f"{who} missed: {r['text']!r} ({r['note']})" for r in missed]
                out["errors"] += [f"{who} false alarm: {r['text']!r} ({r['note']})" for r in alarms]
    texts = [r["text"] for r in rows]
    for t in texts:
        detector.detect(t)
    times = []
    for _ in range(3):
        for t in texts:
            t0 = time.perf_counter()
            detector.detect(t)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    out["detector_ms"] = {"p50": times[len(times) // 2], "p99": times[int(len(times) * 0.99)]}
    return out


def distress_pool(lang: str) -> dict:
    """The even halves (never tuned on) of every set in ``DISTRESS_HALVES``, pooled: one "unseen"
    recall and false-alarm figure per decider, totals only."""
    res: dict = {"lang": lang, "sets": {}, "pool": {}}
    pooled_names = DISTRESS_HALVES[: DISTRESS_HALVES.index(DISTRESS_POOLED_THROUGH) + 1]
    for name in (n for n in pooled_names if distress_set_exists(n, lang)):
        one = dev5(lang, False, name)
        res["sets"][name] = {k.split(", ")[1]: v for k, v in one["halves"].items() if k.startswith("even")}
    for who in ("lexicon", "detector", "stage"):
        res["pool"][who] = {
            k: sum(s[who][k] for s in res["sets"].values())
            for k in ("emergency", "hit", "harmless", "false_alarms", "symptom", "symptom_alarms")
        }
    return res


def report_pool(res: dict) -> None:
    print(f"## {res['lang']}: pooled unseen distress halves (even lines of {', '.join(res['sets'])})")
    print("| decided by | emergency recall | false alarms (non-emergency lines) |")
    print("|---|---|---|")
    for who, d in res["pool"].items():
        print(
            f"| {who} | {_pct(d['hit'] / d['emergency'])} ({d['hit']}/{d['emergency']}) "
            f"| {_pct(d['false_alarms'] / d['harmless'])} ({d['false_alarms']}/{d['harmless']}) |"
        )
    for name, s in res["sets"].items():
        d = s["stage"]
        print(
            f"  {name} even, stage: {d['hit']}/{d['emergency']} recall, {d['false_alarms']}/{d['harmless']} false alarms"
        )
    print()


def report_dev5(res: dict) -> None:
    print(f"## {res['lang']}: distress-{res['set']}")
    print("| half, decided by | emergency recall | false alarms (harmless danger words) |")
    print("|---|---|---|")
    for name, d in res["halves"].items():
        recall = d["hit"] / d["emergency"] if d["emergency"] else 1.0
        alarms = d["false_alarms"] / d["harmless"] if d["harmless"] else 0.0
        of_which = (
            f", of which symptom reports {d['symptom_alarms']}/{d['symptom']}" if d.get("symptom") else ""
        )
        print(
            f"| {name} | {_pct(recall)} ({d['hit']}/{d['emergency']}) "
            f"| {_pct(alarms)} ({d['false_alarms']}/{d['harmless']}){of_which} |"
        )
    ms = res["detector_ms"]
    print(f"\ndetector latency per sentence (wall): p50 {ms['p50']:.3f} ms, p99 {ms['p99']:.3f} ms")
    for e in res["errors"]:
        print(f"  tuned-on lines: {e}")
    print()


def run(lang: str, fresh: bool, keep_errors: bool, with_distress: bool) -> dict:
    from assistant.pipeline import build_understander
    from assistant.understanding.understander import Understander

    settings = demo_settings(lang)
    state = os.environ.get("STATE_DIRECTORY", "")
    understander = build_understander(settings, lang)
    held = Understander.from_settings(settings, lang, holdout=True)
    sets = {k: load_set(lang, k) for k in ("dev", "tune", "test")}
    res: dict = {"lang": lang, "sets": {}}
    for name, rows in sets.items():
        res["sets"][name] = evaluate(understander, rows, keep_errors)
    for kind in HALVED_SETS:
        if not (ROOT / "bench" / "data" / f"intent-{kind}-{lang}.jsonl").exists():
            continue  # dev8, dev13zh and dev14zh are Mandarin only
        rows = load_set(lang, kind)
        sets[f"{kind} odd"], sets[f"{kind} even"] = rows[0::2], rows[1::2]
        res["sets"][f"{kind} odd"] = evaluate(understander, rows[0::2], keep_errors)
        res["sets"][f"{kind} even"] = {**evaluate(understander, rows[1::2], keep_errors=False), "errors": []}
    earlier = HALVED_SETS[: HALVED_SETS.index(POOLED_THROUGH) + 1]
    res["sets"]["earlier even halves, pooled"] = pooled(
        [res["sets"][f"{k} even"] for k in earlier if f"{k} even" in res["sets"]]
    )
    res["sets"]["holdout"] = evaluate(held, holdout_rows(lang), keep_errors)
    texts = [r["text"] for rows in sets.values() for r in rows]
    if fresh:
        for name, skip in fresh_sets(lang).items():
            fresh_rows = load_set(lang, name)
            res["sets"][name] = {**evaluate(understander, fresh_rows, keep_errors=False), "errors": []}
            unseen = [r for n, r in enumerate(fresh_rows, 1) if n not in skip]
            label = (
                f"{name}, no catalog phrase"
                if name == "fresh"
                else f"{name}, no catalog or training sentence"
            )
            res["sets"][label] = {**evaluate(understander, unseen, keep_errors=False), "errors": []}
            texts += [r["text"] for r in fresh_rows]
    res["latency"] = latency(understander, texts)
    res["memory"] = {
        "understander_cached": memory(lang, "understander", state),
        "matcher_only": memory(lang, "matcher", state),
    }
    if with_distress:
        dsets = {**sets, "holdout": holdout_rows(lang)}
        if fresh:
            for name in fresh_sets(lang):
                dsets[name] = load_set(lang, name)
        res["distress"] = distress_only(lang, dsets)
    return res


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def report(res: dict, verbose: bool) -> None:
    print(f"## {res['lang']}")
    print("| set | lines | in-scope accuracy | OOS false accepts | emergency recall | emergency false alarms "
          "(harmless danger / any non-emergency) | symptom recall | negated lines acting |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for name, r in res["sets"].items():
        print(
            f"| {name} | {r['lines']} | {_pct(r['accuracy'])} ({r['correct']}/{r['in_scope']}) "
            f"| {_pct(r['false_accept_rate'])} ({r['false_accepts']}/{r['oos']}"
            f"{'; ' + str(r['consequential_accepts']) + ' consequential' if r['false_accepts'] else ''}) "
            f"| {_pct(r['emergency_recall'])} ({r['emergency_hit']}/{r['emergency']}) "
            f"| {r['false_alarms']}/{r['harmless']} / {_pct(r['any_false_alarm_rate'])} ({r['false_alarm_any']}/{r['non_emergency']}) "
            f"| {_pct(r['symptom_recall'])} ({r['symptom_hit']}/{r['symptom']}) "
            f"| {r['negated_acted']}/{r['negated']} |"
        )
    print(
        '\nurgent-symptom check (report_symptom of an urgent symptom → "Do you need help right now?", '
        "unanswered → emergency; not counted in recall above):"
    )
    for name, r in res["sets"].items():
        caught, em = r["urgent_caught"], r["emergency"]
        print(
            f"  {name}: emergencies caught by the urgent check {caught}/{em} "
            f"(recall {_pct(r['emergency_recall'])} → with it {_pct((r['emergency_hit'] + caught) / em if em else 1.0)}); "
            f"asked on harmless/out-of-scope lines {r['urgent_asked_harmless']}/{r['harmless_or_oos']}, "
            f"on symptom lines {r['urgent_asked_symptom']}/{r['symptom']}"
        )
    lat, mem = res["latency"], res["memory"]
    cached, matcher = mem["understander_cached"], mem["matcher_only"]
    print(
        f"\nlatency per sentence (wall): p50 {lat['p50_ms']:.3f} ms, p99 {lat['p99_ms']:.3f} ms (max {lat['max_ms']:.2f} ms); "
        f"CPU time p50 {lat['cpu_p50_ms']:.3f} ms, p99 {lat['cpu_p99_ms']:.3f} ms; load average {lat['load_average']:.1f}\n"
        f"memory (fresh process, RSS growth of building): understander {cached['rss_mb']:.1f} MB in "
        f"{cached['build_ms']:.0f} ms (model cached); catalog matcher alone {matcher['rss_mb']:.1f} MB "
        f"→ extra {cached['rss_mb'] - matcher['rss_mb']:.1f} MB\n"
    )
    if "distress" in res:
        print("distress detector alone:")
        for name, d in res["distress"].items():
            print(
                f"  {name}: recall {_pct(d['recall'])} of {d['emergency']}; false alarms on harmless danger lines "
                f"{d['harmless_false_alarms']}/{d['harmless']}, on any non-emergency line {d['any_false_alarms']}/{d['non_emergency']}"
            )
        print()
    if verbose:
        for name, r in res["sets"].items():
            for e in r["errors"]:  # fresh sets keep none
                print(f"  {name} miss: {e}")
        print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "zh"), action="append")
    parser.add_argument("--json", action="store_true", help="print one JSON object per language")
    parser.add_argument(
        "--errors",
        action="store_true",
        help="list misses of the dev/tune/test/holdout sets and the odd halves of the HALVED_SETS",
    )
    parser.add_argument("--no-fresh", action="store_true", help="skip the fresh test sets (use while tuning)")
    parser.add_argument("--distress", action="store_true", help="also score the distress detector alone")
    parser.add_argument("--dev5", action="store_true", help="only the distress tuning set dev5, in halves")
    parser.add_argument(
        "--distress-dev",
        action="append",
        choices=DISTRESS_HALVES + DISTRESS_WHOLE + ("all",),
        help="only distress dev sets: dev5/dev10-dev17 in halves, dev6-9 whole; 'all' = every one (repeatable)",
    )
    parser.add_argument(
        "--distress-pool",
        action="store_true",
        help="only the pooled unseen figure: even halves of every halved distress dev set together",
    )
    args = parser.parse_args()
    if args.distress_pool:
        for lang in args.lang or ["en", "zh"]:
            res = distress_pool(lang)
            print(json.dumps(res, ensure_ascii=False)) if args.json else report_pool(res)
        return 0
    names = (["dev5"] if args.dev5 else []) + list(args.distress_dev or [])
    if "all" in names:
        names = list(DISTRESS_HALVES + DISTRESS_WHOLE)
    if names:
        for lang in args.lang or ["en", "zh"]:
            for name in (n for n in names if distress_set_exists(n, lang)):
                res = dev5(lang, args.errors, name)
                print(json.dumps(res, ensure_ascii=False)) if args.json else report_dev5(res)
        return 0
    for lang in args.lang or ["en", "zh"]:
        res = run(lang, fresh=not args.no_fresh, keep_errors=args.errors, with_distress=args.distress)
        if args.json:
            print(json.dumps(res, ensure_ascii=False))
        else:
            report(res, args.errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
