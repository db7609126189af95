"""Contacts and members: finding and locking a member, registering, consent and opt-outs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any

import phonenumbers
import sqlalchemy as sa
from flask import current_app

from bot.audit import service as audit
from bot.core.extensions import db
from bot.core.sql import insert_for
from bot.models import ConsentEvent, Conversation, Member, MemberNumber, MemberWork, utcnow

# The member's staff roles, returned by the upsert itself (one round trip fewer per message).
# A staff number may be the member's phone or their WhatsApp user id; the phone's entry wins.
STAFF_ROLES = sa.literal_column(
    "coalesce((SELECT staff_members.roles FROM staff_members WHERE staff_members.phone = members.phone),"
    " (SELECT staff_members.roles FROM staff_members WHERE staff_members.phone = members.wa_user_id))", sa.String
).label("staff_roles")
# The member's voucher code reserved for them because it could not be sent yet, also returned by the upsert:
# the message that brings them back into the 24-hour window sends it (`certificates.send_reserved_voucher`).
RESERVED_VOUCHER = sa.literal_column(
    "(SELECT vouchers.id FROM vouchers WHERE vouchers.member_id = members.id AND vouchers.sent_at IS NULL)",
    sa.Integer,
).label("reserved_voucher")


@lru_cache(maxsize=20_000)  # parsing is costly and every message carries a number seen before
def normalize_phone(raw: str, region: str = "KE") -> str | None:
    """E.164 form of a phone number ('whatsapp:+2547…', '0712…', '+254 712 …'), or None if invalid."""
    text = (raw or "").strip()
    text = text.removeprefix("whatsapp:").strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


E164 = re.compile(r"\+[1-9][0-9]{6,14}")
WHATSAPP_PREFIX = "whatsapp:"


def e164_phone(address: str) -> str | None:
    """The number when it is written in E.164 exactly ('+254712345678': no spaces, letters, extension or
    national form) and is a possible number; otherwise None."""
    if not E164.fullmatch(address):
        return None
    try:
        number = phonenumbers.parse(address)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return address if phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == address else None


# Meta's business-scoped WhatsApp user id (usernames, 2026): a sender who hides their phone number arrives
# as `whatsapp:US.13491208655302741918`, the same id in `WaId`: a country, a dot, letters and digits.
USER_ID = re.compile(r"[A-Z]{2}\.[0-9A-Za-z]{1,128}")


def user_id(address: str) -> str | None:
    """The address when it is a WhatsApp user id exactly ('US.1349…'); otherwise None."""
    return address if USER_ID.fullmatch(address) else None


def is_user_id(identity: str | None) -> bool:
    """Whether a member's identity (`members.phone`, a staff number) is a WhatsApp user id, not a phone."""
    return identity is not None and USER_ID.fullmatch(identity) is not None


# The forms a WhatsApp sender's address (what follows `whatsapp:` in `From`) may take, each giving the
# identity the contact is stored under, or None.
SENDER_FORMS: tuple[Callable[[str], str | None], ...] = (e164_phone, user_id)


@lru_cache(maxsize=20_000)  # every message carries a sender seen before
def whatsapp_sender(address: str) -> str | None:
    """The identity of an inbound message's sender from its `From` ('whatsapp:+2547…' → '+2547…',
    'whatsapp:US.1349…' → 'US.1349…'); None for any other channel (`sms:`, `rcs:`, no prefix) or an
    address in none of SENDER_FORMS."""
    if not address.startswith(WHATSAPP_PREFIX):
        return None
    address = address[len(WHATSAPP_PREFIX):]
    for sender_form in SENDER_FORMS:
        identity = sender_form(address)
        if identity is not None:
            return identity
    return None


def staff_identity(raw: str) -> str | None:
    """A staff number as `flask staff add` takes it: a phone number in any form ('0712…', '+254 712 …') in
    E.164, or a WhatsApp user id exactly ('US.1349…', with or without `whatsapp:`); None for neither."""
    text = (raw or "").strip().removeprefix(WHATSAPP_PREFIX).strip()
    return user_id(text) or normalize_phone(text)


# How a message names its sender: by phone number only (every sender before usernames), by user id only
# (a sender who hides the number), or both (a phone `From` whose `WaId` is a user id).
PHONE, USER, BOTH = "phone", "user_id", "both"


