"""Jobs that run at regular intervals, from the `clock` process (RQ's cron scheduler).

Each area adds its entries to `PERIODIC`; every job must be safe to run twice and cheap when idle.
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
    from bot.services.outbound import requeue_pending

    with current_app.app_context():
        return requeue_pending()


def broadcast_tick() -> object:
    """Start due broadcasts, pause/resume for quiet hours, recover the leases of workers that died."""
    from bot.services.broadcasts import tick_job

    with current_app.app_context():
        return tick_job()


PERIODIC: list[PeriodicJob] = [
    PeriodicJob(requeue_pending_outbound, "default", interval=60),
    PeriodicJob(broadcast_tick, "default", interval=60),
]
