"""Course, certificate and voucher numbers: STATS sections (appended to SECTION_PROVIDERS) and the
dashboard's course funnel.

Enrolments and certificates count for the members a STATS filter is about (county, kind of work); the
voucher pool is the union's, so its numbers are the same under every filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bot.extensions import db
from bot.models import Certificate, Course, Enrolment, Member, Voucher
from bot.services.stats import SECTION_PROVIDERS, StatsFilter, in_scope, number
from flows.base import N_, Line, Text, msg

TOP_COURSES = 3
TITLE_CHARS = 30
REPORTED = ("reported", "verified", "rewarded")
VERIFIED = ("verified", "rewarded")
ACCEPTED = ("approved", "waiting", "rewarded")


@dataclass(frozen=True)
class CourseCounts:
    """Enrolments at each step of the funnel, and per course (course id → enrolled, completed)."""

    enrolled: int
    reported: int
    verified: int
    rewarded: int
    per_course: dict[int, tuple[int, int]]

    @property
    def completed(self) -> int:
        """Enrolments whose certificate was accepted."""
        return self.verified


def course_counts(f: StatsFilter) -> CourseCounts:
    """Enrolments of the members in scope, per course and per step (enrolled → reported → verified → rewarded)."""
    rows = db.session.execute(
        sa.select(
            Enrolment.course_id,
            sa.func.count(),
            sa.func.count().filter(Enrolment.status.in_(REPORTED)),
            sa.func.count().filter(Enrolment.status.in_(VERIFIED)),
            sa.func.count().filter(Enrolment.status == "rewarded"),
        ).join(Member, Member.id == Enrolment.member_id).where(*in_scope(f)).group_by(Enrolment.course_id)
    ).all()
    totals = [sum(int(row[i]) for row in rows) for i in range(1, 5)]
    return CourseCounts(*totals, per_course={int(row[0]): (int(row[1]), int(row[3])) for row in rows})


def funnel(f: StatsFilter | None = None) -> list[tuple[str, int]]:
    """The course funnel for the overview chart: enrolled, reported, verified, rewarded."""
    counts = course_counts(f or StatsFilter())
    return [("enrolled", counts.enrolled), ("reported", counts.reported), ("verified", counts.verified),
            ("rewarded", counts.rewarded)]


def short_title(course: Course) -> str:
    """A course's English title, shortened to fit the STATS message."""
    title = str((course.titles or {}).get("en") or course.slug)
    return title if len(title) <= TITLE_CHARS else title[:TITLE_CHARS - 1] + "…"


def course_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """Enrolments and completions in total, and the most followed courses."""
    counts = course_counts(f)
    lines: list[Line] = [msg(N_("Courses: %(enrolled)s enrolments, %(completed)s completed"),
                             enrolled=number(counts.enrolled), completed=number(counts.completed))]
    top = sorted(counts.per_course.items(), key=lambda item: (-item[1][0], item[0]))[:TOP_COURSES]
    if top:
        courses = {c.id: c for c in db.session.scalars(sa.select(Course).where(Course.id.in_([k for k, _ in top])))}
        items = [msg(N_("%(course)s %(enrolled)s (%(completed)s completed)"), course=Text(short_title(courses[k])),
                     enrolled=number(n), completed=number(done)) for k, (n, done) in top if k in courses]
        lines.append(msg(N_("Top courses: %(list)s"), list=items))
    return lines


def certificate_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """Certificate reports waiting for review and accepted."""
    row = db.session.execute(
        sa.select(sa.func.count().filter(Certificate.status == "pending"),
                  sa.func.count().filter(Certificate.status.in_(ACCEPTED)))
        .join(Member, Member.id == Certificate.member_id).where(*in_scope(f))
    ).one()
    return (msg(N_("Certificates: %(pending)s pending, %(approved)s approved"),
                pending=number(int(row[0] or 0)), approved=number(int(row[1] or 0))),)


def voucher_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """The union's voucher pool: codes given, codes left, members waiting."""
    issued, left = db.session.execute(
        sa.select(sa.func.count().filter(Voucher.assigned_at.is_not(None)),
                  sa.func.count().filter(Voucher.assigned_at.is_(None)))
    ).one()
    waiting = db.session.scalar(sa.select(sa.func.count()).where(Certificate.status == "waiting")) or 0
    return (msg(N_("Vouchers: %(issued)s issued, %(left)s left, %(waiting)s waiting"),
                issued=number(int(issued or 0)), left=number(int(left or 0)), waiting=number(int(waiting))),)


SECTION_PROVIDERS.extend([course_section, certificate_section, voucher_section])
