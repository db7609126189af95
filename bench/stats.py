"""STATS benchmark: 1,000,000 members in PostgreSQL, the STATS answer's latency without and with filters.

    python bench/stats.py [--members 1000000] [--today 'YYYY-MM-DD[ HH:MM]'] [--runs 30] [--keep]
                          [--database postgresql+psycopg://postgres@127.0.0.1:5432/bench_stats]
                          [--redis redis://127.0.0.1:6379/11]

Creates its own database (`--database`; a database of that name is dropped first) and drops it at the
end, also after a failure (`--keep` leaves it, and a later `--keep` run reuses the members seeded there),
empties its own Redis database (`--redis`) before and after, builds the schema with
the migrations, seeds members (and course enrolments, certificates and vouchers) with INSERT … SELECT
generate_series (a skewed county mix, one to three kinds of work each, 3 % opted out, 1 % who erased
their data, joined over the two years before "today" in the order of their ids, as sign-ups are), then
checks every membership figure of the running counts against counting the members (and new this week and
this month against PostgreSQL's own ISO weeks in TIMEZONE), times the whole STATS answer (every section's
queries plus rendering in English; the course numbers and the members per language read from Redis, where
the clock keeps them) for each filter, and how long counting the course numbers and the members per language
takes. `--today` sets the moment the numbers are for (TIMEZONE wall-clock time; default: now), e.g. a Monday,
the 1st of a month or 1 January. Prints
figures; the last line is `RESULT key=value …` (milliseconds). Target: p95 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, g

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import create_app  # noqa: E402
from bot.core import i18n, local_time  # noqa: E402
from bot.core.extensions import db  # noqa: E402
from bot.courses import stats as course_stats  # noqa: E402
from bot.devtools.database import scratch_database, scratch_redis  # noqa: E402
from bot.models import Member, utcnow  # noqa: E402
from bot.stats import languages as language_stats  # noqa: E402
from bot.stats import service as stats  # noqa: E402
from flows.base import Reply  # noqa: E402
from flows.counties import COUNTIES  # noqa: E402
from flows.signup import WORK_KINDS  # noqa: E402

FILTERS = {
    "none": "",
    "county": "Nairobi",
    "small_county": "Lamu",
    "work": "transcription",
    "county_work": "Mombasa ride delivery",
}

SEED_MEMBERS = """
INSERT INTO members (id, phone, name, county, gender, community, language, member_number, status,
                     joined_at, consent_at, opted_out_at, created_at, updated_at)
SELECT g,
       '+2547' || lpad(g::text, 8, '0'),
       'Member ' || g,
       (CAST(:counties AS text[]))[47 - floor(power(random(), 3) * 47)::int],
       (ARRAY['woman', 'man', 'undisclosed', NULL])[1 + floor(random() * 4)::int],
       (ARRAY['refugee', 'host', 'neither', NULL])[1 + floor(random() * 4)::int],
       CASE WHEN random() < 0.6 THEN 'sw' ELSE 'en' END,
       CASE WHEN g % 50 = 0 THEN NULL ELSE 'KUGWO-' || lpad(g::text, 7, '0') END,
       CASE WHEN g % 50 = 0 THEN 'prospect' ELSE 'active' END,
       CASE WHEN g % 50 = 0 THEN NULL
            ELSE CAST(:now AS timestamp) - ((:n - g) / CAST(:n AS float) * 730 + random() * 2) * interval '1 day' END,
       CASE WHEN g % 50 = 0 THEN NULL ELSE CAST(:now AS timestamp) - interval '731 days' END,
       CASE WHEN g % 33 = 0 THEN CAST(:now AS timestamp) - random() * interval '100 days' END,
       CAST(:now AS timestamp), CAST(:now AS timestamp)
FROM generate_series(1, :n) AS g
"""

# One member in a hundred erased their data (DELETE MY DATA): what privacy.erase_member_fields leaves.
SEED_ERASURES = """
UPDATE members SET phone = 'erased-' || id, name = NULL, gender = NULL, community = NULL, member_number = NULL,
       status = 'deleted',
       joined_at = date_trunc('day', joined_at AT TIME ZONE 'UTC' AT TIME ZONE :zone) AT TIME ZONE :zone AT TIME ZONE 'UTC'
