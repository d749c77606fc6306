"""The understanding stage as the product builds it (pipeline.build_understander): distress first,
exact catalog phrases, the learned model, polarity, slots people use without being told."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from test_matcher import _settings as matcher_settings

from assistant.ops.settings import Contact, Medication, Settings
from assistant.pipeline import build_understander
from assistant.understanding.model import IntentModel, cache_dir, data_hash


def _settings(lang: str, state: Path) -> Settings:
    """The matcher tests' household plus a mother, a grandson and a water pill."""
    base = matcher_settings(lang)
    return dataclasses.replace(
        base,
        contacts=(*base.contacts, Contact("Joan", "mother", phone="+15550103"), Contact("Tom", "grandson")),
        medications=(*base.medications, Medication("furosemide", times=(dt.time(9),))),
        state_dir=str(state),
    )


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="module")
def en(state: Path):
    return build_understander(_settings("en", state), "en")


@pytest.fixture(scope="module")
def zh(state: Path):
    return build_understander(_settings("zh", state), "zh")


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        ("could you ring my mum for me", "call_contact", {"contact": "Joan"}),
        ("get my grandson on the phone", "call_contact", {"contact": "Tom"}),
        ("I'd love a chat with my girl", "call_contact", {"contact": "Anna"}),
        ("I've nearly run out of my water pills", "reorder_medication", {"medication": "furosemide"}),
        ("can you order some more of my sugar tablets", "reorder_medication", {"medication": "metformin"}),
        (
            "my knee hurts when I climb the stairs",
            "report_symptom",
            {"symptom": "knee_pain", "body_part": "knee"},
        ),
        ("there's a rash on my arm", "report_symptom", None),
        ("I've got a sharp pain in my lower stomach", "report_symptom", None),
    ],
)
def test_english_slots_people_use_without_being_told(en, text: str, intent: str, slots: dict | None) -> None:
    u = en.match(text)
    assert u.intent == intent, (text, u)
    if slots is not None:
        assert u.slots == slots, (text, u)
    assert 0.0 <= u.confidence <= 1.0


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        ("给我妈打个电话", "call_contact", {"contact": "Joan"}),
        ("帮我叫孙子给我回个电话", "call_contact", {"contact": "Tom"}),
        ("将压药吃完了", "reorder_medication", {"medication": "amlodipine"}),
        ("我拉肚子", "report_symptom", None),
        ("我头晕眼花", "report_symptom", None),
    ],
)
def test_mandarin_slots_people_use_without_being_told(zh, text: str, intent: str, slots: dict | None) -> None:
    u = zh.match(text)
    assert u.intent == intent, (text, u)
    if slots is not None:
        assert u.slots == slots, (text, u)


@pytest.mark.parametrize(
    ("lang", "text", "intent", "slots"),
    [
        # medicine words in everyday forms (round 7): "the blood pressure ones", 血压那个药
        (
            "en",
            "can you order more of the blood pressure ones",
            "reorder_medication",
            {"medication": "amlodipine"},
        ),
        ("en", "i've had the sugar one with my porridge", "medication_taken", {"medication": "metformin"}),
        ("zh", "血压那个药快吃完了", "reorder_medication", {"medication": "amlodipine"}),
        ("en", "ring our lass for me", "call_contact", {"contact": "Anna"}),
        # hesitations and polite hedges ask nothing; reasons are not negations
        (
            "en",
            "um, er, i don't want to be a nuisance but could you ring david",
            "call_contact",
            {"contact": "David"},
        ),
        ("en", "i haven't heard from david all week, call him", "call_contact", {"contact": "David"}),
        ("en", "my knee won't stop hurting", "report_symptom", None),
        # round 9: kinds of wording a new writer's dev set (dev12) missed
        ("en", "i'm after taking my metformin", "medication_taken", {"medication": "metformin"}),
        ("en", "phone david, that's a good girl", "call_contact", {"contact": "David"}),
        (
            "en",
            "the tablets i take for my sugar are running out",
            "reorder_medication",
            {"medication": "metformin"},
        ),
        ("en", "i'm not happy with my leg, ring the doctor", "call_doctor", None),
        ("en", "swallowed them with my cocoa", "medication_taken", {}),
        ("en", "that's the evening lot taken", "medication_taken", {}),
        ("zh", "我啥也不想吃", "report_symptom", None),
        ("zh", "老是觉得冷，穿多少都冷", "report_symptom", None),
        ("zh", "上楼梯气有点短", "report_symptom", {"symptom": "breathless"}),
        ("zh", "吃啥都没味，不想吃饭", "report_symptom", None),
        ("zh", "我不想麻烦你，可是能帮我给女儿打个电话吗", "call_contact", {"contact": "Anna"}),
        ("zh", "我不太舒服，你给医生打个电话", "call_doctor", None),
        # an animal that is unwell is not a symptom
        ("en", "the cat has been coughing all night", None, None),
        ("zh", "我家狗今天拉肚子了", None, None),
    ],
)
def test_older_peoples_wording_round7(
    en, zh, lang: str, text: str, intent: str | None, slots: dict | None
) -> None:
    u = (en if lang == "en" else zh).match(text)
    assert u.intent == intent, (text, u)
    if slots is not None:
        assert u.slots == slots, (text, u)


