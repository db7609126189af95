"""The background processes: `python worker.py [queue …]` runs an RQ worker (with the scheduler on, for
jobs queued for a later time); `python worker.py --clock` runs RQ's cron scheduler for periodic jobs.
`--quiet` logs RQ's own lines only from WARNING up (a job that fails, not each job's start and end);
`flask dev` starts both that way.

Both run in an app context of the process's one app (`create_app(background=True)`, handed to
`bot.core.jobs.use_app`: a job also uses it when it runs without a context); each job removes its
database session when it ends (`@job`)."""

from __future__ import annotations

import contextlib
import logging
import sys

from redis.exceptions import ConnectionError as RedisConnectionError
from rq.cron import CronScheduler

from bot import create_app
from bot.core import jobs
from bot.core.area import assembled
from bot.core.redis_conn import connect
from bot.observability.jobs import ObservedWorker


def work(queue_names: list[str], rq_level: str | None = None) -> None:
    """Work the queues (highest priority first) until stopped; RQ's lines from `rq_level` up."""
    with jobs.worker_app().app_context():
        jobs.work(queue_names or jobs.QUEUES, worker_class=ObservedWorker, with_scheduler=True,
                  logging_level=rq_level)


def clock() -> None:
    """Queue each periodic job when it is due, until stopped."""
    with jobs.worker_app().app_context():
        scheduler = CronScheduler(connection=connect(), name=jobs.CLOCK_NAME)
        for job in assembled().periodic:
            scheduler.register(job.func, job.queue, interval=job.interval, cron=job.cron)
        # Redis may go away first (the embedded one stops with `flask dev`): nothing is left to clean up.
        with contextlib.suppress(RedisConnectionError):
            scheduler.start()


def main(args: list[str]) -> None:
    """`python worker.py [--clock] [--quiet] [queue …]`."""
    quiet = "--quiet" in args
    jobs.use_app(create_app(background=True))  # also sets up logging, before RQ's level is set
    if quiet:
        logging.getLogger("rq").setLevel(logging.WARNING)
    if "--clock" in args:
        clock()
    else:
        work([arg for arg in args if not arg.startswith("--")], "WARNING" if quiet else None)


if __name__ == "__main__":
    main(sys.argv[1:])