WHERE id % 100 = 7
"""

SEED_WORK = """
INSERT INTO member_work (member_id, kind)
SELECT g, (CAST(:kinds AS text[]))[1 + (g % 97) % 7] FROM generate_series(1, :n) AS g
UNION
SELECT g, (CAST(:kinds AS text[]))[1 + (g / 3) % 7] FROM generate_series(1, :n) AS g WHERE g % 2 = 0
UNION
SELECT g, (CAST(:kinds AS text[]))[1 + (g / 11) % 7] FROM generate_series(1, :n) AS g WHERE g % 5 = 0
"""

SEED_COURSES = """
INSERT INTO courses (id, slug, url, hours, titles, summaries, position, active, updated_at)
SELECT c, 'course-' || c, 'https://www.linkedin.com/learning/paths/course-' || c, 4,
       json_build_object('en', 'Course ' || c, 'sw', 'Kozi ' || c), '{}'::json, c, true, CAST(:now AS timestamp)
FROM generate_series(1, 8) AS c
"""

# About 30 % of members enrolled in one course, 5 % in a second: 60 % still enrolled, 15 % reported,
# 5 % verified (waiting for a code), 20 % rewarded.
SEED_ENROLMENTS = """
INSERT INTO enrolments (member_id, course_id, status, enrolled_at)
SELECT g, c, (ARRAY['enrolled', 'enrolled', 'enrolled', 'enrolled', 'enrolled', 'enrolled', 'reported', 'reported',
                    'verified', 'rewarded', 'rewarded', 'rewarded'])[1 + floor(random() * 12)::int],
       CAST(:now AS timestamp) - (g % 300) * interval '1 day'
FROM generate_series(1, :n) AS g, LATERAL (SELECT 1 + g % 8 AS c UNION ALL SELECT 1 + (g + 3) % 8 WHERE g % 20 = 0) AS picks
WHERE g % 10 < 3 OR g % 20 = 0
"""

SEED_CERTIFICATES = """
INSERT INTO certificates (member_id, course_id, kind, link, certificate_key, status, download_attempts, created_at)
SELECT member_id, course_id, 'link', 'https://www.linkedin.com/learning/certificates/' || id, 'k' || id,
       CASE status WHEN 'reported' THEN 'pending' WHEN 'verified' THEN 'waiting' ELSE 'rewarded' END, 0, enrolled_at
FROM enrolments WHERE status <> 'enrolled'
"""

SEED_VOUCHERS = """
INSERT INTO vouchers (code, member_id, certificate_id, assigned_at, added_at)
SELECT 'CODE-' || c.id, c.member_id, c.id, c.created_at, c.created_at
FROM (SELECT DISTINCT ON (member_id) * FROM certificates WHERE status = 'rewarded' ORDER BY member_id, id) AS c
UNION ALL
SELECT 'FREE-' || g, NULL, NULL, NULL, CAST(:now AS timestamp) FROM generate_series(1, 500) AS g
"""


# The running counts of the members already there, by the rule of migration 0007 (counted: active, or joined
# and then erased; each one of active, opted out or erased).
COUNT_EXISTING = """
INSERT INTO member_tallies (county, gender, community, opted_out, erased, work, members)
SELECT coalesce(m.county, ''), coalesce(m.gender, ''), coalesce(m.community, ''),
       m.opted_out_at IS NOT NULL AND m.status = 'active', m.status = 'deleted', coalesce(w.work, ''), count(*)
FROM members AS m
LEFT JOIN (SELECT member_id, string_agg(kind, ',' ORDER BY kind) AS work FROM member_work GROUP BY member_id) AS w
       ON w.member_id = m.id
WHERE m.status = 'active' OR (m.status = 'deleted' AND m.joined_at IS NOT NULL)
GROUP BY 1, 2, 3, 4, 5, 6
"""

# New this week and this month counted by PostgreSQL's own calendar (date_trunc's weeks are ISO weeks,
# from Monday), independently of stats.period_starts.
NEW_BY_CALENDAR = """
SELECT count(*) FILTER (WHERE date_trunc('week', local) = date_trunc('week', today)),
       count(*) FILTER (WHERE date_trunc('month', local) = date_trunc('month', today))
FROM (SELECT joined_at AT TIME ZONE 'UTC' AT TIME ZONE :zone AS local,
             CAST(:now AS timestamp) AT TIME ZONE 'UTC' AT TIME ZONE :zone AS today
      FROM members WHERE status = 'active' OR (status = 'deleted' AND joined_at IS NOT NULL)) AS joins