def test_medicine_word_variants_and_hedges() -> None:
    from assistant.understanding.normalize import normalize, strip_hedges
    from assistant.understanding.slots import medicine_word_variants

    assert "blood pressure ones" in medicine_word_variants("blood pressure pills", "en")
    assert "血压那个药" in medicine_word_variants("血压的药", "zh")
    assert medicine_word_variants("amlodipine", "en") == () and medicine_word_variants("药", "zh") == ()
    hedged = normalize("Um, I hope I'm not bothering you, could you ring Anna", "en")
    assert strip_hedges(hedged, "en") == "could you ring anna"
    assert strip_hedges("不好意思帮我给安娜打个电话", "zh") == "帮我给安娜打个电话"
    assert strip_hedges("嗯", "zh") == "嗯"  # a hedge alone stays: 嗯 is a yes
    assert strip_hedges("i do not want to call anna", "en") == "i do not want to call anna"  # a real no stays
    # round 9: endearments ("there's a good girl") are no daughter to call; the purpose after the noun
    assert strip_hedges(normalize("Ring David, there's a good girl", "en"), "en") == "ring david"
    assert strip_hedges(normalize("be an angel and phone my son", "en"), "en") == "phone my son"
    assert strip_hedges("my girl is a good girl", "en") == "my girl is a good girl"  # only as a tag
    assert (
        strip_hedges("you are a good girl coming to see me", "en") == "you are a good girl coming to see me"
    )
    assert "tablets for my blood pressure" in medicine_word_variants("blood pressure pills", "en")
    assert "pills i take for my sugar" in medicine_word_variants("sugar tablets", "en")


def test_irish_english_perfect_is_a_perfect() -> None:
    """ "I'm after taking my tablets" = "I have just taken my tablets" (not "I want")."""
    from assistant.understanding.normalize import normalize

    assert normalize("I'm after taking my amlodipine", "en") == "i have just taken my amlodipine"
    assert normalize("she's after running out of milk", "en") == "she has just run out of milk"
    assert normalize("what are you after", "en") == "what are you after"
    assert normalize("i'm after a new kettle", "en") == "i am after a new kettle"


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("no need to call Anna", "call_contact"),
        ("I'm not dizzy", "report_symptom"),
        ("don't order anything", "reorder_medication"),
        ("don't call the doctor", "call_doctor"),
        ("I haven't taken my pills yet", "medication_taken"),
        ("I've still got plenty of my blood pressure pills", "reorder_medication"),
    ],
)
def test_english_negated_requests_never_act(en, text: str, forbidden: str) -> None:
    assert en.match(text).intent != forbidden


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [("我今天不需要吃药", "reorder_medication"), ("别给医生打电话", "call_doctor"), ("我还没吃药", "medication_taken"),
     ("不用给女儿打电话", "call_contact"), ("不必麻烦陈医生了", "call_doctor"), ("我忘记吃药了", "medication_taken"),
     ("用不着预约", "book_appointment"), ("药还多着呢，犯不着订", "reorder_medication")],
)  # fmt: skip
def test_mandarin_negated_requests_never_act(zh, text: str, forbidden: str) -> None:
    assert zh.match(text).intent != forbidden


