"""The organisers' inbox: every kind of conversation with a member (tickets now, grievance cases later) as
one list of items with the same states, holders, filters, sorting and search.

An area brings its kind of conversation as an `InboxSource` in its `Area` (`inbox_sources`): a function that
returns its items for an `InboxQuery`, at most `limit + 1` of them in the query's order, so that the inbox
can merge the kinds and tell whether there are more. Tickets are the first source (`TICKETS`).

The search runs over what the reader may read: for a role that sees phone numbers masked the texts are
masked first, then searched, and a run of digits in the search matches only a whole number in the text
(`0712` never matches inside a number), so searching cannot rebuild a number digit by digit. A member
number ('KUGWO-000123', or its digits '123') or a reference ('P-45') finds that member's conversations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from bot.core.area import assembled
from bot.core.extensions import db
from bot.models import DashboardUser, Member, Message, Ticket, TicketMessage, utcnow
from bot.models.support import LIVE_TICKET_STATUSES, TicketStatus
from bot.privacy import masking
from bot.support import tickets

STATES = tuple(status.value for status in TicketStatus)
LIVE = "live"  # every state but closed: the default view
ALL = "all"
SORTS = {"oldest": "oldest first", "newest": "newest first", "activity": "latest activity first"}
# The newest lines whose raw text holds every word of a search, masked and searched (a search reads no more).
SEARCH_LINES = 5000
MAX_QUERY = 80


@dataclass(frozen=True)
class InboxQuery:
    """What the inbox shows: a state (`live`, `all`, one of STATES, or '' for the default: live, or every
    state for a search), only the reader's ('mine') or those nobody holds ('unassigned'), a search, the
    order, and who reads (their holder key and role)."""

    me: str
    role: str
    state: str = ""
    mine: bool = False
    unassigned: bool = False
    q: str = ""
    sort: str = "oldest"

    @classmethod
    def of(cls, args: Mapping[str, str], *, me: str, role: str) -> InboxQuery:
        """The query from a page's arguments, cleaned."""
        get = args.get
        q = str(get("q", "") or "").strip()[:MAX_QUERY]
        state = str(get("state", "") or "")
        if state not in (*STATES, LIVE, ALL):
            state = ""
        sort = str(get("sort", "") or "")
        return cls(me=me, role=role, state=state, mine=get("mine") == "1", unassigned=get("unassigned") == "1",
                   q=q, sort=sort if sort in SORTS else "oldest")

    @property
    def shown_states(self) -> str:
        """The state the inbox lists: the chosen one, else live ones (every state for a search)."""
        return self.state or (ALL if self.q else LIVE)

    @property
    def is_default(self) -> bool:
        """Whether nothing narrows the default view (the live tickets)."""
        return self.shown_states == LIVE and not (self.q or self.mine or self.unassigned)

    def args(self) -> dict[str, str]:
        """The query as a page's arguments, for links."""
        found = {"state": self.state, "sort": self.sort, "q": self.q,
                 "mine": "1" if self.mine else "", "unassigned": "1" if self.unassigned else ""}
        return {name: value for name, value in found.items() if value}


@dataclass(frozen=True)
class InboxItem:
    """One conversation as the inbox lists it. `first_text` is as written: the page masks it for the reader;
    `endpoint` and `endpoint_args` open its page."""

    kind: str
    id: int
    status: str
    member_id: int | None
    member: str
    language: str | None
    holder: str | None
    first_text: str
    count: int
    created_at: datetime
    last_activity: datetime
    closed_at: datetime | None
    endpoint: str
    call_requested: bool = False
    unsent: int = 0  # organiser answers that did not reach the member (skipped, failed)

    @property
    def endpoint_args(self) -> dict[str, int]:
        """The arguments of the item's page."""
        return {f"{self.kind}_id": self.id}


@dataclass(frozen=True)
class InboxSource:
    """One kind of conversation in the inbox: its name, and its items for a query (at most `limit + 1`)."""

    kind: str
    items: Callable[[InboxQuery, int], list[InboxItem]]