def identities(sender: str, wa_id: str | None) -> tuple[str | None, str | None]:
    """The (phone, user id) an inbound message shows for its sender: from `From` (a phone or a user id,
    `whatsapp_sender`) and `WaId`, which is the number's digits for a phone sender and may be a user id."""
    if is_user_id(sender):
        return None, sender
    return sender, wa_id if is_user_id(wa_id) else None


def identity_kind(phone: str | None, wa_user_id: str | None) -> str:
    """PHONE, USER or BOTH: which upsert finds the member."""
    if wa_user_id is None:
        return PHONE
    return USER if phone is None else BOTH


@cache
def member_upsert_insert(dialect: str, kind: str = PHONE) -> sa.Insert:
    """INSERT … ON CONFLICT (the identity) DO UPDATE … RETURNING the member's columns and staff roles: it
    takes the member's row lock. Built once per database kind and kind of identity (building is costly).

    PHONE finds the member by `phone` (what every message did before user ids), USER by `wa_user_id`
    (a new contact gets the user id as its `phone` too: it is where messages go). BOTH finds them by phone
    and records the user id on that row unless another row holds it: `link_identities` then merges."""
    insert = insert_for(dialect, Member)
    user = sa.bindparam("wa_user_id", type_=Member.wa_user_id.type)
    values: dict[str, Any] = {
        "phone": sa.bindparam("phone", type_=Member.phone.type), "wa_id": sa.bindparam("wa_id", type_=Member.wa_id.type),
        "profile_name": sa.bindparam("profile_name", type_=Member.profile_name.type), "status": "prospect",
        "created_at": sa.bindparam("now", type_=Member.created_at.type),
        "updated_at": sa.bindparam("now", type_=Member.updated_at.type),
    }
    updates: dict[str, Any] = {"profile_name": sa.func.coalesce(insert.excluded.profile_name, Member.profile_name)}
    if kind == USER:
        values["wa_user_id"] = user
    elif kind == BOTH:
        holder = sa.select(MEMBER_HOLDING.c.id).where(MEMBER_HOLDING.c.wa_user_id == user).exists()
        values["wa_user_id"] = sa.case((holder, None), else_=user)
        updates["wa_user_id"] = sa.case((sa.and_(Member.wa_user_id.is_(None), ~holder), user),
                                        else_=Member.wa_user_id)
    return insert.values(**values).on_conflict_do_update(
        index_elements=[Member.wa_user_id if kind == USER else Member.phone], set_=updates,
    ).returning(*Member.__table__.c, STAFF_ROLES, RESERVED_VOUCHER)


MEMBER_HOLDING = Member.__table__.alias("holding")
WA_ID_LENGTH = Member.__table__.c.wa_id.type.length
PROFILE_NAME_LENGTH = Member.__table__.c.profile_name.type.length


def upsert_params(phone: str | None, wa_id: str | None, profile_name: str | None, now: datetime,
                  wa_user_id: str | None = None) -> dict[str, Any]:
    """The parameters of `member_upsert_insert`: the WhatsApp profile name cut to its column, a WaId too
    long for its column left out (cut, it would be a wrong id; `phone` and `wa_user_id` are the identity)."""
    params = {"phone": phone or wa_user_id, "wa_id": wa_id if wa_id and len(wa_id) <= WA_ID_LENGTH else None,
              "profile_name": (profile_name or None) and profile_name[:PROFILE_NAME_LENGTH], "now": now}
    if wa_user_id is not None:
        params["wa_user_id"] = wa_user_id
    return params


@cache
def member_upsert(dialect: str, kind: str = PHONE) -> sa.Executable:
    """The upsert behind `lock_member`, loading the member through the ORM."""
    return sa.select(Member, sa.column("staff_roles", sa.String), sa.column("reserved_voucher", sa.Integer)) \
        .from_statement(member_upsert_insert(dialect, kind)).execution_options(populate_existing=True)


def lock_member(phone: str | None, *, wa_id: str | None = None, profile_name: str | None = None,
                wa_user_id: str | None = None) -> Member:
    """The member with this phone (or WhatsApp user id, or both), created if new, locked for this
    transaction: one round trip (and a merge when both identities were on two rows, `link_identities`).

    INSERT … ON CONFLICT DO UPDATE takes the row lock on PostgreSQL, so one member's messages are
    processed one at a time; on SQLite every write transaction is serialised anyway. The staff roles of
    the number come back with the row (as `member.staff_roles`, a comma-separated text or None), and so
    does the id of a voucher code reserved for them (`member.reserved_voucher`).
    """
    kind = identity_kind(phone, wa_user_id)
    statement = member_upsert(db.session.get_bind().dialect.name, kind)
    params = upsert_params(phone, wa_id, profile_name, utcnow(), wa_user_id)
    member, roles, voucher = db.session.execute(statement, params).one()
    member.staff_roles, member.reserved_voucher = roles, voucher
    if kind == BOTH and member.wa_user_id != wa_user_id:
        assert phone is not None and wa_user_id is not None  # BOTH: each was given
        return identities_merged(member, phone, wa_user_id, wa_id=wa_id, profile_name=profile_name)
    return member


