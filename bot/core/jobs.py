"""Background jobs: the Redis connection and the RQ queues, queueing after a commit, and the job wrapper.

- `queue(name)`: one of the app's queues (replies, default, bulk), on the app's Redis (`connect`).
- `after_commit(session, queue, func, *args, job_id=…, **options)`: queue a job once the session's
  transaction commits (never for a transaction rolled back). When Redis cannot take it, a warning is
  logged and nothing else happens: the work is still in the database, where each area's periodic sweep
  finds it (`requeue_pending`, `requeue_downloads`, the reminder sweep) or, for a broadcast confirmed on
  WhatsApp, `flask broadcast send`.
- `@job`: a function RQ runs. It runs in the app context it finds (a test, `worker.py`'s worker) or, in
  a worker without one, in a context of one app created per process; the database session is removed
  after it either way, so the next job starts with a fresh one.
- `RenamedJob`: the job class of the queues and workers (`Worker`, `work`). Jobs already in Redis name
  their function by the dotted path it had when they were queued; `renamed_jobs` maps the paths of the
  previous release to today's functions, so jobs queued before a deploy still run after it (kept for
  one release).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from flask import Flask, has_app_context
from rq import Queue, SimpleWorker
from rq.job import Job
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

from bot.core.extensions import db
from bot.core.redis_conn import connect

log = logging.getLogger(__name__)

QUEUES = ("replies", "default", "bulk")
"""The queues, highest priority first: replies to members, then reminders and jobs, then bulk sends."""

CLOCK_NAME = "umoja-clock"
"""The name the clock (`worker.py --clock`) registers its cron scheduler under."""

F = TypeVar("F", bound=Callable[..., Any])
PENDING_KEY = "jobs_after_commit"


def queue(name: str = "default") -> Queue:
    """One of the app's queues."""
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=connect(), job_class=RenamedJob)


def enqueue(queue_name: str, func: Callable[..., Any] | str, *args: Any, job_id: str | None = None,
            at: datetime | None = None, unqueued: str = "", **options: Any) -> bool:
    """Queue `func(*args)` now (or at `at`, an aware datetime, with RQ's scheduler); False when Redis
    cannot take it, after a warning naming the job and `unqueued` (what becomes of the work then)."""
    try:
        target = queue(queue_name)
        func = cast(Callable[..., Any], func)  # RQ also takes a dotted path, which its types leave out
        if at is None:
            target.enqueue(func, *args, job_id=job_id, **options)
        else:
            target.enqueue_at(at, func, *args, job_id=job_id, **options)
        return True
    except Exception:  # noqa: BLE001  (Redis unavailable: the work is safe in the database)
        name = func if isinstance(func, str) else func.__name__
        log.warning("could not queue %s%r on %s%s", name, args, queue_name, f"; {unqueued}" if unqueued else "",
                    exc_info=True)
        return False


@dataclass(frozen=True)
class Pending:
    """A job to queue once the transaction commits (the arguments of `enqueue`)."""

    queue_name: str
    func: Callable[..., Any]
    args: tuple[Any, ...]
    options: dict[str, Any] = field(default_factory=dict)


def after_commit(session: Session | scoped_session[Any], queue_name: str, func: Callable[..., Any], *args: Any,
                 job_id: str | None = None, **options: Any) -> None:
    """Queue `func(*args)` on `queue_name` once `session`'s transaction commits, in the order asked; a
    rollback forgets it. `options` are `enqueue`'s: `at`, `unqueued` and RQ's (`retry`, `job_timeout` …)."""
    session.info.setdefault(PENDING_KEY, []).append(Pending(queue_name, func, args, {"job_id": job_id, **options}))


@event.listens_for(Session, "after_commit")
def _queue_committed(session: Session) -> None:
    """Queue the jobs of what this transaction committed (each on its own: one failing does not stop the rest)."""
    for pending in session.info.pop(PENDING_KEY, []):
        enqueue(pending.queue_name, pending.func, *pending.args, **pending.options)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    """What was rolled back is not queued."""
    session.info.pop(PENDING_KEY, None)


