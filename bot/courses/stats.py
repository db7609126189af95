"""Course, certificate and voucher numbers: STATS sections (declared by the courses area) and the
dashboard's course funnel.

Enrolments and certificates count for the members a STATS filter is about (county, kind of work; those
who erased their data too, so completions stay in the figures); the
voucher pool is the union's, so its numbers are the same under every filter.

Counting enrolments per county and kind of work means joining them to the members, too slow for every
STATS with a million members. So the numbers come from a snapshot: a few thousand rows (county, kind of
work, course, step → enrolments; county, kind of work, certificate status → reports; the voucher pool),
counted by `refresh_snapshot` (a periodic job, every two minutes), folded per filter and kept in Redis
as one hash field per filter for COURSE_STATS_MAX_AGE seconds; a STATS answer reads two small fields.
When the snapshot is missing (first use, Redis down) it is counted on the spot.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, g

from bot.certificates.service import voucher_counts, waiting_count
from bot.core.extensions import db
from bot.models import Certificate, Course, Enrolment, Member, MemberWork
from bot.models.courses import ACCEPTED_STATUSES, COMPLETED, REPORTED, CertificateStatus, EnrolmentStatus
from bot.stats.service import COUNTED, StatsFilter, in_scope, number
from flows.base import N_, Line, PerLanguage, msg

log = logging.getLogger(__name__)

TOP_COURSES = 3
TITLE_CHARS = 30
SNAPSHOT_KEY = "umoja:stats:courses"


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


def count_snapshot() -> dict[str, Any]:
    """Count the snapshot from the tables: rows keyed by county and kind of work ('' for every kind)."""
    counted = sa.and_(Member.id == Enrolment.member_id, COUNTED)
    county = sa.func.coalesce(Member.county, "")
    courses = [
        [c, "", course, status, n] for c, course, status, n in db.session.execute(
            sa.select(county, Enrolment.course_id, Enrolment.status, sa.func.count())
            .join(Member, counted).group_by(county, Enrolment.course_id, Enrolment.status))
    ] + [
        [c, kind, course, status, n] for c, kind, course, status, n in db.session.execute(
            sa.select(county, MemberWork.kind, Enrolment.course_id, Enrolment.status, sa.func.count())
            .join(Member, counted).join(MemberWork, MemberWork.member_id == Member.id)
            .group_by(county, MemberWork.kind, Enrolment.course_id, Enrolment.status))
    ]
    reported = sa.and_(Member.id == Certificate.member_id, COUNTED)
    relevant = Certificate.status.in_((CertificateStatus.PENDING, *ACCEPTED_STATUSES))
    reports = [
        [c, "", status, n] for c, status, n in db.session.execute(
            sa.select(county, Certificate.status, sa.func.count()).join(Member, reported).where(relevant)
            .group_by(county, Certificate.status))
    ] + [
        [c, kind, status, n] for c, kind, status, n in db.session.execute(
            sa.select(county, MemberWork.kind, Certificate.status, sa.func.count()).join(Member, reported)
            .join(MemberWork, MemberWork.member_id == Member.id).where(relevant)
            .group_by(county, MemberWork.kind, Certificate.status))
    ]
    left, issued = voucher_counts()
    return {"courses": courses, "certificates": reports, "vouchers": [issued, left, waiting_count()]}


def add_to_steps(steps: list[int], status: str, n: int) -> None:
    """Count `n` enrolments of this status at each step of the funnel they reached."""
    steps[0] += n
    steps[1] += n if status in REPORTED else 0
    steps[2] += n if status in COMPLETED else 0
    steps[3] += n if status == EnrolmentStatus.REWARDED else 0


def summarise(rows: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The counted rows folded per filter: 'county|kind' ('*' for every county, '' for every kind) → the
    funnel steps, per-course enrolments and completions, and pending and accepted reports."""
    fields: dict[str, dict[str, Any]] = {}

    def entry(county: str, kind: str) -> dict[str, Any]:
        return fields.setdefault(f"{county}|{kind}", {"steps": [0, 0, 0, 0], "courses": {}, "reports": [0, 0]})

    for county, kind, course, status, n in rows["courses"]:
        for target in (entry(county, kind), entry("*", kind)):
            add_to_steps(target["steps"], status, n)
            per_course = target["courses"].setdefault(str(course), [0, 0])
            per_course[0] += n
            per_course[1] += n if status in COMPLETED else 0
    for county, kind, status, n in rows["certificates"]:
        for target in (entry(county, kind), entry("*", kind)):
            target["reports"][0] += n if status == CertificateStatus.PENDING else 0
            target["reports"][1] += n if status in ACCEPTED_STATUSES else 0
    return fields


def field_of(f: StatsFilter) -> str:
    """The snapshot field a filter reads."""
    return f"{f.county or '*'}|{f.work or ''}"


