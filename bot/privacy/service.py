"""Members' data rights (Kenya Data Protection Act 2019) and the retention of message texts.

`erase_member` runs every area's erasure hook in the order of the areas (`Area.erasure_hooks`, put
together by `create_app`), inside the caller's transaction: each area that keeps personal data declares
its own (tickets blank their texts; certificates delete their files; the audit log forgets details
that name the member). The member's row stays, anonymous: the name, phone number (replaced by a placeholder), WhatsApp name, member number,
gender and community go; the county, kinds of work, the joining day and course completions stay, and
the member (now of status ERASED_STATUS) is still counted in STATS and on the dashboard, as "data
erased", so the counts officers report do not change. Consent and opt-out events stay too (they never
held the phone number).

Other people's messages can name the member too: staff commands about her (REVIEW, APPROVE, REJECT,
TICKETS, REPLY, CLOSE) and their replies are linked to her in `message_subjects` when they are stored,
and any staff message whose text holds her phone number (in any format), name, WhatsApp name or member
number is blanked as well, whatever the command printed.

`forget_person` is for someone who refused consent: the same hooks run, then the person's row and every
message to or from them are deleted; only the SHA-256 of each of their MessageSids stays
(`forgotten_messages`), so that Twilio's retry of a message is recognised rather than processed again.
`purge_prospects` forgets people who neither consent nor refuse the same way, PROSPECT_DAYS after their last
message.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import phonenumbers
import sqlalchemy as sa
from flask import current_app

from bot.core import i18n, local_time
from bot.core.area import ErasureHook, HeldPastTime, assembled
from bot.core.extensions import db
from bot.core.sql import insert_for
from bot.members.service import is_user_id, record_consent_event
from bot.models import (
    ERASED_STATUS,
    AuditEvent,
    Certificate,
    Enrolment,
    ForgottenMessage,
    Member,
    MemberNumber,
    Message,
    MessageSubject,
    StaffMember,
    Ticket,
    utcnow,
)

log = logging.getLogger(__name__)




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
                                 Message.payload["From"].as_string().in_(addresses_of(member)))
    ))


def addresses_of(member: Member) -> list[str]:
    """How a member's messages name their sender (`From`): each identity, with and without `whatsapp:`."""
    identities = dict.fromkeys(filter(None, (member.phone, member.wa_user_id)))
    return [form for identity in identities for form in (f"whatsapp:{identity}", identity)]


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


# A run of digits as people write phone numbers: +254 712 345 678, 0712-345678, (0712) 345 678 …
DIGIT_RUN = re.compile(r"\d[\d\s().\-]*\d")
SHORTEST_NAME = 3


@dataclass(frozen=True)
class Identifiers:
    """What identifies a member in free text: the national digits of the phone number (found in any
    format: +2547…, 2547…, 07…, 7…), and the name, WhatsApp name, WhatsApp user id and member number (any
    case and spacing)."""

    phone_digits: str | None
    words: tuple[str, ...]

    @classmethod
    def of(cls, member: Member) -> Identifiers:
        """The member's identifiers (read before they are blanked)."""
        digits = None
        with contextlib.suppress(phonenumbers.NumberParseException):  # 'erased-12' has none
            if not is_user_id(member.phone):  # a user id's digits are no phone number
                digits = str(phonenumbers.parse(member.phone, "KE").national_number)
        names = (member.name, member.profile_name, member.member_number, member.wa_user_id)
        words = tuple(dict.fromkeys(" ".join(name.split()).lower() for name in names
                                    if name and len(name.strip()) >= SHORTEST_NAME))
        return cls(digits, words)

    def found_in(self, text: str | None) -> bool:
        """Whether the text holds one of the identifiers."""
        if not text:
            return False
        if self.phone_digits and any(self.phone_digits in re.sub(r"\D", "", run) for run in DIGIT_RUN.findall(text)):
            return True
        flat = " ".join(text.split()).lower()
        return any(word in flat for word in self.words)

    def may_be_in(self, column: Any) -> sa.ColumnElement[bool]:
        """A cheap SQL condition true for every text that may hold an identifier (`found_in` decides): the
        last three digits of the phone number (never split by the usual groupings) or a name's first word."""
        conditions = [sa.func.lower(column).contains(word.split()[0], autoescape=True) for word in self.words]
        if self.phone_digits:
            conditions.append(column.contains(self.phone_digits[-3:], autoescape=True))
        return sa.or_(*conditions) if conditions else sa.false()


