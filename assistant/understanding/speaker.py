"""Whose request is it? The speaker's, or talk about someone else or about health in general.

Every intent of ours is the speaker asking for something for themselves (call *my* daughter, order
*my* pills, *I* feel dizzy) or answering us. Sentences that share the domain's words but ask for
nothing are very often about someone else ("joan has to take her water tablets first thing",
她三天两头给医生打电话, 药店每个礼拜三给孙大妈送药) or general questions about health ("what causes
cramp in your legs at night", 感冒一般几天能好). Both have a shape a word list of topics does not need:

* :meth:`Speaker.involved` — the speaker takes part: a first-person word that is not just the
  owner of another person ("my neighbour", 我妹妹 are someone else), a word to the assistant
  ("can you", "please", 你, 帮, 麻烦), or a request verb opening the sentence (imperative: "ring my
  daughter", 给安娜打个电话).
* :meth:`Speaker.someone_else` — another person is named (the distress detector's person words:
  ``others_near`` / ``others_far`` in ``intents/distress-<lang>.yaml``, plus his / her / their;
  the doctor is excluded: it is what our requests are about) and the speaker takes no part.
* :meth:`Speaker.general_question` — the sentence asks, and the speaker takes no part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from assistant.understanding.distress import DistressLexicon

SPOKEN_CALLS: Final = False
"""Round 11 (issue 10): conversations told as done count as past calls (``_EN_SPOKEN`` / ``_ZH_SPOKEN``).
Off: it fixed tuned-on lines of dev14-oos (en 1, zh 2) but moved no unseen total (earlier even halves
pooled, dev14-oos even; en and zh)."""
TALK_NOT_ASKED: Final = False
"""Round 11 (issue 10): device talk and letters read out act on nothing (:meth:`Speaker.not_asked`).
Off for the same reason: tuned-on lines only (en 1, zh 3), no unseen total moved."""
ZH_YEARS_AGO: Final = False
"""Round 11 (issue 10): 十来年前, 好多年前 count as long ago (in ``_ZH_LONG_AGO``). Off: no unseen total moved."""
POLITE_ASKS_EN: Final = False
"""Round 13 (issue 10): an English request put as a polite impersonal question — "would it be too much
trouble to put a call through to anna", "might it be possible to see the doctor" — involves the speaker
(:data:`_EN_POLITE_ASK`), so it is not taken for a general question about health. Off: it fixed one
tuned-on line of dev16 and moved no unseen total (pooled even halves, dev16's even half, leaving one
set out, holdout)."""
_EN_POLITE_ASK: Final = re.compile(
    r"(?<![a-z])(?:would|will|might|could) it be (?:at all )?(?:any|too much|much of a|a|an awful lot of|no)? ?"
    r"(?:trouble|bother|imposition)(?![a-z])"
    r"|(?<![a-z])(?:would|might|could) it (?:at all )?be (?:at all )?possible(?![a-z])"
)
"""A polite impersonal request frame (the one asked is the listener, though "you" is never said)."""
ZH_CALL_LENGTH: Final = False
"""Round 13 (oos16): a call told with its length (跟安娜打了一个钟头电话, 通了半天电话) is a past call."""
_ZH_CALL_LENGTH: Final = re.compile(
    r"(?:打|通|聊)了[^，。,？?！!]{0,6}(?:钟头|小时|分钟|半天|老半天|好久|半个钟)的?电话"
)
_DOCTOR: Final = {"en": {"doctor", "doctors", "gp", "nurse"}, "zh": {"医生", "大夫", "护士"}}
"""Person words that are what our requests are about, not someone else's business."""
_EN_THIRD: Final = re.compile(
    r"(?<![a-z])(his|her|hers|their|theirs|he|she|they|them|mrs|mr|miss|ms|auntie|uncle)(?![a-z])"
)
_EN_THINGS: Final = re.compile(
    r"(?:took|taken|take|had|swallowed|got|finished|order|reorder|need|run out of) $"
)
""""them" after a medicine verb ("took them with my tea") is the tablets, not people."""
MEDICINE_PRONOUN_EN: Final = False
"""Round 14 (in17en): "they" / "them" after a medicine word and no person word before it is the
medicine ("more of the pressure ones, they're nearly out", "the sugar tablets, order them"), not
someone else. Off: Measured on models cached with dev17's odd half in training (rule switches need no retraining;
``bench/intent_devtrain.py``'s models, scored with the switch on): leaving one set out, in scope 1089 →
1089 of 1176 (through dev16-oos), dev17's unseen half 120 → 120 of 146, false accepts unchanged — it
wins only the odd line it was written for."""
_EN_MEDICINE_BEFORE: Final = re.compile(
    r"\b(?:pills?|tablets?|medicines?|medication|meds|ones|inhalers?|prescriptions?|boxes|box|packets?|capsules?"
    r"|drops|patches|amlodipine|metformin)\b"
)
_ZH_THIRD: Final = re.compile(
    r"老爷子|老两口|小两口|老姐姐|老哥|他家|她家|他们家|人家|别人|家里人|家人"
    r"|[你您]们?家?的?(?:妈|爸|爹|娘|闺女|儿子|女儿|老伴|爱人|孩子|老公|老婆|媳妇|奶奶|爷爷|姥姥|姥爷|外婆|外公|哥|姐|弟|妹|孙子|孙女|家)"
)
"""Person words beside the distress lexicon's (pronouns and titles; 老爷子, 老两口 …), and "your"
someone (你妈, 您老伴: said to a person in the room, about a third person, not to the assistant)."""
_EN_ASKS_US: Final = re.compile(
    r"(?<![a-z])((can|could|would|will|do|did|have|should) you|you (can|could|should|have|did|sent)|please|let me"
    r"|for me|remind me|tell me|me (a|an|the|some)|you are|are you|you)(?![a-z])"
)
_EN_FILLER: Final = (
    r"((oh|um|er|erm|well|so|now|right|okay|ok|yes|no|jiayi|hello|hi|love|dear|pet|and|just) )*"
)
_EN_IMPERATIVE: Final = re.compile(
    rf"^{_EN_FILLER}(call|ring|phone|dial|get|give|book|order|reorder|tell|ask|make|put|send|contact|message"
    r"|arrange|fetch|find|let|remind|cancel|stop|say|speak|talk|turn|check|note|record|see|help)(?![a-z])"
)
_EN_QUESTION: Final = re.compile(
    rf"^{_EN_FILLER}(what|why|how|which|who|where|when|whose|is|are|was|were|do|does|did|can|could|should|would"
    r"|will|has|have|had|may|might|must)(?![a-z])(?! not(?![a-z]))"
    r"|(?<![a-z])(is not it|are not they|is not he|is not she|do not they|does not it|does not he|does not she"
    r"|did not they|did not he|did not she|have not they|has not he|has not she|would not it|will not it"
    r"|can not they|is it|are they|do they|does it)$"
)
"""An English question: opens with a question word or an auxiliary (not "don't …", "can't complain"),
or ends with a question tag."""
_ZH_ASKS_US: Final = re.compile(
    r"你|您|帮|请|麻烦|替|能不能|可不可以|可以|要不要|好不好|行不行|好吗|行吗|让我|给我(?!的)"
    r"|(?<![他她])给(他|她)们?(打|拨|挂)(?!了|过(?!去))"
)
"""Asked of the assistant; 给她打过去 in the middle of a sentence is a call asked for."""
_ZH_IMPERATIVE: Final = re.compile(
    r"^(家医|嗯|呃|哎|喂|那个|就是|快|赶紧|就)*(给|打|叫|把|联系|订|约|预约|让|问问|告诉|拨|找|取消|停|再说|大声|小声|开大|调|想|要)"
)
_ZH_QUESTION: Final = re.compile(
    r"(?<!没)(?<!没有)(?<!不)(什么|啥)(?!事|都|也)|怎么(治|办|回事|预防|引起)|为什么|为啥|多少|(?<![好没这那前])几(天|个|次|岁|年|种|回)(?!没|都|不)"
    r"|哪(个|种|些|里|儿)(?!都)|区别|原因|是不是真的|真的(能|会|有|管用|可以)|好还是|靠谱|管用吗|有用吗|一般来说|一般(几|多)|(?<!好)多久|多长时间|会不会"
)
"""A Mandarin question about something in general: a question word used as one (没啥事, 好几天,
哪儿都挺好, 吃啥都没味 — 啥都 / 什么也 is "whatever", "everything" — are statements) or "in general". A bare 吗 does not count: subjects are dropped, so
早上起来就牙疼是不是上火了 (folded to …是上火了吗) is the speaker wondering about their own symptom."""


