"""Membership statistics: the numbers behind STATS on WhatsApp and the dashboard's charts.

The answer is built from SECTION_PROVIDERS, a list of functions `(StatsFilter, now) -> lines`; other
areas (courses, certificates, vouchers) append their own provider to add a section to STATS.
Every count is one SQL aggregate over the members in scope: signed-up members, narrowed by county
and/or kind of work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from bot import i18n
from bot.extensions import db
from bot.models import Member, MemberWork, utcnow
from flows.base import N_, Line, Msg, Text, msg
from flows.counties import match_county
from flows.signup import COMMUNITY_LABELS, GENDER_LABELS, WORK_KINDS, WORK_LABELS

TOP_COUNTIES = 10


@dataclass(frozen=True)
class StatsFilter:
    """Which members the numbers are about: all, or those of one county and/or one kind of work."""

    county: str | None = None
    work: str | None = None

    def is_empty(self) -> bool:
        """Whether no filter is set."""
        return self.county is None and self.work is None


@dataclass(frozen=True)
class FilterProblem:
    """Why a STATS filter was not understood, as a line for the staff member."""

    line: Line


SectionProvider = Callable[[StatsFilter, datetime], Sequence[Line]]


def in_scope(f: StatsFilter) -> list[sa.ColumnElement[bool]]:
    """The conditions that pick the members a filter is about."""
    conditions: list[sa.ColumnElement[bool]] = [Member.status == "active"]
    if f.county:
        conditions.append(Member.county == f.county)
    if f.work:
        conditions.append(
            sa.exists().where(MemberWork.member_id == Member.id, MemberWork.kind == f.work)
        )
    return conditions


def period_starts(now: datetime) -> tuple[datetime, datetime]:
    """The start of this week (Monday) and of this month in the union's time zone, as naive UTC."""
    zone = ZoneInfo(current_app.config.get("TIMEZONE") or "Africa/Nairobi")
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week = day - timedelta(days=day.weekday())
    month = day.replace(day=1)
    utc = ZoneInfo("UTC")
    return (week.astimezone(utc).replace(tzinfo=None), month.astimezone(utc).replace(tzinfo=None))


@dataclass(frozen=True)
class Totals:
    """The headline numbers."""

    total: int
    opted_out: int
    new_week: int
    new_month: int

    @property
    def active(self) -> int:
        """Members who still receive messages."""
        return self.total - self.opted_out


def totals(f: StatsFilter, now: datetime) -> Totals:
    """Members, opted out, and new this week and this month, in one query."""
    week, month = period_starts(now)
    row = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(Member.opted_out_at.is_not(None)),
            sa.func.count().filter(Member.joined_at >= week),
            sa.func.count().filter(Member.joined_at >= month),
        ).where(*in_scope(f))
    ).one()
    return Totals(*(int(v or 0) for v in row))


def counts_by(column: sa.ColumnElement, f: StatsFilter) -> list[tuple[str | None, int]]:
    """Members per value of a members column, largest first."""
    rows = db.session.execute(
        sa.select(column, sa.func.count()).where(*in_scope(f)).group_by(column).order_by(sa.func.count().desc(), column)
    )
    return [(value, int(count)) for value, count in rows]


def counts_by_work(f: StatsFilter) -> list[tuple[str, int]]:
    """Members per kind of work (a member may do several), largest first."""
    conditions: list[sa.ColumnElement[bool]] = [Member.status == "active"]
    if f.county:
        conditions.append(Member.county == f.county)
    query = sa.select(MemberWork.kind, sa.func.count()).join(Member, Member.id == MemberWork.member_id)
    if f.work:
        # Members doing this kind of work: their other kinds too.
        mine = sa.orm.aliased(MemberWork)
        query = query.join(mine, sa.and_(mine.member_id == MemberWork.member_id, mine.kind == f.work))
    rows = db.session.execute(
        query.where(*conditions).group_by(MemberWork.kind).order_by(sa.func.count().desc(), MemberWork.kind)
    )
    return [(kind, int(count)) for kind, count in rows]


def joined_per_month(f: StatsFilter, months: int = 12, now: datetime | None = None) -> list[tuple[str, int]]:
    """New members per calendar month (UTC) for the last `months` months, oldest first, as ('2026-11', n)."""
    now = now or utcnow()
    start = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(days=31 * (months - 1))).replace(day=1)
    if db.engine.dialect.name == "sqlite":
        bucket = sa.func.strftime("%Y-%m", Member.joined_at)
    else:
        bucket = sa.func.to_char(sa.func.date_trunc("month", Member.joined_at), "YYYY-MM")
    rows = dict(
        db.session.execute(
            sa.select(bucket, sa.func.count()).where(*in_scope(f), Member.joined_at >= start).group_by(bucket)
        ).all()
    )
    labels: list[str] = []
    cursor = start
    while cursor <= now:
        labels.append(cursor.strftime("%Y-%m"))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return [(label, int(rows.get(label, 0))) for label in labels]