@pytest.mark.parametrize(
    ("lang", "text", "intent"),
    [
        ("en", "no, not David, phone Anna", "call_contact"),
        ("en", "the chemist never delivered, please order my tablets", "reorder_medication"),
        ("en", "I haven't forgotten, I took my tablets at eight", "medication_taken"),
        ("zh", "不是儿子，你给闺女打", "call_contact"),
        ("zh", "药一粒都不剩了，帮我订点", "reorder_medication"),
        ("zh", "我不太舒服，帮我叫医生", "call_doctor"),
    ],
)
def test_requests_that_only_contain_a_negation_act(en, zh, lang: str, text: str, intent: str) -> None:
    """Round 9: the negation is in another clause, so neither the rules nor the model's negated class
    (nor a leading "no") stops the request."""
    assert {"en": en, "zh": zh}[lang].match(text).intent == intent


@pytest.mark.parametrize(
    ("lang", "text", "forbidden"),
    [
        ("en", "nah, leave it, I'll phone Anna myself", "call_contact"),
        ("en", "scrap the order for my tablets", "reorder_medication"),
        ("en", "phone Anna, no wait, don't", "call_contact"),
        ("en", "no, I don't need an ambulance, I'm up now", "emergency"),
        ("zh", "算了，先不给安娜打了", "call_contact"),
        ("zh", "我浑身上下都不疼", "report_symptom"),
        ("zh", "不用，我不需要救护车", "emergency"),
    ],
)
def test_declined_deferred_and_retracted_requests_never_act(
    en, zh, lang: str, text: str, forbidden: str
) -> None:
    assert {"en": en, "zh": zh}[lang].match(text).intent != forbidden


def test_a_declined_ambulance_never_hides_a_standing_emergency(en, zh) -> None:
    """Fail-closed: help declined in one clause, a danger still standing in another."""
    assert en.match("don't call an ambulance, I've fallen and I can't get up").intent == "emergency"
    assert zh.match("别叫救护车，我摔倒了起不来").intent == "emergency"


@pytest.mark.parametrize(
    ("text", "intent"),
    [("给陈一生打个电话", "call_doctor"), ("降压要快吃完了", "reorder_medication"), ("几点中了", "time_query"),
     ("声音不大，俺听不清", "volume_up"), ("我是不是已经吃过药了", "medication_query"), ("我吃过药了", "medication_taken")],
)  # fmt: skip
def test_mandarin_recogniser_homophones_and_complaints(zh, text: str, intent: str) -> None:
    assert zh.match(text).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [("我今天吃没吃药", "medication_query"), ("你吃没吃药啊", "medication_query"),  # A-not-A keeps the question
     ("我脚麻了好几天了", "report_symptom"), ("坐久了腿麻了", None),  # a numb limb alone is not a stroke
     ("我的手突然麻了", "emergency"), ("我左边胳膊麻了", "emergency")],
)  # fmt: skip
def test_mandarin_questions_and_numbness(zh, text: str, intent: str | None) -> None:
    assert zh.match(text).intent == intent


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [("二甲双胍快吃完了，帮我订一盒", "reorder_medication", {"medication": "metformin"}),  # generic name across languages
     ("糖尿病的药帮我再开点", "reorder_medication", {"medication": "metformin"}),  # what it is for
     ("降压片剩得不多了", "reorder_medication", {"medication": "amlodipine"}),
     ("阿拉囡囡的电话帮我拨一只", "call_contact", {"contact": "Anna"}),  # regional relation words
     ("俺家娃咋还不来，你给他打个电话", "call_contact", {"contact": "David"}),  # 还不来 is no negation
     ("你打给她吧", None, None),  # 打给 (da gei) is not 大卫 (da wei) one letter off
     ("俺那儿子你给他打个电话", "call_contact", {"contact": "David"})],  # 俺那 (an na) is not 安娜
)  # fmt: skip
def test_mandarin_regional_slot_words(zh, text: str, intent: str | None, slots: dict | None) -> None:
    u = zh.match(text)
    if intent is not None:
        assert u.intent == intent, (text, u)
    if intent is None:
        assert "contact" not in u.slots, (text, u)
    if slots is not None:
        assert u.slots == slots, (text, u)


