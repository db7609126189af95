"""Switching language as pure transcripts (no database, no webhook): from the menu, by keyword in the middle of a
question (which is asked again in the new language), a wrong answer, in English and Swahili."""

from __future__ import annotations

from flows.effects import SetLanguage
from tests.helpers.transcript import MEMBER, Chat, play


def test_english_to_swahili_from_the_menu_and_back_by_keyword():
    chat = play(Chat(lang="en", member=MEMBER), [
        ("menu", ["4. Language: \u2068English\u2069 · \u2068Kiswahili\u2069"]),
        ("4", ["Choose your language:", "\u20681 English\u2069 · \u20682 Kiswahili\u2069"]),
        ("2", ["Sawa: nitakuandikia kwa Kiswahili.", "Menyu kuu. Jibu kwa nambari:", "1. Kozi za bure"]),
        ("lugha", ["Chagua lugha:"]),
        ("saba", ["Tafadhali jibu kwa nambari ya lugha yako, au jina lake.", "(MENU: menyu kuu · MTU: ongea na mtu)"]),
        ("1", ["Done: I will write to you in English.", "Main menu. Reply with a number:"]),
    ])
    assert chat.of(SetLanguage) == [SetLanguage("sw"), SetLanguage("en")] and chat.lang == "en"


def test_naming_a_language_mid_question_asks_the_question_again_in_it():
    chat = play(Chat(lang="sw", member=MEMBER), [
        ("uliza swali", ["Ungependa kujua nini?"]),
        ("english", ["Done: I will write to you in English.", "What would you like to know?"]),
        ("kiswahili", ["Sawa: nitakuandikia kwa Kiswahili.", "Ungependa kujua nini?"]),
    ])
    assert chat.state is not None and chat.state.flow == "question"