_EN_GENERIC_YOU: Final = re.compile(
    rf"^{_EN_FILLER}((why|how|when|where|what|how (much|many|long|often|far))( \w+){{0,3}} )?"
    r"(can|could|do|does|should|would|will|must|may|might) you"
    r" (get|catch|have|feel|need|shrink|lose|put on|take|drink|eat|sleep|live|tell|know|stop|avoid|prevent|treat|cure"
    r"|keep|mix|die|go|grow|become|develop|inherit|pass)(?![a-z])"
    r"(?! (me|my|us|our|hold|him|her|them|anna|david|the (doctor|surgery|nurse|chemist|gp)|dr|a (doctor|nurse|word|look)"
    r"|an ambulance|someone|somebody|anyone|help|through|in touch|it (again|louder|quieter|up|down)|that again))"
)
"""A question about people in general with "you" as its subject ("can you get shingles twice", "how
long should you keep taking antibiotics"), not a request to the assistant ("can you get my son")."""
_EN_ASKS_NOW: Final = re.compile(
    r"(?<![a-z])((can|could|would|will) you|please|for me|remind me|tell me|let me|i (want|need|would like|'d like)"
    r"|(need|want|have) to (see|ring|call|order|book))(?![a-z])"
)
"""Asked now, in a story of long ago (a generic "you had to pay" is no request)."""
_EN_GENERIC_ONE: Final = re.compile(
    r"(?<![a-z])((give|gives|gave|giving) (everyone|everybody|anyone|anybody|people|you|one) (a |the )?"
    r"|(make|makes|made|making) (everyone|everybody|anyone|anybody|people|you|one) (feel )?"
    r"|enough to (make|give) (you|anyone|anybody|a person|a saint))"
)
_ZH_GENERIC_ONE: Final = re.compile(r"让人|叫人|令人|谁都|谁也|大家都|人人都|够人")
"""A state said of anyone ("gives everyone a headache", 让人头疼, 谁都头疼): an opinion, not a report."""
_EN_LONG_AGO: Final = re.compile(
    r"(?<![a-z])(in my day|in those days|back then|back in the \w+|years ago|long ago|used to|when i was (young|little|small"
    r"|\w+ years|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|a girl|a boy|a child|a lad|at school)"
    r"|when we were (first married|married|young|kids|children|courting|little)|when the children were (small|little|young)"
    r"|during the war|in the war|in the (fifties|sixties|seventies|eighties))(?![a-z])"
)
_ZH_LONG_AGO: Final = re.compile(
    r"(?<!比)(?<!跟)(?<!和)以前|从前|过去那|那时候|那时|那会儿|当年|年轻(时|的时候)|小时候|那年|那些年|刚结婚|\d+几?年代|[五六七八九]几年"
    r"|早些年|早年"
    + (r"|(?:\d+|[一二两三四五六七八九十几好多]+)来?(?:多)?年(?:以)?前" if ZH_YEARS_AGO else "")  # 十来年前
)
"""Long ago (以前, 当年, 小时候; 比以前 compares with now and is not)."""
_ZH_STATE: Final = re.compile(
    r"了|过|着|老是|总是|一直|老(?=[^人年师板伴头太爷])|这(两|几)天|最近|好几天|今天|昨天"
)
"""Aspect and time words of a told state (拉了三天了, 老咳嗽, 这两天)."""
_ZH_TOLD: Final = re.compile(r"说|听说|报道|新闻|电视|广播|报纸|书上|网上|据说|人家|别人|大家|有人")
"""A clause that reports what others say (电视上说，…) is not the speaker telling their own state."""


