"""The engine's performers for the course flows' effects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app

from bot.certificates.service import report_link, report_media
from bot.core.area import Performer
from bot.courses.service import enrol
from bot.models import Member
from flows.base import Effect
from flows.effects import Enrol, ReportCertificateFile, ReportCertificateLink


def perform_enrol(member: Member, effect: Enrol, now: datetime) -> None:
    """Enrol the member once and schedule the reminders."""
    enrol(member, effect.course_id, now)


def perform_report_link(member: Member, effect: ReportCertificateLink, now: datetime) -> dict[str, Any]:
    """Record the link; the reply says how long a review takes."""
    report_link(member, effect.course_id, effect.link, effect.key, now)
    return {"review_days": current_app.config["CERTIFICATE_REVIEW_DAYS"]}


def perform_report_file(member: Member, effect: ReportCertificateFile, now: datetime) -> None:
    """Record the file; a job fetches it from Twilio once this is committed."""
    report_media(member, effect.course_id, effect.url, effect.content_type, now)


COURSE_PERFORMERS: dict[type[Effect], Performer] = {
    Enrol: perform_enrol,
    ReportCertificateLink: perform_report_link,
    ReportCertificateFile: perform_report_file,
}
