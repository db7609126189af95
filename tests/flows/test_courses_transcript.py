"""The course flows as pure transcripts (no database, no webhook): the catalog, enrolling once, my courses and
reporting a certificate by link or file, in English and Swahili."""

from __future__ import annotations

from flows.effects import Enrol, ReportCertificateFile, ReportCertificateLink
from tests.helpers.transcript import MEMBER, Chat, Script, play

LINK = "https://www.linkedin.com/learning/certificates/0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071"

ENGLISH: Script = [
    ("courses", ["Free courses by Microsoft on LinkedIn Learning.", "1. Course 1: One line.", "Reply 0 for more courses."]),
    ("1", ["Course 1", "It takes about 4 hours", "It is free.", "Reply YES to enrol, or NO to see the list again."]),
    ("yes", ["You are enrolled in Course 1!", "Your course link: https://example.org/1", "send CERTIFICATE here"]),
    ("my courses", ["Your courses:", "Course 1: enrolled", "Send CERTIFICATE to report it."]),
    ("certificate", ["Which course is your certificate for? Reply with its number:", "1. Course 1"]),
    ("1", ["Certificate for Course 1.", "Send the link to your certificate", "or a photo or PDF of it."]),
    ("https://example.org/not-a-certificate", ["That does not look like a LinkedIn Learning certificate link.",
                                               "(MENU: main menu · AGENT: a person)"]),
    (LINK, ["Thank you! Your certificate for Course 1 is waiting for review", "within 3 days"]),
    ("my courses", ["Course 1: certificate reported, waiting for review"]),
]

SWAHILI: Script = [
    ("kozi", ["Kozi za bure za Microsoft kwenye LinkedIn Learning.", "2. Kozi 2: Mstari mmoja.", "Jibu 0 kuona kozi zaidi."]),
    ("2", ["Kozi 2", "Inachukua takriban saa 4", "Ni bure.", "Jibu NDIYO kujiandikisha"]),
    ("ndio", ["Umejiandikisha kwenye Kozi 2!", "Kiungo cha kozi yako: https://example.org/2"]),
    ("kozi zangu", ["Kozi zako:", "Kozi 2: umejiandikisha", "Tuma CHETI ili kukiripoti."]),
    ("cheti", ["Cheti chako ni cha kozi gani? Jibu kwa nambari yake:", "1. Kozi 2"]),
    ("9", ["Tafadhali jibu kwa nambari ya kozi, kuanzia 1 hadi 8.", "(MENU: menyu kuu · MTU: ongea na mtu)"]),
    ("1", ["Cheti cha Kozi 2.", "Tuma kiungo cha cheti chako", "au picha au PDF yake."]),
]


def test_english_enrol_once_then_report_the_certificate_link():
    chat = play(Chat(lang="en", member=MEMBER), ENGLISH)
    assert chat.of(Enrol) == [Enrol(1)]
    assert [(e.course_id, e.link) for e in chat.of(ReportCertificateLink)] == [(1, LINK)]


def test_swahili_enrol_then_report_a_pdf_of_the_certificate():
    chat = play(Chat(lang="sw", member=MEMBER), SWAHILI)
    assert "Kozi 2" in chat.says("", media="application/pdf")
    assert chat.of(Enrol) == [Enrol(2)]
    assert [e.course_id for e in chat.of(ReportCertificateFile)] == [2]


def test_the_second_page_and_no_second_enrolment():
    chat = play(Chat(lang="en", member=MEMBER), [*ENGLISH[:3], ("courses", ["Course 1"]), ("0", ["6. Course 6"]),
                                                  ("6", ["Course 6"]), ("no", ["Free courses by Microsoft"])])
    play(chat, [("1", ["Course 1"]), ("yes", ["Course 1"])])
    assert chat.of(Enrol) == [Enrol(1)]


def test_swahili_course_page_says_at_your_own_pace_as_kenyans_say_it():
    # Review row 16: "kwa kasi yako" (at your speed) reads as a calque; "kwa muda wako" is what people say.
    chat = Chat(lang="sw", member=MEMBER)
    play(chat, [("kozi", ["Kozi za bure"])])
    page = chat.says("1")
    assert "kwa muda wako" in page and "kwa kasi yako" not in page
