"""Messages the union starts (notifications, reminders, replies from a person): chosen for the 24-hour
window, stored, and sent once by a worker.

`notify` renders a reply in the member's language and stores it as a pending outbound message: free
text inside the 24-hour window, the configured template outside it, or skipped with a reason. When the
transaction commits, a job is queued for each stored message; `send_outbound` claims the message
atomically (pending → sending) so it is sent at most once, however often the job runs. A message whose
job could not be queued (Redis down) stays pending and `requeue_pending` queues it again. Sending goes
through the same pipeline as broadcasts (`bot/whatsapp/sending.py`: the per-sender rate limit, the
connection pool and the table of Twilio's answers); throttling and Twilio's own errors are retried by RQ.

The gap between Twilio accepting a message and our recording its SID is closed in favour of at most
once: a worker that dies there leaves the message 'sending', and it is never sent again. A send that
gets no answer (a timeout, a connection broken after sending) is parked as 'uncertain'; its retry first
lists the recipient's recent messages at Twilio (`sending.Sender.find`, the lookup broadcasts use too) and
records the one found, sending again only when Twilio has none (a message Twilio accepts even later than
that could still arrive twice).

Twilio may also refuse a message after accepting it, in a status callback (`resend_after_failure`, called
by the status applier once the status is committed): 63016 (the 24-hour window had closed) resends it as
its kind's template (`Message.kind`, an entry of WHATSAPP_TEMPLATES) or parks it as "no template"; 63018
(the sender's rate) sends it again later, with a growing wait, at most RATE_LIMIT_TRIES times in all. A
resend is a new message row; the failed one records what became of it (`payload["handled"]`), so each
failure is reacted to once however often its status is applied.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from rq import Retry

from bot.core import i18n, jobs
from bot.core.area import assembled
from bot.core.extensions import db
from bot.members.service import opt_out
from bot.models import Member, Message, utcnow
from bot.whatsapp import sending
from bot.whatsapp.twilio_api import status_callback_url, twilio_configured
from flows.base import Reply

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
PENDING, SENDING, UNCERTAIN = "pending", "sending", "uncertain"
RATE_LIMIT_TRIES = 4  # sends of one message in all when Twilio keeps answering 63018
RATE_LIMIT_WAIT = timedelta(seconds=30)  # before the second try; doubled before each further one


def within_window(member: Member, now: datetime | None = None) -> bool:
    """Whether the member wrote to us in the last 24 hours (free text is allowed)."""
    now = now or utcnow()
    return member.last_inbound_at is not None and now - member.last_inbound_at < WINDOW


def template_choice(name: str | None, language: str) -> tuple[str | None, str | None]:
    """The Content SID of a named template for a member's language, and the template's language: theirs
    when WHATSAPP_TEMPLATES has it, else TEMPLATE_FALLBACK's; (None, None) when neither is configured."""
    if not name:
        return None, None
    templates: Mapping[str, Mapping[str, str]] = current_app.config.get("WHATSAPP_TEMPLATES") or {}
    per_language = templates.get(name) or {}
    fallback = current_app.config.get("TEMPLATE_FALLBACK", i18n.SOURCE_LANGUAGE)
    for code in (language, fallback):
        if code and per_language.get(code):
            return per_language[code], code
    return None, None


def template_sid(name: str | None, language: str) -> str | None:
    """The Content SID of a named template in a language (TEMPLATE_FALLBACK's when it has none), if configured."""
    return template_choice(name, language)[0]


