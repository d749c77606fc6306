"""The understanding stage: distress detector + learned model + catalog matcher + slots + polarity.

Per utterance (:meth:`Understander.match`):

1. **Distress** (:mod:`.distress`, fail-closed): a standing danger cue → ``emergency``. A cue that
   contrary evidence cleared ("he fell asleep", "no chest pain now") forbids ``emergency`` from
   every other stage. With no cue at all the learned model may still say ``emergency`` (wordings
   the lexicon lacks: "the pan's caught fire") when it is at least :data:`MODEL_EMERGENCY_SURE` sure,
   or :data:`MODEL_EMERGENCY_P` with an urgent word ("call someone").
2. **Catalog path** (:mod:`.matcher`): a (near-)exact catalog phrase wins as before.
3. **Learned model** (:mod:`.model`): calibrated probabilities over the intents and an explicit
   out-of-scope class; the best intent is accepted above :data:`ACCEPT_P`.
4. **Polarity** (:mod:`.polarity`): a negated consequential request ("no need to call Anna")
   becomes no intent; a request standing in a clause of its own ("no, not David, ring Anna", "I can't
   find my pills, order more") acts, over the negation rules and the model's negated class.
5. **Whose request** (:mod:`.speaker`): talk about someone else ("joan has to take her water
   tablets"), a general health question ("what causes cramp at night") and a call told as news
   ask for nothing; a long "yes" / "no" is agreement or denial in passing, not an answer.
6. **Slots**: contacts, doctor, medications from the slot index (names, aliases, relation words,
   what a medicine is for, fuzzy names); symptoms from the bilingual vocabulary (:mod:`.symptoms`)
   as a normalised id plus the body part when one was named.
7. **Urgent symptom**: a ``report_symptom`` whose symptom the vocabulary marks ``urgent`` ("crushing
   pain in my chest", 半边身子动不了) says so (``Understanding.urgent``); the dialogue then asks
   whether help is needed now instead of reading the report back. Negated, someone else's, past
   or general-question lines never get here (steps 4–5 leave them without an intent).

Confidence is always in 0–1: the accepted intent's probability, or for no intent the best
in-scope probability that was not enough.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Final

from assistant.ops.settings import Settings
from assistant.understanding import addressed, polarity
from assistant.understanding.catalog import Catalog, load_catalog
from assistant.understanding.distress import LEARNED, DistressDetector, DistressResult
from assistant.understanding.matcher import IntentMatcher
from assistant.understanding.model import NEGATED, OOS, IntentModel, Prediction, load_or_build
from assistant.understanding.normalize import (
    ZH_SOUND_READING,
    normalize,
    sound_zh,
    standard_zh,
    strip_hedges,
    tag_questions,
)
from assistant.understanding.result import Understanding
from assistant.understanding.slots import config_slot_index, load_relations, model_tokens
from assistant.understanding.speaker import Speaker
from assistant.understanding.symptoms import SymptomFinder
from assistant.understanding.wordfinding import DOSE_TIME_NAMES, dose_time_forms, restate_en

_LOGGER = logging.getLogger(__name__)

EMERGENCY: Final = "emergency"
ACCEPT_P: Final = {"en": 0.55, "zh": 0.55}
"""Model probability needed to accept an intent (below it: out of scope)."""
OOS_RATIO: Final = {"en": 2.0, "zh": 3.0}
"""An intent is accepted only when its probability exceeds this many times the out-of-scope one
(chosen on the held-out paraphrases and the older sets: 1 / 2 / 3 / 5 / 10 tried)."""
ACTS_OOS_RATIO: Final[dict[str, float]] = {}
"""Round 13 (oos16): a stricter :data:`OOS_RATIO` for the acting intents (``ACTS``) only, per language
(empty: the common ratio). Measured and left empty (see docs/benchmarks/intent.md, round 13)."""
OVERRULE_P: Final = 0.9
OVERRULED_P: Final = 0.02
"""The model overrules an exact catalog phrase only when it is this sure of another intent and
gives the phrase's intent less than this (Mandarin keys are pinyin, so homophones collide)."""
NEGATED_VETO_P: Final = 0.25
"""Model probability of "a negated request" that stops a consequential intent."""
STANDING_ACCEPT_P: Final = 0.3
"""Probability (renormalised without the negated class) enough for an acting intent whose request
stands in a clause of its own (``polarity.stands``) when the model read the other clause's negation
as declining ("I don't want to be caught short, order my pills")."""
MODEL_EMERGENCY_P: Final = 0.6
"""Model probability for ``emergency`` when the distress lexicon heard no danger word at all but an
urgent word ("call someone", "quick", 快来人: the lexicon's ``urgency``)."""
MODEL_EMERGENCY_SURE: Final = 0.9
"""… and without an urgent word. Below it the model alone was never right on any tuning set (11
lines: "i'm in a lot of pain", "i can't find my hearing aids anywhere", 脚肿得鞋都穿不上)."""
EMERGENCY_CONFIDENCE: Final = 0.95
LEARNED_DEFERS_TO_SYMPTOM: Final = frozenset({"zh"})
"""Languages in which an emergency only the learned raiser heard (no danger word; :mod:`.distress_raise`)
gives way to a symptom the vocabulary names in the same words (我肚子疼得受不了: severe abdominal pain,
urgent: the dialogue asks whether help is needed now; 我这两天老是头晕: a report). Round 11 (dis14zh):
of the lines the Mandarin raiser raised on the intent sets' pooled unseen halves, 5 of 6 non-emergency
ones named a symptom (0 urgent), against 8 of 23 emergencies on the distress halves. Acts only where
a raiser is on (``distress_raise.RAISE_AT``; Mandarin's since round 11); English is not listed."""
RAISED_SYMPTOM_P: Final[float | None] = None
"""Off (round 11, dis14en). When set, the distress raiser's emergency (no danger word at all: category
``learned``) yields to the intent model reading a symptom report this surely (best intent
``report_symptom`` at or above it); the report's urgent-symptom check would still ask "do you need
help right now?". On the lines the raiser did not learn from (dev/tune/test, the intent dev sets' odd
halves, each distress dev set's odd half with a raiser trained without it) 13 lines were raised, 6
emergencies (model p(report_symptom) ≤ 0.21) and 7 not, 3 of them reports the model reads at ≥ 0.75
("i've come out in a rash on my arm, all red and blotchy", "i've no energy and my legs are swollen").
At 0.5 the pooled earlier even halves gained 2 in-scope lines (636 → 638/669) and 2 symptom reports
(65 → 67/70) with 2 fewer false emergencies (6 → 4/1357), but the pooled unseen distress halves lost
4 emergencies (278 → 274/298) and dev14's even half one (38 → 37/41); at 0.9 the distress pool still
lost one (277/298). It costs unseen recall, so it stays off."""
ZH_SOUND_FOR_MODEL: Final = False
"""Mandarin: the learned model too reads the domain's key words where the recogniser wrote a sound-alike
(:func:`normalize.sound_zh`: 可嗽 → 咳嗽); regional words it still reads as said (``standard_zh`` is for
the rules only). Off: round 12 (in15zh) measured dev15zh unchanged and one more out-of-scope false accept
on the pooled unseen halves (21 → 22/701)."""
CLAUSE_FALLBACK: Final = {"en": False, "zh": False}
"""When the whole line asks for nothing, try its last clause, then its first, alone (a story before
the request, an afterthought after it: :meth:`Understander._clause_request`). Round 11 (dev14). Round
13 (dev16) re-measured it with every vetoing check of the whole line (now also said to someone in the
room, read out, unreal, device talk) and :data:`CLAUSE_NEGATED_P`, leaving one dev set out at a time
(``bench/intent_devtrain.py`` models): in scope +5 on the pooled unseen halves (939 → 944 of 1011),
false accepts unchanged (12 (3) of 909), dev16's even half 129 → 130 of 140, paraphrase holdout
746 → 747, but one more negated line acting (8 → 9 of 171, dev15-oos's even half): a loss, so off."""
CLAUSE_P: Final = 0.7
"""Least confidence of a clause's intent."""
CLAUSE_NEGATED_P: Final[float | None] = 0.1
"""Round 13: no clause is tried when the model gives the whole line at least this much of its
"asks for nothing" (negated) class — a decline said over two clauses ("I'd not bother the doctor, it's
only a cold") is the whole line's, not one clause's. None: no such check. With the fallback on, 0.1
halved its cost in negated lines acting on the pooled unseen halves (8 → 10 without the check, → 9
with it; 0.25 left it at 10; chosen on those totals, so optimistic by one choice)."""
CLAUSE_MIN_WORDS: Final = 2
"""Shortest clause tried (one word alone — "right", "stop" — is too often said in passing)."""
CLAUSE_INTENTS: Final = frozenset(
    {
        "call_contact",
        "call_doctor",
        "reorder_medication",
        "book_appointment",
        "appointment_query",
        "time_query",
        "sent_today_query",
        "repeat",
    }
)
"""Intents taken from one clause: requests people put a story before or an explanation after. Not
answers, cancel, volume, capabilities, symptoms or doses: on the tuned-on halves their clauses
were mostly talk in passing ("hang on, what's that noise", "i'm bored, what can i do", "sit
yourself down love"); never an emergency (the distress detector reads the whole line)."""
CALL_NAMED_EN: Final = False
"""Round 12 (issue 10): a line that starts by asking to call ("can you call …", "ring …", "I want to
phone …") and names exactly one configured contact (and not the doctor) is ``call_contact`` when the
model hesitates but ranks the call first among the intents (:data:`CALL_RULE_P`), as a plain symptom
is a report (``SYMPTOM_RULE_P``): "can you call the, the young fella, my son", "phone the one who does
my shopping, my daughter". Every veto after it (negated, deferred, past call, someone else) still applies.
Off: dev15 odd +2, nothing on dev15 even, the pooled even halves or the holdout."""
CALL_RULE_P: Final = 0.01
CALL_RULE_CONFIDENCE: Final = 0.6
_EN_CALL_ASKED: Final = re.compile(
    r"^(?:(?:oh|well|now|so|and|jiayi|please|right) )*"
    r"(?:(?:can|could|would|will) you (?:please |just )?|please |just "
    r"|i (?:want|need|would like|wanna) (?:you )?to |let me |you )?"
    r"(?:call|ring|phone|dial|telephone|buzz|give)\b"
)
OUT_CUE_EN: Final = False
"""Round 12 (issue 10): "I'm nearly out", "all out", "I'm out" count as the order cue of
``reorder_medication`` (``REQUEST_CUE`` asked for "run out" / "out of"). Off: alone it changed no line;
with ``wordfinding.DOSE_TIME_NAMES`` (off) dev15 odd +1 more."""
_EN_OUT_CUE: Final = re.compile(r"\b(?:nearly|almost|all|clean|right|just about|i am) out\b(?! of)")
REPORT: Final = "report_symptom"
SYMPTOM_RULE_P: Final = 0.02
"""Least model probability for ``report_symptom`` when a vocabulary symptom was heard."""
SYMPTOM_RULE_CONFIDENCE: Final = 0.6
ZH_REPORT_THEN_ASK: Final = True
"""Mandarin: a symptom told and then an explicit ask to call or book the doctor (我这两天老拉肚子，你帮我叫
一下医生; 眼睛花得厉害，约一下陈医生) is the call or the booking, not the report (the labels of every dev set
say so; the model leaned to the symptom)."""
_ZH_ASK_DOCTOR: Final = {
    "call_doctor": r"(?:叫|找|喊|请|联系|接通|接|打给|拨给|打电话给|通知)(?:一下|一声|下)?(?:我的|那个)?{doctor}"
    r"|给{doctor}(?:打|拨|挂|去个电话|去电话)|{doctor}的电话",
    "book_appointment": r"(?:约|预约|挂)(?:一下|下|个|一个)?(?:号|{doctor})|挂(?:个)?号|(?:约|安排)(?:个|一个)?(?:时间|日子)",
}
ZH_ASKED_ORDER: Final = True
"""Mandarin: an order asked as a question (降压药是不是该买了, 那个降糖的是不是该续了) is the order, not a
question about the medicine."""
_ZH_ASKED_ORDER: Final = r"(?:该|得|要|需要)(?:再|又)?(?:买|订|续|配|拿|开)(?:了|药|点|些|一盒)"
MEDICINE_PAIR: Final = {"en": False, "zh": True}
"""Round 14 (in17zh): when the model splits a line between the two medicine readings, asking about the
medicine (``medication_query``) and ordering it (``reorder_medication``), and neither alone reaches
:data:`ACCEPT_P` but the two together do, the line is about the medicine: it is read as the question
(the reading that does nothing), and :data:`ZH_ASKED_ORDER` turns it into the order when an order is
asked for (我看降压药是不是又该订了). The dev sets' tuned-on halves teach "only two left" as an order (降糖药只剩两片了)
next to the catalog's question 药还剩多少: trained on them, the Mandarin model split 降压药还剩多少 0.53 / 0.41
and 我看降压药是不是又该订了 0.28 / 0.39 (+ 0.31 appointment_query) and rejected both. Measured: with the
shipped model (no dev odd halves) nothing moves on any even half; with a model trained on them (all but
dev17zh's) pooled even halves through dev16-oos 1233 → 1234 of 1314, false accepts 28 → 29 (13 → 13
consequential) of 995, dev17zh even unchanged (128 of 147)."""
_MEDICINE_PAIR: Final = frozenset({"medication_query", "reorder_medication"})
ZH_CALLEE_FIRST: Final = True
"""Mandarin: with two contacts named, the one the call word governs is the callee (安娜手机打不通，打给大卫试试;
大卫关机了，那你打给安娜), not the first one said."""
_ZH_CALLEE_OF: Final = (
    r"(?:打给|拨给|打电话给|给|叫|找|联系|接通)(?:我的|我家|我|俺家|俺|咱家)?{who}(?!的(?!电话))|{who}的电话"
)
ZH_CAR_HIRE: Final = False
"""Off (round 12). Hiring a car (叫车, 打个车, 约车) is no call to a contact (帮我打个电话叫车), like 出租 and
滴滴; a car declined (不用叫车了，给大卫打电话) leaves the call standing. Fixed one tuned-on line of dev15-oos;
no unseen total moved. Read at import (it extends ``EXCLUDED``)."""
_ZH_CAR_HIRE: Final = r"(?<!不用)(?<!别)(?<!不要)(?:叫|打|约)(?:个|辆|一辆)?(?:车|的士)"
SET_ASIDE: Final = {"en": False, "zh": True}
"""Round 13 (oos16): a clause that puts something else aside before or after the request ("forget the
hairdresser, book me in with the doctor", "the bank can wait, i'd like to see the doctor", "the price
doesn't matter, i need more amlodipine", 理发先不去了，帮我约下礼拜看医生, 银行的事往后放) is left out
of the rules that read the line around the request: the other-thing exclusions (``EXCLUDED``) and the
negation / deferral checks of :mod:`.polarity`. The model still reads the whole line."""
_EN_SET_ASIDE: Final = re.compile(
    r"^(?:(?:oh|well|no|so|and|right) )*(?:forget|never mind|leave|skip|not|ignore|blow|hang) (?:about )?"
    r"(?:the|my|that|this|your|all that|about) [a-z ]{1,30}$"
    r"|^[a-z ]{2,40} (?:can wait|will keep|will have to wait|does not matter|do not matter|is not important"
    r"|is neither here nor there|is not urgent|can go hang|can come later)$"
)
_ZH_SET_ASIDE: Final = re.compile(
    r"^[\u4e00-\u9fff]{0,12}?(?:先不去了|先不弄了|先不办了|不急|不着急|往后放|放一边|先放放|先放一放|待会儿再说|等会儿再说|回头再说"
    r"|再说吧|以后再说|管它呢|不管了|先别管|别管了|贵就贵吧|无所谓|等会儿再叫|待会儿再叫|等等再说|的事往后放)$"
)
_CLAUSE_SPLIT: Final = {
    "en": re.compile(r"\s*[,.;:!?]+\s*"),
    "zh": re.compile(r"[，。,？?！!；;：:]+"),
}
READING_CLEARED: Final = frozenset({"idiom", "mild"})
"""Cleared danger cues that still let an out-of-range home reading report (the 血 of 血压 / 血糖 is a
danger word in another sense); any other cue (negation, someone else, past) leaves it unreported."""
EVIDENCE: Final = {
    "en": {
        "reorder_medication": r"pill|tablet|medic|meds|prescription|inhaler|insulin|puffer|patch|cream|drops|dose|refill|repeat|statin|killer|paracetamol|aspirin|antibiotic|vitamin|supply|packet|box|chemist|pharmac|ones|#medication",
        "medication_taken": r"pill|tablet|medic|meds|dose|inhaler|insulin|puffer|cream|drops|patch|statin|killer|paracetamol|aspirin|antibiotic|vitamin|ones|(little|white|blue|pink|yellow|morning|evening|night) one|(morning|evening|night|night time|bedtime|dinner|dinner time|lunch|lunchtime|tea|teatime|breakfast|usual) (lot|ones|dose)|#medication|(took|taken|had|swallowed|got|done) (it|them|em)\b|(took|taken|had) what i (am|was) (meant|supposed)",
        "call_contact": r"call|ring|phone|speak|talk|contact|get hold|touch|through|message|text|bell|word with|#contact|see",
        "volume_up": r"loud|volume|speak up|hear|quiet|soft|up|raise|increase|faint|mumbl|can not",
        "volume_down": r"loud|volume|quiet|soft|down|lower|decrease|reduce|shout|deaf|blaring|blast|ear|racket|din|noisy",
        "time_query": r"time|clock|day|date|month|year|morning|afternoon|evening|night|today|hour|minute|late|early|week|noon",
        "appointment_query": r"appointment|check|visit|see|seeing|doctor|gp|clinic|surgery|book|dentist|nurse|hospital|optician|chiropodist|review|test|jab|injection|vaccin|scan|x ray|physio|#doctor",
    },
    "zh": {
        "reorder_medication": r"药|处方|方子|针|片|#medication|降(血)?(压|糖|脂)|地平|双胍|他汀",
        "medication_taken": r"药|片|粒|颗|针|#medication|地平|双胍|他汀|降(血)?(压|糖|脂)|^(我)?(早|已经|刚|刚刚|都)?((吃|服)(了|过了|过)(啊|呀|的|呢)?)+$",
        "call_contact": r"打|电话|联系|找|叫|说话|通话|视频|#contact|聊|问问|告诉|拨|接通",
        "volume_up": r"声|听|大|响|音量|高",
        "volume_down": r"声|吵|音量|响|轻|小|低",
        "time_query": r"几点|时间|钟|星期|礼拜|几号|日期|哪天|几月|周几|上午|下午|早上|晚上|中午|多会儿|几时|今天|明天|昨天|现在|日子|年|时辰|阴历|农历|多久|初几|今儿|几儿",
        "appointment_query": r"预约|复诊|复查|看病|瞧病|睇医生|睇病|毛病|医生|大夫|门诊|挂号|号|体检|检查|约|#doctor|医院|诊所|家访|上门|看牙|社区",
    },
}
"""Words an intent cannot do without: "we've run out of milk" is not a medicine order, 暖气开大点 is
not the volume. ``#slot`` = that slot was heard."""
TIME_HOURS_EN: Final = False
"""Round 14 (in17en): an hour said as a time ("is it already after four", "is it gone five", "half past
yet") is evidence for ``time_query`` like "time" or "clock". Off: Measured on models cached with dev17's odd half in training (rule switches need no retraining;
``bench/intent_devtrain.py``'s models, scored with the switch on), no unseen line changed
(leaving one set out 1089 of 1176, dev17's unseen half 120 of 146)."""
_EN_HOURS: Final = re.compile(
    r"\b(?:after|past|gone|before|nearly|almost) (?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b"
    r"|\bhalf past\b|\bquarter (?:past|to)\b|\boclock\b"
)
REQUEST_CUE: Final = {
    "en": {
        "reorder_medication": r"(?<![a-z])(order|more|run(ning)? (out|low|short)|ran out|low|short|refill|top up|top|renew"
        r"|repeat|prescription|get|got|fetch|send|need|want|sort|supply|new|another|last|empty|finished|none"
        r"|nothing left|gone|left|collect|pick|buy|deliver|out of|few|through|stock|re ?order|replace|enough"
        r"|down to|no more|used up|lot|can you|could you|please|for me|arrange)",
    },
    "zh": {
        "reorder_medication": r"订|续|买|配|开|送|没|完了|不够|剩|再来|再要|拿|取|弄|断|缺|要|帮|补|吃光|见底|一盒|一板|一瓶|多|点|些|冇"
        r"|光了|快没|来点|来一|来些|够|用完|下单|领|备|再|没得|莫得|空了|有没有|还有|没几|到头|整",
    },
}
"""… and the order itself: a medicine named with no word of ordering, running out or asking is talk
about it ("my blood pressure pills are called amlodipine, funny name", 降糖药的盒子又换颜色了, 降压药是白色的小药片). Every
order line of the training holdout and the dev sets' tuned-on halves has one (checked when added)."""
_EN_DEVICES: Final = r"(tv|telly|television|radio|wireless|music|song|heating|thermostat|oven|fan|tap|heater|fire|lights?|hob|doorbell|alarm clock)"
_EN_VOLUME_ELSEWHERE: Final = (
    rf"\b(turn|put|make|switch|crank|bring|whack)( up| down)? (the |that |my |our )?{_EN_DEVICES}\b"
    rf"|\b{_EN_DEVICES}( is|'s)? (up|down|louder|quieter|too loud|too quiet|blaring|so loud|on mute)"
    r"|\b(mute|unmute) the\b|\bsubtitles\b"
)
_EN_CANCEL_ELSEWHERE: Final = (
    r"\bcancel\b[^,.]*\b(netflix|sky|subscription|papers?|newspapers?|milk|milkman|magazine|catalogue|hairdressers?"
    r"|window cleaner|taxi|cab|holiday|trip|club|bingo|licence|coach|table|hotel|flight|train|ticket|tickets|delivery"
    r"|for (joan|her|him|them|my (sister|friend|husband|wife|neighbour|brother)))\b"
)
_EN_BUSINESS: Final = (
    r"\b(call|ring|phone|dial|contact|get hold of|get on to)\b[^,.]{0,20}\b(taxi|cab|plumber|garage|council|restaurant|takeaway|pizza|chinese|indian|chippy|chip shop|vet|vets|hairdressers?"
    r"|shop|bank|electrician|builders?|library|hotel|butcher|company|firm|gas board|water board|window cleaner|post office"
    r"|garden centre|bus company|tv shop|insurance company|solicitor|landlord)\b"
)
_ZH_MEDIA_VOLUME: Final = (
    r"(电视|收音机|广播|手机|铃声|歌|音乐|戏)机?的?(声音|声儿|声|音量)?(太|有点|忒|再)?(开|调|放|弄|整|关)?得?(大|小|高|低|响|轻|静音)"
    r"|(电视|收音机|广播)[^，,。]{0,3}吵"
)
_EN_NOT_FOR_ME: Final = (
    r"\b(dog|dogs|doggy|puppy|cat|cats|kitten|vet|vets|flea|fleas|worming|wormer|slug|slugs|weed|weeds|rat|rats"
    r"|mouse|mice|bug|bugs|greenfly|pond|lawn|plants?|roses|tomatoes|dishwasher|descal\w*|bird|birds"
    r"|tortoise|budgie|parrot|rabbit|hamster|horse)\b"
)
_ZH_NOT_FOR_ME: Final = (
    r"狗|猫|宠物|兽医|鱼|鸟|鹦鹉|蟑螂|老鼠|耗子|杀虫|灭蚊|蚊香|农药|花药|化肥|花肥|给花|给菜|打菜|庄稼|果树"
)
_EN_PET_UNWELL: Final = (
    r"\b(?:my|our|the|his|her) (?:dog|doggy|puppy|cat|kitty|kitten|budgie|parrot|rabbit|hamster|tortoise|bird|horse|pony)\b"
    r"(?!.*\b(?:bit|bitten|scratched|knocked|tripped|jumped on) me\b)"
)
_ZH_PET_UNWELL: Final = r"(?:狗|猫|宠物|鹦鹉|鸟|兔子)(?!.*(?:咬|抓|绊|撞|扑)(?:了|伤了)?我)"
"""An animal that is unwell is not a symptom to send the doctor ("my dog's limping", 我家狗一直咳嗽),
unless it hurt her ("the dog bit me")."""
_EN_ATTITUDE: Final = (
    r"\b(tired|weary|bored) (of|with)\b|\bsick (of|to death of)\b|\bsick and tired\b"
    r"|\bfeel like (a|an|some|another|my|a nice|a bit of) (?!(sick|faint|dizzy|wreck|zombie|rag|ton|lump|different|new)\b)"
)
"""Symptom words for an attitude or a wish ("tired of this weather", "sick of these adverts", "i feel
like a bit of cake"), not a state to report."""
_EN_SERVICE: Final = (
    r"\b(hairdressers?|hair|nails|barbers?|groomers?|vet|vets|car|mot|boiler|plumber|window cleaner|chimney|sweep|table"
    r"|restaurant|pub|hotel|solicitor|bank|massage|spa|church hall|coach|taxi|cab|electrician|builder|gas man|tickets?)\b"
    r"|\bfor (the )?(cat|dog|car)\b"
)
_ZH_SERVICE: Final = r"理发|剪头|保洁|阿姨|家政|月嫂|师傅|修|按摩|摄影|照相|搬家|保养|麻将|吃饭|喝茶|钓鱼|下棋|跳舞|开锁|擦玻璃|饭店|酒店|车票|宠物"
_ZH_CALL_WORDS: Final = (
    r"打|电话|联系|找|叫|视频|聊|问问|告诉|通话|说话|讲话|说两句|说几句|讲几句|声音|唠|拨|接|喊|挂|给"
)
"""Without one of these, a Mandarin call needs the contact's name or relation word said as such
(晚安啊 sounds like …安娜 to the pinyin matcher, but asks for nobody)."""
EXCLUDED: Final = {
    "en": {
        "reorder_medication": _EN_NOT_FOR_ME,
        "medication_taken": _EN_NOT_FOR_ME,
        "medication_query": _EN_NOT_FOR_ME,
        "book_appointment": _EN_SERVICE,
        "report_symptom": _EN_PET_UNWELL + "|" + _EN_ATTITUDE,
        "volume_up": _EN_VOLUME_ELSEWHERE,
        "volume_down": _EN_VOLUME_ELSEWHERE,
        "cancel": _EN_CANCEL_ELSEWHERE,
        "call_contact": _EN_BUSINESS,
        "time_query": r"\btime (is it |it is )?(in|over in|out in|over there|there)\b(?! the (morning|afternoon|evening))"
        r"|\btime difference\b|\b(sunset|sunrise|sun (set|rise|come up|go down)|get dark|gets dark|high tide|low tide|bins?)\b",
    },
    "zh": {
        "volume_up": r"暖气|空调|冷气|风扇|火|灯|水温|温度|油门|邻居|隔壁|楼上|楼下|装修|鞭炮|施工|"
        + _ZH_MEDIA_VOLUME,
        "volume_down": r"暖气|空调|冷气|风扇|火|灯|水温|温度|油门|邻居|隔壁|楼上|楼下|装修|鞭炮|施工|"
        + _ZH_MEDIA_VOLUME,
        "reorder_medication": _ZH_NOT_FOR_ME,
        "medication_taken": _ZH_NOT_FOR_ME,
        "medication_query": _ZH_NOT_FOR_ME,
        "book_appointment": _ZH_SERVICE,
        "report_symptom": _ZH_PET_UNWELL,
        "time_query": r"(国|洲|日本|澳大利亚|加拿大|新加坡|纽约|伦敦|那边|那儿|那里)(现在|这会儿)?(是)?几点|天黑|天亮|日落|日出|太阳",
        "cancel": r"报纸|订阅|会员|快递|外卖|旅游|旅行团|麻将|牛奶|理发|酒店|车票|机票|火车票",
        "call_contact": (_ZH_CAR_HIRE + "|" if ZH_CAR_HIRE else "")
        + r"公司|店|饭馆|物业|银行|超市|外卖|快递|出租|滴滴|师傅|修|开锁|电视台|电台|居委会|保险|房东|邮局|装修队|送水",
    },
}
"""Words that mean an intent is about something else (暖气开大点 is the heating, not the volume;
邻居家太吵了 is the neighbours' noise, not this voice; "make the telly louder" is the television,
"cancel my netflix" a subscription, "ring the plumber" or 给物业打电话 a business, not a contact)."""
ANSWER_MAX: Final = {"en": 12, "zh": 10}
"""Longest yes / no the model accepts (words in English, characters in Mandarin): answers are short
(the labelled ones are at most 8 words / 8 characters but one); a long sentence that opens with
"yes" or 不是不是 is talk in passing ("对对对，那部电影我记得，是王心刚演的")."""
ANSWERS: Final = frozenset({"yes", "no"})
ANSWER_REQUEST_MIN: Final = {"en": 4, "zh": 5}
"""Shortest "no, …" (words / characters) that may carry a request of its own ("no, not David, ring Anna")."""
ANSWER_REQUEST_P: Final = 0.05
"""Least model probability for that request's intent."""
ACTS: Final = frozenset(
    {
        "emergency",
        "call_doctor",
        "call_contact",
        "reorder_medication",
        "book_appointment",
        "medication_taken",
        "report_symptom",
    }
)
"""Intents that act for the speaker (alert, call, order, book, record a dose, report a symptom): never
for talk about someone else ("joan has to take her water tablets", 她三天两头给医生打电话)."""
SPEAKERS_OWN: Final = ACTS | {"medication_query", "appointment_query", "feeling_fine"}
"""Intents about the speaker's own care: never for talk about someone else (the acting ones, "when is
her appointment", 孩子们都挺好的)."""
NOT_GENERAL: Final = ACTS | {"feeling_fine", "cancel"}
NOT_ASKED_ACTS: Final = ACTS - {"emergency", "report_symptom"}
"""Acting intents that device talk or a letter read out never is (``Speaker.not_asked``); emergencies
(fail-closed) and symptom reports (the state may be told beside them) are left alone."""
DONE_NOT: Final = frozenset({"call_contact", "call_doctor", "reorder_medication", "book_appointment"})
"""Intents a request told as already done never is (``addressed.already_done``: "sophie's already phoned
the surgery for me"); a dose told as done *is* ``medication_taken``."""
UNREAL_NOT: Final = DONE_NOT | {"medication_taken"}
"""Intents a conditional, counterfactual or deliberative line never is (``addressed.unreal``)."""
READ_OUT_NOT: Final = (ACTS - {"emergency"}) | {"medication_query", "appointment_query", "feeling_fine"}
"""Intents a leaflet or letter read aloud never is (``addressed.read_out``; its side effects are no
report of the speaker's own)."""
LONG_AGO_NOT: Final = (ACTS - {"emergency", "report_symptom"}) | {"feeling_fine"}
"""Intents a story of long ago ("in my day the doctor came to the house", 以前大夫背着药箱上门看病) never
is; an emergency (fail-closed) and a symptom ("my hands shake more than they used to") may be."""
"""Intents a general question ("what causes cramp at night", 感冒一般几天能好) never is."""
_ZH_QUESTION: Final = re.compile(
    r"是不是|有没有|吃没吃|吃了没|了没|没有[吗呀啊]?$|吗[？?]?$|呢[？?]$|[？?]$|还是"
)
"""A Mandarin question: "I took my pills" asked (我是不是吃过药了) is a medicine question."""
_ZH_ASKS_BACK: Final = re.compile(
    r"([见到完懂白]了?(没有|没)|(?<!不)(是不是|对不对|好不好|行不行|懂不懂)|知道不|明白不)[吗呀啊]?[？?]?$|[吗呢][？?]?$|[？?]$"
)
_EN_ASKS_BACK: Final = re.compile(
    r"(?<![a-z])(do you (hear|understand)( me)?|are you (listening|deaf)|did you hear( me)?|you hear me|is that clear)[?]?$"
)
"""A yes / no said as a question to someone ("no, do you hear me", 听见没有)."""
_VACCINE: Final = {
    "en": r"\s*(jab|jabs|vaccine|vaccines|vaccination|injection|shot|shots|booster|season|clinic|ward)\b",
    "zh": r"(疫苗|针|预防针|季|病房|门诊)",
}
"""Words that make a symptom word a name for something else (流感疫苗, "flu jab", "flu season")."""
_CALLS_ME: Final = {
    "en": r"(?<![a-z])(call|ring|phone|text|message|bell|buzz) me(?![a-z])|(give|gives) me a (call|ring|bell|buzz)",
    "zh": r"给(我|俺|阿拉)(回)?(个|一个)?(电话|打|拨|回|来)",
}
"""The speaker as the one called: said to someone in the room (到了给我打个电话) unless a contact is
named ("ask anna to ring me back", 让安娜给我回个电话)."""
_CALLEE: Final = {
    "en": r"(?:^|\s)(?:call|ring|phone|dial|text|message|contact|get hold of|speak to|talk to|speak with|talk with)"
    r"\s+(?:my |our |the |up )?(?P<who>[a-z]+)",
    "zh": r"给(?P<who>[\u4e00-\u9fff]{1,3}?)(?:打|拨|挂)",
}
_GENERIC_CALLEES: Final = frozenset(
    "someone somebody anyone anybody family children kids them him her back me us one round over up please "
    "now later today tonight tomorrow again it that this a an for to in out doctor gp surgery ambulance help "
    "家里 家里人 孩子 孩子们 谁 他 她 他们 我 医生 大夫 人".split()
)
"""Words after a call word that are not names ("call someone", "ring them back")."""
DANGER_VALUES: Final = {
    "chest": "chest_pain",
    "breathing": "cant_breathe",
    "fall": "fall",
    "cry": "help",
    "alarm": "help",
    "stroke": "stroke",
    "collapse": "collapse",
    "bleeding": "bleeding",
}
"""Distress cue category → the catalog's ``danger`` slot value (spoken back in the alert)."""