def staff_message_ids(member: Member) -> list[int]:
    """The staff messages that name the member: those linked to her when they were stored, and any staff
    message whose text holds one of her identifiers."""
    linked = db.session.scalars(sa.select(MessageSubject.message_id).where(MessageSubject.member_id == member.id)).all()
    found = Identifiers.of(member)
    staff = sa.select(Member.id).join(StaffMember, StaffMember.phone.in_((Member.phone, Member.wa_user_id))) \
        .where(Member.id != member.id)
    candidates = db.session.execute(
        sa.select(Message.id, Message.body)
        .where(Message.member_id.in_(staff.scalar_subquery()), Message.body.is_not(None), found.may_be_in(Message.body))
    ).all()
    return sorted({*linked, *(row.id for row in candidates if found.found_in(row.body))})


def erase_staff_mentions(member: Member, now: datetime) -> None:
    """Blank the staff messages that name the member (commands about her, their replies, any text with her
    phone number, name or member number), and forget the links."""
    ids = staff_message_ids(member)
    if ids:
        db.session.execute(sa.update(Message).where(Message.id.in_(ids))
                           .values(body=None, media=sa.null(), payload=sa.null(), updated_at=now))
    db.session.execute(sa.delete(MessageSubject).where(MessageSubject.member_id == member.id))


def link_subjects(message_id: int, member_ids: Iterable[int]) -> None:
    """Link a staff command and the replies to it to the members they name (see `erase_staff_mentions`)."""
    wanted = sorted(set(member_ids))
    if not wanted:
        return
    messages = db.session.scalars(sa.select(Message.id).where(
        sa.or_(Message.id == message_id, Message.in_reply_to_id == message_id))).all()
    known = set(db.session.scalars(sa.select(Member.id).where(Member.id.in_(wanted))))
    rows = [{"message_id": m, "member_id": member_id} for m in messages for member_id in wanted if member_id in known]
    if rows:
        connection = db.session.connection()
        connection.execute(insert_for(connection.dialect.name, MessageSubject).on_conflict_do_nothing(), rows)


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
    # The ledger only has to keep numbers from being reused: it no longer says whose number it was.
    db.session.execute(sa.update(MemberNumber).where(MemberNumber.member_id == member.id).values(member_id=None))


def erase_audit_mentions(member: Member, now: datetime) -> None:
    """Erasure hook: blank the subject and details of audit events that hold one of the member's identifiers."""
    found = Identifiers.of(member)
    details = sa.cast(AuditEvent.details, sa.Text)
    rows = db.session.scalars(
        sa.select(AuditEvent).where(sa.or_(found.may_be_in(details), found.may_be_in(AuditEvent.subject)))
    ).all()
    for event in rows:
        if found.found_in(json.dumps(event.details, ensure_ascii=False)) or found.found_in(event.subject):
            event.subject, event.details = None, {"erased": True}


# Run after every area's `Area.erasure_hooks` (they can still read the member's fields).
FINAL_HOOK: ErasureHook = erase_member_fields


def run_erasure_hooks(member: Member, now: datetime) -> None:
    """Every area's hook, in the order of the areas (each can still read the member's fields)."""
    for hook in assembled().erasure_hooks:
        hook(member, now)


def erase_member(member: Member, now: datetime | None = None) -> None:
    """Erase the member's personal data, in the caller's transaction."""
    now = now or utcnow()
    run_erasure_hooks(member, now)
    FINAL_HOOK(member, now)
    log.info("erased the personal data of member id %s", member.id)


def sid_hash(sid: str) -> str:
    """What is kept of a forgotten message's MessageSid."""
    return hashlib.sha256(sid.encode()).hexdigest()


