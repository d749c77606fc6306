"""Polarity: a negated or declined request never produces an action.

"no need to call Anna", "don't order anything", "I'm not dizzy", 我今天不需要吃药, 别给医生打电话:
for the consequential intents (calls, orders, bookings, symptom reports, "I took my pills") a
negation that governs the action word makes the utterance ask for nothing. Phrases where a
negation *is* the request stay ("I can't sleep", "I don't feel well", 睡不着, 不舒服, "I haven't
got many pills left", "don't forget to order my pills").

Scope (round 9): a negation governs its own clause. Recognisers give no punctuation, so a clause is
found from the words: the request verb ("ring", "order", "book", 给…打, 订, 约, "I took") is negated
only when walking back from it over *gap words* (auxiliaries, pronouns, "want", "need", "to",
"dare", 再, 帮我, 说 …) reaches a negation or a refusal word ("not", "never", "cancel", "scrap", 别, 不用,
先不 …); any other word before it starts a new clause ("no, not David, ring Anna", "the chemist
didn't send them, please order my tablets", 我不想去医院，给医生打个电话就行). The *last* request verb
decides: when it stands un-negated and nothing after it declines or defers it ("not now", "later",
"till", "changed my mind", 先不, 回头再, 不用了) or makes it conditional ("if", 要是), the request
stands (:func:`stands`) — over the negation rules here and over the learned model's negated class.
"""

from __future__ import annotations

import re
from typing import Final

CONSEQUENTIAL: Final = frozenset(
    {
        "call_doctor",
        "call_contact",
        "reorder_medication",
        "book_appointment",
        "report_symptom",
        "medication_taken",
        "volume_up",
        "volume_down",
    }
)

_EN_NEG: Final = r"(?:forget about|never mind|no point|no reason to|no call to|no sense in|hold off|do not|does not|did not|have not|has not|had not|no need to|no need for|not|never|no|nothing to|without|will not|would not|should not|shall not|no more)"
_EN_CALL: Final = (
    r"(?:call|ring|phone|contact|bother|disturb|get|tell|message|need|want|trouble|speak|talk)(?:ing|ed|s)?"
)
_EN_ACTION: Final = {
    "call_doctor": _EN_CALL,
    "call_contact": _EN_CALL,
    "reorder_medication": r"(?:order|reorder|get|buy|send|need|want|refill|run out|running out|running low|low|out of|short of|more|pills|tablets)(?:ing|ed|s)?",
    "book_appointment": r"(?:book|make|arrange|need|want|see|visit|appointments?|get)",
    "medication_taken": r"(?:take|taken|took|had|swallowed|done)",
    "report_symptom": r"(?:dizzy|sick|coughing|cough|pain|painful|sore|hurt|hurting|hurts|aching|ache|fever|temperature|headache|rash|nauseous|tired|swollen|itchy|bleeding|breathless|tell|poorly|ill|unwell|trouble|problem|problems|symptoms|cold|flu)",
    "volume_up": r"(?:turn it up|up|louder|loud|quiet|too quiet|make it louder|raise|increase|shout)",
    "volume_down": r"(?:turn it down|down|quieter|quiet|loud|too loud|softer|lower|reduce|decrease)",
}
_EN_NEG_FOR: Final = {
    "medication_taken": rf"(?:{_EN_NEG[3:-1]}|forgot|forgotten|forget)",  # "I forgot to take my pills"
}
_EN_REFUSAL_VERB: Final = r"(?:scrap|cancel|skip|drop|call off|put off|hold off(?: on)?|forget(?: about)?)"
_EN_DET: Final = r"(?:(?:the|that|my|this|any|our|her|his|their) )?"
_EN_REFUSED: Final = {
    "call_doctor": r"(?:doctor|doctors|gp|surgery|call|ring|phone call|dr [a-z]+)",
    "call_contact": r"(?:call|ring|phone call|message|text|daughter|son|him|her|them)",
    "reorder_medication": r"(?:order|reorder|refill|repeat|prescription|pharmacy|chemist|delivery|tablets|pills)",
    "book_appointment": r"(?:appointment|booking|visit|check up|clinic|blood test)",
}
"""What a refusal verb refuses: "scrap the order for my tablets", "cancel the refill", "forget the
pharmacy"; "leave X be / out of it / for now" refuses X too ("leave our anna be", "leave the
doctor out of this one") — "leave a message" asks."""
_EN_LEAVE_BE: Final = r"(?:out of|be|alone|for now|for the moment|till|until)"


def _en_refused(cleaned: str, intent: str) -> bool:
    noun = _EN_REFUSED.get(intent)
    if noun is None:
        return False
    verb = rf"(?<![a-z]){_EN_REFUSAL_VERB} {_EN_DET}(?:[a-z]+ )?{noun}(?![a-z])"
    left = noun if intent != "call_contact" else r"[a-z]+"
    leave = rf"(?<![a-z])leave {_EN_DET}(?:[a-z]+ )?{left} {_EN_LEAVE_BE}(?![a-z])"
    return re.search(verb, cleaned) is not None or re.search(leave, cleaned) is not None


