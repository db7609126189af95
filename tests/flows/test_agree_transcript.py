"""The notice before anything is stored about a prospect who never agreed to it, as pure transcripts: AGENT, CALL
ME, a question passed to a person and enrolling in a course ask first; YES carries on, NO forgets the person; a
member is never asked, in English and Swahili."""

from __future__ import annotations

from dataclasses import replace

from flows.base import MemberView
from flows.effects import Enrol, ForgetContact, OpenTicket, RecordConsent
from tests.helpers.transcript import COURSES, KNOWLEDGE, MEMBER, Chat, Script, play

PROSPECT = MemberView(facts={"faq": KNOWLEDGE, "open_ticket": None, "courses": COURSES, "enrolments": []})
NOTICE = "Before we go on, may we keep your details?"


def prospect(lang: str) -> Chat:
    """A prospect who has written before (not a first contact) and never agreed to the notice."""
    return Chat(lang=lang, member=PROSPECT, first_contact=False)


AGENT_THEN_YES: Script = [
    ("agent", [NOTICE, "Reply YES if you are 18 or older and agree.", "1. Yes, I am 18 or older and I agree"]),
    ("maybe later", ["Please reply 1 if you are 18 or older and agree", "(MENU: main menu · AGENT: a person)"]),
    ("yes", ["An organiser will answer you here (ticket #7).", "Someone will answer you here soon."]),
    ("my phone was stolen", ["Added to your question for the organisers (ticket #7)."]),
]

SWAHILI_AGENT_THEN_YES: Script = [
    ("mtu", ["Kabla hatujaendelea, tunaomba ruhusa", "Jibu NDIYO kama una miaka 18 au zaidi na unakubali."]),
    ("ndio", ["(tiketi #7)", "Mtu atakujibu hapa hivi karibuni."]),
]


def test_english_agent_asks_the_notice_first_and_yes_opens_the_ticket():
    chat = prospect("en")
    chat.send("agent")
    assert not chat.of(OpenTicket) and not chat.of(RecordConsent)
    chat = play(prospect("en"), AGENT_THEN_YES)
    assert chat.effects[:2] == [RecordConsent(), chat.of(OpenTicket)[0]]
    assert [t.reason for t in chat.of(OpenTicket)] == ["asked"]


def test_swahili_agent_asks_the_notice_first_and_yes_opens_the_ticket():
    chat = play(prospect("sw"), SWAHILI_AGENT_THEN_YES)
    assert len(chat.of(RecordConsent)) == 1 and [t.reason for t in chat.of(OpenTicket)] == ["asked"]


def test_no_keeps_nothing_and_opens_no_ticket():
    chat = play(prospect("en"), [("call me", [NOTICE]),
                                 ("no", ["We have deleted your phone number and your messages"])])
    assert chat.of(ForgetContact) == [ForgetContact()]
    assert not chat.of(OpenTicket) and not chat.of(RecordConsent) and chat.state is None


def test_swahili_under_18_keeps_nothing():
    chat = prospect("sw")
    chat.send("mtu")
    chat.send("3")
    assert chat.of(ForgetContact) == [ForgetContact()] and not chat.of(OpenTicket)


def test_call_me_carries_on_as_a_call_after_yes():
    chat = play(prospect("en"), [("call me", [NOTICE]), ("1", ["An organiser will call you on this number"])])
    assert [t.call_me for t in chat.of(OpenTicket)] == [True]


def test_a_question_the_faq_cannot_answer_asks_before_the_ticket():
    chat = play(prospect("en"), [
        ("what is the meaning of life", ["I do not have an answer to that yet."]),
        ("1", [NOTICE]),
        ("yes", ["I have passed your question to an organiser (ticket #7)."]),
    ])
    assert [(t.text, t.reason) for t in chat.of(OpenTicket)] == [("what is the meaning of life", "no_match")]


def test_an_answer_that_did_not_help_asks_before_the_ticket():
    chat = play(prospect("en"), [
        ("how much are the dues", ["Membership dues are KES 50 a month."]),
        ("2", [NOTICE]),
        ("yes", ["Sorry it did not help. I have passed your question to an organiser (ticket #7)."]),
    ])
    assert [t.reason for t in chat.of(OpenTicket)] == ["not_helped"]


def test_an_faq_answer_and_the_course_list_need_no_consent():
    chat = play(prospect("en"), [("how much are the dues", ["Membership dues are KES 50 a month."]),
                                 ("menu", ["Main menu"]),
                                 ("courses", ["Free courses by Microsoft on LinkedIn Learning."]),
                                 ("1", ["Reply YES to enrol, or NO to see the list again."])])
    assert NOTICE not in "\n".join(chat.send("menu")) and not chat.of(RecordConsent)


def test_enrolling_asks_the_notice_first():
    chat = play(prospect("en"), [("courses", ["Free courses"]), ("1", ["Reply YES to enrol"]),
                                 ("yes", [NOTICE]),
                                 ("yes", ["You are enrolled in Course 1!"])])
    assert chat.of(Enrol) == [Enrol(1)] and chat.effects.index(RecordConsent()) < chat.effects.index(Enrol(1))


def test_swahili_enrolling_asks_the_notice_first_and_no_enrols_nothing():
    chat = play(prospect("sw"), [("kozi", ["Kozi za bure"]), ("2", ["Jibu NDIYO kujiandikisha"]),
                                 ("ndio", ["Jibu NDIYO kama una miaka 18 au zaidi na unakubali."]),
                                 ("hapana", ["Tumefuta nambari yako ya simu"])])
    assert not chat.of(Enrol) and chat.of(ForgetContact) == [ForgetContact()]


def test_stop_help_and_menu_work_at_the_notice():
    chat = prospect("en")
    chat.send("agent")
    assert "MENU: the main menu" in chat.says("help") and NOTICE in chat.says("help")
    assert "Main menu" in chat.says("menu") and not chat.of(OpenTicket)
    chat.send("agent")
    assert "You will not get any more messages" in chat.says("stop")


def test_a_consented_prospect_and_a_member_are_never_asked():
    for member in (replace(PROSPECT, consented=True), replace(MEMBER, facts=PROSPECT.facts)):
        chat = play(Chat(lang="en", member=member, first_contact=False),
                    [("agent", ["An organiser will answer you here (ticket #7)."])])
        assert NOTICE not in "\n".join(chat.send("menu"))
        assert not chat.of(RecordConsent) and len(chat.of(OpenTicket)) == 1


def test_the_notice_before_a_ticket_speaks_of_the_question_not_of_joining():
    chat = prospect("en")
    said = "\n".join(chat.send("agent"))
    assert "your question, the course you choose" in said and "Before you join" not in said
    assert "name, county and kind of work" not in said
