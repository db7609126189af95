"""Certificates and vouchers: a LinkedIn Learning link, a voucher CSV and its import, a pending link report."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from bot.certificates.service import report_link
from bot.core.extensions import db
from bot.models import Course, Member

LINK = "https://www.linkedin.com/learning/certificates/0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"


def vouchers_csv(tmp_path: Path, *codes: str, expiry: str = "") -> Path:
    """A voucher CSV."""
    path = tmp_path / "codes.csv"
    path.write_text("code,expires_on\n" + "".join(f"{code},{expiry}\n" for code in codes), encoding="utf-8")
    return path


def import_codes(app: Flask, path: Path) -> str:
    """Run `flask vouchers import`."""
    result = app.test_cli_runner().invoke(args=["vouchers", "import", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def pending_report(app: Flask, phone: str, course_slug: str = "cybersecurity", key: str | None = None) -> int:
    """A member with a pending link report; returns the report id."""
    with app.app_context():
        member = db.session.scalars(sa.select(Member).where(Member.phone == phone)).one()
        course_id = db.session.scalar(sa.select(Course.id).where(Course.slug == course_slug))
        key = key or f"{phone}-{course_slug}"
        report = report_link(member, course_id, f"https://www.linkedin.com/learning/certificates/{key}", key)
        db.session.commit()
        return report.id
