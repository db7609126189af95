"""Asking again after the notice changed, as pure transcripts (no database, no webhook): once, at the next message;
yes records consent, no keeps everything and offers DELETE MY DATA, in English and Swahili."""

from __future__ import annotations

from dataclasses import replace

from flows.effects import DeclineNewNotice, EraseMyData, MarkNoticeAsked, RecordConsent
from tests.helpers.transcript import MEMBER, Chat, play

ASKED_BEFORE = replace(MEMBER, notice_outdated=True)


def test_english_yes_records_consent_to_the_new_notice_and_goes_to_the_menu():
    chat = play(Chat(lang="en", member=ASKED_BEFORE), [
        ("menu", ["Our privacy notice has changed", "Send PRIVACY to read the full notice.",
                  "1. Yes, I am 18 or older and I agree", "Send MENU to answer later"]),
        ("1", ["Thank you: your agreement to the new notice is recorded.", "Main menu"]),
        ("menu", ["Main menu"]),
    ])
    assert chat.effects == [MarkNoticeAsked(), RecordConsent()]


def test_swahili_no_keeps_everything_and_says_how_to_delete():
    chat = play(Chat(lang="sw", member=ASKED_BEFORE), [
        ("mwanzo", ["Taarifa yetu ya faragha imebadilika", "Unakubali taarifa mpya?", "2. Hapana"]),
        ("2", ["hakuna kilichobadilika na hakuna kilichofutwa", "tuma FUTA TAARIFA ZANGU", "Menyu kuu"]),
    ])
    assert chat.effects == [MarkNoticeAsked(), DeclineNewNotice()] and not chat.of(EraseMyData)
