"""Campaign results: one broadcast's funnel by the hour and the replies that came back within a day of each
member's delivery, and the last broadcasts side by side (a table and an audited CSV).

Each delivery keeps when it was sent, delivered and read (`sent_at`, `delivered_at`, `read_at`, set once by
the status applier and the send pipeline), so the funnel over time is exact: a read message counts as sent,
delivered and read, each in the hour it reached that step; a failed one in the hour it failed (failed is final,
`updated_at`). Rows from before those times were kept (migration 0021) have only their latest status and when
it came: they are counted once, in the hour they reached the status they hold now, and the page says how many
were counted that way. The day of replies runs from the latest status (for a read message, from when it was
read), less a few minutes for a status callback that came after the reply it led to.

Each page reads its figures in one or two statements whatever the size of the broadcast; reply texts go
through one `masking.shown_texts` call, as on the member timeline.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import aliased

from bot.audit import service as audit
from bot.broadcasts.service import FIGURES
from bot.core.extensions import db
from bot.core.local_time import to_local
from bot.dashboard.nav import role_required
from bot.dashboard.views import bp, csv_cell
from bot.dashboard.views import local_when as local
from bot.models import Broadcast, BroadcastDelivery, Member, Message, utcnow
from bot.privacy import masking
from bot.whatsapp.sending import reason_text

ROLES = ("organiser",)  # and admins, like the other broadcast pages
STEPS = ("sent", "delivered", "read", "failed")
REACHED = tuple(status for status, step in FIGURES.items() if step in ("sent", "delivered", "read"))
FAILED = tuple(status for status, step in FIGURES.items() if step == "failed")
REPLY_DAY = timedelta(days=1)
# A status callback can arrive a little after the reply it led to (Twilio does not send them in order).
LATE_CALLBACK = timedelta(minutes=5)
HOURS_DRAWN = 72  # later statuses are gathered in one last bucket
REPLIES_SHOWN = 200
COMPARED = 10


def is_postgres() -> bool:
    """PostgreSQL (production and tests); SQLite for trying it on a laptop."""
    return db.session.get_bind().dialect.name == "postgresql"


def without_jit() -> None:
    """Off for this transaction: PostgreSQL's JIT, once a broadcast is big enough for the planner's estimate to pass
    `jit_above_cost`, compiles these aggregates for longer than they run (a second of compiling for a third of a
    second of work at 100,000 members, `bench/campaign_results.py`)."""
    if is_postgres():
        db.session.execute(sa.text("SET LOCAL jit = off"))


def hour_of(column: Any) -> Any:
    """The UTC clock hour a stored time falls in (a datetime on PostgreSQL, text on SQLite)."""
    if is_postgres():
        return sa.func.date_trunc(sa.literal_column("'hour'"), column)
    return sa.func.strftime(sa.literal_column("'%Y-%m-%d %H:00:00'"), column)


def shifted(column: Any, by: timedelta) -> Any:
    """A stored time moved by `by`, in SQL."""
    if is_postgres():
        return column + by
    return sa.func.strftime(sa.literal_column("'%Y-%m-%d %H:%M:%f'"), column, f"{by.total_seconds():+.0f} seconds")


def as_datetime(value: Any) -> datetime | None:
    """A time read back from SQL (SQLite returns text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def reply_window(started_at: Any, d: Any = BroadcastDelivery) -> sa.ColumnElement[bool]:
    """An inbound message of the delivery's member within a day of the delivery's status time, after the
    broadcast started."""
    return sa.and_(Message.member_id == d.member_id, Message.direction == "in",
                   Message.created_at >= shifted(d.updated_at, -LATE_CALLBACK),
                   Message.created_at < shifted(d.updated_at, REPLY_DAY),
                   Message.created_at >= started_at)


def replied_deliveries(broadcast_ids: Any) -> Any:
    """The deliveries (of these broadcasts) whose member replied within a day, as a subquery of ids: a semi-join,
    so the planner may hash the messages or probe them per delivery, whichever costs less."""
    d, b = aliased(BroadcastDelivery), aliased(Broadcast)
    return (sa.select(d.id).join(b, b.id == d.broadcast_id)
            .where(d.broadcast_id.in_(broadcast_ids), d.status.in_(REACHED),
                   sa.exists(sa.select(Message.id).where(reply_window(b.started_at, d))))
            .subquery("replied"))


def reason_key(reason: str | None, code: int | None) -> int | str | None:
    """The key `reason_text` reads: a Twilio code, or our reason."""
    if reason and reason.isdigit():
        return int(reason)
    return reason or code


def percent(part: int, whole: int) -> float | None:
    """Part of whole in percent, to one decimal (None when there is no whole)."""
    return round(100 * part / whole, 1) if whole else None


@dataclass
class Bucket:
    """One hour since the start (or 'later'): deliveries that reached each step in it, and the members who replied
    within a day of a latest status that came in it."""

    index: int
    label: str
    counts: Counter[str] = field(default_factory=Counter)
    replied: int = 0


@dataclass
class Funnel:
    """What the funnel statement gives: the hours, the totals by present step, failures and who replied."""

    buckets: list[Bucket] = field(default_factory=list)
    totals: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str, int | None, int]] = field(default_factory=list)
    replied_members: int = 0
    approximate: int = 0  # deliveries without step times, counted in the hour of their present step


