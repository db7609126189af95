"""The counters and histograms the processes keep (prometheus-client); `endpoint.py` serves them.

With PROMETHEUS_MULTIPROC_DIR set in the environment of every web and worker process (before they start:
the client reads it when it is first imported), each process writes its values to a file there and a scrape
of any web process adds them all up. Without it, each process counts alone and /metrics shows only the
values of the process that answered the scrape.

Each update is an increment or an observation in memory (a memory-mapped file in multiprocess mode): no
I/O on the webhook's path.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Seconds, from 1 ms (a callback) to Twilio's 15 s timeout.
WEBHOOK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 20.0, 60.0, 120.0, 600.0)

INBOUND = Counter("umoja_inbound_messages", "Requests to the inbound webhook, by result (answered, "
                  "invalid: 400, refused: bad signature, error: 5xx)", ["result"])
INBOUND_SECONDS = Histogram("umoja_inbound_seconds", "Time in the app to answer an inbound message (answered "
                            "ones only)", buckets=WEBHOOK_BUCKETS)
STATUS_CALLBACKS = Counter("umoja_status_callbacks", "Requests to the status webhook, by result (answered, "
                           "invalid, refused, error)", ["result"])
STATUS_CALLBACK_SECONDS = Histogram("umoja_status_callback_seconds", "Time in the app to take a status callback "
                                    "(answered ones only)", buckets=WEBHOOK_BUCKETS)
STATUSES = Counter("umoja_statuses", "Delivery statuses from Twilio, by what they were for (message or broadcast "
                   "delivery), the status, whether it was applied (no: a repeat, an older status or an unknown "
                   "SID) and Twilio's error code for failed ones", ["target", "status", "applied", "code"])
STATUS_BATCHES = Counter("umoja_status_batch_statuses", "Statuses taken from the status stream by the consumer, "
                         "by whether they moved a row (no: a repeat, an older status or an unknown row)",
                         ["applied"])
SENDS = Counter("umoja_sends", "Messages posted to Twilio's Messages API, by outcome (accepted, retry, timeout, "
                "opted_out, outside_window, failed) and Twilio's error code, or what went wrong when there is "
                "none (connection, server, timeout, connection_lost)", ["outcome", "code"])
JOBS = Counter("umoja_jobs", "Background jobs run, by function and result (ok, failed)", ["job", "result"])
JOB_SECONDS = Histogram("umoja_job_seconds", "Time a background job ran, by function", ["job"],
                        buckets=JOB_BUCKETS)

RESULTS = {200: "answered", 400: "invalid", 403: "refused"}
_inbound = {result: INBOUND.labels(result) for result in (*RESULTS.values(), "error", "other")}
_status_callbacks = {result: STATUS_CALLBACKS.labels(result) for result in (*RESULTS.values(), "error", "other")}
WEBHOOKS = {"inbound": (_inbound, INBOUND_SECONDS), "status": (_status_callbacks, STATUS_CALLBACK_SECONDS)}


def result_of(http_status: int) -> str:
    """A webhook answer in words."""
    return RESULTS.get(http_status) or ("error" if http_status >= 500 else "other")


def webhook_answered(webhook: str, http_status: int, seconds: float) -> None:
    """Count one request to a webhook (inbound or status) and, when answered, how long it took."""
    counters, histogram = WEBHOOKS[webhook]
    result = result_of(http_status)
    counters[result].inc()
    if result == "answered":
        histogram.observe(seconds)


def status_recorded(target: str, status: str, applied: bool, code: int | None = None) -> None:
    """Count a status callback applied (or not) to a message or a broadcast delivery."""
    failed = status in {"failed", "undelivered"}
    STATUSES.labels(target, status, "yes" if applied else "no", str(code) if failed and code else "").inc()


def statuses_applied(taken: int, moved: int) -> None:
    """Count a batch of statuses from the stream: how many moved a row, how many changed nothing."""
    STATUS_BATCHES.labels("yes").inc(moved)
    STATUS_BATCHES.labels("no").inc(max(0, taken - moved))


def send_finished(outcome: str, code: int | None, reason: str | None) -> None:
    """Count one post to Twilio's Messages API by its outcome."""
    SENDS.labels(outcome, str(code) if code else (reason if reason and not reason.isdigit() else "none")).inc()


def job_finished(job: str, ok: bool, seconds: float) -> None:
    """Count one background job and its duration."""
    JOBS.labels(job, "ok" if ok else "failed").inc()
    JOB_SECONDS.labels(job).observe(seconds)
