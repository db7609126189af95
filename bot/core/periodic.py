"""Jobs that run at regular intervals, from the `clock` process (RQ's cron scheduler).

Each area lists its jobs in its `Area.periodic`; every job must be safe to run twice and cheap when idle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class PeriodicJob:
    """A function run every `interval` seconds (or on a cron expression) on a queue."""

    func: Callable[[], object]
    queue: str = "default"
    interval: int | None = None
    cron: str | None = None


def requeue_pending_outbound() -> int:
    """Queue again outbound messages whose send job was lost (Redis was down when they were stored)."""
    from bot.whatsapp.outbound import requeue_pending

    with current_app.app_context():
        return requeue_pending()


def purge_old_messages() -> int:
    """Blank message texts older than RETENTION_DAYS (daily)."""
    from bot.privacy.service import purge_old_messages as purge

    with current_app.app_context():
        return purge()


def sweep_course_reminders() -> int:
    """Queue course reminders that are due but whose scheduled job was lost; schedule those due soon."""
    from bot.courses.reminders import sweep

    with current_app.app_context():
        return sweep()


def requeue_certificate_downloads() -> int:
    """Queue again certificate files whose download job was lost."""
    from bot.certificates.service import requeue_downloads

    with current_app.app_context():
        return requeue_downloads()


def send_reserved_vouchers() -> int:
    """Send voucher codes kept for members they could not reach, once they can be reached."""
    from bot.certificates.service import send_reserved_vouchers as send

    with current_app.app_context():
        return send()


def compact_member_tallies() -> None:
    """Fold the running member counts behind STATS (cheap: a few thousand rows)."""
    from bot.stats.service import compact_tallies

    with current_app.app_context():
        compact_tallies()


def broadcast_tick() -> object:
    """Start due broadcasts, pause/resume for quiet hours, recover the leases of workers that died."""
    from bot.broadcasts.service import tick_job

    with current_app.app_context():
        return tick_job()


def refresh_course_stats() -> None:
    """Count the course, certificate and voucher numbers behind STATS into Redis (see course_stats)."""
    from bot.courses.stats import refresh_snapshot

    with current_app.app_context():
        refresh_snapshot()