def notify(member: Member, reply: Reply, *, template: str | None = None,
           variables: Mapping[str, str] | None = None, queue_name: str = "replies",
           now: datetime | None = None, extra: Mapping[str, Any] | None = None,
           media: Mapping[str, str] | None = None) -> list[Message]:
    """Store a message to a member for sending (after commit) and return the stored rows.

    Inside the window the reply is sent as text; outside it the named template (with `variables`) is
    sent; with no template configured the message is stored as skipped with its reason. `media` (`url`,
    `content_type`) goes with the first text inside the window (a document Twilio fetches from the URL).
    Every row keeps the template's name as its kind, and a text its `variables`, for a resend as the
    template if Twilio says the window had closed (63016).
    """
    now = now or utcnow()
    lang = member.language or i18n.SOURCE_LANGUAGE
    texts = i18n.render_reply(lang, reply, extra)
    if member.erased:
        return [store(member, texts[0] if texts else "", "skipped", reason="deleted", kind=template, now=now)]
    if member.opted_out:
        return [store(member, texts[0] if texts else "", "skipped", reason="opted_out", kind=template, now=now)]
    if within_window(member, now):
        kept = {"content_variables": dict(variables)} if template and variables else None
        rows = [store(member, text, PENDING, payload=kept, kind=template, queue_name=queue_name, now=now)
                for text in texts]
        if media and rows:
            rows[0].media = [dict(media)]
        return rows
    sid = template_sid(template, lang)
    if sid is None:
        return [store(member, "\n".join(texts), "skipped", reason="no_template", kind=template, now=now)]
    payload = {"content_sid": sid, "content_variables": dict(variables or {}), "template": template}
    return [store(member, "\n".join(texts), PENDING, payload=payload, kind=template, queue_name=queue_name,
                  now=now)]


def store(member: Member, body: str, status: str, *, reason: str | None = None,
          payload: dict[str, Any] | None = None, kind: str | None = None, queue_name: str = "replies",
          now: datetime, at: datetime | None = None) -> Message:
    """Add an outbound message row; pending ones are queued once the transaction commits (to be sent at
    `at`, when given)."""
    message = Message(member_id=member.id, direction="out", channel="rest", body=body, status=status,
                      status_rank=0, payload={**(payload or {}), **({"reason": reason} if reason else {})} or None,
                      kind=kind, created_at=now, updated_at=now)
    db.session.add(message)
    if status == PENDING:
        db.session.flush()
        options = send_options(message.id)
        if at is not None:
            options["at"] = at.replace(tzinfo=UTC)
        jobs.after_commit(db.session, queue_name, send_outbound, message.id, **options)
    return message


def send_options(message_id: int) -> dict[str, Any]:
    """How a message's send job is queued: one job per message, retried with back-off; when Redis is
    down the message stays pending for `requeue_pending`."""
    return {"job_id": f"outbound-{message_id}", "retry": Retry(max=5, interval=[5, 15, 60, 300, 900]),
            "unqueued": "it stays pending"}


def enqueue(message_id: int, queue_name: str = "replies") -> bool:
    """Queue the send job; False (and the message stays pending for `requeue_pending`) if Redis is down."""
    return jobs.enqueue(queue_name, send_outbound, message_id, **send_options(message_id))


def requeue_pending(older_than: timedelta = timedelta(minutes=1)) -> int:
    """Queue again every pending message whose job may have been lost; returns how many."""
    now = utcnow()
    rows = db.session.execute(
        sa.select(Message.id, Message.payload).where(Message.direction == "out",
                                                     Message.status.in_((PENDING, UNCERTAIN)),
                                                     Message.created_at < now - older_than)
    ).all()
    return sum(enqueue(row.id) for row in rows if not waiting(row.payload, now))


def waiting(payload: Mapping[str, Any] | None, now: datetime) -> bool:
    """Whether a message is a retry whose time has not come (its job is on RQ's scheduler)."""
    due = (payload or {}).get("not_before")
    return isinstance(due, str) and datetime.fromisoformat(due) > now


def claim(message_id: int) -> Message | None:
    """Move a message from pending to sending; None if another worker (or an earlier run) has it."""
    result = db.session.execute(
        sa.update(Message).where(Message.id == message_id, Message.status.in_((PENDING, UNCERTAIN)))
        .values(status=SENDING, updated_at=utcnow())
    )
    db.session.commit()
    if not result.rowcount:
        return None
    return db.session.get(Message, message_id)


