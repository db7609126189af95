"""PRIVACY as a pure transcript (no database, no webhook): the full notice in three parts from anywhere, and the
conversation goes on where it was, in English and Swahili."""

from __future__ import annotations

from tests.helpers.transcript import MEMBER, Chat, play


def test_english_full_notice_from_the_menu_item_and_by_keyword_mid_question():
    play(Chat(lang="en", member=MEMBER), [
        ("menu", ["5. Privacy notice"]),
        ("5", ["PRIVACY NOTICE (1/3): who we are and what we keep", "deleted after 180 days",
               "PRIVACY NOTICE (2/3)", "Twilio, in the United States", "PRIVACY NOTICE (3/3)",
               "see your data: send MY DATA", "Office of the Data Protection Commissioner"]),
        ("ask a question", ["What would you like to know?"]),
        ("privacy", ["PRIVACY NOTICE (1/3)", "What would you like to know?"]),
    ])


def test_swahili_full_notice_before_joining_keeps_the_consent_question():
    chat = play(Chat(), [("Habari", ["tunaomba ruhusa"]),
                         ("faragha", ["TAARIFA YA FARAGHA (1/3): sisi ni nani na tunahifadhi nini",
                                      "Twilio, ya Marekani", "TAARIFA YA FARAGHA (3/3)",
                                      "Ofisi ya Kamishna wa Kulinda Data", "1. Ndiyo, nina miaka 18 au zaidi na nakubali"]),
                         ("1", ["Jina lako kamili ni nani?"])])
    assert chat.state is not None and chat.state.flow == "signup"
