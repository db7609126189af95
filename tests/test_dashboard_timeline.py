"""The member timeline on the dashboard: everything in time order, masked for organisers, internal notes
(audited, erased with the member's data), and a bounded number of statements per page."""

# ruff: noqa: F811  (the course fixtures are imported from test_courses and used as arguments)

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.broadcasts import service as broadcasts
from bot.certificates import service as certificates
from bot.core.extensions import db
from bot.courses import reminders
from bot.courses import service as courses
from bot.models import AuditEvent, ConsentEvent, Course, Member, MemberNote, Message, Ticket, utcnow
from bot.privacy import service as privacy
from bot.support import tickets
from tests.helpers.dashboard import csrf_token, make_user, sign_in, statements_run
from tests.helpers.signup import ENGLISH_HAPPY, play

PHONE = "+254712345678"
PHONE_FORMS = ("+254712345678", "254712345678", "0712345678", "0712 345 678", "712345678", "+254 712 345 678")
CODE = "LIPX-7KQ2-99AB"
REVIEWER = "+254733000001"


def the_member() -> Member:
    """The member who signed up through the webhook."""
    return db.session.scalar(sa.select(Member).where(Member.phone == PHONE))


def everything(app, whatsapp, drain, tmp_path: Path) -> int:
    """A member who has done a lot: signed up, enrolled, got a reminder, reported a certificate, had it
    approved (the voucher message skipped: outside the window with no template), asked for a person and
    got an answer, received a broadcast. Returns the member's id."""
    play(whatsapp, ENGLISH_HAPPY)
    now = utcnow()
    with app.app_context():
        member_id = the_member().id
        # Sign-up happened ten days ago, so that the course's reminder (3 days after enrolment) is due.
        back = timedelta(days=10)
        db.session.execute(sa.update(Member).where(Member.id == member_id).values(
            created_at=Member.created_at - back, joined_at=Member.joined_at - back,
            last_inbound_at=Member.last_inbound_at - back))
        for model in (Message, ConsentEvent):
            db.session.execute(sa.update(model).where(model.member_id == member_id)
                               .values(created_at=model.created_at - back))
        db.session.commit()
        course_id = db.session.scalar(sa.select(Course.id).order_by(Course.position, Course.id))
        enrolment_id = courses.enrol(the_member(), course_id, now=now - timedelta(days=8)).id
        db.session.commit()
    with app.app_context():
        assert reminders.send_reminder(enrolment_id, 3, now=now - timedelta(days=5)) == "skipped: no_template"
    with app.app_context():
        codes = tmp_path / "codes.csv"
        codes.write_text(f"code\n{CODE}\n", encoding="utf-8")
        certificates.import_vouchers(codes)
        report = certificates.report_link(the_member(), course_id, "https://www.linkedin.com/learning/certificates/abc1",
                                          "abc1", now=now - timedelta(days=3))
        db.session.commit()
        # Outside the window with no template: the voucher's message is skipped, with its reason.
        certificates.approve_certificate(report.id, reviewer=REVIEWER, now=now - timedelta(days=2))
        db.session.commit()
    drain()
    whatsapp.send("AGENT")
    whatsapp.send("My number is 0712 345 678, please help")
    with app.app_context():
        ticket_id = db.session.scalar(sa.select(Ticket.id).where(Ticket.member_id == member_id))
        tickets.reply(ticket_id, "We will call you on 0712 345 678 today", actor="organiser@umoja.example.org")
        db.session.commit()
        broadcast = broadcasts.create({"en": "Meeting on Saturday", "sw": "Mkutano Jumamosi"})
        assert broadcasts.send(broadcast.id) == "running"
    drain()
    return member_id


def titles_of(html: str) -> list[str]:
    """The timeline's entry titles, in page order."""
    return re.findall(r'<strong class="title">([^<]*)</strong>', html)


def add_note(client, member_id: int, text: str):
    """Post a note through the member page's form."""
    page = client.get(f"/admin/members/{member_id}").get_data(as_text=True)
    return client.post(f"/admin/members/{member_id}/notes", data={"body": text, "csrf_token": csrf_token(page)})


