"""Receiving a WhatsApp message: store it first, process it once, keep the replies."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from bot import engine
from bot.extensions import db
from bot.models import Message, utcnow
from bot.services.members import lock_member
from bot.sql import insert_ignore
from flows.base import Input, Media

MAX_BODY = 4096


def media_of(form: Mapping[str, str]) -> tuple[Media, ...]:
    """The attachments of an inbound message."""
    try:
        count = min(int(form.get("NumMedia") or 0), 10)
    except ValueError:
        count = 0
    return tuple(
        Media(form.get(f"MediaUrl{i}", ""), form.get(f"MediaContentType{i}", ""))
        for i in range(count)
        if form.get(f"MediaUrl{i}")
    )


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


def store_inbound(form: Mapping[str, str], sid: str) -> int:
    """Keep the inbound message before anything else; a repeat of the same MessageSid is not stored twice."""
    now = utcnow()
    media = [{"url": m.url, "content_type": m.content_type} for m in media_of(form)]
    insert_ignore(
        Message,
        direction="in",
        channel="whatsapp",
        twilio_sid=sid,
        body=(form.get("Body") or "")[:MAX_BODY],
        media=media or None,
        payload={k: v for k, v in form.items() if k not in {"Body"}},
        status="received",
        status_rank=0,
        created_at=now,
        updated_at=now,
    )
    message_id = db.session.scalar(sa.select(Message.id).where(Message.twilio_sid == sid))
    db.session.commit()
    return message_id


def receive(form: Mapping[str, str], sid: str, phone: str) -> list[str]:
    """Store, then process once under the member's lock; returns the replies to send back.

    A repeated MessageSid (Twilio retrying after a slow answer) gets the replies that were produced the
    first time, so the member still gets an answer and nothing is processed twice.
    """
    message_id = store_inbound(form, sid)
    try:
        member, _ = lock_member(phone, wa_id=form.get("WaId"), profile_name=form.get("ProfileName"))
        message = db.session.scalars(sa.select(Message).where(Message.id == message_id).with_for_update()).one()
        if message.processed_at is not None:
            replies = db.session.scalars(
                sa.select(Message.body).where(Message.in_reply_to_id == message.id).order_by(Message.id)
            ).all()
            db.session.rollback()
            return [body or "" for body in replies]
        now = utcnow()
        first_contact = member.last_inbound_at is None
        message.member_id = member.id
        texts = engine.converse(member, input_of(form), now, first_contact=first_contact)
        member.last_inbound_at = now
        message.processed_at = now
        message.status = "processed"
        for text in texts:
            db.session.add(
                Message(member_id=member.id, direction="out", channel="twiml", body=text, status="replied",
                        in_reply_to_id=message.id, created_at=now, updated_at=now)
            )
        db.session.commit()
        return texts
    except Exception:
        db.session.rollback()
        raise
