"""Operating Umoja: structured logs (`logs.py`), optional error reporting (`errors.py`), Prometheus metrics
(`metrics.py`, served by `endpoint.py`) and the worker that counts jobs (`jobs.py`).

`init_observability(app)` wires them into an app; the webhooks are timed and counted by request hooks
here, so the webhook module itself knows nothing of it.
"""

from __future__ import annotations

import logging
import os
import time

from flask import Flask, Response, g, request

from bot.observability import logs, metrics

log = logging.getLogger(__name__)
webhook_log = logging.getLogger("bot.whatsapp.webhook")

# The endpoints timed and counted, and the webhook name they count under.
WEBHOOKS = {"whatsapp.inbound_message": "inbound", "whatsapp.message_status": "status"}
# Only a SID of Twilio's shape goes into the log lines (not whatever a forged request sent).


def init_observability(app: Flask) -> None:
    """Logging in LOG_FORMAT, error reporting when SENTRY_DSN is set, and the /metrics endpoint."""
    from bot.observability import endpoint, errors

    logs.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    errors.init_error_reporting(app)
    app.register_blueprint(endpoint.bp)
    app.before_request(start_request)
    app.after_request(count_webhook)
    app.teardown_request(end_request)
    if app.config.get("METRICS_TOKEN") and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        log.info("PROMETHEUS_MULTIPROC_DIR is not set: /metrics shows the counters of the process that answers")


def start_request() -> None:
    """Forget the previous request's identifiers; for a webhook, note the time. The webhook binds its
    MessageSid itself once the body passed its size checks (reading the form here would parse a body
    before those checks)."""
    logs.clear()
    if request.endpoint not in WEBHOOKS:
        return
    g.webhook_started = time.perf_counter()


def count_webhook(response: Response) -> Response:
    """Count the webhook's answer and its latency (`webhook_done`)."""
    started = g.pop("webhook_started", None)
    if started is None:
        return response
    webhook_done(WEBHOOKS[request.endpoint or ""], response.status_code, time.perf_counter() - started)
    return response


def webhook_done(webhook: str, http_status: int, seconds: float) -> None:
    """Count a webhook's answer and its latency; at DEBUG, log one line for it (a line costs tens of
    microseconds of CPU, many times the counters: not on every message by default). Flask's views and the
    WSGI callables ahead of Flask (`bot/whatsapp/webhook.py`) both end here."""
    metrics.webhook_answered(webhook, http_status, seconds)
    if webhook_log.isEnabledFor(logging.DEBUG):
        webhook_log.debug("%s webhook answered %s in %.1f ms", webhook, http_status, seconds * 1000,
                          extra={"http_status": http_status, "duration_ms": round(seconds * 1000, 2)})


def end_request(_error: BaseException | None = None) -> None:
    """Forget the request's identifiers."""
    logs.clear()
