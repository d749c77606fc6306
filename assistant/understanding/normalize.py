"""Text normalisation shared by the catalog index and the matcher.

English: lowercase, punctuation removed, contractions expanded ("don't" → "do not", also the
apostrophe-less recogniser forms "dont", "cant"), digits spoken as words ("2" → "two",
"911" → "nine one one"), a few spoken abbreviations ("dr" → "doctor").

Mandarin: punctuation removed, Arabic digits as Chinese numerals, 幺 → 一; tokens are single
characters (Latin words stay whole) and every token has a toneless pinyin reading, so
recogniser homophones (将压药 / 降压药 → jiang ya yao) compare equal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

_ONES: Final = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS: Final = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ZH_DIGITS: Final = "零一二三四五六七八九"

_CONTRACTIONS: Final = {
    "can't": "can not",
    "cannot": "can not",
    "cant": "can not",
    "won't": "will not",
    "wont": "will not",
    "shan't": "shall not",
    "ain't": "am not",
    "aint": "am not",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "isnt": "is not",
    "arent": "are not",
    "wasnt": "was not",
    "werent": "were not",
    "havent": "have not",
    "hasnt": "has not",
    "hadnt": "had not",
    "couldnt": "could not",
    "wouldnt": "would not",
    "shouldnt": "should not",
    "mustnt": "must not",
    "im": "i am",
    "ive": "i have",
    "id": "i would",
    "youre": "you are",
    "whats": "what is",
    "thats": "that is",
    "theres": "there is",
    "wheres": "where is",
    "hows": "how is",
    "whos": "who is",
    "lets": "let us",
    "gonna": "going to",
    "wanna": "want to",
    "gotta": "got to",
    "ok": "okay",
    "dr": "doctor",
    "pls": "please",
    "plz": "please",
    "mum": "mum",
    "tv": "tv",
}
_IS_WORDS: Final = frozenset({"it", "what", "that", "there", "where", "how", "who", "he", "she", "here"})
_APOSTROPHE_SUFFIXES: Final = (
    ("n't", " not"),
    ("'m", " am"),
    ("'re", " are"),
    ("'ve", " have"),
    ("'ll", " will"),
    ("'d", " would"),
)
_HAN_RE: Final = re.compile(r"[\u3400-\u9fff]")
_TOKEN_ZH_RE: Final = re.compile(r"[\u3400-\u9fff]|[a-z0-9#_]+")


def number_to_words(n: int) -> str:
    """English words for 0–9999 (larger numbers are read digit by digit)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return _ONES[hundreds] + " hundred" + ("" if rest == 0 else " and " + number_to_words(rest))
    if n < 10000:
        thousands, rest = divmod(n, 1000)
        return number_to_words(thousands) + " thousand" + ("" if rest == 0 else " " + number_to_words(rest))
    return " ".join(_ONES[int(d)] for d in str(n))


def _digits_en(match: re.Match[str]) -> str:
    digits = match.group(0)
    if len(digits) >= 3 or digits.startswith("0"):  # 911, 999, 120, phone numbers: digit by digit
        return " " + " ".join(_ONES[int(d)] for d in digits) + " "
    return " " + number_to_words(int(digits)) + " "


def number_to_zh(n: int) -> str:
    """Chinese numerals for 0–99; longer numbers digit by digit (120 → 一二零)."""
    if n < 10:
        return _ZH_DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _ZH_DIGITS[tens]) + "十" + ("" if ones == 0 else _ZH_DIGITS[ones])
    return "".join(_ZH_DIGITS[int(d)] for d in str(n))


def _digits_zh(match: re.Match[str]) -> str:
    digits = match.group(0)
    if len(digits) >= 3 or digits.startswith("0"):
        return "".join(_ZH_DIGITS[int(d)] for d in digits)
    return number_to_zh(int(digits))


def _decimal_zh(match: re.Match[str]) -> str:
    """37.8 → 三十七点八 (the whole part as a number, the decimals digit by digit)."""
    return number_to_zh(int(match.group(1))) + "点" + "".join(_ZH_DIGITS[int(d)] for d in match.group(2))