def identities_merged(member: Member, phone: str, wa_user_id: str, **found: str | None) -> Member:
    """After a BOTH upsert that could not record the user id on the phone's row: merge the row holding
    the user id into it (or it into that row, `identity.merge_members`) and lock the member again."""
    from bot.members.identity import link_identities

    if link_identities(member, phone, wa_user_id):
        return lock_member(phone, wa_user_id=wa_user_id, **found)
    return member


def record_consent_event(member: Member | None, kind: str, source: str, *, version: str | None = None,
                         language: str | None = None, at: datetime | None = None) -> ConsentEvent:
    """Add a consent, opt-out or opt-in event."""
    event = ConsentEvent(member_id=member.id if member else None, kind=kind, source=source,
                         text_version=version, language=language, created_at=at or utcnow())
    db.session.add(event)
    return event


def record_consent(member: Member, now: datetime) -> None:
    """The member agreed to the notice: when, which version, which language."""
    version = current_app.config["CONSENT_VERSION"]
    member.consent_at = now
    member.consent_version = version
    member.consent_language = member.language
    record_consent_event(member, "consent", "whatsapp", version=version, language=member.language, at=now)


NOTICE_ASKED = "notice_asked"
NOTICE_DECLINED = "notice_declined"


def record_notice_event(member: Member, kind: str, now: datetime) -> None:
    """A consent event about the current notice version (asked again, declined)."""
    record_consent_event(member, kind, "whatsapp", version=current_app.config["CONSENT_VERSION"],
                         language=member.language, at=now)


def notice_outdated(member: Member) -> bool:
    """Whether a member agreed to an older notice version and has not been asked about the current one."""
    version = current_app.config["CONSENT_VERSION"]
    if not member.is_member or member.consent_version in (None, version):
        return False
    asked = sa.select(ConsentEvent.id).where(ConsentEvent.member_id == member.id, ConsentEvent.kind == NOTICE_ASKED,
                                             ConsentEvent.text_version == version)
    return db.session.scalar(asked.limit(1)) is None


def record_sensitive_choice(member: Member, agreed: bool, now: datetime) -> None:
    """Whether the member let us ask about gender and community (sensitive data, asked separately): a consent
    event of kind `sensitive` for yes, `sensitive_no` for no, with the notice version."""
    record_consent_event(member, "sensitive" if agreed else "sensitive_no", "whatsapp",
                         version=current_app.config["CONSENT_VERSION"], language=member.language, at=now)


def opt_out(member: Member, source: str, now: datetime | None = None) -> bool:
    """Stop all messages to the member; False if they had already opted out."""
    if member.opted_out_at is not None:
        return False
    member.opted_out_at = now or utcnow()
    record_consent_event(member, "opt_out", source, language=member.language, at=member.opted_out_at)
    return True


def opt_in(member: Member, source: str, now: datetime | None = None) -> bool:
    """Resume messages to the member; False if they had not opted out."""
    if member.opted_out_at is None:
        return False
    member.opted_out_at = None
    record_consent_event(member, "opt_in", source, language=member.language, at=now)
    return True


BROADCASTS_STOPPED = "member.broadcasts_stopped"
BROADCASTS_RESUMED = "member.broadcasts_resumed"


def stop_broadcasts(member: Member, source: str, now: datetime | None = None) -> bool:
    """The member objects to broadcasts (union news): none are sent to them, reminders and answers go on.
    Recorded as a consent event and in the audit log (ids only); False if they had already objected."""
    if member.broadcasts_stopped_at is not None:
        return False
    member.broadcasts_stopped_at = now or utcnow()
    record_consent_event(member, "broadcasts_off", source, language=member.language, at=member.broadcasts_stopped_at)
    audit.record(f"member:{member.id}", BROADCASTS_STOPPED, f"member:{member.id}", source=source)
    return True


