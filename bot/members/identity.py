"""One person, one member: a member's WhatsApp identities (a phone number, a WhatsApp user id, or both)
and the merge of two rows that turn out to hold the same person.

A message that shows both identities (a phone `From` whose `WaId` is a user id) links them on one row.
When they were on two rows (someone wrote with the number hidden, then with it shown), the two become
one: the row with the older member number (or, without numbers, the older row) is kept, everything the
other row had (messages, consent events, tickets, enrolments, certificates, deliveries, notes, its
member number in the ledger) moves to it, its missing details are filled from the other, and the merge
is in the audit log (by ids only).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.audit import service as audit
from bot.core.extensions import db
from bot.models import Member, MemberNumber, Ticket, Voucher, utcnow

log = logging.getLogger(__name__)
MEMBERS = Member.__table__
# Details the kept row takes from the merged one when it has none of its own.
FILLED = ("wa_id", "profile_name", "name", "county", "work_other", "gender", "community", "language",
          "consent_at", "consent_version", "consent_language", "joined_at")


def link_identities(member: Member, phone: str, wa_user_id: str) -> bool:
    """`member` (found by `phone`) could not take `wa_user_id`, which another row holds: merge the two
    when they can be one person (True: lock the member again). Not when the rows disagree (the phone's
    row has another user id, or the user id's row another phone: a number given to someone else) or
    both were given a voucher code (a member has one): the message stays with the phone's row."""
    other = db.session.scalars(sa.select(Member).where(Member.wa_user_id == wa_user_id, Member.id != member.id)
                               .with_for_update()).first()
    if other is None:
        return False
    vouchers = db.session.scalar(sa.select(sa.func.count(Voucher.id)).where(Voucher.member_id.in_((member.id, other.id))))
    if member.wa_user_id not in (None, wa_user_id) or other.phone not in (wa_user_id, phone) or (vouchers or 0) > 1:
        log.warning("not merging members %s and %s: their identities or vouchers disagree", member.id, other.id)
        return False
    merge_members(member, other, phone=phone, wa_user_id=wa_user_id)
    return True


def number_order(member: Member) -> tuple[bool, int, int]:
    """Sorts members by their oldest member number (the ledger's id), those without one last, then by age."""
    issued = db.session.scalar(sa.select(sa.func.min(MemberNumber.id)).where(MemberNumber.member_id == member.id))
    return (issued is None, issued or 0, member.id)


def member_references() -> list[tuple[sa.Table, sa.Column]]:
    """Every column of the schema that refers to a member's id."""
    return [(table, fk.parent) for table in db.metadata.sorted_tables for fk in table.foreign_keys
            if fk.column is MEMBERS.c.id]


def unique_sets(table: sa.Table, column: sa.Column) -> list[list[sa.Column]]:
    """The other columns of each primary key, unique constraint or unique index of `table` that holds
    `column` (partial unique indexes are handled before the move)."""
    sets = [list(table.primary_key.columns)]
    sets += [list(c.columns) for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
    sets += [list(i.columns) for i in table.indexes if i.unique and i.dialect_options["postgresql"]["where"] is None]
    return [[c for c in cols if c is not column] for cols in sets if column in cols]


def move_rows(keep: int, gone: int, now: datetime) -> None:
    """Give the kept member every row of the merged one that it can hold; what would be a second copy of
    one of its own (a conversation, a second enrolment in a course, a second delivery of a broadcast)
    stays with the merged row and goes with it. A second live ticket is closed first (a member has one)."""
    if db.session.scalar(sa.select(Ticket.id).where(Ticket.member_id == keep, Ticket.status != "closed")) is not None:
        db.session.execute(sa.update(Ticket).where(Ticket.member_id == gone, Ticket.status != "closed")
                           .values(status="closed", closed_at=now, updated_at=now))
    for table, column in member_references():
        if table.name == "member_work":
            # The kept member's kinds of work stand (a member number means sign-up gave some; without one
            # neither row has any); moving rows would also pass the running counts by (their trigger).
            continue
        condition = column == gone
        for others in unique_sets(table, column):
            theirs = table.alias("theirs")
            clash = sa.select(sa.literal(1)).select_from(theirs).where(
                theirs.c[column.name] == keep, *(theirs.c[c.name] == c for c in others))
            condition = sa.and_(condition, ~clash.exists())
        db.session.execute(sa.update(table).where(condition).values({column.name: keep}))


def merge_members(first: Member, second: Member, *, phone: str, wa_user_id: str) -> Member:
    """Merge two rows of one person into the one with the older member number (see the module)."""
    now = utcnow()
    db.session.flush()
    keep, gone = sorted((first, second), key=number_order)
    recent = max((keep, gone), key=lambda m: m.last_inbound_at or datetime.min)
    values: dict[str, Any] = {name: getattr(keep, name) if getattr(keep, name) is not None else getattr(gone, name)
                              for name in FILLED}
    values.update(
        phone=phone, wa_user_id=wa_user_id, opted_out_at=recent.opted_out_at,
        broadcasts_stopped_at=recent.broadcasts_stopped_at, updated_at=now,
        last_inbound_at=max((m.last_inbound_at for m in (keep, gone) if m.last_inbound_at), default=None),
        created_at=min(keep.created_at, gone.created_at),
    )
    keep_id, gone_id, had_history = keep.id, gone.id, gone.last_inbound_at is not None
    move_rows(keep_id, gone_id, now)
    db.session.expunge(gone)
    db.session.execute(sa.delete(MEMBERS).where(MEMBERS.c.id == gone_id))
    db.session.execute(sa.update(MEMBERS).where(MEMBERS.c.id == keep_id).values(values))
    db.session.expire(keep)
    if had_history:  # not a row this very message created before the user id was matched
        audit.record("whatsapp", "member.merged", None, member_id=keep_id, merged_member_id=gone_id)
        log.info("merged member %s into member %s (one WhatsApp identity on both)", gone_id, keep_id)
    return keep
