"""Enrolments made through the webhook and moved into the past, for the reminder tests."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import Enrolment, Member, utcnow
from tests.helpers.signup import play


def enrol(member, course: str = "1") -> None:
    """Enrol through the webhook."""
    play(member, [("courses", []), (course, []), ("yes", ["You are enrolled in"])])


def age_enrolment(app, days: float, *, last_inbound: timedelta | None = None) -> int:
    """Move the enrolment `days` into the past (and the member's last message); returns its id."""
    with app.app_context():
        enrolment = db.session.scalars(sa.select(Enrolment)).one()
        enrolment.enrolled_at = utcnow() - timedelta(days=days)
        if last_inbound is not None:
            db.session.execute(sa.update(Member).values(last_inbound_at=utcnow() - last_inbound))
        db.session.commit()
        return enrolment.id
