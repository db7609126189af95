"""The course catalog and enrolments: load the catalog from a data file, enrol members, and what the
course flows see of both."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.core import i18n
from bot.core.extensions import db
from bot.core.i18n import ROOT
from bot.core.sql import dialect_insert
from bot.courses.reminders import schedule_after_commit
from bot.models import Course, Enrolment, Member, utcnow
from bot.models.courses import COMPLETED, EnrolmentStatus

SAMPLE_CATALOG = ROOT / "data" / "courses.csv"
REQUIRED_COLUMNS = ("slug", "url", "title_en", "summary_en")


@dataclass(frozen=True)
class CatalogLoad:
    """What loading a catalog file did."""

    added: int
    updated: int
    deactivated: int


def read_catalog(path: Path) -> list[dict[str, Any]]:
    """The rows of a catalog CSV (slug, hours, url, title_<lang>, summary_<lang>, words_<lang>: the words members
    use for the course, separated by '|'), checked."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        rows = []
        for number, row in enumerate(reader, start=2):
            slug = (row.get("slug") or "").strip()
            if not slug or not (row.get("url") or "").startswith("https://"):
                raise ValueError(f"{path}:{number}: a course needs a slug and an https:// url")
            rows.append({
                "slug": slug,
                "url": row["url"].strip(),
                "hours": float(row.get("hours") or 0),
                "titles": {lang: row[f"title_{lang}"].strip() for lang in i18n.LANGUAGES if row.get(f"title_{lang}")},
                "summaries": {lang: row[f"summary_{lang}"].strip() for lang in i18n.LANGUAGES if row.get(f"summary_{lang}")},
                "words": {lang: words for lang in i18n.LANGUAGES if (words := split_words(row.get(f"words_{lang}")))},
            })
        return rows


def split_words(cell: str | None) -> list[str]:
    """A catalog cell of words separated by '|', each trimmed, empty ones dropped."""
    return [word.strip() for word in (cell or "").split("|") if word.strip()]


def load_catalog(path: Path = SAMPLE_CATALOG, *, deactivate_missing: bool = True) -> CatalogLoad:
    """Add or update the courses of a catalog file (matched by slug); courses not in it are hidden."""
    rows = read_catalog(path)
    existing = {course.slug: course for course in db.session.scalars(sa.select(Course))}
    added = updated = 0
    for position, row in enumerate(rows):
        course = existing.get(row["slug"])
        if course is None:
            course = Course(slug=row["slug"])
            db.session.add(course)
            added += 1
        else:
            updated += 1
        course.url, course.hours, course.position, course.active = row["url"], row["hours"], position, True
        course.titles, course.summaries, course.words = row["titles"], row["summaries"], row["words"]
    deactivated = 0
    if deactivate_missing:
        slugs = {row["slug"] for row in rows}
        for course in existing.values():
            if course.slug not in slugs and course.active:
                course.active = False
                deactivated += 1
    db.session.flush()
    return CatalogLoad(added, updated, deactivated)


def catalog() -> list[dict[str, Any]]:
    """The active courses as plain data for the flows, in catalog order."""
    courses = db.session.scalars(sa.select(Course).where(Course.active).order_by(Course.position, Course.id))
    return [
        {"id": c.id, "slug": c.slug, "url": c.url, "hours": c.hours, "titles": dict(c.titles),
         "summaries": dict(c.summaries), "words": dict(c.words or {})}
        for c in courses
    ]


def enrolments_of(member: Member) -> list[dict[str, Any]]:
    """The member's enrolments as plain data for the flows (course id, status, and whether the course counts
    as completed), oldest first."""
    if member.id is None:
        return []
    rows = db.session.execute(
        sa.select(Enrolment.course_id, Enrolment.status).where(Enrolment.member_id == member.id).order_by(Enrolment.id)
    )
    return [{"course_id": course_id, "status": status, "completed": status in COMPLETED} for course_id, status in rows]


def member_phone(member: Member) -> str:
    """The member's phone number (staff commands record who reviewed)."""
    return member.phone


# What the course flows and commands read from `MemberView.facts`, by name: one loader each.
FACT_LOADERS: dict[str, Callable[[Member], Any]] = {
    "courses": lambda member: catalog(),
    "enrolments": enrolments_of,
    "phone": member_phone,
}


def enrol(member: Member, course_id: int, now: datetime | None = None) -> Enrolment | None:
    """Enrol a member once in a course (a second enrolment changes nothing); schedules the reminders.

    Returns the new enrolment, or None when the member was already enrolled or the course is unknown.
    """
    now = now or utcnow()
    if db.session.get(Course, course_id) is None:
        return None
    insert = dialect_insert(Enrolment)
    statement = insert.values(member_id=member.id, course_id=course_id, status=EnrolmentStatus.ENROLLED, enrolled_at=now) \
        .on_conflict_do_nothing(index_elements=["member_id", "course_id"]).returning(Enrolment.id)
    enrolment_id = db.session.scalar(statement)
    if enrolment_id is None:
        return None
    enrolment = db.session.get(Enrolment, enrolment_id)
    schedule_after_commit(enrolment)
    return enrolment