def forget_person(member: Member, now: datetime | None = None, *, event: str = "refusal") -> None:
    """Someone refused consent (or never answered, `purge_prospects`): every area forgets them (the erasure
    hooks), then their row and every message to or from them are deleted, in the caller's transaction. The
    hash of each of their MessageSids is kept (`forgotten_replies`), and a consent event of kind `event`
    without the phone number is recorded. A member who had joined is erased instead, so that the counts
    officers report do not change."""
    now = now or utcnow()
    if member.joined_at is not None:
        erase_member(member, now)
        return
    unattached = [row.id for row in unattached_inbound(member)]  # found by their payload, which the hooks blank
    run_erasure_hooks(member, now)
    theirs = sa.or_(messages_of(member), Message.id.in_(unattached))
    sids = db.session.scalars(sa.select(Message.twilio_sid).where(theirs, Message.direction == "in",
                                                                  Message.twilio_sid.is_not(None))).all()
    if sids:
        connection = db.session.connection()
        connection.execute(insert_for(connection.dialect.name, ForgottenMessage).on_conflict_do_nothing(),
                           [{"sid_hash": sid_hash(sid), "replies": None, "created_at": now} for sid in sids])
    db.session.execute(sa.delete(Message).where(theirs).execution_options(synchronize_session=False))
    language = member.language
    db.session.delete(member)  # the database deletes or unlinks the rest (conversation, work, enrolments…)
    db.session.flush()
    record_consent_event(None, event, "whatsapp", version=current_app.config["CONSENT_VERSION"],
                         language=language, at=now)
    log.info("forgot a person who did not consent (%s)", event)


PROSPECT_PURGED = "prospect_purged"
PURGE_BATCH = 200


def stale_prospects(cutoff: datetime) -> sa.ColumnElement[bool]:
    """Contacts who neither consented nor refused and have written nothing since the cutoff (staff numbers
    aside: staff write commands, never a consent)."""
    staff = sa.select(StaffMember.phone).where(StaffMember.phone.in_((Member.phone, Member.wa_user_id))).exists()
    return sa.and_(Member.status == "prospect", Member.consent_at.is_(None), Member.joined_at.is_(None),
                   sa.func.coalesce(Member.last_inbound_at, Member.created_at) < cutoff, ~staff)


def purge_prospects(days: int | None = None, now: datetime | None = None) -> int:
    """Forget everyone who neither consented nor refused within PROSPECT_DAYS of their last message, as a
    refusal is forgotten (`forget_person`: nothing identifying stays); returns how many. Rows a message is
    being answered for are left for the next run."""
    days = current_app.config["PROSPECT_DAYS"] if days is None else days
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    purged = 0
    while True:
        batch = db.session.scalars(sa.select(Member).where(stale_prospects(cutoff)).order_by(Member.id)
                                   .limit(PURGE_BATCH).with_for_update(skip_locked=True)).all()
        for member in batch:
            forget_person(member, now, event=PROSPECT_PURGED)
        db.session.commit()
        purged += len(batch)
        if len(batch) < PURGE_BATCH:
            return purged


def was_forgotten(member: Member) -> bool:
    """Whether `forget_person` deleted this member's row in the current transaction."""
    return sa.inspect(member).deleted


def keep_forgotten_replies(sid: str, replies: list[str]) -> None:
    """Keep the replies given to the message that made us forget its sender, for Twilio's retry of it."""
    db.session.execute(sa.update(ForgottenMessage).where(ForgottenMessage.sid_hash == sid_hash(sid))
                       .values(replies=replies))


def forgotten_replies(sid: str) -> list[str] | None:
    """The replies given to a message from a person since forgotten, or None when the MessageSid is not one."""
    row = db.session.execute(sa.select(ForgottenMessage.replies).where(ForgottenMessage.sid_hash == sid_hash(sid))).first()
    return None if row is None else list(row.replies or [])


def summary(member: Member) -> dict[str, Any]:
    """Everything held about the member, as plain values (MY DATA)."""
    messages = db.session.scalar(sa.select(sa.func.count(Message.id)).where(messages_of(member))) or 0
    return {
        "name": member.name,
        "phone": None if is_user_id(member.phone) else member.phone,
        "user_id": member.wa_user_id,
        "profile_name": member.profile_name,
        "member_number": member.member_number,
        "county": member.county,
        "work": sorted(row.kind for row in member.work_kinds),
        "work_other": member.work_other,
        "gender": member.gender,
        "community": member.community,
        "language": i18n.autonym(member.language) if member.language else member.language,
        "joined_at": member.joined_at.date().isoformat() if member.joined_at else None,
        "consent_at": member.consent_at.date().isoformat() if member.consent_at else None,
        "consent_version": member.consent_version,
        "opted_out": member.opted_out,
        "broadcasts_stopped": member.broadcasts_stopped,
        "messages": messages,
        "retention_days": current_app.config["RETENTION_DAYS"],
        "tickets": db.session.scalar(sa.select(sa.func.count()).where(Ticket.member_id == member.id)) or 0,
        "enrolments": db.session.scalar(sa.select(sa.func.count()).where(Enrolment.member_id == member.id)) or 0,
        "certificates": db.session.scalar(sa.select(sa.func.count()).where(Certificate.member_id == member.id)) or 0,
    }


