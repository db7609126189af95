"""The question flow as pure transcripts (no database, no webhook): an answer from the FAQ and whether it helped,
a question with no answer passed to an organiser, a request for a person, in English and Swahili."""

from __future__ import annotations

from dataclasses import replace

from flows.effects import OpenTicket
from tests.helpers.transcript import KNOWLEDGE, MEMBER, Chat, Script, play

ASKING = replace(MEMBER, facts={"faq": KNOWLEDGE, "open_ticket": None})

ENGLISH: Script = [
    ("ask a question", ["What would you like to know? Write your question in a few words."]),
    ("how much are the dues", ["Membership dues are KES 50 a month.", "Did this answer help? Reply 1 for yes or 2 for no."]),
    ("yes", ["Glad it helped! Ask another question any time, or send MENU for the main menu."]),
    ("2", ["What would you like to know?"]),
    ("what is the meaning of life", ["I do not have an answer to that yet.",
                                     "1. Pass my question to a person (an organiser)", "send MENU"]),
    ("1", ["I have passed your question to an organiser (ticket #7).", "Someone will answer you here soon."]),
]

SWAHILI: Script = [
    ("uliza swali", ["Ungependa kujua nini? Andika swali lako kwa maneno machache."]),
    ("ada ni kiasi gani", ["Ada ya uanachama ni KES 50 kwa mwezi.", "Jibu hili limekusaidia?"]),
    ("ndio", ["Vizuri! Uliza swali lingine wakati wowote"]),
    ("mtu", ["(tiketi #7)", "Mtu atakujibu hapa hivi karibuni.", "tuma MENU ukimaliza"]),
]


def test_english_answer_then_a_question_passed_to_an_organiser():
    chat = play(Chat(lang="en", member=ASKING), ENGLISH)
    assert [(t.text, t.reason) for t in chat.of(OpenTicket)] == [("what is the meaning of life", "no_match")]


def test_swahili_answer_then_a_person():
    chat = play(Chat(lang="sw", member=ASKING), SWAHILI)
    assert [t.reason for t in chat.of(OpenTicket)] == ["asked"]


def test_a_question_from_the_menu_is_answered_without_choosing_a_number():
    chat = play(Chat(lang="en", member=ASKING), [("menu", ["Main menu"]),
                                                 ("how much are the dues?", ["KES 50 a month"])])
    assert not chat.of(OpenTicket)
