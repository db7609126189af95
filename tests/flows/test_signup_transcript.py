"""The sign-up flow as a pure transcript (no database, no webhook): a new contact's first word, the short notice,
the questions, the summary and the member number, in English and Swahili."""

from __future__ import annotations

from flows.effects import ForgetContact, RecordConsent, RecordSensitiveChoice, RegisterMember
from tests.helpers.signup import ENGLISH_HAPPY, SWAHILI_HAPPY
from tests.helpers.transcript import Chat, Script, play

# The same scripts as the sign-up through the webhook (tests/test_signup_transcripts.py), then the menu.
ENGLISH: Script = [*ENGLISH_HAPPY, ("menu", ["Main menu. Reply with a number:", "6. My courses", "7. Report a certificate"])]
SWAHILI: Script = [
    *SWAHILI_HAPPY[:4],
    ("5", ["Sheria inaziona hizi kuwa taarifa nyeti", "Tunaweza kukuuliza?", "2. Hapana, ruka"]),
    ("hapana", ["Tafadhali hakikisha taarifa zako:", "1. Jina: Baraka Otieno", "2. Kaunti: Turkana",
                "4. Jinsia: hakuna jibu", "5. Jamii: hakuna jibu"]),
    ("NDIO", ["Karibu, Baraka Otieno! Sasa wewe ni mwanachama wa Kenya Union of Gig Workers.",
              "Nambari yako ya uanachama ni KUGWO-000001."]),
    ("menyu", ["Menyu kuu. Jibu kwa nambari:", "6. Kozi zangu", "7. Tuma cheti"]),
]


def test_english_sign_up_registers_once_with_the_answers():
    chat = play(Chat(), ENGLISH)
    assert chat.lang == "en"
    assert chat.of(RecordConsent) == [RecordConsent()] and chat.of(RecordSensitiveChoice) == [RecordSensitiveChoice(True)]
    assert chat.of(RegisterMember) == [RegisterMember(name="Amina Wanjiku", county="Nairobi",
                                                      work_kinds=("data_annotation", "online_freelancing"),
                                                      work_other=None, gender="woman", community=None)]


def test_swahili_sign_up_is_in_swahili_from_the_first_word_and_skips_the_sensitive_questions():
    chat = play(Chat(), SWAHILI)
    assert chat.lang == "sw"
    assert chat.of(RecordSensitiveChoice) == [RecordSensitiveChoice(False)]
    [registered] = chat.of(RegisterMember)
    assert (registered.county, registered.work_kinds, registered.gender, registered.community) == (
        "Turkana", ("ride_delivery",), None, None)


def test_the_webhook_s_swahili_script_holds_for_the_flow_alone():
    chat = play(Chat(), SWAHILI_HAPPY)
    assert chat.lang == "sw" and chat.of(RegisterMember)[0].name == "Baraka Otieno"


def test_a_wrong_answer_says_what_is_expected_and_back_returns_to_the_question_before():
    play(Chat(), [*ENGLISH[:3], ("Atlantis", ["Which county", "MENU", "AGENT"]),
                  ("back", ["What is your full name?"])])
    play(Chat(), [*SWAHILI[:3], ("Atlantis", ["kaunti", "MENU", "MTU"]), ("rudi", ["Jina lako kamili ni nani?"])])


def test_a_refusal_or_someone_under_18_joins_nobody():
    for script in ([("Hi", ["may we keep your details?"]), ("2", [])],
                   [("Habari", ["tunaomba ruhusa"]), ("3", ["18"])]):
        chat = play(Chat(), script)
        assert not chat.of(RegisterMember) and not chat.of(RecordConsent)
        assert chat.of(ForgetContact)
