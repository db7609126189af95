"""MY DATA and DELETE MY DATA as pure transcripts (no database, no webhook): everything held, the confirmation,
keeping and erasing, in English and Swahili."""

from __future__ import annotations

from dataclasses import replace

from flows import mydata
from flows.effects import EraseMyData, SendMyDataFile
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


# --- MY DATA FILE: the document on its way (a worker builds and sends it) -------------------------------

ENGLISH_FILE: Script = [
    ("my data", ["send MY DATA FILE."]),
    ("my data file", ["We are putting all your data in a document (PDF). It will arrive here in a minute or two."]),
    ("menu", ["Main menu"]),
    ("download my data", ["in a document (PDF)"]),
    ("ask a question", ["What would you like to know?"]),
    ("MY DATA PDF", ["in a document (PDF)"]),
]

SWAHILI_FILE: Script = [
    ("taarifa zangu", ["tuma FAILI YA DATA YANGU."]),
    ("faili ya data yangu", ["Tunaweka taarifa zako zote kwenye faili (PDF). Itakufikia hapa baada ya dakika moja"]),
    ("uliza swali", ["Ungependa kujua nini?"]),
    ("Pakua taarifa zangu", ["kwenye faili (PDF)"]),
]


def test_english_my_data_file_asks_for_the_document_from_the_menu_and_from_a_question():
    assert play(Chat(lang="en", member=MEMBER_WITH_DATA), ENGLISH_FILE).of(SendMyDataFile) == [SendMyDataFile()] * 3


def test_swahili_faili_ya_data_yangu_asks_for_the_document():
    assert play(Chat(lang="sw", member=MEMBER_WITH_DATA), SWAHILI_FILE).of(SendMyDataFile) == [SendMyDataFile()] * 2


def test_the_words_of_every_language_ask_for_the_document_even_while_the_bot_speaks_english():
    for words in ("FICHIER DE MES DONNEES", "faylka xogtayda", "ملف بياناتي", "Télécharger mes données"):
        played = play(Chat(lang="en", member=MEMBER_WITH_DATA), [(words, ["in a document (PDF)"])])
        assert played.of(SendMyDataFile) == [SendMyDataFile()], words


def test_plain_my_data_sends_no_document():
    assert not play(Chat(lang="en", member=MEMBER_WITH_DATA), [("my data", ["Name: Amina"])]).of(SendMyDataFile)


EXPORT = {**HELD, "courses": [{"course_title": {"en": "Course 1", "sw": "Kozi 1"}, "status": "reported",
                               "enrolled_on": "2026-12-01"}],
          "certificate_reports": [{"course_title": {"en": "Course 1"}, "status": "rejected", "reported_on": "2026-12-02",
                                   "link": "https://www.linkedin.com/learning/certificates/abc123xyz",
                                   "reason": "Wrong name"}],
          "voucher": {"code": "LIP-AAA-111", "given_on": "2026-12-03", "expires_on": None},
          "questions": [{"number": 7, "opened_on": "2026-12-01", "status": "open",
                         "lines": [{"from": "member", "text": "How do I pay dues?"},
                                   {"from": "organiser", "text": "By M-Pesa."}]}]}


def test_the_document_has_my_data_then_courses_certificates_voucher_and_questions_in_each_language():
    from bot.core import i18n

    english = [[i18n.render_line("en", heading), *(i18n.render_line("en", line) for line in lines)]
               for heading, lines in mydata.document(EXPORT)]
    assert [section[0] for section in english] == ["About you", "Courses", "Certificates reported",
                                                   "LinkedIn Premium voucher", "Questions to organisers"]
    text = "\n".join("\n".join(section) for section in english)
    for fragment in ("Name: Amina Wanjiku", "Member number: KUGWO-000001",
                     "Course 1: certificate reported, waiting for review (since 2026-12-01)",
                     "Course 1, reported 2026-12-02: not accepted", "Reason given: Wrong name",
                     "Code LIP-AAA-111, given 2026-12-03\n",
                     "Question #7, 2026-12-01: still open", "You: How do I pay dues?", "Organiser: By M-Pesa."):
        assert fragment in text, fragment
    dated = {**EXPORT, "voucher": {"code": "LIP-AAA-111", "given_on": "2026-12-03", "expires_on": "2027-12-03"}}
    assert i18n.render_line("en", mydata.document(dated)[3][1][0]) == \
        "Code LIP-AAA-111, given 2026-12-03, valid until 2027-12-03"
    swahili = "\n".join(i18n.render_line("sw", line) for _, lines in mydata.document(EXPORT) for line in lines)
    assert "Kozi 1: " in swahili and "Wewe: How do I pay dues?" in swahili
    assert mydata.document({})[1][1] == [mydata.NONE_YET]
