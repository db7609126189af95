"""Broadcasts: segment, preview, resolve the audience, send at the configured rate exactly once, live figures.

How a broadcast is sent
- `create` stores the texts, the segment and the timing; `preview` counts what would happen; nothing is
  sent until `send` (confirmed), which starts it now or schedules it with RQ's scheduler.
- `resolve` turns the segment into one `broadcast_deliveries` row per member with one INSERT … SELECT in
  the database (memory does not grow with the audience); the unique (broadcast, member) pair means
  overlapping segments or a second resolve can never add a second copy.
- `send_broadcast_batches` (an RQ job on the `bulk` queue; several run at once, on any number of
  workers) claims a batch of rows with `FOR UPDATE SKIP LOCKED` and a lease (queued → claimed), then
  sends them in chunks: a chunk is first marked `sending` in one statement, then posted to Twilio
  concurrently under the shared rate limit, then the SIDs and outcomes are written in one round trip;
  two chunks are in flight at a time.
- Exactly once, also when Twilio gives no answer: a `claimed` row whose lease expires was never posted
  and goes back to the queue. A send with no answer (a timeout, a connection broken after the request
  went out, or a `sending` row whose lease expired because the worker died between the POST and our
  write) may or may not be at Twilio. Unless a status callback already gave its SID (the callback URL
  carries the delivery id, so a callback that arrives before our write is not lost), it is parked:
  queued again with `attempted_at`, the start of that try. Its retry (one HTTP timeout later at the
  earliest, then with backoff) first asks Twilio with `sending.Sender.find`, the lookup single messages
  use: a message to the member from our senders with the broadcast's text (for the template: holding
  its variables) created since `attempted_at` is recorded by its SID without sending; only when Twilio
  has none is it sent again. A lookup that fails is asked again later; after BROADCAST_MAX_ATTEMPTS of
  those the row fails as 'unconfirmed', and cancelling leaves a parked row failed 'unconfirmed'. The
  gap left: a message Twilio creates even later than the lookup could still arrive twice.
- Status callbacks only move a delivery forward. Twilio's errors are handled as `sending.classify` says:
  21610 opts the member out, 63016 is resent as the template (or skipped), 63018/429/5xx/connection
  errors are retried later with backoff (Twilio refused them, so nothing is sent twice), no answer is
  looked up as above, other errors fail with their reason.
- Quiet hours (Africa/Nairobi) pause a running broadcast; `tick` (every minute, from the clock) resumes
  it, starts overdue scheduled broadcasts and recovers expired leases so a broadcast whose worker died
  finishes on its own.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import sqlalchemy as sa
from babel import UnknownLocaleError
from flask import current_app

from bot.core import i18n, jobs, local_time
from bot.core.extensions import db
from bot.core.queues import queue
from bot.core.redis_conn import connect
from bot.core.sql import dialect_insert
from bot.members.service import opt_out
from bot.models import (
    ERASED_STATUS,
    Broadcast,
    BroadcastDelivery,
    Course,
    Enrolment,
    Member,
    MemberWork,
    utcnow,
)
from bot.models.broadcasts import CANCELLABLE, LIVE, BroadcastStatus
from bot.models.courses import COMPLETED
from bot.observability import metrics
from bot.whatsapp import sending, statuses
from bot.whatsapp.messaging import STATUS_RANK
from bot.whatsapp.outbound import WINDOW, within_window
from bot.whatsapp.outbound import template_choice as outbound_template_choice
from bot.whatsapp.twilio_api import status_callback_url, twilio_configured

log = logging.getLogger(__name__)

JOB_SECONDS = 20.0
ACTIVE = ("queued", "claimed", "sending")
# How the figures group delivery statuses.
FIGURES = {
    "queued": "queued", "claimed": "queued", "sending": "queued",
    "accepted": "sent", "sent": "sent", "delivered": "delivered", "read": "read",
    "failed": "failed", "undelivered": "failed", "canceled": "failed", "skipped": "skipped", "cancelled": "skipped",
}


# --- segments ------------------------------------------------------------------------------------

def _listed(column: Any) -> Callable[[Any], sa.ColumnElement[bool]]:
    """A filter: the column is one of the given values."""
    return lambda values: column.in_(_as_list(values))


def _as_list(values: Any) -> list[Any]:
    return list(values) if isinstance(values, list | tuple | set) else [values]


def _work(values: Any) -> sa.ColumnElement[bool]:
    return sa.exists().where(MemberWork.member_id == Member.id, MemberWork.kind.in_(_as_list(values)))


def _joined(op: str) -> Callable[[Any], sa.ColumnElement[bool]]:
    def condition(value: Any) -> sa.ColumnElement[bool]:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
        at = datetime.combine(day, datetime.min.time())
        return Member.joined_at < at if op == "before" else Member.joined_at >= at
    return condition



def _course(completed: bool | None) -> Callable[[Any], sa.ColumnElement[bool]]:
    """A filter on enrolments in the given courses (by slug): any status, completed, or not (yet) completed."""
    def condition(values: Any) -> sa.ColumnElement[bool]:
        where = [Enrolment.member_id == Member.id, Enrolment.course_id == Course.id, Course.slug.in_(_as_list(values))]
        if completed is not None:
            where.append(Enrolment.status.in_(COMPLETED) if completed else Enrolment.status.not_in(COMPLETED))
        return sa.exists().where(*where)
    return condition


# Segment filters: name → function(value) → SQL condition on `members`; every filter combines with AND.
SEGMENT_FILTERS: dict[str, Callable[[Any], sa.ColumnElement[bool]]] = {
    "county": _listed(Member.county),
    "work": _work,
    "language": _listed(sa.func.coalesce(Member.language, i18n.SOURCE_LANGUAGE)),
    "gender": _listed(Member.gender),
    "community": _listed(Member.community),
    "status": _listed(Member.status),
    "joined_after": _joined("after"),
    "joined_before": _joined("before"),
    "enrolled_in": _course(None),
    "completed": _course(True),
    "not_completed": _course(False),
}
DEFAULT_SEGMENT = {"status": ["active"]}


def segment_condition(segment: Mapping[str, Any]) -> sa.ColumnElement[bool]:
    """The SQL condition of a segment (members with status 'active' unless the segment says otherwise; never
    a member who erased their data, nor anyone without a recorded consent, whatever the filters)."""
    unknown = set(segment) - set(SEGMENT_FILTERS)
    if unknown:
        raise ValueError(f"unknown segment filters: {', '.join(sorted(unknown))}")
    merged = {**DEFAULT_SEGMENT, **{k: v for k, v in segment.items() if v not in (None, [], "")}}
    return sa.and_(Member.status != ERASED_STATUS, Member.consent_at.is_not(None),
                   *(SEGMENT_FILTERS[name](value) for name, value in merged.items()))


# Members of a segment who get nothing: those who stopped every message (STOP) and those who objected to
# broadcasts only (NO BROADCASTS); the preview counts both as left out.
LEFT_OUT = sa.or_(Member.opted_out_at.is_not(None), Member.broadcasts_stopped_at.is_not(None))


# --- templates and timing ------------------------------------------------------------------------

def template_choice(language: str | None) -> tuple[str | None, str | None]:
    """The broadcast template's Content SID for a member's language and the template's language: theirs, else
    TEMPLATE_FALLBACK's; (None, None) when there is none."""
    return outbound_template_choice(current_app.config.get("BROADCAST_TEMPLATE"), language or i18n.SOURCE_LANGUAGE)


