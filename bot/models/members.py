"""Contacts and members, conversations, the message log and consent events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.core.extensions import db
from bot.models.base import utcnow

# DELETE MY DATA leaves an anonymous row with this status: never messaged again; a member who had joined
# stays one of those officers count (county, kinds of work, joining month), so the union's figures hold.
ERASED_STATUS = "deleted"
# A member's WhatsApp identity: a phone number in E.164 (at most 16 characters) or a WhatsApp user id (a
# country, a dot and up to 128 letters and digits).
IDENTITY_LENGTH = 140


class Member(db.Model):
    """Everyone who writes to the union's number; a member once they finish sign-up."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The WhatsApp identity messages go to: the phone number (E.164) when known, else the member's WhatsApp
    # user id (Meta's business-scoped id, 'US.1349…'); `erased-<id>` after DELETE MY DATA.
    phone: Mapped[str] = mapped_column(sa.String(IDENTITY_LENGTH), unique=True)
    # The WhatsApp user id whenever one is known (also when `phone` holds it), so either identity finds the row.
    wa_user_id: Mapped[str | None] = mapped_column(sa.String(IDENTITY_LENGTH), unique=True)
    wa_id: Mapped[str | None] = mapped_column(sa.String(20))
    profile_name: Mapped[str | None] = mapped_column(sa.String(120))
    name: Mapped[str | None] = mapped_column(sa.String(80))
    county: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    work_other: Mapped[str | None] = mapped_column(sa.String(60))
    gender: Mapped[str | None] = mapped_column(sa.String(20))
    community: Mapped[str | None] = mapped_column(sa.String(20))
    language: Mapped[str | None] = mapped_column(sa.String(8))
    member_number: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="prospect", index=True)
    joined_at: Mapped[datetime | None] = mapped_column(index=True)
    consent_at: Mapped[datetime | None]
    consent_version: Mapped[str | None] = mapped_column(sa.String(32))
    consent_language: Mapped[str | None] = mapped_column(sa.String(8))
    opted_out_at: Mapped[datetime | None]
    # NO BROADCASTS: the member objects to union news only (reminders and answers go on); STOP is `opted_out_at`.
    broadcasts_stopped_at: Mapped[datetime | None]
    last_inbound_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    work_kinds: Mapped[list[MemberWork]] = relationship(
        back_populates="member", cascade="all, delete-orphan"
    )

    @property
    def is_member(self) -> bool:
        """Whether sign-up is complete and the membership is active."""
        return self.status == "active"

    @property
    def opted_out(self) -> bool:
        """Whether the member asked for no messages."""
        return self.opted_out_at is not None

    @property
    def broadcasts_stopped(self) -> bool:
        """Whether the member objected to broadcasts (NO BROADCASTS)."""
        return self.broadcasts_stopped_at is not None

    @property
    def erased(self) -> bool:
        """Whether the member erased their data (DELETE MY DATA): never messaged again."""
        return self.status == ERASED_STATUS


class MemberWork(db.Model):
    """One kind of gig work a member does (a row each, so counts and segments are plain SQL)."""

    __tablename__ = "member_work"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32), primary_key=True, index=True)

    member: Mapped[Member] = relationship(back_populates="work_kinds")


class MemberNumber(db.Model):
    """The ledger of issued member numbers: ids only grow, so a number is never reused."""

    __tablename__ = "member_numbers"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(db.Model):
    """Where a member's conversation stands: the active flow, its step and the answers so far."""

    __tablename__ = "conversations"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    flow: Mapped[str | None] = mapped_column(sa.String(32))
    step: Mapped[str | None] = mapped_column(sa.String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    errors: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]


class Message(db.Model):
    """The message log: every inbound message and every reply or outbound message."""

    __tablename__ = "messages"
    __table_args__ = (sa.Index("ix_messages_member_created", "member_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(sa.String(3))
    channel: Mapped[str] = mapped_column(sa.String(8), default="whatsapp")
    twilio_sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    body: Mapped[str | None] = mapped_column(sa.Text)
    media: Mapped[list[dict[str, str]] | None] = mapped_column(sa.JSON)
    payload: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # A message the union starts: its entry in WHATSAPP_TEMPLATES ("voucher", "reminder"…), for a resend
    # as that template when Twilio says the 24-hour window had closed (63016).
    kind: Mapped[str | None] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(16), default="received")
    status_rank: Mapped[int] = mapped_column(default=0)
    error_code: Mapped[int | None]
    in_reply_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    processed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MessageSubject(db.Model):
    """A message that names a member without being theirs (a staff command about them and its replies):
    erasing the member blanks it."""

    __tablename__ = "message_subjects"

    message_id: Mapped[int] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)


class ForgottenMessage(db.Model):
    """The SHA-256 of the MessageSid of a message from a person who refused consent and was forgotten, so
    that Twilio's retry of it is recognised (and answered as before) instead of processed again."""

    __tablename__ = "forgotten_messages"

    sid_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    replies: Mapped[list[str] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ConsentEvent(db.Model):
    """A consent, opt-out or opt-in, kept (without the phone number) even if the member is deleted."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    source: Mapped[str] = mapped_column(sa.String(32))
    text_version: Mapped[str | None] = mapped_column(sa.String(32))
    language: Mapped[str | None] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
