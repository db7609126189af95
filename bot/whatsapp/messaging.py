"""Delivery statuses from Twilio's callbacks."""

from __future__ import annotations

import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import Message, utcnow
from bot.observability import metrics

# Twilio's statuses in the order a message moves through them; callbacks arrive out of order, so a
# status only ever replaces one of lower rank.
STATUS_RANK: dict[str, int] = {
    "outbox": 1,
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "failed": 4,
    "undelivered": 4,
    "canceled": 4,
    "delivered": 5,
    "read": 6,
}
# Every MessageStatus Twilio documents for a message (a status callback with any other is refused);
# the ones without a rank above say nothing about delivery and change nothing.
TWILIO_STATUSES = frozenset({"accepted", "scheduled", "canceled", "queued", "sending", "sent", "failed", "delivered",
                             "undelivered", "receiving", "received", "read", "partially_delivered"})


def record_status(sid: str, status: str, error_code: int | None, message_id: int | None = None) -> bool:
    """Apply a status callback to a message we sent (never to an inbound one, which has a SID too): only
    moves forward; failed and undelivered keep the error code. With `message_id` (the `?m=` of the
    callback URL) the message is found by our id, so a status that arrives before its SID is stored (or
    for a TwiML reply, whose SID we never learn otherwise) lands and sets the SID."""
    rank = STATUS_RANK.get(status)
    if rank is None:
        return False
    values: dict[str, object] = {"status": status, "status_rank": rank, "updated_at": utcnow()}
    if status in {"failed", "undelivered"}:
        values["error_code"] = error_code
    if message_id is None:
        target = Message.twilio_sid == sid
    else:
        target = sa.and_(Message.id == message_id, sa.or_(Message.twilio_sid.is_(None), Message.twilio_sid == sid))
        values["twilio_sid"] = sid
    result = db.session.execute(
        sa.update(Message).where(target, Message.direction == "out", Message.status_rank < rank).values(**values)
    )
    db.session.commit()
    metrics.status_recorded("message", status, bool(result.rowcount), error_code)
    return bool(result.rowcount)
