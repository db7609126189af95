"""Membership statistics: the numbers behind STATS on WhatsApp and the dashboard's charts.

The answer is built from the areas' STATS sections (`Area.stats_sections`), functions
`(StatsFilter, now) -> lines`: the membership ones here (`SECTIONS`), then those of other areas (courses,
certificates, vouchers), in the order of the areas.
The members in scope are the signed-up ones, narrowed by county and/or kind of work; a member who erased
their data (DELETE MY DATA) still counts in every figure they were part of (county, kinds of work, joining
day, courses), shown as "data erased" instead of active or opted out. On PostgreSQL the counts come
from `member_tallies`, running counts kept by triggers (see migrations 0005 and 0007), read in one
GROUPING SETS pass per answer; new members this week and month come from covering indexes over the
joining time. On SQLite (local use) the same numbers are counted from the members tables (`live_*`;
tests/test_stats_counts.py keeps both equal to a model of the members).
Weeks and months are calendar ones in TIMEZONE: "this week" is the ISO week, from Monday 00:00, even when
it began last month or last year; the dashboard's months are the same months as "new this month".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cache
from itertools import pairwise

import sqlalchemy as sa
from flask import g
from sqlalchemy.orm import InstrumentedAttribute, aliased

from bot.core import i18n, local_time
from bot.core.area import assembled
from bot.core.extensions import db
from bot.models import ERASED_STATUS, Member, MemberTally, MemberWork, utcnow
from flows import filters
from flows.base import N_, Line, Msg, Text, label_of, msg
from flows.signup import COMMUNITY_LABELS, GENDER_LABELS, WORK_KINDS, WORK_LABELS

TOP_COUNTIES = 10


@dataclass(frozen=True)
class StatsFilter:
    """Which members the numbers are about: all, or those of one county and/or one kind of work, and (on the
    dashboard) those who joined in [joined_from, joined_before), naive UTC."""

    county: str | None = None
    work: str | None = None
    joined_from: datetime | None = None
    joined_before: datetime | None = None

    def is_empty(self) -> bool:
        """Whether no filter is set."""
        return self.county is None and self.work is None and not self.dated()

    def dated(self) -> bool:
        """Whether the members are narrowed by when they joined (the running counts keep no joining time)."""
        return self.joined_from is not None or self.joined_before is not None

    def any_work(self) -> StatsFilter:
        """The same members whatever their kind of work."""
        return replace(self, work=None)


@dataclass(frozen=True)
class FilterProblem:
    """Why a STATS filter was not understood, as lines for the staff member."""

    lines: Sequence[Line]


SectionProvider = Callable[[StatsFilter, datetime], Sequence[Line]]


# The members officers count: the active ones, and those who joined and later erased their data (the
# running counts of migration 0007 use the same rule).
COUNTED = sa.or_(Member.status == "active", sa.and_(Member.status == ERASED_STATUS, Member.joined_at.is_not(None)))


def in_scope(f: StatsFilter) -> list[sa.ColumnElement[bool]]:
    """The conditions that pick the members a filter is about."""
    conditions: list[sa.ColumnElement[bool]] = [COUNTED]
    if f.county:
        conditions.append(Member.county == f.county)
    if f.work:
        conditions.append(
            sa.exists().where(MemberWork.member_id == Member.id, MemberWork.kind == f.work)
        )
    if f.joined_from is not None:
        conditions.append(Member.joined_at >= f.joined_from)
    if f.joined_before is not None:
        conditions.append(Member.joined_at < f.joined_before)
    return conditions


def local_midnight(day: date) -> datetime:
    """The start of a calendar day in the union's time zone, as naive UTC."""
    return local_time.to_utc(datetime.combine(day, time()))


def period_starts(now: datetime) -> tuple[datetime, datetime]:
    """The start of this week and of this month in the union's time zone, as naive UTC. A week is the ISO
    week: from Monday 00:00 to Sunday 24:00; it may have begun last month (or last year)."""
    today = local_time.to_local(now).date()
    return local_midnight(today - timedelta(days=today.weekday())), local_midnight(today.replace(day=1))


@dataclass(frozen=True)
class Totals:
    """The headline numbers; each member is one of active, opted out or erased (their data)."""

    total: int
    opted_out: int
    erased: int
    new_week: int
    new_month: int

    @property
    def active(self) -> int:
        """Members who still receive messages."""
        return self.total - self.opted_out - self.erased


def tallied() -> bool:
    """Whether the running counts are kept (PostgreSQL, by triggers); SQLite counts the members live."""
    return db.engine.dialect.name == "postgresql"


def counted_live(f: StatsFilter) -> bool:
    """Whether a filter's numbers are counted from the members tables: on SQLite, and for a range of joining
    days, which the running counts do not keep."""
    return not tallied() or f.dated()


