"""The courses area: the catalog, enrolments and reminders, certificate review by officers, and the
course, certificate and voucher sections of STATS."""

from __future__ import annotations

from bot.core.area import Area
from bot.core.jobs import job
from bot.core.periodic import PeriodicJob
from bot.courses import cli, service, staff, stats
from bot.courses.effects import COURSE_PERFORMERS


@job
def sweep_course_reminders() -> int:
    """Queue course reminders that are due but whose scheduled job was lost; schedule those due soon."""
    from bot.courses.reminders import sweep

    return sweep()


@job
def refresh_course_stats() -> None:
    """Count the course, certificate and voucher numbers behind STATS into Redis (see course_stats)."""
    from bot.courses.stats import refresh_snapshot

    refresh_snapshot()


AREA = Area(
    "courses",
    facts=service.FACT_LOADERS,
    stats_sections=(stats.course_section, stats.certificate_section, stats.voucher_section),
    performers=COURSE_PERFORMERS,
    commands=(staff.review, staff.approve, staff.reject),
    periodic=(PeriodicJob(sweep_course_reminders, "default", interval=900),
              PeriodicJob(refresh_course_stats, "default", interval=120)),
    cli=(cli.courses, cli.vouchers, cli.certificates),
    tables=("courses", "enrolments", "reminder_sends"),
    # Enrolments stay with their course and step: completions count in STATS after an erasure.
    anonymous_tables=("enrolments",),
)
