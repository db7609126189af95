"""Seeding broadcasts: members with the attributes a segment looks at, and a running broadcast for workers to race on."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.broadcasts import service as broadcasts
from bot.core.extensions import db
from bot.models import (
    Member,
    MemberWork,
    utcnow,
)

RECENT, OLD = timedelta(hours=1), timedelta(days=3)


def running_broadcast_to(members: int) -> int:
    """A running broadcast to `members` new members, its deliveries resolved (for workers to race on)."""
    add_members(members)
    broadcast = broadcasts.create("Hello")
    broadcast.status = "running"
    db.session.commit()
    broadcasts.resolve(broadcast.id)
    return broadcast.id


def add_members(n: int, *, start: int = 0, county: str = "Nairobi", language: str = "en",
                last_inbound: timedelta | None = RECENT, work: tuple[str, ...] = ("delivery",),
                gender: str | None = None, community: str | None = None, status: str = "active",
                joined: datetime | None = None, opted_out: bool = False) -> list[int]:
    """Add `n` members with the given attributes; returns their ids."""
    now = utcnow()
    ids = []
    for i in range(start, start + n):
        member = Member(phone=f"+2547{i:08d}", status=status, county=county, language=language, gender=gender,
                        community=community, joined_at=joined or now - timedelta(days=30), consent_at=now - OLD * 20,
                        last_inbound_at=now - last_inbound if last_inbound is not None else None,
                        opted_out_at=now if opted_out else None)
        member.work_kinds = [MemberWork(kind=k) for k in work]
        db.session.add(member)
        db.session.flush()
        ids.append(member.id)
    db.session.commit()
    return ids