def tally_scope(f: StatsFilter) -> list[sa.ColumnElement[bool]]:
    """The conditions that pick a filter's rows of the running counts."""
    conditions: list[sa.ColumnElement[bool]] = []
    if f.county:
        conditions.append(MemberTally.county == f.county)
    if f.work:
        conditions.append(("," + MemberTally.work + ",").contains(f",{f.work},", autoescape=True))
    return conditions


# Opt-out and erasure as one dimension (each member is one of the three), one grouping set fewer to sum.
STANDING = sa.literal_column("CASE WHEN member_tallies.erased THEN 'erased' "
                             "WHEN member_tallies.opted_out THEN 'opted_out' ELSE 'active' END")
TALLY_DIMENSIONS: dict[str, sa.ColumnElement[object]] = {
    "county": MemberTally.county, "gender": MemberTally.gender, "community": MemberTally.community,
    "work": MemberTally.work, "standing": STANDING,
}


def tally_summary(f: StatsFilter) -> dict[str, dict[object, int]]:
    """Members per county, gender, community, kinds of work and standing (active, opted out, erased), in one
    pass over the running counts (GROUPING SETS); read once per answer inside `one_reading()`, since every
    section needs it."""
    memo = g.get("stats_tally_summary")
    if memo is None:
        memo = {}
    elif f in memo:
        return memo[f]
    columns = list(TALLY_DIMENSIONS.values())
    rows = db.session.execute(
        sa.select(sa.func.grouping(*columns), *columns, sa.func.sum(MemberTally.members))
        .where(*tally_scope(f))
        .group_by(sa.func.grouping_sets(*[sa.tuple_(c) for c in columns]))
    )
    names = list(TALLY_DIMENSIONS)
    summary: dict[str, dict[object, int]] = {name: {} for name in names}
    last = len(names) - 1
    for mask, *values, count in rows:
        index = next(i for i in range(len(names)) if not mask & (1 << (last - i)))
        summary[names[index]][values[index]] = int(count or 0)
    memo[f] = summary
    return summary


@contextmanager
def one_reading() -> Iterator[None]:
    """Within this block, the sections of one answer share one reading of the running counts."""
    g.stats_tally_summary = {}
    try:
        yield
    finally:
        g.pop("stats_tally_summary", None)


def new_members(f: StatsFilter, now: datetime) -> tuple[int, int]:
    """Members who joined this week and this month: a range scan over the join date from the earlier of the
    two starts (a week that began last month reaches before the month); with a kind of work, joined to that
    kind's index entries from the lowest recent member id on (ids grow as members join)."""
    week, month = period_starts(now)
    since = min(week, month)
    if not f.work:
        row = db.session.execute(
            sa.select(sa.func.count().filter(Member.joined_at >= week), sa.func.count().filter(Member.joined_at >= month))
            .where(*in_scope(f), Member.joined_at >= since)
        ).one()
        return int(row[0] or 0), int(row[1] or 0)
    recent = (
        sa.select(Member.id, Member.joined_at)
        .where(*in_scope(f.any_work()), Member.joined_at >= since)
        .cte("recent")
    )
    lowest = sa.select(sa.func.min(recent.c.id)).scalar_subquery()
    row = db.session.execute(
        sa.select(sa.func.count().filter(recent.c.joined_at >= week),
                  sa.func.count().filter(recent.c.joined_at >= month)).select_from(
            recent.join(MemberWork, sa.and_(MemberWork.member_id == recent.c.id, MemberWork.kind == f.work,
                                            MemberWork.member_id >= lowest))
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def totals(f: StatsFilter, now: datetime) -> Totals:
    """Members, opted out, erased, and new this week and this month."""
    if counted_live(f):
        return live_totals(f, now)
    standing = tally_summary(f)["standing"]
    return Totals(sum(standing.values()), standing.get("opted_out", 0), standing.get("erased", 0),
                  *new_members(f, now))


def live_totals(f: StatsFilter, now: datetime) -> Totals:
    """The headline numbers counted from the members table itself."""
    week, month = period_starts(now)
    row = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(Member.opted_out_at.is_not(None), Member.status != ERASED_STATUS),
            sa.func.count().filter(Member.status == ERASED_STATUS),
            sa.func.count().filter(Member.joined_at >= week),
            sa.func.count().filter(Member.joined_at >= month),
        ).where(*in_scope(f))
    ).one()
    return Totals(*(int(v or 0) for v in row))


def ranked(counts: dict[str | None, int]) -> list[tuple[str | None, int]]:
    """Largest first, then by name; zero counts left out."""
    return sorted(((k, n) for k, n in counts.items() if n), key=lambda item: (-item[1], item[0] is None, item[0] or ""))


