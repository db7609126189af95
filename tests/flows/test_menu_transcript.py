"""The router as pure transcripts (no database, no webhook): the main menu a prospect and a member see, words for
menu items, HELP, what a re-prompt says, STOP and START, ACHA at the menu, in English and Swahili."""

from __future__ import annotations

from flows.base import MemberView, Settings
from flows.effects import OptIn, OptOut
from tests.helpers.transcript import MEMBER, Chat, play


def test_english_menu_of_a_prospect_and_words_for_its_items():
    play(Chat(lang="en", member=MemberView(), first_contact=False), [
        ("menu", ["Main menu. Reply with a number:", "1. Free courses", "2. Ask a question", "3. My data",
                  "4. Language: \u2068English\u2069 · \u2068Kiswahili\u2069", "5. Privacy notice", "6. Join the union"]),
        ("ask a question", ["What would you like to know?"]),
        ("menu", ["6. Join the union"]),
        ("join", ["Welcome to Kenya Union of Gig Workers!", "may we keep your details?"]),
    ])


def test_swahili_help_names_the_words_and_the_person_to_talk_to():
    play(Chat(lang="sw", member=MEMBER, settings=Settings(help_contact="+254700000000")), [
        ("msaada", ["MENU", "MTU", "ACHA", "+254700000000"]),
        ("menyu", ["Menyu kuu. Jibu kwa nambari:", "6. Kozi zangu", "7. Tuma cheti"]),
    ])


def test_english_stop_and_start():
    chat = play(Chat(lang="en", member=MEMBER), [
        ("stop", ["You will not get any more messages from us. Send START at any time to receive them again."]),
        ("menu", ["You have stopped messages from us. Send START to receive them again."]),
        ("start", ["Welcome back! You will receive our messages again.", "Main menu"]),
    ])
    assert chat.effects == [OptOut(), OptIn()]


def test_swahili_acha_at_the_menu_asks_before_stopping():
    chat = play(Chat(lang="sw", member=MEMBER), [
        ("menyu", ["Menyu kuu"]),
        ("acha", ["Tusimamishe jumbe zetu zote? Jibu NDIYO kuzisimamisha, au HAPANA kuendelea kuzipokea."]),
        ("hapana", ["Menyu kuu"]),
    ])
    assert not chat.of(OptOut)
    play(chat, [("acha", ["Tusimamishe"]), ("ndiyo", ["Hutapokea ujumbe wowote kutoka kwetu tena."])])
    assert chat.of(OptOut) == [OptOut()]


def test_a_number_off_the_menu_says_what_is_expected():
    play(Chat(lang="en", member=MEMBER), [("menu", ["Main menu"]), ("9", ["Please reply with a number or a word from the menu.", "AGENT"])])
    play(Chat(lang="sw", member=MEMBER), [("menyu", ["Menyu kuu"]), ("9", ["Menyu kuu"])])
