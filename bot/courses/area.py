"""The courses area: the catalog, enrolments and reminders, certificate review by officers, and the
course, certificate and voucher sections of STATS."""

from __future__ import annotations

from bot.core import periodic
from bot.core.area import Area
from bot.core.periodic import PeriodicJob
from bot.courses import cli, service, staff, stats
from bot.courses.effects import COURSE_PERFORMERS

AREA = Area(
    "courses",
    facts=service.FACT_LOADERS,
    stats_sections=(stats.course_section, stats.certificate_section, stats.voucher_section),
    performers=COURSE_PERFORMERS,
    commands=(staff.review, staff.approve, staff.reject),
    periodic=(PeriodicJob(periodic.sweep_course_reminders, "default", interval=900),
              PeriodicJob(periodic.refresh_course_stats, "default", interval=120)),
    cli=(cli.courses, cli.vouchers, cli.certificates),
    tables=("courses", "enrolments", "reminder_sends"),
    # Enrolments stay with their course and step: completions count in STATS after an erasure.
    anonymous_tables=("enrolments",),
)
