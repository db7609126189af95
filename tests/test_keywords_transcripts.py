"""Pure transcripts of the words members type (no database), in English and Swahili: ACHA cancels or asks
before stopping, the words of the language review reach the right place, no word means two things, menu
numbers stay put when someone joins, HELP and every re-prompt name the way out, and the corrected Swahili."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime

import pytest
from babel.messages.pofile import read_po

from bot.core import i18n
from flows import router
from flows.base import Ctx, Effect, MemberView, Settings, State
from flows.counties import match_county
from flows.effects import Enrol, OpenTicket, OptOut, SetLanguage
from flows.vocabulary import GLOBAL_KEYWORDS, INTENTS
from tests.helpers.transcript import COURSES, classify

Script = list[tuple[str, list[str]]]
MEMBER = MemberView(is_member=True, status="active", name="Amina", member_number="KUGWO-000001",
                    facts={"courses": COURSES, "enrolments": []})
PROSPECT = MemberView(facts={"courses": COURSES, "enrolments": []})


def converse(script: Script, lang: str, member: MemberView = MEMBER, settings: Settings | None = None,
             first_contact: bool = False) -> list[Effect]:
    """Play a member's messages through the router; check each reply; return every effect."""
    effects: list[Effect] = []
    state: State | None = None
    for says, expected in script:
        ctx = Ctx(member=member, lang=lang, now=datetime(2026, 12, 3, 9), settings=settings or Settings(),
                  first_contact=first_contact and state is None)
        result = router.handle(ctx, state, classify(says, False))
        reply = "\n".join(text for r in result.replies
                          for text in i18n.render_reply(lang, r, {"ticket": 7, "member_number": "KUGWO-000001"}))
        for fragment in expected:
            assert fragment in reply, f"after {says!r}: expected {fragment!r} in {reply!r}"
        effects += result.effects
        state = result.state
    return effects


# --- ACHA: cancels a flow, asks at the menu; the STOP words stop at once ---------------------------------

@pytest.mark.parametrize(("lang", "script"), [
    ("sw", [("uliza swali", ["Ungependa kujua nini?"]), ("acha", ["Tumesitisha.", "Menyu kuu"])]),
    ("sw", [("kozi", ["Kozi za bure za Microsoft"]), ("1", ["Kozi 1"]), ("wacha", ["Tumesitisha."])]),
    ("en", [("ask a question", ["What would you like to know?"]), ("acha", ["Stopped. Nothing more was saved."])]),
    ("en", [("courses", ["Free courses by Microsoft"]), ("enough", ["Stopped.", "Main menu"])]),
])
def test_acha_inside_a_flow_cancels_the_flow_and_stops_no_messages(lang, script):
    assert not any(isinstance(e, OptOut) for e in converse(script, lang))


SWAHILI_ACHA_AT_THE_MENU: Script = [
    ("menu", ["Menyu kuu"]),
    ("acha", ["Tusimamishe jumbe zetu zote? Jibu NDIYO kuzisimamisha, au HAPANA kuendelea kuzipokea."]),
    ("hapana", ["Menyu kuu"]),
    ("Acha!", ["Tusimamishe jumbe zetu zote?"]),
    ("ndiyo", ["Hutapokea ujumbe wowote kutoka kwetu tena."]),
]
ENGLISH_ACHA_AT_THE_MENU: Script = [
    ("menu", ["Main menu"]),
    ("acha", ["Stop all messages from us? Reply YES to stop them, or NO to keep them."]),
    ("nah", ["Main menu"]),
    ("enough", ["Stop all messages from us?"]),
    ("yes", ["You will not get any more messages from us."]),
]


@pytest.mark.parametrize(("lang", "script"), [("sw", SWAHILI_ACHA_AT_THE_MENU), ("en", ENGLISH_ACHA_AT_THE_MENU)])
def test_acha_at_the_menu_asks_before_stopping_and_no_keeps_the_messages(lang, script):
    effects = converse(script, lang)
    assert [e for e in effects if isinstance(e, OptOut)] == [OptOut()]  # only the last answer stopped them


