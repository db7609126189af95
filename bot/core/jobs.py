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

from bot.core.area import assembled
from bot.core.extensions import db
from bot.core.redis_conn import connect

log = logging.getLogger(__name__)

QUEUES = ("replies", "default", "bulk")
"""The queues, highest priority first: replies to members, then reminders and jobs, then bulk sends."""

CLOCK_NAME = "umoja-clock"
"""The name the clock (`worker.py --clock`) registers its cron scheduler under."""

STATUS_STREAM = "umoja:statuses"
"""The Redis stream of status callbacks waiting to be applied (`bot/whatsapp/statuses.py`)."""

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


def use_app(app: Flask) -> Flask:
    """Make `app` the one this worker process runs its jobs in (`worker.py` hands it
    `create_app(background=True)`); returns it."""
    global _worker_app
    _worker_app = app
    return app


def worker_app() -> Flask:
    """The app of this worker process (see `use_app`)."""
    if _worker_app is None:
        raise RuntimeError("no app for jobs in this process: worker.py calls jobs.use_app(create_app(...))")
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
        # The table is the composition root's (`bot.areas.RENAMED_JOBS`), installed with the areas.
        renamed = assembled().renamed_jobs.get(self.func_name or "") if has_app_context() else None
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
    renamed = assembled().renamed_jobs.get(func_name or "") if has_app_context() else None
    return renamed.__name__ if renamed is not None else (func_name or "unknown").rsplit(".", 1)[-1]
