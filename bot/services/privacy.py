"""Members' data rights (Kenya Data Protection Act 2019) and the retention of message texts.

`erase_member` runs every hook in `ERASURE_HOOKS` in order, inside the caller's transaction. Each area
that keeps personal data appends its own hook with `register_erasure_hook` (tickets blank their texts;
certificates delete their files). The member's row stays, anonymous: the name, phone number (replaced by
a placeholder), WhatsApp name, member number, gender and community go; the county, kinds of work,
the joining day and course completions stay, and the member (now of status ERASED_STATUS) is still
counted in STATS and on the dashboard, as "data erased", so the counts officers report do not change.
Consent and opt-out events stay too (they never held the phone number).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from bot.extensions import db
from bot.models import ERASED_STATUS, Conversation, Member, Message, utcnow
from bot.services import local_time
from bot.services.facts import FACTS
from flows.language import LANGUAGES

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {code: name for code, name, _ in LANGUAGES}

ErasureHook = Callable[[Member, datetime], None]


def storage_dir() -> Path:
    """Where stored media files live (`<STORAGE_DIR>/<sha256>.<ext>`)."""
    return Path(current_app.config["STORAGE_DIR"])


def stored_path(name: str) -> Path | None:
    """The path of a stored file by its name, or None for a name that would leave the folder."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    return storage_dir() / name


def delete_stored_file(name: str) -> bool:
    """Delete one stored file by name; False when it was not there."""
    path = stored_path(name)
    if path is None or not path.is_file():
        return False
    path.unlink()
    return True


def messages_of(member: Member) -> sa.ColumnElement[bool]:
    """The messages linked to the member (see `unattached_inbound` for those not linked yet)."""
    return Message.member_id == member.id


def unattached_inbound(member: Member) -> list[Message]:
    """Inbound messages stored but not yet linked to the member (the message being processed, or one
    kept after a failure): they carry the phone number in the payload."""
    return list(db.session.scalars(
        sa.select(Message).where(Message.member_id.is_(None), Message.direction == "in", Message.processed_at.is_(None),
                                 Message.payload["From"].as_string().in_((f"whatsapp:{member.phone}", member.phone)))
    ))


def erase_stored_media(member: Member, now: datetime) -> None:
    """Delete the stored files the member's messages point at (media items with a `file` name)."""
    rows = db.session.scalars(sa.select(Message.media).where(messages_of(member), Message.media.is_not(None))).all()
    for media in [*rows, *(row.media for row in unattached_inbound(member) if row.media)]:
        for item in media or []:
            if isinstance(item, dict) and item.get("file"):
                delete_stored_file(str(item["file"]))


def erase_messages(member: Member, now: datetime) -> None:
    """Blank the texts, media and raw payloads of every message to or from the member."""
    db.session.execute(sa.update(Message).where(messages_of(member))
                       .values(body=None, media=sa.null(), payload=sa.null(), updated_at=now))
    for row in unattached_inbound(member):
        row.body, row.media, row.payload, row.updated_at = None, sa.null(), sa.null(), now


def erase_conversation(member: Member, now: datetime) -> None:
    """Forget the answers of the conversation in progress."""
    db.session.execute(sa.update(Conversation).where(Conversation.member_id == member.id)
                       .values(flow=None, step=None, answers={}, errors=0, expires_at=None))


def erase_member_fields(member: Member, now: datetime) -> None:
    """Blank the personal fields; keep county, kinds of work and the joining day for the counts."""
    member.phone = f"erased-{member.id}"
    member.wa_id = None
    member.profile_name = None
    member.name = None
    member.work_other = None
    member.gender = None
    member.community = None
    member.member_number = None
    member.last_inbound_at = None
    if member.joined_at is not None:  # the day (in TIMEZONE) is kept for "new this week", not the time
        member.joined_at = local_time.start_of_day(member.joined_at)
    member.status = ERASED_STATUS


ERASURE_HOOKS: list[ErasureHook] = [erase_stored_media, erase_messages, erase_conversation]
FINAL_HOOK: ErasureHook = erase_member_fields


def register_erasure_hook(hook: ErasureHook) -> ErasureHook:
    """Add an area's hook (run before the member's own fields are blanked, so it can still read them)."""
    if hook not in ERASURE_HOOKS:
        ERASURE_HOOKS.append(hook)
    return hook


RetentionHook = Callable[[datetime], int]
RETENTION_HOOKS: list[RetentionHook] = []


def register_retention_hook(hook: RetentionHook) -> RetentionHook:
    """Add an area's retention step: given the cutoff time, blank older personal texts; returns how many."""
    if hook not in RETENTION_HOOKS:
        RETENTION_HOOKS.append(hook)
    return hook


def erase_member(member: Member, now: datetime | None = None) -> None:
    """Erase the member's personal data, in the caller's transaction."""
    from bot.services import certificates, tickets  # noqa: F401  (they register their hooks)

    now = now or utcnow()
    for hook in ERASURE_HOOKS:
        hook(member, now)
    FINAL_HOOK(member, now)
    log.info("erased the personal data of member id %s", member.id)


def summary(member: Member) -> dict[str, Any]:
    """Everything held about the member, as plain values (MY DATA)."""
    from bot.models import Certificate, Enrolment
    from bot.services.tickets import count_of

    messages = db.session.scalar(sa.select(sa.func.count(Message.id)).where(messages_of(member))) or 0
    return {
        "name": member.name,
        "phone": member.phone,
        "profile_name": member.profile_name,
        "member_number": member.member_number,
        "county": member.county,
        "work": sorted(row.kind for row in member.work_kinds),
        "work_other": member.work_other,
        "gender": member.gender,
        "community": member.community,
        "language": LANGUAGE_NAMES.get(member.language or "", member.language),
        "joined_at": member.joined_at.date().isoformat() if member.joined_at else None,
        "consent_at": member.consent_at.date().isoformat() if member.consent_at else None,
        "consent_version": member.consent_version,
        "opted_out": member.opted_out,
        "messages": messages,
        "retention_days": current_app.config["RETENTION_DAYS"],
        "tickets": count_of(member),
        "enrolments": db.session.scalar(sa.select(sa.func.count()).where(Enrolment.member_id == member.id)) or 0,
        "certificates": db.session.scalar(sa.select(sa.func.count()).where(Certificate.member_id == member.id)) or 0,
    }


def purge_old_messages(days: int | None = None, now: datetime | None = None) -> int:
    """Blank the texts, media and payloads of messages older than the retention period; returns how many."""
    from bot.services import tickets  # noqa: F401  (registers its retention hook)

    days = current_app.config["RETENTION_DAYS"] if days is None else days
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = db.session.execute(
        sa.update(Message)
        .where(Message.created_at < cutoff, Message.direction == "in",
               sa.or_(Message.body.is_not(None), Message.payload.is_not(None)))
        .values(body=None, media=sa.null(), payload=sa.null())
    )
    purged = result.rowcount or 0
    result = db.session.execute(
        sa.update(Message)
        .where(Message.created_at < cutoff, Message.direction == "out", Message.body.is_not(None),
               Message.status.not_in(("pending", "sending")))
        .values(body=None, media=sa.null())
    )
    purged += result.rowcount or 0
    for hook in RETENTION_HOOKS:
        purged += hook(cutoff)
    db.session.commit()
    return purged


FACTS["my_data"] = summary