@pytest.mark.parametrize("word", ["ACHA UJUMBE", "sitaki ujumbe", "Simamisha", "STOP", "acha jumbe"])
@pytest.mark.parametrize("lang", ["en", "sw"])
@pytest.mark.parametrize("first", [None, "uliza swali"])
def test_the_stop_words_stop_at_once_at_the_menu_and_inside_a_flow(word, lang, first):
    script = [(first, [])] if first else []
    effects = converse([*script, (word, [])], lang)
    assert effects[-1:] == [OptOut()]


# --- the words of the language review reach the right place ----------------------------------------------

WORDS_MEMBERS_TYPE = [
    # (language, what the member types, a fragment of the answer)
    ("sw", "masomo", "Kozi za bure za Microsoft"), ("sw", "kosi", "Kozi za bure za Microsoft"),
    ("en", "training", "Free courses by Microsoft"), ("en", "classes", "Free courses by Microsoft"),
    ("en", "LinkedIn", "Free courses by Microsoft"),
    ("sw", "nimemaliza", "Cheti chako ni cha kozi gani?"), ("sw", "Nimemaliza kozi", "Cheti chako ni cha kozi gani?"),
    ("sw", "setifiketi", "Cheti chako ni cha kozi gani?"), ("en", "I finished", "Which course is your certificate for?"),
    ("sw", "data zangu", "Hizi ndizo taarifa zote"), ("sw", "namba yangu", "Hizi ndizo taarifa zote"),
    ("en", "member number", "This is everything we hold about you"),
    ("sw", "vocha", "Bado hujajiandikisha"), ("sw", "vocha yangu iko wapi", "Bado hujajiandikisha"),
    ("en", "voucher", "You are not enrolled in any course yet"), ("en", "premium", "You are not enrolled"),
]


@pytest.mark.parametrize(("lang", "says", "expected"), WORDS_MEMBERS_TYPE)
def test_the_words_members_type_reach_the_right_place(lang, says, expected):
    converse([(says, [expected])], lang)


@pytest.mark.parametrize("says", ["00", "menu kuu"])
@pytest.mark.parametrize("lang", ["en", "sw"])
def test_00_and_menu_kuu_leave_a_flow_for_the_menu(says, lang):
    converse([("2", []), (says, ["Menyu kuu" if lang == "sw" else "Main menu"])], lang)


@pytest.mark.parametrize("says", ["customer care", "afisa", "ofisi", "Mwandalizi"])
@pytest.mark.parametrize("lang", ["en", "sw"])
def test_asking_for_a_person_in_the_members_words_opens_a_ticket(says, lang):
    effects = converse([(says, ["Mwandalizi atakujibu hapa" if lang == "sw" else "An organiser will answer you"])],
                       lang)
    assert [type(e) for e in effects] == [OpenTicket]


@pytest.mark.parametrize("says", ["je veux parler avec un responsable", "parler avec quelqu'un"])
def test_asking_in_french_to_speak_with_someone_opens_a_ticket(says):
    effects = converse([(says, ["Un responsable du syndicat vous répondra ici"])], "fr")
    assert [type(e) for e in effects] == [OpenTicket]


@pytest.mark.parametrize("says", ["jiunga", "Jisajili", "niandikishe", "usajili"])
def test_the_swahili_words_for_joining_start_the_sign_up(says):
    converse([(says, ["Kabla ya kujiunga, tunaomba ruhusa"])], "sw", member=PROSPECT)