def number(n: int) -> str:
    """A count with thousands separators."""
    return f"{n:,}"


def pairs(items: Sequence[tuple[Line, int]]) -> list[Msg]:
    """'label count' lines for a breakdown."""
    return [msg(N_("%(label)s %(count)s"), label=label, count=number(count)) for label, count in items]


def labelled(options: dict[str, str], value: str | None) -> Line:
    """An option's translatable label, 'not given' for none, or the stored value as it is."""
    if value is None:
        return msg(N_("not given"))
    return msg(options[value]) if value in options else Text(value)


def member_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """Members, active, opted out, new this week and this month."""
    t = totals(f, now)
    return (
        msg(N_("Members: %(total)s (active %(active)s, opted out %(opted_out)s)"),
            total=number(t.total), active=number(t.active), opted_out=number(t.opted_out)),
        msg(N_("New: %(week)s this week, %(month)s this month"), week=number(t.new_week), month=number(t.new_month)),
    )


def county_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """The top counties and the rest (left out when filtered to one county)."""
    if f.county:
        return ()
    rows = counts_by(Member.county, f)
    top = [(labelled({}, county), count) for county, count in rows[:TOP_COUNTIES]]
    rest = sum(count for _, count in rows[TOP_COUNTIES:])
    if rest:
        top.append((msg(N_("the rest")), rest))
    return (msg(N_("By county: %(list)s"), list=pairs(top) or msg(N_("none"))),)


def work_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """Members per kind of work."""
    rows = [(labelled(WORK_LABELS, kind), count) for kind, count in counts_by_work(f)]
    return (msg(N_("By kind of work: %(list)s"), list=pairs(rows) or msg(N_("none"))),)


def gender_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """Members per gender."""
    rows = [(labelled(GENDER_LABELS, g), count) for g, count in counts_by(Member.gender, f)]
    return (msg(N_("By gender: %(list)s"), list=pairs(rows) or msg(N_("none"))),)


def community_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """Members per community."""
    rows = [(labelled(COMMUNITY_LABELS, c), count) for c, count in counts_by(Member.community, f)]
    return (msg(N_("By community: %(list)s"), list=pairs(rows) or msg(N_("none"))),)


# Other areas append providers here (course enrolments and completions, certificates, vouchers).
SECTION_PROVIDERS: list[SectionProvider] = [
    member_section,
    county_section,
    work_section,
    gender_section,
    community_section,
]


def heading(f: StatsFilter) -> Line:
    """The first line: what the numbers are about."""
    if f.is_empty():
        return msg(N_("Union statistics"))
    parts: list[Line] = []
    if f.county:
        parts.append(Text(f.county))
    if f.work:
        parts.append(msg(WORK_LABELS[f.work]))
    return msg(N_("Union statistics for %(filter)s"), filter=parts)


def report(f: StatsFilter, now: datetime) -> tuple[Line, ...]:
    """Every section of the STATS answer, heading first."""
    lines: list[Line] = [heading(f)]
    for provider in SECTION_PROVIDERS:
        lines.extend(provider(f, now))
    return tuple(lines)


def work_aliases() -> dict[str, str]:
    """Normalised words for each kind of work, in every language → the kind's key."""
    aliases: dict[str, str] = {}
    for key, label in WORK_KINDS:
        aliases[i18n.normalize(key.replace("_", " "))] = key
        for lang in i18n.LANGUAGES:
            text = i18n.normalize(i18n.translate(lang, label).split("(")[0].split("/")[0])
            if text:
                aliases.setdefault(text, key)
                first = text.split(" ")[0]
                if len(first) > 3:
                    aliases.setdefault(first, key)
    return aliases


def parse_filter(args: str) -> StatsFilter | FilterProblem:
    """'Nairobi', 'transcription', 'Nairobi data annotation' … → a filter, or what was not understood."""
    words = i18n.normalize(args)
    if not words:
        return StatsFilter()
    work = None
    for alias, key in sorted(work_aliases().items(), key=lambda item: -len(item[0])):
        padded = f" {words} "
        if f" {alias} " in padded:
            work = key
            words = " ".join(padded.replace(f" {alias} ", " ", 1).split())
            break
    county = None
    if words:
        found = match_county(words)
        if found.county is None:
            if found.candidates:
                return FilterProblem(msg(N_("Which county did you mean: %(counties)s?"),
                                         counties=[Text(c) for c in found.candidates]))
            return FilterProblem(msg(N_("I do not know \"%(words)s\". Try STATS, STATS Nairobi, STATS transcription "
                                        "or STATS Nairobi transcription."), words=args.strip()))
        county = found.county
    return StatsFilter(county=county, work=work)
