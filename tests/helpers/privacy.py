"""What a test of erasure reads: the whole database as text, and a check that nothing of a person is in it."""

from __future__ import annotations

import subprocess

import sqlalchemy as sa

from tests.helpers.app import DATABASE_URL


def pg_dump() -> str:
    """A plain-text dump of the whole test database."""
    url = sa.engine.make_url(DATABASE_URL).set(drivername="postgresql")
    return subprocess.run(["pg_dump", "--no-owner", url.render_as_string(hide_password=False)],
                          check=True, capture_output=True, text=True).stdout


def assert_nothing_of(text: str, *identifiers: str) -> None:
    """None of the identifiers appears in the text."""
    found = [identifier for identifier in identifiers if identifier in text]
    assert not found, found