def test_mandarin_repeated_no_is_not_a_question() -> None:
    from assistant.understanding.normalize import normalize

    assert normalize("不用不用", "zh") == "不用不用"  # a repeated no, not A-not-A
    assert normalize("没有没有", "zh") == "没有没有"
    assert normalize("不不不", "zh") == "不不不"
    assert normalize("吃没吃药", "zh") == "吃药吗"  # a real A-not-A question still folds
    assert normalize("他躺着一动不动", "zh") == "他躺着一动不动"  # 一A不A: motionless, no question
    assert normalize("她动不动就头晕", "zh") == "她动不动就头晕"  # 动不动就: "at the slightest thing"


def test_emergencies_and_their_other_senses(en, zh) -> None:
    for text in ("help!", "help me", "I've slipped in the shower", "I swallowed a whole strip of tablets"):
        assert en.match(text).intent == "emergency", text
    for text in (
        "thanks for the help",
        "he fell asleep during the film",
        "the grandchildren are back from their trip",
    ):
        assert en.match(text).intent != "emergency", text
    assert en.match("how do I get help when I fall?").intent in ("capabilities", None)
    assert zh.match("救命").intent == "emergency" and zh.match("快来人").intent == "emergency"
    for text in ("气死我了", "累死了", "我没摔倒"):
        assert zh.match(text).intent != "emergency", text
    u = en.match("I can't breathe")
    assert u.tier == "emergency" and u.slots == {"danger": "cant_breathe"} and u.confidence <= 1.0


def test_rejected_results_report_confidence_in_unit_range(en, zh) -> None:
    for matcher, text in ((en, "what's the weather like tomorrow"), (en, "play some music"), (zh, "放首歌")):
        u = matcher.match(text)
        assert u.intent is None and u.slots == {} and u.tier is None
        assert 0.0 <= u.confidence <= 1.0 and 0.0 <= u.margin <= 1.0


def test_exact_catalog_phrases_still_win(en) -> None:
    u = en.match("call my daughter")
    assert (u.intent, u.slots, u.confidence) == ("call_contact", {"contact": "Anna"}, 1.0)
    assert en.match("good morning").intent is None  # a reject pattern: out of scope


def test_model_is_cached_in_the_state_dir_by_data_hash(en, state: Path) -> None:
    path = cache_dir(str(state)) / f"intent-en-{data_hash('en')}.bin"
    assert path.exists()
    model = IntentModel.load(path)
    assert "__oos__" in model.classes and "emergency" in model.classes
    probs = model.predict(["call", "#contact"])
    assert abs(sum(p for _, p in probs.ranked) - 1.0) < 1e-6
    assert probs.ranked[0][0] == "call_contact"


def test_broken_cached_model_is_rebuilt(state: Path) -> None:
    from assistant.understanding import model as model_mod

    path = cache_dir(str(state)) / f"intent-zh-{data_hash('zh')}.bin"
    settings = _settings("zh", state)
    build_understander(settings, "zh")
    path.write_bytes(b"garbage")
    model_mod._MODELS.clear()
    fresh = build_understander(dataclasses.replace(settings), "zh")
    assert fresh.match("给女儿打电话").slots == {"contact": "Anna"}
    assert IntentModel.load(path).classes  # rewritten