def refresh_snapshot() -> dict[str, Any]:
    """Count the snapshot and keep it in Redis for COURSE_STATS_MAX_AGE seconds (the periodic job): a hash
    with one small field per filter, swapped in at once."""
    from bot.core.redis_conn import connect

    rows = count_snapshot()
    found = {key: json.dumps(value) for key, value in summarise(rows).items()}
    found["vouchers"] = json.dumps(rows["vouchers"])
    max_age = int(current_app.config.get("COURSE_STATS_MAX_AGE", 300))
    if max_age > 0:
        try:
            redis = connect()
            pipe = redis.pipeline()
            pipe.delete(SNAPSHOT_KEY + ":new")
            pipe.hset(SNAPSHOT_KEY + ":new", mapping=found)
            pipe.expire(SNAPSHOT_KEY + ":new", max_age)
            pipe.rename(SNAPSHOT_KEY + ":new", SNAPSHOT_KEY)
            pipe.execute()
        except Exception:  # noqa: BLE001
            log.warning("could not keep the course numbers in Redis", exc_info=True)
    return found


EMPTY = {"steps": [0, 0, 0, 0], "courses": {}, "reports": [0, 0]}


def snapshot(f: StatsFilter) -> tuple[dict[str, Any], list[int]]:
    """A filter's numbers and the voucher pool: read once per request or job, from Redis, or counted now
    when Redis has none."""
    memo = g.setdefault("course_stats_snapshot", {})
    field = field_of(f)
    if field in memo:
        return memo[field]
    values: list[Any] = [None, None]
    if int(current_app.config.get("COURSE_STATS_MAX_AGE", 300)) > 0:
        from bot.core.redis_conn import connect

        try:
            values = connect().hmget(SNAPSHOT_KEY, [field, "vouchers"])
        except Exception:  # noqa: BLE001
            log.warning("could not read the course numbers from Redis", exc_info=True)
    if values[1] is None:
        counted = refresh_snapshot()
        values = [counted.get(field), counted["vouchers"]]
    memo[field] = (json.loads(values[0]) if values[0] else EMPTY, json.loads(values[1]))
    return memo[field]


def course_counts(f: StatsFilter) -> CourseCounts:
    """Enrolments of the members in scope, per course and per step (enrolled → reported → verified → rewarded)."""
    numbers, _ = snapshot(f)
    return CourseCounts(*numbers["steps"], per_course={int(k): (v[0], v[1]) for k, v in numbers["courses"].items()})


def live_steps(f: StatsFilter) -> list[int]:
    """The funnel's steps counted from the enrolments of the members in scope (a range of joining days,
    which the snapshot does not keep): one statement over their enrolments."""
    steps = [0, 0, 0, 0]
    for status, n in db.session.execute(
        sa.select(Enrolment.status, sa.func.count()).join(Member, Member.id == Enrolment.member_id)
        .where(*in_scope(f)).group_by(Enrolment.status)
    ):
        add_to_steps(steps, status, int(n))
    return steps


def funnel(f: StatsFilter | None = None) -> list[tuple[str, int]]:
    """The course funnel for the overview chart: enrolled, reported, verified, rewarded (for members who
    joined in a range: all their enrolments, counted on the spot)."""
    f = f or StatsFilter()
    if f.dated():
        steps = live_steps(f)
    else:
        counts = course_counts(f)
        steps = [counts.enrolled, counts.reported, counts.verified, counts.rewarded]
    return list(zip(("enrolled", "reported", "verified", "rewarded"), steps, strict=True))


def short_title(course: Course) -> PerLanguage:
    """A course's title in each language of the catalog, shortened to fit the STATS message."""
    titles = {lang: str(title) for lang, title in (course.titles or {}).items() if title} or {"en": course.slug}
    return PerLanguage({lang: title if len(title) <= TITLE_CHARS else title[:TITLE_CHARS - 1] + "…"
                        for lang, title in titles.items()})


def course_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """Enrolments and completions in total, and the most followed courses."""
    counts = course_counts(f)
    lines: list[Line] = [msg(N_("Courses: %(enrolled)s enrolments, %(completed)s completed"),
                             enrolled=number(counts.enrolled), completed=number(counts.completed))]
    top = sorted(counts.per_course.items(), key=lambda item: (-item[1][0], item[0]))[:TOP_COURSES]
    if top:
        courses = {c.id: c for c in db.session.scalars(sa.select(Course).where(Course.id.in_([k for k, _ in top])))}
        items = [msg(N_("%(course)s %(enrolled)s (%(completed)s completed)"), course=short_title(courses[k]),
                     enrolled=number(n), completed=number(done)) for k, (n, done) in top if k in courses]
        lines.append(msg(N_("Top courses: %(list)s"), list=items))
    return lines


def certificate_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """Certificate reports waiting for review and accepted."""
    pending, approved = snapshot(f)[0]["reports"]
    return (msg(N_("Certificates: %(pending)s pending, %(approved)s approved"),
                pending=number(pending), approved=number(approved)),)


def voucher_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """The union's voucher pool: codes given, codes left, members waiting."""
    issued, left, waiting = snapshot(f)[1]
    return (msg(N_("Vouchers: %(issued)s issued, %(left)s left, %(waiting)s waiting"),
                issued=number(issued), left=number(left), waiting=number(waiting)),)
