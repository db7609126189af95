"""Small talk as pure transcripts (no database, no webhook): thanks, greetings, laughter and emoji get a short
friendly answer and the way on, never a ticket, in English and Swahili."""

from __future__ import annotations

from flows.effects import OpenTicket
from tests.helpers.transcript import MEMBER, Chat, play


def test_english_small_talk_at_the_menu():
    chat = play(Chat(lang="en", member=MEMBER), [
        ("thanks", ["You're welcome!", "Send MENU for the main menu, or write your question."]),
        ("haha", ["😊"]),
        ("👍", ["😊", "Send MENU for the main menu"]),
        ("good morning", ["Hello!", "Main menu. Reply with a number:"]),
    ])
    assert not chat.of(OpenTicket)


def test_swahili_small_talk_at_the_menu():
    chat = play(Chat(lang="sw", member=MEMBER), [
        ("asante", ["Karibu!", "Tuma MENU kwa menyu kuu, au andika swali lako."]),
        ("habari", ["Habari!", "Menyu kuu. Jibu kwa nambari:"]),
        ("asante sana", ["Karibu!"]),
    ])
    assert not chat.of(OpenTicket)