# Sentences written for these tests (not from any corpus or test set): the whole stage, fail-closed.
STAGE_EMERGENCIES = {
    "en": [
        "I've gone and fallen in the kitchen",
        "I'm lying on the bathroom floor",
        "my legs just gave way",
        "I've come over all faint",
        "there's blood everywhere",
        "I cut my hand and it won't stop",
        "my face feels funny on one side",
        "I can't lift my arm",
        "I've taken all my sleeping pills",
        "I don't want to live any more",
        "I feel like I'm having a heart attack",
        "the pain in my chest is terrible",
        "I can hardly breathe",
        "I'm choking",
        "please send an ambulance",
        "I need an ambulance now",
        "get help quickly",
        "my husband's collapsed on the floor",
        "he's not breathing",
        "I think I've broken my hip",
        "I had a fall and I can't get up",
        "I'm on the floor and can't reach the phone",
        "I took double my tablets and feel awful",
        "I've overdone my pills",
        "emergency",
        "help help help",
        "I'm bleeding from my head",
        "I banged my head and I feel dizzy",
        "I feel terrible, my chest is crushing",
        "I can't stand up",
        "my wife's fallen down the stairs",
        "I'm trapped",
        "something's wrong I can't speak properly",
        "my arm and leg have gone numb",
        "I need help now",
        "quick I've fallen over in the garden",
        "I slipped on the ice outside and can't move",
        "help me I can't get up",
        "my chest feels so heavy and I'm sweating",
        "I think my heart is stopping",
        "there's something badly wrong with me, call someone",
        "I can't feel my left side",
        "my words are coming out all jumbled",
        "I keep passing out",
        "I'm going to pass out",
        "I swallowed a bottle of paracetamol",
        "I want to kill myself",
        "the kettle burnt me really badly",
        "I've scalded myself",
        "the kitchen's on fire",
        "I smell gas",
        "my husband's fitting",
        "my wife won't wake up",
        "I'm bleeding and it won't stop",
        "I've been stung and I can't breathe",
        "I can't catch my breath at all",
        "I've cut my wrist",
        "get me a doctor quickly I'm in agony",
        "call nine nine nine",
        "ring for an ambulance please",
        "help I'm stuck on the floor",
    ],
    "zh": [
        "我摔了一跤爬不起来",
        "我倒在厕所里了",
        "我心口疼得厉害",
        "我透不过气来",
        "我半边身子动不了",
        "我说话说不清楚了",
        "我老伴晕过去了",
        "快叫救护车",
        "我流了好多血",
        "我把安眠药都吃了",
        "我不想活了",
        "快来人啊",
        "救救我",
        "我喘不上气了快帮我",
        "我好像中风了",
        "我从床上摔下来了",
        "他没气了",
        "我头晕倒在地上了",
        "我心脏病犯了",
        "我被噎住了",
        "我摔倒了手机够不着",
        "快打一二零我老伴不行了",
        "我刚才晕过去了",
        "心口像压了块石头",
        "我手脚发麻说不出话",
        "我吃了一整瓶药",
        "救命啊有人吗",
        "我喘不过气快帮帮我",
        "我被开水烫伤了很严重",
        "厨房着火了",
        "我流血流得止不住",
        "我老伴抽风了",
        "我从楼梯上滚下来了",
        "我不想活了活着没意思",
        "我脸歪了嘴也歪了",
    ],
}
STAGE_HARMLESS = {
    "en": [
        "I helped my neighbour with her shopping",
        "the leaves are falling early this year",
        "my grandson fell off his bike last summer but he's fine",
        "I watched a film where someone had a stroke",
        "my heart sank when I saw the bill",
        "I nearly died laughing",
        "I'm dying for a cup of tea",
        "she's bleeding me dry with those prices",
        "he collapsed into the armchair after dinner",
        "the vase fell off the shelf",
        "I used to be a nurse in casualty",
        "what should I do if I have a fall at night",
        "is it bad if my chest hurts after coughing",
        "the ambulance went past our house",
        "my friend had a heart attack last year",
        "I fell for that trick again",
        "we took a trip to the seaside",
        "thank you for all your help",
        "can you help me find the remote",
        "I don't need an ambulance",
        "there's no blood",
        "I haven't fallen",
        "the stroke of midnight",
        "my brother died of a stroke in 1990",
        "the book is about a man who falls",
        "I'm not in any pain",
        "help yourself to biscuits",
        "I got a fright, my heart was pounding, but I'm fine now",
        "the chair collapsed under me but I'm okay",
        "the shares collapsed",
        "I get chest pain when I walk up hills",
        "I was a bit short of breath after gardening",
        "my heart's racing after that scary film",
        "I fainted once years ago at church",
        "is a stroke dangerous",
        "you gave me such a fright",
        "I fell about laughing",
        "the baby choked on his milk yesterday but he's fine",
        "call me when the shopping arrives",
        "help me remember the name of that actor",
        "can you help me with my shopping list",
        "I'm not bleeding any more",
        "nobody fell",
        "no I didn't fall I sat down",
        "my mother had a stroke when I was a girl",
        "there was a fire drill at the day centre",
        "the firemen came to put out a chimney fire down the road",
        "I broke my wrist years ago",
        "she cut her finger chopping onions last week",
        "what's the number for an ambulance",
        "he blacked out on the news",
        "they said on the radio there was a pile-up",
        "I could murder a cup of tea",
        "my back is killing me",
        "I'm dead tired",
    ],
    "zh": [
        "谢谢你的帮助",
        "他看电视睡着了",
        "我哥几年前中过风",
        "孙子们旅游回来了",
        "我胸口现在不疼了",
        "电视上讲心脏病的节目",
        "气死我了",
        "累死了",
        "股票又跌了",
        "树叶都掉了",
        "他笑得喘不过气",
        "我没摔倒",
        "如果我摔倒了怎么叫人",
        "别叫救护车",
        "我吃药了",
        "邻居去年摔了一跤现在好了",
        "碗摔碎了",
        "我晕车",
        "笑死我了",
        "救命稻草",
        "我昨天摔了一跤但是没事",
        "新闻说有个老人摔倒了",
        "我哥哥心脏不好",
        "我吓了一跳心跳得好快",
        "跑了几步就有点喘",
        "爬楼梯的时候有点喘",
        "我的心都碎了",
        "你能告诉我急救电话是多少吗",
        "去年我中风住过院现在好了",
        "我没流血",
        "他演的是一个中风的老人",
        "我孙子在玩摔跤游戏",
        "晚上吃得太饱了撑死了",
        "这天热死人了",
        "我救了一只小猫",
        "女儿带我去急救培训课",
        "要是我晕倒了你会怎么办",
        "我的老伴去年心梗走了",
        "我不想吃饭",
        "那个人倒在地上的视频",
    ],
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_stage_calls_emergencies_and_only_emergencies(en, zh, lang: str) -> None:
    stage = en if lang == "en" else zh
    missed = [t for t in STAGE_EMERGENCIES[lang] if stage.match(t).intent != "emergency"]
    alarms = [t for t in STAGE_HARMLESS[lang] if stage.match(t).intent == "emergency"]
    assert not missed and not alarms, (missed, alarms)


@pytest.mark.parametrize(
    ("lang", "text", "forbidden"),
    [
        ("en", "turn the telly up a bit, it's the snooker", "volume_up"),
        ("en", "could you put the radio down a touch", "volume_down"),
        ("en", "cancel the paper round for next week", "cancel"),
        ("en", "ring the chinese and order a number twenty seven", "call_contact"),
        ("en", "order some worming tablets for the dog", "reorder_medication"),
        ("en", "book the dog in at the groomers for friday", "book_appointment"),
        ("en", "what time is it over in canada", "time_query"),
        ("en", "i'm gasping for a cup of tea", "emergency"),
        ("zh", "把电视声音开大点", "volume_up"),
        ("zh", "给物业打电话问问暖气", "call_contact"),
        ("zh", "给狗买盒治皮肤的药", "reorder_medication"),
        ("zh", "约个师傅来修洗衣机", "book_appointment"),
        ("zh", "晚安啦", "call_contact"),
        ("zh", "英国现在几点", "time_query"),
    ],
)
def test_smart_speaker_requests_are_not_our_intents(en, zh, lang: str, text: str, forbidden: str) -> None:
    """Out of scope with the domain's words (issue 10): the TV's volume, a subscription, a business,
    a pet's medicine, a service booking, the time elsewhere, a cuppa."""
    assert {"en": en, "zh": zh}[lang].match(text).intent != forbidden


@pytest.mark.parametrize(
    ("lang", "text", "intent", "slots"),
    [
        ("en", "speak up, i can't hear you over the telly", "volume_up", {}),
        ("en", "order my blood pressure pills", "reorder_medication", {"medication": "amlodipine"}),
        ("en", "call my daughter", "call_contact", {"contact": "Anna"}),
        ("en", "what's the time", "time_query", {}),
        ("zh", "你说话大点声", "volume_up", {}),
        ("zh", "给女儿打个电话", "call_contact", {"contact": "Anna"}),
        ("zh", "现在几点了", "time_query", {}),
        ("zh", "帮我再订点降压药", "reorder_medication", {"medication": "amlodipine"}),
    ],
)
def test_near_out_of_scope_requests_that_are_ours_still_work(
    en, zh, lang: str, text: str, intent: str, slots: dict
) -> None:
    got = {"en": en, "zh": zh}[lang].match(text)
    assert got.intent == intent
    assert {k: v for k, v in got.slots.items() if k in slots} == slots


def test_a_model_in_the_shared_cache_is_used_instead_of_training(tmp_path: Path, monkeypatch) -> None:
    from assistant.understanding import model as model_mod

    shared = tmp_path / "shared"
    monkeypatch.setenv(model_mod.SHARED_CACHE_ENV, str(shared))
    first = cache_dir(str(tmp_path / "a")) / f"intent-en-{data_hash('en')}.bin"
    model_mod._MODELS.clear()
    model_mod.load_or_build("en", str(tmp_path / "a"))
    assert first.exists() and (shared / first.name).exists()  # trained, then shared
    trained: list[str] = []
    monkeypatch.setattr(model_mod, "_train_in_child", lambda lang, *_: trained.append(lang))
    model_mod._MODELS.clear()
    model = model_mod.load_or_build("en", str(tmp_path / "b"))
    assert trained == [] and "emergency" in model.classes
    assert (cache_dir(str(tmp_path / "b")) / first.name).exists()  # copied into the new state dir


@pytest.mark.parametrize(
    ("lang", "text", "intent"),
    [
        # round 10 (oos13): a plan for later or on a condition asks for nothing now …
        ("en", "if the swelling hasn't gone down by friday i'll get you to ring the surgery", None),
        ("en", "once anna's back from spain i might give her a ring", None),
        ("en", "we can phone the doctor later if it doesn't settle", None),
        ("zh", "如果晚上还不退烧，我就叫医生", None),
        ("zh", "等闺女出差回来了再给她打电话", None),
        ("zh", "过两天再给大卫打吧", None),
        # … a polite condition, a fallback or "now" still asks
        ("en", "if you don't mind, ring anna for me", "call_contact"),
        ("en", "when you're ready, call the doctor please", "call_doctor"),
        ("zh", "要是方便的话，就给我女儿打个电话", "call_contact"),
        ("zh", "万一药店关门了，你现在就帮我订降糖药", "reorder_medication"),
        # the listener's relative: a person in the room is asked
        ("en", "tom, could you phone your mum tonight about the party", None),
        ("zh", "小涛，你晚上给你妈打个电话", None),
        # a contact's own complaint, how things work, a medicine named with no order
        ("en", "david's had a nasty cold all week", None),
        ("zh", "我女儿这几天一直咳嗽，班都没上", None),
        ("en", "how does the chemist know which tablets are mine", None),
        ("zh", "药店是怎么知道我该拿药了", None),
        ("en", "my water pills are called furosemide, what a mouthful", None),
        ("en", "i've nearly run out of my water pills", "reorder_medication"),
    ],
)
def test_plans_relatives_and_talk_about_things_ask_for_nothing(request, lang: str, text: str, intent) -> None:
    u = request.getfixturevalue(lang)
    assert u.match(text).intent == intent, text


@pytest.mark.parametrize(
    ("lang", "text", "contact"),
    [
        ("en", "phone my daughter no my son", "David"),
        ("en", "ring david sorry i mean anna", "Anna"),
        ("en", "get my son uh actually my daughter on the phone", "Anna"),
        ("en", "call anna not david", "Anna"),
        ("zh", "给我女儿打 不对 给我儿子打", "David"),
    ],
)
def test_a_self_correction_names_the_one_meant(en, zh, lang: str, text: str, contact: str) -> None:
    """Recogniser-style self-corrections (round 10): after "no", "sorry", "I mean", 不对, 说错了 the
    later name is the one meant, unless "not" / 不是 stands right before it."""
    got = {"en": en, "zh": zh}[lang].match(text)
    assert got.intent == "call_contact", (text, got)
    assert got.slots.get("contact") == contact, (text, got)
