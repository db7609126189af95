"""Tickets: a member's question handed to a human organiser.

Plain functions that the WhatsApp staff commands (TICKETS, TICKET, REPLY, CLOSE) and the dashboard
call. A ticket's state moves only through `bot.models.support.next_status` (the member writes: open; an
organiser answers: answered, or waiting for the member when the answer asks something; CLOSE: closed). A
member has at most one live ticket (a partial unique index); an organiser's reply and the closing notice
reach the member through `outbound.notify` (text inside the 24-hour window, the `organiser_reply` and
`ticket_closed` templates outside it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from bot.audit import service as audit
from bot.core.area import HeldPastTime
from bot.core.extensions import db
from bot.members.service import conversation_of, set_conversation
from bot.models import ERASED_STATUS, Member, Message, Ticket, TicketMessage, utcnow
from bot.models.support import TicketEvent, TicketStatus, next_status, staff_event
from bot.privacy.masking import member_label
from bot.whatsapp.outbound import notify
from flows.base import N_, Reply, Text, msg
from flows.question import NAME as QUESTION
from flows.question import TICKET
from flows.router import MENU

TEMPLATE = "organiser_reply"
CLOSED_TEMPLATE = "ticket_closed"
OPEN, CLOSED = TicketStatus.OPEN, TicketStatus.CLOSED
LIVE = Ticket.status != CLOSED  # the same condition as the one-live-ticket index
# Live tickets in the order organisers work through them: those waiting for an organiser first.
ORDER = sa.case({TicketStatus.OPEN.value: 0, TicketStatus.WAITING.value: 1}, value=Ticket.status, else_=2)
REPLY_HEADER = N_("An organiser answered your question (ticket #%(ticket)s):")
CLOSED_NOTICE = N_("Your question (ticket #%(ticket)s) is now closed. To ask something new, write it here at any "
                   "time, or send MENU for the main menu.")


class TicketError(LookupError):
    """The ticket does not exist or is closed."""


@dataclass(frozen=True)
class OpenTicketView:
    """One open ticket as organisers see it: the member by label (member number and first name, or P-1234),
    never by phone; `call_phone` is the number of a member who asked to be called (for the holder only)."""

    id: int
    member: str
    created_at: datetime
    last_text: str
    call_requested: bool = False
    holder: str | None = None
    call_phone: str | None = None
    member_id: int | None = None
    status: str = OPEN
    first_text: str = ""
    count: int = 0
    closed_at: datetime | None = None

    def phone_for(self, holder: str) -> str | None:
        """The member's number when they asked to be called and `holder` handles the ticket."""
        return self.call_phone if self.call_requested and self.holder == holder else None


@dataclass(frozen=True)
class ReplyOutcome:
    """What happened to an organiser's reply: 'text', 'template' or 'skipped' (with the reason)."""

    ticket: Ticket
    how: str
    reason: str | None = None
    view: OpenTicketView | None = None


@dataclass(frozen=True)
class CloseOutcome:
    """A closed ticket and how the member was told: 'text', 'template' or 'skipped' (with the reason)."""

    ticket_id: int
    how: str
    reason: str | None = None


def how_sent(message: Message) -> tuple[str, str | None]:
    """How a stored message goes out: ('text' | 'template' | 'skipped', the reason a skipped one is not sent)."""
    payload = message.payload or {}
    if message.status == "skipped":
        return "skipped", payload.get("reason")
    return ("template" if payload.get("content_sid") else "text"), None


def open_ticket_of(member_id: int) -> Ticket | None:
    """The member's live ticket (open, waiting or answered), if any."""
    return db.session.scalars(sa.select(Ticket).where(Ticket.member_id == member_id, LIVE)).first()


