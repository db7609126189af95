"""The background processes: `python worker.py [queue …]` runs an RQ worker (with the scheduler on, for
jobs queued for a later time); `python worker.py --clock` runs RQ's cron scheduler for periodic jobs."""

from __future__ import annotations

import contextlib
import sys

from redis.exceptions import ConnectionError as RedisConnectionError
from rq.cron import CronScheduler

from bot import create_app
from bot.core.area import assembled
from bot.core.queues import QUEUES
from bot.core.redis_conn import connect
from bot.observability.jobs import ObservedWorker


def work(queue_names: list[str]) -> None:
    """Work the queues (highest priority first) inside the app context until stopped."""
    app = create_app(background=True)
    with app.app_context():
        worker = ObservedWorker(queue_names or list(QUEUES), connection=connect())
        worker.work(with_scheduler=True)


def clock() -> None:
    """Queue each periodic job when it is due, until stopped."""
    app = create_app(background=True)
    with app.app_context():
        scheduler = CronScheduler(connection=connect(), name="umoja-clock")
        for job in assembled().periodic:
            scheduler.register(job.func, job.queue, interval=job.interval, cron=job.cron)
        # Redis may go away first (the embedded one stops with `flask dev`): nothing is left to clean up.
        with contextlib.suppress(RedisConnectionError):
            scheduler.start()


if __name__ == "__main__":
    if "--clock" in sys.argv[1:]:
        clock()
    else:
        work(sys.argv[1:])