_EN_DECLINED: Final = {
    "reorder_medication": r"(?:still (?:got|have)|got (?:loads|plenty|enough|a full|lots|a new|a whole)|(?:have|got|there is|is) a (?:full|new|whole) (?:box|packet|pack|bottle)|plenty (?:left|of them))",
    "report_symptom": r"(?:nothing (?:hurts|wrong|the matter)|no (?:trouble|problems?|pains?|aches?|dizziness|dizzy spells?|headaches?|fever|temperature|cough|coughing|rash|nausea|sickness|swelling|itching|soreness)\b)",
    "volume_up": r"(?:can hear you (?:fine|well|perfectly|all right|okay))",
    "volume_down": r"(?:can hear you (?:fine|well|perfectly|all right|okay))",
}
_EN_NOT_A_NEGATION: Final = re.compile(
    r"(?<![a-z])(?:not (?:feeling |feel )?(?:well|good|right|great|myself|too good|so good|very well|too well|brilliant)"
    r"|not (?:feeling |feel )?(?:too |so |very |all that |that )?(?:clever|grand|bright|champion|good|great|right|well)"
    r"|not (?:been )?(?:sleeping|slept)"
    r"|(?:can|could) not (?:sleep|breathe|stop|get rid|shake|see|hear|walk|eat|swallow|stand|remember|keep)"
    r"|do not feel (?:well|good|right|myself|great)|not forget|never forget|do not forget|not sleeping"
    r"|have not got (?:many|much|enough|any left)|not got (?:many|much|enough)|not many left|nothing left"
    r"|not (?:much|many) left|not (?:loud|clear|high) enough|not very loud|not loud|no (?:pills|tablets|medicine|more) left|not stopped|will not (?:go away|stop|shift|clear))(?![a-z])"
    # reasons and circumstances, not a declined request: "I haven't heard from David, ring him",
    # "I can't get through to Anna", "I don't want to run out, order my tablets", "I never miss"
    r"|(?<![a-z])(?:(?:have|has|had) not (?:heard|seen|had a call|had a ring|spoken to (?:her|him) for|rung|called|phoned|been in touch|been round|visited)|not heard from"
    r"|did not (?:answer|pick up|ring back|call back|get back)|(?:is|was) not (?:answering|picking up)"
    r"|(?:can|could) not (?:get through|find|work|use|manage|reach|get hold|dial|figure|do it|work out|see the)"
    r"|do not know (?:how|her number|his number|the number)"
    r"|do not want to (?:run out|be without|run short|miss|leave it|wait)|so i do not run out|(?:hate|not like) to be without"
    r"|(?:i )?never (?:miss|forget)|not (?:once )?(?:missed|forgotten)|have not forgotten"
    r"|(?:would|will|does|can|could) not (?:stop|go away|settle|shift|clear|let up|ease|ease off|budge|calm down)|not (?:too|very|so) clever"
    r"|(?:do not|no|there is no) need to (?:shout|yell|bellow|be so loud)"
    r"|(?:will|would|do|did) not have enough|not enough to last|(?:will|would) not last)(?![a-z])"
    # a worry or a state that is no better, the reason for asking: "I'm not happy with this cough, ring
    # the doctor", "the rash is no better", "not getting any better", "not sure about these new pills"
    r"|(?<![a-z])(?:not (?:too |very |at all |really |that )?(?:happy|keen|pleased|comfortable|easy) (?:with|about)"
    r"|not (?:too |really |at all )?sure (?:about|what|why|how|if|whether|of)|no better|none the better"
    r"|not (?:getting|got|feeling) (?:any |much )?better|not (?:improving|improved|clearing|cleared|healing|healed|settling|settled|easing|eased|going down|gone down)"
    # a condition, not a refusal: "she'll worry if I don't ring, so call her"
    r"|if (?:i|she|he|it|they|we|you) (?:do|does|did|am|is|are|was|have|has|can|could) not)(?![a-z])"
)
_EN_ASKS_ANYWAY: Final = re.compile(
    r"(?<![a-z])(?:(?:can|could) not not|(?:would|will) not say no to|(?:there is )?no harm in|(?:would|will|could) not hurt to"
    r"|why not|not let me forget|never let me forget)(?![a-z])"
)
"""Round 11: a double negative or litotes that asks ("I can't not ring her on her birthday", "I wouldn't
say no to you calling my son", "no harm in ordering them now", "don't let me forget, ring the doctor"):
read like :data:`_EN_NOT_A_NEGATION` by the rules, but left out of the model's masking (masking them in
training too moved held-out-style lines the wrong way: dev12-neg even −1 in scope)."""