_EN_WANTS: Final = re.compile(
    r"(?<![a-z])(want|wants|need|needs|would like|like to|wanna|ought|should|must|have to|has to|got to|better|shall)(?![a-z])"
)
_EN_PAST_CALL: Final = re.compile(
    r"(?<![a-z])(?<!not )(?<!never )(rang|phoned|called|rung|used to|would always|would come)(?![a-z])"
    r"|(?<![a-z])(have|has|had) not (spoken|talked|rung|called|phoned)( to each other| to one another)? (since|for)(?![a-z])"
)
_EN_CALL_NOW: Final = re.compile(
    r"(?<![a-z])(?<!used to )(?<!would )(give|call|ring|phone)"
    r" (her|him|them|my|our|the|dr|doctor|anna|david|a (call|ring|bell)|(her|him|them) a (call|ring|bell))(?![a-z])"
)
"""A call asked for in the middle of a sentence ("anna hasn't rung for days, give her a call")."""
_ZH_WANTS: Final = re.compile(r"要|想|得|该|需要|赶紧|快")
_ZH_PAST_CALL: Final = re.compile(
    r"(打|来|通)(过|了)(个|一个|一通|两个|几个)?电话|(来|打)(个|了)?电话(来|过来)|电话(来|打)过|以前|那时候|那会儿|当年|年轻时"
    r"|(?:从|自从)[\u4e00-\u9fff]{1,8}(?:以后|之后|以来)(?:就|都|再)?没(?:有)?(?:再)?(?:说过|说过话|联系过|打过|通过)"
)
"""A call that already happened (the doctor phoned yesterday, 大卫昨晚打电话来) or long ago."""
_EN_SPOKEN: Final = re.compile(
    r"(?<![a-z])(?:(?:have|has|had) (?:already |just |only just )?(?:spoken|talked|been on the phone)"
    r"|already (?:spoke|spoken|talked|rang|called|phoned|rung)|(?:spoke|talked) (?:to|with))(?![a-z])"
)
"""Round 11: a conversation told as done ("I've already spoken to my daughter today", "I talked to
David last night"): news, like :data:`_EN_PAST_CALL`."""
_ZH_SPOKEN: Final = re.compile(
    r"(?:通|打|来)(?:过|了)(?:[一两三四五几\d]+)?(?:回|次|趟|通|个)?电话|给(?:我|俺)(?:打|拨|来)(?:了|过)"
)
"""… 今天已经跟女儿通过两回电话了, 儿子礼拜天给我打了个电话 (someone called her)."""
_ZH_CALLED_ME: Final = re.compile(r"给(?:我|俺)(?:打|拨|来)(?:了|过)")
"""给我打了: the speaker was called; its 给我 is no request to us (:data:`_ZH_ASKS_US`)."""
_EN_DEVICE: Final = (
    r"(?:(?:this|that|the|my|our|your|joan's|anna's) (?:little |new |old |wee |clever |daft |silly |talking )?"
    r"(?:thing|speaker|gadget|machine|box|contraption|device|yoke|robot|computer)(?: on the [a-z]+)?)"
)
_EN_DEVICE_TALK: Final = re.compile(
    rf"(?<![a-z])(?:{_EN_DEVICE} (?:can|could|will|would|is able to|is meant to|is supposed to|rang|called|phoned|booked"
    r"|ordered|reminds|remembers|knows|did|does|has|keeps|went and)|so (?:it|she|this thing) (?:can|could|will)"
    r"|set (?:this|it|the speaker|this thing|the thing|the box) up|(?:number|numbers) (?:in|into|on) (?:this|it|the)"
    r"|(?:by|all by) (?:itself|herself))(?![a-z])"
)
"""Round 11: the device itself talked about ("this thing rang anna all by itself", "anna set this speaker
up so it can call her", "david says this gadget can book the doctor for me"): what it can do or did,
not a request (a request says "can you" / "please": :data:`_EN_ASKS_NOW`)."""
_ZH_DEVICE_TALK: Final = re.compile(
    r"(?:音箱|机器|玩意儿?|东西|盒子|喇叭|小家伙|它)(?:[\u4e00-\u9fff]{0,2}?)(?:能|会|可以|自己|还能|就能)"
    r"|给(?:我|俺)装的|(?:号码|电话)(?:存|输|设)(?:到|进|在)"
)
"""… 安娜给我装的这个音箱，能给她打电话, 大卫说这个小机器能帮我挂号, 这东西前几天自己就给安娜打过去了."""
_EN_READ_OUT: Final = re.compile(
    r"(?<![a-z])(?:it says|says here|it said|(?:the|this|that|your) (?:letter|card|label|leaflet|note|form|text|sign|notice|box)"
    r" (?:says|said)|says the (?:letter|card|label|leaflet|note|box)|what it says|dear (?:mrs|mr|miss|ms|patient|sir|madam))(?![a-z])"
)
"""Round 11: a letter, card or label read out ("it says here please call the surgery to arrange your
review", "dear mrs lee, your prescription is ready"): its imperatives are the writer's, not hers."""
_ZH_READ_OUT: Final = re.compile(
    r"(?:信|卡片|卡|通知|说明书|单子|药盒|盒子|条子|短信|告示|上面|上头|这上头|纸)上?(?:写着|写的|说|讲|印着)"
    r"|尊敬的|亲爱的(?:患者|病人|用户)"
)
"""… 信上写着：请致电社区医院预约年度复查, 尊敬的李女士，您的处方药已可领取."""
_ZH_ASKS_NOW: Final = re.compile(r"你|您|请|麻烦|帮我|给我(?!装|打了|打过)|让我")
"""Asked of the assistant in a Mandarin line that reads something out or talks about the device."""