def test_the_timeline_of_a_member_who_did_everything(app, client, whatsapp, drain, catalog, tmp_path):
    member_id = everything(app, whatsapp, drain, tmp_path)
    officer_email = make_user(app, "officer")
    sign_in(client, officer_email)
    assert add_note(client, member_id, f"Called her on {PHONE}; she redeemed {CODE}").status_code == 302
    html = client.get(f"/admin/members/{member_id}").get_data(as_text=True)
    titles = titles_of(html)
    order = ["First contact", "Gave consent", "Joined", "Enrolled in", "Reminder after 3 days", "Reported a certificate",
             "Certificate approved", "Voucher code given", "Ticket #", "Ticket #", "Ticket #", "Broadcast #",
             "Note by officer@umoja.example.org"]
    positions = []
    for wanted in order:
        start = positions[-1] + 1 if positions else 0
        found = next((i for i in range(start, len(titles)) if titles[i].startswith(wanted)), None)
        assert found is not None, (wanted, titles)
        positions.append(found)
    assert "Member wrote" in titles and "Sent to the member" in titles
    times = re.findall(r'<time datetime="([^"]+)"', html)
    assert times == sorted(times)
    voucher = html.split('data-kind="voucher"')[1].split("</li>")[0]
    # Skipped outside the window with no template, the code was kept for her and sent when she next wrote.
    assert CODE in voucher and "outbox" in voucher
    assert "outside the 24-hour window and no template" in html
    assert "Meeting on Saturday" in html and "What is your full name?" in html
    assert "We will call you on 0712 345 678 today" in html and REVIEWER in html
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d EAT</time>", html)
    # The broadcast's entry says when it was sent (Twilio accepted it), in TIMEZONE.
    broadcast_entry = html.split('data-kind="broadcast"')[1].split("</li>")[0]
    assert re.search(r"sent \d{4}-\d\d-\d\d \d\d:\d\d EAT", broadcast_entry)
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "member.note"))
        assert (event.actor, event.subject) == (officer_email, f"member:{member_id}")
        assert PHONE not in str(event.details) and CODE not in str(event.details)

    organiser = app.test_client()
    sign_in(organiser, make_user(app, "organiser"))
    masked = organiser.get(f"/admin/members/{member_id}").get_data(as_text=True)
    assert titles_of(masked) == titles
    for written in (*PHONE_FORMS, CODE, REVIEWER):
        assert written not in masked, written
    assert "Note by officer@umoja.example.org" in masked and "••••••" in masked


def test_the_voucher_entry_says_how_its_message_went(app, client, whatsapp, drain, catalog, tmp_path):
    member_id = everything(app, whatsapp, drain, tmp_path)
    with app.app_context():
        carrier = db.session.scalar(sa.select(Message).where(Message.member_id == member_id,
                                                             Message.body.contains(CODE))
                                    .order_by(Message.created_at.desc(), Message.id.desc()).limit(1))
        carrier.status, carrier.error_code, carrier.payload = "failed", 63024, None
        db.session.commit()
    sign_in(client, make_user(app, "admin"))
    html = client.get(f"/admin/members/{member_id}").get_data(as_text=True)
    voucher = html.split('data-kind="voucher"')[1].split("</li>")[0]
    assert "failed" in voucher and "invalid message recipient" in voucher


def test_the_timeline_costs_the_same_statements_however_long(app, client, whatsapp, drain, catalog, tmp_path):
    member_id = everything(app, whatsapp, drain, tmp_path)
    sign_in(client, make_user(app, "organiser"))
    client.get(f"/admin/members/{member_id}")
    with statements_run(app) as before:
        assert client.get(f"/admin/members/{member_id}").status_code == 200
    for n in range(15):
        whatsapp.send(f"question number {n}")
    with app.app_context():
        for _ in range(3):
            ticket = tickets.open_ticket(the_member(), "more help", "agent")
            tickets.add_entry(ticket, "member", "and more", utcnow())
            tickets.close(ticket.id, actor="test")
        db.session.commit()
    sign_in(client, "organiser@umoja.example.org")
    for n in range(5):
        assert add_note(client, member_id, f"note {n}").status_code == 302
    with statements_run(app) as after:
        assert client.get(f"/admin/members/{member_id}").status_code == 200
    assert len(after) == len(before) <= 20


def test_notes_are_checked_and_erased_with_the_members_data(app, client, whatsapp):
    whatsapp.send("Hi")
    with app.app_context():
        member_id = the_member().id
    sign_in(client, make_user(app, "organiser"))
    assert add_note(client, member_id, "   ").status_code == 400
    assert client.post(f"/admin/members/{member_id}/notes", data={"body": "no token"}).status_code == 400
    token = csrf_token(client.get(f"/admin/members/{member_id}").get_data(as_text=True))
    assert client.post("/admin/members/999999/notes", data={"body": "x", "csrf_token": token}).status_code == 404
    assert add_note(client, member_id, "Prefers calls after 6pm").status_code == 302
    assert "Prefers calls after 6pm" in client.get(f"/admin/members/{member_id}").get_data(as_text=True)
    with app.app_context():
        privacy.erase_member(the_member(), utcnow())
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberNote)) == 0


def test_a_change_of_language_is_on_the_timeline(app, client, whatsapp):
    play(whatsapp, ENGLISH_HAPPY)
    whatsapp.send("KISWAHILI")
    whatsapp.send("FRANÇAIS")
    with app.app_context():
        member_id = the_member().id
        assert the_member().language == "fr"
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "member.language")
                                    .order_by(AuditEvent.id)).all()
        assert [(e.details["language_from"], e.details["language_to"]) for e in events] == [("en", "sw"), ("sw", "fr")]
        assert all(PHONE not in str(e.details) and e.subject == f"member:{member_id}" for e in events)
    sign_in(client, make_user(app, "organiser"))
    html = client.get(f"/admin/members/{member_id}").get_data(as_text=True)
    assert titles_of(html).count("Language changed") == 2
    assert "English → Kiswahili" in html and "Kiswahili → Français" in html
