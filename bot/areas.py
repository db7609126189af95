"""The composition root: every area of Umoja, in order. `create_app` installs them (`install`).

The order is the order in which DELETE MY DATA runs the areas' erasure hooks (the messages first, the
member's own fields after all of them) and in which STATS shows their sections. Adding an area is one
package with an `area.py` declaring its `Area`, and one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from bot.broadcasts import area as broadcasts_area
from bot.broadcasts import service as broadcasts
from bot.broadcasts import staff as staff_broadcast
from bot.broadcasts.area import AREA as BROADCASTS
from bot.certificates import area as certificates_area
from bot.certificates import service as certificates
from bot.certificates.area import AREA as CERTIFICATES
from bot.commands.area import AREA as COMMANDS
from bot.conversation import engine
from bot.core import cli, health
from bot.core.area import Area
from bot.courses import area as courses_area
from bot.courses import reminders
from bot.courses.area import AREA as COURSES
from bot.dashboard.area import AREA as DASHBOARD
from bot.devtools.area import AREA as DEVTOOLS
from bot.members.area import AREA as MEMBERS
from bot.privacy import area as privacy_area
from bot.privacy import service as privacy
from bot.privacy.area import AREA as PRIVACY
from bot.stats import area as stats_area
from bot.stats.area import AREA as STATS
from bot.support.area import AREA as SUPPORT
from bot.whatsapp import area as whatsapp_area
from bot.whatsapp import outbound
from bot.whatsapp.area import AREA as WHATSAPP
from flows.effects import ConcernsMembers


def core_setup(app: Flask) -> None:
    """The health checks."""
    app.register_blueprint(health.bp)


# The frame the other areas plug into: the engine, the audit log, the catalogs' and development commands.
# Every job function's dotted path in the previous release (before the areas had packages) → the function
# that runs it now: jobs waiting in Redis during a deploy still run (`bot.core.jobs.RenamedJob`). Remove
# in the release after next.
RENAMED_JOBS: dict[str, Callable[..., Any]] = {
        "bot.services.outbound.send_outbound": outbound.send_outbound,
        "bot.services.certificates.download_certificate": certificates.download_certificate,
        "bot.services.reminders.send_reminder": reminders.send_reminder,
        "bot.services.broadcasts.run": broadcasts.send_broadcast_batches,
        "bot.services.broadcasts.start_job": broadcasts.start_scheduled_broadcast,
        "bot.services.broadcasts.tick_job": broadcasts_area.supervise_broadcasts,
        "bot.staff.broadcast.send_job": staff_broadcast.confirm_broadcast,
        "bot.services.whatsapp_area.requeue_pending_outbound": whatsapp_area.requeue_pending_outbound,
        "bot.services.privacy_area.purge_old_messages": privacy_area.purge_old_messages,
        "bot.services.courses_area.sweep_course_reminders": courses_area.sweep_course_reminders,
        "bot.services.certificates_area.requeue_certificate_downloads": certificates_area.requeue_certificate_downloads,
        "bot.services.certificates_area.send_reserved_vouchers": certificates_area.send_reserved_vouchers,
        "bot.services.stats_area.compact_member_tallies": stats_area.compact_member_tallies,
        "bot.services.periodic.broadcast_tick": broadcasts_area.supervise_broadcasts,
        "bot.services.courses_area.refresh_course_stats": courses_area.refresh_course_stats,
    }

CORE = Area(
    "core",
    erasure_hooks=(privacy.erase_audit_mentions,),
    performers={ConcernsMembers: engine.perform_concerns},
    cli=(cli.translate,),
    setup=core_setup,
    tables=("audit_events",),
    renamed_jobs=RENAMED_JOBS,
)

AREAS: tuple[Area, ...] = (
    WHATSAPP,
    MEMBERS,
    CORE,
    PRIVACY,
    CERTIFICATES,
    SUPPORT,
    STATS,
    COURSES,
    BROADCASTS,
    COMMANDS,
    DASHBOARD,
    DEVTOOLS,
)