def _en_clean(text: str) -> str:
    """Negations that decline nothing, replaced by a clause break for the English rules."""
    return _EN_NOT_A_NEGATION.sub(" . ", _EN_ASKS_ANYWAY.sub(" . ", text))


_ZH_NEG: Final = (
    r"(?:不用|不要|不需要|不必|别|甭|覅|先别|没|没有|还没|不想|不|无须|用不着|犯不着|犯不上|没必要)"
)
_ZH_DECLINE: Final = r"(?:不用|不要|不需要|不必|别|甭|覅|先别|无须|用不着|犯不着|犯不上|没必要)"
"""Declining words only (no bare 不/没): 声音不大 is a complaint (turn it up), 声音不用再大了 declines."""
_ZH_NEG_FOR: Final = {
    "volume_up": _ZH_DECLINE,
    "volume_down": _ZH_DECLINE,
    "medication_taken": rf"(?:{_ZH_NEG[3:-1]}|忘记|忘了|忘)",  # 我忘记吃药了: not taken
}
_ZH_DECLINED: Final = {
    "report_symptom": r"没(?:有)?(?:哪儿|哪里|哪|什么地方|啥地方|啥)(?:都)?(?:不舒服|不得劲|难受|疼|痛|不对劲)"
    r"|(?:哪儿|哪里|浑身上下)都(?:不|没)(?:疼|痛|难受|不舒服)",
}
"""Said whole, before the complaint words are masked: 我身上没哪儿不舒服 reports nothing (不舒服 alone does)."""
_ZH_CALL: Final = r"(?:给|叫|打|让|联系|找|麻烦|告诉|通知|跟)"
_ZH_ACTION: Final = {
    "call_doctor": _ZH_CALL,
    "call_contact": _ZH_CALL,
    "reorder_medication": r"(?:订|买|开|配|拿|要|续|需要|用|送)",
    "book_appointment": r"(?:预约|约|挂号|挂|看|去|复诊)",
    "medication_taken": r"(?:吃|服|喝)",
    "report_symptom": r"(?:头晕|晕|疼|痛|咳|发烧|烧|恶心|吐|肿|痒|累|拉肚子|难受|告诉|喘|感冒|病)",
    "volume_up": r"(?:大|响|高)",
    "volume_down": r"(?:小|低|轻)",
}
_ZH_NOT_A_NEGATION: Final = re.compile(
    r"不舒服|不好|睡不着|睡不好|吃不下|喘不(?:上|过)|不行|不对劲|不太好|没力气|没劲|没精神|没胃口|不想吃|不得劲|止不住"
    r"|听不见|听不到|听不着|听不大清|受不了|看不见|记不住|记不清|忍不住|站不稳|走不动|不管用|不顶用|不见效"
    r"|一粒不落|一顿不落|不落|没落下|一次不少|不差|好不了|不见好|不退|不消|起不来|不停|没(?:药|了)了|快没了|没有了|不多了|吃完了|没剩|别忘|不要忘|不消化|看不清|听不清"
    r"|还不来|咋不来|怎么不来|不来了|没来|不回来|没回来|不接|没接|好久没|好几天没|几天没"  # 娃咋还不来你给他打个电话
    # how she feels or why she asks, not a declined request (我不太舒服你给医生打个电话, 我没忘药吃过了)
    r"|不太舒服|不大舒服|不怎么舒服|不太好受|没忘|没有忘|没忘记|不能断|别断了|断不得|不够吃|不够了|找不到|不会用|不会弄|打不通|没人接|不记得(?:号码|电话)"
    r"|别(?:嚷嚷|嚷|喊|吼|叫唤)|(?<![用要必])不(?=帮我|帮俺|给我)"  # 你别嚷嚷小点声; 陈医生能看我不帮我约 (a question's 不)
    # round 11: a double negative that asks (不给安娜打个电话说不过去; 不能不, 不得不, 非…不可, 也无妨)
    r"|不[\u4e00-\u9fff]{1,10}?(?:说不过去|可不行|不行啊)|不能不|不得不|非得?[\u4e00-\u9fff]{1,8}?不可|也无妨|也没什么不好|没什么不好"
)
_MASK: Final = "#nn"
"""What a negation word inside one of those phrases becomes for the learned model ("will not stop
hurting" → "will #nn stop hurting"), so its negated-request class does not read it as declining."""
_EN_NEG_WORDS: Final = re.compile(r"(?<![a-z])(?:not|never|no)(?![a-z])")


def mask_non_negations(text: str, lang: str) -> str:
    """``text`` (normalised) with the negation words of English phrases that do not decline
    anything ("can't sleep", "I haven't heard from David", "won't stop hurting") replaced by a
    neutral marker. Mandarin is left as it is: masking 睡不着 / 不太舒服 the same way measured no
    gain (held-out paraphrases ±1 line, dev8 ±1) once the training lines covered them."""
    if lang == "zh":
        return text
    return _EN_NOT_A_NEGATION.sub(lambda m: _EN_NEG_WORDS.sub(_MASK, m.group(0)), text)


