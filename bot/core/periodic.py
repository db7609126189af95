"""Jobs that run at regular intervals, from the `clock` process (RQ's cron scheduler).

Each area lists its jobs in its `Area.periodic`; every job must be safe to run twice and cheap when idle.
Each is a `@job` (`bot/core/jobs.py`), declared in its area's `area.py`: it gets the app context and a
fresh database session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicJob:
    """A function run every `interval` seconds (or on a cron expression) on a queue."""

    func: Callable[[], object]
    queue: str = "default"
    interval: int | None = None
    cron: str | None = None