def template_for(language: str | None) -> str | None:
    """The broadcast template's Content SID for a language (TEMPLATE_FALLBACK's when it has none)."""
    return template_choice(language)[0]


def total_rate() -> int:
    """Sends per second across every sender."""
    return int(current_app.config["SEND_RATE_PER_SECOND"]) * len(sending.senders())


def in_quiet_hours(broadcast: Broadcast, now: datetime | None = None) -> bool:
    """Whether local time (Africa/Nairobi) is inside the broadcast's quiet hours (which may span midnight)."""
    if not broadcast.quiet_start or not broadcast.quiet_end:
        return False
    clock = local_time.to_local(now or utcnow()).time()
    return local_time.inside(clock, clock_time.fromisoformat(broadcast.quiet_start),
                             clock_time.fromisoformat(broadcast.quiet_end))


# --- create and preview --------------------------------------------------------------------------

def clean_texts(texts: Mapping[str, str | None]) -> dict[str, str]:
    """The non-empty texts by language code, each code one of LANGUAGES; English is required."""
    cleaned = {code.strip().lower(): text.strip() for code, text in texts.items() if text and text.strip()}
    unknown = [code for code in cleaned if code not in i18n.LANGUAGES]
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not one of LANGUAGES ({','.join(i18n.LANGUAGES)})")
    if not cleaned.get(i18n.SOURCE_LANGUAGE):
        raise ValueError("the English text is required (members without a text in their language get it)")
    return {code: cleaned[code] for code in sorted(cleaned, key=_language_order)}


def _language_order(code: str) -> int:
    return i18n.LANGUAGES.index(code) if code in i18n.LANGUAGES else len(i18n.LANGUAGES)


def language_name(code: str) -> str:
    """A language's name in English, for staff ('Somali'); the code when Babel does not know it."""
    try:
        return i18n.locale(code).get_display_name("en") or code
    except (ValueError, UnknownLocaleError):
        return code


def text_in(broadcast: Broadcast, language: str | None) -> tuple[str, str]:
    """The language a member of this language is sent and its text: their own when the broadcast has it,
    else English."""
    texts = broadcast.texts or {}
    if language and texts.get(language):
        return language, texts[language]
    return i18n.SOURCE_LANGUAGE, texts.get(i18n.SOURCE_LANGUAGE, "")


def create(texts: Mapping[str, str | None] | str, *, segment: Mapping[str, Any] | None = None,
           media_url: str | None = None, send_at: datetime | None = None, quiet: tuple[str, str] | None = None,
           created_by: str | None = None) -> Broadcast:
    """Store a draft broadcast (texts by language code, English required, or the English text alone;
    send_at is UTC); nothing is sent."""
    texts = {i18n.SOURCE_LANGUAGE: texts} if isinstance(texts, str) else texts
    segment = dict(segment or {})
    segment_condition(segment)  # refuses unknown filters now rather than at send time
    broadcast = Broadcast(texts=clean_texts(texts), media_url=media_url,
                          segment=segment, status=BroadcastStatus.DRAFT, send_at=send_at, created_by=created_by,
                          quiet_start=quiet[0] if quiet else None, quiet_end=quiet[1] if quiet else None)
    db.session.add(broadcast)
    db.session.commit()
    return broadcast


@dataclass
class LanguageCounts:
    """What the members of one language in a segment would get (those who opted out left out)."""

    text: int = 0  # inside the 24-hour window
    template: int = 0  # outside it, their language's template
    fallback: int = 0  # outside it, TEMPLATE_FALLBACK's template (none in theirs)
    nothing: int = 0  # outside it, no template at all

    @property
    def members(self) -> int:
        """Everyone of this language the broadcast is for."""
        return self.text + self.template + self.fallback + self.nothing


@dataclass
class Preview:
    """What a broadcast would do, before anything is sent; `template` counts the fallback template too."""

    matched: int
    opted_out: int
    inside_window: int
    template: int
    no_template: int
    rate: int
    fallback: int = 0
    languages: dict[str, LanguageCounts] = field(default_factory=dict)  # by member language, in LANGUAGES order
    fallback_language: str | None = None
    seconds: float = field(init=False)

    def __post_init__(self) -> None:
        self.seconds = self.recipients / self.rate if self.rate else 0.0

    @property
    def recipients(self) -> int:
        """Members who will get a message (text or template)."""
        return self.inside_window + self.template


def preview(broadcast: Broadcast, now: datetime | None = None) -> Preview:
    """Count the segment by language: matched, opted out, inside the window (text), and outside it their
    language's template, the fallback template or nothing (as `plan` will choose); time at the rate."""
    now = now or utcnow()
    reachable = sa.not_(LEFT_OUT)
    inside = sa.and_(reachable, Member.last_inbound_at.is_not(None), Member.last_inbound_at > now - WINDOW)
    outside = sa.and_(reachable, sa.not_(inside))
    lang = sa.func.coalesce(Member.language, i18n.SOURCE_LANGUAGE)
    rows = db.session.execute(
        sa.select(lang, sa.func.count(), sa.func.count().filter(LEFT_OUT),
                  sa.func.count().filter(inside), sa.func.count().filter(outside))
        .where(segment_condition(broadcast.segment)).group_by(lang)
    ).all()
    languages: dict[str, LanguageCounts] = {}
    for code, _, _, text, away in sorted(rows, key=lambda row: _language_order(row[0])):
        counts = languages[code] = LanguageCounts(text=text)
        _, template_language = template_choice(code)
        if template_language is None:
            counts.nothing = away
        elif template_language == code:
            counts.template = away
        else:
            counts.fallback = away
    every = languages.values()
    return Preview(sum(row[1] for row in rows), sum(row[2] for row in rows), sum(c.text for c in every),
                   sum(c.template + c.fallback for c in every), sum(c.nothing for c in every), rate=total_rate(),
                   fallback=sum(c.fallback for c in every), languages=languages,
                   fallback_language=current_app.config.get("TEMPLATE_FALLBACK") or None)


