"""Questions and answers (the FAQ), and tickets: questions handed to a human organiser."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.core.extensions import db
from bot.models.base import utcnow


class FaqEntry(db.Model):
    """One curated answer from data/faq.yaml: per language code its question, answer and paraphrases."""

    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # {"en": {"question": …, "answer": …, "paraphrases": […]}, "sw": {…}}: a new language adds a key, no column.
    texts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TicketStatus(enum.StrEnum):
    """Where a ticket stands. Every state but CLOSED is a live ticket (a member has at most one); the
    dashboard's inbox and grievance cases read the same states and move them only through `next_status`."""

    OPEN = "open"  # waiting for an organiser
    WAITING = "waiting"  # an organiser asked the member something: waiting for the member
    ANSWERED = "answered"  # an organiser answered
    CLOSED = "closed"


class TicketEvent(enum.StrEnum):
    """What happens to a ticket: the member writes, an organiser answers or asks, an organiser closes it."""

    MEMBER_WROTE = "member_wrote"
    STAFF_ANSWERED = "staff_answered"
    STAFF_ASKED = "staff_asked"
    CLOSED = "closed"


LIVE_TICKET_STATUSES = (TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.ANSWERED)

# The one transition rule. A closed ticket stays closed: the member's next question opens a new ticket.
TICKET_TRANSITIONS: dict[TicketEvent, TicketStatus] = {
    TicketEvent.MEMBER_WROTE: TicketStatus.OPEN,
    TicketEvent.STAFF_ANSWERED: TicketStatus.ANSWERED,
    TicketEvent.STAFF_ASKED: TicketStatus.WAITING,
    TicketEvent.CLOSED: TicketStatus.CLOSED,
}


def next_status(status: str, event: TicketEvent) -> TicketStatus:
    """The state a ticket in `status` moves to after `event` (a closed one stays closed)."""
    if status == TicketStatus.CLOSED:
        return TicketStatus.CLOSED
    return TICKET_TRANSITIONS[event]


def staff_event(text: str) -> TicketEvent:
    """An organiser's message as an event: one that ends with a question waits for the member's answer."""
    return TicketEvent.STAFF_ASKED if text.rstrip().endswith(("?", "？", "؟")) else TicketEvent.STAFF_ANSWERED


class Ticket(db.Model):
    """A member's question for an organiser; a member has at most one live (not closed) ticket (a partial
    unique index)."""

    __tablename__ = "tickets"
    __table_args__ = (
        sa.Index("uq_tickets_open_member", "member_id", unique=True,
                 postgresql_where=sa.text("status <> 'closed'"), sqlite_where=sa.text("status <> 'closed'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(sa.String(8), default=TicketStatus.OPEN, index=True)
    reason: Mapped[str] = mapped_column(sa.String(16))
    faq_key: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    # CALL ME: when the member agreed that the organiser handling the ticket may see their number.
    call_requested_at: Mapped[datetime | None]
    # Who handles the ticket ('member:<id>' for a staff number on WhatsApp, 'user:<id>' for a dashboard
    # account): the first to REPLY. Only the holder sees the number of a member who asked to be called.
    holder: Mapped[str | None] = mapped_column(sa.String(40))

    entries: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketMessage.id"
    )


class TicketMessage(db.Model):
    """What the member wrote on a ticket, and what organisers answered."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(sa.String(16))
    body: Mapped[str | None] = mapped_column(sa.Text)
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="entries")


class SavedAnswer(db.Model):  # type: ignore[name-defined]  # db.Model is made at run time
    """An answer organisers keep to insert into replies, in one language (staff write it, members read it)."""

    __tablename__ = "saved_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(80))
    language: Mapped[str] = mapped_column(sa.String(16), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
