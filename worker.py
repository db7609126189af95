"""The background processes: `python worker.py [queue …]` runs an RQ worker (with the scheduler on, for
jobs queued for a later time); `python worker.py --clock` runs RQ's cron scheduler for periodic jobs;
`python worker.py --statuses` applies the status callbacks the webhook appended to the status stream, in
batches (`bot/whatsapp/statuses.py`; run as many as you like: they share the stream's consumer group).
`--quiet` logs RQ's own lines only from WARNING up (a job that fails, not each job's start and end);
`flask dev` starts all three that way.

All three run in an app context of the process's one app (`create_app(background=True)`, handed to
`bot.core.jobs.use_app`: a job also uses it when it runs without a context); each job removes its
database session when it ends (`@job`)."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading

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


def apply_statuses() -> None:
    """Apply status callbacks from the stream, batch by batch, until stopped (SIGTERM or Ctrl-C)."""
    from bot.whatsapp import statuses

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    with jobs.worker_app().app_context():
        if statuses.append_only_persistence() is False:
            logging.getLogger(__name__).warning(
                "Redis runs without append-only persistence: status callbacks answered 200 but not yet "
                "applied are lost if Redis restarts (set appendonly yes, appendfsync everysec)")
        # The embedded Redis may stop first (`flask dev` ends it): nothing is left to clean up.
        with contextlib.suppress(RedisConnectionError):
            statuses.Consumer().run(stopping)


def main(args: list[str]) -> None:
    """`python worker.py [--clock | --statuses] [--quiet] [queue …]`."""
    quiet = "--quiet" in args
    jobs.use_app(create_app(background=True))  # also sets up logging, before RQ's level is set
    if quiet:
        logging.getLogger("rq").setLevel(logging.WARNING)
    if "--clock" in args:
        clock()
    elif "--statuses" in args:
        apply_statuses()
    else:
        work([arg for arg in args if not arg.startswith("--")], "WARNING" if quiet else None)


if __name__ == "__main__":
    main(sys.argv[1:])