def counts_by(column: InstrumentedAttribute, f: StatsFilter) -> list[tuple[str | None, int]]:
    """Members per value of a members column (county, gender, community), largest first."""
    if counted_live(f):
        return live_counts_by(column, f)
    return ranked({str(value) or None: count for value, count in tally_summary(f)[column.key].items()})


def live_counts_by(column: InstrumentedAttribute, f: StatsFilter) -> list[tuple[str | None, int]]:
    """Members per value of a members column, counted from the members table itself."""
    rows = db.session.execute(sa.select(column, sa.func.count()).where(*in_scope(f)).group_by(column))
    return ranked({value: int(count) for value, count in rows})


def counts_by_work(f: StatsFilter) -> list[tuple[str, int]]:
    """Members per kind of work (a member may do several; filtered by work: their other kinds too)."""
    if counted_live(f):
        return live_counts_by_work(f)
    counts: dict[str | None, int] = {}
    for work, count in tally_summary(f)["work"].items():
        for kind in filter(None, str(work).split(",")):
            counts[kind] = counts.get(kind, 0) + count
    return [(str(kind), n) for kind, n in ranked(counts)]


def live_counts_by_work(f: StatsFilter) -> list[tuple[str, int]]:
    """Members per kind of work, counted from the members and member_work tables themselves."""
    query = sa.select(MemberWork.kind, sa.func.count()).join(Member, Member.id == MemberWork.member_id)
    if f.work:
        mine = aliased(MemberWork)
        query = query.join(mine, sa.and_(mine.member_id == MemberWork.member_id, mine.kind == f.work))
    rows = db.session.execute(query.where(*in_scope(f.any_work())).group_by(MemberWork.kind))
    return [(str(kind), n) for kind, n in ranked({kind: int(count) for kind, count in rows})]


COMPACT_TALLIES = sa.text("""
    WITH folded AS (DELETE FROM member_tallies
                    RETURNING county, gender, community, opted_out, erased, work, members)
    INSERT INTO member_tallies (county, gender, community, opted_out, erased, work, members)
    SELECT county, gender, community, opted_out, erased, work, sum(members) FROM folded
    GROUP BY county, gender, community, opted_out, erased, work HAVING sum(members) <> 0
""")


def compact_tallies() -> None:
    """Fold the running counts' +1/-1 rows into one row per combination (rows added meanwhile stay)."""
    if tallied():
        db.session.execute(COMPACT_TALLIES)
        db.session.commit()



