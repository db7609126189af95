"""Broadcasts: one message to a segment of members, and one delivery row per (broadcast, member)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.extensions import db
from bot.models.base import utcnow
from bot.models.members import IDENTITY_LENGTH


class BroadcastStatus(enum.StrEnum):
    """Where a broadcast stands: draft → scheduled → running ⇄ paused → done | cancelled."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"


# Broadcasts the clock looks after (start, pause for quiet hours, resume, recover), and those that can be cancelled.
LIVE = (BroadcastStatus.SCHEDULED, BroadcastStatus.RUNNING, BroadcastStatus.PAUSED)
CANCELLABLE = (BroadcastStatus.DRAFT, *LIVE)


class Broadcast(db.Model):
    """A message to a segment: texts per language, a segment, a start time and quiet hours."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # language code → the text in it; English is always there (members without their language get it).
    texts: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    media_url: Mapped[str | None] = mapped_column(sa.String(500))
    segment: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # draft → scheduled → running ⇄ paused → done | cancelled
    status: Mapped[str] = mapped_column(sa.String(16), default=BroadcastStatus.DRAFT, index=True)
    paused_reason: Mapped[str | None] = mapped_column(sa.String(16))
    send_at: Mapped[datetime | None]
    quiet_start: Mapped[str | None] = mapped_column(sa.String(5))
    quiet_end: Mapped[str | None] = mapped_column(sa.String(5))
    created_by: Mapped[str | None] = mapped_column(sa.String(IDENTITY_LENGTH))  # a staff number or a user id
    audience: Mapped[int | None]
    resolved_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def english_text(self) -> str:
        """The English text (every broadcast has one: members without a text in their language get it)."""
        return (self.texts or {}).get("en", "")


class BroadcastDelivery(db.Model):
    """One member's copy of a broadcast; the unique pair makes a double send impossible.

    queued → claimed (leased by a worker, not yet sent) → sending (the call to Twilio may have happened)
    → accepted → sent → delivered → read, or failed / undelivered / skipped / cancelled. A try that got no
    answer goes back to queued with `attempted_at` set: its retry asks Twilio before sending again.
    """

    __tablename__ = "broadcast_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("broadcast_id", "member_id"),
        sa.Index("ix_broadcast_deliveries_broadcast_status", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(sa.ForeignKey("broadcasts.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    status_rank: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str | None] = mapped_column(sa.String(8))
    # The language of the text this member was sent (a key of the broadcast's texts) and, for a template,
    # the template's language (TEMPLATE_FALLBACK's when theirs has none): what was sent, without a copy of it.
    language: Mapped[str | None] = mapped_column(sa.String(16))
    template_language: Mapped[str | None] = mapped_column(sa.String(16))
    sender: Mapped[str | None] = mapped_column(sa.String(40))
    twilio_sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    error_code: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(sa.String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    # When a try that got no answer from Twilio started (the retry asks Twilio first), and how many of
    # those questions could not be answered.
    attempted_at: Mapped[datetime | None]
    lookups: Mapped[int] = mapped_column(default=0, server_default="0")
    lease_until: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    # When it reached each step of the funnel, set once by the first status that reached it (a later step
    # implies the earlier ones: a read message was delivered and sent by then); empty on rows from before
    # migration 0021.
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
