"""GET /metrics for Prometheus: 404 unless METRICS_TOKEN is set, then only with `Authorization: Bearer <token>`.

Besides the counters the processes keep (`metrics.py`), a scrape reads what is waiting right now: the RQ
queues (one pipelined round trip to Redis) and the progress of each running or paused broadcast (the
dashboard's figures: one grouped count on the deliveries' (broadcast, status) index each). A source that
does not answer is reported as down (`umoja_scrape_source_up`) and the rest of the scrape still answers.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator, Mapping

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from bot.core.area import assembled
from bot.core.extensions import db

bp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)

BROADCAST_STATES = ("queued", "sent", "delivered", "read", "failed", "skipped")
QUEUE_STATES = ("scheduled", "started", "failed")


def authorized() -> bool:
    """Whether the request carries the configured token (compared in constant time)."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


@bp.get("/metrics")
def scrape() -> Response:
    """The metrics in Prometheus's text format."""
    if not current_app.config.get("METRICS_TOKEN"):
        abort(404)
    if not authorized():
        return Response("a valid bearer token is required\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'},
                        mimetype="text/plain")
    live = CollectorRegistry(auto_describe=False)
    live.register(WaitingNow())
    return Response(generate_latest(process_registry()) + generate_latest(live), mimetype=CONTENT_TYPE_LATEST)


def process_registry() -> CollectorRegistry:
    """Every process's counters (multiprocess mode), or this process's alone."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    return registry


class WaitingNow(Collector):
    """Queue lengths and broadcast progress, read when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("umoja_scrape_source_up", "Whether a source answered this scrape (1) or not (0)",
                               labels=["source"])
        queues = GaugeMetricFamily("umoja_queue_jobs", "RQ jobs by queue and state (queued: waiting to run; "
                                   "scheduled: for later; started: running; failed: kept for a look)",
                                   labels=["queue", "state"])
        pending = GaugeMetricFamily("umoja_statuses_pending", "Status callbacks taken by the webhook and not yet "
                                    "applied (the status stream's length; `worker.py --statuses` applies them)")
        try:
            lengths = queue_lengths()
            pending.add_metric([], lengths.pop(("statuses", "pending")))
            for (name, state), count in lengths.items():
                queues.add_metric([name, state], count)
            up.add_metric(["redis"], 1)
        except Exception:  # noqa: BLE001  (Redis down: say so, answer the rest)
            log.warning("metrics: could not read the queue lengths", exc_info=True)
            up.add_metric(["redis"], 0)
        progress = GaugeMetricFamily("umoja_broadcast_deliveries", "Deliveries of each running or paused broadcast "
                                     "by state, as a funnel (sent counts the delivered, delivered the read)",
                                     labels=["broadcast", "state"])
        try:
            for broadcast_id, counts in broadcast_progress().items():
                for state in BROADCAST_STATES:
                    progress.add_metric([str(broadcast_id), state], counts[state])
            up.add_metric(["database"], 1)
        except Exception:  # noqa: BLE001  (the database is down: say so, answer the rest)
            db.session.rollback()
            log.warning("metrics: could not read the broadcasts' progress", exc_info=True)
            up.add_metric(["database"], 0)
        yield from (queues, pending, progress, up)


def queue_lengths() -> dict[tuple[str, str], int]:
    """(queue, state) → jobs, and ("statuses", "pending") → the status stream's length, in one pipelined
    round trip to Redis (no registry clean-up on the way)."""
    from bot.core.jobs import STATUS_STREAM
    from bot.core.queues import QUEUES, queue
    from bot.core.redis_conn import connect

    keys: list[tuple[str, str]] = []
    pipe = connect().pipeline(transaction=False)
    for name in QUEUES:
        q = queue(name)
        pipe.llen(q.key)
        keys.append((name, "queued"))
        for state, registry in zip(QUEUE_STATES, (q.scheduled_job_registry, q.started_job_registry,
                                                  q.failed_job_registry), strict=True):
            pipe.zcard(registry.key)
            keys.append((name, state))
    pipe.xlen(STATUS_STREAM)
    keys.append(("statuses", "pending"))
    return dict(zip(keys, (int(n) for n in pipe.execute()), strict=True))


def broadcast_progress() -> Mapping[int, Mapping[str, int]]:
    """broadcast id → its figures for every running or paused broadcast (the broadcasts area's
    `Area.send_progress`; nothing when no area sends in bulk)."""
    progress = assembled().send_progress
    return progress() if progress is not None else {}