class Understander:
    """One language's understanding stage (the ``pipeline.Understander`` seam)."""

    def __init__(
        self, catalog: Catalog, settings: Settings | None = None, *, model: IntentModel | None = None
    ) -> None:
        self.catalog = catalog
        self.lang = catalog.lang
        self.matcher = IntentMatcher(catalog, settings)
        self.distress = DistressDetector.for_stage(self.lang, settings.state_dir if settings else "")
        self.symptoms = SymptomFinder(self.lang)
        self.speaker = Speaker(
            self.lang,
            self.distress.lex,
            names=[
                normalize(w, self.lang)
                for c in (settings.contacts if settings else ())
                for w in (c.name, *c.aliases)
            ],
        )
        self.model = model
        self._slots = config_slot_index(catalog, settings)
        if DOSE_TIME_NAMES and settings is not None and self.lang == "en":
            for form, name in dose_time_forms(settings.medications):  # at match time only, never trained
                self._slots.add(form, "medication", name)
            for bucket in self._slots.by_first.values():
                bucket.sort(key=lambda syn: len(syn.keys), reverse=True)
        self._reportable = frozenset(catalog.intent_ids())
        relations = load_relations()
        self._contact_words = frozenset(
            normalize(w, self.lang)
            for c in (settings.contacts if settings else ())
            for w in (c.name, *c.aliases)
        )
        self._known_callees = {
            normalize(w, self.lang)
            for words in (*relations.relations.values(),)
            for w in words.get(self.lang, ())
        } | {normalize(text, self.lang) for text, _ in self._slots.surface_values.get("contact", [])}
        doctor_words = sorted(
            {normalize(t, self.lang) for t, _ in self._slots.surface_values.get("doctor", [])}
            | {"医生", "大夫"},
            key=len,
            reverse=True,
        )
        doctor_alt = "(?:" + "|".join(re.escape(w) for w in doctor_words if w) + ")"
        self._ask_doctor = {
            intent: re.compile(pattern.replace("{doctor}", doctor_alt))
            for intent, pattern in _ZH_ASK_DOCTOR.items()
        }
        by_contact: dict[str, set[str]] = {}
        for text, value in self._slots.surface_values.get("contact", []):
            word = normalize(text, self.lang)
            if word and (len(word) >= 2 or self.lang != "zh"):
                by_contact.setdefault(value, set()).add(word)
        self._callee_of = [
            (
                value,
                re.compile(
                    _ZH_CALLEE_OF.replace(
                        "{who}",
                        "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")",
                    )
                ),
            )
            for value, words in by_contact.items()
        ]

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        lang: str | None = None,
        *,
        catalog: Catalog | None = None,
        holdout: bool = False,
    ) -> Understander:
        """Catalog (default: the built-in one) + config + the cached (or freshly trained) model.

        The model is trained on the built-in catalog's intents; with another catalog
        (``understanding.catalog``) whose intents it does not cover, only the catalog path runs.
        """
        lang = lang or settings.language
        catalog = catalog or load_catalog(lang)
        model: IntentModel | None = None
        try:
            model = load_or_build(lang, settings.state_dir, holdout=holdout)
        except Exception as err:  # no model: the catalog matcher and distress detector still work
            _LOGGER.error("event=intent_model_unavailable lang=%s error=%s", lang, err)
        if model is not None and not set(model.classes) - {OOS, NEGATED} <= set(catalog.intent_ids()):
            _LOGGER.info("event=intent_model_skipped lang=%s reason=catalog_intents_differ", lang)
            model = None
        return cls(catalog, settings, model=model)

    def grammar_phrases(self, limit: int | None = None) -> Sequence[str]:
        return self.matcher.grammar_phrases(limit)

    def vocabulary(self) -> set[str]:
        return self.matcher.vocabulary()

    # ------------------------------------------------------------ matching

    def match(self, text: str) -> Understanding:
        if self.lang == "en":
            text = restate_en(text)  # memory asides and repeated fragments (off unless switched on)
        else:
            text = addressed.grandparent_self(text, self.lang)  # 乖孙 奶奶的药没了: the speaker's own
        whole = self._match_whole(text)
        if whole.intent is not None or not CLAUSE_FALLBACK.get(self.lang, False):
            return whole
        found = self._clause_request(text, whole.text)
        return found if found is not None else whole

    def _clause_request(self, text: str, display: str) -> Understanding | None:
        """A request said in one clause of a longer line whose other clause tells a story or an
        afterthought ("the missus is out so i'd like a word with my son", "come again, the wireless
        was on"): the first or the last clause alone, when it asks for something the model is sure of
        and the whole line vetoes nothing (negated, deferred, someone else's, news, long ago, a
        general question; no danger word anywhere)."""
        clauses = _clauses_en(text) if self.lang == "en" else []
        if (
            len(clauses) < 2
            or _CLAUSE_DOUBT.search(display)
            or self.distress.detect(display, normalized=True).any_cue
        ):
            return None
        if CLAUSE_NEGATED_P is not None and self.model is not None:
            tokens, _ = model_tokens(self._slots, display)
            if self.model.predict(tokens).prob(NEGATED) >= CLAUSE_NEGATED_P:
                return None
        plain = strip_hedges(display, self.lang)
        for clause in (clauses[-1], clauses[0]):
            if _length(normalize(clause, self.lang), self.lang) < CLAUSE_MIN_WORDS:
                continue
            part = self._match_whole(clause)
            intent = part.intent
            if intent not in CLAUSE_INTENTS or part.confidence < CLAUSE_P:
                continue
            if self._whole_line_vetoes(intent, display, plain):
                continue
            return Understanding(
                text=display,
                lang=self.lang,
                intent=intent,
                slots=part.slots,
                confidence=part.confidence,
                margin=part.margin,
                tier=part.tier,
                urgent=part.urgent,
            )
        return None

    def _whole_line_vetoes(self, intent: str, display: str, plain: str) -> bool:
        """The whole line's context rules ``intent`` out (the checks of :meth:`_match_whole` that read
        the line around the request)."""
        excluded = EXCLUDED.get(self.lang, {}).get(intent)
        return bool(
            (excluded is not None and re.search(excluded, display))
            or polarity.negated(plain, intent, self.lang)
            or polarity.deferred(plain, intent, self.lang)
            or (
                intent in SPEAKERS_OWN
                and self.speaker.someone_else(
                    display, self._callee_words(intent), names=intent not in ("call_contact", EMERGENCY)
                )
            )
            or (intent in SPEAKERS_OWN and self.speaker.listeners_relative(display))
            or (intent in NOT_GENERAL and self.speaker.how_it_works(display))
            or (intent in ("call_doctor", "call_contact") and self.speaker.past_call(display))
            or (intent in LONG_AGO_NOT and self.speaker.reminiscing(display))
            or (intent in ("report_symptom", "feeling_fine") and self.speaker.generic_you(display))
            or (intent in NOT_GENERAL and self.speaker.general_question(display))
            or (intent in NOT_ASKED_ACTS and self.speaker.not_asked(display))
            or self._addressed_elsewhere(intent, display)
        )

    def _match_whole(self, text: str) -> Understanding:
        display = normalize(text, self.lang)
        if not display:
            return Understanding(text=display, lang=self.lang, intent=None)
        distress = self.distress.detect(display, normalized=True, raw=text)
        shown = display  # the speaker's words; the rules below read regional words the standard way
        if self.lang == "zh":
            display = standard_zh(normalize(tag_questions(text), self.lang))  # 上班不，… asks (not 不)
            if ZH_SOUND_READING:
                display = sound_zh(
                    display
                )  # 雪压一百七 → 血压一百七: the key words as a recogniser misspells them
            if display != shown and not distress.any_cue:
                again = self.distress.detect(display, normalized=True, raw=text)  # 我跌咗落地起唔到身
                if again.emergency:  # it only adds alarms: a cue it clears must not block a symptom report
                    distress = again
        if distress.category == LEARNED and self.lang in LEARNED_DEFERS_TO_SYMPTOM and self._symptom(display):
            distress = DistressResult(False)  # a symptom report (urgent: the dialogue asks), not a call
        heard = sound_zh(shown) if self.lang == "zh" and ZH_SOUND_FOR_MODEL else shown
        tokens, config_values = model_tokens(self._slots, heard)  # the model learnt the words as said
        prediction = self.model.predict(tokens) if self.model is not None else None
        if distress.category == LEARNED and self._symptom_not_alarm(prediction):
            distress = DistressResult(False)  # "i've no energy and my legs are swollen": a report
        if distress.emergency and EMERGENCY in self._reportable:
            p = prediction.prob(EMERGENCY) if prediction else 0.0
            danger = DANGER_VALUES.get(distress.category or "")
            return self._result(
                shown,
                EMERGENCY,
                max(p, EMERGENCY_CONFIDENCE),
                1.0 - p,
                {"danger": danger} if danger else {},
            )
        exclude = {OOS, NEGATED}
        if distress.any_cue:
            exclude.add(EMERGENCY)  # a danger word whose other sense or negation we recognised
        exact, catalog_values = self.matcher.exact(text)
        plain = strip_hedges(display, self.lang)
        aside = self._set_aside_removed(text)  # the request's own clauses (SET_ASIDE; None: the whole line)
        ruled_plain = strip_hedges(aside, self.lang) if aside is not None else plain
        intent, p, runner = self._decide(prediction, exact, frozenset(exclude), plain)
        if intent == EMERGENCY and (prediction is None or p < self._model_emergency_p(display)):
            intent = None
        mild_only = bool(distress.cleared) and all(reason == "mild" for _, reason in distress.cleared)
        if intent is None and (not distress.any_cue or mild_only) and prediction is not None:
            intent, p = self._symptom_report(display, prediction, p)  # mild: "I get a bit out of breath"
        if intent is None and self._call_named(display, prediction, config_values):
            intent, p = "call_contact", max(prediction.prob("call_contact"), CALL_RULE_CONFIDENCE)
        if (
            intent in (None, "time_query")
            and not distress.cues
            and all(reason in READING_CLEARED for _, reason in distress.cleared)
            and self.symptoms.reading(display) is not None
        ):
            intent, p = (
                REPORT,
                max(p, SYMPTOM_RULE_CONFIDENCE),
            )  # 早上量的血压一百六十多, 测血糖十二点几 (not the time)
        if intent == REPORT and self.lang == "zh" and ZH_REPORT_THEN_ASK:
            intent = self._asked_of_doctor(display) or intent
        if (
            intent == "medication_query"
            and self.lang == "zh"
            and ZH_ASKED_ORDER
            and "reorder_medication" in self._reportable
            and re.search(_ZH_ASKED_ORDER, display)
        ):
            intent = "reorder_medication"  # 降压药是不是该买了: asked, but an order
        if intent == "medication_taken" and self.lang == "zh" and _ZH_QUESTION.search(display):
            intent = "medication_query"  # 我是不是吃过药了 asks; it does not report
        if intent is not None and polarity.negated(ruled_plain, intent, self.lang):
            intent = None
        if intent is not None and exact != intent and polarity.deferred(ruled_plain, intent, self.lang):
            intent = None  # "if it gets worse I'll ring the doctor", 下礼拜再约吧: a plan, nothing to do now
        if intent is not None and not self._has_evidence(intent, display, tokens, aside):
            intent = None
        if intent == "call_contact" and "contact" not in config_values and self._unknown_name(display):
            intent = None  # "call Bob" with no Bob configured: never offer to call someone else
        if (
            intent == "call_contact"
            and "contact" not in config_values
            and re.search(_CALLS_ME[self.lang], display)
            and not self.speaker.names_a_third_person(display)
        ):
            intent = None  # 到了给我打个电话, "give me a ring when you get there": someone asked to call her
        if intent == "call_contact" and self.lang == "zh" and not re.search(_ZH_CALL_WORDS, display):
            if not any(name and name in display for name in self._known_callees):
                intent = None  # a sound-alike of a name (晚安啊 ~ 安娜), no call word: asks for nobody
        if (
            intent in SPEAKERS_OWN
            and not (intent == EMERGENCY and self._near_only(display))
            and self.speaker.someone_else(
                display, self._callee_words(intent), names=intent not in ("call_contact", EMERGENCY)
            )
        ):
            intent = (
                None  # "joan has to take her water tablets", "anna's got a cough", 她三天两头给医生打电话
            )
        if intent in SPEAKERS_OWN - {EMERGENCY} and self.speaker.listeners_relative(display):
            intent = None  # "can you ring your brother", 给你哥打个电话: a person in the room
        if intent in NOT_GENERAL - {EMERGENCY} and exact != intent and self.speaker.how_it_works(display):
            intent = None  # "how does the pharmacy know when my prescription is due"
        if (
            intent in ("yes", "no")
            and exact != intent
            and _length(display, self.lang) > ANSWER_MAX.get(self.lang, 12)
        ):
            intent = None  # "不是不是，蓝的那件是我妹妹的": agreement or denial in passing, not an answer
        if intent in NOT_ASKED_ACTS and exact != intent and self.speaker.not_asked(display):
            intent = None  # "this thing rang anna all by itself", "it says here please call the surgery"
        if intent in ("call_doctor", "call_contact") and self.speaker.past_call(display):
            intent = None  # "the doctor phoned yesterday, all's well": news, not a request
        if intent in LONG_AGO_NOT and self.speaker.reminiscing(display):
            intent = None  # "we never had a telephone until the seventies", 当年结婚…
        if intent in ("report_symptom", "feeling_fine") and self.speaker.generic_you(display):
            intent = None  # "can you get shingles twice": anyone, not the speaker's own state
        if intent is not None and exact != intent and self._addressed_elsewhere(intent, display, text):
            intent = None  # "pauline pop round the chemist for me", "take one tablet daily", 请致电诊所…
        if intent in ("yes", "no") and exact != intent and self._asks_back(display):
            intent = None  # 不许咬电线，听见没有: a question to someone, not an answer to ours
        if intent in NOT_GENERAL and self.speaker.general_question(display):
            intent = None  # "what causes cramp in your legs at night", 感冒一般几天能好
        if intent is None or intent not in self._reportable:
            return Understanding(
                text=shown, lang=self.lang, intent=None, confidence=_unit(p), margin=_unit(p - runner)
            )
        slots = self._slot_values(intent, display, catalog_values, config_values)
        urgent = intent == REPORT and self._urgent(slots.get("symptom", ""))
        return self._result(shown, intent, p, p - runner, slots, urgent=urgent)

    def _set_aside_removed(self, text: str) -> str | None:
        """``text`` normalised without the clauses that put something else aside (:data:`SET_ASIDE`),
        or None when there is none (or nothing else is left)."""
        if not SET_ASIDE.get(self.lang, False):
            return None
        parts = [p for p in _CLAUSE_SPLIT[self.lang].split(text) if p.strip()]
        if len(parts) < 2:
            return None
        pattern = _ZH_SET_ASIDE if self.lang == "zh" else _EN_SET_ASIDE
        kept = [p for p in parts if not pattern.search(normalize(p, self.lang))]
        if not kept or len(kept) == len(parts):
            return None
        return normalize((" " if self.lang == "en" else "，").join(kept), self.lang)

    def _call_named(self, display: str, prediction: Prediction | None, config_values: dict[str, str]) -> bool:
        """:data:`CALL_NAMED_EN`: an asked call to the one named contact the model ranks first."""
        if not (CALL_NAMED_EN and self.lang == "en" and prediction is not None):
            return False
        if (
            "contact" not in config_values
            or "doctor" in config_values
            or "call_contact" not in self._reportable
        ):
            return False
        if prediction.prob(NEGATED) >= NEGATED_VETO_P or not _EN_CALL_ASKED.search(display):
            return False
        best, p, _ = prediction.best(frozenset({OOS, NEGATED}))
        return best == "call_contact" and p >= CALL_RULE_P

    def _addressed_elsewhere(self, intent: str, display: str, raw: str = "") -> bool:
        """Round 12 (:mod:`.addressed`): the line is said to a person in the room, read out from a
        leaflet or letter, one side of a phone call, a dose not told, a request already done or not
        meant as real. Never an emergency (fail-closed)."""
        if intent == EMERGENCY:
            return False
        lang = self.lang
        return bool(
            addressed.vocative(display, lang, self._contact_words | self._known_callees)
            or addressed.phone_side(display, lang)
            or (intent in READ_OUT_NOT and addressed.read_out(display, lang))
            or (intent == "medication_taken" and addressed.dose_untold(display, lang))
            or (intent in DONE_NOT and addressed.already_done(display, lang))
            or (intent in UNREAL_NOT and addressed.unreal(display, lang))
            or (intent in UNREAL_NOT and addressed.later(display, lang))
            or (intent in DONE_NOT and addressed.other_caller(display, lang, raw))
            or (intent == "time_query" and addressed.opening_hours(display, lang))
            or (intent in UNREAL_NOT and addressed.reported_wish(display, lang, raw))
            or (intent in DONE_NOT and addressed.asked_what_done(display, lang, raw))
            or (intent in DONE_NOT and addressed.called_by_other(display, lang, raw))
            or (intent in UNREAL_NOT and addressed.own_plan(display, lang, raw))
        )

    def _asked_of_doctor(self, display: str) -> str | None:
        """``call_doctor`` / ``book_appointment`` when a Mandarin symptom report also asks in so many
        words to call or book the doctor (``ZH_REPORT_THEN_ASK``), else None."""
        for intent, pattern in self._ask_doctor.items():
            if intent in self._reportable and pattern.search(display):
                return intent
        return None

    def _callee(self, display: str, first: str) -> str:
        """The contact the Mandarin call word governs when two are named (``ZH_CALLEE_FIRST``)."""
        governed = {value for value, pattern in self._callee_of if pattern.search(display)}
        return governed.pop() if len(governed) == 1 else first

    def _near_only(self, display: str) -> bool:
        """Mandarin: the person named is someone near (老伴, 老头子, 孙子: the distress lexicon's near
        words) and nobody far: the model's emergency stands for them as for the speaker (我老伴抽过去了)."""
        if self.lang != "zh":
            return False
        near, far = self.distress.lex.others_near, self.distress.lex.others_far
        return bool(near and near.search(display)) and not (far and far.search(display))

    def _asks_back(self, display: str) -> bool:
        """A yes / no that is itself a question (听见没有, 对不对, "no, are you listening?")."""
        pattern = _ZH_ASKS_BACK if self.lang == "zh" else _EN_ASKS_BACK
        return pattern.search(display) is not None

    def _symptom(self, display: str) -> bool:
        """The symptom vocabulary hears a symptom in ``display`` (regional words read the standard way)."""
        return self.symptoms.find(display, normalized=True) is not None

    def _urgent(self, symptom: str) -> bool:
        """The vocabulary marks this symptom id ``urgent: true``."""
        entry = self.symptoms.vocab.symptoms.get(symptom) if symptom else None
        return bool(entry and entry.urgent)

    def _decide(
        self, prediction, exact: str | None, exclude: frozenset[str], plain: str
    ) -> tuple[str | None, float, float]:
        """An exact catalog phrase wins (a ``reject`` phrase means out of scope), else the model.

        The model's negated class vetoes an acting intent unless its request stands in a clause of
        its own (``polarity.stands``: "no, not David, ring Anna"); a long "no, …" / 不是… whose
        request stands that way is the request, not an answer ("no, not Monday, book me in for
        Tuesday", 不是大卫，给安娜打)."""
        if exact is not None and prediction is not None and self._model_overrules(prediction, exact, exclude):
            exact = None  # a pinyin homophone of a catalog phrase (好伐 / 好乏) the model is sure about
        if exact is not None and exact not in exclude and exact != EMERGENCY:
            if self.catalog.intents[exact].reject:
                return None, prediction.prob(OOS) if prediction else 1.0, 0.0
            return exact, 1.0, prediction.best(exclude | {exact})[1] if prediction else 0.0
        if prediction is None:
            return None, 0.0, 0.0
        best, p, runner = prediction.best(exclude)
        # mass the model gave to readings of *another* clause: the negated class, and an answer word
        # before a request that stands ("no, not Monday, book me in for Tuesday")
        elsewhere = prediction.prob(NEGATED)
        if best in ANSWERS and _length(plain, self.lang) >= ANSWER_REQUEST_MIN.get(self.lang, 4):
            request = self._standing_request(prediction, exclude, plain)
            if request is not None:
                elsewhere += p
                best, p = request, prediction.prob(request)
                runner = prediction.best(exclude | ANSWERS | {request})[1]
        standing = best in polarity.CONSEQUENTIAL and polarity.stands(plain, best, self.lang)
        # the negated class only vetoes actions; "no pet", "don't shout" are answers and requests
        if best in polarity.CONSEQUENTIAL and prediction.prob(NEGATED) >= NEGATED_VETO_P and not standing:
            return None, p, runner
        rest = 1.0 - elsewhere
        p_norm, runner_norm = (p / rest, runner / rest) if rest > 0.0 else (p, runner)
        accept = (
            STANDING_ACCEPT_P if standing and elsewhere >= NEGATED_VETO_P else ACCEPT_P.get(self.lang, 0.55)
        )
        ratio = ACTS_OOS_RATIO.get(self.lang) if best in ACTS else None
        ratio = OOS_RATIO.get(self.lang, 1.0) if ratio is None else ratio
        if p_norm < accept and best in _MEDICINE_PAIR and MEDICINE_PAIR.get(self.lang, False):
            pair = [n for n in _MEDICINE_PAIR if n not in exclude]
            pooled = sum(prediction.prob(n) for n in pair) / rest if rest > 0.0 else 0.0
            oos = OOS_RATIO.get(self.lang, 1.0) * prediction.prob(OOS) / max(rest, 1e-9)
            if len(pair) == 2 and pooled >= accept and oos <= pooled:
                return (
                    "medication_query",
                    pooled,
                    prediction.best(exclude | _MEDICINE_PAIR)[1] / max(rest, 1e-9),
                )
        if p_norm < accept or ratio * prediction.prob(OOS) / max(rest, 1e-9) > p_norm:
            return None, p_norm, runner_norm
        return best, p_norm, runner_norm

    def _standing_request(self, prediction: Prediction, exclude: frozenset[str], plain: str) -> str | None:
        """The acting intent the model ranks highest after an answer word, if its request stands."""
        ranked = [n for n, _ in prediction.ranked if n in polarity.CONSEQUENTIAL and n not in exclude]
        for intent in ranked[:2]:
            if prediction.prob(intent) >= ANSWER_REQUEST_P and polarity.stands(plain, intent, self.lang):
                return intent
        return None

    @staticmethod
    def _symptom_not_alarm(prediction: Prediction | None) -> bool:
        """The model reads a symptom report (:data:`RAISED_SYMPTOM_P`) where only the raiser heard an
        emergency."""
        if RAISED_SYMPTOM_P is None or prediction is None:
            return False
        best, p, _ = prediction.best(frozenset({NEGATED}))
        return best == REPORT and p >= RAISED_SYMPTOM_P

    def _model_emergency_p(self, display: str) -> float:
        urgency = self.distress.lex.urgency
        return MODEL_EMERGENCY_P if urgency is not None and urgency.search(display) else MODEL_EMERGENCY_SURE

    @staticmethod
    def _model_overrules(prediction: Prediction, exact: str, exclude: frozenset[str]) -> bool:
        best, p, _ = prediction.best(exclude)
        return best != exact and p >= OVERRULE_P and prediction.prob(exact) < OVERRULED_P

    def _callee_words(self, intent: str) -> frozenset[str]:
        """Person words a call names as its callee (女儿, "my son"): not someone else's business."""
        return frozenset(self._known_callees) if intent == "call_contact" else frozenset()

    def _unknown_name(self, display: str) -> bool:
        """A name after the call word that is neither a contact nor a known word ("call Bob")."""
        pattern = _CALLEE.get(self.lang)
        m = re.search(pattern, display) if pattern else None
        if m is None:
            return False
        word = re.sub(r"^(我|俺|阿拉|咱|我们)", "", m.group("who")) or m.group("who")
        if word in _GENERIC_CALLEES or word in self._known_callees:
            return False
        return self.lang == "zh" or word not in self.matcher.vocabulary_words

    def _has_evidence(self, intent: str, display: str, tokens: list[str], aside: str | None = None) -> bool:
        display = re.sub(r"^(家医|jiayi|嗯|呃|哎|喂|那个)+", "", display)
        excluded = EXCLUDED.get(self.lang, {}).get(intent)
        if excluded is not None and re.search(excluded, display if aside is None else aside):
            return False
        cue = REQUEST_CUE.get(self.lang, {}).get(intent)
        if cue is not None and re.search(cue, display) is None:
            said_out = OUT_CUE_EN and intent == "reorder_medication" and _EN_OUT_CUE.search(display)
            if not said_out:
                return False
        pattern = EVIDENCE.get(self.lang, {}).get(intent)
        if pattern is None:
            return True
        if TIME_HOURS_EN and intent == "time_query" and self.lang == "en" and _EN_HOURS.search(display):
            return True
        marked = " ".join(tokens) if self.lang == "en" else "".join(tokens)
        return re.search(pattern, display) is not None or re.search(pattern, marked) is not None

    def _symptom_report(self, display: str, prediction: Prediction, p: float) -> tuple[str | None, float]:
        """A symptom from the vocabulary, said plainly, is a report even when the model hesitates."""
        found = self.symptoms.find(display, normalized=True)
        if found is None or found.loose or found.urgent:
            return None, p
        if re.match(_VACCINE[self.lang], display[found.span[1] :]):
            return None, p  # 流感疫苗, "the shingles jab": a vaccine named for the illness, no symptom
        p_report = prediction.prob(REPORT)
        if p_report < SYMPTOM_RULE_P and not found.reading:  # a reading out of range reports by itself
            return None, p
        return REPORT, max(p_report, SYMPTOM_RULE_CONFIDENCE)

    def _slot_values(
        self, intent: str, display: str, catalog_values: dict[str, str], config_values: dict[str, str]
    ) -> dict[str, str]:
        intent_def = self.catalog.intents[intent]
        slots: dict[str, str] = {}
        for name in intent_def.slots:
            if name in config_values:
                slots[name] = config_values[name]
            elif name in catalog_values:
                slots[name] = catalog_values[name]
        if "contact" in slots and self.lang == "zh" and ZH_CALLEE_FIRST and intent == "call_contact":
            slots["contact"] = self._callee(display, slots["contact"])
        if intent == "report_symptom":
            found = self.symptoms.find(display, normalized=True)
            if found is not None:
                slots["symptom"] = found.symptom
                if found.body_part:
                    slots["body_part"] = found.body_part
        return slots

    def _result(
        self,
        display: str,
        intent: str,
        p: float,
        margin: float,
        slots: dict[str, str],
        *,
        urgent: bool = False,
    ) -> Understanding:
        return Understanding(
            text=display,
            lang=self.lang,
            intent=intent,
            slots=slots,
            confidence=_unit(p),
            margin=_unit(margin),
            tier=self.catalog.intents[intent].tier,  # type: ignore[arg-type]
            urgent=urgent,
        )


_EN_CLAUSE_BREAK: Final = re.compile(
    r"[,.;:!?]+\s*|\s+(?:so|because|cos|coz|as|and then|and i thought i would|and i thought)\s+",
    re.IGNORECASE,
)


_CLAUSE_DOUBT: Final = re.compile(
    r"\b(?:not|no|never|nothing|nobody|none|nor|neither|if|unless|whether|later|tomorrow|wait|hold on|instead"
    r"|i will|we will|myself|leave it|forget|bother|cancel|never mind|rather|might|maybe|perhaps)\b"
)
"""Words that make another clause decline, defer or condition the request ("i was going to ring anna
but don't bother", "if it gets worse, book me in"): no clause fallback on such a line."""


def _clauses_en(text: str) -> list[str]:
    """The clauses of a spoken line: split at punctuation and at "so", "because", "but" …"""
    return [c.strip() for c in _EN_CLAUSE_BREAK.split(text) if c and c.strip()]


def _length(display: str, lang: str) -> int:
    return len(display.split()) if lang == "en" else len(display.replace(" ", ""))


def _unit(x: float) -> float:
    return min(1.0, max(0.0, float(x)))
