"""Running member counts for STATS: PostgreSQL triggers on members and member_work append +1/-1 rows here,
a periodic job folds them together, and STATS sums a few thousand rows instead of a million members."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.extensions import db
from bot.models.members import Member, MemberWork


class MemberTally(db.Model):
    """Signed-up members with one combination of county, gender, community, opt-out, erasure and kinds of
    work (sorted, comma-joined); rows are deltas until `compact_tallies` folds them (sum them to count).
    A member who erased their data counts with `erased` set and `opted_out` not (each member one of active,
    opted out or erased)."""

    __tablename__ = "member_tallies"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    county: Mapped[str] = mapped_column(sa.String(40), default="")
    gender: Mapped[str] = mapped_column(sa.String(20), default="")
    community: Mapped[str] = mapped_column(sa.String(20), default="")
    opted_out: Mapped[bool] = mapped_column(default=False)
    erased: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    work: Mapped[str] = mapped_column(sa.String(400), default="")
    members: Mapped[int] = mapped_column(default=0)


# New members this week/month in one county: a range scan instead of the county's every row.
sa.Index("ix_members_county_joined_at", Member.county, Member.joined_at)
# New members this week/month doing one kind of work: two index-only scans joined by member id.
sa.Index("ix_members_joined_at_status_id", Member.joined_at, Member.status, Member.id)
sa.Index("ix_member_work_kind_member_id", MemberWork.kind, MemberWork.member_id)