def negated(text: str, intent: str, lang: str) -> bool:
    """True when ``text`` (normalised) declines or negates ``intent``'s action (and the last request
    for it does not stand in a clause of its own: :func:`stands`)."""
    if intent not in CONSEQUENTIAL:
        return False
    if lang == "zh" and _ZH_DECLINE_IDIOM.search(text):
        return True  # 我最不想的就是你给我儿子打电话: the request after it is what she does not want
    if stands(text, intent, lang):
        return False
    if lang == "zh":
        declined = _ZH_DECLINED.get(intent)
        if declined is not None and re.search(declined, text):
            return True
        return _zh_negated(_ZH_NOT_A_NEGATION.sub("。", text), intent)
    return _en_negated(_en_clean(text), intent)


_EN_RETRACT: Final = re.compile(
    r"(?<![a-z])(?:changed my mind|on second thoughts?)(?![a-z])"
    r"|(?<![a-z])(?:no wait|actually no|wait|hang on|hold on|no)?(?: no)? (?:do not|never mind|forget it|cancel (?:that|it)|scrap that)$"
    r"|(?<![a-z])(?:heavens|goodness|god|lord|gosh|certainly|definitely|absolutely|of course|oh|no) (?:no|not)$"
    r"|(?<![a-z])(?:(?:would )?(?:rather|sooner|better|best) not|no (?:thank you|thanks))$"
)
"""A request taken back at the end ("phone Anna, no wait, don't", "changed my mind")."""
_ZH_RETRACT: Final = re.compile(
    r"改主意|(?:不用了|不要了|还是不用了|还是别了|免了|免了吧|就算了|就算了吧|就甭了|不必了|没(?:那|这)?(?:个)?必要(?:了)?)$"
    r"|^(?:还)?(?:打|订|约|挂|叫|买|找)什么(?!时候|时间)"  # 打什么医生电话，没事: a rhetorical no
    r"|(?:先)?(?:搁着|搁一搁|放一放|放放|缓缓|缓一缓)(?:吧|再说)?$"
)


def _zh_negated(cleaned: str, intent: str) -> bool:
    if _ZH_RETRACT.search(cleaned):
        return True
    action = _ZH_ACTION[intent]
    neg = _ZH_NEG_FOR.get(intent, _ZH_NEG)
    return re.search(rf"{neg}(?:[\u4e00-\u9fff]{{0,3}}?){action}", cleaned) is not None


_EN_DECLINE_IDIOM: Final = re.compile(
    r"(?<![a-z])(?:the last thing (?:i|we) (?:want|need)|give (?:the |my |our )?[a-z]+(?: [a-z]+)? a miss"
    r")(?![a-z])"
)
"""Refusals said as idioms: "the last thing I want is you phoning my son", "let's give the doctor a miss"."""
_ZH_DECLINE_IDIOM: Final = re.compile(r"最不想|最不愿意|最怕你")
"""我最不想的就是你给我儿子打电话."""


def _en_negated(cleaned: str, intent: str) -> bool:
    if _EN_RETRACT.search(cleaned) or _EN_DECLINE_IDIOM.search(cleaned):
        return True
    action = _EN_ACTION[intent]
    if re.search(
        rf"(?<![a-z])(?:rather|sooner)(?: [a-z]+){{0,4}} than(?: [a-z]+){{0,2}} {action}(?![a-z])", cleaned
    ):
        return True  # "I'd sooner die than ring the doctor"
    declined = _EN_DECLINED.get(intent)
    if declined is not None and re.search(rf"(?<![a-z]){declined}", cleaned):
        return True
    if _en_refused(cleaned, intent):
        return True
    neg = _EN_NEG_FOR.get(intent, _EN_NEG)
    pattern = rf"(?<![a-z]){neg}(?: (?!and |but |so |then )[a-z]+){{0,3}}? {action}(?![a-z])"
    return re.search(pattern, cleaned) is not None


# ------------------------------------------------------------ scope: does the last request stand?

