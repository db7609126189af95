"""Internal notes staff write about a member on the dashboard: never sent or shown to the member, audited,
and deleted with the member's data (DELETE MY DATA)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.audit import service as audit
from bot.core.extensions import db
from bot.models import Member, MemberNote, utcnow

MAX_NOTE_LENGTH = 2000


def add_note(member: Member, body: str, *, author: str, now: datetime | None = None) -> MemberNote:
    """Add a note (the caller commits); the audit entry names the member by id, never the note's text."""
    text = body.strip()[:MAX_NOTE_LENGTH]
    if not text:
        raise ValueError("a note needs some text")
    note = MemberNote(member_id=member.id, author=author, body=text, created_at=now or utcnow())
    db.session.add(note)
    db.session.flush()
    audit.record(author, "member.note", f"member:{member.id}", note=note.id, length=len(text))
    return note


def notes_of(member_id: int) -> list[MemberNote]:
    """A member's notes, oldest first."""
    return list(db.session.scalars(
        sa.select(MemberNote).where(MemberNote.member_id == member_id).order_by(MemberNote.created_at, MemberNote.id)
    ))


def erase_notes(member: Member, now: datetime) -> None:
    """Notes hold what staff know of the member: they go with the member's data (nothing to do on a
    database whose migrations have not reached the notes yet, e.g. a worker started before `release`)."""
    if not sa.inspect(db.session.connection()).has_table(MemberNote.__tablename__):
        return
    db.session.execute(sa.delete(MemberNote).where(MemberNote.member_id == member.id))