_EN_RELATIVE: Final = (
    r"mum|mother|mom|mam|dad|father|brother|sister|husband|wife|son|daughter|kids|children|boy|girl|gran|granny"
    r"|grandma|grandad|grandpa|nan|nana|nanna|auntie|aunt|uncle|cousin|boss|friend|pal|mate|partner|fella"
    r"|other half|in laws|family|teacher|wee one|little one|sister in law|brother in law|father in law|mother in law"
)
_EN_YOUR_PERSON: Final = re.compile(rf"(?<![a-z])your ({_EN_RELATIVE})(?![a-z])")
_ZH_YOUR_PERSON: Final = re.compile(
    r"[你您]们?家?的?(?:妈|爸|爹|娘|闺女|儿子|女儿|老伴|爱人|孩子|老公|老婆|媳妇|奶奶|爷爷|姥姥|姥爷|外婆|外公|哥|姐|弟|妹"
    r"|孙子|孙女|舅|姨|姑|叔|伯|婶|老师|领导|同学|朋友)"
)
"""The listener's relative ("ring your brother", 给你哥打个电话): the assistant has none, so the one
spoken to is a person in the room and nothing is asked of us."""
_EN_HOW_IT_WORKS: Final = re.compile(
    rf"^{_EN_FILLER}(how|why) (do|does|did|is|are|can|could|would|will|on earth do|on earth does)"
    r" (?!(i|you|we|me|my (head|chest|leg|legs|arm|arms|back|tummy|stomach|heart|knee|knees|feet|foot|eyes|ears|hands))(?![a-z]))"
    r"([a-z]+ ){1,6}(know|knows|work|works|manage|decide|decides|measure|measures|tell|find|get|make|keep|go|put|choose)(?![a-z])"
)
"""A question about how something works or why people do things ("how does the pharmacy know when my
prescription is due", "how do they make the tablets so tiny"): asks for nothing, whoever's things it
names ("how do I ring David", "why does my chest hurt" are not this shape)."""
_ZH_HOW_IT_WORKS: Final = re.compile(
    r"^(?!.*我)(?:[一-鿿]{1,8}?)(?:是)?怎么(?:知道|分得清|分清|测|算|弄出来|做出来|穿过|传|工作|运作|找到|认出)"
    r"|(?<![我])(?:是)?怎么(?:知道|分得清|测出来|算出来)(?:我|谁|是谁)"
)
"""药房怎么知道我的药该续了, 电话怎么知道是谁打来的, 手指上夹的东西怎么测血氧: how things work."""