def preview_notes(p: Preview) -> list[tuple[str, str, int]]:
    """The languages whose members outside the window get the fallback template or nothing:
    ('fallback' | 'nothing', language code, members), in LANGUAGES order."""
    notes = []
    for code, counts in p.languages.items():
        if counts.fallback:
            notes.append(("fallback", code, counts.fallback))
        if counts.nothing:
            notes.append(("nothing", code, counts.nothing))
    return notes


def note_in_words(kind: str, code: str, count: int, fallback: str | None) -> str:
    """A preview note in English, for staff pages and the CLI ('12 Somali speakers outside the window have
    no template: they get nothing.')."""
    name = language_name(code)
    if kind == "fallback":
        return (f"{count} {name} speaker{'s' if count != 1 else ''} outside the window "
                f"get{'s' if count == 1 else ''} the {language_name(fallback or '')} template (none in {name}).")
    return (f"{count} {name} speaker{'s' if count != 1 else ''} outside the window "
            f"{'has' if count == 1 else 'have'} no template: they get nothing.")


# --- start, pause, resume, cancel ----------------------------------------------------------------

def resolve(broadcast_id: int) -> int:
    """Insert one delivery row per member of the segment (not opted out, not objecting to broadcasts), in the
    database; returns the total."""
    broadcast = db.session.get(Broadcast, broadcast_id)
    members = sa.select(sa.literal(broadcast_id), Member.id, sa.literal("queued"), sa.literal(0),
                        sa.literal(0)).where(segment_condition(broadcast.segment), sa.not_(LEFT_OUT))
    statement = dialect_insert(BroadcastDelivery).from_select(
        ["broadcast_id", "member_id", "status", "status_rank", "attempts"], members).on_conflict_do_nothing()
    db.session.execute(statement)
    total = db.session.scalar(sa.select(sa.func.count()).where(BroadcastDelivery.broadcast_id == broadcast_id))
    broadcast.audience, broadcast.resolved_at = total, utcnow()
    db.session.commit()
    return total


def send(broadcast_id: int, now: datetime | None = None) -> str:
    """Confirm a draft: start it now, or schedule it with RQ's scheduler when send_at is in the future."""
    now = now or utcnow()
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status != BroadcastStatus.DRAFT:
        return broadcast.status if broadcast else "missing"
    if broadcast.send_at and broadcast.send_at > now:
        broadcast.status = BroadcastStatus.SCHEDULED
        db.session.commit()
        schedule_start(broadcast)
        return BroadcastStatus.SCHEDULED
    return start(broadcast_id, now)


def schedule_start(broadcast: Broadcast) -> None:
    """Have RQ's scheduler start the broadcast at send_at (one job per broadcast: scheduling again replaces it)."""
    assert broadcast.send_at is not None
    queue("bulk").enqueue_at(broadcast.send_at.replace(tzinfo=local_time.UTC), start_scheduled_broadcast,
                             broadcast.id, job_id=f"broadcast-start-{broadcast.id}")


def start(broadcast_id: int, now: datetime | None = None) -> str:
    """Resolve the audience and start sending (idempotent: a second start finds it running)."""
    result = db.session.execute(
        sa.update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.status.in_((BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED)))
        .values(status=BroadcastStatus.RUNNING, started_at=now or utcnow())
    )
    db.session.commit()
    if not result.rowcount:
        return db.session.scalar(sa.select(Broadcast.status).where(Broadcast.id == broadcast_id)) or "missing"
    resolve(broadcast_id)
    launch(broadcast_id)
    return BroadcastStatus.RUNNING


@jobs.job
def start_scheduled_broadcast(broadcast_id: int) -> str:
    """The scheduled job that starts a broadcast at its time."""
    return start(broadcast_id)


def launch(broadcast_id: int, jobs: int | None = None) -> None:
    """Queue the sending jobs (BROADCAST_JOBS of them, so several workers share the work)."""
    count = jobs or int(current_app.config["BROADCAST_JOBS"])
    for _ in range(count):
        queue("bulk").enqueue(send_broadcast_batches, broadcast_id, job_timeout=int(JOB_SECONDS * 6))


def pause(broadcast_id: int, reason: str = "organiser") -> bool:
    """Stop sending after the chunk in flight; rows already claimed go back to the queue."""
    result = db.session.execute(
        sa.update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.status.in_((BroadcastStatus.RUNNING, BroadcastStatus.SCHEDULED)))
        .values(status=BroadcastStatus.PAUSED, paused_reason=reason)
    )
    db.session.commit()
    return bool(result.rowcount)


def resume(broadcast_id: int, now: datetime | None = None) -> bool:
    """Return a paused broadcast to the state it was paused from: one paused before it started is scheduled
    again (and starts now if its time passed meanwhile); one paused while sending carries on sending."""
    now = now or utcnow()
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status != BroadcastStatus.PAUSED:
        return False
    if broadcast.started_at is None:
        result = db.session.execute(
            sa.update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.PAUSED)
            .values(status=BroadcastStatus.SCHEDULED, paused_reason=None))
        db.session.commit()
        if not result.rowcount:
            return False
        db.session.refresh(broadcast)
        if broadcast.send_at is not None and broadcast.send_at > now:
            schedule_start(broadcast)
            return True
        return start(broadcast_id, now) == BroadcastStatus.RUNNING
    broadcast.paused_reason = None
    if broadcast.resolved_at is None:
        broadcast.status = BroadcastStatus.DRAFT
        db.session.commit()
        return start(broadcast_id) == BroadcastStatus.RUNNING
    broadcast.status = BroadcastStatus.RUNNING
    db.session.commit()
    launch(broadcast_id)
    return True