@dataclass
class Results:
    """A broadcast's funnel by the hour, its totals, failures by reason and its replies within a day."""

    broadcast: Broadcast
    buckets: list[Bucket]
    totals: Counter[str]
    failures: list[tuple[str, str, int | None, int]]  # hour label, reason in words, Twilio code, count
    replied_members: int
    reply_count: int
    replies: list[dict[str, Any]]
    approximate: int = 0  # deliveries counted in the hour of their present step (no step times kept)

    def chart(self) -> dict[str, Any]:
        """The funnel as series for charts.js: a series per step, a value per hour."""
        return {"funnel": {"labels": [b.label for b in self.buckets],
                           "datasets": [{"label": step, "values": [b.counts[step] for b in self.buckets]}
                                        for step in STEPS]}}


def hour_label(moment: datetime) -> str:
    """An hour in local time, '07 Dec 14:00'."""
    return to_local(moment).strftime("%d %b %H:00")


def funnel(b: Broadcast) -> Funnel:
    """The deliveries by the hour they reached each step (exactly from their step times; rows without them in
    the hour they reached their present step), totals, failures by reason and hour, and how many members
    replied within a day: one statement."""
    d = BroadcastDelivery
    hours = (hour_of(d.updated_at), hour_of(d.sent_at), hour_of(d.delivered_at), hour_of(d.read_at))
    replied = replied_deliveries([b.id])
    rows = db.session.execute(
        sa.select(*hours, d.status, d.reason, d.error_code, sa.func.count(), sa.func.count(replied.c.id))
        .outerjoin(replied, replied.c.id == d.id)
        .where(d.broadcast_id == b.id).group_by(*hours, d.status, d.reason, d.error_code)
    ).all()
    start = b.started_at.replace(minute=0, second=0, microsecond=0) if b.started_at else None
    found = Funnel()
    buckets: dict[int, Bucket] = {}
    failures: Counter[tuple[int, str, int | None]] = Counter()

    def bucket_of(at: Any) -> Bucket:
        moment = as_datetime(at)
        assert start is not None and moment is not None
        index = min(max(int((moment - start).total_seconds() // 3600), 0), HOURS_DRAWN)
        return buckets.setdefault(index, Bucket(index, ""))

    for latest, sent, delivered, read, status, reason, code, count, replies in rows:
        step = FIGURES.get(status, status)
        found.totals[step] += count
        found.replied_members += replies or 0
        if start is None or latest is None or step in ("queued", "skipped"):
            continue
        if replies:
            bucket_of(latest).replied += replies
        if step == "failed":
            bucket = bucket_of(latest)
            bucket.counts[step] += count
            failures[(bucket.index, reason_text(reason_key(reason, code)), code)] += count
        elif sent is None:  # from before the step times were kept
            bucket_of(latest).counts[step] += count
            found.approximate += count
        else:
            for reached, at in (("sent", sent), ("delivered", delivered), ("read", read)):
                if STEPS.index(reached) <= STEPS.index(step):
                    bucket_of(at if at is not None else latest).counts[reached] += count
    if start is not None and buckets:
        for index in range(max(buckets) + 1):
            bucket = buckets.get(index, Bucket(index, ""))
            bucket.label = f"later ({HOURS_DRAWN} h on)" if index == HOURS_DRAWN else hour_label(start + timedelta(hours=index))
            found.buckets.append(bucket)
    labels = {bucket.index: bucket.label for bucket in found.buckets}
    found.failures = [(labels[index], words, code, n)
                      for (index, words, code), n in sorted(failures.items(), key=lambda f: (f[0][0], -f[1]))]
    return found


def replies(b: Broadcast, role: str) -> tuple[int, list[dict[str, Any]]]:
    """The replies within a day (how many, and the latest `REPLIES_SHOWN` as the role may read them): one
    statement, and the masking."""
    d = BroadcastDelivery
    rows = db.session.execute(
        sa.select(Message.id, Message.body, Message.created_at, d.updated_at, d.status, Member.id, Member.member_number,
                  sa.func.count().over().label("total"))
        .select_from(Message).join(d, sa.and_(d.broadcast_id == b.id, d.status.in_(REACHED), reply_window(b.started_at)))
        .join(Member, Member.id == Message.member_id)
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(REPLIES_SHOWN)
    ).all()
    shown = masking.shown_texts([row.body for row in rows], role)
    found = [{"at": local(row.created_at), "member_id": row[5], "member": row.member_number or masking.member_reference(row[5]),
              "text": text, "status": row.status, "after": after(row.created_at - row.updated_at)}
             for row, text in zip(rows, shown, strict=True)]
    return (rows[0].total if rows else 0), found


def after(gap: timedelta) -> str:
    """How long after the delivery's status time a reply came, in words ('before the status' for a late callback)."""
    minutes = int(gap.total_seconds() // 60)
    if minutes < 0:
        return "just before its status came"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def results(broadcast_id: int, role: str) -> Results:
    """Everything the results page shows."""
    b = db.session.get(Broadcast, broadcast_id) or abort(404)
    if b.started_at is None:
        return Results(b, [], Counter(), [], 0, 0, [])
    without_jit()
    found = funnel(b)
    count, shown = replies(b, role)
    totals = found.totals
    # A funnel: what was read was also delivered, and what was delivered was also sent.
    totals["delivered"] += totals["read"]
    totals["sent"] += totals["delivered"]
    return Results(b, found.buckets, totals, found.failures, found.replied_members, count, shown, found.approximate)


@bp.get("/broadcasts/<int:broadcast_id>/results")
@role_required(*ROLES)
def broadcast_results(broadcast_id: int) -> ResponseReturnValue:
    """One broadcast's funnel by the hour (chart and table) and its replies within a day."""
    found = results(broadcast_id, current_user.role)
    return render_template("admin/broadcast_results.html", r=found, b=found.broadcast, steps=STEPS,
                           charts=found.chart(), audience=sum(found.totals[k] for k in ("queued", "sent", "failed", "skipped")),
                           hours_drawn=HOURS_DRAWN, replies_shown=REPLIES_SHOWN, zone=to_local(utcnow()).strftime("%Z"))


@dataclass
class Compared:
    """One broadcast's figures in the comparison."""

    broadcast: Broadcast
    total: int
    sent: int
    delivered: int
    read: int
    failed: int
    replied: int

    def pct(self, name: str) -> float | None:
        """A figure in percent of the audience (the broadcast's delivery rows)."""
        return percent(getattr(self, name), self.total)


COMPARE_COLUMNS = ("broadcast", "started_at", "text", "audience", "sent", "sent_pct", "delivered", "delivered_pct",
                   "read", "read_pct", "failed", "failed_pct", "replied_within_a_day", "replied_pct")


def compared() -> list[Compared]:
    """The last `COMPARED` broadcasts that started, newest first, with their figures: one statement."""
    d = BroadcastDelivery
    recent = (sa.select(Broadcast.id).where(Broadcast.started_at.is_not(None))
              .order_by(Broadcast.started_at.desc(), Broadcast.id.desc()).limit(COMPARED).scalar_subquery())

    def counted(statuses: tuple[str, ...], *more: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(d.status.in_(statuses), *more), 1), else_=0)), 0)

    replied = replied_deliveries(recent)
    without_jit()
    rows = db.session.execute(
        sa.select(Broadcast, sa.func.count(d.id), counted(REACHED), counted(("delivered", "read")), counted(("read",)),
                  counted(FAILED), sa.func.count(replied.c.id))
        .outerjoin(d, d.broadcast_id == Broadcast.id).outerjoin(replied, replied.c.id == d.id)
        .where(Broadcast.id.in_(recent))
        .group_by(Broadcast.id).order_by(Broadcast.started_at.desc(), Broadcast.id.desc())
    ).all()
    return [Compared(b, total, sent, delivered, read, failed, answered)
            for b, total, sent, delivered, read, failed, answered in rows]


def compare_rows(found: list[Compared]) -> list[list[Any]]:
    """The comparison as CSV rows, in `COMPARE_COLUMNS` order."""
    return [[c.broadcast.id, local(c.broadcast.started_at), c.broadcast.english_text,
             c.broadcast.audience if c.broadcast.audience is not None else c.total,
             c.sent, c.pct("sent"), c.delivered, c.pct("delivered"), c.read, c.pct("read"), c.failed, c.pct("failed"),
             c.replied, c.pct("replied")] for c in found]


@bp.get("/broadcasts/compare")
@role_required(*ROLES)
def broadcasts_compare() -> ResponseReturnValue:
    """The last broadcasts side by side."""
    return render_template("admin/broadcast_compare.html", rows=compared(), count=COMPARED)


@bp.get("/broadcasts/compare.csv")
@role_required(*ROLES)
def broadcasts_compare_export() -> ResponseReturnValue:
    """The comparison as CSV, audited like the reports' exports."""
    rows = compare_rows(compared())
    audit.record(current_user.email, "report.export", "broadcast_comparison", format="csv", rows=len(rows))
    db.session.commit()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COMPARE_COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=broadcast-comparison-{stamp}.csv"})
