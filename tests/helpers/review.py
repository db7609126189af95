"""Seeding the certificate review: courses, enrolments, link reports and the voucher pool, and a signed-in account."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from bot.certificates.service import import_vouchers, report_link, set_enrolment_status
from bot.core.extensions import db
from bot.models import Certificate, Course, Member
from tests.helpers.courses import add_member
from tests.helpers.dashboard import csrf_token, make_user, sign_in

LINK = "https://www.linkedin.com/learning/certificates/{}"


def course_ids(app: Flask) -> list[int]:
    """The catalog's course ids, in order."""
    with app.app_context():
        return list(db.session.scalars(sa.select(Course.id).order_by(Course.position, Course.id)))


def report(app: Flask, phone: str, course: int, key: str) -> int:
    """A pending certificate link report; returns its id."""
    with app.app_context():
        member = db.session.scalar(sa.select(Member).where(Member.phone == phone))
        certificate = report_link(member, course, LINK.format(key), key)
        db.session.commit()
        return certificate.id


def add_codes(app: Flask, tmp_path: Path, *codes: str) -> None:
    """Voucher codes in the pool (through the import service)."""
    path = tmp_path / "seed.csv"
    path.write_text("code\n" + "".join(f"{c}\n" for c in codes), encoding="utf-8")
    with app.app_context():
        import_vouchers(path)
        db.session.commit()


def status_of(app: Flask, certificate_id: int) -> str:
    """A report's status now."""
    with app.app_context():
        return db.session.get(Certificate, certificate_id).status


def signed_in(app: Flask, client, role: str) -> tuple[str, str]:
    """Sign in a new account of this role; returns (email, a CSRF token of the session)."""
    email = make_user(app, role)
    assert sign_in(client, email).status_code == 302
    return email, csrf_token(client.get("/admin/").get_data(as_text=True))


def seed_courses(app: Flask, tmp_path: Path) -> None:
    """Three members in two counties with enrolments at every step, reports, and the voucher pool."""
    add_member(app, "+254712000001", number=1)
    add_member(app, "+254712000002", number=2)
    add_member(app, "+254712000003", number=3)
    with app.app_context():
        db.session.execute(sa.update(Member).values(county="Nairobi"))
        db.session.execute(sa.update(Member).where(Member.phone == "+254712000003").values(county="Kisumu"))
        db.session.commit()
    first, second, third = course_ids(app)[:3]
    add_codes(app, tmp_path, "C1", "C2", "C3")
    with app.app_context():
        one, two, three = (member_id(app, f"+25471200000{n}") for n in (1, 2, 3))
        for member, course in ((one, first), (two, first), (three, first), (one, second), (three, third)):
            set_enrolment_status(member, course, "enrolled")
        db.session.commit()
    from bot.certificates.service import approve_certificate

    approved = report(app, "+254712000001", first, "k1")  # → rewarded
    report(app, "+254712000003", first, "k3")  # pending, Kisumu
    report(app, "+254712000001", second, "k2")  # pending, reported
    with app.app_context():
        assert approve_certificate(approved, reviewer="test").status == "rewarded"
        db.session.commit()


def member_id(app: Flask, phone: str) -> int:
    """A member's id by phone."""
    with app.app_context():
        return db.session.scalar(sa.select(Member.id).where(Member.phone == phone))
