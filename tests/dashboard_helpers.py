"""Helpers for dashboard tests: accounts, signing in with the CSRF token, seeding members."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bot.core.extensions import db
from bot.dashboard.users import create_user
from bot.models import Member, MemberWork, utcnow

PASSWORD = "correct horse battery"
BASE_URL = "http://localhost"


def make_user(app: Flask, role: str) -> str:
    """A dashboard account of this role; returns its email."""
    email = f"{role}@umoja.example.org"
    with app.app_context():
        create_user(email, PASSWORD, role, name=role.title())
    return email


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD):
    """Sign in through the form, as a browser would."""
    page = client.get("/admin/login")
    return client.post("/admin/login", data={"email": email, "password": password,
                                             "csrf_token": csrf_token(page.get_data(as_text=True))})


def add_member(app: Flask, name: str, *, phone: str = "+254711000001", county: str = "Nairobi",
               kinds: tuple[str, ...] = ("transcription",), gender: str | None = "woman") -> int:
    """An active member; returns the id."""
    with app.app_context():
        member = Member(phone=phone, name=name, county=county, gender=gender, community="refugee", status="active",
                        language="en", joined_at=utcnow(), consent_at=utcnow(), member_number=f"KUGWO-{phone[-6:]}")
        member.work_kinds = [MemberWork(kind=k) for k in kinds]
        db.session.add(member)
        db.session.commit()
        return member.id


@contextmanager
def statements_run(app: Flask) -> Iterator[list[str]]:
    """The SQL statements run inside the block, in order."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