def cancel(broadcast_id: int) -> bool:
    """Stop for good: what is not yet sent is marked cancelled."""
    result = db.session.execute(
        sa.update(Broadcast).where(Broadcast.id == broadcast_id,
                                   Broadcast.status.in_(CANCELLABLE))
        .values(status=BroadcastStatus.CANCELLED, finished_at=utcnow())
    )
    # A row whose earlier try got no answer may have been delivered: it is not counted as cancelled.
    db.session.execute(
        sa.update(BroadcastDelivery)
        .where(BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.status.in_(("queued", "claimed")),
               BroadcastDelivery.attempted_at.is_not(None))
        .values(status="failed", status_rank=4, reason="unconfirmed", lease_until=None, updated_at=utcnow())
    )
    db.session.execute(
        sa.update(BroadcastDelivery)
        .where(BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.status.in_(("queued", "claimed")))
        .values(status="cancelled", reason="cancelled", lease_until=None, updated_at=utcnow())
    )
    db.session.commit()
    return bool(result.rowcount)


# --- the sending job -----------------------------------------------------------------------------

CLAIM = sa.text("""
WITH picked AS (
    SELECT id FROM broadcast_deliveries
    WHERE broadcast_id = :broadcast
      AND ((status = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= :now))
           OR (status = 'claimed' AND lease_until < :now))
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
UPDATE broadcast_deliveries AS d
SET status = 'claimed', lease_until = :lease, attempts = d.attempts + 1, updated_at = :now
FROM picked, members AS m
WHERE d.id = picked.id AND m.id = d.member_id
RETURNING d.id, d.member_id, d.kind, d.attempts, d.attempted_at, d.lookups, m.phone, m.language,
          m.last_inbound_at, m.opted_out_at, m.broadcasts_stopped_at, m.status
""")


CLAIM_SQLITE = sa.text("""
UPDATE broadcast_deliveries
SET status = 'claimed', lease_until = :lease, attempts = attempts + 1, updated_at = :now
WHERE id IN (SELECT id FROM broadcast_deliveries
             WHERE broadcast_id = :broadcast
               AND ((status = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= :now))
                    OR (status = 'claimed' AND lease_until < :now))
             LIMIT :limit)
RETURNING id
""").bindparams(sa.bindparam("now", type_=sa.DateTime()), sa.bindparam("lease", type_=sa.DateTime()))


def is_postgres() -> bool:
    """PostgreSQL (production); SQLite (local development) has one writer at a time and no SKIP LOCKED."""
    return db.session.get_bind().dialect.name == "postgresql"


def greatest(*values: Any) -> Any:
    """GREATEST on PostgreSQL, the two-argument max() on SQLite."""
    return sa.func.greatest(*values) if is_postgres() else sa.func.max(*values)


def claim(broadcast_id: int, limit: int, now: datetime) -> list[Any]:
    """Atomically lease up to `limit` rows no other worker holds (queued, or claimed with an expired lease)."""
    lease = now + timedelta(seconds=int(current_app.config["BROADCAST_LEASE_SECONDS"]))
    params = {"broadcast": broadcast_id, "now": now, "lease": lease, "limit": limit}
    if is_postgres():
        rows = db.session.execute(CLAIM, params).all()
    else:  # SQLite's RETURNING cannot name the joined table: claim, then read
        ids = db.session.execute(CLAIM_SQLITE, params).scalars().all()
        d = BroadcastDelivery
        rows = db.session.execute(
            sa.select(d.id, d.member_id, d.kind, d.attempts, d.attempted_at, d.lookups, Member.phone, Member.language,
                      Member.last_inbound_at, Member.opted_out_at, Member.broadcasts_stopped_at, Member.status)
            .join(Member, Member.id == d.member_id).where(d.id.in_(ids))
        ).all() if ids else []
    db.session.commit()
    return rows


def recover(broadcast_id: int | None = None, now: datetime | None = None) -> int:
    """Rows whose worker died: `claimed` back to the queue; `sending` counts as sent if a callback gave its
    SID, else goes back to the queue as uncertain ('interrupted'): its retry asks Twilio before sending
    again. Returns how many rows changed."""
    now = now or utcnow()
    scope = [BroadcastDelivery.lease_until < now]
    if broadcast_id is not None:
        scope.append(BroadcastDelivery.broadcast_id == broadcast_id)
    table = BroadcastDelivery
    changed = db.session.execute(
        sa.update(table).where(*scope, table.status == "claimed")
        .values(status="queued", lease_until=None, updated_at=now)).rowcount
    changed += db.session.execute(
        sa.update(table).where(*scope, table.status == "sending", table.twilio_sid.is_not(None))
        .values(status="accepted", status_rank=greatest(table.status_rank, 1), lease_until=None,
                sent_at=sa.func.coalesce(table.sent_at, table.updated_at), updated_at=now)).rowcount
    # `updated_at` of a `sending` row is when it was marked, just before the POST: the lookup's window.
    changed += db.session.execute(
        sa.update(table).where(*scope, table.status == "sending", table.twilio_sid.is_(None))
        .values(status="queued", status_rank=0, reason="interrupted", lease_until=None, next_attempt_at=now,
                attempted_at=sa.func.coalesce(table.attempted_at, table.updated_at), updated_at=now)).rowcount
    db.session.commit()
    return changed


@dataclass
class Plan:
    """One claimed row made ready to post (or skipped with a reason)."""

    id: int
    member_id: int
    language: str  # the member's
    kind: str | None = None
    text_language: str | None = None  # the language of the text sent (theirs, or English)
    template_language: str | None = None  # the template's (theirs, or TEMPLATE_FALLBACK's)
    params: dict[str, str] | None = None
    skip: str | None = None
    attempted_at: datetime | None = None  # an earlier try got no answer: ask Twilio before sending
    lookups: int = 0
    known: sending.Outcome | None = None  # what asking Twilio settled (instead of posting)


def plan(broadcast: Broadcast, row: Any, now: datetime, froms: list[str]) -> Plan:
    """Choose text (inside the 24-hour window), the template (outside it, when configured) or a skip."""
    language = row.language or i18n.SOURCE_LANGUAGE
    item = Plan(row.id, row.member_id, language, attempted_at=row.attempted_at, lookups=row.lookups)
    if row.opted_out_at is not None or row.status == ERASED_STATUS:
        item.skip = "opted_out" if row.opted_out_at is not None else "deleted"
        return item
    if row.broadcasts_stopped_at is not None:  # objected after the audience was resolved
        item.skip = "broadcasts_stopped"
        return item
    item.text_language, text = text_in(broadcast, language)
    params = {"To": f"whatsapp:{row.phone}", "From": froms[row.id % len(froms)],
              "StatusCallback": status_callback_url(f"d={row.id}")}
    inside = within_window(row, now)
    if inside and row.kind != "template":
        item.kind = "text"
        params["Body"] = text
        if broadcast.media_url:
            params["MediaUrl"] = broadcast.media_url
    else:
        sid, item.template_language = template_choice(language)
        if sid is None:
            item.skip = "no_template"
            return item
        item.kind = "template"
        params["ContentSid"] = sid
        params["ContentVariables"] = json.dumps({"1": text})
    item.params = params
    return item