def open_ticket(member: Member, text: str, reason: str, *, faq_key: str | None = None,
                asked: Sequence[str] = (), now: datetime | None = None, call_me: bool = False) -> Ticket:
    """Open a ticket for the member, or add to the one already open (never two open at once); the
    questions `asked` before (answered by the FAQ) come first, then `text`; with `call_me`, record when the
    member asked to be called (their consent to the holder seeing the number)."""
    now = now or utcnow()
    ticket = open_ticket_of(member.id)
    if ticket is None:
        try:
            with db.session.begin_nested():
                ticket = Ticket(member_id=member.id, status=OPEN, reason=reason, faq_key=faq_key,
                                created_at=now, updated_at=now)
                db.session.add(ticket)
                db.session.flush()
        except sa.exc.IntegrityError:
            ticket = open_ticket_of(member.id)
            if ticket is None:
                raise
    else:
        ticket.status = next_status(ticket.status, TicketEvent.MEMBER_WROTE)
        ticket.updated_at = now
    if call_me and ticket.call_requested_at is None:
        ticket.call_requested_at = now
    for line in (*asked, text):
        add_entry(ticket, "member", line, now)
    return ticket


def add_entry(ticket: Ticket, author: str, text: str | None, now: datetime, message_id: int | None = None) -> None:
    """Add a line to a ticket (nothing for an empty member message) and move its state: a member's line
    makes it open again, an organiser's answered (or waiting for the member, when it asks something)."""
    if author == "member" and not (text or "").strip():
        return
    db.session.add(TicketMessage(ticket_id=ticket.id, author=author, body=text, message_id=message_id, created_at=now))
    event = TicketEvent.MEMBER_WROTE if author == "member" else staff_event(text or "")
    ticket.status = next_status(ticket.status, event)
    ticket.updated_at = now


def add_to_open_ticket(member: Member, text: str, now: datetime | None = None) -> Ticket | None:
    """Add the member's message to their open ticket; None when no ticket is open."""
    ticket = open_ticket_of(member.id)
    if ticket is not None:
        add_entry(ticket, "member", text, now or utcnow())
    return ticket


# Why a ticket was opened (tickets.reason), in words for the dashboard.
REASONS = {
    "asked": "asked for a person",
    "no_match": "no answer found for the question",
    "not_helped": "the answer did not help",
    "call_me": "asked to be called",
}


def reason_text(reason: str) -> str:
    """Why a ticket was opened, in words (the stored key for one not in REASONS)."""
    return REASONS.get(reason, reason)


def list_open(limit: int = 20) -> list[OpenTicketView]:
    """The live tickets, those waiting for an organiser first, then those waiting for the member, then the
    answered ones, oldest first in each; with who asked, the first question, the member's last words and
    how many lines each holds."""
    rows = db.session.execute(
        sa.select(Ticket, Member).outerjoin(Member, Member.id == Ticket.member_id)
        .where(LIVE).order_by(ORDER, Ticket.created_at, Ticket.id).limit(limit)
    ).all()
    ids = [ticket.id for ticket, _ in rows]
    last_words = {line.ticket_id: line.body for line in latest_lines(ids, 1, author="member")}
    first_words = {line.ticket_id: line.body for line in first_lines(ids)}
    counts = line_counts(ids)
    return [view_of(ticket, member, last_words.get(ticket.id) or "", first_words.get(ticket.id) or "",
                    counts.get(ticket.id, 0)) for ticket, member in rows]


def view_of(ticket: Ticket, member: Member | None, last_text: str, first_text: str = "", count: int = 0
            ) -> OpenTicketView:
    """A ticket as organisers see it."""
    return OpenTicketView(ticket.id, member_label(member), ticket.created_at, last_text,
                          call_requested=ticket.call_requested_at is not None, holder=ticket.holder,
                          call_phone=member.phone if member is not None and ticket.call_requested_at else None,
                          member_id=ticket.member_id, status=ticket.status, first_text=first_text, count=count,
                          closed_at=ticket.closed_at)


def first_lines(ticket_ids: list[int]) -> list[TicketMessage]:
    """The member's first line on each of these tickets (their question), in one query."""
    if not ticket_ids:
        return []
    first = (sa.select(sa.func.min(TicketMessage.id))
             .where(TicketMessage.ticket_id.in_(ticket_ids), TicketMessage.author == "member")
             .group_by(TicketMessage.ticket_id))
    return list(db.session.scalars(sa.select(TicketMessage).where(TicketMessage.id.in_(first))))


def line_counts(ticket_ids: list[int]) -> dict[int, int]:
    """How many lines (the member's and the organisers') each of these tickets holds."""
    if not ticket_ids:
        return {}
    rows = db.session.execute(sa.select(TicketMessage.ticket_id, sa.func.count(TicketMessage.id))
                              .where(TicketMessage.ticket_id.in_(ticket_ids)).group_by(TicketMessage.ticket_id))
    return {ticket_id: count for ticket_id, count in rows}