_EN_CALL_REQUEST: Final = (
    r"call|ring|phone|dial|text|message|try|contact|get hold of|speak to|speak with|talk to"
    r"|give (?:him|her|them|[a-z]+) a (?:ring|call|bell|tinkle)"
)
_EN_REQUEST: Final = {
    "call_contact": _EN_CALL_REQUEST,
    "call_doctor": _EN_CALL_REQUEST + r"|(?:want|need|get) (?:the|a|my) (?:doctor|gp)",
    "reorder_medication": r"order|reorder|re order|refill|top up|renew|get me (?:some|more)|send for",
    "book_appointment": r"book|arrange|make (?:me )?an appointment|get me (?:an|a) (?:appointment|check up)",
    "medication_taken": r"i (?:have |had )?(?:took|taken|had|swallowed)",
}
"""Request verbs in the form that asks ("ring", "order", "book"; "I took" reports a dose)."""
_EN_GAP: Final = frozenset(
    "to you go dare even want wanted need needed bother should would could will can shall must might may "
    "rather sooner we i me us him her them it anyone anybody someone somebody one yet really ever actually "
    "maybe perhaps say said asked ask tell told mean meant think thought point worth for of about keep start "
    "try going gonna let lets being be been is are was am have has had do does did a an the my our your his "
    "their any more also too on put make give place reason sense use cause call good saying asking telling "
    "suggesting suggest sure certain decided know whether".split()
)
"""Words between a negation and the verb it governs ("don't you dare ring", "no need to give her a
ring", "I don't think we should ring", "never asked you to phone", "not sure I want to ring", "don't know whether to ring")."""
_EN_NEGATORS: Final = frozenset(
    "not never no nobody none without nah nope stop cancel scrap skip forget drop than".split()
)
_EN_NOT_NOW: Final = r"not (?:yet|now|today|tonight|right now|just yet|this (?:week|time))|maybe later|some other time|another (?:time|day)"
_EN_SOME_DAY: Final = r"one of these days|sooner or later|some day|someday|eventually|in due course"
"""Round 11: put off to no time at all ("I should really book that eye test at some point", "one of these
days I'll ring my cousin"): read with :data:`_EN_NOT_NOW` when ``SOME_DAY`` is on."""
SOME_DAY: Final = False
"""Round 11 (issue 10): some-day words defer a request (en ``_EN_SOME_DAY``, zh ``_ZH_SOME_DAY``). Off:
it fixed tuned-on lines only; no unseen total (pooled earlier even halves, dev14-oos even) moved."""
_EN_LATER_WORDS: Final = _EN_NOT_NOW + ("|" + _EN_SOME_DAY if SOME_DAY else "")
"""Put off to some other time: "not now", "maybe later", "another day" (read by the two regexes below)."""
_EN_DEFER_ANYWHERE: Final = re.compile(
    rf"(?<![a-z])(?:{_EN_LATER_WORDS}|not just now|changed my mind|change of plan|on second thoughts?|no wait)(?![a-z])"
)
"""Deferral or a change of mind anywhere: "not now, maybe ring Anna tomorrow"."""
_EN_DEFER_AFTER: Final = re.compile(
    r"(?<![a-z])(?:later|for now|for the moment|never mind|forget (?:it|that|about it)|scrap that|cancel (?:that|it)"
    r"|leave it|till|until|wait|hang on|hold on|do not|not)(?![a-z])"
)
"""After the request: "… when to reorder, not today", "ring Anna, no wait, don't"."""
_EN_DEFER_WHEN: Final = re.compile(r"(?<![a-z])(?:tomorrow|next (?:week|month)|at the weekend)(?![a-z])")
"""… and for a call or an order (not a booking, whose time is a slot): "maybe order them next week"."""
_EN_CONDITIONAL: Final = re.compile(r"(?<![a-z])(?:if|unless|in case)(?![a-z])")
_EN_MYSELF: Final = re.compile(
    r"(?<![a-z])i (?:will|shall|can|could|am going to|am gonna)(?: just| probably| maybe| then)? $|(?<![a-z])myself(?![a-z])"
)
"""The speaker will do it herself ("no, I'll ring her myself"): nothing for the assistant to do."""