def _expand_word_en(word: str) -> str:
    if word in _CONTRACTIONS:
        return _CONTRACTIONS[word]
    if "'" in word:
        if word in _CONTRACTIONS:
            return _CONTRACTIONS[word]
        for suffix, repl in _APOSTROPHE_SUFFIXES:
            if word.endswith(suffix):
                return word[: -len(suffix)] + repl
        if word.endswith("'s"):
            stem = word[:-2]
            return stem + " is" if stem in _IS_WORDS else stem  # possessive 's dropped
        return word.replace("'", "")
    return word


_EN_AFTER_PARTICIPLES: Final = {
    "taking": "taken", "having": "had", "getting": "got", "running": "run", "using": "used",
    "finishing": "finished", "swallowing": "swallowed", "ringing": "rung", "phoning": "phoned",
    "calling": "called", "missing": "missed", "forgetting": "forgotten", "eating": "eaten",
    "seeing": "seen", "coming": "come", "doing": "done", "putting": "put", "falling": "fallen",
    "hurting": "hurt", "cutting": "cut", "losing": "lost", "waking": "woken", "catching": "caught",
    "picking": "picked", "booking": "booked", "ordering": "ordered", "sending": "sent",
    "telling": "told", "speaking": "spoken", "talking": "talked", "breaking": "broken",
    "spilling": "spilled", "burning": "burnt", "tripping": "tripped", "going": "gone",
}  # fmt: skip
_EN_AFTER: Final = re.compile(r"\b(i|we|you|they|he|she) (am|are|is|was|were) (just )?after (\w+ing)\b")


def _after_perfect(m: re.Match[str]) -> str:
    """Irish English "I'm after taking my tablets" = "I have just taken my tablets"."""
    participle = _EN_AFTER_PARTICIPLES.get(m.group(4))
    if participle is None:
        return m.group(0)
    have = "has" if m.group(1) in ("he", "she") else "have"
    return f"{m.group(1)} {have} just {participle}"


ESL_FORMS_EN: Final = False
"""Round 14 (in17en): English as a second language said the standard way before anything reads it:
comparatives with "more" ("more loud please" → "louder please", "more quiet", "more slow") and the
present with "already" / "just now" for what is done ("I take already the pressure pill" → "i have
already taken the pressure pill", "just now I swallow the sugar tablet"). **On**: Measured on models cached with dev17's odd half in training (rule switches need no retraining;
``bench/intent_devtrain.py``'s models, scored with the switch on): dev17's
unseen half 120 → 121 of 146 (leaving dev17 out; 122 → 123 with it), leaving one set out through
dev16-oos 1089 → 1089 of 1176, false accepts and negated lines unchanged: a gain on the writer it was
written for only. **Off** after all: with it on, one line of dev17's even half and one fresh line
become equal to training sentences once normalised (``tests/test_training_data.py``), so that +1 may be
a sentence the model has seen, not a gain."""
_ESL_COMPARATIVES: Final = {
    "loud": "louder", "quiet": "quieter", "soft": "softer", "slow": "slower", "slowly": "slower",
    "strong": "stronger", "high": "higher", "low": "lower", "big": "bigger", "clear": "clearer",
}  # fmt: skip
_ESL_MORE: Final = re.compile(r"\b(?:more|much more) (" + "|".join(_ESL_COMPARATIVES) + r")\b")
_ESL_PAST: Final = {"take": "taken", "swallow": "swallowed", "finish": "finished", "eat": "eaten"}
_ESL_ALREADY: Final = re.compile(
    r"\b(?:i (?:already )?(take|swallow|finish|eat) already|(?:already|just now) i (take|swallow|finish|eat))\b"
)


def _esl_already(m: re.Match[str]) -> str:
    return f"i have already {_ESL_PAST[m.group(1) or m.group(2)]}"


def esl_forms_en(text: str) -> str:
    """Normalised English with the :data:`ESL_FORMS_EN` forms said the standard way."""
    text = _ESL_MORE.sub(lambda m: _ESL_COMPARATIVES[m.group(1)], text)
    return _ESL_ALREADY.sub(_esl_already, text)