SET_OUTCOME = sa.text("""
UPDATE broadcast_deliveries
SET status = :status, status_rank = :rank, error_code = :code, reason = :reason, kind = :kind,
    language = :language, template_language = :template_language,
    sender = :sender, next_attempt_at = :next, lease_until = NULL, updated_at = :now
WHERE id = :id AND attempts = :attempts AND status IN ('claimed', 'sending')
""")
SET_ACCEPTED = sa.text("""
UPDATE broadcast_deliveries
SET twilio_sid = :sid, kind = :kind, language = :language, template_language = :template_language,
    sender = :sender, lease_until = NULL, updated_at = :now, sent_at = COALESCE(sent_at, :now),
    status = CASE WHEN status_rank < 1 THEN 'accepted' ELSE status END,
    reason = CASE WHEN status_rank < 1 THEN NULL ELSE reason END,
    status_rank = GREATEST(status_rank, 1)
WHERE id = :id AND attempts = :attempts AND status NOT IN ('queued', 'claimed')
  AND (twilio_sid IS NULL OR twilio_sid = :sid)
""")
SET_ACCEPTED_SQLITE = sa.text(SET_ACCEPTED.text.replace("GREATEST(", "MAX("))
# No answer from Twilio (or no answer to our question about it): back to the queue, remembering when the
# first such try started; the retry asks Twilio before sending again.
SET_PARKED = sa.text("""
UPDATE broadcast_deliveries
SET status = 'queued', status_rank = 0, reason = COALESCE(:reason, reason), kind = :kind, sender = :sender,
    language = :language, template_language = :template_language,
    next_attempt_at = :next, attempted_at = COALESCE(attempted_at, :started), lookups = :lookups,
    lease_until = NULL, updated_at = :now
WHERE id = :id AND attempts = :attempts AND status IN ('claimed', 'sending')
""").bindparams(*(sa.bindparam(name, type_=sa.DateTime()) for name in ("next", "started", "now")))


def backoff(attempts: int) -> timedelta:
    """The wait before a retry: BROADCAST_RETRY_SECONDS, doubling with each attempt, at most five minutes."""
    base = float(current_app.config["BROADCAST_RETRY_SECONDS"])
    return timedelta(seconds=min(300.0, base * 2 ** max(0, attempts - 1)))


def apply_outcomes(items: list[tuple[Plan, Any]], attempts: dict[int, int], now: datetime,
                   started: datetime | None = None) -> bool:
    """Write the chunk's results (posted at `started`) in a few round trips; True if some rows wait for a
    retry."""
    accepted, others, parked, opted = [], [], [], []
    max_attempts = int(current_app.config["BROADCAST_MAX_ATTEMPTS"])
    # Twilio is asked no sooner than one more HTTP timeout later, so that a request it is still working
    # through has been created by then.
    settle = timedelta(seconds=float(current_app.config["TWILIO_HTTP_TIMEOUT"]))
    waiting = False
    for item, outcome in items:
        base = {"id": item.id, "attempts": attempts[item.id], "kind": item.kind, "now": now,
                "language": item.text_language, "template_language": item.template_language,
                "sender": item.params["From"].removeprefix("whatsapp:") if item.params else None}
        if outcome.kind == "accepted":
            accepted.append({**base, "sid": outcome.sid})
            continue
        if outcome.kind == "timeout" or (outcome.kind == "unconfirmed" and item.lookups + 1 < max_attempts):
            # Twilio may have it: park it; its retry asks Twilio first (an unanswered question counts).
            first = outcome.kind == "timeout"
            lookups = item.lookups + (not first)
            wait = max(backoff(attempts[item.id]), settle) if first else backoff(lookups)
            parked.append({**base, "reason": outcome.reason if first else None, "next": now + wait,
                           "started": started or now, "lookups": lookups})
            waiting = True
            continue
        row = {**base, "code": outcome.code, "reason": outcome.reason, "next": None}
        if outcome.kind == "retry" and attempts[item.id] < max_attempts:
            row.update(status="queued", rank=0, next=now + backoff(attempts[item.id]))
            waiting = True
        elif outcome.kind == "retry":
            row.update(status="failed", rank=4, reason="too_many_attempts")
        elif outcome.kind == "outside_window" and item.kind == "text" and template_for(item.language):
            row.update(status="queued", rank=0, kind="template", reason=None, next=now)
        elif outcome.kind == "outside_window":
            row.update(status="skipped", rank=0, reason="no_template")
        elif outcome.kind == "opted_out":
            row.update(status="failed", rank=4)
            opted.append(item.member_id)
        else:
            row.update(status="failed", rank=4)
        others.append(row)
    if accepted:
        statement = SET_ACCEPTED if is_postgres() else SET_ACCEPTED_SQLITE
        db.session.execute(statement, accepted)
    if others:
        db.session.execute(SET_OUTCOME, others)
    if parked:
        db.session.execute(SET_PARKED, parked)
    for member_id in opted:
        member = db.session.get(Member, member_id)
        if member is not None:
            opt_out(member, "twilio_21610", now)
    db.session.commit()
    return waiting


def still_running(broadcast_id: int, now: datetime) -> Broadcast | None:
    """The broadcast if it should keep sending; pauses it when quiet hours began."""
    db.session.expire_all()
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status != BroadcastStatus.RUNNING:
        return None
    if in_quiet_hours(broadcast, now):
        pause(broadcast_id, "quiet_hours")
        return None
    return broadcast


def release(ids: list[int]) -> None:
    """Give claimed rows back to the queue (the broadcast was paused)."""
    if ids:
        db.session.execute(sa.update(BroadcastDelivery)
                           .where(BroadcastDelivery.id.in_(ids), BroadcastDelivery.status == "claimed")
                           .values(status="queued", lease_until=None))
        db.session.commit()


@jobs.job
def send_broadcast_batches(broadcast_id: int, seconds: float = JOB_SECONDS) -> str:
    """The sending job: claim, send and record batches for about `seconds`, then queue its continuation
    (so replies and reminders, on higher-priority queues, are never stuck behind a long broadcast)."""
    sender = sending.Sender.from_config() if twilio_configured() else None
    try:
        return _send_batches(broadcast_id, seconds, sender)
    finally:
        if sender is not None:
            sender.close()


