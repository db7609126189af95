"""Courses, enrolments, certificate reports, voucher codes and the reminders sent for enrolments."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.extensions import db
from bot.models.base import utcnow
from bot.models.members import IDENTITY_LENGTH


class EnrolmentStatus(enum.StrEnum):
    """Where an enrolment stands: enrolled → reported (a certificate) → verified (accepted) → rewarded (voucher)."""

    ENROLLED = "enrolled"
    REPORTED = "reported"
    VERIFIED = "verified"
    REWARDED = "rewarded"


# The enrolments whose course counts as completed (the certificate was accepted), and those reported.
COMPLETED = (EnrolmentStatus.VERIFIED, EnrolmentStatus.REWARDED)
REPORTED = (EnrolmentStatus.REPORTED, *COMPLETED)


class CertificateStatus(enum.StrEnum):
    """Where a certificate report stands."""

    DOWNLOADING = "downloading"
    PENDING = "pending"
    FAILED = "failed"
    INVALID = "invalid"
    APPROVED = "approved"
    WAITING = "waiting"
    REWARDED = "rewarded"
    REJECTED = "rejected"


# Reports an officer accepted, and those still counting for the member (not failed, unreadable or rejected).
ACCEPTED_STATUSES = (CertificateStatus.APPROVED, CertificateStatus.WAITING, CertificateStatus.REWARDED)
OPEN_STATUSES = (CertificateStatus.DOWNLOADING, CertificateStatus.PENDING, *ACCEPTED_STATUSES)


class Course(db.Model):
    """One course of the catalog, with its title and one-line summary in every language."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    url: Mapped[str] = mapped_column(sa.String(300))
    hours: Mapped[float] = mapped_column(sa.Float, default=0.0)
    titles: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    summaries: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # Per language, the words members use for the course beside its title ("excel", "kompyuta").
    words: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def course_title(course: Course, lang: str) -> str:
    """A course's title in a language (English as the fallback)."""
    return course.titles.get(lang) or course.titles.get("en") or course.slug


class Enrolment(db.Model):
    """A member enrolled in a course: enrolled → reported → verified → rewarded."""

    __tablename__ = "enrolments"
    __table_args__ = (sa.UniqueConstraint("member_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(16), default=EnrolmentStatus.ENROLLED, index=True)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)


class Certificate(db.Model):
    """A certificate a member reported: a link or a stored file, waiting for an officer's review."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(8))
    link: Mapped[str | None] = mapped_column(sa.String(500))
    certificate_key: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    media_url: Mapped[str | None] = mapped_column(sa.String(500))
    content_type: Mapped[str | None] = mapped_column(sa.String(64))
    sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    stored_path: Mapped[str | None] = mapped_column(sa.String(500))
    size: Mapped[int | None]
    status: Mapped[str] = mapped_column(sa.String(16), default=CertificateStatus.PENDING, index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id", ondelete="SET NULL"))
    download_attempts: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    reviewed_by: Mapped[str | None] = mapped_column(sa.String(IDENTITY_LENGTH))  # a staff number or a user id
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Voucher(db.Model):
    """A LinkedIn Premium voucher code; `member_id` is unique, so a member gets one code at most.

    A code is free while `assigned_at` is empty: a given code stays given even when its member is deleted.
    `sent_at` is when the code went to the sending pipeline; a given code without it is reserved for its
    member until it can be sent (they write again, or a voucher template is configured)."""

    __tablename__ = "vouchers"
    __table_args__ = (
        sa.Index("ix_vouchers_reserved", "member_id", postgresql_where=sa.text("sent_at IS NULL AND member_id IS NOT NULL"),
                 sqlite_where=sa.text("sent_at IS NULL AND member_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(128), unique=True)
    expires_on: Mapped[date | None]
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), unique=True)
    certificate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderSend(db.Model):
    """One reminder for one enrolment at one offset: the unique row makes sending idempotent."""

    __tablename__ = "reminder_sends"
    __table_args__ = (sa.UniqueConstraint("enrolment_id", "offset_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id", ondelete="CASCADE"))
    offset_days: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