@pytest.mark.parametrize(("says", "code"), [
    ("Kiswahili", "sw"), ("swahili", "sw"), ("English", "en"), ("kiingereza", "en"), ("Kizungu", "en"),
])
@pytest.mark.parametrize("lang", ["en", "sw"])
def test_a_language_name_switches_language_directly_and_returns_to_the_question(says, code, lang):
    asked = "Ungependa kujua nini?" if lang == "sw" else "What would you like to know?"
    effects = converse([("2", [asked]), (says, [asked])], lang)
    assert effects == [SetLanguage(code)]


@pytest.mark.parametrize(("yes_or_no", "enrolled"), [
    ("aya", True), ("ee", True), ("Ehe", True), ("yeah", True), ("yap", True), ("okey", True),
    ("apana", False), ("aa", False), ("nah", False),
])
@pytest.mark.parametrize("lang", ["en", "sw"])
def test_the_yes_and_no_words_answer_a_yes_no_question(yes_or_no, enrolled, lang):
    listed = "Kozi za bure za Microsoft" if lang == "sw" else "Free courses by Microsoft"
    effects = converse([("courses", []), ("1", []), (yes_or_no, [] if enrolled else [listed])], lang)
    assert any(isinstance(e, Enrol) for e in effects) is enrolled


def words_of(lang: str, entries: dict[str, str]) -> dict[str, str]:
    """Each word of one language's catalog entries, with the entry's name."""
    return {word: name for name, entry in entries.items() for word in i18n.split_words(i18n.translate(lang, entry))}


# A word may carry both of these: OK, SAWA, POA are a yes inside a yes/no question and thanks elsewhere.
MAY_SHARE = {frozenset({"yes", "thanks"})}


def clashes() -> dict[str, set[str]]:
    """The words that mean two things (keywords or intents) across every language's catalog."""
    meanings: dict[str, set[str]] = defaultdict(set)
    for lang in i18n.LANGUAGES:
        for word, name in words_of(lang, GLOBAL_KEYWORDS).items():
            meanings[word].add(f"keyword {name}")
        for word, name in words_of(lang, INTENTS).items():
            meanings[word].add(name)
    return {word: names for word, names in meanings.items() if len(names) > 1 and frozenset(names) not in MAY_SHARE}


def test_no_word_means_two_different_things_in_english_and_swahili():
    assert clashes() == {}


def test_the_clash_check_notices_a_swahili_word_that_is_also_an_english_keyword(monkeypatch):
    english = i18n.translate
    swahili_cancel = english("sw", GLOBAL_KEYWORDS["cancel"])
    monkeypatch.setattr(i18n, "translate", lambda lang, message_id: (
        f"{swahili_cancel}|MENU" if lang == "sw" and message_id == GLOBAL_KEYWORDS["cancel"]
        else english(lang, message_id)))
    assert clashes() == {"MENU": {"keyword menu", "keyword cancel"}}


@pytest.mark.parametrize("word", sorted(
    word for lang in i18n.LANGUAGES for word, name in words_of(lang, INTENTS).items()
    if name in {"yes", "no"} and len(word) <= 3))
def test_short_yes_and_no_words_are_not_taken_for_a_county(word):
    assert match_county(word).county is None


# --- the form: menu numbers, HELP, re-prompts, the welcome -----------------------------------------------

def menu_lines(member: MemberView, lang: str) -> dict[str, str]:
    """The menu as this reader sees it: each label with its number."""
    ctx = Ctx(member=member, lang=lang, now=datetime(2026, 12, 3, 9))
    text = "\n".join(i18n.render_reply(lang, router.menu(ctx).replies[0]))
    return {label: number for number, label in re.findall(r"^(\d+)\. (.+)$", text, re.M)}


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_menu_numbers_do_not_change_when_someone_joins(lang):
    before, after = menu_lines(PROSPECT, lang), menu_lines(MEMBER, lang)
    shared = before.keys() & after.keys()
    assert len(shared) == 5  # courses, a question, my data, language, the privacy notice
    assert {label: before[label] for label in shared} == {label: after[label] for label in shared}