def _send_batches(broadcast_id: int, seconds: float, sender: sending.Sender | None) -> str:
    config = current_app.config
    froms = sending.senders()
    chunk_size = max(1, int(config["SEND_CONCURRENCY"]))
    batch_size = max(chunk_size, int(config["BROADCAST_BATCH_SIZE"]))
    deadline = time.monotonic() + seconds
    redis = connect()
    recover(broadcast_id)
    pipeline = Pipeline(sender, sending.rate_limiter())
    try:
        while time.monotonic() < deadline:
            now = utcnow()
            broadcast = still_running(broadcast_id, now)
            if broadcast is None:
                return "stopped"
            redis.set(f"broadcast:{broadcast_id}:alive", 1, ex=int(config["BROADCAST_LEASE_SECONDS"]))
            rows = claim(broadcast_id, batch_size, now)
            if not rows and pipeline.inflight is not None:
                pipeline.flush()  # its retries may be claimable at once
                continue
            if not rows:
                return finish_or_wait(broadcast_id)
            pipeline.attempts.update({row.id: row.attempts for row in rows})
            plans = [plan(broadcast, row, now, froms) for row in rows]
            skipped = [{"id": p.id, "attempts": pipeline.attempts[p.id], "kind": None, "sender": None, "now": now,
                        "code": None, "reason": p.skip, "next": None, "status": "skipped", "rank": 0,
                        "language": p.text_language, "template_language": None}
                       for p in plans if p.skip]
            if skipped:
                db.session.execute(SET_OUTCOME, skipped)
                db.session.commit()
            ready = [p for p in plans if p.params is not None]
            if sender is not None:
                look_up(ready, sender, pipeline.attempts)
            for index, chunk in enumerate(sending.chunks(ready, chunk_size)):
                if index and still_running(broadcast_id, utcnow()) is None:
                    pipeline.flush()
                    release([p.id for p in ready[index * chunk_size:]])
                    return "stopped"
                pipeline.push(list(chunk))
    finally:
        pipeline.flush()
    launch(broadcast_id, jobs=1)
    return "continues"


def look_up(plans: list[Plan], sender: sending.Sender, attempts: dict[int, int]) -> None:
    """Ask Twilio about each row whose earlier try got no answer (the lookup single messages use): a
    message it created since that try is recorded by its SID and not sent again; when Twilio cannot be
    asked the row waits and asks again ('unconfirmed' once asked too often); when Twilio has none the row
    is sent again, unless its attempts are used up."""
    uncertain = [p for p in plans if p.attempted_at is not None]
    if not uncertain:
        return
    froms = sending.senders()
    asked = [sender.pool.submit(sender.find, p.params, p.attempted_at, froms) for p in uncertain]
    answers = [future.result() for future in asked]
    sids = [answer for answer in answers if isinstance(answer, str)]
    # A SID another delivery already has is that delivery's message (the same text to the same member).
    taken = set(db.session.scalars(sa.select(BroadcastDelivery.twilio_sid)
                                   .where(BroadcastDelivery.twilio_sid.in_(sids)))) if sids else set()
    db.session.commit()
    max_attempts = int(current_app.config["BROADCAST_MAX_ATTEMPTS"])
    for item, answer in zip(uncertain, answers, strict=True):
        if answer is False:
            item.known = sending.Outcome("unconfirmed", reason="unconfirmed")
        elif isinstance(answer, str) and answer not in taken:
            item.known = sending.Outcome("accepted", sid=answer)
        elif attempts[item.id] - item.lookups > max_attempts:
            item.known = sending.Outcome("failed", reason="too_many_attempts")


class Pipeline:
    """Chunks in flight: while one chunk waits for Twilio, the next is marked and sent as the rate limit
    allows, so the limit is used in full (at most two chunks are ever in the `sending` gap)."""

    def __init__(self, sender: sending.Sender | None, limiter: sending.RateLimiter | None) -> None:
        self.sender = sender
        self.limiter = limiter
        self.attempts: dict[int, int] = {}
        self.inflight: tuple[list[Plan], list[Any], datetime] | None = None

    def push(self, chunk: list[Plan]) -> None:
        """Start a chunk, then record the one before it."""
        started = self.start(chunk)
        self.flush()
        self.inflight = started

    def start(self, chunk: list[Plan]) -> tuple[list[Plan], list[Any], datetime] | None:
        """Mark the chunk `sending` and post each piece as soon as the rate limit grants it (rows that asking
        Twilio settled are not posted)."""
        table = BroadcastDelivery
        started = utcnow()
        lease = started + timedelta(seconds=int(current_app.config["BROADCAST_LEASE_SECONDS"]))
        # Only rows this worker still holds (same claim): a row whose lease expired and was claimed
        # again by another worker has a higher attempt count and is left to it.
        marked = db.session.execute(
            sa.update(table)
            .where(sa.tuple_(table.id, table.attempts).in_([(p.id, self.attempts[p.id]) for p in chunk]),
                   table.status == "claimed")
            .values(status="sending", lease_until=lease, updated_at=started).returning(table.id)).scalars().all()
        db.session.commit()
        mine = set(marked)
        chunk = [p for p in chunk if p.id in mine]
        if not chunk:
            return None
        if self.sender is None:  # no Twilio account: the local outbox
            return chunk, [sending.Outcome("accepted", sid=f"OUTBOX{p.id}") for p in chunk], started
        futures: dict[int, Any] = {}
        posted = [p for p in chunk if p.known is None]
        piece = self.limiter.piece if self.limiter is not None else max(1, len(posted))
        for from_ in dict.fromkeys(p.params["From"] for p in posted):
            for part in sending.chunks([p for p in posted if p.params["From"] == from_], piece):
                if self.limiter is not None:
                    self.limiter.acquire(from_, len(part))
                futures.update({p.id: self.sender.submit(p.params) for p in part})
        return chunk, [p.known or futures[p.id] for p in chunk], started

    def flush(self) -> None:
        """Wait for the chunk in flight and write its outcomes."""
        if self.inflight is None:
            return
        chunk, pending, started = self.inflight
        self.inflight = None
        results = [item.result() if isinstance(item, Future) else item for item in pending]
        apply_outcomes(list(zip(chunk, results, strict=True)), self.attempts, utcnow(), started)