WHERE local <= today
"""


def seed(members: int, now: datetime) -> None:
    """Build the schema and insert the members and their kinds of work, joined before `now`."""
    from flask_migrate import upgrade

    upgrade()
    zone = {"zone": current_app.config["TIMEZONE"]}
    started = time.perf_counter()
    with db.engine.begin() as connection:
        # Bulk load without the per-row triggers, then count once, as the migration does for existing members.
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        connection.execute(sa.text(SEED_MEMBERS), {"counties": list(COUNTIES), "n": members, "now": now})
        connection.execute(sa.text(SEED_ERASURES), zone)
        connection.execute(sa.text(SEED_WORK), {"kinds": [k for k, _ in WORK_KINDS], "n": members})
        connection.execute(sa.text("SELECT setval(pg_get_serial_sequence('members', 'id'), :n)"), {"n": members})
        connection.execute(sa.text(COUNT_EXISTING))
        connection.execute(sa.text(SEED_COURSES), {"now": now})
        connection.execute(sa.text(SEED_ENROLMENTS), {"n": members, "now": now})
        connection.execute(sa.text(SEED_CERTIFICATES))
        connection.execute(sa.text(SEED_VOUCHERS), {"now": now})
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE members"))
        connection.execute(sa.text("VACUUM ANALYZE member_work"))
        connection.execute(sa.text("VACUUM ANALYZE member_tallies"))
        for table in ("courses", "enrolments", "certificates", "vouchers"):
            connection.execute(sa.text(f"VACUUM ANALYZE {table}"))
    work_rows = db.session.scalar(sa.text("SELECT count(*) FROM member_work"))
    tally_rows = db.session.scalar(sa.text("SELECT count(*) FROM member_tallies"))
    enrolments = db.session.scalar(sa.text("SELECT count(*) FROM enrolments"))
    certificates = db.session.scalar(sa.text("SELECT count(*) FROM certificates"))
    db.session.rollback()
    print(f"seeded {members:,} members and {work_rows:,} kinds of work in {time.perf_counter() - started:.1f} s"
          f" ({tally_rows:,} rows of running counts; {enrolments:,} enrolments, {certificates:,} certificates)")


def check_against_live_counts(now: datetime) -> tuple[int, int]:
    """Every membership figure of the running counts equals counting the members themselves, under each
    filter, and new this week and month equal PostgreSQL's own calendar count; returns those two."""
    for args in FILTERS.values():
        f = stats.parse_filter(args)
        assert not isinstance(f, stats.FilterProblem)
        with stats.one_reading():
            running = (stats.totals(f, now), stats.counts_by(Member.county, f), stats.counts_by(Member.gender, f),
                       stats.counts_by(Member.community, f), stats.counts_by_work(f))
        counted = (stats.live_totals(f, now), stats.live_counts_by(Member.county, f),
                   stats.live_counts_by(Member.gender, f), stats.live_counts_by(Member.community, f),
                   stats.live_counts_by_work(f))
        for name, mine, theirs in zip(("totals", "county", "gender", "community", "work"), running, counted,
                                      strict=True):
            assert mine == theirs, f"{args or 'no filter'}, {name}: running counts {mine}, counting the members {theirs}"
    everyone = stats.totals(stats.StatsFilter(), now)
    week, month = db.session.execute(sa.text(NEW_BY_CALENDAR),
                                     {"zone": current_app.config["TIMEZONE"], "now": now}).one()
    assert (everyone.new_week, everyone.new_month) == (week, month), (everyone, week, month)
    db.session.rollback()
    return week, month


def answer(args: str) -> str:
    """The STATS answer as the staff member gets it."""
    found = stats.parse_filter(args)
    assert not isinstance(found, stats.FilterProblem), args
    g.pop("course_stats_snapshot", None)  # each answer reads the course numbers from Redis, as a request does
    text = "\n".join(i18n.render_reply("en", Reply.of(stats.report(found, NOW[0]))))
    db.session.rollback()
    return text


NOW: list[datetime] = []  # the moment the numbers are for (naive UTC), set by main


def measure(args: str, runs: int) -> list[float]:
    """Milliseconds per STATS answer, after two warm-up runs."""
    for _ in range(2):
        answer(args)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        answer(args)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure_course_sections(runs: int) -> list[float]:
    """Milliseconds for the course, certificate and voucher sections alone (read from Redis), unfiltered."""
    now, everyone = NOW[0], stats.StatsFilter()
    sections = (course_stats.course_section, course_stats.certificate_section, course_stats.voucher_section)
    timings = []
    for _ in range(runs + 2):
        g.pop("course_stats_snapshot", None)
        started = time.perf_counter()
        for section in sections:
            section(everyone, now)
        timings.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return timings[2:]


