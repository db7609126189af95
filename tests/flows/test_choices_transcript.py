"""Choices answered in words, as a transcript in English and Swahili: labels, synonyms, loose spelling, several
kinds of work in one message, a word that fits two options (asked, never guessed), and re-prompts that say what
is expected and end with the way out."""

from __future__ import annotations

from dataclasses import replace

from bot.core import i18n
from flows import router
from flows.base import Ctx
from flows.effects import EraseMyData, RegisterMember
from tests.helpers.transcript import MEMBER, NOW, Chat, Script, classify, play

# Up to the question about the kind of work.
ENGLISH_TO_WORK: Script = [
    ("Hi", ["may we keep your details?"]),
    ("yes i agree", ["What is your full name?"]),
    ("Amina Wanjiku", ["Which county do you live in?"]),
    ("Nairobi", ["What kind of gig work do you do?"]),
]
SWAHILI_TO_WORK: Script = [
    ("Habari", ["tunaomba ruhusa"]),
    ("Ndiyo", ["Jina lako kamili ni nani?"]),
    ("Baraka Otieno", ["Unaishi kaunti gani?"]),
    ("Kakuma", ["Unafanya kazi gani ya gig?"]),
]


def registered(chat: Chat) -> RegisterMember:
    """The one registration of the chat."""
    [effect] = chat.of(RegisterMember)
    assert isinstance(effect, RegisterMember)
    return effect


def test_english_sign_up_answered_in_words_with_synonyms_and_typos():
    chat = play(Chat(), [
        *ENGLISH_TO_WORK,
        ("transcription and delivery", ["The law treats these as sensitive data"]),
        ("yes", ["What is your gender?"]),
        ("femail", ["Are you a refugee or from a host community?"]),
        ("host comunity", ["Please check your details:", "3. Work: Transcription, Ride-hailing or delivery",
                           "4. Gender: Woman", "5. Community: Host community"]),
        ("yes", ["You are now a member"]),
    ])
    member = registered(chat)
    assert member.work_kinds == ("transcription", "ride_delivery")
    assert (member.gender, member.community) == ("woman", "host")


def test_swahili_sign_up_answered_in_words():
    chat = play(Chat(), [
        *SWAHILI_TO_WORK,
        ("boda boda", ["Sheria inaziona hizi kuwa taarifa nyeti"]),
        ("ndiyo", ["Jinsia yako ni ipi?"]),
        ("mwanamke", ["Wewe ni mkimbizi"]),
        ("mkimbizi", ["Tafadhali hakikisha taarifa zako:", "4. Jinsia: Mwanamke", "5. Jamii: Mkimbizi"]),
        ("kaunti", ["Unaishi kaunti gani?"]),
        ("Turkana", ["Tafadhali hakikisha taarifa zako:", "2. Kaunti: Turkana"]),
        ("NDIYO", ["Sasa wewe ni mwanachama"]),
    ])
    member = registered(chat)
    assert (member.work_kinds, member.gender, member.community) == (("ride_delivery",), "woman", "refugee")


def test_a_number_and_words_together_choose_several_kinds_of_work():
    chat = play(Chat(), [*ENGLISH_TO_WORK, ("1 and online work", ["sensitive data"]), ("no", ["Please check"])])
    assert chat.state is not None and chat.state.data["work"] == ["transcription", "online_freelancing"]
    chat = play(Chat(), [*SWAHILI_TO_WORK, ("transcription na kuweka lebo", ["taarifa nyeti"])])
    assert chat.state is not None and chat.state.data["work"] == ["transcription", "data_annotation"]


def test_a_word_that_fits_two_options_is_asked_about_never_guessed():
    # "mtandaoni" is in two Swahili labels: online freelancing and the online assistant.
    chat = play(Chat(), [*SWAHILI_TO_WORK, ("mtandaoni", ["Unamaanisha zipi kati ya hizi?",
                                                          "3. Kazi huru mtandaoni", "4. Msaidizi wa mtandaoni",
                                                          "MENU", "MTU"])])
    assert chat.state is not None and chat.state.step == "work" and chat.state.errors == 0
    assert "work" not in chat.state.data
    play(chat, [("4", ["taarifa nyeti"])])
    assert chat.state is not None and chat.state.data["work"] == ["virtual_assistance"]


def test_a_negation_or_an_unknown_word_selects_nothing_and_says_what_was_not_understood():
    chat = play(Chat(), [*ENGLISH_TO_WORK, ("not transcription", [
        "I did not understand \u201cnot transcription\u201d.", "Please reply with numbers from 1 to 7",
        "What kind of gig work do you do?", "(MENU: main menu \u00b7 AGENT: a person)"])])
    assert chat.state is not None and "work" not in chat.state.data
    play(Chat(), [*SWAHILI_TO_WORK, ("kupika", ["Sikuelewa \u201ckupika\u201d.", "Unafanya kazi gani ya gig?",
                                                "MENU", "MTU"])])