def resume_broadcasts(member: Member, source: str, now: datetime | None = None) -> bool:
    """The member takes back their objection to broadcasts; False if they had not objected."""
    if member.broadcasts_stopped_at is None:
        return False
    member.broadcasts_stopped_at = None
    record_consent_event(member, "broadcasts_on", source, language=member.language, at=now)
    audit.record(f"member:{member.id}", BROADCASTS_RESUMED, f"member:{member.id}", source=source)
    return True


def format_member_number(sequence: int) -> str:
    """'KUGWO-000123' from 123, with the configured prefix."""
    return f"{current_app.config['MEMBER_NUMBER_PREFIX']}-{sequence:06d}"


def set_work_kinds(member: Member, work_kinds: Iterable[str]) -> None:
    """The member's kinds of work: rows kept, added or removed (the running counts follow, by trigger)."""
    wanted = list(dict.fromkeys(work_kinds))
    kept = [row for row in member.work_kinds if row.kind in wanted]
    have = {row.kind for row in kept}
    member.work_kinds = kept + [MemberWork(kind=kind) for kind in wanted if kind not in have]


# What CHANGE MY DETAILS may set, by the field a member changes (`flows.correct.FIELDS`).
CORRECTABLE = {"name": ("name",), "county": ("county",), "work": ("work", "work_other"), "gender": ("gender",),
               "community": ("community",)}
CORRECTED = "member.correct"


def correct(member: Member, field: str, values: Mapping[str, Any], now: datetime) -> None:
    """A member changed one answer of sign-up: set it, and record the change in the audit log by field name,
    never the old or new value (the running counts follow a county or work change, by trigger)."""
    if field not in CORRECTABLE or not member.is_member:
        raise ValueError(f"not a correctable field: {field!r}")
    for key in CORRECTABLE[field]:
        if key == "work":
            set_work_kinds(member, values.get("work") or ())
        else:
            setattr(member, key, values.get(key))
    member.updated_at = now
    audit.record(f"member:{member.id}", CORRECTED, f"member:{member.id}", field=field)


def register(member: Member, *, name: str, county: str, work_kinds: tuple[str, ...], work_other: str | None,
             gender: str | None, community: str | None, now: datetime) -> str:
    """Make the contact an active member and issue a member number (once: a member keeps theirs)."""
    member.name = name
    member.county = county
    member.work_other = work_other
    member.gender = gender
    member.community = community
    set_work_kinds(member, work_kinds)
    if member.member_number is None:
        ledger = MemberNumber(member_id=member.id, issued_at=now)
        db.session.add(ledger)
        db.session.flush()
        member.member_number = format_member_number(ledger.id)
    if member.status != "active":
        member.status = "active"
        member.joined_at = now
    return member.member_number


def erase_conversation(member: Member, now: datetime) -> None:
    """Forget the answers of the conversation in progress."""
    db.session.execute(sa.update(Conversation).where(Conversation.member_id == member.id)
                       .values(flow=None, step=None, answers={}, errors=0, expires_at=None))


def erase_user_id(member: Member, now: datetime) -> None:
    """Forget the member's WhatsApp user id (the phone, or the user id held in its place, goes last)."""
    member.wa_user_id = None


def conversation_of(member: Member, now: datetime) -> Conversation:
    """The member's conversation row, created when there is none yet."""
    conversation = db.session.get(Conversation, member.id)
    if conversation is None:
        conversation = Conversation(member_id=member.id, answers={}, errors=0, updated_at=now)
        db.session.add(conversation)
    return conversation


def put_conversation(conversation: Conversation, flow: str, step: str, answers: dict, now: datetime) -> None:
    """Set where a conversation stands from outside the flows (a job, a staff action), expiring as the
    engine's own steps do (CONVERSATION_TIMEOUT_HOURS)."""
    conversation.flow, conversation.step, conversation.answers, conversation.errors = flow, step, answers, 0
    conversation.updated_at = now
    conversation.expires_at = now + timedelta(hours=current_app.config["CONVERSATION_TIMEOUT_HOURS"])


def set_conversation(member: Member, flow: str, step: str, data: Mapping[str, Any] | None = None, *,
                     now: datetime) -> None:
    """Put the member's conversation at a flow's step from outside the flows (a job, a staff action),
    with the flow's data; it expires as the conversation engine's own steps do. Flows own their names and steps
    (`flows.courses.PROOF`, `flows.question.TICKET` …)."""
    put_conversation(conversation_of(member, now), flow, step, dict(data or {}), now)