def measure_language_section(runs: int) -> list[float]:
    """Milliseconds for the "By language" section alone (read from Redis), unfiltered."""
    now, everyone = NOW[0], stats.StatsFilter()
    timings = []
    for _ in range(runs + 2):
        g.pop("language_stats", None)
        started = time.perf_counter()
        language_stats.language_section(everyone, now)
        timings.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return timings[2:]


def p95(values: list[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def moment(text: str | None) -> datetime:
    """--today ('YYYY-MM-DD' or 'YYYY-MM-DD HH:MM', TIMEZONE wall-clock time) as naive UTC; None: now."""
    if not text:
        return utcnow()
    return local_time.to_utc(datetime.fromisoformat(text))


def main() -> None:
    """Create the database, seed, check, measure, print, drop the database."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_stats")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--today", help="the moment the numbers are for, in TIMEZONE: 'YYYY-MM-DD[ HH:MM]'")
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse the members seeded there)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    options = parser.parse_args()
    app = create_app({"SQLALCHEMY_DATABASE_URI": options.database, "AUTO_MIGRATE": False, "TESTING": True,
                      "SECRET_KEY": "bench", "REDIS_URL": options.redis,
                      "SIMULATOR_ENABLED": False})
    app.instance_path = tempfile.mkdtemp()
    results: dict[str, float] = {}
    with scratch_database(options.database, keep=options.keep) as reuse, scratch_redis(options.redis), \
            app.app_context():
        try:
            NOW.append(moment(options.today))
            if not reuse:
                seed(options.members, NOW[0])
            today = local_time.to_local(NOW[0])
            new_week, new_month = check_against_live_counts(NOW[0])
            print(f"{today:%A %d %B %Y %H:%M} ({app.config['TIMEZONE']}): the running counts equal counting "
                  f"the members under every filter; new this week {new_week:,}, this month {new_month:,}")
            measure_all(options.runs, results)
        finally:
            db.session.remove()
            db.engine.dispose()  # no connection left, so the database can be dropped
    worst = max(v for k, v in results.items() if k.endswith("_p95_ms"))
    fields = " ".join(f"{k}={v:.1f}" for k, v in results.items())
    print(f"RESULT members={options.members} runs={options.runs} today={today:%Y-%m-%dT%H:%M} new_week={new_week} "
          f"new_month={new_month} counts_agree=yes {fields} worst_p95_ms={worst:.1f} "
          f"target_p95_ms=100 met={'yes' if worst <= 100 else 'no'}")


def median_counting_ms(count: Callable[[], object]) -> float:
    """The median milliseconds of three runs of a snapshot's counting (what the clock does)."""
    counting = []
    for _ in range(3):
        started = time.perf_counter()
        count()
        counting.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return statistics.median(counting)


def measure_all(runs: int, results: dict[str, float]) -> None:
    """Time counting the course numbers and the members per language, their sections and the STATS answer under
    each filter."""
    results["course_snapshot_count_ms"] = median_counting_ms(course_stats.refresh_snapshot)
    print(f"counting the course numbers (the clock, every two minutes): {results['course_snapshot_count_ms']:.0f} ms")
    results["language_snapshot_count_ms"] = median_counting_ms(language_stats.refresh_snapshot)
    print(f"counting the members per language (the clock, every two minutes): "
          f"{results['language_snapshot_count_ms']:.0f} ms")
    section = measure_language_section(runs)
    results["language_section_median_ms"], results["language_section_p95_ms"] = statistics.median(section), p95(section)
    print(f"the language section alone: median {results['language_section_median_ms']:.1f} ms, "
          f"p95 {results['language_section_p95_ms']:.1f} ms")
    sections = measure_course_sections(runs)
    results["course_sections_median_ms"], results["course_sections_p95_ms"] = statistics.median(sections), p95(sections)
    print(f"course, certificate and voucher sections alone: median {results['course_sections_median_ms']:.1f} ms, "
          f"p95 {results['course_sections_p95_ms']:.1f} ms")
    print(answer(""))
    print(f"({len(answer(''))} characters)")
    print(f"{'filter':<14}{'args':<26}{'median ms':>10}{'p95 ms':>10}")
    for name, args in FILTERS.items():
        timings = measure(args, runs)
        results[f"{name}_median_ms"] = statistics.median(timings)
        results[f"{name}_p95_ms"] = p95(timings)
        print(f"{name:<14}{args or '-':<26}{results[f'{name}_median_ms']:>10.1f}{results[f'{name}_p95_ms']:>10.1f}")


if __name__ == "__main__":
    main()