_ZH_CALL_REQUEST: Final = (
    r"(?:给|跟|和)(?:(?![不别没甭])[\u4e00-\u9fff]){1,4}?(?:打|拨|挂|发(?:个|条)?(?:微信|消息|短信)|视频|通话|说说|说话)"
    r"|叫(?:个)?(?:医生|大夫|陈医生)|找(?:个)?(?:医生|大夫)|联系|打(?:个|一个|一下)?电话|再打|打打看|打一遍"
    r"|(?:打|拨)给"  # 打给安娜 (round 11): the callee after the verb, as in 别打给大卫，打给安娜
)
_ZH_REQUEST: Final = {
    "call_contact": _ZH_CALL_REQUEST,
    "call_doctor": _ZH_CALL_REQUEST,
    "reorder_medication": r"订|续|(?:配|开|买)(?:点|些|一点)?药|买点|送上门",
    "book_appointment": r"预约|约|挂(?:个)?号",
    "medication_taken": r"(?:吃|服|吞)(?:了|过|下去了)",
}
_ZH_GAP: Final = "再 又 去 老 总 就 都 也 还 先 急着 着急 忙着 要 马上 现在 今天 今晚 这会儿 我 他 她 说 让 叫你 让你 记 随便 一直 老是 总是 打算 准备 想 愿意 敢 会 能 肯".split()
"""Adverbs and pronouns between a negation and its verb (别再订, 我从来没叫你给…打)."""
_ZH_STARTERS: Final = "帮我 给我 替我 帮 你 还是 可是 可 但是 但 不过 那就 那 请 麻烦你 快 赶紧".split()
"""Words a new clause starts with (可还是给安娜打, 没去过诊所帮我约): also crossed walking back."""
_ZH_WALK: Final = tuple(sorted(_ZH_GAP + _ZH_STARTERS, key=len, reverse=True))
_ZH_CLAUSE_END: Final = re.compile(r"(?:^|[了吧呢啊呀的嘛。，])$")
_ZH_NEGATORS: Final = re.compile(
    r"(?:不用|不要|不需要|不必|别|甭|覅|没|没有|不想|不|无须|用不着|犯不着|犯不上|没必要|不值得|不值当|取消|算了|不许|不准)$"
)
_ZH_FACT: Final = re.compile(r"没有?[^不别甭]*$")
"""没 tells what did not happen (药房一直没送降压药，再订一回): a reason, never a declined request, so the
clause after it may start without a linking word."""
_ZH_DEFER_ANYWHERE: Final = re.compile(
    r"先不|先别|回头再|改天|下次再|以后再|等会儿再|明天再|再说吧|先搁|先放"
)
_ZH_DEFER_AFTER: Final = re.compile(
    r"不用|不要了|不打了|别打了|别订了|不订了|不约了|别约了|先不|先别|等等|等一下|取消|别|不了"
    r"|搁着|搁一搁|放一放|放放|缓缓|缓一缓|不急|不着急|没(?:那|这)?(?:个)?必要|不必|用不着|犯不着"
)
_ZH_CONDITIONAL: Final = re.compile(r"要是|如果|万一|假如|的话|等到")
_ZH_MYSELF: Final = re.compile(r"自己|我来")


def stands(text: str, intent: str, lang: str) -> bool:
    """True when ``text`` (normalised) asks for ``intent`` in a clause of its own that nothing negates,
    defers or makes conditional, whatever negations other clauses hold ("no, not David, ring Anna",
    "I can't find my pills, order more", 我不舒服，帮我叫医生, "I haven't forgotten, I took them")."""
    if lang == "zh":
        return _zh_stands(_ZH_NOT_A_NEGATION.sub("。", text), intent)
    return _en_stands(_en_clean(text), intent)


def _en_stands(cleaned: str, intent: str) -> bool:
    request = _EN_REQUEST.get(intent)
    if request is None or _EN_DEFER_ANYWHERE.search(cleaned):
        return False
    last = _last_match(rf"(?<![a-z])(?:{request})(?![a-z])", cleaned)
    if last is None or _EN_CONDITIONAL.search(cleaned[: last.start()]):
        return False
    if _EN_MYSELF.search(cleaned[: last.start()]) or _EN_MYSELF.search(cleaned[last.end() :]):
        return False
    words = cleaned[: last.start()].split()
    for steps, word in enumerate(reversed(words)):
        if word in _EN_NEGATORS:
            return False
        if word not in _EN_GAP or steps >= 6:
            break
    tail = cleaned[last.end() :]
    if _EN_DEFER_AFTER.search(tail) or (intent != "book_appointment" and _EN_DEFER_WHEN.search(tail)):
        return False
    return not _en_negated(tail, intent)


def _zh_stands(cleaned: str, intent: str) -> bool:
    request = _ZH_REQUEST.get(intent)
    if request is None or _ZH_DEFER_ANYWHERE.search(cleaned):
        return False
    last = _last_match(request, cleaned)
    if last is None or _ZH_CONDITIONAL.search(cleaned[: last.start()]):
        return False
    before = cleaned[: last.start()]
    if _ZH_MYSELF.search(cleaned) or re.search(r"不是(?:让|叫|要|说)你?$", before):
        return False  # 我自己给闺女打; 我不是让你给安娜打 (不是 alone contrasts: 不是大卫，给安娜打)
    # 给医生打 opens a clause of its own; so does 打给安娜 after another callee (别打给大卫打给安娜)
    started = bool(re.match(r"[给跟和]", last.group(0))) or last.group(0) in ("打给", "拨给")
    for _ in range(6):
        gap = next((g for g in _ZH_WALK if before.endswith(g)), None)
        if gap is None or _ZH_NEGATORS.search(before):
            break
        started = started or gap in _ZH_STARTERS
        before = before[: -len(gap)]
    if _ZH_NEGATORS.search(before):
        return False
    if not (started or _ZH_CLAUSE_END.search(before) or _ZH_FACT.search(before)):
        return False  # 别老去麻烦药房再订一回: one verb series under one 别
    tail = cleaned[last.end() :]
    return not _ZH_DEFER_AFTER.search(tail) and not _zh_negated(tail, intent)


def _last_match(pattern: str, text: str) -> re.Match[str] | None:
    matches = list(re.finditer(pattern, text))
    return matches[-1] if matches else None