@dataclass(frozen=True)
class Conversation:
    """A whole ticket for TICKET <number>: the ticket as organisers see it and its lines, oldest first."""

    view: OpenTicketView
    lines: list[TicketMessage]


def conversation(ticket_id: int) -> Conversation | None:
    """Every line of a ticket, live or closed (None when there is no such ticket)."""
    row = db.session.execute(sa.select(Ticket, Member).outerjoin(Member, Member.id == Ticket.member_id)
                             .where(Ticket.id == ticket_id)).first()
    if row is None:
        return None
    ticket, member = row
    lines = list(db.session.scalars(sa.select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
                                    .order_by(TicketMessage.id)))
    first = next((line.body or "" for line in lines if line.author == "member"), "")
    return Conversation(view_of(ticket, member, "", first, len(lines)), lines)


def holder_key(member: Member) -> str:
    """How a staff number on WhatsApp is recorded as a ticket's holder (a fact for the staff commands)."""
    return f"member:{member.id}"


def dashboard_holder(user_id: int) -> str:
    """How a dashboard account is recorded as a ticket's holder."""
    return f"user:{user_id}"


def latest_lines(ticket_ids: list[int], count: int, *, author: str | None = None) -> list[TicketMessage]:
    """The last `count` lines of each of these tickets (only the `author`'s when given), in one query,
    oldest first within a ticket."""
    if not ticket_ids:
        return []
    conditions: list[sa.ColumnElement[bool]] = [TicketMessage.ticket_id.in_(ticket_ids)]
    if author is not None:
        conditions.append(TicketMessage.author == author)
    ranked = sa.select(
        TicketMessage.id,
        sa.func.row_number().over(partition_by=TicketMessage.ticket_id, order_by=TicketMessage.id.desc()).label("n"),
    ).where(*conditions).subquery()
    return list(db.session.scalars(
        sa.select(TicketMessage).join(ranked, ranked.c.id == TicketMessage.id).where(ranked.c.n <= count)
        .order_by(TicketMessage.ticket_id, TicketMessage.id)
    ))


def member_of_ticket(ticket_id: int) -> int | None:
    """The id of the member who asked (None when there is no such ticket)."""
    return db.session.scalar(sa.select(Ticket.member_id).where(Ticket.id == ticket_id))


def count_open() -> int:
    """How many tickets are live (open, waiting or answered)."""
    return db.session.scalar(sa.select(sa.func.count(Ticket.id)).where(LIVE)) or 0


def reply(ticket_id: int, text: str, *, now: datetime | None = None, actor: str = "whatsapp",
          holder: str | None = None) -> ReplyOutcome:
    """Send an organiser's answer to the ticket's member and keep it on the ticket (and in the audit log,
    as done by `actor`); the first to reply (`holder`) becomes the ticket's holder."""
    now = now or utcnow()
    ticket = db.session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None or ticket.status == CLOSED or ticket.member_id is None:
        raise TicketError(ticket_id)
    member = db.session.get(Member, ticket.member_id, with_for_update=True)
    if ticket.holder is None and holder:
        ticket.holder = holder
    answer = Reply.of(msg(REPLY_HEADER, ticket=Text(str(ticket.id))), Text(text))
    messages: list[Message] = notify(member, answer, template=TEMPLATE,
                                     variables={"1": str(ticket.id), "2": text}, now=now)
    db.session.flush()
    first = messages[0]
    add_entry(ticket, "organiser", text, now, message_id=first.id)
    hold_conversation(member, now)
    audit.record(actor, "ticket.reply", f"ticket #{ticket.id}", member_id=member.id, status=first.status)
    how, reason = how_sent(first)
    return ReplyOutcome(ticket, how, reason, view_of(ticket, member, ""))


def assign(ticket_id: int, holder: str | None, *, actor: str) -> Ticket:
    """Give a live ticket to an organiser (`holder`, as `dashboard_holder` records them; None: to nobody):
    they handle it from now on, and only they see the number of a member who asked to be called; audited
    with the previous holder."""
    ticket = db.session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None or ticket.status == CLOSED:
        raise TicketError(ticket_id)
    previous, ticket.holder = ticket.holder, holder
    if previous != holder:
        audit.record(actor, "ticket.assign", f"ticket #{ticket.id}", member_id=ticket.member_id,
                     holder=holder, previous=previous)
    return ticket


