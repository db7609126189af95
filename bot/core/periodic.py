"""Jobs that run at regular intervals, from the `clock` process (RQ's cron scheduler).

Each area lists its jobs in its `Area.periodic`; every job must be safe to run twice and cheap when idle.
Each is a `@job` (`bot/core/jobs.py`): it gets the app context and a fresh database session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.jobs import job


@dataclass(frozen=True)
class PeriodicJob:
    """A function run every `interval` seconds (or on a cron expression) on a queue."""

    func: Callable[[], object]
    queue: str = "default"
    interval: int | None = None
    cron: str | None = None


@job
def requeue_pending_outbound() -> int:
    """Queue again outbound messages whose send job was lost (Redis was down when they were stored)."""
    from bot.whatsapp.outbound import requeue_pending

    return requeue_pending()


@job
def purge_old_messages() -> int:
    """Blank message texts older than RETENTION_DAYS (daily)."""
    from bot.privacy.service import purge_old_messages as purge

    return purge()


@job
def sweep_course_reminders() -> int:
    """Queue course reminders that are due but whose scheduled job was lost; schedule those due soon."""
    from bot.courses.reminders import sweep

    return sweep()


@job
def requeue_certificate_downloads() -> int:
    """Queue again certificate files whose download job was lost."""
    from bot.certificates.service import requeue_downloads

    return requeue_downloads()


@job
def send_reserved_vouchers() -> int:
    """Send voucher codes kept for members they could not reach, once they can be reached."""
    from bot.certificates.service import send_reserved_vouchers as send

    return send()


@job
def compact_member_tallies() -> None:
    """Fold the running member counts behind STATS (cheap: a few thousand rows)."""
    from bot.stats.service import compact_tallies

    compact_tallies()


@job
def supervise_broadcasts() -> dict[str, int]:
    """Start due broadcasts, pause/resume for quiet hours, recover the leases of workers that died."""
    from bot.broadcasts.service import tick

    return tick()


@job
def refresh_course_stats() -> None:
    """Count the course, certificate and voucher numbers behind STATS into Redis (see course_stats)."""
    from bot.courses.stats import refresh_snapshot

    refresh_snapshot()
