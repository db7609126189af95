"""People who neither consent nor refuse: forgotten PROSPECT_DAYS after their last message by the privacy area's
daily job and `flask retention prospects`, as a refusal is (their rows are gone and nothing of them is stored),
while members, people who consented, staff numbers and recent contacts stay; and no reminders for anyone who
enrolled in a course without consenting."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.core.area import assembled
from bot.core.extensions import db
from bot.courses.reminders import send_reminder
from bot.models import ConsentEvent, Conversation, Enrolment, Member, Message, Ticket, utcnow
from bot.privacy import area as privacy_area
from bot.privacy import service as privacy
from tests.helpers.signup import play
from tests.helpers.staff import staff_phone
from tests.test_privacy import NamedPhone, everything_stored, phone_formats

SILENT = "+254712345678"  # wrote, enrolled and asked, never answered the consent question
RECENT = "+254712000111"  # wrote yesterday
CONSENTED = "+254712000555"  # agreed, has not finished joining


def age(app, phone: str, days: float) -> None:
    """Move a person's first contact and last message `days` into the past."""
    with app.app_context():
        when = utcnow() - timedelta(days=days)
        db.session.execute(sa.update(Member).where(Member.phone == phone).values(created_at=when, last_inbound_at=when))
        db.session.commit()


def phones(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(sa.select(Member.phone)))


def as_before_the_notice_was_asked_first(app, phone: str) -> None:
    """Take a prospect's consent back out of the database: the rows of someone who enrolled or asked a person
    before the notice came first (today the router asks for consent before storing either)."""
    with app.app_context():
        member_id = db.session.scalar(sa.select(Member.id).where(Member.phone == phone))
        db.session.execute(sa.update(Member).where(Member.id == member_id).values(consent_at=None, consent_version=None))
        db.session.execute(sa.delete(ConsentEvent).where(ConsentEvent.member_id == member_id))
        db.session.commit()


def enrol_agreeing(member) -> None:
    """Enrol through the webhook as a prospect: the notice is asked first, and agreed to."""
    play(member, [("courses", []), ("1", []), ("yes", ["may we keep your details?"]), ("1", ["You are enrolled in"])])


def test_people_who_never_answered_are_forgotten_after_prospect_days(app, client, catalog):
    silent = NamedPhone(client, SILENT, "Mama Njeri")
    play(silent, [("Hi", ["may we keep your details?"]), ("menu", ["Main menu"])])
    enrol_agreeing(silent)
    play(silent, [("menu", []), ("Can the union lend me money for a motorbike?", ["Pass my question to a person"]),
                  ("agent", ["ticket #1"])])
    as_before_the_notice_was_asked_first(app, SILENT)
    play(NamedPhone(client, RECENT, "Baba Otieno"), [("Hi", ["may we keep your details?"])])
    play(NamedPhone(client, CONSENTED, "Dada Akinyi"), [("Hi", []), ("1", ["What is your full name?"])])
    staff_phone(app, client, "+254733000009", "organiser")
    for phone in (SILENT, CONSENTED, "+254733000009"):
        age(app, phone, 31)
    age(app, RECENT, 29)
    with app.app_context():
        silent_id = db.session.scalar(sa.select(Member.id).where(Member.phone == SILENT))
        assert db.session.scalar(sa.select(sa.func.count()).where(Enrolment.member_id == silent_id)) == 1

    result = app.test_cli_runner().invoke(args=["retention", "prospects"])
    assert result.exit_code == 0 and "forgot 1 people who never consented" in result.output, result.output

    assert phones(app) == sorted([RECENT, CONSENTED, "+254733000009"])
    with app.app_context():
        for model in (Message, Conversation, Enrolment, Ticket):
            assert db.session.scalar(sa.select(sa.func.count()).where(model.member_id == silent_id)) == 0, model
        events = db.session.execute(sa.select(ConsentEvent.kind, ConsentEvent.member_id)
                                    .where(ConsentEvent.kind == privacy.PROSPECT_PURGED)).all()
        assert events == [(privacy.PROSPECT_PURGED, None)]
    stored = everything_stored(app)
    found = [word for word in (*phone_formats(SILENT), "Mama Njeri", "motorbike") if word in stored]
    assert not found, found
    assert "Baba Otieno" in stored and "Dada Akinyi" in stored  # the others stay as they were


def test_members_and_the_erased_are_never_purged(app, client):
    play(NamedPhone(client, SILENT, "Mama Njeri"), [("Hi", []), ("1", []), ("Njeri Kamau", []), ("Nairobi", []),
                                                   ("1", []), ("2", []), ("yes", ["Karibu"])])
    age(app, SILENT, 400)
    with app.app_context():
        assert privacy.purge_prospects() == 0
        member = db.session.scalars(sa.select(Member)).one()
        privacy.erase_member(member)
        db.session.commit()
        assert privacy.purge_prospects(days=0) == 0
        assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 1


def test_prospect_days_sets_the_period_and_the_clock_runs_the_purge_daily(app, client):
    play(NamedPhone(client, SILENT, "Mama Njeri"), [("Hi", [])])
    age(app, SILENT, 8)
    assert app.config["PROSPECT_DAYS"] == 30
    with app.app_context():
        assert privacy.purge_prospects() == 0
        assert privacy.purge_prospects(days=7) == 1
        [job] = [j for j in assembled().periodic if j.func is privacy_area.purge_prospects]
        assert job.cron and job.queue == "default"
    assert phones(app) == []


def test_no_reminder_for_someone_who_enrolled_without_consenting(app, client, catalog, fake_twilio, drain):
    silent = NamedPhone(client, SILENT, "Mama Njeri")
    play(silent, [("Hi", []), ("menu", [])])
    enrol_agreeing(silent)
    as_before_the_notice_was_asked_first(app, SILENT)
    with app.app_context():
        enrolment_id = db.session.scalar(sa.select(Enrolment.id))
        db.session.execute(sa.update(Enrolment).values(enrolled_at=utcnow() - timedelta(days=3.5)))
        db.session.commit()
        assert send_reminder(enrolment_id, 3) == "skipped: no_consent"
    drain()
    assert not [m for m in fake_twilio.messages if "reminder" in (m.get("body") or "").lower()]
