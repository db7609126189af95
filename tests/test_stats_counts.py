"""The numbers of STATS and the dashboard against a model of the members: the running counts (PostgreSQL's
triggers), counting the members table live (SQLite's way) and the model must agree on every figure, under
every filter, for members joining at any moment (the last and first minutes of weeks, months and years in
TIMEZONE), opting out and back in, correcting their county and work, and erasing their data, with "now"
anywhere in the year. A week is the ISO week: it starts on Monday at midnight in TIMEZONE."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.extensions import db
from bot.members import service as member_service
from bot.models import Member, MemberNumber, utcnow
from bot.privacy import service as privacy
from bot.stats import service as stats

NAIROBI = ZoneInfo("Africa/Nairobi")
UTC = ZoneInfo("UTC")
COUNTIES = ["Nairobi", "Turkana", "Kisumu"]
KINDS = ["transcription", "data_annotation", "ride_delivery", "other"]
GENDERS = ["woman", "man", None]
COMMUNITIES = ["refugee", "host", None]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))


def utc(local: datetime) -> datetime:
    """A Nairobi wall-clock moment as the naive UTC the database keeps."""
    return local.replace(tzinfo=NAIROBI).astimezone(UTC).replace(tzinfo=None)


def local_day(moment: datetime) -> date:
    """The Nairobi calendar day of a naive UTC moment."""
    return moment.replace(tzinfo=UTC).astimezone(NAIROBI).date()


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class Person:
    """What the model knows of one member (the joining time as it was, before any erasure)."""

    joined: datetime | None
    county: str
    kinds: set[str]
    gender: str | None
    community: str | None
    opted_out: bool = False
    erased: bool = False
    id: int = 0


@dataclass
class Model:
    """The expected numbers, counted from the people in plain Python."""

    people: list[Person] = field(default_factory=list)

    def scope(self, f: stats.StatsFilter) -> list[Person]:
        """The signed-up people a filter is about."""
        return [p for p in self.people if p.joined is not None and (f.county is None or p.county == f.county)
                and (f.work is None or f.work in p.kinds)]

    def totals(self, f: stats.StatsFilter, now: datetime) -> stats.Totals:
        """Members, opted out, erased, new this (ISO, Monday-first) week and this month, in Nairobi."""
        people, today = self.scope(f), local_day(now)
        monday, first = today - timedelta(days=today.weekday()), today.replace(day=1)
        return stats.Totals(
            total=len(people), opted_out=sum(p.opted_out and not p.erased for p in people),
            erased=sum(p.erased for p in people),
            new_week=sum(monday <= local_day(p.joined) for p in people),
            new_month=sum(first <= local_day(p.joined) for p in people))

    def counts(self, f: stats.StatsFilter, attribute: str) -> list[tuple[str | None, int]]:
        """Members per county, gender or community (erased members have neither gender nor community)."""
        values = Counter(None if p.erased and attribute != "county" else getattr(p, attribute) for p in self.scope(f))
        return stats.ranked(dict(values))

    def work(self, f: stats.StatsFilter) -> list[tuple[str, int]]:
        """Members per kind of work (with a work filter: the other kinds of the same members too)."""
        return [(str(k), n) for k, n in stats.ranked(dict(Counter(k for p in self.scope(f) for k in p.kinds)))]

    def over_time(self, f: stats.StatsFilter, now: datetime, months: int) -> list[tuple[str, int]]:
        """Members at the end of each of the last `months` Nairobi months (this one: so far)."""
        this_month = local_day(now).replace(day=1)
        series = []
        for back in range(months - 1, -1, -1):
            month = add_months(this_month, -back)
            joined = sum(local_day(p.joined) < add_months(month, 1) for p in self.scope(f))
            series.append((month.strftime("%Y-%m"), joined))
        return series


@st.composite
def moments(draw: st.DrawFn, boundary: datetime) -> datetime:
    """A Nairobi wall-clock moment near a boundary: a second or a minute either side of the start of the
    month, the months around it, its year, the weeks around it; or anywhere within two months."""
    month = boundary.date()
    monday = month - timedelta(days=month.weekday())
    starts = [month, add_months(month, -1), add_months(month, 1), date(month.year, 1, 1), date(month.year + 1, 1, 1),
              monday, monday - timedelta(days=7), monday + timedelta(days=7)]
    if draw(st.integers(0, 3)) == 0:
        return boundary + timedelta(minutes=draw(st.integers(-60 * 24 * 62, 60 * 24 * 62)))
    start = datetime.combine(draw(st.sampled_from(starts)), datetime.min.time())
    return start + timedelta(seconds=draw(st.sampled_from([-60, -1, 0, 1, 60, 3 * 3600 - 1, 3 * 3600])))


PEOPLE = st.tuples(st.sampled_from(COUNTIES), st.sets(st.sampled_from(KINDS), min_size=0, max_size=3),
                   st.sampled_from(GENDERS), st.sampled_from(COMMUNITIES))
ACTIONS = st.tuples(st.sampled_from(["opt_out", "opt_in", "correct", "erase", "fold"]), st.integers(0, 10_000),
                    PEOPLE)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[datetime, list[tuple[datetime | None, tuple]], list[tuple]]:
    """The moment to count at ("now"), people with their joining moments (None: never finished sign-up;
    none later than now), and what happens to them afterwards."""
    boundary = datetime(draw(st.integers(2025, 2028)), draw(st.integers(1, 12)), 1)
    now = utc(draw(moments(boundary)))
    joins = draw(st.lists(st.tuples(st.one_of(st.none(), moments(boundary)), PEOPLE), min_size=1, max_size=10))
    people = [(None if moment is None else min(utc(moment), now), person) for moment, person in joins]
    return now, people, draw(st.lists(ACTIONS, max_size=10))


def play(model: Model, people: list[tuple[datetime | None, tuple]], actions: list[tuple]) -> None:
    """Sign the people up (at their joining moments) and apply the actions, in the database and the model."""
    for i, (joined, (county, kinds, gender, community)) in enumerate(people):
        member = Member(phone=f"+2547200{i:05d}", status="prospect", language="en")
        db.session.add(member)
        db.session.flush()
        person = Person(joined, county, set(kinds), gender, community, id=member.id)
        if joined is not None:
            member_service.register(member, name=f"Member {i}", county=county, work_kinds=tuple(sorted(kinds)),
                                    work_other=None, gender=gender, community=community, now=joined)
        model.people.append(person)
    db.session.commit()
    for action, pick, (county, kinds, gender, community) in actions:
        person = model.people[pick % len(model.people)]
        member = db.session.get(Member, person.id)
        if action == "fold":
            stats.compact_tallies()
            continue
        if person.erased:
            continue
        if action == "opt_out" and person.joined is not None:
            member_service.opt_out(member, "test")
            person.opted_out = True
        elif action == "opt_in":
            member_service.opt_in(member, "test")
            person.opted_out = False
        elif action == "correct" and person.joined is not None:
            # A correction of sign-up's answers goes through CHANGE MY DETAILS' service, one field at a time.
            for name, values in (("county", {"county": county}), ("work", {"work": sorted(kinds), "work_other": None}),
                                 ("gender", {"gender": gender}), ("community", {"community": community})):
                member_service.correct(member, name, values, utcnow())
            person.county, person.kinds, person.gender, person.community = county, set(kinds), gender, community
        elif action == "erase":
            privacy.erase_member(member)
            person.erased = True
        db.session.commit()


def forget_everyone() -> None:
    """Remove the members an example made, and their running counts (cheaper than emptying every table)."""
    for table in ("consent_events", "audit_events", "member_numbers", "members", "member_tallies"):
        db.session.execute(sa.text(f"DELETE FROM {table}"))
    db.session.commit()


def figures(f: stats.StatsFilter, now: datetime, live: bool) -> tuple:
    """Every membership figure of STATS and the dashboard, from the running counts or counted live."""
    if live:
        return (stats.live_totals(f, now), stats.live_counts_by(Member.county, f),
                stats.live_counts_by(Member.gender, f), stats.live_counts_by(Member.community, f),
                stats.live_counts_by_work(f))
    with stats.one_reading():
        return (stats.totals(f, now), stats.counts_by(Member.county, f), stats.counts_by(Member.gender, f),
                stats.counts_by(Member.community, f), stats.counts_by_work(f))


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(scenarios(), st.sampled_from(COUNTIES), st.sampled_from(KINDS))
def test_running_counts_live_counts_and_the_model_agree(app, scenario, county, work):
    now, people, actions = scenario
    with app.app_context():
        if not stats.tallied():
            pytest.skip("the running counts are kept by PostgreSQL triggers")
        forget_everyone()
        model = Model()
        try:
            play(model, people, actions)
            for f in (stats.StatsFilter(), stats.StatsFilter(county=county), stats.StatsFilter(work=work),
                      stats.StatsFilter(county=county, work=work)):
                expected = (model.totals(f, now), model.counts(f, "county"), model.counts(f, "gender"),
                            model.counts(f, "community"), model.work(f))
                assert figures(f, now, live=False) == expected, (f, "running counts")
                assert figures(f, now, live=True) == expected, (f, "counted live")
                assert stats.members_over_time(f, 13, now) == model.over_time(f, now, 13), f
        finally:
            db.session.rollback()
            db.session.remove()


def test_new_this_week_reaches_into_last_month_and_last_year(app):
    # 3 December 2026 is a Thursday: the week began on Monday 30 November (Nairobi time).
    people = [(datetime(2026, 11, 29, 23, 59), "Kisumu"),  # Sunday: last week
              (datetime(2026, 11, 30, 0, 0), "Nairobi"),  # Monday: this week, last month
              (datetime(2026, 11, 30, 23, 59), "Nairobi"),
              (datetime(2026, 12, 1, 0, 0), "Nairobi"),  # this week and this month
              (datetime(2026, 12, 3, 9, 0), "Turkana")]
    with app.app_context():
        for i, (joined, county) in enumerate(people):
            member = Member(phone=f"+2547300{i:05d}", status="prospect")
            db.session.add(member)
            db.session.flush()
            member_service.register(member, name="M", county=county, work_kinds=("transcription",), work_other=None,
                                    gender=None, community=None, now=utc(joined))
        db.session.commit()
        privacy.erase_member(db.session.get(Member, 3))  # erased: still new this week
        db.session.commit()
        cases = {
            datetime(2026, 12, 3, 15, 0): (4, 2),
            datetime(2026, 12, 6, 23, 59): (4, 2),  # Sunday night
            datetime(2026, 12, 7, 0, 0): (0, 2),  # the next Monday
        }
        for now, (week, month) in cases.items():
            for f in (stats.StatsFilter(), stats.StatsFilter(work="transcription"), stats.StatsFilter(county="Nairobi")):
                assert stats.totals(f, utc(now)) == stats.live_totals(f, utc(now)), (now, f)
            everyone = stats.totals(stats.StatsFilter(), utc(now))
            assert (everyone.new_week, everyone.new_month) == (week, month), now
        nairobi = stats.totals(stats.StatsFilter(county="Nairobi"), utc(datetime(2026, 12, 3, 15, 0)))
        assert (nairobi.new_week, nairobi.new_month, nairobi.erased) == (3, 1, 1)
        # 1 January 2027 is a Friday: its week began on Monday 28 December 2026.
        for i, joined in enumerate([datetime(2026, 12, 27, 23, 59), datetime(2026, 12, 31, 23, 59),
                                    datetime(2027, 1, 1, 0, 0)]):
            member = Member(phone=f"+2547301{i:05d}", status="prospect")
            db.session.add(member)
            db.session.flush()
            member_service.register(member, name="M", county="Mombasa", work_kinds=("other",), work_other=None,
                                    gender=None, community=None, now=utc(joined))
        db.session.commit()
        new_year = utc(datetime(2027, 1, 1, 0, 0))
        for f in (stats.StatsFilter(), stats.StatsFilter(work="other")):
            assert stats.totals(f, new_year) == stats.live_totals(f, new_year), f
            assert (stats.totals(f, new_year).new_week, stats.totals(f, new_year).new_month) == (2, 1), f


def test_members_erased_before_the_upgrade_get_their_joining_day_back(app):
    from flask_migrate import downgrade, upgrade

    joined = [datetime(2026, 11, 30, 10, 0),  # Monday: this week, last month
              datetime(2026, 12, 1, 1, 30),  # still 30 November in UTC
              datetime(2026, 12, 2, 12, 0),
              datetime(2026, 11, 12, 9, 0)]
    now = utc(datetime(2026, 12, 3, 15, 0))
    with app.app_context():
        downgrade(revision="0012")
        with db.engine.begin() as connection:  # today's model writes every column it has (0016, 0017 add these)
            connection.execute(sa.text("ALTER TABLE members ADD COLUMN wa_user_id varchar(140)"))
            connection.execute(sa.text("ALTER TABLE members ADD COLUMN broadcasts_stopped_at timestamp"))
        try:
            for i, moment in enumerate(joined):
                member = Member(phone=f"+2547400{i:05d}", status="prospect")
                db.session.add(member)
                db.session.flush()
                member_service.register(member, name="M", county="Nairobi", work_kinds=("other",), work_other=None,
                                        gender=None, community=None, now=utc(moment))
                ledger = db.session.scalars(sa.select(MemberNumber).where(MemberNumber.member_id == member.id)).one()
                privacy.erase_member_fields(member, now)  # the other hooks need tables later migrations add
                # What DELETE MY DATA kept before: the first of the joining time's UTC month, and the ledger's link.
                ledger.member_id = member.id
                member.joined_at = utc(moment).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            db.session.commit()
            before = stats.totals(stats.StatsFilter(), now)
            assert (before.new_week, before.new_month) == (1, 1)
        finally:
            db.session.remove()
            with db.engine.begin() as connection:
                connection.execute(sa.text("ALTER TABLE members DROP COLUMN wa_user_id"))
                connection.execute(sa.text("ALTER TABLE members DROP COLUMN broadcasts_stopped_at"))
            upgrade()
        for f in (stats.StatsFilter(), stats.StatsFilter(work="other")):
            assert stats.totals(f, now) == stats.live_totals(f, now) == stats.Totals(4, 0, 4, 3, 2), f
        assert [local_day(m.joined_at) for m in db.session.scalars(sa.select(Member).order_by(Member.id))] == [
            date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2), date(2026, 11, 12)]
