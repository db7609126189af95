"""The dashboard's certificates, vouchers and tickets pages; their audit records; the course, certificate
and voucher sections of STATS and the overview's course funnel."""

# ruff: noqa: F811  (the course fixtures are imported from test_courses and used as arguments)

from __future__ import annotations

import json
import re
from datetime import timedelta
from io import BytesIO

import pytest
import sqlalchemy as sa
from flask import Flask

from bot.certificates.service import set_enrolment_status
from bot.core.extensions import db
from bot.members.staff_numbers import add_staff
from bot.models import AuditEvent, Certificate, Course, Member, Ticket, Voucher, utcnow
from bot.support import tickets
from tests.helpers.app import WhatsApp
from tests.helpers.courses import add_member
from tests.helpers.dashboard import csrf_token
from tests.helpers.review import (
    LINK,
    add_codes,
    course_ids,
    member_id,
    report,
    seed_courses,
    signed_in,
    status_of,
)

OFFICER_PHONE = "+254733000001"


def reason_of(app: Flask, certificate_id: int) -> str | None:
    """The reason stored on a report."""
    with app.app_context():
        return db.session.scalar(sa.select(Certificate.reason).where(Certificate.id == certificate_id))


def audit_events(app: Flask, action: str) -> list[tuple[str, str | None, dict | None]]:
    """(actor, subject, details) of every audit event of an action, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent.actor, AuditEvent.subject, AuditEvent.details)
            .where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        return [tuple(row) for row in rows]


def test_officer_approves_and_rejects_from_the_queue(app, client, catalog, fake_twilio, drain, tmp_path):
    add_member(app, "+254712000001", number=1)
    add_member(app, "+254712000002", number=2)
    first, second = course_ids(app)[:2]
    approved = report(app, "+254712000001", first, "aaa111")
    rejected = report(app, "+254712000002", second, "bbb222")
    duplicate = report(app, "+254712000002", first, "aaa111")
    add_codes(app, tmp_path, "CODE-ONE")
    email, token = signed_in(app, client, "officer")

    page = client.get("/admin/certificates").get_data(as_text=True)
    assert "KUGWO-000001" in page and "KUGWO-000002" in page
    assert LINK.format("aaa111") in page
    assert f"Same certificate as report #{approved} from another member" in page
    assert page.count("Same certificate as report") == 1

    response = client.post(f"/admin/certificates/{approved}/approve", data={"csrf_token": token})
    assert response.status_code == 302
    assert status_of(app, approved) == "rewarded"
    response = client.post(f"/admin/certificates/{rejected}/reject",
                           data={"csrf_token": token, "reason": "The name does not match"})
    assert response.status_code == 302
    assert status_of(app, rejected) == "rejected"
    # The same certificate as an accepted one is not approved a second time.
    client.post(f"/admin/certificates/{duplicate}/approve", data={"csrf_token": token})
    assert status_of(app, duplicate) == "pending"
    page = client.get("/admin/certificates").get_data(as_text=True)
    assert "the same certificate as one already accepted" in page
    assert f'id="certificate-{approved}"' not in page and f'id="certificate-{duplicate}"' in page

    assert audit_events(app, "certificate.approve") == [
        (email, f"certificate #{approved}", {"member_id": member_id(app, "+254712000001"), "course_id": first,
                                              "outcome": "rewarded"})]
    # The reason stays on the report (erased with the member's data), not in the audit log: it may name her.
    assert [(a, s, sorted(d)) for a, s, d in audit_events(app, "certificate.reject")] == [
        (email, f"certificate #{rejected}", ["course_id", "member_id"])]
    assert reason_of(app, rejected) == "The name does not match"
    drain()
    bodies = {m["to"]: m["body"] for m in fake_twilio.messages}
    assert "CODE-ONE" in bodies["whatsapp:+254712000001"]
    assert "The name does not match" in bodies["whatsapp:+254712000002"]
    assert client.post(f"/admin/certificates/{approved}/approve", data={"csrf_token": token}).status_code == 302
    assert f"Report #{approved} was already reviewed (rewarded)." in client.get("/admin/certificates").get_data(as_text=True)
    assert client.post("/admin/certificates/999999/approve", data={"csrf_token": token}).status_code == 404


def test_the_stored_file_opens_for_reviewers_only(app, client, catalog, tmp_path):
    add_member(app, "+254712000001")
    course = course_ids(app)[0]
    stored = tmp_path / "cert.pdf"
    stored.write_bytes(b"%PDF-1.4\nproof")
    with app.app_context():
        certificate = Certificate(member_id=member_id(app, "+254712000001"), course_id=course, kind="media",
                                  status="pending", stored_path=str(stored), content_type="application/pdf")
        db.session.add(certificate)
        db.session.commit()
        certificate_id = certificate.id
    signed_in(app, client, "officer")
    page = client.get("/admin/certificates").get_data(as_text=True)
    assert f"/admin/certificates/{certificate_id}/file" in page
    response = client.get(f"/admin/certificates/{certificate_id}/file")
    assert response.status_code == 200 and response.data == b"%PDF-1.4\nproof"
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff" and "no-store" in response.headers["Cache-Control"]
    other = app.test_client()
    signed_in(app, other, "organiser")
    assert other.get(f"/admin/certificates/{certificate_id}/file").status_code == 403


def test_whatsapp_review_is_audited_too(app, client, catalog):
    add_member(app, "+254712000001", number=1)
    add_member(app, "+254712000002", number=2)
    first = course_ids(app)[0]
    one = report(app, "+254712000001", first, "aaa111")
    two = report(app, "+254712000002", first, "ccc333")
    with app.app_context():
        add_staff(OFFICER_PHONE, ["officer"], actor="test")
    officer = WhatsApp(client, OFFICER_PHONE)
    officer.send("Hi")
    assert "waiting list" in officer.says(f"APPROVE {one}")
    assert "rejected" in officer.says(f"REJECT {two} blurred photo")
    assert [(a, s) for a, s, _ in audit_events(app, "certificate.approve")] == [(OFFICER_PHONE, f"certificate #{one}")]
    assert [(a, d["member_id"]) for a, _, d in audit_events(app, "certificate.reject")] == [
        (OFFICER_PHONE, member_id(app, "+254712000002"))]
    assert reason_of(app, two) == "blurred photo"
    officer.says(f"APPROVE {one}")
    assert len(audit_events(app, "certificate.approve")) == 1  # nothing happened, nothing recorded


def test_every_new_form_rejects_a_missing_csrf_token(app, client, catalog):
    add_member(app, "+254712000001")
    certificate = report(app, "+254712000001", course_ids(app)[0], "aaa111")
    with app.app_context():
        member = db.session.scalar(sa.select(Member).where(Member.phone == "+254712000001"))
        ticket = tickets.open_ticket(member, "When is the next meeting?", "manual").id
        db.session.commit()
    signed_in(app, client, "admin")
    posts = [
        (f"/admin/certificates/{certificate}/approve", {}),
        (f"/admin/certificates/{certificate}/reject", {"reason": "no"}),
        ("/admin/vouchers/upload", {"file": (BytesIO(b"code\nX1\n"), "codes.csv")}),
        (f"/admin/tickets/{ticket}/reply", {"text": "Friday"}),
        (f"/admin/tickets/{ticket}/close", {}),
    ]
    for url, data in posts:
        for token in (None, "forged"):
            form = dict(data) | ({"csrf_token": token} if token else {})
            if "file" in form:
                form["file"] = (BytesIO(b"code\nX1\n"), "codes.csv")
            assert client.post(url, data=form, content_type="multipart/form-data").status_code == 400, url
    assert status_of(app, certificate) == "pending"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == 0
        assert db.session.get(Ticket, ticket).status == "open"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("certificate.%") | AuditEvent.action.like("ticket.%")
            | AuditEvent.action.like("vouchers.%"))) == 0


def test_voucher_upload_serves_the_waiting_list_in_order(app, client, catalog, fake_twilio, drain, tmp_path):
    for n in (1, 2, 3):
        add_member(app, f"+25471200000{n}", number=n)
    course = course_ids(app)[0]
    ids = [report(app, f"+25471200000{n}", course, f"key{n}") for n in (1, 2, 3)]
    with app.app_context():
        from bot.certificates.service import approve_certificate

        base = utcnow()
        for offset, certificate_id in zip((2, 0, 1), ids, strict=True):  # approved 1st, 3rd, 2nd
            assert approve_certificate(certificate_id, reviewer="test", now=base - timedelta(hours=offset)).status == "waiting"
        db.session.commit()
        member_of = {i: db.session.get(Certificate, i).member_id for i in ids}
    drain()
    officer = app.test_client()
    signed_in(app, officer, "officer")
    page = officer.get("/admin/vouchers").get_data(as_text=True)
    assert 'id="vouchers-waiting">3<' in page and 'id="vouchers-free">0<' in page
    for i in ids:  # each report names its own member
        assert f'Report #{i}: <a href="/admin/members/{member_of[i]}">' in page
    order = [page.index(f"Report #{i}:") for i in (ids[0], ids[2], ids[1])]
    assert order == sorted(order)  # oldest approval first
    assert "voucher-upload" not in page
    assert officer.post("/admin/vouchers/upload", data={"csrf_token": csrf_token(page)}).status_code == 403

    email, token = signed_in(app, client, "admin")
    csv_text = b"code,expires_on\nNEW-1,2027-06-30\nNEW-2,\nNEW-2,\nnot a code,\n"
    response = client.post("/admin/vouchers/upload", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (BytesIO(csv_text), "codes.csv")})
    assert response.status_code == 302
    page = client.get("/admin/vouchers").get_data(as_text=True)
    assert "2 codes added, 1 duplicates ignored, 1 invalid rows, 2 sent to the waiting list" in page
    assert "Rows not used: row 5: the code has a space in it." in page
    assert 'id="vouchers-given">2<' in page and 'id="vouchers-waiting">1<' in page and 'id="vouchers-free">0<' in page
    assert [status_of(app, i) for i in ids] == ["rewarded", "waiting", "rewarded"]
    assert audit_events(app, "vouchers.import") == [
        (email, "codes.csv", {"added": 2, "duplicates": 1, "invalid": 1, "served": 2})]
    drain()
    bodies = [m["body"] for m in fake_twilio.messages if "NEW-" in m["body"]]
    assert len(bodies) == 2
    response = client.post("/admin/vouchers/upload", content_type="multipart/form-data", data={"csrf_token": token})
    assert response.status_code == 400 and "file" in response.get_data(as_text=True)


def test_staff_changes_are_audited(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["staff", "add", "0733000001", "--role", "officer", "--role", "organiser"]).exit_code == 0
    assert runner.invoke(args=["staff", "remove", "0733000001", "--role", "organiser"]).exit_code == 0
    assert runner.invoke(args=["staff", "remove", "0733000001"]).exit_code == 0
    assert audit_events(app, "staff.add") == [
        ("flask staff", OFFICER_PHONE, {"roles": ["officer", "organiser"], "roles_after": "officer,organiser"})]
    assert audit_events(app, "staff.remove") == [
        ("flask staff", OFFICER_PHONE, {"roles": ["organiser"], "roles_after": "officer"}),
        ("flask staff", OFFICER_PHONE, {"roles": ["admin", "officer", "organiser"], "roles_after": ""}),
    ]


def test_stats_has_course_certificate_and_voucher_sections(app, client, catalog, tmp_path):
    seed_courses(app, tmp_path)
    with app.app_context():
        add_staff(OFFICER_PHONE, ["officer"], actor="test")
        first = db.session.get(Course, course_ids(app)[0]).titles["en"]
    officer = WhatsApp(client, OFFICER_PHONE)
    officer.send("Hi")
    reply = officer.says("STATS")
    assert "Courses: 5 enrolments, 1 completed" in reply
    assert f"Top courses: {first} 3 (1 completed), " in reply
    assert "Certificates: 2 pending, 1 approved" in reply
    assert "Vouchers: 1 issued, 2 left, 0 waiting" in reply
    assert len(reply) <= 1600
    kisumu = officer.says("STATS Kisumu")
    assert "Courses: 2 enrolments, 0 completed" in kisumu and "Certificates: 1 pending, 0 approved" in kisumu
    assert "Vouchers: 1 issued, 2 left, 0 waiting" in kisumu  # the pool is the union's


def test_stats_sections_in_swahili_stay_one_message(app, client, catalog, tmp_path):
    seed_courses(app, tmp_path)
    with app.app_context():
        add_staff(OFFICER_PHONE, ["officer"], actor="test")
        db.session.add(Member(phone=OFFICER_PHONE, status="active", language="sw", joined_at=utcnow(),
                              last_inbound_at=utcnow()))
        db.session.commit()
        first = db.session.get(Course, course_ids(app)[0]).titles["sw"][:29]
    replies = WhatsApp(client, OFFICER_PHONE).send("STATS")
    assert len(replies) == 1 and len(replies[0]) <= 1600
    assert "Kozi: usajili 5, 1 zimekamilika" in replies[0]
    assert f"{first}" in replies[0]  # the top course under its Swahili title
    assert "Vyeti: 2 vinasubiri, 1 vimekubaliwa" in replies[0]
    assert "Vocha: 1 zimetolewa, 2 zimebaki, 0 wanasubiri" in replies[0]


@pytest.mark.parametrize("role", ["officer", "organiser"])
def test_overview_carries_the_course_funnel(app, client, catalog, tmp_path, role):
    seed_courses(app, tmp_path)
    signed_in(app, client, role)
    page = client.get("/admin/").get_data(as_text=True)
    assert 'data-chart="funnel"' in page
    charts = json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S).group(1))
    assert charts["funnel"]["labels"] == ["enrolled", "reported", "verified", "rewarded"]
    assert charts["funnel"]["values"] == [5, 3, 1, 1]  # steps of enrolments, not groups of people: all drawn


def test_course_numbers_come_from_the_snapshot_the_clock_refreshes(app, client, catalog, tmp_path):
    from bot.core.area import assembled
    from bot.courses.area import refresh_course_stats

    assert any(job.func is refresh_course_stats and job.interval for job in assembled(app).periodic)
    seed_courses(app, tmp_path)
    with app.app_context():
        add_staff(OFFICER_PHONE, ["officer"], actor="test")
    officer = WhatsApp(client, OFFICER_PHONE)
    officer.send("Hi")
    assert "Courses: 5 enrolments, 1 completed" in officer.says("STATS")
    add_member(app, "+254712000009", number=9)
    with app.app_context():
        set_enrolment_status(member_id(app, "+254712000009"), course_ids(app)[3], "enrolled")
        db.session.commit()
    assert "Courses: 5 enrolments" in officer.says("STATS")  # the snapshot kept in Redis
    with app.app_context():
        refresh_course_stats()
    assert "Courses: 6 enrolments" in officer.says("STATS")
    saved = app.config["COURSE_STATS_MAX_AGE"]
    app.config["COURSE_STATS_MAX_AGE"] = 0
    try:
        with app.app_context():
            set_enrolment_status(member_id(app, "+254712000009"), course_ids(app)[4], "enrolled")
            db.session.commit()
        assert "Courses: 7 enrolments" in officer.says("STATS")  # counted at every STATS
    finally:
        app.config["COURSE_STATS_MAX_AGE"] = saved