# --- running jobs --------------------------------------------------------------------------------

_worker_app: Flask | None = None


def worker_app() -> Flask:
    """The app of this worker process (created on first use, as `worker.py` creates it)."""
    global _worker_app
    if _worker_app is None:
        from bot import create_app

        _worker_app = create_app(background=True)
    return _worker_app


def job(func: F) -> F:
    """Make `func` a job: it runs in the current app context, or in one of the worker's app when there
    is none, and the database session is removed after it (also when it raises)."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        if not has_app_context():
            with worker_app().app_context():
                return run(*args, **kwargs)
        try:
            return func(*args, **kwargs)
        finally:
            db.session.remove()

    run.is_job = True  # type: ignore[attr-defined]
    return run  # type: ignore[return-value]


class RenamedJob(Job):
    """An RQ job whose function is found by the path it was queued under, also the previous release's."""

    @property
    def func(self) -> Any:
        """The function to run: today's for a path of the previous release, else the one the path names."""
        renamed = renamed_jobs().get(self.func_name or "")
        if renamed is not None and self.instance is None:
            return renamed
        return super().func


class Worker(SimpleWorker):
    """RQ's SimpleWorker (jobs run in the worker's own process, one at a time) with `RenamedJob`."""

    job_class = RenamedJob


def work(queue_names: list[str] | tuple[str, ...] = QUEUES, *, worker_class: type[Worker] = Worker,
         **options: Any) -> bool:
    """Work the named queues (highest priority first) with the app's Redis; `options` are RQ's `work`'s."""
    worker = worker_class([queue(name) for name in queue_names], connection=connect())
    return worker.work(**options)


def job_name(func_name: str | None) -> str:
    """The name of the function a job runs, without its module (today's name for a renamed job)."""
    renamed = renamed_jobs().get(func_name or "")
    return renamed.__name__ if renamed is not None else (func_name or "unknown").rsplit(".", 1)[-1]


@functools.cache
def renamed_jobs() -> dict[str, Callable[..., Any]]:
    """Every job function's dotted path in the previous release → the function that runs it now (the
    modules are imported when a worker first needs the table). Remove in the release after next."""
    from bot.broadcasts import service as broadcasts
    from bot.broadcasts import staff as staff_broadcast
    from bot.certificates import service as certificates
    from bot.core import periodic
    from bot.courses import reminders
    from bot.whatsapp import outbound

    return {
        "bot.services.outbound.send_outbound": outbound.send_outbound,
        "bot.services.certificates.download_certificate": certificates.download_certificate,
        "bot.services.reminders.send_reminder": reminders.send_reminder,
        "bot.services.broadcasts.run": broadcasts.send_broadcast_batches,
        "bot.services.broadcasts.start_job": broadcasts.start_scheduled_broadcast,
        "bot.services.broadcasts.tick_job": periodic.supervise_broadcasts,
        "bot.staff.broadcast.send_job": staff_broadcast.confirm_broadcast,
        "bot.services.periodic.requeue_pending_outbound": periodic.requeue_pending_outbound,
        "bot.services.periodic.purge_old_messages": periodic.purge_old_messages,
        "bot.services.periodic.sweep_course_reminders": periodic.sweep_course_reminders,
        "bot.services.periodic.requeue_certificate_downloads": periodic.requeue_certificate_downloads,
        "bot.services.periodic.send_reserved_vouchers": periodic.send_reserved_vouchers,
        "bot.services.periodic.compact_member_tallies": periodic.compact_member_tallies,
        "bot.services.periodic.broadcast_tick": periodic.supervise_broadcasts,
        "bot.services.periodic.refresh_course_stats": periodic.refresh_course_stats,
    }