@dataclass(frozen=True)
class InboxPage:
    """The items of a query, at most `limit`, and whether more match."""

    items: list[InboxItem]
    more: bool


def sort_key(sort: str) -> Callable[[InboxItem], tuple[float, int]]:
    """How items of every kind are put in one order."""
    if sort == "newest":
        return lambda item: (-item.created_at.timestamp(), -item.id)
    if sort == "activity":
        return lambda item: (-item.last_activity.timestamp(), -item.id)
    return lambda item: (item.created_at.timestamp(), item.id)


def inbox(query: InboxQuery, limit: int) -> InboxPage:
    """Every source's items for the query merged in its order, cut at `limit`."""
    found = [item for source in assembled().inbox_sources for item in source.items(query, limit)]
    found.sort(key=sort_key(query.sort))
    return InboxPage(found[:limit], len(found) > limit)


# --- search ----------------------------------------------------------------------------------------

def terms_of(text: str) -> list[str]:
    """The words of a search."""
    return [word for word in text.split() if word][:8]


def term_pattern(term: str) -> re.Pattern[str]:
    """A search word as a pattern: case-insensitive, and digits at either end of it match only at the edge of a
    number ('0712' is not found inside '0712345678', '123' not inside '1234')."""
    before = r"(?<!\d)" if term[0].isdigit() else ""
    after = r"(?!\d)" if term[-1].isdigit() else ""
    return re.compile(before + re.escape(term) + after, re.IGNORECASE)


def text_matches(text: str, patterns: Sequence[re.Pattern[str]]) -> bool:
    """Whether a text holds every word of a search."""
    return all(pattern.search(text) for pattern in patterns)


def member_search(term: str) -> sa.ColumnElement[bool] | None:
    """The members a search word names by member number ('KUGWO-000123', '000123', '123') or reference
    ('P-45'); None when it names none."""
    prefix = current_app.config["MEMBER_NUMBER_PREFIX"]
    numbered = re.fullmatch(rf"(?:{re.escape(prefix)}-)?0*(\d{{1,9}})", term, re.IGNORECASE)
    if numbered:
        number = int(numbered.group(1))
        return Member.member_number.in_([f"{prefix}-{number:06d}", f"{prefix}-{number}"])
    reference = re.fullmatch(rf"{re.escape(masking.PROSPECT_PREFIX)}(\d{{1,9}})", term, re.IGNORECASE)
    if reference:
        return sa.and_(Member.id == int(reference.group(1)), Member.member_number.is_(None))
    return None


def matching_tickets(q: str, role: str) -> set[int]:
    """The tickets a search finds, in any state: those of the member a member number names, and those with a
    line holding every word, as the role may read the line (masked first for a role that sees masked data)."""
    terms = terms_of(q)
    if not terms:
        return set()
    found: set[int] = set()
    if len(terms) == 1:
        named = member_search(terms[0])
        if named is not None:
            found.update(db.session.scalars(sa.select(Ticket.id).join(Member, Member.id == Ticket.member_id)
                                            .where(named)))
    candidates = db.session.execute(
        sa.select(TicketMessage.ticket_id, TicketMessage.body)
        .where(*(TicketMessage.body.icontains(term, autoescape=True) for term in terms))
        .order_by(TicketMessage.id.desc()).limit(SEARCH_LINES)
    ).all()
    shown = masking.shown_texts([body for _, body in candidates], role)
    patterns = [term_pattern(term) for term in terms]
    found.update(ticket_id for (ticket_id, _), text in zip(candidates, shown, strict=True)
                 if text_matches(text, patterns))
    return found


# --- tickets as inbox items ------------------------------------------------------------------------