# ------------------------------------------------------------ deferred: a plan for later, not a request now

DEFERRABLE: Final = frozenset(
    {"call_doctor", "call_contact", "reorder_medication", "book_appointment", "medication_taken"}
)
"""Intents a condition or a later time can put off ("if it gets worse I'll ring the doctor"). Symptom
reports and emergencies are never put off: the state is told now, whatever is planned about it."""
_EN_DEFER_REQUEST: Final = {
    **_EN_REQUEST,
    "call_doctor": _EN_REQUEST["call_doctor"] + r"|get (?:the |a )?(?:doctor|gp)|bother|trouble",
    "call_contact": _EN_CALL_REQUEST + r"|bother|trouble",
    "reorder_medication": _EN_REQUEST["reorder_medication"] + r"|get (?:some )?more|order more|tell you",
    "book_appointment": _EN_REQUEST["book_appointment"]
    + r"|make (?:an|the) appointment|book (?:me )?in|see (?:the|a|dr)",
    "medication_taken": r"take|have",  # a plan takes the base form; "had", "took" tell a dose
}
_EN_COND: Final = re.compile(
    r"(?<![a-z])(?:if|unless|in case|should (?:it|the|my|i|she|he|they|that|this|things|anything|he|she)|when|once|as soon as)(?![a-z])"
)
_EN_LATER_SUBJECT: Final = re.compile(
    r"(?<![a-z])(?:(?:i|we) (?:will|shall|might|may|would|could|can)|then|maybe|perhaps|you can)"
    r"(?: (?:just|probably|maybe|then|have to|get you to|ask you to|you|to|give|we|i|a|let|know|you can))*$"
)
"""Who acts, and when, just before the request verb: "… I'll ring the doctor", "… then you can call him",
"… maybe we'll give him a ring". Without it the main clause is an imperative ("if it's no trouble,
order my tablets", "in case I forget, order them now", "when you get a minute, ring David")."""
_EN_LATER_AFTER: Final = re.compile(
    r"(?<![a-z])(?:later|tomorrow|tonight|after|in a (?:bit|while|minute)"
    r"|next (?:week|month)|at the weekend|then|not (?:yet|now|before))(?![a-z])"
)
_EN_PUT_OFF: Final = re.compile(
    r"(?<![a-z])(?:i|we) (?:will|shall) (?:do|sort|see to|deal with) (?:it|that|them)(?: [a-z]+)? "
    r"(?:later|tomorrow|after|in a (?:bit|while|minute)|myself)(?![a-z])"
    rf"|(?<![a-z])(?:{_EN_LATER_WORDS})(?![a-z])"
)
"""Put off whatever the verb: "I haven't rung David yet, I'll do it later", "… I'll tell you, not yet"."""
_EN_NOW: Final = re.compile(r"(?<![a-z])(?:now|right away|straight away|at once|instead|after all)$")
_EN_FALLBACK: Final = re.compile(
    r"(?<![a-z])(?:not (?:answer|answering|in|home|there|pick up|picking up)|no answer|no reply|engaged|busy"
    r"|can not get (?:through|hold)|(?:is|are|she is|he is) out)(?![a-z])"
)
"""… "if she doesn't answer, then try David": a fallback for a call asked now, not a plan."""
_EN_TOLD: Final = re.compile(
    r"(?<![a-z])(?:was|were|had|did|woke|came|went|felt|fell|said|told|rang|called|got up|so|[a-z]{3,}ed)(?![a-z])"
)
"""A condition told in the past, or a consequence ("so I'll ring"): what happened, not a plan."""
_EN_POLITE_IF: Final = re.compile(
    r"(?<![a-z])(?:if|when) (?:you (?:could|would|can|will|do not mind|would not mind|have a|get a|are able)"
    r"|it is (?:no trouble|not too much|all right|alright|ok|okay|possible)|possible|you please)(?![a-z])"
)
"""A condition that is politeness, not a plan ("if you could, then ring her", "when you get a minute …")."""

