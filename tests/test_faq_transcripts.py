"""Pure transcripts of the question flow with the repo's answers (no database): small talk is answered and
never ticketed, and an unsure match offers the closest answers and a person, in English and Swahili."""

from __future__ import annotations

import pytest

from flows.base import MemberView
from flows.effects import OpenTicket
from tests.helpers.transcript import KNOWLEDGE, Chat, Script, play


def converse(script: Script, lang: str, ticket_open: bool = False) -> list[OpenTicket]:
    """Play a member's messages through the router; check each reply; return the tickets opened."""
    member = MemberView(is_member=True, status="active", name="Amina", member_number="KUGWO-000001",
                        facts={"faq": KNOWLEDGE, "open_ticket": 7 if ticket_open else None})
    return play(Chat(lang=lang, member=member, first_contact=False), script).of(OpenTicket)


ENGLISH_SMALL_TALK: Script = [
    ("Thanks", ["You're welcome!", "Send MENU for the main menu, or write your question."]),
    ("ok", ["You're welcome!"]),
    ("👍", ["😊"]),
    ("🙏🙏", ["😊"]),
    ("hello?", ["Hello!", "Main menu. Reply with a number:"]),
    ("good morning", ["Hello!", "Main menu"]),
    ("haha", ["😊"]),
    ("😂", ["😊"]),
    ("ok thanks 🙏", ["You're welcome!"]),
    ("thank you so much", ["You're welcome!"]),
    ("HALLO", ["Main menu"]),
    ("ask a question", ["What would you like to know?"]),
    ("hi", ["Hello!", "What would you like to know?"]),
    ("how much are the dues", ["Membership dues are KES 50 a month.", "Did this answer help?"]),
    ("thanks", ["Glad it helped!"]),
    ("Hi, how much are the dues?", ["Membership dues are KES 50 a month."]),  # a greeting before a question
]

SWAHILI_SMALL_TALK: Script = [
    ("Asante", ["Karibu!", "Tuma MENU kwa menyu kuu, au andika swali lako."]),
    ("asante sana", ["Karibu!"]),
    ("Poa", ["Karibu!"]),
    ("sawa asante", ["Karibu!"]),
    ("Shukran", ["Karibu!"]),
    ("Niaje", ["Habari!", "Menyu kuu"]),
    ("Sasa", ["Habari!", "Menyu kuu"]),
    ("Habari gani", ["Habari!"]),
    ("Sema", ["Habari!"]),
    ("uko aje", ["Habari!"]),
    ("Asalaam aleikum", ["Habari!"]),
    ("hehe", ["😊"]),
    ("ada ni ngapi", ["Ada ya uanachama ni KES 50 kwa mwezi.", "Jibu hili limekusaidia?"]),
    ("sawa", ["Vizuri"]),  # after 'did it help?' SAWA is a yes, not small talk
]


@pytest.mark.parametrize(("script", "lang"), [(ENGLISH_SMALL_TALK, "en"), (SWAHILI_SMALL_TALK, "sw")])
def test_small_talk_is_answered_kindly_and_opens_no_ticket(script, lang):
    assert converse(script, lang) == []


def test_english_unsure_offers_the_two_closest_then_a_person():
    assert converse([
        ("fees and mpesa", ["I am not sure which answer you need. Reply with a number:",
                            "1. How much are the dues?", "2. How do I pay the dues?",
                            "3. Pass my question to a person (an organiser)", "send MENU"]),
        ("7", ["Please reply with one of the numbers, or write your question in other words.", "2. How do I pay"]),
        ("2", ["Dues are KES 50 a month. Ask an organiser.", "Did this answer help?"]),
    ], "en") == []
    assert converse([("course certificate voucher", ["1. What are the free courses", "2. How does the LinkedIn"]),
                     ("the premium voucher", ["LinkedIn Premium voucher code", "auto-renew"])], "en") == []
    [ticket] = converse([("fees and mpesa", ["3. Pass my question to a person"]),
                         ("3", ["I have passed your question to an organiser (ticket #7)."])], "en")
    assert (ticket.text, ticket.reason) == ("fees and mpesa", "no_match")


def test_swahili_no_answer_asks_before_passing_to_a_person():
    [ticket] = converse([
        ("nataka mkopo wa pikipiki", ["Sina jibu la hilo bado. Jibu kwa nambari:",
                                      "1. Mpe mtu swali langu (afisa wa chama)", "tuma MENU"]),
        ("MTU", ["Nimempa afisa wa chama swali lako (tiketi #7)."]),
    ], "sw")
    assert (ticket.text, ticket.reason) == ("nataka mkopo wa pikipiki", "no_match")
    assert converse([("kozi na vocha", ["1. ", "2. ", "3. Mpe mtu swali langu"]),
                     ("asante", ["Karibu!"])], "sw") == []
    assert converse([("nataka mkopo wa pikipiki", ["Sina jibu"]), ("hapana", ["Karibu!"])], "sw") == []


def test_a_question_with_no_answer_joins_the_ticket_already_open():
    [ticket] = converse([("nataka mkopo wa pikipiki", ["Nimempa afisa wa chama swali lako (tiketi #7)."])],
                        "sw", ticket_open=True)
    assert ticket.text == "nataka mkopo wa pikipiki"
