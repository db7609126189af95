"""A member who finished sign-up (for the course tests; sign-up itself is tested elsewhere)."""

from __future__ import annotations

from flask import Flask

from bot.core.extensions import db
from bot.models import Member, utcnow


def add_member(app: Flask, phone: str, *, language: str = "en", number: int = 1) -> None:
    """A member who finished sign-up (sign-up itself is tested elsewhere)."""
    with app.app_context():
        db.session.add(Member(phone=phone, status="active", language=language, name="Amina Wanjiku",
                              member_number=f"KUGWO-{number:06d}", joined_at=utcnow(), last_inbound_at=utcnow()))
        db.session.commit()
