"""`flask retention report`: for each kind of data the privacy notice names, how long it is kept and how much is
held past that, from the checks each area declares (`Area.retention_checks`): nothing on a fresh database and
after the purges; what a missed purge or a broken erasure would leave, counted, and the command failing."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.core.area import assembled
from bot.core.extensions import db
from bot.models import Certificate, Course, Member, Message, Ticket, TicketMessage, utcnow
from bot.privacy import service as privacy
from tests.helpers.signup import ENGLISH_HAPPY, play

KINDS = ("message texts, media and raw payloads", "people who never consented",
         "name, phone number, WhatsApp name, member number, gender and community",
         "messages of members who deleted their data", "questions to organisers and the cases opened for them",
         "questions and cases of members who deleted their data", "certificate links and files of members who")


def report(app) -> tuple[int, str]:
    """The command's exit code and output."""
    result = app.test_cli_runner().invoke(args=["retention", "report"])
    return result.exit_code, result.output


def held(app) -> dict[str, int]:
    """Kind → how many are held past their time."""
    with app.app_context():
        return {row.kind: row.count for row in privacy.retention_report()}


def test_every_area_with_a_kind_of_data_declares_its_check(app):
    with app.app_context():
        owners = {check.__module__ for check in assembled().retention_checks}
    assert owners == {"bot.privacy.service", "bot.support.tickets", "bot.certificates.service"}


def test_a_fresh_database_holds_nothing_past_its_time(app, whatsapp):
    play(whatsapp, ENGLISH_HAPPY)
    code, output = report(app)
    assert code == 0, output
    assert "nothing is held past its time" in output
    for kind in KINDS:
        assert kind in output
    assert "kept for 180 days (RETENTION_DAYS): 0 held past it" in output
    assert "kept for 30 days after their last message (PROSPECT_DAYS): 0 held past it" in output


def test_what_a_missed_purge_or_a_broken_erasure_leaves_is_counted_until_it_is_gone(app, whatsapp, client):
    play(whatsapp, ENGLISH_HAPPY)
    from tests.helpers.app import WhatsApp

    WhatsApp(client, "+254712000111").send("Hi")  # never answers
    long_ago = utcnow() - timedelta(days=200)
    with app.app_context():
        db.session.execute(sa.update(Message).values(created_at=long_ago))
        db.session.execute(sa.update(Member).values(created_at=long_ago, last_inbound_at=long_ago))
        member = db.session.scalars(sa.select(Member).where(Member.status == "active")).one()
        ticket = Ticket(member_id=member.id, status="closed", reason="agent", created_at=long_ago)
        db.session.add(ticket)
        db.session.flush()
        db.session.add(TicketMessage(ticket_id=ticket.id, author="member", body="My boss has not paid me",
                                     created_at=long_ago))
        db.session.commit()
        messages = db.session.scalar(sa.select(sa.func.count(Message.id)))
    before = held(app)
    assert before["message texts, media and raw payloads"] == messages > 10  # every message of both people
    assert before["phone numbers, WhatsApp names and messages of people who never consented"] == 1
    assert before["questions to organisers and the cases opened for them (closed)"] == 1
    code, output = report(app)
    assert code == 1 and "held past their time: run flask retention purge" in output, output

    runner = app.test_cli_runner()
    assert runner.invoke(args=["retention", "purge"]).exit_code == 0
    assert runner.invoke(args=["retention", "prospects"]).exit_code == 0
    assert set(held(app).values()) == {0}

    with app.app_context():  # an erasure whose hooks missed something
        member = db.session.scalars(sa.select(Member).where(Member.status == "active")).one()
        course = Course(slug="c1", url="https://example.org/c1", titles={"en": "C1"})
        db.session.add(course)
        db.session.flush()
        db.session.add(Certificate(member_id=member.id, course_id=course.id, kind="link", status="verified"))
        db.session.flush()
        privacy.erase_member(member)
        db.session.commit()
        assert set(r.count for r in privacy.retention_report()) == {0}
        member.name = "Amina Wanjiku"
        db.session.execute(sa.update(Certificate).values(link="https://www.linkedin.com/learning/certificates/x"))
        db.session.execute(sa.update(Message).where(Message.member_id == member.id, Message.direction == "in")
                           .values(body="Amina Wanjiku"))
        db.session.commit()
    after = held(app)
    assert after["name, phone number, WhatsApp name, member number, gender and community"] == 1
    assert after["certificate links and files of members who deleted their data"] == 1
    assert after["messages of members who deleted their data"] >= 1
    assert report(app)[0] == 1
