"""Receiving a WhatsApp message: store it first, process it once, keep the replies."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from bot.conversation import engine
from bot.core.area import assembled
from bot.core.extensions import db
from bot.core.sql import adopt, fetch, insert_for
from bot.members import service as members
from bot.members.service import lock_member, member_upsert_insert, upsert_params
from bot.models import Certificate, ForgottenMessage, Member, Message, utcnow
from bot.observability import logs
from bot.privacy import service as privacy
from flows.base import Input, Media

# A reply as the webhook sends it back: its text and the id of its row (None for the replies kept for a
# person since forgotten, which have none).
Answer = tuple[str, int | None]
MAX_BODY = 4096
MAX_MEDIA = 10
MAX_MEDIA_URL = Certificate.__table__.c.media_url.type.length
MESSAGES = Message.__table__
MARK_PROCESSED = (
    # a no-op for a message stored processed (`store_and_lock_statement`); marks one kept unprocessed
    # after a failure when Twilio's retry brings it back
    sa.update(MESSAGES).where(MESSAGES.c.id == sa.bindparam("message_id"), MESSAGES.c.processed_at.is_(None))
    .values(member_id=sa.bindparam("member"), processed_at=sa.bindparam("now"), status="processed",
            updated_at=sa.bindparam("now"))
)
INSERT_REPLY = sa.insert(MESSAGES).returning(MESSAGES.c.id)
INBOUND_COLUMNS = ("direction", "channel", "twilio_sid", "body", "media", "payload", "status", "status_rank",
                   "created_at", "updated_at")
MEMBERS = Member.__table__
MARK_SEEN = (
    sa.update(MEMBERS).where(MEMBERS.c.id == sa.bindparam("member"))
    .values(last_inbound_at=sa.bindparam("now"), updated_at=sa.bindparam("now"),
            language=sa.func.coalesce(MEMBERS.c.language, sa.bindparam("language", type_=MEMBERS.c.language.type)))
)


@cache
def finish_statement() -> sa.Executable:
    """PostgreSQL: everything that ends processing in one round trip (data-modifying CTEs on distinct
    rows): mark the message processed if it was not stored so, note when the member last wrote (and the
    language found for a first message), store the conversation and insert the replies, in order, from
    one array parameter (so the statement is compiled once)."""
    processed = MARK_PROCESSED.returning(MESSAGES.c.id).cte("processed")
    seen = MARK_SEEN.returning(MEMBERS.c.id).cte("seen")
    conversation = engine.conversation_upsert("postgresql").returning(engine.CONVERSATIONS.c.member_id) \
        .cte("conversation")
    replies = sa.func.unnest(sa.bindparam("replies", type_=postgresql.ARRAY(sa.Text))) \
        .table_valued("body", with_ordinality="position").render_derived()
    now = sa.bindparam("now", type_=MESSAGES.c.created_at.type)
    rows = sa.select(
        sa.bindparam("member", type_=sa.Integer), sa.literal("out"), sa.literal("twiml"), replies.c.body,
        sa.literal("replied"), sa.literal(0), sa.bindparam("message_id", type_=sa.Integer), now, now,
    ).order_by(replies.c.position)
    columns = ["member_id", "direction", "channel", "body", "status", "status_rank", "in_reply_to_id",
               "created_at", "updated_at"]
    return sa.insert(MESSAGES).from_select(columns, rows).add_cte(processed, seen, conversation) \
        .returning(MESSAGES.c.id)


def finish(message_id: int, member: Member, texts: list[str], conversation: Mapping[str, Any],
           now: datetime) -> list[int]:
    """Mark the message processed, note the member's last message (and the language found for a first
    one), store the conversation and the replies; returns the replies' ids, in order (their TwiML names
    them in its status callback URL)."""
    db.session.flush()
    connection = db.session.connection()  # not the one the message began with: an effect may have committed
    params = {"message_id": message_id, "member": member.id, "now": now, "language": member.language}
    if connection.dialect.name == "postgresql":
        rows = fetch(finish_statement(), {**params, **conversation, "replies": list(texts)}, connection)
        return sorted(row["id"] for row in rows)  # ids are drawn in the order the rows are inserted
    connection.execute(MARK_PROCESSED, params)
    connection.execute(MARK_SEEN, params)
    engine.save_conversation(conversation)
    return [connection.execute(INSERT_REPLY, {
        "member_id": member.id, "direction": "out", "channel": "twiml", "body": text, "status": "replied",
        "status_rank": 0, "in_reply_to_id": message_id, "created_at": now, "updated_at": now}).scalar_one()
        for text in texts]


def media_count(form: Mapping[str, str]) -> int:
    """How many attachments the message announces (NumMedia), at most MAX_MEDIA."""
    try:
        return max(0, min(int(form.get("NumMedia") or 0), MAX_MEDIA))
    except ValueError:
        return 0


def media_of(form: Mapping[str, str]) -> tuple[Media, ...]:
    """The attachments of an inbound message."""
    return tuple(
        Media(form.get(f"MediaUrl{i}", ""), form.get(f"MediaContentType{i}", ""))
        for i in range(media_count(form))
        if form.get(f"MediaUrl{i}")
    )


def media_urls_fit(form: Mapping[str, str]) -> bool:
    """Whether every attachment's URL fits where a reported certificate keeps it (Twilio's are far shorter)."""
    return all(len(form.get(f"MediaUrl{i}") or "") <= MAX_MEDIA_URL for i in range(media_count(form)))


def location_of(form: Mapping[str, str]) -> tuple[float, float] | None:
    """The shared location, if any."""
    try:
        return (float(form["Latitude"]), float(form["Longitude"]))
    except (KeyError, ValueError):
        return None


def input_of(form: Mapping[str, str]) -> Input:
    """What the member sent: the body (or the tapped button's text), media, location."""
    body = (form.get("Body") or "").strip()[:MAX_BODY]
    button = (form.get("ButtonPayload") or "").strip() or None
    if not body:
        body = (form.get("ButtonText") or "").strip()[:MAX_BODY]
    return engine.classify(body, media=media_of(form), location=location_of(form), button=button)


def inbound_row(form: Mapping[str, str], sid: str, now: datetime) -> dict[str, Any]:
    """The message-log row of an inbound message."""
    media = [{"url": m.url, "content_type": m.content_type} for m in media_of(form)]
    return {
        "direction": "in",
        "channel": "whatsapp",
        "twilio_sid": sid,
        "body": (form.get("Body") or "")[:MAX_BODY],
        "media": media or None,
        "payload": {k: v for k, v in form.items() if k != "Body"},
        "status": "received",
        "status_rank": 0,
        "created_at": now,
        "updated_at": now,
    }


@cache
def inbound_insert(dialect: str) -> sa.Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id for inbound messages, built once per database kind."""
    insert = insert_for(dialect, MESSAGES)
    return insert.values({name: sa.bindparam(name, type_=MESSAGES.c[name].type) for name in INBOUND_COLUMNS}) \
        .on_conflict_do_nothing().returning(MESSAGES.c.id)


def store_inbound(form: Mapping[str, str], sid: str, now: datetime) -> int | None:
    """Store the inbound message; None when this MessageSid is already stored (a repeat)."""
    connection = db.session.connection()
    return connection.execute(inbound_insert(connection.dialect.name), inbound_row(form, sid, now)).scalar()


@cache
def store_and_lock_statement(kind: str = members.PHONE) -> sa.Select:
    """PostgreSQL: upsert and lock the member, then store the inbound message as theirs, in one round trip.

    The message is stored already processed: this runs in the same transaction as its processing, so a
    failure rolls both back (and `keep_unprocessed` stores it again on its own). A repeated MessageSid
    stores nothing: it comes from the same member, so it waits for the member's row lock and by then the
    first has committed. Returns the member's columns, its staff roles and the new message's id (NULL for
    a repeat). `kind`: how the message names its sender (`members.identity_kind`).
    """
    member = member_upsert_insert("postgresql", kind).cte("member")
    columns = [*INBOUND_COLUMNS, "processed_at", "member_id"]
    values = [sa.bindparam(name, type_=MESSAGES.c[name].type) for name in columns[:-1]]
    stored = postgresql.insert(MESSAGES).from_select(columns, sa.select(*values, member.c.id)) \
        .on_conflict_do_nothing().returning(MESSAGES.c.id).cte("inbound")
    forgotten = sa.select(ForgottenMessage.replies).where(ForgottenMessage.sid_hash == sa.bindparam("sid_hash"))
    return sa.select(member, sa.select(stored.c.id).scalar_subquery().label("message_id"),
                     forgotten.exists().label("forgotten"))


def store_and_lock(connection: sa.Connection, form: Mapping[str, str], sid: str, sender: str,
                   now: datetime) -> tuple[int | None, Member, list[str] | None]:
    """Store the inbound message (None for a repeat) and lock its member (created if new); third, the
    replies given before when the MessageSid is that of a person since forgotten (else None). `sender`:
    the identity of `From` (a phone number or a WhatsApp user id)."""
    wa_id, profile_name = form.get("WaId"), form.get("ProfileName")
    phone, wa_user_id = members.identities(sender, wa_id)
    if connection.dialect.name != "postgresql":
        message_id = store_inbound(form, sid, now)
        member = lock_member(phone, wa_id=wa_id, profile_name=profile_name, wa_user_id=wa_user_id)
        return message_id, member, privacy.forgotten_replies(sid) if message_id is not None else None
    kind = members.identity_kind(phone, wa_user_id)
    params = {**inbound_row(form, sid, now), "status": "processed", "processed_at": now,
              **upsert_params(phone, wa_id, profile_name, now, wa_user_id), "sid_hash": privacy.sid_hash(sid)}
    row = fetch(store_and_lock_statement(kind), params, connection)[0]
    message_id, roles, forgotten = row.pop("message_id"), row.pop("staff_roles"), row.pop("forgotten")
    voucher = row.pop("reserved_voucher")
    member = adopt(Member, row)
    member.staff_roles, member.reserved_voucher = roles, voucher
    if kind == members.BOTH and member.wa_user_id != wa_user_id:
        # The user id is on another row: the slow path merges the two (`identity.link_identities`).
        assert phone is not None and wa_user_id is not None  # BOTH: each was given
        member = members.identities_merged(member, phone, wa_user_id, wa_id=wa_id, profile_name=profile_name)
    if message_id is not None and (forgotten or member.last_inbound_at is None):
        # Asked again in a statement of its own: a first contact may be Twilio's retry of a message whose
        # first processing forgot its sender (deleting the member row this statement waited for) and
        # committed after this statement began, so after the snapshot the subquery above read.
        return message_id, member, privacy.forgotten_replies(sid)
    return message_id, member, None


def replies_to(sid: str) -> list[Answer] | None:
    """The replies already produced for a stored message, or None if it was never processed."""
    message = db.session.scalars(sa.select(Message).where(Message.twilio_sid == sid).with_for_update()).one()
    if message.processed_at is None:
        return None
    rows = db.session.execute(
        sa.select(Message.body, Message.id).where(Message.in_reply_to_id == message.id).order_by(Message.id)
    ).all()
    return [(body or "", reply_id) for body, reply_id in rows]


def store_and_lock_once(form: Mapping[str, str], sid: str, phone: str,
                        now: datetime) -> tuple[int | None, Member, list[str] | None]:
    """`store_and_lock` on the session's connection, tried a second time on a fresh one when the pool
    handed out a connection the database had already closed (after a restart, or an administrator
    ending sessions): that first statement did nothing, so trying again is what Twilio's retry would
    do, a few seconds sooner. Any other failure, or a second lost connection, is raised."""
    connection = db.session.connection()
    try:
        return store_and_lock(connection, form, sid, phone, now)
    except (psycopg.Error, sa.exc.DBAPIError):
        if not connection.invalidated:
            raise
    db.session.rollback()  # the session lets go of the dead connection; the pool was started afresh
    return store_and_lock(db.session.connection(), form, sid, phone, now)


def receive(form: Mapping[str, str], sid: str, phone: str) -> list[Answer]:
    """Store the message and process it once under the member's lock; returns the replies to send back
    (each with its row's id).

    Storing and processing share one transaction (one commit on the hot path). If processing fails, the
    transaction is rolled back and the message is stored again on its own, unprocessed, before the error
    reaches Twilio (which retries): nothing is lost. A repeated MessageSid (Twilio retrying after a slow
    answer) waits for the first to finish and gets the replies produced the first time, also when that
    first message made us forget its sender (a refused consent: only its hashed MessageSid is left).
    """
    now = utcnow()
    try:
        message_id, member, forgotten = store_and_lock_once(form, sid, phone, now)
        if forgotten is not None:
            db.session.rollback()  # nothing of a retry from a forgotten person is kept, not even a row
            return [(text, None) for text in forgotten]
        logs.bind(member_id=member.id)
        if message_id is None:
            earlier = replies_to(sid)
            if earlier is not None:
                db.session.rollback()
                return earlier
            message_id = db.session.scalar(sa.select(Message.id).where(Message.twilio_sid == sid))
        first_contact = member.last_inbound_at is None
        answer = engine.answer(member, input_of(form), now, first_contact=first_contact)
        reply_ids: list[int | None] = [None] * len(answer.texts)
        if answer.forgotten:
            privacy.keep_forgotten_replies(sid, answer.texts)
        else:
            for hook in assembled().after_message:  # after the flows: a STOP or DELETE MY DATA is respected
                hook(member, now)
            reply_ids = list(finish(message_id, member, answer.texts, answer.conversation, now))
            privacy.link_subjects(message_id, answer.subjects)
        db.session.commit()
        return list(zip(answer.texts, reply_ids, strict=True))
    except Exception:
        db.session.rollback()
        keep_unprocessed(form, sid, now)
        raise


def keep_unprocessed(form: Mapping[str, str], sid: str, now: datetime) -> None:
    """After a failure, make sure the message itself is stored (unprocessed) so nothing is lost."""
    try:
        store_inbound(form, sid, now)
        db.session.commit()
    except Exception:  # noqa: BLE001  (the database itself is down: Twilio's retry will bring it back)
        db.session.rollback()
