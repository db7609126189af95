"""The RQ worker class `python worker.py` runs: the app's worker (RQ's SimpleWorker with the job class that
knows renamed jobs), with each job's lines carrying its job id and each job counted and timed
(`umoja_jobs`, `umoja_job_seconds`)."""

from __future__ import annotations

import time
from typing import Any

from rq.job import Job
from rq.queue import Queue

from bot.core import jobs
from bot.observability import logs, metrics


class ObservedWorker(jobs.Worker):
    """Runs jobs in its own process (no fork, so its counters stay in one process), one at a time."""

    def perform_job(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> bool:
        """Run the job with its id bound to the log lines; count it and its duration."""
        started = time.perf_counter()
        ok = False
        with logs.bound(job_id=job.id):
            try:
                ok = super().perform_job(job, queue, *args, **kwargs)
            finally:
                metrics.job_finished(job_name(job), ok, time.perf_counter() - started)
        return ok


def job_name(job: Job) -> str:
    """The job's function without its module (send_outbound, send_broadcast_batches, send_reminder …)."""
    try:
        return jobs.job_name(job.func_name)
    except Exception:  # noqa: BLE001  (a job whose data cannot be read is still counted)
        return "unknown"