def hold_conversation(member: Member, now: datetime) -> None:
    """After an organiser's reply, the member's answer goes to the ticket, unless they are busy elsewhere
    (in another flow that has not expired)."""
    conversation = conversation_of(member, now)
    busy = conversation.flow not in (None, MENU, QUESTION) and (conversation.expires_at or now) > now
    if not busy:
        set_conversation(member, QUESTION, TICKET, now=now)


def close(ticket_id: int, *, now: datetime | None = None, actor: str = "whatsapp") -> CloseOutcome | None:
    """Close a live ticket and tell the member, in their language, that it is closed and how to ask again;
    None when it does not exist or is already closed (atomic); audited."""
    now = now or utcnow()
    closing = (sa.update(Ticket).where(Ticket.id == ticket_id, LIVE)
               .values(status=next_status(OPEN, TicketEvent.CLOSED), closed_at=now, updated_at=now)
               .returning(Ticket.member_id))
    row = db.session.execute(closing).first()
    if row is None:
        return None
    audit.record(actor, "ticket.close", f"ticket #{ticket_id}")
    member = db.session.get(Member, row.member_id) if row.member_id is not None else None
    if member is None:
        return CloseOutcome(ticket_id, "skipped", "deleted")
    notice = Reply.of(msg(CLOSED_NOTICE, ticket=Text(str(ticket_id))))
    [sent, *_] = notify(member, notice, template=CLOSED_TEMPLATE, variables={"1": str(ticket_id)}, now=now)
    return CloseOutcome(ticket_id, *how_sent(sent))


def erase_ticket_texts(member: Member, now: datetime) -> None:
    """Erasure hook: blank what the member and organisers wrote on the member's tickets."""
    ids = sa.select(Ticket.id).where(Ticket.member_id == member.id).scalar_subquery()
    db.session.execute(sa.update(TicketMessage).where(TicketMessage.ticket_id.in_(ids)).values(body=None))
    db.session.execute(sa.update(Ticket).where(Ticket.member_id == member.id, LIVE)
                       .values(status=CLOSED, closed_at=now, updated_at=now))


def open_ticket_id(member: Member) -> int | None:
    """The number of the member's open ticket (a fact for the question flow)."""
    ticket = open_ticket_of(member.id)
    return ticket.id if ticket else None


def ticket_texts_past_time(now: datetime) -> list[HeldPastTime]:
    """Retention check: closed tickets' texts past RETENTION_DAYS, and texts left on the tickets of members who
    deleted their data."""
    days = current_app.config["RETENTION_DAYS"]
    closed = sa.select(Ticket.id).where(Ticket.status == CLOSED).scalar_subquery()
    erased = sa.select(Ticket.id).join(Member, Member.id == Ticket.member_id) \
        .where(Member.status == ERASED_STATUS).scalar_subquery()
    written = sa.select(sa.func.count()).select_from(TicketMessage).where(TicketMessage.body.is_not(None))
    old = db.session.scalar(written.where(TicketMessage.ticket_id.in_(closed),
                                          TicketMessage.created_at < now - timedelta(days=days))) or 0
    left = db.session.scalar(written.where(TicketMessage.ticket_id.in_(erased))) or 0
    return [HeldPastTime("questions to organisers and the cases opened for them (closed)",
                         f"{days} days (RETENTION_DAYS)", old),
            HeldPastTime("questions and cases of members who deleted their data", "until DELETE MY DATA", left)]


def purge_old_ticket_texts(cutoff: datetime) -> int:
    """Retention hook: blank the texts of closed tickets' lines older than the retention period."""
    closed = sa.select(Ticket.id).where(Ticket.status == CLOSED).scalar_subquery()
    result = db.session.execute(
        sa.update(TicketMessage)
        .where(TicketMessage.created_at < cutoff, TicketMessage.body.is_not(None), TicketMessage.ticket_id.in_(closed))
        .values(body=None)
    )
    return result.rowcount or 0
