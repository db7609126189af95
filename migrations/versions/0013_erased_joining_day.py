"""members who erased their data before this keep their joining day, not the first of the month

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 13:15:00

"""
from datetime import datetime, time
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa
from flask import current_app


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


# DELETE MY DATA used to cut the joining time to the first of its UTC month, so an erased member left "new
# this week" and, joining in the first three hours of a month in Nairobi, moved to the month before. It
# now keeps the day (its midnight in TIMEZONE). The member number ledger still holds when the number was
# issued, which is when the member joined: where it agrees with the month kept, the day comes back.
ERASED = sa.text("""
    SELECT m.id, m.joined_at, n.issued_at FROM members AS m JOIN member_numbers AS n ON n.member_id = m.id
    WHERE m.status = 'deleted' AND m.joined_at IS NOT NULL
""")
UTC = ZoneInfo("UTC")


def moment(value):
    """A timestamp as the driver returns it (SQLite: text) as a naive datetime."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def upgrade():
    zone = ZoneInfo(current_app.config.get("TIMEZONE") or "Africa/Nairobi")
    connection = op.get_bind()
    for member_id, joined, issued in connection.execute(ERASED).all():
        joined_at, issued_at = moment(joined), moment(issued)
        if (issued_at.year, issued_at.month) != (joined_at.year, joined_at.month) or joined_at != datetime(
                joined_at.year, joined_at.month, 1):
            continue  # not what the old erasure left, or the ledger tells another story: leave it
        day = issued_at.replace(tzinfo=UTC).astimezone(zone).date()
        midnight = datetime.combine(day, time(), zone).astimezone(UTC).replace(tzinfo=None)
        connection.execute(sa.text("UPDATE members SET joined_at = :day WHERE id = :id"),
                           {"day": midnight, "id": member_id})


def downgrade():
    pass  # the day is finer than the month the earlier code kept, and that code reads it as it is