@pytest.mark.parametrize("member", [PROSPECT, MEMBER])
@pytest.mark.parametrize(("number", "en", "sw"), [
    ("1", "Free courses by Microsoft", "Kozi za bure za Microsoft"), ("2", "What would you like to know?",
                                                                  "Ungependa kujua nini?"),
    ("3", "This is everything we hold about you", "Hizi ndizo taarifa zote"), ("4", "Choose your language", "Chagua lugha"),
])
def test_the_shared_menu_numbers_start_the_same_thing_for_prospects_and_members(member, number, en, sw):
    converse([("menu", []), (number, [en])], "en", member=member)
    converse([("menu", []), (number, [sw])], "sw", member=member)


ENGLISH_HELP = ["MENU: the main menu", "CANCEL: stop what you are doing", "COURSES: the free courses",
                "CERTIFICATE: report a course you finished",
                "MY DATA: what we keep about you; CHANGE MY DETAILS: correct it", "DELETE MY DATA: erase it", "AGENT: a person answers you here", "CALL ME: a person calls you",
                "STOP: no more messages from us"]
SWAHILI_HELP = ["MENU: menyu kuu", "SITISHA: kusitisha unachofanya sasa", "KOZI: kozi za bure",
                "CHETI: tuma cheti cha kozi uliyomaliza", "TAARIFA ZANGU: tunachohifadhi kukuhusu",
                "FUTA TAARIFA ZANGU: kuzifuta", "MTU: mtu akujibu hapa", "NIPIGIE: mtu akupigie simu",
                "ACHA UJUMBE: usipokee ujumbe wetu tena"]


@pytest.mark.parametrize(("lang", "expected"), [("en", ENGLISH_HELP), ("sw", SWAHILI_HELP)])
def test_help_lists_every_keyword_and_a_person_with_no_help_contact(lang, expected):
    converse([("help", expected)], lang, settings=Settings(help_contact=""))


def test_swahili_help_never_offers_acha_for_cancelling():
    ctx = Ctx(member=MEMBER, lang="sw", now=datetime(2026, 12, 3, 9))
    text = "\n".join(i18n.render_reply("sw", router.help_reply(ctx)))
    assert not re.search(r"^ACHA:|\bacha\b", text, re.M)


@pytest.mark.parametrize(("lang", "script"), [
    ("en", [("language", ["Choose your language"]),
            ("Dothraki", ["Please reply with the number of your language, or its name.",
                          "(MENU: main menu · AGENT: a person)"])]),
    ("sw", [("lugha", ["Chagua lugha"]),
            ("Kidothraki", ["Tafadhali jibu", "(MENU: menyu kuu · MTU: ongea na mtu)"])]),
    ("en", [("courses", []), ("1", []), ("maybe later", ["Reply YES to enrol", "(MENU: main menu · AGENT: a person)"])]),
    ("sw", [("kozi", []), ("1", []), ("labda", ["Jibu NDIYO kujiandikisha", "(MENU: menyu kuu · MTU: ongea na mtu)"])]),
])
def test_every_re_prompt_ends_with_the_way_out(lang, script):
    converse(script, lang)


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_three_misses_offer_agent_to_reach_a_person(lang):
    expected = ("Una shida? Tuma MENU upate menyu kuu, au MTU uongee na mtu." if lang == "sw"
                else "Having trouble? Send MENU for the main menu, or AGENT to reach a person.")
    converse([("language", []), ("x", []), ("y", []), ("z", [expected])], lang)


