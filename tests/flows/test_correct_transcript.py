"""CHANGE MY DETAILS / BADILISHA TAARIFA as pure transcripts (no database): the numbered summary of what is held,
each answer of sign-up changed with sign-up's own questions (name, county with its list of likely ones, work with
'other', gender and community behind the sensitive-data question), an answer that changes nothing, BACK, a wrong
reply, and the way out; in English and Swahili. MY DATA offers it; someone who has not joined has nothing to
change."""

from __future__ import annotations

from dataclasses import replace

from flows.base import MemberView
from flows.effects import CorrectDetail, RecordSensitiveChoice
from tests.helpers.transcript import MEMBER, Chat, Script, play

HELD = {"name": "Amina Wanjiku", "county": "Nairobi", "work": ["transcription"], "gender": None, "community": None,
        "messages": 4, "retention_days": 180}
HOLDING = replace(MEMBER, facts={**MEMBER.facts, "my_data": HELD})
SUMMARY = ["Your details:", "1. Name: Amina Wanjiku", "3. Work: Transcription", "4. Gender: not given",
           "Reply with the number of the answer to change, or MENU when you are done."]

ENGLISH: Script = [
    ("my data", ["To change your details, send CHANGE MY DETAILS.", "To erase your personal data"]),
    ("change my details", [*SUMMARY, "2. County: Nairobi"]),
    ("county", ["Which county do you live in?"]),
    ("Kisum", ["Saved.", "2. County: Kisumu"]),
    ("2", ["Which county do you live in?"]),
    ("Kisumu", ["That is what we had already: nothing changed.", "2. County: Kisumu"]),
    ("1", ["What is your full name?"]),
    ("A", ["Please type your full name in letters", "(MENU: main menu · AGENT: a person)"]),
    ("Amina W. Otieno", ["Saved.", "1. Name: Amina W. Otieno"]),
    ("3", ["What kind of gig work do you do?", "7. Other"]),
    ("1, 7", ["What other kind of work do you do?"]),
    ("Boda repairs", ["Saved.", "3. Work: Transcription, Boda repairs"]),
    ("4", ["The law treats these as sensitive data", "1. Yes, ask me", "2. No, skip them"]),
    ("2", ["Your details:", "4. Gender: not given"]),
    ("4", ["May we ask them?"]),
    ("yes", ["What is your gender?", "Reply SKIP"]),
    ("1", ["Saved.", "4. Gender: Woman"]),
    ("5", ["Are you a refugee or from a host community?"]),  # gender is held: no second yes/no
    ("back", ["Your details:"]),
    ("5", ["Are you a refugee or from a host community?"]),
    ("1", ["Saved.", "5. Community: Refugee"]),
    ("9", ["Please reply with a number from 1 to 5, or MENU when you are done.", "Your details:"]),
    ("thanks", ["Your details are up to date. Send MENU for the main menu."]),
]

SWAHILI: Script = [
    ("taarifa zangu", ["Kubadilisha taarifa zako, tuma BADILISHA TAARIFA."]),
    ("badilisha taarifa", ["Taarifa zako:", "1. Jina: Amina Wanjiku", "2. Kaunti: Nairobi",
                           "Jibu kwa nambari ya jibu unalotaka kubadilisha, au MENU ukimaliza."]),
    ("kaunti", ["Unaishi kaunti gani?"]),
    ("Kakuma", ["Imehifadhiwa.", "2. Kaunti: Turkana"]),
    ("3", ["Unafanya kazi gani ya gig?"]),
    ("5", ["Imehifadhiwa.", "3. Kazi: Usafiri kwa apu (Uber, Bolt) au delivery"]),
    ("1", ["Jina lako kamili ni nani?"]),
    ("Amina Wanjiku", ["Hilo ndilo jibu tulilokuwa nalo tayari: hakuna kilichobadilika."]),
    ("5", ["Sheria inaziona hizi kuwa taarifa nyeti"]),
    ("ndiyo", ["Wewe ni mkimbizi"]),
    ("2", ["Imehifadhiwa.", "5. Jamii:"]),
    ("4", ["Jinsia yako ni ipi?"]),
    ("ruka", ["Hilo ndilo jibu tulilokuwa nalo tayari"]),
    ("menu", ["Menyu kuu"]),
]


def test_english_changes_each_answer_of_sign_up_from_the_summary():
    chat = play(Chat(lang="en", member=HOLDING, first_contact=False), ENGLISH)
    assert chat.of(CorrectDetail) == [
        CorrectDetail("county", {"county": "Kisumu"}),
        CorrectDetail("name", {"name": "Amina W. Otieno"}),
        CorrectDetail("work", {"work": ["other", "transcription"], "work_other": "Boda repairs"}),
        CorrectDetail("gender", {"gender": "woman"}),
        CorrectDetail("community", {"community": "refugee"}),
    ]
    assert chat.of(RecordSensitiveChoice) == [RecordSensitiveChoice(agreed=True)]
    assert chat.state is None


def test_swahili_changes_answers_and_an_unchanged_answer_is_no_change():
    chat = play(Chat(lang="sw", member=HOLDING, first_contact=False), SWAHILI)
    assert [(e.field, dict(e.values)) for e in chat.of(CorrectDetail)] == [
        ("county", {"county": "Turkana"}), ("work", {"work": ["ride_delivery"], "work_other": None}),
        ("community", {"community": "host"})]


def test_someone_who_has_not_joined_has_nothing_to_change():
    chat = Chat(lang="en", member=MemberView(), first_contact=False)
    assert "Only members have details to change. Send JOIN to become a member" in chat.says("change my details")
    assert chat.state is None and not chat.of(CorrectDetail)
    swahili = Chat(lang="sw", member=MemberView(), first_contact=False)
    assert "Ni wanachama tu walio na taarifa za kubadilisha." in swahili.says("rekebisha taarifa zangu")


def test_help_and_the_privacy_notice_name_the_correction():
    chat = Chat(lang="en", member=MEMBER, first_contact=False)
    assert "MY DATA: what we keep about you; CHANGE MY DETAILS: correct it; DELETE MY DATA: erase it" in chat.says("help")
    assert "correct your data: send CHANGE MY DETAILS" in chat.says("privacy")
    assert "kurekebisha taarifa zako: tuma BADILISHA TAARIFA" in Chat(lang="sw", member=MEMBER).says("faragha")