def finish_or_wait(broadcast_id: int) -> str:
    """Nothing claimable now: done if nothing is left, else a job waits for the next retry or lease."""
    remaining = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(sa.func.coalesce(BroadcastDelivery.next_attempt_at,
                                                                BroadcastDelivery.lease_until)))
        .where(BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.status.in_(ACTIVE))
    ).one()
    if not remaining[0]:
        active = sa.exists().where(BroadcastDelivery.broadcast_id == broadcast_id,
                                   BroadcastDelivery.status.in_(ACTIVE))
        db.session.execute(sa.update(Broadcast)
                           .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.RUNNING, ~active)
                           .values(status=BroadcastStatus.DONE, finished_at=utcnow()))
        db.session.commit()
        return BroadcastStatus.DONE
    due = remaining[1] or utcnow()
    wait = max(1.0, (due - utcnow()).total_seconds())
    queue("bulk").enqueue_in(timedelta(seconds=wait), send_broadcast_batches, broadcast_id,
                             job_timeout=int(JOB_SECONDS * 6))
    return "waiting"


# --- status callbacks ----------------------------------------------------------------------------

# The funnel's times: each column is set, once, by the first status of these that moves the row (a later
# step implies the earlier ones, so a read that comes before its delivered sets both); a time never moves.
STEP_TIMES: dict[str, frozenset[str]] = {
    "sent_at": frozenset(s for s, rank in STATUS_RANK.items() if rank and s not in {"failed", "undelivered", "canceled"}),
    "delivered_at": frozenset(s for s, rank in STATUS_RANK.items() if rank >= STATUS_RANK["delivered"]),
    "read_at": frozenset(s for s, rank in STATUS_RANK.items() if rank >= STATUS_RANK["read"]),
}


# A queued or claimed row was not posted, unless it is one whose try got no answer (`attempted_at`): a
# status for it is a late one from a try an asynchronous error made us queue again (`react`).
NOT_A_STALE_ATTEMPT = sa.or_(BroadcastDelivery.status.not_in(("queued", "claimed")),
                             BroadcastDelivery.attempted_at.is_not(None))


def record_status(delivery_id: int, sid: str, status: str, code: int | None) -> bool:
    """A status callback for a delivery: sets the SID if our write has not happened yet, only moves
    forward, and acts on asynchronous errors (63016 → template, 63018 → retry, 21610 → opt out)."""
    rank = STATUS_RANK.get(status)
    if rank is None:
        return False
    table = BroadcastDelivery
    now = utcnow()
    values: dict[str, Any] = {"status": status, "status_rank": rank, "twilio_sid": sid, "updated_at": now}
    if status in {"failed", "undelivered"}:
        values["error_code"] = code
        values["reason"] = str(code) if code else None
    for column, reached in STEP_TIMES.items():
        if status in reached:
            values[column] = sa.func.coalesce(getattr(table, column), now)
    result = db.session.execute(
        sa.update(table).where(table.id == delivery_id, sa.or_(table.twilio_sid.is_(None), table.twilio_sid == sid),
                               table.status_rank < rank, table.status.not_in(("skipped", "cancelled")),
                               NOT_A_STALE_ATTEMPT)
        .values(**values)
    )
    db.session.commit()
    metrics.status_recorded("delivery", status, bool(result.rowcount), code)
    if result.rowcount and status in {"failed", "undelivered"}:
        react(delivery_id, sid, sending.async_outcome(status, code))
    return bool(result.rowcount)


def _step_time_sql(column: str, reached: frozenset[str]) -> str:
    """The batch statement's SET of one funnel time: the batch's time, once, when the status picked reached it."""
    listed = ", ".join(f"'{status}'" for status in sorted(reached))
    return f",\n    {column} = CASE WHEN picked.status IN ({listed}) THEN COALESCE(t.{column}, :now) ELSE t.{column} END"


APPLY_STATUSES = statuses.batch_statement(
    "broadcast_deliveries",
    extra_set=",\n    reason = CASE WHEN picked.status IN ('failed', 'undelivered') THEN CAST(picked.code AS text) "
              "ELSE t.reason END" + "".join(_step_time_sql(column, reached) for column, reached in STEP_TIMES.items()),
    extra_where="AND t.status NOT IN ('skipped', 'cancelled') "
                "AND (t.status NOT IN ('queued', 'claimed') OR t.attempted_at IS NOT NULL)")




def record_statuses(updates: list[statuses.StatusUpdate], now: datetime) -> int:
    """A batch of status callbacks for deliveries (`StatusUpdate`s from the status stream) in one statement,
    only forward, then the reactions to asynchronous errors; returns how many rows moved. The reactions are
    decided from the rows as they stand after the statement, so a batch applied a second time (its consumer
    died before acknowledging it) reacts to what is still failed with that SID and code, and to nothing
    twice."""
    updates = [u for u in updates if u.delivery is not None]
    if not updates:
        return 0
    if not is_postgres():  # SQLite (the embedded default): one at a time
        return sum(record_status_alone(u.delivery, u.sid, u.status, u.code) for u in updates)  # type: ignore[arg-type]
    try:
        rows = [u.delivery for u in updates]
        moved = len(db.session.execute(APPLY_STATUSES, statuses.batch_params(updates, rows, now)).all())
        db.session.commit()
    except sa.exc.IntegrityError:
        # A SID another delivery already has: one at a time, so the rest of the batch is not held back.
        db.session.rollback()
        return sum(record_status_alone(u.delivery, u.sid, u.status, u.code) for u in updates)  # type: ignore[arg-type]
    failures = {(u.delivery, u.sid, u.code): sending.async_outcome(u.status, u.code) for u in updates}
    failures = {key: action for key, action in failures.items() if action is not None}
    if failures:
        table = BroadcastDelivery
        standing = db.session.execute(
            sa.select(table.id, table.twilio_sid, table.error_code)
            .where(table.id.in_([key[0] for key in failures]), table.status.in_(("failed", "undelivered")))).all()
        db.session.commit()
        for row in standing:
            action = failures.get((row.id, row.twilio_sid, row.error_code))
            if action is not None:
                react(row.id, row.twilio_sid, action)
    return moved


def record_status_alone(delivery_id: int, sid: str, status: str, code: int | None) -> bool:
    """`record_status`, a SID that another delivery has changing nothing."""
    try:
        return record_status(delivery_id, sid, status, code)
    except sa.exc.IntegrityError:
        db.session.rollback()
        log.warning("a status for delivery %s names a SID another delivery has", delivery_id)
        return False