ENGLISH_SIGN_UP: Script = [
    ("Hi", ["may we keep your details?"]), ("1", ["What is your full name?"]),
    ("Amina Wanjiku", ["Which county"]), ("Nairobi", ["What kind of gig work"]), ("2", ["May we ask them?"]), ("yes", ["What is your gender?"]),
    ("skip", ["refugee"]), ("skip", ["Please check your details:"]),
    ("yes", ["Your member number is KUGWO-000001. Keep it safe.",
             "Next: send MENU for the main menu, or COURSES for the free courses."]),
]
SWAHILI_SIGN_UP: Script = [
    ("Habari", ["tunaomba ruhusa"]), ("ndiyo", ["Jina lako kamili ni nani?"]),
    ("Baraka Otieno", ["Unaishi kaunti gani?"]), ("Kakuma", ["Unafanya kazi gani ya gig?"]),
    ("5", ["Tunaweza kukuuliza?"]), ("ndiyo", ["Jinsia yako ni ipi?", "3. Singependa kusema"]), ("ruka", ["mkimbizi"]),
    ("ruka", ["3. Kazi: Usafiri kwa apu (Uber, Bolt) au delivery"]),
    ("NDIO", ["Ihifadhi vizuri.", "Sasa: tuma MENU upate menyu kuu, au KOZI uone kozi za bure."]),
]


@pytest.mark.parametrize(("lang", "script"), [("en", ENGLISH_SIGN_UP), ("sw", SWAHILI_SIGN_UP)])
def test_the_welcome_after_joining_says_what_to_send_next(lang, script):
    converse(script, lang, member=MemberView(), first_contact=True)


# --- the Swahili corrections, in every catalog -------------------------------------------------------------

# Wrong forms the review found, and where each is still right (the keyword lists members type).
WRONG_SWAHILI = {
    r"\b[Nn]amba\b": "nambari (row 7)",
    r"\bMWANZO\b": "MENU (row 5)",
    r"\b[Mm]wandaaji\b": "mwandalizi",
    r"\bNDIO\b": "NDIYO (row 6)",
    r"\bhaijatolewa\b": "hakuna jibu (row 4)",
    r"\bau chache\b": "zisizozidi (row 13)",
    r"\bUnukuzi\b": "Transcription (row 10)",
    r"\bmajaribio mafupi\b": "mitihani mifupi (row 16)",
    r"\bfaili (?:la|hali)": "faili ya / haikupatikana (row 18)",
    r"\b(?:Hii inafuta|Tunabaki|kinaongezwa)\b": "future tense (rows 20-21)",
    r"\btoleo la tangazo\b": "maelezo ya ruhusa (row 22)",
    r"\bFoleni\b|\byametumwa\b": "Kwenye foleni, zimetumwa (row 24)",
    r"\bMSAADA uongee\b": "MTU (row 1)",
}


def swahili_messages() -> list[tuple[str, str, str]]:
    """Every Swahili msgstr that members or staff read (not the '|' keyword lists): (file, msgid, msgstr)."""
    found = []
    for path in sorted((i18n.LOCALES_DIR / "sw" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle):
                if message.id and isinstance(message.id, str) and "|" not in message.id:
                    found.append((path.name, message.id, message.string))
    return found


@pytest.mark.parametrize("pattern", sorted(WRONG_SWAHILI))
def test_no_swahili_message_keeps_a_form_the_review_corrected(pattern):
    wrong = [(name, text) for name, _, text in swahili_messages() if re.search(pattern, text)]
    assert wrong == [], f"use {WRONG_SWAHILI[pattern]}"


@pytest.mark.parametrize(("msgid", "expected"), [
    ("My data", "Taarifa zangu"),
    ("not given", "hakuna jibu"),
    ("CANCEL: stop what you are doing", "SITISHA: kusitisha unachofanya sasa"),
    ("What is your gender? (This helps the union count women in gig work.)", "Jinsia yako ni ipi?"),
    ("Prefer not to say", "Singependa kusema"),
    ("Ride-hailing or delivery", "Usafiri kwa apu (Uber, Bolt) au delivery"),
    ("whether to delete your data", "kama ungependa tufute taarifa zako"),
    ("the file could not be read", "faili haisomeki"),
])
def test_swahili_corrections_read_as_the_review_proposed(msgid, expected):
    assert expected in i18n.translate("sw", msgid)