def release(message: Message) -> None:
    """Give a message back (a retryable error: nothing was accepted by Twilio)."""
    message.status = PENDING
    db.session.commit()


@jobs.job
def send_outbound(message_id: int) -> str:
    """The job: send one stored message exactly once through Twilio, or to the outbox."""
    message = claim(message_id)
    if message is None:
        return "already handled"
    member = db.session.get(Member, message.member_id) if message.member_id else None
    if member is None or member.opted_out or member.erased:
        message.status = "skipped"
        message.payload = {**(message.payload or {}), "reason": "opted_out" if member else "deleted"}
        db.session.commit()
        return "skipped"
    if not twilio_configured():
        message.channel, message.status, message.status_rank = "outbox", "outbox", 1
        db.session.commit()
        return "outbox"
    return deliver(message, member)


class SendLater(Exception):  # noqa: N818  (raised so that RQ retries the job with its backoff)
    """Twilio asked us to come back later (throttled, its own error) or could not be reached."""


def deliver(message: Message, member: Member) -> str:
    """Post the message to Twilio once through the shared sending pipeline and record the outcome."""
    config = current_app.config
    params: dict[str, str] = {
        "To": f"whatsapp:{member.phone}",
        "From": config["TWILIO_WHATSAPP_FROM"],
        "StatusCallback": status_callback_url(f"m={message.id}"),
    }
    payload = message.payload or {}
    if payload.get("content_sid"):
        params["ContentSid"] = payload["content_sid"]
        params["ContentVariables"] = json.dumps(payload.get("content_variables") or {})
    else:
        params["Body"] = message.body or ""
        media_urls = [str(item["url"]) for item in message.media or [] if isinstance(item, dict) and item.get("url")]
        if media_urls:
            params["MediaUrl"] = media_urls[0]
    sender = sending.shared_sender()
    attempted = payload.get("attempted_at")
    if attempted:
        # An earlier try got no answer: Twilio may have the message. Ask before sending it again.
        found = sender.find(params, datetime.fromisoformat(attempted))
        if found is False:
            park(message, attempted)
            raise SendLater("could not ask Twilio whether an earlier try was accepted")
        if isinstance(found, str):
            message.payload = {k: v for k, v in payload.items() if k != "attempted_at"}
            accepted(message.id, found)
            return "sent"
    sending.acquire(params["From"])  # the shared per-sender rate limit; this job's queue outranks bulk sends
    started = utcnow()
    outcome = sender.post(params)
    if outcome.kind == "accepted":
        accepted(message.id, outcome.sid)
        return "sent"
    if outcome.kind == "retry":
        release(message)
        raise SendLater(sending.reason_text(outcome.code or outcome.reason))
    if outcome.kind == "timeout":
        # No answer (a timeout, or the connection broke after sending): Twilio may or may not have it.
        # The retry first asks Twilio for it and sends again only if it is not there.
        park(message, attempted or started.isoformat())
        raise SendLater(sending.reason_text(outcome.reason))
    if outcome.kind == "opted_out":
        opt_out(member, "twilio_21610")
    message.status, message.status_rank, message.error_code = "failed", 4, outcome.code
    message.payload = {**payload, "reason": outcome.reason}
    db.session.commit()
    return "failed"


def accepted(message_id: int, sid: str | None) -> None:
    """Record the SID Twilio gave; a status callback that came first (it names the message by our id) has
    already moved the message further, and it stays there."""
    ahead = Message.status_rank >= 1
    db.session.execute(
        sa.update(Message).where(Message.id == message_id, sa.or_(Message.twilio_sid.is_(None), Message.twilio_sid == sid))
        .values(twilio_sid=sid, status=sa.case((ahead, Message.status), else_="queued"),
                status_rank=sa.case((ahead, Message.status_rank), else_=1), updated_at=utcnow())
    )
    db.session.commit()