def old_texts(cutoff: datetime) -> sa.ColumnElement[bool]:
    """Messages older than the cutoff that still hold a text, media or a raw payload (an outbound message
    waiting to be sent keeps its text until it is)."""
    inbound = sa.and_(Message.direction == "in", sa.or_(Message.body.is_not(None), Message.payload.is_not(None)))
    outbound = sa.and_(Message.direction == "out", Message.body.is_not(None),
                       Message.status.not_in(("pending", "sending")))
    return sa.and_(Message.created_at < cutoff, sa.or_(inbound, outbound))


def purge_old_messages(days: int | None = None, now: datetime | None = None) -> int:
    """Blank the texts, media and payloads of messages older than the retention period; returns how many."""
    days = current_app.config["RETENTION_DAYS"] if days is None else days
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = db.session.execute(
        sa.update(Message).where(old_texts(cutoff), Message.direction == "in")
        .values(body=None, media=sa.null(), payload=sa.null())
    )
    purged = result.rowcount or 0
    result = db.session.execute(
        sa.update(Message).where(old_texts(cutoff), Message.direction == "out").values(body=None, media=sa.null())
    )
    purged += result.rowcount or 0
    for hook in assembled().retention_hooks:
        purged += hook(cutoff)
    db.session.execute(sa.delete(ForgottenMessage).where(ForgottenMessage.created_at < cutoff))
    db.session.commit()
    return purged


def count_of(condition: sa.ColumnElement[bool], table: Any = Member) -> int:
    """How many rows of a table meet the condition."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(table).where(condition)) or 0


# What DELETE MY DATA blanks in a member's row (`erase_member_fields`); the phone becomes `erased-<id>`.
ERASED_FIELDS = ("wa_user_id", "wa_id", "profile_name", "name", "work_other", "gender", "community", "member_number",
                 "last_inbound_at")


def held_past_time(now: datetime) -> list[HeldPastTime]:
    """Retention check of the privacy area: message texts past RETENTION_DAYS, people who never consented past
    PROSPECT_DAYS, and what DELETE MY DATA blanks that a member who erased their data still holds."""
    config = current_app.config
    days, prospect_days = config["RETENTION_DAYS"], config["PROSPECT_DAYS"]
    erased = Member.status == ERASED_STATUS
    identifying = sa.or_(~Member.phone.startswith("erased-"), *(getattr(Member, name).is_not(None)
                                                                 for name in ERASED_FIELDS))
    erased_ids = sa.select(Member.id).where(erased).scalar_subquery()
    return [
        HeldPastTime("message texts, media and raw payloads", f"{days} days (RETENTION_DAYS)",
                     count_of(old_texts(now - timedelta(days=days)), Message)),
        HeldPastTime("phone numbers, WhatsApp names and messages of people who never consented",
                     f"{prospect_days} days after their last message (PROSPECT_DAYS)",
                     count_of(stale_prospects(now - timedelta(days=prospect_days)))),
        HeldPastTime("name, phone number, WhatsApp name, member number, gender and community",
                     "until DELETE MY DATA", count_of(sa.and_(erased, identifying))),
        HeldPastTime("messages of members who deleted their data", "until DELETE MY DATA",
                     count_of(sa.and_(Message.member_id.in_(erased_ids), sa.or_(
                         Message.body.is_not(None), Message.payload.is_not(None))), Message)),
    ]


def retention_report(now: datetime | None = None) -> list[HeldPastTime]:
    """Every area's retention checks, in the order of the areas: what is held past its time (should be none)."""
    now = now or utcnow()
    return [held for check in assembled().retention_checks for held in check(now)]
