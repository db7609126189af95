"""Reports and exports: their columns, small groups shown as '<5', the date range, role gating and the
audit entry of every export."""

# ruff: noqa: F811  (the course fixtures are imported from test_courses and used as arguments)

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.certificates import service as certificates
from bot.core.extensions import db
from bot.models import AuditEvent, Course, Member, utcnow
from bot.support import tickets
from tests.dashboard_helpers import add_member, make_user, sign_in
from tests.test_courses import catalog  # noqa: F401  (fixture)

CODE = "LIPX-7KQ2-99AB"


def rows_of(response) -> list[list[str]]:
    """A CSV response's rows."""
    assert response.status_code == 200 and response.mimetype == "text/csv", response.status_code
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def exports(app) -> list[tuple[str, str | None, dict]]:
    """(actor, subject, details) of every report export, oldest first."""
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            sa.select(AuditEvent.actor, AuditEvent.subject, AuditEvent.details)
            .where(AuditEvent.action == "report.export").order_by(AuditEvent.id))]


def signed_in(app, role: str):
    """A client signed in as a new account of this role, and its email."""
    client = app.test_client()
    email = make_user(app, role)
    assert sign_in(client, email).status_code == 302
    return client, email


def rewarded_member(app, tmp_path: Path, code: str = CODE, *, expires: str = "") -> int:
    """A member inside the 24-hour window whose certificate link was approved, so that they got `code`
    from the pool; returns the member's id."""
    member_id = add_member(app, "Amina Wanjiku", phone="+254712345678")
    with app.app_context():
        member = db.session.get(Member, member_id)
        member.last_inbound_at = utcnow()
        course_id = db.session.scalar(sa.select(Course.id).order_by(Course.position, Course.id))
        codes = tmp_path / "codes.csv"
        codes.write_text(f"code,expires_on\n{code},{expires}\n", encoding="utf-8")
        certificates.import_vouchers(codes)
        report = certificates.report_link(member, course_id, "https://www.linkedin.com/learning/certificates/z9", "z9")
        db.session.commit()
        certificates.approve_certificate(report.id, reviewer="+254733000001")
        db.session.commit()
    return member_id


def test_vouchers_export_says_who_got_which_code_and_whether_it_arrived(app, catalog, tmp_path):
    rewarded_member(app, tmp_path, expires="2027-06-30")
    officer, email = signed_in(app, "officer")
    rows = rows_of(officer.get("/admin/reports/vouchers.csv"))
    assert rows[0] == ["member_number", "course", "reported_at", "approved_at", "voucher_code", "given_at",
                       "expires_on", "message_status", "message_reason"]
    assert len(rows) == 2
    number, course, reported, approved, code, given, expires, status, reason = rows[1]
    assert (number, code, expires, status, reason) == ("KUGWO-345678", CODE, "2027-06-30", "pending", "")
    assert course and reported.endswith("EAT") and approved.endswith("EAT") and given.endswith("EAT")
    assert "Amina" not in "".join(rows[1]) and "712345678" not in "".join(rows[1])
    page = officer.get("/admin/reports/vouchers.html").get_data(as_text=True)
    assert CODE in page and "Vouchers given: <strong>1</strong>" in page
    assert [(a, s, d["format"], d["rows"]) for a, s, d in exports(app)] == [(email, "vouchers", "csv", 1),
                                                                           (email, "vouchers", "html", 1)]
    before = (datetime.now().date() - timedelta(days=30)).isoformat()
    assert len(rows_of(officer.get(f"/admin/reports/vouchers.csv?from=2020-01-01&to={before}"))) == 1
    assert exports(app)[-1][2]["filters"] == {"from": "2020-01-01", "to": before}
    organiser, _ = signed_in(app, "organiser")
    assert organiser.get("/admin/reports/vouchers.csv").status_code == 403
    assert organiser.get("/admin/reports/vouchers.html").status_code == 403
    assert "report-vouchers-csv" not in organiser.get("/admin/reports").get_data(as_text=True)
    assert len(exports(app)) == 3


def test_tickets_export_gives_volumes_and_time_to_first_answer(app):
    member_id = add_member(app, "Amina", phone="+254712345678")
    opened = utcnow() - timedelta(hours=3)
    with app.app_context():
        member = db.session.get(Member, member_id)
        answered = tickets.open_ticket(member, "How do I pay dues?", "agent", now=opened)
        db.session.commit()
        tickets.reply(answered.id, "Through M-Pesa", now=opened + timedelta(minutes=42))
        tickets.close(answered.id, now=opened + timedelta(hours=1))
        db.session.commit()
        waiting = tickets.open_ticket(member, "And the meeting?", "no_match", now=opened + timedelta(hours=2))
        db.session.commit()
        first, second = answered.id, waiting.id
    organiser, email = signed_in(app, "organiser")
    rows = rows_of(organiser.get("/admin/reports/tickets.csv"))
    assert rows[0] == ["ticket", "opened_at", "reason", "status", "first_answer_at", "minutes_to_first_answer",
                       "closed_at"]
    assert [(r[0], r[2], r[3], r[5]) for r in rows[1:]] == [(str(first), "agent", "closed", "42"),
                                                             (str(second), "no_match", "open", "")]
    page = organiser.get("/admin/reports/tickets.html").get_data(as_text=True)
    assert "Median minutes to first answer: <strong>42</strong>" in page and "Still open: <strong>1</strong>" in page
    assert "How do I pay dues?" not in page
    assert exports(app)[0] == (email, "tickets", {"format": "csv", "filters": exports(app)[0][2]["filters"], "rows": 2})
    officer, _ = signed_in(app, "officer")
    assert officer.get("/admin/reports/tickets.csv").status_code == 403


@pytest.mark.parametrize("role", ["officer", "organiser", "admin"])
def test_membership_breakdowns_hide_small_groups(app, role):
    for i in range(6):
        add_member(app, f"N{i}", phone=f"+25471100000{i}", county="Nairobi", kinds=("transcription",))
    for i in range(2):
        add_member(app, f"K{i}", phone=f"+25471100010{i}", county="Kiambu", kinds=("ride_delivery",), gender="man")
    old = add_member(app, "Old", phone="+254711000200", county="Mombasa")
    with app.app_context():
        db.session.get(Member, old).joined_at = utcnow() - timedelta(days=400)
        db.session.commit()
    client, email = signed_in(app, role)
    rows = rows_of(client.get("/admin/reports/membership.csv"))
    assert rows[0] == ["breakdown", "group", "members"]
    found = {(b, g): n for b, g, n in rows[1:]}
    assert found[("county", "Nairobi")] == "6" and found[("county", "Kiambu")] == "<5"
    assert ("county", "Mombasa") not in found
    assert found[("gender", "Woman")] == "6" and found[("gender", "Man")] == "<5"
    assert found[("community", "Refugee")] == "8" and found[("language", "English")] == "8"
    assert found[("work", "Transcription")] == "6"
    assert all(n == "<5" or int(n) >= 5 for n in found.values())
    year = rows_of(client.get("/admin/reports/membership.csv?from=2000-01-01"))
    assert ("county", "Mombasa", "<5") in {tuple(r) for r in year}
    page = client.get("/admin/reports/membership.html").get_data(as_text=True)
    assert "Members who joined: <strong>8</strong>" in page and "&lt;5" in page
    details = [d for _, _, d in exports(app)]
    assert [d["rows"] for d in details] == [len(rows) - 1, len(year) - 1, len(rows) - 1]
    assert all(set(d) == {"format", "filters", "rows"} for d in details)
    assert all(a == email for a, _, _ in exports(app))