def _medicine_pronoun(text: str, span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    """ "they" / "them" with a medicine word before it and no other person word before it."""
    start, end = span
    if text[start:end] not in ("they", "them") or not _EN_MEDICINE_BEFORE.search(text[:start]):
        return False
    return not any(b <= start and text[a:b] not in ("they", "them") for a, b in spans)


class Speaker:
    """Whether an utterance is the speaker's own request (English or Mandarin)."""

    def __init__(self, lang: str, lexicon: DistressLexicon, names: Iterable[str] = ()) -> None:
        self.lang = lang
        self._first = lexicon.first_person
        self._others = [p for p in (lexicon.others_near, lexicon.others_far) if p is not None]
        self._doctor = _DOCTOR.get(lang, set())
        words = sorted({n for n in names if n}, key=len, reverse=True)
        self._names = (
            None
            if not words
            else re.compile(
                "|".join(re.escape(w) for w in words)
                if lang == "zh"
                else r"(?<![a-z])(?:" + "|".join(re.escape(w) for w in words) + r")(?![a-z])"
            )
        )

    def listeners_relative(self, text: str) -> bool:
        """ "your brother", 你哥: said to a person in the room (:data:`_EN_YOUR_PERSON`)."""
        return (_EN_YOUR_PERSON if self.lang == "en" else _ZH_YOUR_PERSON).search(text) is not None

    def how_it_works(self, text: str) -> bool:
        """A question about how something works (:data:`_EN_HOW_IT_WORKS`), not asked of us."""
        if self.lang == "en":
            return _EN_HOW_IT_WORKS.search(text) is not None and _EN_ASKS_NOW.search(text) is None
        return _ZH_HOW_IT_WORKS.search(text) is not None and not _ZH_ASKS_US.search(text)

    def _person_spans(self, text: str, names: bool = False) -> list[tuple[int, int]]:
        spans = [
            m.span()
            for pattern in self._others
            for m in pattern.finditer(text)
            if m.group() not in self._doctor and not any(d in m.group() for d in self._doctor)
        ]
        spans += [m.span() for m in (_EN_THIRD if self.lang == "en" else _ZH_THIRD).finditer(text)]
        if names and self._names is not None:
            spans += [m.span() for m in self._names.finditer(text)]
        if self.lang == "en":
            spans = [(a, b) for a, b in spans if text[a:b] != "them" or not _EN_THINGS.search(text[:a])]
            if MEDICINE_PRONOUN_EN:
                spans = [span for span in spans if not _medicine_pronoun(text, span, spans)]
        return spans

    def involved(self, text: str) -> bool:
        """The speaker takes part: themselves, the assistant addressed, or a request verb first."""
        people = self._person_spans(text)
        if self.lang == "en":
            if _EN_ASKS_US.search(text) or _EN_IMPERATIVE.search(text) or _EN_CALL_NOW.search(text):
                return True
            if POLITE_ASKS_EN and _EN_POLITE_ASK.search(text):
                return True
        elif _ZH_IMPERATIVE.search(text) or any(
            not any(start <= m.start() < end for start, end in people) for m in _ZH_ASKS_US.finditer(text)
        ):
            return True  # 你妈身体还好吧: "your mother", not the assistant addressed
        if self._first is None:
            return False
        for m in self._first.finditer(text):
            if self.lang == "en" and m.group() in ("my", "our"):
                rest = m.end() + 1
                if any(start == rest for start, _ in people):
                    continue  # "my neighbour": the owner of someone else
            if self.lang == "zh" and any(start <= m.start() < end for start, end in people):
                continue  # 我妹妹, 我爸 are listed whole
            if self.lang == "zh" and any(start == m.end() for start, _ in people):
                continue  # 我老伴, 俺儿子: someone else
            return True
        return False

    def names_a_third_person(self, text: str) -> bool:
        """Someone is named who is not the listener's own ("ask my sister to ring me", 叫我妹妹给我回个电话;
        not "tell your dad to call me", 让你爸给我回个电话)."""
        for start, end in self._person_spans(text):
            word = text[start:end]
            if word.startswith(("你", "您")) or text[:start].endswith(("your ", "你", "您")):
                continue
            return True
        return False

    def generic_you(self, text: str) -> bool:
        """ "You" or "one" meaning anyone, so a state named is nobody's own: an English question with
        "you" as its subject and no first-person word ("can you get shingles twice", "how long should
        you keep antibiotics"), or a state said of people in general ("it gives everyone a headache",
        这天气谁都头疼, 那人真让人头疼)."""
        if (_EN_GENERIC_ONE if self.lang == "en" else _ZH_GENERIC_ONE).search(text):
            return True
        return (
            self.lang == "en"
            and _EN_GENERIC_YOU.search(text) is not None
            and (self._first is None or self._first.search(text) is None)
        )

    def reminiscing(self, text: str) -> bool:
        """Told about long ago ("in my day the doctor came to the house", 以前大夫背着药箱上门看病):
        asks for nothing now, unless it also asks (…, so ring my son)."""
        if self.lang == "en":
            return _EN_LONG_AGO.search(text) is not None and not (
                _EN_ASKS_NOW.search(text) or _EN_IMPERATIVE.search(text) or _EN_CALL_NOW.search(text)
            )
        return _ZH_LONG_AGO.search(text) is not None and not (
            _ZH_ASKS_US.search(text) or _ZH_IMPERATIVE.search(text)
        )

    def someone_else(self, text: str, spare: frozenset[str] = frozenset(), names: bool = False) -> bool:
        """Another person (not one of the ``spare`` words, e.g. the callee of a call; with ``names`` also
        a contact by name: "anna's got a terrible cough", 安娜咳嗽得厉害) is talked about and the speaker
        takes no part."""
        people = [text[a:b] for a, b in self._person_spans(text, names)]
        if not any(p not in spare and not any(w in p for w in spare) for p in people):
            return False
        return not self.involved(text)

    def general_question(self, text: str) -> bool:
        """A question in which the speaker takes no part (about health in general)."""
        pattern = _EN_QUESTION if self.lang == "en" else _ZH_QUESTION
        if pattern.search(text) is None or self.involved(text):
            return False
        return not (self.lang == "zh" and self._states_own(text))

    def _states_own(self, text: str) -> bool:
        """Mandarin drops the subject: words before the question that tell a state of things
        (拉肚子拉了三天了怎么办, 这两天老咳嗽是怎么回事) and name nobody else are the speaker telling
        their own, not a question about health in general (感冒一般几天能好)."""
        m = _ZH_QUESTION.search(text)
        told = text[: m.start()] if m else ""
        return (
            len(told) >= 4
            and _ZH_STATE.search(told) is not None
            and _ZH_TOLD.search(told) is None
            and not self._person_spans(told)
        )

    def requested(self, text: str) -> bool:
        """Asked of the assistant: addressed, an imperative, or the speaker wanting it."""
        if self.lang == "en":
            return bool(
                _EN_ASKS_US.search(text)
                or _EN_IMPERATIVE.search(text)
                or _EN_WANTS.search(text)
                or _EN_CALL_NOW.search(text)
            )
        return bool(_ZH_ASKS_US.search(text) or _ZH_IMPERATIVE.search(text) or _ZH_WANTS.search(text))

    def past_call(self, text: str) -> bool:
        """A call told as something that happened ("the doctor phoned yesterday", 大卫昨晚打电话来;
        with ``SPOKEN_CALLS`` also "I've already spoken to my daughter", 通过两回电话, 给我打了个电话),
        not asked for."""
        if self.lang == "en":
            told = _EN_PAST_CALL.search(text) or (SPOKEN_CALLS and _EN_SPOKEN.search(text))
            return bool(told) and not self.requested(text)
        told = (
            _ZH_PAST_CALL.search(text)
            or (SPOKEN_CALLS and _ZH_SPOKEN.search(text))
            or (ZH_CALL_LENGTH and _ZH_CALL_LENGTH.search(text))
        )
        return bool(told) and not self.requested(_ZH_CALLED_ME.sub("", text) if SPOKEN_CALLS else text)

    def not_asked(self, text: str) -> bool:
        """With ``TALK_NOT_ASKED``: the device talked about (what it can do or did) or a letter read
        out, and nothing asked of the assistant (``_EN_ASKS_NOW`` / ``_ZH_ASKS_NOW``)."""
        if not TALK_NOT_ASKED:
            return False
        if self.lang == "en":
            if _EN_READ_OUT.search(text):  # the letter's "please" is the writer's
                text = re.sub(r"(?<![a-z])please(?![a-z])", "", text)
            elif not _EN_DEVICE_TALK.search(text):
                return False
            return _EN_ASKS_NOW.search(text) is None and _EN_IMPERATIVE.search(text) is None
        told = _ZH_DEVICE_TALK.search(text) or _ZH_READ_OUT.search(text)
        # what the device can do is its own clause: 这个小机器能帮我挂号 asks nothing of us
        rest = re.sub(rf"(?:{_ZH_DEVICE_TALK.pattern})[^，。,？?！!]*", "", text)
        if _ZH_READ_OUT.search(text):
            rest = rest.replace("请", "")  # the letter's 请 is the writer's
        return bool(told) and _ZH_ASKS_NOW.search(rest) is None