def react(delivery_id: int, sid: str, action: str | None) -> None:
    """Act on an asynchronous failure."""
    if action is None:
        return
    delivery = db.session.get(BroadcastDelivery, delivery_id)
    member = db.session.get(Member, delivery.member_id)
    if action == "opted_out":
        opt_out(member, "twilio_21610")
        db.session.commit()
        return
    if action == "outside_window" and (delivery.kind == "template" or template_for(member.language) is None):
        delivery.status, delivery.status_rank, delivery.reason = "skipped", 0, "no_template"
        db.session.commit()
        return
    if action == "retry" and delivery.attempts >= int(current_app.config["BROADCAST_MAX_ATTEMPTS"]):
        delivery.reason = "too_many_attempts"
        db.session.commit()
        return
    result = db.session.execute(
        sa.update(BroadcastDelivery).where(BroadcastDelivery.id == delivery_id, BroadcastDelivery.twilio_sid == sid)
        .values(status="queued", status_rank=0, twilio_sid=None, error_code=None, reason=None,
                attempted_at=None, lookups=0, kind="template" if action == "outside_window" else delivery.kind,
                next_attempt_at=utcnow() + (backoff(delivery.attempts) if action == "retry" else timedelta(0)))
    )
    # Committed before the broadcast is reopened: a job finishing at this moment either sees the queued
    # row (and does not finish) or has already marked it done, which the next statement undoes.
    db.session.commit()
    db.session.execute(sa.update(Broadcast).where(Broadcast.id == delivery.broadcast_id, Broadcast.status == BroadcastStatus.DONE)
                       .values(status=BroadcastStatus.RUNNING, finished_at=None))
    db.session.commit()
    if result.rowcount:
        launch(delivery.broadcast_id, jobs=1)


# --- figures -------------------------------------------------------------------------------------

@dataclass
class Figures:
    """Live counts and the top failure reasons of a broadcast (reason key, Twilio code, count; the words
    for a key come from `sending.reason_line` or `sending.reason_text`)."""

    broadcast: Broadcast
    counts: dict[str, int]
    reasons: list[tuple[int | str | None, int | None, int]]


def latest_id() -> int | None:
    """The newest broadcast that was sent or scheduled (a draft only while there is no other), or None."""
    newest = sa.select(Broadcast.id).order_by((Broadcast.status == BroadcastStatus.DRAFT).asc(), Broadcast.id.desc())
    return db.session.scalar(newest.limit(1))


def figures(broadcast_id: int, top: int = 5) -> Figures | None:
    """queued / sent / delivered / read / failed / skipped (sent counts the delivered, delivered the read),
    and the top failure reasons with their codes (none asked for with top=0)."""
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return None
    counts = dict.fromkeys(("queued", "sent", "delivered", "read", "failed", "skipped"), 0)
    table = BroadcastDelivery
    for status, count in db.session.execute(
        sa.select(table.status, sa.func.count()).where(table.broadcast_id == broadcast_id).group_by(table.status)
    ):
        counts[FIGURES.get(status, status)] = counts.get(FIGURES.get(status, status), 0) + count
    # A funnel: what was read was also delivered, and what was delivered was also sent.
    counts["delivered"] += counts["read"]
    counts["sent"] += counts["delivered"]
    rows = db.session.execute(
        sa.select(table.reason, table.error_code, sa.func.count().label("n"))
        .where(table.broadcast_id == broadcast_id, table.status.in_(("failed", "undelivered", "skipped")))
        .group_by(table.reason, table.error_code).order_by(sa.desc("n")).limit(top)
    ).all() if top else []
    reasons = [(_reason_key(reason, code), code, n) for reason, code, n in rows]
    return Figures(broadcast, counts, reasons)


def _reason_key(reason: str | None, code: int | None) -> int | str | None:
    if reason and reason.isdigit():
        return int(reason)
    return reason or code


def reasons_by_outcome(broadcast_id: int, top: int = 10) -> list[tuple[str, str, int | None, int]]:
    """Failed and skipped deliveries by reason: (failed | skipped, reason in words, Twilio code, count)."""
    table = BroadcastDelivery
    outcome = sa.case((table.status == "skipped", "skipped"), else_="failed")
    rows = db.session.execute(
        sa.select(outcome.label("outcome"), table.reason, table.error_code, sa.func.count().label("n"))
        .where(table.broadcast_id == broadcast_id, table.status.in_(("failed", "undelivered", "skipped")))
        .group_by(outcome, table.reason, table.error_code).order_by(sa.desc("n")).limit(top)
    ).all()
    return [(kind, sending.reason_text(_reason_key(reason, code)), code, n) for kind, reason, code, n in rows]


# --- the clock -----------------------------------------------------------------------------------

def tick(now: datetime | None = None) -> dict[str, int]:
    """Every minute: start overdue scheduled broadcasts, pause/resume for quiet hours, recover leases of
    dead workers and relaunch broadcasts whose jobs are gone."""
    now = now or utcnow()
    done: Counter[str] = Counter()
    for broadcast in db.session.scalars(sa.select(Broadcast).where(Broadcast.status.in_(LIVE))).all():
        quiet = in_quiet_hours(broadcast, now)
        if broadcast.status == BroadcastStatus.SCHEDULED and broadcast.send_at and broadcast.send_at <= now and not quiet:
            done["started"] += start(broadcast.id, now) == BroadcastStatus.RUNNING
        elif broadcast.status == BroadcastStatus.RUNNING and quiet:
            done["paused"] += pause(broadcast.id, "quiet_hours")
        elif broadcast.status == BroadcastStatus.PAUSED and broadcast.paused_reason == "quiet_hours" and not quiet:
            done["resumed"] += resume(broadcast.id)
        elif broadcast.status == BroadcastStatus.RUNNING:
            done["recovered"] += recover(broadcast.id, now)
            if not connect().exists(f"broadcast:{broadcast.id}:alive"):
                launch(broadcast.id, jobs=1)
                done["relaunched"] += 1
    return dict(done)


def progress_of_running() -> dict[int, dict[str, int]]:
    """broadcast id → its figures (`broadcasts.figures`: one grouped count each) for every running or paused
    broadcast."""
    from bot.models import Broadcast
    from bot.models.broadcasts import BroadcastStatus

    running = db.session.scalars(sa.select(Broadcast.id).where(
        Broadcast.status.in_((BroadcastStatus.RUNNING, BroadcastStatus.PAUSED)))).all()
    progress = {}
    for broadcast_id in running:
        found = figures(broadcast_id, top=0)
        if found is not None:
            progress[broadcast_id] = found.counts
    db.session.rollback()
    return progress