def park(message: Message, attempted_at: str) -> None:
    """Keep a message whose fate at Twilio is unknown for the retry, which will ask Twilio first; unless a
    status callback for it came meanwhile (it was accepted, and the callback recorded its SID)."""
    db.session.execute(
        sa.update(Message).where(Message.id == message.id, Message.status == SENDING)
        .values(status=UNCERTAIN, payload={**(message.payload or {}), "attempted_at": attempted_at})
    )
    db.session.commit()


# --- failures Twilio reports later, in a status callback -----------------------------------------

def resend_after_failure(message_id: int, now: datetime | None = None) -> str | None:
    """React, once, to a 63016 or 63018 Twilio reported in a status callback for a message we sent
    (the status is committed first): resend it as its kind's template, retry it later, or record why not
    (`payload["reason"]`: no_template, too_many_attempts). The failed row records what was done
    (`payload["handled"]`), so a status applied twice reacts once. Returns what was done, or None."""
    now = now or utcnow()
    message = db.session.get(Message, message_id, with_for_update=True)
    if message is None or message.direction != "out" or message.channel != "rest":
        db.session.rollback()
        return None
    payload = dict(message.payload or {})
    action = sending.async_outcome(message.status, message.error_code)
    if action not in ("outside_window", "retry") or payload.get("handled"):
        db.session.rollback()
        return None
    member = db.session.get(Member, message.member_id) if message.member_id else None
    if member is None or member.erased or member.opted_out:
        payload.update(handled="not_resent", reason="deleted" if member is None or member.erased else "opted_out")
    elif action == "outside_window":
        payload.update(resend_as_template(message, member, now))
    else:
        payload.update(retry_later(message, member, now))
    message.payload = payload
    hook = assembled().not_sent.get(message.kind or "")
    if member is not None and payload["handled"] in NOT_SENT and hook is not None:
        hook(member, payload, now)  # in the mark's transaction, so the area hears of it once
    db.session.commit()
    return str(payload["handled"])


# What `resend_after_failure` did when the message will not reach the member: the message kind's area hears of it.
NOT_SENT = ("no_template", "given_up")


def resend_as_template(message: Message, member: Member, now: datetime) -> dict[str, Any]:
    """A text that came too late for the window, sent again as its kind's template (one resend for the
    texts a single notification was split into)."""
    payload = message.payload or {}
    sid = None if payload.get("content_sid") else template_sid(message.kind, member.language or i18n.SOURCE_LANGUAGE)
    if sid is None:
        return {"handled": "no_template", "reason": "no_template"}
    siblings = db.session.scalars(
        sa.select(Message).where(Message.member_id == member.id, Message.kind == message.kind,
                                 Message.created_at == message.created_at, Message.id != message.id,
                                 Message.direction == "out")).all()
    done = next(((s.payload or {})["resent_as"] for s in siblings if (s.payload or {}).get("resent_as")), None)
    if done is None:
        variables = dict(payload.get("content_variables") or {})
        texts = [message.body or "", *(s.body or "" for s in siblings)]
        done = store(member, "\n".join(texts), PENDING, kind=message.kind, now=now,
                     payload={"content_sid": sid, "content_variables": variables, "template": message.kind}).id
    return {"handled": "resent", "resent_as": done}


def retry_later(message: Message, member: Member, now: datetime) -> dict[str, Any]:
    """A message refused for the sender's rate (63018), sent again after a wait that doubles with each
    try, until RATE_LIMIT_TRIES sends in all."""
    payload = message.payload or {}
    tries = int(payload.get("tries") or 1)
    if tries >= RATE_LIMIT_TRIES:
        return {"handled": "given_up", "reason": "too_many_attempts"}
    due = now + RATE_LIMIT_WAIT * 2 ** (tries - 1)
    kept = {k: v for k, v in payload.items() if k not in ("handled", "reason", "attempted_at", "resent_as")}
    again = store(member, message.body or "", PENDING, kind=message.kind, now=now, at=due,
                  payload={**kept, "tries": tries + 1, "not_before": due.isoformat()})
    again.media = message.media
    return {"handled": "retried", "resent_as": again.id}
