"""Sign-up transcripts through the real webhook, in English and in Swahili: member says → bot answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import ConsentEvent, Conversation, Member
from tests.conftest import WhatsApp

Script = list[tuple[str, list[str]]]


def play(whatsapp: WhatsApp, script: Script) -> None:
    """Send each line and check the reply contains every expected fragment."""
    for says, expected in script:
        reply = whatsapp.says(says)
        for fragment in expected:
            assert fragment in reply, f"after {says!r}: expected {fragment!r} in {reply!r}"


def member_row(app, phone: str = "+254712345678") -> Member:
    """The stored member."""
    with app.app_context():
        member = db.session.scalars(sa.select(Member).where(Member.phone == phone)).one()
        db.session.expunge(member)
        return member


ENGLISH_HAPPY: Script = [
    ("Hi", ["Welcome to Kenya Union of Gig Workers!", "Kwa Kiswahili, jibu LUGHA.", "may we keep your details?",
            "1. Yes, I am 18 or older and I agree", "3. I am under 18"]),
    ("1", ["What is your full name?"]),
    ("Amina Wanjiku", ["Which county do you live in?"]),
    ("Nbi", ["What kind of gig work do you do?", "2. Data annotation / AI training"]),
    ("2, 3", ["The law treats these as sensitive data", "1. Yes, ask me", "2. No, skip them"]),
    ("1", ["What is your gender?", "Reply SKIP"]),
    ("1", ["Are you a refugee or from a host community?"]),
    ("skip", ["Please check your details:", "1. Name: Amina Wanjiku", "2. County: Nairobi",
              "3. Work: Data annotation / AI training, Online freelancing", "4. Gender: Woman", "5. Community: not given"]),
    ("yes", ["Karibu, Amina Wanjiku! You are now a member of Kenya Union of Gig Workers.",
             "Your member number is KUGWO-000001."]),
]

SWAHILI_HAPPY: Script = [
    ("Habari", ["Karibu Kenya Union of Gig Workers!", "For English, reply LANGUAGE.", "tunaomba ruhusa",
                "1. Ndiyo, nina miaka 18 au zaidi na nakubali"]),
    ("ndio", ["Jina lako kamili ni nani?"]),
    ("Baraka Otieno", ["Unaishi kaunti gani?"]),
    ("Kakuma", ["Unafanya kazi gani ya gig?"]),
    ("5", ["Sheria inaziona hizi kuwa taarifa nyeti", "1. Ndiyo, niulize"]),
    ("ndio", ["Jinsia yako ni ipi?", "Jibu RUKA"]),
    ("2", ["Wewe ni mkimbizi"]),
    ("1", ["Tafadhali hakikisha taarifa zako:", "2. Kaunti: Turkana", "3. Kazi: Usafiri kwa apu (Uber, Bolt) au delivery", "5. Jamii: Mkimbizi"]),
    ("NDIO", ["Karibu, Baraka Otieno! Sasa wewe ni mwanachama", "KUGWO-000001"]),
]


def test_english_sign_up_gives_a_member_number(app, whatsapp):
    play(whatsapp, ENGLISH_HAPPY)
    member = member_row(app)
    assert (member.status, member.member_number, member.county, member.language) == ("active", "KUGWO-000001", "Nairobi", "en")
    assert member.gender == "woman" and member.community is None
    assert member.consent_version and member.consent_language == "en" and member.consent_at is not None
    with app.app_context():
        kinds = db.session.scalars(sa.text("SELECT kind FROM member_work ORDER BY kind")).all()
        events = db.session.scalars(sa.select(ConsentEvent.kind)).all()
    assert kinds == ["data_annotation", "online_freelancing"]
    assert events == ["consent", "sensitive"]


def test_no_to_the_sensitive_questions_is_recorded_and_keeps_gender_and_community_empty(app, whatsapp):
    play(whatsapp, [*ENGLISH_HAPPY[:4], ("2, 3", ["May we ask them?"]),
                    ("2", ["Please check your details:", "4. Gender: not given", "5. Community: not given"]),
                    ("yes", ["KUGWO-000001"])])
    member = member_row(app)
    assert (member.status, member.gender, member.community) == ("active", None, None)
    with app.app_context():
        events = db.session.execute(sa.select(ConsentEvent.kind, ConsentEvent.text_version)
                                    .order_by(ConsentEvent.id)).all()
    assert [kind for kind, _ in events] == ["consent", "sensitive_no"]
    assert events[1].text_version == app.config["CONSENT_VERSION"] == "2026-12"


def test_swahili_sign_up_is_in_swahili_from_the_first_word(app, whatsapp):
    play(whatsapp, SWAHILI_HAPPY)
    member = member_row(app)
    assert (member.language, member.county, member.community) == ("sw", "Turkana", "refugee")


def test_member_who_writes_join_again_gets_their_number_not_a_second_membership(app, whatsapp):
    play(whatsapp, ENGLISH_HAPPY)
    reply = whatsapp.says("join")
    assert "You are already a member" in reply and "KUGWO-000001" in reply and "active" in reply
    play(WhatsApp(whatsapp.client, "+254700111222"), [("Jiunge", ["Karibu"]), ("1", []), ("Juma Ali", []),
         ("Mombasa", []), ("1", []), ("1", []), ("skip", []), ("skip", []), ("ndio", ["KUGWO-000002"])])
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Member).where(Member.status == "active")) == 2


def test_correcting_one_answer_from_the_summary(app, whatsapp):
    play(whatsapp, ENGLISH_HAPPY[:-1])
    play(whatsapp, [
        ("2", ["Which county do you live in?"]),
        ("Kisumo", ["Please check your details:", "2. County: Kisumu", "1. Name: Amina Wanjiku"]),
        ("1", ["What is your full name?"]),
        ("Amina W. Otieno", ["1. Name: Amina W. Otieno"]),
        ("yes", ["KUGWO-000001"]),
    ])
    assert member_row(app).name == "Amina W. Otieno"


def test_back_goes_to_the_previous_question(whatsapp):
    play(whatsapp, [
        ("Hi", []), ("1", ["full name"]), ("Amina Wanjiku", ["county"]),
        ("BACK", ["What is your full name?"]),
        ("Amina Njeri", ["Which county"]),
        ("rudi", ["What is your full name?"]),
        ("back", ["may we keep your details?"]),
        ("back", ["This is the first question.", "may we keep your details?"]),
        ("1", ["What is your full name?"]),
    ])


def test_cancel_and_menu_leave_the_flow_and_nothing_is_registered(app, whatsapp):
    play(whatsapp, [
        ("Hi", []), ("1", []), ("Amina Wanjiku", ["county"]),
        ("CANCEL", ["Stopped. Nothing more was saved.", "Main menu", "6. Join the union"]),
        ("6", ["may we keep your details?"]),
        ("sitisha", ["Stopped."]),
        ("MENU", ["Main menu. Reply with a number:"]),
    ])
    assert member_row(app).status == "prospect"


def test_declining_consent_keeps_nothing(app, whatsapp):
    play(whatsapp, [("Hi", []), ("2", ["We have deleted your phone number and your messages", "Send JOIN"])])
    with app.app_context():
        assert db.session.scalars(sa.select(Member.phone)).all() == []
        assert db.session.execute(sa.select(ConsentEvent.kind, ConsentEvent.member_id)).all() == [("refusal", None)]
    play(whatsapp, [("Hi", ["Welcome to Kenya Union of Gig Workers!", "may we keep your details?"])])


def test_kukataa_ruhusa_hakuhifadhi_chochote(app, whatsapp):
    play(whatsapp, [("Habari", ["tunaomba ruhusa"]), ("hapana", ["Tumefuta nambari yako ya simu", "JIUNGE"])])
    with app.app_context():
        assert db.session.scalars(sa.select(Member.phone)).all() == []


def test_stop_in_the_middle_opts_out_once_and_start_brings_them_back(app, whatsapp):
    play(whatsapp, [("Hi", []), ("1", []), ("Amina Wanjiku", ["county"])])
    assert "You will not get any more messages" in whatsapp.says("STOP")
    assert whatsapp.send("STOP") == []
    assert "Send START" in whatsapp.says("Nairobi")
    assert member_row(app).opted_out_at is not None
    reply = whatsapp.says("ANZA")
    assert "You will receive our messages again" in reply and "Main menu" in reply
    with app.app_context():
        kinds = db.session.scalars(sa.select(ConsentEvent.kind).order_by(ConsentEvent.id)).all()
    assert kinds == ["consent", "opt_out", "opt_in"]
    assert member_row(app).opted_out_at is None


def test_swahili_stop_word(app, whatsapp):
    whatsapp.says("Habari")
    assert "Hutapokea ujumbe wowote" in whatsapp.says("acha ujumbe")
    assert member_row(app).opted_out_at is not None


def test_language_switch_in_the_middle_resumes_the_question_in_the_new_language(app, whatsapp):
    play(whatsapp, [
        ("Hi", []), ("1", []), ("Amina Wanjiku", ["Which county"]),
        ("LUGHA", ["Choose your language:", "1. English", "2. Kiswahili"]),
        ("2", ["Sawa: nitakuandikia kwa Kiswahili.", "Unaishi kaunti gani?"]),
        ("Nairobi", ["Unafanya kazi gani ya gig?"]),
        ("language", ["Chagua lugha:"]),
        ("english", ["Done: I will write to you in English.", "What kind of gig work"]),
    ])
    assert member_row(app).language == "en"


def test_help_works_mid_flow_and_repeats_the_question(whatsapp):
    play(whatsapp, [("Hi", []), ("1", []), ("msaada", ["Send one of these words", "To talk to a person: +254700000000",
                                                        "What is your full name?"])])


def test_wrong_answers_reprompt_with_what_is_expected_and_offer_help_after_three(whatsapp):
    play(whatsapp, [
        ("Hi", []),
        ("maybe", ["Please reply 1 if you are 18 or older and agree, 2 if you do not agree, or 3 if you are under 18.",
                   "may we keep your details?"]),
        ("1", []),
        ("12345", ["Please type your full name in letters"]),
        ("\U0001f600\U0001f600", ["Please type your full name in letters"]),
        ("A" * 81, ["Having trouble? Send MENU", "That is too long"]),
        ("Amina Wanjiku", ["Which county"]),
        ("pizza", ["I could not find a county called \u201cpizza\u201d"]),
        ("Nairobi", ["What kind of gig work"]),
        ("9", ["Please reply with numbers from 1 to 7"]),
        ("1, 7", ["What other kind of work"]),
        ("tailoring and mending", ["May we ask them?"]),
        ("maybe", ["Please reply 1 if we may ask about your gender and community, or 2 to skip them."]),
        ("yes", ["What is your gender?"]),
        ("5", ["Please reply with a number from 1 to 3, or SKIP."]),
        ("3", ["refugee"]),
        ("3", ["Please check your details:", "Transcription, tailoring and mending", "Prefer not to say", "Neither"]),
        ("maybe", ["Please reply YES to join, or a number from 1 to 5"]),
        ("yes", ["KUGWO-000001"]),
    ])


@pytest.mark.parametrize("extra", [
    {"Body": ""},
    {"Body": "\U0001f44d\U0001f44d\U0001f44d"},
    {"Body": "x" * 1600},
    {"Body": "", "NumMedia": "1", "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
     "MediaContentType0": "image/jpeg"},
    {"Body": "", "Latitude": "-1.2921", "Longitude": "36.8219"},
    {"Body": "", "NumMedia": "1", "MediaUrl0": "https://api.twilio.com/x/Media/ME2", "MediaContentType0": "audio/ogg"},
    {"Body": "", "ButtonText": "Yes", "ButtonPayload": "yes"},
    {"Body": "مرحبا، أريد الانضمام"},
    {"Body": "Bonjour, je veux adhérer"},
])
def test_no_input_crashes_or_sticks_a_conversation_at_any_step(whatsapp, extra):
    steps = ["Hi", "1", "Amina Wanjiku", "Nairobi", "1", "1", "1", "1"]
    for index in range(len(steps) + 1):
        phone = f"+2547123400{index:02d}"
        member = WhatsApp(whatsapp.client, phone)
        for body in steps[:index]:
            member.send(body)
        form = member.form(**{k: v for k, v in extra.items() if k != "Body"})
        form["Body"] = extra.get("Body", "")
        response = member.post(form)
        assert response.status_code == 200
        assert "Main menu" in member.says("MENU")


def test_a_conversation_left_mid_flow_resumes_with_a_reminder(app, whatsapp):
    play(whatsapp, [("Hi", []), ("1", []), ("Amina Wanjiku", ["county"])])
    with app.app_context():
        db.session.execute(sa.update(Conversation).values(updated_at=Conversation.updated_at - timedelta(hours=3)))
        db.session.commit()
    reply = whatsapp.says("Hi")
    assert "Welcome back! You were telling us your county." in reply and "Which county" in reply
    assert "What kind of gig work" in whatsapp.says("Nairobi")


def test_a_valid_answer_after_a_pause_is_taken(app, whatsapp):
    play(whatsapp, [("Hi", []), ("1", []), ("Amina Wanjiku", ["county"])])
    with app.app_context():
        db.session.execute(sa.update(Conversation).values(updated_at=Conversation.updated_at - timedelta(hours=3)))
        db.session.commit()
    assert "What kind of gig work" in whatsapp.says("Mombasa")


def test_an_expired_conversation_returns_to_the_menu(app, whatsapp):
    play(whatsapp, [("Hi", []), ("1", []), ("Amina Wanjiku", ["county"])])
    with app.app_context():
        db.session.execute(sa.update(Conversation).values(
            updated_at=Conversation.updated_at - timedelta(hours=25),
            expires_at=Conversation.expires_at - timedelta(hours=25)))
        db.session.commit()
    reply = whatsapp.says("Nairobi")
    assert "We closed our last conversation" in reply and "Main menu" in reply


def test_swahili_wrong_answer_reprompts_in_swahili(whatsapp):
    play(whatsapp, [("Jambo", []), ("sijui", ["Tafadhali jibu 1 kama una miaka 18 au zaidi na unakubali"]),
                    ("1", []), ("Wanjiru Kamau", []), ("Ki", ["Ulimaanisha mojawapo ya hizi?"]),
                    ("0", ["Unaishi kaunti gani?"]), ("Kiambu", ["Unafanya kazi gani"])])


def test_every_menu_item_starts_something(whatsapp):
    play(whatsapp, ENGLISH_HAPPY)
    reply = whatsapp.says("menu")
    assert "1. Free courses" in reply and "Join the union" not in reply
    items = [line for line in reply.splitlines() if line[:1].isdigit()]
    assert len(items) >= 6
    for number in range(1, len(items) + 1):
        whatsapp.says("menu")
        answer = whatsapp.says(str(number))
        assert "coming soon" not in answer and "Please reply with a number" not in answer, (number, answer)