def test_consent_reads_words_and_a_question_is_not_consent():
    chat = play(Chat(), [("Hi", ["may we keep your details?"]),
                         ("ok and how much is the fee", ["I did not understand", "Please reply 1 if you are 18",
                                                         "MENU", "AGENT"])])
    assert chat.state is not None and chat.state.step == "consent"
    play(Chat(), [("Habari", ["tunaomba ruhusa"]), ("niko chini ya miaka 18", ["18"])])


def test_the_menu_the_language_and_delete_my_data_take_words():
    play(Chat(lang="en", member=MEMBER), [("menu", ["Main menu"]), ("report a certificat", ["Which course"])])
    play(Chat(lang="sw", member=MEMBER), [("menyu", ["Menyu kuu"]), ("kozi za bure", ["Kozi za bure"])])
    play(Chat(lang="en", member=MEMBER), [("language", ["Choose your language:"]), ("kiswahil", ["Sawa"])])
    chat = play(Chat(lang="sw", member=MEMBER), [("futa taarifa zangu", ["Tufute taarifa zako?"]),
                                                 ("ndiyo futa", ["Taarifa zako binafsi zimefutwa"])])
    assert chat.of(EraseMyData) == [EraseMyData()]


def test_courses_are_chosen_by_title_in_any_language():
    play(Chat(lang="en", member=MEMBER), [("courses", ["Free courses"]), ("kozi 3", ["Course 3", "Reply YES"])])
    play(Chat(lang="sw", member=MEMBER), [("kozi", ["Kozi za bure"]), ("Course 2", ["Kozi 2"]), ("hapana", ["Kozi za bure"])])


ANALYSIS_COURSES = [
    {"id": n, "slug": slug, "url": f"https://example.org/{slug}", "hours": 5.0, "titles": titles,
     "summaries": {"en": "One line.", "sw": "Mstari mmoja."}}
    for n, (slug, titles) in enumerate([
        ("data-analysis", {"en": "Data Analysis", "sw": "Uchambuzi wa data"}),
        ("business-analysis", {"en": "Business Analysis", "sw": "Uchambuzi wa biashara"}),
        ("cybersecurity", {"en": "Cybersecurity", "sw": "Usalama wa mtandao"}),
    ], 1)
]


def test_a_course_word_in_two_titles_is_asked_about_in_english_and_swahili():
    member = replace(MEMBER, facts={"courses": ANALYSIS_COURSES, "enrolments": []})
    play(Chat(lang="en", member=member), [
        ("courses", ["Free courses"]),
        ("analysis", ["Which one do you mean? Reply with its number:", "1. Data Analysis", "2. Business Analysis",
                      "(MENU: main menu \u00b7 AGENT: a person)"]),
        ("business analysis", ["Business Analysis", "Reply YES to enrol"]),
    ])
    chat = play(Chat(lang="sw", member=member), [
        ("kozi", ["Kozi za bure"]),
        ("uchambuzi", ["Unamaanisha ipi kati ya hizi?", "1. Uchambuzi wa data", "2. Uchambuzi wa biashara"]),
        ("usalama wa mtando", ["Usalama wa mtandao"]),
    ])
    assert chat.state is not None and chat.state.data["course_id"] == 3


def test_two_answers_to_a_single_question_are_asked_about():
    chat = play(Chat(), [("Hi", ["may we keep your details?"]),
                         ("no I am under 18", ["Which one do you mean?", "2. No", "3. I am under 18"])])
    assert chat.state is not None and chat.state.step == "consent" and not chat.effects


def test_a_reply_that_offers_a_list_holds_it_as_its_own_part():
    chat = Chat()
    play(chat, ENGLISH_TO_WORK[:-1])
    ctx = Ctx(member=chat.member, lang="en", now=NOW, translate=i18n.translate)
    result = router.handle(ctx, chat.state, classify("Nairobi"))
    [reply] = result.replies
    assert reply.choices is not None and reply.choices.multiple
    assert reply.choices.ids == ("transcription", "data_annotation", "online_freelancing", "virtual_assistance",
                                 "ride_delivery", "content_creation", "other")
    assert [o.number for o in reply.choices.options] == [1, 2, 3, 4, 5, 6, 7]
    assert reply.lines[reply.choices_at] == reply.choices.lines()[0] and reply.parts()[1] is reply.choices


def test_a_tapped_button_with_an_option_s_id_chooses_it():
    chat = Chat()
    play(chat, ENGLISH_TO_WORK)
    ctx = Ctx(member=chat.member, lang="en", now=NOW, translate=i18n.translate)
    tapped = replace(classify("Content creation and more"), button="content_creation")
    result = router.handle(ctx, chat.state, tapped)
    assert result.state is not None and result.state.data["work"] == ["content_creation"]