_ZH_COND: Final = re.compile(
    r"要是|如果|万一|假如|假使|等到|的话|到时候"
    r"|等(?!了|着|半天|好久|老半天|一上午|一下午|一天|几天)(?:[\u4e00-\u9fff]{1,10}?)(?:了|完|以后|之后|回来|下班)"
)
_ZH_FALLBACK: Final = re.compile(r"不接|没人接|打不通|不在家|不在|占线|关机|没空|忙")
"""要是安娜不接，就给大卫打: a fallback for a call asked now, not a plan."""
_ZH_POLITE_IF: Final = re.compile(r"(?:要是|如果|假如)(?:你)?(?:不麻烦|方便|可以|行|有空|有时间|得空)")
"""要是方便的话，就给安娜打个电话: politeness, not a plan."""
_ZH_THEN: Final = re.compile(
    r"(?<!现在)(?<!马上)(?<!立刻)(?:再|才|到时候|(?:我|俺|咱|咱们|我们)(?:就|再|才))"
)
"""The later step of a plan: 再 / 才 / 到时候, or 我就 (the speaker acts then); a bare 就 is too common
(要是方便就…, 就是) to mark one."""
_ZH_LATER_AGAIN: Final = re.compile(
    r"(?:下礼拜|下星期|下周|下个月|明天|明儿|后天|过两天|过几天|改天|回头|晚点|晚些|以后|等会儿?|一会儿|过一阵|下回)(?:再|才)"
)
_ZH_NOT_URGENT: Final = re.compile(r"(?:现在|先)?不(?:急|着急|忙)(?:吧|呢|了)?$")
_ZH_CANCELLED: Final = {
    "call_contact": r"电话(?:先|就)?(?:取消|不打了|算了|免了)|取消(?:给)?[\u4e00-\u9fff]{0,4}电话",
    "call_doctor": r"电话(?:先|就)?(?:取消|不打了|算了|免了)|取消(?:给)?[\u4e00-\u9fff]{0,4}电话",
    "reorder_medication": r"(?:订单|订的药|药)(?:先|就)?(?:取消|不订了|算了|免了)|取消(?:订单|订药)",
    "book_appointment": r"(?:预约|约的号|号)(?:先|就)?(?:取消|不约了|算了|免了)|取消预约",
}
"""A request named and cancelled in one breath (给安娜的电话取消吧, 预约先取消)."""


def deferred(text: str, intent: str, lang: str) -> bool:
    """True when ``text`` (normalised) plans ``intent`` for later or on a condition ("if it gets worse
    I'll ring the doctor", "when David gets home maybe we'll give him a ring", 要是再疼得厉害，我就给医生打
    电话, 万一明天脚还肿，再约医生看看, 下礼拜再约吧，现在不急) or names it cancelled (给安娜的电话取消吧):
    nothing to do now. A polite condition before a request ("if you could ring my daughter", "in case I
    forget, order them now", 要是不麻烦的话，给我女儿打个电话, 万一我忘了，现在就订上) still asks."""
    if intent not in DEFERRABLE:
        return False
    if lang == "zh":
        return _zh_deferred(text, intent)
    return _en_deferred(text, intent)


def _en_deferred(text: str, intent: str) -> bool:
    cleaned = _en_clean(text)
    if _EN_NOW.search(cleaned) or _EN_POLITE_IF.search(cleaned):
        return False
    if _EN_PUT_OFF.search(cleaned):
        return True
    last = _last_match(rf"(?<![a-z])(?:{_EN_DEFER_REQUEST[intent]})(?![a-z])", cleaned)
    if last is None:
        return False
    before = cleaned[: last.start()].rstrip()
    if not _EN_LATER_SUBJECT.search(before):
        return False
    cond = _EN_COND.search(before)
    if cond is not None and _EN_TOLD.search(before[cond.end() :]):
        return False  # "when I woke up I was dizzy, so I'll ring the doctor": a story, decided now
    if cond is not None:
        if _last_match(rf"(?<![a-z])(?:{_EN_DEFER_REQUEST[intent]})(?![a-z])", before[: cond.start()]):
            return False  # "ring David, and if he doesn't answer then try Anna": asked now
        said = _EN_COND.search(text)  # the words as said: the masking above hides "is not answering"
        return said is None or _EN_FALLBACK.search(text[said.end() :]) is None
    return _EN_LATER_AFTER.search(cleaned[last.end() :]) is not None


_ZH_SOME_DAY: Final = re.compile(r"早晚(?:得|要|也得|还得|都得)|迟早(?:得|要|都得)?|总有一天|哪天再|有空再")
"""… 眼睛那个检查我早晚得约一下, 迟早要给他打个电话 (早晚 alone is "morning and evening": 早晚各吃一片)."""


def _zh_deferred(text: str, intent: str) -> bool:
    if SOME_DAY and _ZH_SOME_DAY.search(text):
        return True
    cancelled = _ZH_CANCELLED.get(intent)
    if cancelled is not None and re.search(cancelled, text):
        return True
    if _ZH_POLITE_IF.search(text):
        return False
    if _ZH_NOT_URGENT.search(text) or _ZH_LATER_AGAIN.search(text):
        return True
    request = _ZH_REQUEST.get(intent)
    last = _last_match(request, text) if request else None
    if last is None:
        return False
    before = text[: last.start()]
    cond = _last_match(_ZH_COND.pattern, before)
    if cond is None or _ZH_THEN.search(before[cond.end() :]) is None:
        return False
    if request and re.search(request, before[: cond.start()]):
        return False  # 给大卫打电话，要是他不接就打给安娜: asked now
    return _ZH_FALLBACK.search(before[cond.end() :]) is None
