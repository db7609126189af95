"""A member who agreed to an older notice version is asked again at their next message, once, through the real
webhook: yes records the new version, no offers DELETE MY DATA and erases nothing, STOP, HELP and DELETE MY DATA
work without answering, and the earlier consent stands until they answer."""

from __future__ import annotations

import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import ConsentEvent, Member
from tests.test_signup_transcripts import ENGLISH_HAPPY, SWAHILI_HAPPY, member_row, play

ASKED = "Our privacy notice has changed"


def consented_to_an_older_notice(app) -> None:
    """Make the member's consent one given to the previous notice version."""
    with app.app_context():
        db.session.execute(sa.update(Member).values(consent_version="2026-11"))
        db.session.commit()


def event_kinds(app) -> list[tuple[str, str | None]]:
    """The consent events, oldest first."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            sa.select(ConsentEvent.kind, ConsentEvent.text_version).order_by(ConsentEvent.id))]


def test_yes_records_the_new_version_and_the_member_is_asked_once(app, whatsapp):
    play(whatsapp, ENGLISH_HAPPY)
    consented_to_an_older_notice(app)
    play(whatsapp, [
        ("menu", [ASKED, "Send PRIVACY to read the full notice", "1. Yes, I am 18 or older and I agree",
                  "your earlier agreement stays until you answer"]),
        ("PRIVACY", ["PRIVACY NOTICE (1/3)", ASKED]),
        ("maybe", ["Please reply 1 if you agree to the new notice", ASKED]),
        ("1", ["your agreement to the new notice is recorded", "Main menu"]),
        ("menu", ["Main menu"]),
    ])
    assert member_row(app).consent_version == "2026-12"
    assert event_kinds(app)[-2:] == [("notice_asked", "2026-12"), ("consent", "2026-12")]
    assert ASKED not in whatsapp.says("hi")


def test_no_offers_delete_my_data_erases_nothing_and_is_not_asked_again(app, whatsapp):
    play(whatsapp, SWAHILI_HAPPY)
    consented_to_an_older_notice(app)
    play(whatsapp, [
        ("mwanzo", ["Taarifa yetu ya faragha imebadilika", "Tuma FARAGHA"]),
        ("hapana", ["hakuna kilichofutwa", "FUTA TAARIFA ZANGU", "Menyu kuu"]),
    ])
    member = member_row(app)
    assert (member.status, member.name, member.consent_version) == ("active", "Baraka Otieno", "2026-11")
    assert event_kinds(app)[-2:] == [("notice_asked", "2026-12"), ("notice_declined", "2026-12")]
    assert "imebadilika" not in whatsapp.says("mwanzo")


def test_help_and_delete_my_data_work_without_answering(app, whatsapp):
    """HELP is answered without asking; DELETE MY DATA at the question erases after its confirmation."""
    play(whatsapp, ENGLISH_HAPPY)
    consented_to_an_older_notice(app)
    reply = whatsapp.says("HELP")
    assert "Send one of these words" in reply and ASKED not in reply
    play(whatsapp, [("menu", [ASKED]), ("DELETE MY DATA", ["Delete your data?"]),
                    ("1", ["Your personal data has been deleted"])])
    with app.app_context():
        phone, name = db.session.execute(sa.select(Member.phone, Member.name)).one()
    assert phone.startswith("erased-") and name is None


def test_stop_at_the_question_opts_out_and_an_earlier_agreement_stands(app, whatsapp):
    play(whatsapp, ENGLISH_HAPPY)
    consented_to_an_older_notice(app)
    play(whatsapp, [("hello", [ASKED]), ("STOP", ["You will not get any more messages"])])
    member = member_row(app)
    assert member.opted_out_at is not None and member.consent_version == "2026-11" and member.status == "active"
