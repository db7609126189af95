"""The WhatsApp area: the webhooks, messages in and out; its messages go with a member's data."""

from __future__ import annotations

from flask import Flask

from bot.core.area import Area
from bot.core.jobs import job
from bot.core.periodic import PeriodicJob
from bot.privacy import service as privacy
from bot.whatsapp import documents, webhook
from flows.effects import SendMyDataFile


@job
def requeue_pending_outbound() -> int:
    """Queue again outbound messages whose send job was lost (Redis was down when they were stored)."""
    from bot.whatsapp.outbound import requeue_pending

    return requeue_pending()


@job
def apply_waiting_statuses() -> int:
    """Apply status callbacks waiting in the stream: the safety net when no `worker.py --statuses` runs, and
    for entries a consumer that died left pending."""
    from bot.whatsapp.statuses import Consumer

    return Consumer("clock").drain()


def setup(app: Flask) -> None:
    """The webhooks (they never use Flask's session cookie); status callbacks and inbound messages are taken
    ahead of Flask."""
    app.session_interface = webhook.NoSessionForTwilio()
    app.register_blueprint(webhook.bp)
    app.wsgi_app = webhook.Webhooks(app, app.wsgi_app)  # type: ignore[method-assign]


AREA = Area(
    "whatsapp",
    erasure_hooks=(privacy.erase_stored_media, privacy.erase_messages, privacy.erase_staff_mentions),
    performers={SendMyDataFile: documents.perform_send_my_data_file},
    periodic=(PeriodicJob(requeue_pending_outbound, "default", interval=60),
              PeriodicJob(apply_waiting_statuses, "default", interval=60)),
    setup=setup,
    tables=("messages", "message_subjects"),
)