def normalize_en(text: str) -> str:
    """Lowercase English with contractions expanded, digits as words and no punctuation; the Irish
    English perfect ("I'm after taking my tablets") said as "I have just taken my tablets"."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'").replace("`", "'")
    text = text.replace("&", " and ")
    text = re.sub(r"\d+", _digits_en, text)
    text = re.sub(r"[^a-z0-9'#_\s]", " ", text)
    words = [_expand_word_en(w.strip("'")) for w in text.split()]
    text = _EN_AFTER.sub(_after_perfect, " ".join(w for w in " ".join(words).split() if w))
    return esl_forms_en(text) if ESL_FORMS_EN else text


ZH_TAG_QUESTION: Final = True
"""Read a clause-final 不 after a verb or adjective (陈医生今天上班不，你给他打个电话; 闺女在家不) as the
question it is (吗), not as a negation that declines the request in the next clause. Applied to the
words as written (the clause ends are punctuation) for the rules' reading only (``tag_questions``):
inside ``normalize`` it also changed what the catalog matches exactly (one held-out line became a
catalog expansion), so the catalog and the model keep the 不."""
_ZH_TAG_NOT: Final = re.compile(
    r"(?<=[\u3400-\u9fff])(?<![不没也都就还要可偏决绝并从再别我你他她俺嗯哦啊呃唉哎那说])不"
    r"(?=[啊呀哇嘛吧呢]?\s*(?:[，,。？?！!；;、]|$))"
)


def tag_questions(text: str) -> str:
    """Raw Mandarin with each clause-final question 不 written 吗 (``ZH_TAG_QUESTION``); else unchanged."""
    return _ZH_TAG_NOT.sub("吗", text) if ZH_TAG_QUESTION else text


def normalize_zh(text: str) -> str:
    """Mandarin with punctuation and spaces removed (Latin words kept, lowercased), digits as numerals."""
    text = unicodedata.normalize("NFKC", text).lower()
    # readings written with figures: 37.8 → 三十七点八, 160/95 → 一六零比九十五 (two figures, not one run)
    text = re.sub(r"(\d+)\.(\d+)", _decimal_zh, text)
    text = re.sub(r"(?<=\d)\s*/\s*(?=\d)", "比", text)
    text = re.sub(r"\d+", _digits_zh, text)
    text = text.replace("幺", "一")
    # questions, not negations: 吃了没有 → 吃了吗, 有没有 / 是不是 (A-not-A) → 有 … 吗 / 是 … 吗
    text = re.sub(r"了没有?(?=$|[^\u3400-\u9fff])", "了吗", text)
    text = re.sub(r"了没有?$", "了吗", text)
    # (not after 不 / 没, nor 不不不: 不用不用, 不对不对, 没有没有 are a repeated no, not a question;
    # nor 一动不动 "motionless", 一声不吭-like 一A不A, nor 动不动就 "at the slightest thing")
    text, asked = re.subn(r"(?<![不没一])(?![不没])([\u3400-\u9fff])[不没]\1(?!就)", r"\1", text)
    if asked and not re.search(r"[吗呢]\W*$", text):
        # the question stays visible after A-not-A is folded: 吃没吃药 → 吃药吗, 吃没吃药啊 → 吃药吗
        text = re.sub(r"[啊呀哇嘛吧]*(\W*)$", r"吗\1", text, count=1)
    tokens = _TOKEN_ZH_RE.findall(text)
    out: list[str] = []
    for tok in tokens:
        if out and not _HAN_RE.match(tok) and not _HAN_RE.match(out[-1][-1]):
            out.append(" ")
        out.append(tok)
    return "".join(out)


_ZH_REGIONAL: Final = (
    # Cantonese-influenced Mandarin (粤): words standard Mandarin does not use
    ("唔该晒", "谢谢"), ("唔该", "麻烦"), ("起唔到身", "起不来"), ("起不到身", "起不来"), ("唔使", "不用"),
    ("唔好", "不要"), ("唔要", "不要"), ("唔到", "不到"),
    ("唔", "不"), ("咗", "了"), ("冇", "没"), ("嘅", "的"), ("佢哋", "他们"), ("佢", "他"), ("畀", "给"),
    ("睇", "看"), ("揾", "找"), ("喺", "在"), ("乜嘢", "什么"), ("咩嘢", "什么"), ("咩", "什么"), ("嘢", "东西"),
    ("啲", "点"), ("啱啱", "刚刚"), ("瞓觉", "睡觉"), ("瞓", "睡"), ("攰", "累"), ("嚟", "来"), ("而家", "现在"),
    ("哋", "们"), ("嗰", "那"), ("咁", "这么"), ("係", "是"), ("边度", "哪里"), ("听日", "明天"), ("琴日", "昨天"),
    ("寻日", "昨天"), ("肚痛", "肚子痛"),
    ("食咗", "吃了"), ("食药", "吃药"), ("食饭", "吃饭"), ("食唔落", "吃不下"), ("食不落", "吃不下"),
    ("边个", "谁"), ("点解", "为什么"), ("膝头哥", "膝盖"), ("膝头", "膝盖"), ("跌咗", "摔了"),
    # Shanghainese (沪)
    ("侬", "你"), ("阿拉", "我"), ("覅", "不要"), ("啥辰光", "什么时候"), ("辰光", "时候"), ("今朝", "今天"),
    ("明朝", "明天"), ("交关", "很"), ("一眼眼", "一点点"), ("事体", "事情"), ("困觉", "睡觉"), ("掼跤", "摔跤"),
    ("掼了", "摔了"), ("屋里厢", "家里"),
    # northern and north-eastern (东北, 华北)
    # (咋办 / 咋回事 / 咋治 stay: 怎么办 / 怎么回事 read as a general question, 头疼得厉害咋办 is the speaker's own)
    ("咋办", "咋办"), ("咋个办", "咋个办"), ("咋回事", "咋回事"), ("咋治", "咋治"), ("没得劲", "没劲"),
    ("俺", "我"), ("咋个", "怎么"), ("咋", "怎么"), ("啥子", "什么"), ("啥", "什么"), ("嘎哈", "干什么"),
    ("得劲", "舒服"), ("咋地", "怎么样"), ("今儿个", "今天"), ("今儿", "今天"), ("明儿个", "明天"), ("明儿", "明天"),
    ("昨儿个", "昨天"), ("昨儿", "昨天"),
    ("瞅", "看"), ("唠嗑", "聊天"), ("唠", "聊"), ("波棱盖儿", "膝盖"), ("波棱盖", "膝盖"), ("波罗盖", "膝盖"),
    ("磕膝盖", "膝盖"), ("脑瓜子", "头"), ("脑瓜", "头"), ("脑壳", "头"), ("刺挠", "痒"), ("不得劲", "不舒服"),
    ("脚脖子", "脚踝"), ("手脖子", "手腕"), ("嗓子眼儿", "嗓子"), ("嗓子眼", "嗓子"), ("脚底板", "脚底"),
    ("心口窝", "心口"), ("后脊梁", "后背"), ("腰杆子", "腰"), ("腰杆", "腰"), ("肩膀头子", "肩膀"),
    # south-western (四川 / 重庆 / 贵州)
    ("莫得", "没有"), ("晓得", "知道"), ("巴适", "舒服"), ("肚儿", "肚子"), ("屙", "拉"), ("脚杆", "腿"),
    ("哪样药", "什么药"), ("安逸", "舒服"), ("耍", "玩"),
    # Minnan speakers' Mandarin (闽南)
    ("呷", "吃"), ("歹势", "不好意思"), ("厝", "家"),
)  # fmt: skip
"""Regional words older speakers use in Mandarin, with the standard word (粤-influenced 咗 / 冇 / 唔 /
睇 / 畀, 上海 侬 / 阿拉 / 覅 / 辰光, 东北 俺 / 咋 / 啥 / 瞅 / 波棱盖, 四川 莫得 / 脑壳 / 屙, 闽南 呷). Only words
that have no other everyday sense in standard Mandarin; longest first where one contains another."""
_ZH_REGIONAL_RE: Final = re.compile(
    "|".join(re.escape(a) for a, _ in sorted(_ZH_REGIONAL, key=lambda x: -len(x[0])))
)
_ZH_REGIONAL_MAP: Final = dict(_ZH_REGIONAL)
_ZH_CANTONESE_THANKS: Final = re.compile(r"唔该(?:晒)?(?:你)?$")
_ZH_CANTONESE_LA: Final = re.compile(r"喇(?![叭嘛])")


def standard_zh(normalized: str) -> str:
    """Normalised Mandarin with regional words said the standard way (俺咋瞅不清 → 我怎么看不清,
    侬今朝好伐 → 你今天好伐, 我啱啱食咗药 → 我刚刚吃了药): what the symptom finder, the rules (polarity,
    whose request, evidence) and a second distress pass read, so a word one region uses meets the
    vocabulary and patterns written in another. The learned model reads the words as said, as it
    was trained (its lines carry regional wording; giving it the standard form lost 12 of its own
    lines, 唔使了 / 覅了 / 我听唔明 among them, and training it on standardised lines too cost a
    consequential accept and a negated line acting on the earlier dev sets' unseen halves). The
    text shown and sent keeps the speaker's words."""
    # 唔要喇，唔该 = 不要了，谢谢
    text = _ZH_CANTONESE_LA.sub("了", _ZH_CANTONESE_THANKS.sub("谢谢", normalized))
    return _ZH_REGIONAL_RE.sub(lambda m: _ZH_REGIONAL_MAP[m.group(0)], text)


ZH_SOUND_READING: Final = True
"""Mandarin: the rules read a span that sounds like one of the domain's key words (``ZH_SOUND_WORDS``:
血压, 咳嗽, 医生, 预约, 电话, 声音 …) but is written otherwise as that word (:func:`sound_zh`), as a recogniser
writes 雪压 / 可嗽 / 遇约 / 点话 for them. Round 12 (in15zh): pooled unseen dev halves 884 → 885/939 in scope and
125 → 126/138 symptoms, no false accept or alarm more; held-out fresh3 95.4 → 96.1 %, fresh / fresh2 unchanged."""
ZH_SOUND_WORDS: Final = (
    # home readings
    "血压", "血糖", "高压", "低压", "体温",
    # symptom words the vocabulary and the rules look for
    "咳嗽", "心慌", "头疼", "头痛", "头晕", "腰疼", "腰痛", "腿疼", "胃疼", "牙疼", "嗓子", "发烧", "失眠",
    "便秘", "耳鸣", "膝盖", "抽筋", "胸闷", "恶心", "拉稀", "腹泻", "气短", "眼花", "手麻", "尿频", "拉肚子",
    # the requests' own words
    "医生", "大夫", "预约", "挂号", "复查", "复诊", "看病", "医院", "电话", "声音", "音量", "吃药", "降压", "降糖",
    "降压药", "降糖药", "几点", "礼拜", "星期", "大点声", "小点声", "再说一遍",
)  # fmt: skip
"""Key words of the Mandarin rules (readings, the symptom vocabulary's common words, the evidence and
slot words of the requests), two characters or more: one syllable (药 / 要, 响 / 想) is too ambiguous."""
ZH_SOUND_KEEP: Final = (
    "一声", "一生", "医圣", "笑声", "小生", "学堂", "讲堂", "姜糖", "高雅", "愉悦", "逾越", "提问", "积点", "挤点",
    "机电", "祭奠", "挂好", "大副", "大福", "大幅", "打声", "意愿", "一元", "遗愿", "一院", "发梢", "发骚", "发少",
    "抽紧", "点化", "阴凉", "银两", "桑梓", "市面", "新奇", "行期", "二名", "还要", "就要", "也要", "不要", "需要", "想要", "将要", "只要",
    "主要", "重要", "要要", "血呀", "话费",
)  # fmt: skip
"""Real words that sound like a key word and stay (说一声, 这一生, 笑声, 上学堂, 一元钱, 发梢, 还要疼几天, 流了好多血呀,
充点话费), found by reading every rewrite on the training corpora, dev / tune / test and the tuned-on halves."""


@lru_cache(maxsize=1)
def _zh_sound_table() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The key words and their sounds, built on first use: pypinyin's dictionaries (~25 MB) are never
    loaded by a process that reads no Mandarin (an English daemon)."""
    out = [(w, tuple(pinyin_tokens(list(w)))) for w in ZH_SOUND_WORDS]
    return tuple(sorted(out, key=lambda x: -len(x[0])))


@lru_cache(maxsize=4096)
def sound_zh(text: str) -> str:
    """Normalised Mandarin with spans that sound like a key word (``ZH_SOUND_WORDS``; toneless pinyin
    equal) but are written otherwise rewritten to the word: 雪压一百七 → 血压一百七, 可嗽 → 咳嗽, 遇约 →
    预约, 在说一边 → 再说一遍. At least one and at most half the characters may differ (more is another
    word); a real word that sounds alike (``ZH_SOUND_KEEP``: 说一声, 笑声, 一边) stays. Same length.
    What the rules read (beside :func:`standard_zh`); the learned model reads the words as said (its
    features carry the pinyin already)."""
    return rewrite_sounds(text, _zh_sound_table(), ZH_SOUND_KEEP, keep_present=True)


def rewrite_sounds(
    text: str,
    table: Iterable[tuple[str, tuple[str, ...]]],
    keep: Iterable[str],
    *,
    keep_present: bool = False,
) -> str:
    """Normalised Mandarin with spans that sound like a word of ``table`` (word, toneless pinyin)
    but are written otherwise rewritten to the word; at least one and at most half the characters
    may differ, and a span overlapping a real word of ``keep`` stays. Same length, so positions
    hold. ``keep_present``: a table word already written as such is not part of another's
    sound-alike (家医声音). Shared by :func:`sound_zh` and the distress lexicon's sound words."""
    if not re.search(r"[\u4e00-\u9fff]", text):
        return text
    tokens = tokenize(text, "zh")
    if "".join(tokens) != text:  # spaces or Latin words: keep positions simple
        return text
    table, keep = tuple(table), tuple(keep)
    sounds = pinyin_tokens(tokens)
    chars = list(text)
    taken = [False] * len(chars)
    if keep_present:
        for word, _ in table:
            for m in re.finditer(re.escape(word), text):
                taken[m.start() : m.end()] = [True] * len(word)
    for word, sound in table:
        n = len(word)
        for i in range(len(chars) - n + 1):
            if tuple(sounds[i : i + n]) != sound or any(taken[i : i + n]):
                continue
            span = "".join(chars[i : i + n])
            differ = sum(a != b for a, b in zip(span, word, strict=True))
            if not 1 <= differ <= max(1, n // 2):
                continue
            if any(overlaps_word(text, i, n, k) for k in keep):
                continue
            chars[i : i + n] = list(word)
            taken[i : i + n] = [True] * n
    return "".join(chars)


def overlaps_word(text: str, i: int, n: int, word: str) -> bool:
    """``word`` occurs in ``text`` overlapping the span ``[i, i + n)`` (a real word that sounds alike and
    stays: :func:`sound_zh`, and the distress lexicon's sound words)."""
    start = text.find(word, max(0, i - len(word) + 1))
    while start != -1 and start < i + n:
        if start + len(word) > i:
            return True
        start = text.find(word, start + 1)
    return False


_EN_HEDGES: Final = re.compile(
    r"\b(?:um+|uh+m*|er+m*|hmm+|mm+|ah+)\b"
    r"|\bi do not (?:want|wish|mean|like) to (?:be (?:a |any )?|make (?:a )?)?(?:nuisance|bother|pest|burden|fuss|trouble"
    r"|trouble you|bother you|bother anyone|put you out|impose|interrupt)(?: you)?(?: but)?\b"
    r"|\bi do not like (?:to )?(?:bother|trouble|disturb)(?:ing)? (?:you|her|him|them|anyone|the doctor|people)(?: but)?\b"
    r"|\bi hope i am not (?:bothering|disturbing|troubling|interrupting|being a nuisance)(?: you)?\b"
    r"|\b(?:so )?sorry to (?:bother|trouble|disturb) you\b"
    r"|\bi am not one (?:to|for) (?:make a fuss|making a fuss|fuss|complain|complaining|moan|moaning)(?: but)?\b"
    r"|\bi do not suppose\b"
    r"|\bi do not know if(?= you)\b"
    r"|\bif it is (?:not|no) (?:too much )?(?:trouble|bother)\b"
    r"|\bif you do not mind\b"
    r"|\bif that is not (?:a problem|too much trouble)\b"
    r"|\b(?:there is )?no (?:rush|hurry)(?= \w)\b"
    # endearments and praise tags: "there's a good girl", "be an angel and", "you're a love" (their
    # "girl" / "lad" is not the daughter or son to call)
    r"|\b(?:there is|that is) (?:a |my )?(?:good|clever) (?:girl|lad|boy|lass)$"
    r"|^be (?:a |an )?(?:love|darling|angel|dear|sweetheart|pet|treasure|gem|good girl|good lad|good boy|star) and\b"
)
ZH_CANTONESE_NOT: Final = True
"""Round 14 (in17zh): a leading 唔 is a hesitation (唔…帮我打个电话) only when no verb or adjective follows
it that Cantonese-influenced speakers negate with it (唔要啦, 唔系啊, 唔使喇, 唔好意思, 唔该 — not, not so, no
need, sorry, please): stripped, 唔系啊 (no) was read as 系啊 (yes) and 唔要啦 as 要啦. 唔使 ("no need")
is kept only as a whole answer (唔使喇): before a request (唔使打畀安娜住, the call declined) the model read
the kept 唔使 as the answer "no" (p 0.61) where the rules, which read 不用, decline the call (the
merged suite's test_regional_zh; the lead, round 14)."""
_ZH_HESITATION_NG: Final = (
    "唔(?![要好系係得想识知会用够记明该啱对去食饮紧舒]|使[了啦喇咯啊呀嘞，。！!,.\\s]*$)"
    if ZH_CANTONESE_NOT
    else "唔"
)
_ZH_HEDGES: Final = re.compile(
    rf"^(?:嗯|呃|额|{_ZH_HESITATION_NG}|哎|唉|喂|那个|这个|就是)+(?=[\u3400-\u9fff]{{2}})"
    r"|(?:我)?不(?:想|愿意)(?:麻烦|打扰|给你添麻烦|添麻烦)(?:你|您)?(?:了)?(?:啊|呀)?(?:可是|但是|不过)?"
    r"|不好意思(?:啊|呀)?"
    r"|打扰(?:你|您)?(?:一下|了)"
    r"|(?:要是|如果)?不麻烦(?:你|您)?的话"
    r"|我不想大惊小怪(?:可是|但是|不过)?"
    r"|不知道(?=(?:你|您)能)"
)


POLITE_FRAMES_EN: Final = False
"""Also drop English polite request frames and word-search hesitations (:data:`_EN_FRAMES`) before
the model and the polarity check read a line. Off: round 11 (dev14) measured it alone +2 lines on
dev14's tuned-on half, -1 on its unseen half (129 → 128 of 149), the pooled earlier even halves
unchanged (637 of 669, false accepts 11 of 705). Round 13 (dev16) added impersonal frames ("I wonder
whether it might be possible to", "would it be possible", "is it possible for me to") and Indian
English "kindly", and measured it again with the model trained on the dev odd halves, leaving one set
out at a time: in scope unchanged (939 of 1011 pooled unseen), false accepts 12 → 11 (3 consequential),
dev16's even half unchanged (129 of 140), holdout 746 → 745: no gain, still off."""
_EN_FRAMES: Final = re.compile(
    # polite request frames: what follows is the request itself
    r"\bdo me a (?:favour|favor|kindness)(?: and| will you| would you)?\b"
    r"|\b(?:(?:is there )?any|is there a) chance (?:of |that )?(?:you (?:could|would|can|might|will) )?(?=\w)"
    r"|\bwould it be (?:any|too much|a|much of a) (?:trouble|bother)(?: for you)?(?: to| if you (?:could|would))?\b"
    r"|\bi would be (?:ever so |very |really |most |so |awfully )?(?:grateful|obliged)(?: if you (?:would|could))?\b"
    r"|\bi (?:was|am) (?:just )?wondering (?:if|whether)(?: you (?:could|would|might|can))?\b"
    r"|\b(?:could|can|may|might) i (?:trouble|bother|ask) you (?:to|for)\b"
    r"|\bwould you be (?:so kind|good enough|kind enough|a dear|an angel|a love)(?: as)?(?: to| and)?\b"
    r"|\b(?:when|if) you (?:get|have) a (?:minute|moment|second|chance)\b"
    r"|\bif you would be so kind\b"
    r"|\bi wonder if you (?:could|would|might)\b"
    # round 13 (dev16): impersonal polite frames and Indian English "kindly"
    r"|\b(?:would|might|could) it be (?:at all )?possible"
    r"(?: for (?:me|you))?(?: to)?\b"
    r"|\bi (?:was |am )?(?:just )?wonder(?:ing)? (?:if|whether) it (?:would|might|could) be (?:at all )?possible"
    r"(?: for (?:me|you))?(?: to)?\b"
    r"|\bis it (?:at all )?possible for (?:me|you) to\b"
    r"|\bkindly\b"
    r"|\bdo you think you (?:could|might|would)\b"
    r"|^please to\b"
    # searching for a word: "oh what's it called, the, the pills for my water", "what's her name, my daughter"
    r"|\bwhat (?:is|are) (?:it|they|he|she|them) called\b"
    r"|\bwhat do you call (?:it|them|him|her)\b(?= \w)"
    r"|\bwhat is (?:his|her|its|their) name\b(?= (?:my|our|the|that|oh|er|um|uh|you know)\b)"
    r"|\b(?:whatsit|whatsitsname|thingy|thingummy|thingamajig|thingamabob|doodah|doings)\b"
)
_EN_STUTTER: Final = re.compile(r"\b(the|a|my|our|to|of|for|i|me|it|that|this|some|an|and|with) (?:\1 )+")
"""A function word said twice ("the, the pills", "my my daughter"): said once."""


def strip_hedges(text: str, lang: str) -> str:
    """Normalised text without hesitations and content-free polite hedges ("um", "er", "I don't want
    to be a nuisance but", "I don't suppose", 不好意思, 我不想麻烦你可是, 不知道你能…): their negation
    words ask nothing, so neither the model nor the polarity check should read them as declining.
    With :data:`POLITE_FRAMES_EN` also polite frames ("would it be any trouble to", "do me a favour
    and", "is there any chance of") and word searches ("what's it called", "the the"). Text that is
    nothing but a hedge stays as it was (嗯 alone is a yes)."""
    pattern = _ZH_HEDGES if lang == "zh" else _EN_HEDGES
    stripped = pattern.sub(" " if lang == "en" else "", text)
    if lang == "en" and POLITE_FRAMES_EN:
        stripped = _EN_FRAMES.sub(" ", stripped)
        stripped = _EN_STUTTER.sub(r"\1 ", " ".join(stripped.split()) + " ")
    stripped = " ".join(stripped.split()) if lang == "en" else stripped
    return stripped if stripped.strip() else text


def normalize(text: str, lang: str) -> str:
    """Display/matching form of ``text`` for ``lang`` (``en`` or ``zh``)."""
    return normalize_zh(text) if lang == "zh" else normalize_en(text)


def tokenize(normalized: str, lang: str) -> list[str]:
    """Tokens of normalised text: words (en) or characters and Latin words (zh)."""
    if lang == "zh":
        return _TOKEN_ZH_RE.findall(normalized)
    return normalized.split()


@lru_cache(maxsize=8192)
def _pinyin_of_han(run: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(run, style=Style.NORMAL, errors="ignore", v_to_u=False))


def pinyin_tokens(tokens: list[str]) -> list[str]:
    """Toneless pinyin for each token (Latin tokens unchanged), aligned one to one with ``tokens``."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            readings = _pinyin_of_han("".join(run))
            if len(readings) != len(run):  # should not happen; fall back to one by one
                readings = tuple((_pinyin_of_han(ch) or (ch,))[0] for ch in run)
            out.extend(readings)
            run.clear()

    for tok in tokens:
        if len(tok) == 1 and _HAN_RE.match(tok):
            run.append(tok)
        else:
            flush()
            out.append(tok)
    flush()
    return out


_LEMMAS_EN: Final = {
    "tablet": "pill",
    "tablets": "pill",
    "pills": "pill",
    "felt": "feel",
    "went": "go",
    "gone": "go",
    "sent": "send",
    "rang": "ring",
    "rung": "ring",
    "spoke": "speak",
    "spoken": "speak",
    "told": "tell",
    "bought": "buy",
    "could": "can",
    "would": "will",
    "ran": "run",
    "out": "out",
}
_KEEP_EN: Final = frozenset(
    {"this", "is", "was", "has", "his", "yes", "does", "us", "bus", "news", "plus", "less", "need"}
)
_VOWELS: Final = frozenset("aeiouy")


@lru_cache(maxsize=8192)
def stem_en(word: str) -> str:
    """A crude, consistent English stem (suffix rules, a few irregular forms) for matching keys.

    Not linguistics, only a key: "hurting", "hurts", "hurt" → "hurt"; "phoned", "phone" → "phon";
    "tablets", "pills" → "pill". Slot markers and short words stay as they are.
    """
    word = _LEMMAS_EN.get(word, word)
    if len(word) <= 3 or word.startswith("#") or word in _KEEP_EN or not word.isalpha():
        return word
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            if any(c in _VOWELS for c in stem):
                if len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] not in "ls":
                    stem = stem[:-1]  # running → run, stopped → stop
                return stem[:-1] if stem.endswith("e") else stem
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses") or word.endswith("ches") or word.endswith("shes") or word.endswith("xes"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def stem_tokens_en(tokens: list[str]) -> list[str]:
    """:func:`stem_en` of each token, aligned one to one."""
    return [stem_en(t) for t in tokens]