def month_starts(now: datetime, months: int) -> list[tuple[str, datetime]]:
    """The last `months` calendar months in the union's time zone, oldest first, each as ('2026-11', its
    start as naive UTC), and after them the start of next month."""
    this_month = local_time.to_local(now).date().replace(day=1)
    starts = []
    for back in range(months - 1, -2, -1):
        index = this_month.year * 12 + this_month.month - 1 - back
        month = date(index // 12, index % 12 + 1, 1)
        starts.append((month.strftime("%Y-%m"), local_midnight(month)))
    return starts


def joined_per_month(f: StatsFilter, months: int = 12, now: datetime | None = None) -> list[tuple[str, int]]:
    """New members per calendar month (in the union's time zone, as "new this month") for the last `months`
    months, oldest first, as ('2026-11', n); one pass over the join date's range."""
    starts = month_starts(now or utcnow(), months)
    row = db.session.execute(
        sa.select(*[sa.func.count().filter(Member.joined_at >= start, Member.joined_at < end)
                    for (_, start), (_, end) in pairwise(starts)])
        .where(*in_scope(f), Member.joined_at >= starts[0][1])
    ).one()
    return [(label, int(count or 0)) for (label, _), count in zip(starts[:-1], row, strict=True)]


def members_over_time(f: StatsFilter, months: int = 12, now: datetime | None = None) -> list[tuple[str, int]]:
    """Signed-up members at the end of each of the last `months` months (this month: so far), oldest first."""
    now = now or utcnow()
    joined = joined_per_month(f, months, now)
    running = db.session.scalar(
        sa.select(sa.func.count()).where(*in_scope(f), Member.joined_at < month_starts(now, months)[0][1])
    ) or 0
    totals: list[tuple[str, int]] = []
    for label, count in joined:
        running += count
        totals.append((label, running))
    return totals


def number(n: int) -> str:
    """A count with thousands separators."""
    return f"{n:,}"


# A breakdown never shows a group smaller than this as a number (so that no one can be picked out): "<5".
SMALL_GROUP = 5


def group_count(n: int) -> str:
    """A breakdown's count: the number, or "<5" for a small group."""
    return number(n) if n >= SMALL_GROUP else f"<{SMALL_GROUP}"


def pairs(items: Sequence[tuple[Line, int]]) -> list[Msg]:
    """'label count' lines for a breakdown; a group under SMALL_GROUP shows as "<5"."""
    return [msg(N_("%(label)s %(count)s"), label=label, count=group_count(count)) for label, count in items]


def member_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """Members, active, opted out, erased (when any), new this week and this month."""
    t = totals(f, now)
    counts = {"total": number(t.total), "active": number(t.active), "opted_out": number(t.opted_out)}
    return (
        msg(N_("Members: %(total)s (active %(active)s, opted out %(opted_out)s, data erased %(erased)s)"),
            erased=number(t.erased), **counts) if t.erased else
        msg(N_("Members: %(total)s (active %(active)s, opted out %(opted_out)s)"), **counts),
        msg(N_("New: %(week)s this week, %(month)s this month"), week=number(t.new_week), month=number(t.new_month)),
    )


def county_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """The top counties and the rest (left out when filtered to one county)."""
    if f.county:
        return ()
    rows = counts_by(Member.county, f)
    top = [(label_of({}, county), count) for county, count in rows[:TOP_COUNTIES]]
    rest = sum(count for _, count in rows[TOP_COUNTIES:])
    if rest:
        top.append((msg(N_("the rest")), rest))
    return (msg(N_("By county: %(list)s"), list=pairs(top) or msg(N_("none"))),)


def work_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """Members per kind of work."""
    rows = [(label_of(WORK_LABELS, kind), count) for kind, count in counts_by_work(f)]
    return (msg(N_("By kind of work: %(list)s"), list=pairs(rows) or msg(N_("none"))),)


def gender_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """Members per gender."""
    rows = [(label_of(GENDER_LABELS, g), count) for g, count in counts_by(Member.gender, f)]
    return (msg(N_("By gender: %(list)s"), list=pairs(rows) or msg(N_("none"))),)


def community_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """Members per community."""
    rows = [(label_of(COMMUNITY_LABELS, c), count) for c, count in counts_by(Member.community, f)]
    return (msg(N_("By community: %(list)s"), list=pairs(rows) or msg(N_("none"))),)


# The membership sections (the stats area's); other areas declare theirs in their `Area`.
SECTIONS: tuple[SectionProvider, ...] = (
    member_section,
    county_section,
    work_section,
    gender_section,
    community_section,
)


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
    with one_reading():
        for provider in assembled().stats_sections:
            lines.extend(provider(f, now))
    return tuple(lines)


def work_phrases() -> dict[str, str]:
    """Every phrase naming a kind of work → its key: each configured language's label (the words before a
    bracket, each side of a '/'), the synonyms of `flows.filters` and the keys."""
    return phrases_in(tuple(i18n.LANGUAGES))


@cache
def phrases_in(languages: tuple[str, ...]) -> dict[str, str]:
    """`work_phrases` for these languages, built once."""
    labels: dict[str, str] = {}
    for key, label in WORK_KINDS:
        for lang in languages:
            for part in i18n.translate(lang, label).split("(")[0].split("/"):
                labels.setdefault(part, key)
    return filters.work_phrases(labels)


TRY = msg(N_("Try STATS, STATS Nairobi, STATS transcription or STATS Nairobi transcription."))


def understood_lines(found: filters.Filters) -> list[Line]:
    """What the words named, as 'county Uasin Gishu', 'kind of work Transcription'."""
    return [*(msg(N_("county %(county)s"), county=Text(c)) for c in found.counties),
            *(msg(N_("kind of work %(work)s"), work=msg(WORK_LABELS[w])) for w in found.works)]


def unknown_line(unknown: filters.Unknown) -> Line:
    """A word not understood, and what it may have meant."""
    guesses: list[Line] = [msg(WORK_LABELS[w]) for w in unknown.works] + [Text(c) for c in unknown.counties]
    if not guesses:
        return msg(N_("I do not know \"%(word)s\"."), word=Text(unknown.word))
    return msg(N_("I do not know \"%(word)s\": did you mean %(guesses)s?"), word=Text(unknown.word),
               guesses=guesses)


def parse_filter(args: str) -> StatsFilter | FilterProblem:
    """'Nairobi', 'Msa', 'Eldoret boda', 'transcription Kisumu' … → a filter; every word counts: one not
    understood, or a second county or kind of work, is refused with what was understood and what was not."""
    found = filters.read_filters(args, work_phrases())
    understood = understood_lines(found)
    if found.unknown:
        lines: list[Line] = [unknown_line(u) for u in found.unknown]
        if understood:
            lines.insert(0, msg(N_("I understood %(filters)s."), filters=understood))
        return FilterProblem(lines + [TRY])
    if len(found.counties) > 1 or len(found.works) > 1:
        return FilterProblem([msg(N_("STATS takes one county and one kind of work; you named %(filters)s."),
                                  filters=understood), TRY])
    return StatsFilter(county=found.counties[0] if found.counties else None,
                       work=found.works[0] if found.works else None)
