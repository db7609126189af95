"""MY DATA and DELETE MY DATA as pure transcripts (no database, no webhook): everything held, the confirmation,
keeping and erasing, in English and Swahili."""

from __future__ import annotations

from dataclasses import replace

from flows.effects import EraseMyData
from tests.helpers.transcript import MEMBER, Chat, Script, play

HELD = {"name": "Amina Wanjiku", "phone": "+254712345678", "member_number": "KUGWO-000001", "county": "Nairobi",
        "work": ["transcription"], "gender": "woman", "language": "sw", "messages": 4, "retention_days": 180}
MEMBER_WITH_DATA = replace(MEMBER, facts={"my_data": HELD})

ENGLISH: Script = [
    ("my data", ["This is everything we hold about you:", "Name: Amina Wanjiku", "Phone: +254712345678",
                 "Member number: KUGWO-000001", "County: Nairobi", "Work: Transcription", "Gender: Woman",
                 "Messages stored: 4 (message texts are deleted after 180 days)",
                 "To erase your personal data, send DELETE MY DATA."]),
    ("delete my data", ["This erases your name, phone number, messages and files for good", "Delete your data?",
                        "1. Yes, delete my data", "2. No, keep it"]),
    ("maybe", ["Please reply 1 to delete your data or 2 to keep it."]),
    ("2", ["Nothing was deleted. Send MENU for the main menu."]),
]

SWAHILI: Script = [
    ("taarifa zangu", ["Hizi ndizo taarifa zote tulizo nazo kukuhusu:", "Jina: Amina Wanjiku", "Kaunti: Nairobi",
                       "Jinsia: Mwanamke", "hufutwa baada ya siku 180", "tuma FUTA TAARIFA ZANGU."]),
    ("futa taarifa zangu", ["Tufute taarifa zako?", "1. Ndiyo, futa taarifa zangu", "2. Hapana, ziache"]),
    ("1", ["Taarifa zako binafsi zimefutwa. Asante kwa kuwa sehemu ya chama."]),
]


def test_english_my_data_then_keeping_it_erases_nothing():
    assert not play(Chat(lang="en", member=MEMBER_WITH_DATA), ENGLISH).of(EraseMyData)


def test_swahili_my_data_then_delete_erases_once():
    assert play(Chat(lang="sw", member=MEMBER_WITH_DATA), SWAHILI).of(EraseMyData) == [EraseMyData()]