def ticket_conditions(query: InboxQuery) -> list[sa.ColumnElement[bool]]:
    """SQL conditions for the query's state, holder and search."""
    conditions: list[sa.ColumnElement[bool]] = []
    state = query.shown_states
    if state == LIVE:
        conditions.append(Ticket.status.in_([status.value for status in LIVE_TICKET_STATUSES]))
    elif state != ALL:
        conditions.append(Ticket.status == state)
    if query.mine:
        conditions.append(Ticket.holder == query.me)
    if query.unassigned:
        conditions.append(Ticket.holder.is_(None))
    if query.q:
        conditions.append(Ticket.id.in_(sorted(matching_tickets(query.q, query.role)) or [-1]))
    return conditions


TICKET_ORDER = {
    "oldest": (Ticket.created_at, Ticket.id),
    "newest": (Ticket.created_at.desc(), Ticket.id.desc()),
    "activity": (Ticket.updated_at.desc(), Ticket.id.desc()),
}


def ticket_items(query: InboxQuery, limit: int) -> list[InboxItem]:
    """The tickets for the query in its order (at most `limit + 1`), in a fixed number of statements."""
    rows = db.session.execute(
        sa.select(Ticket, Member).outerjoin(Member, Member.id == Ticket.member_id)
        .where(*ticket_conditions(query)).order_by(*TICKET_ORDER[query.sort]).limit(limit + 1)
    ).all()
    ids = [ticket.id for ticket, _ in rows]
    first_words = {line.ticket_id: line.body for line in tickets.first_lines(ids)}
    counts = tickets.line_counts(ids)
    unsent = unsent_answers(ids)
    return [InboxItem("ticket", ticket.id, ticket.status, ticket.member_id, masking.member_label(member),
                      member.language if member is not None else None, ticket.holder,
                      first_words.get(ticket.id) or "", counts.get(ticket.id, 0), ticket.created_at,
                      ticket.updated_at, ticket.closed_at, "admin.ticket_detail",
                      call_requested=ticket.call_requested_at is not None, unsent=unsent.get(ticket.id, 0))
            for ticket, member in rows]


NOT_DELIVERED = ("skipped", "failed", "undelivered")


def unsent_answers(ticket_ids: list[int]) -> dict[int, int]:
    """How many organiser answers on each of these tickets did not reach the member, in one query."""
    if not ticket_ids:
        return {}
    rows = db.session.execute(
        sa.select(TicketMessage.ticket_id, sa.func.count(TicketMessage.id))
        .join(Message, Message.id == TicketMessage.message_id)
        .where(TicketMessage.ticket_id.in_(ticket_ids), TicketMessage.author != "member",
               Message.status.in_(NOT_DELIVERED))
        .group_by(TicketMessage.ticket_id))
    return {ticket_id: count for ticket_id, count in rows}


TICKETS = InboxSource("ticket", ticket_items)


# --- holders ---------------------------------------------------------------------------------------

def holder_labels(holders: set[str | None]) -> dict[str, str]:
    """How the inbox names each holder: a dashboard account by its name (or email), a staff number on
    WhatsApp by member label (never the number)."""
    users = {int(key.split(":", 1)[1]) for key in holders if key and key.startswith("user:")}
    staff = {int(key.split(":", 1)[1]) for key in holders if key and key.startswith("member:")}
    labels: dict[str, str] = {}
    if users:
        for user in db.session.scalars(sa.select(DashboardUser).where(DashboardUser.id.in_(users))):
            labels[tickets.dashboard_holder(user.id)] = user.name or user.email
    if staff:
        for member in db.session.scalars(sa.select(Member).where(Member.id.in_(staff))):
            labels[f"member:{member.id}"] = f"{masking.member_label(member)} (WhatsApp)"
    return labels


def assignable_users() -> list[DashboardUser]:
    """The active dashboard accounts a ticket can be given to: organisers, and admins (who hold every role)."""
    return list(db.session.scalars(sa.select(DashboardUser)
                                   .where(DashboardUser.active.is_(True), DashboardUser.role.in_(("organiser", "admin")))
                                   .order_by(DashboardUser.name, DashboardUser.email)))


def age_in_words(since: datetime, now: datetime | None = None) -> str:
    """How long ago, short: '5 min', '3 h', '2 d'."""
    seconds = max(((now or utcnow()) - since).total_seconds(), 0)
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"
