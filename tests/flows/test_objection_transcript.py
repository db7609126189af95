"""NO BROADCASTS / SITAKI MATANGAZO as pure transcripts (no database): an objection to union news only, apart from
STOP, at the menu and in the middle of a flow (which goes on where it was), undone with BROADCASTS ON /
NATAKA MATANGAZO, and shown by MY DATA; in English and Swahili, and the words of the other languages."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flows.effects import OptOut, ResumeBroadcasts, StopBroadcasts
from tests.helpers.transcript import MEMBER, Chat, Script, classify, play

HELD = {"name": "Amina Wanjiku", "county": "Nairobi", "work": ["transcription"], "messages": 4, "retention_days": 180}
MEMBER_WITH_DATA = replace(MEMBER, facts={**MEMBER.facts, "my_data": HELD})

ENGLISH: Script = [
    ("my data", ["Union news (broadcasts): allowed (send NO BROADCASTS to stop them)"]),
    ("No broadcasts", ["You will not get union news (broadcasts) any more.",
                       "Course reminders and answers to your questions go on.", "Send BROADCASTS ON"]),
    ("my data", ["Messages from us: allowed", "Union news (broadcasts): stopped (send BROADCASTS ON to get them)"]),
    ("courses", ["Free courses by Microsoft on LinkedIn Learning."]),
    ("stop broadcasts", ["You will not get union news (broadcasts) any more.",
                         "Free courses by Microsoft on LinkedIn Learning."]),  # the course list again
    ("1", ["Course 1"]),  # the flow went on where it was
    ("broadcasts on", ["You will get union news (broadcasts) again. Send NO BROADCASTS to stop them."]),
]

SWAHILI: Script = [
    ("sitaki matangazo", ["Hutapokea tena habari za chama (matangazo).", "Vikumbusho vya kozi na majibu ya maswali yako "
                          "vitaendelea.", "Tuma NATAKA MATANGAZO"]),
    ("taarifa zangu", ["Jumbe kutoka kwetu: zinaruhusiwa",
                       "Habari za chama (matangazo): zimesitishwa (tuma NATAKA MATANGAZO kuzipokea)"]),
    ("kozi", ["Kozi za bure za Microsoft kwenye LinkedIn Learning."]),
    ("Nataka matangazo", ["Utapokea tena habari za chama (matangazo).", "Kozi za bure za Microsoft"]),
    ("menu", ["Menyu kuu"]),
    ("taarifa zangu", ["Habari za chama (matangazo): zinaruhusiwa (tuma SITAKI MATANGAZO kuzisitisha)"]),
]


def test_english_objection_stops_broadcasts_only_and_is_undone():
    chat = play(Chat(lang="en", member=MEMBER_WITH_DATA, first_contact=False), ENGLISH)
    assert chat.of(StopBroadcasts) == [StopBroadcasts(), StopBroadcasts()]
    assert chat.of(ResumeBroadcasts) == [ResumeBroadcasts()]
    assert not chat.of(OptOut), "an objection to broadcasts is not STOP"
    assert not chat.member.opted_out and not chat.member.broadcasts_stopped


def test_swahili_objection_stops_broadcasts_only_and_is_undone():
    chat = play(Chat(lang="sw", member=MEMBER_WITH_DATA, first_contact=False), SWAHILI)
    assert chat.of(StopBroadcasts) == [StopBroadcasts()]
    assert chat.of(ResumeBroadcasts) == [ResumeBroadcasts()]
    assert not chat.of(OptOut)


def test_help_names_the_objection_in_english_and_swahili():
    assert "NO BROADCASTS: no union news, reminders go on; BROADCASTS ON: the news again" in \
        Chat(lang="en", member=MEMBER, first_contact=False).says("help")
    assert "SITAKI MATANGAZO: hakuna habari za chama, vikumbusho vinaendelea; NATAKA MATANGAZO: habari tena" in \
        Chat(lang="sw", member=MEMBER, first_contact=False).says("msaada")


def test_the_privacy_notice_names_the_objection():
    notice = Chat(lang="sw", member=MEMBER, first_contact=False).says("faragha")
    assert "tuma SITAKI MATANGAZO usipokee habari za chama (vikumbusho vitaendelea)" in notice


@pytest.mark.parametrize(("words", "keyword"), [
    ("NO BROADCASTS", "no_broadcasts"), ("Sitaki matangazo", "no_broadcasts"), ("pas d'annonces", "no_broadcasts"),
    ("Jooji wararka", "no_broadcasts"), ("أوقف الرسائل الجماعية", "no_broadcasts"),
    ("BROADCASTS ON", "broadcasts_on"), ("nataka matangazo", "broadcasts_on"), ("Annonces oui", "broadcasts_on"),
    ("wararka soo celi", "broadcasts_on"), ("شغل الرسائل الجماعية", "broadcasts_on"),
    ("STOP", "stop"), ("acha ujumbe", "stop"),
])
def test_the_objection_words_of_every_language_are_not_stop(words, keyword):
    assert classify(words).keyword == keyword


def test_someone_who_stopped_every_message_is_told_how_to_restart():
    chat = Chat(lang="en", member=replace(MEMBER, opted_out=True), first_contact=False)
    assert "Send START to receive them again." in chat.says("no broadcasts")
    assert not chat.of(StopBroadcasts)
