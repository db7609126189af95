"""Campaign results: latency of a broadcast's results page and of the comparison of the last ten broadcasts.

    python bench/campaign_results.py [--database URL] [--redis URL] [--members 100000] [--runs 20] [--keep]

Creates its own database (`--database`, default `bench_campaign_results`; dropped at the end, also after a
failure; `--keep` leaves it and a later `--keep` run reuses it) and empties its own Redis database (`--redis`)
before and after. Seeds members as `bench/stats.py` does, one broadcast to every member (a spread of sent,
delivered, read and failed over its first day) with a reply from one member in ten, inbound messages that are
no replies (before the start, a day too late), and nine smaller broadcasts before it; signs in an organiser
and times the whole request of each page. Prints figures; the last line is `RESULT key=value …` (milliseconds).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from dashboard_bench import options_of, organiser, run  # noqa: E402
from stats import p95, seed  # noqa: E402

from bot.core.extensions import db  # noqa: E402
from bot.models import utcnow  # noqa: E402

SEED_BROADCASTS = """
INSERT INTO broadcasts (id, texts, segment, status, started_at, finished_at, audience, created_at)
SELECT b, json_build_object('en', 'Bench broadcast ' || b), '{}', 'done', :start - (10 - b) * interval '2 days',
       :start - (10 - b) * interval '2 days' + interval '1 hour', NULL, :start - (10 - b) * interval '2 days'
FROM generate_series(1, 10) AS b
"""
# Broadcast 10 goes to everyone, the others to one member in ten; the status and its time follow the id.
SEED_DELIVERIES = """
INSERT INTO broadcast_deliveries (broadcast_id, member_id, status, status_rank, error_code, reason, attempts, lookups,
                                  updated_at)
SELECT b.id, m.id,
       (ARRAY['read', 'read', 'delivered', 'delivered', 'sent', 'failed', 'read', 'delivered', 'skipped', 'read'])[m.id % 10 + 1],
       0, CASE WHEN m.id % 10 = 5 THEN 63024 END, CASE WHEN m.id % 10 = 5 THEN '63024' END, 1, 0,
       b.started_at + (m.id % 1440) * interval '1 minute'
FROM broadcasts AS b JOIN members AS m ON b.id = 10 OR m.id % 10 = b.id % 10
"""
# The times of the steps each delivery reached, also following the id: sent within the first hour, delivered
# within the first twelve, read at its latest status; `None` empties them, as on deliveries from before they
# were kept (migration 0021), which the results page counts the approximate way.
STEP_TIMES = """
UPDATE broadcast_deliveries AS d
SET sent_at = CASE WHEN :timed AND d.status IN ('sent', 'delivered', 'read')
                   THEN b.started_at + (d.member_id % 60) * interval '1 minute' END,
    delivered_at = CASE WHEN :timed AND d.status IN ('delivered', 'read')
                        THEN b.started_at + (d.member_id % 720) * interval '1 minute' END,
    read_at = CASE WHEN :timed AND d.status = 'read' THEN d.updated_at END
FROM broadcasts AS b WHERE b.id = d.broadcast_id
"""
SEED_MESSAGES = """
INSERT INTO messages (member_id, direction, channel, body, status, status_rank, created_at, updated_at)
SELECT d.member_id, 'in', 'whatsapp', kind.body, 'received', 0, d.updated_at + kind.after, d.updated_at + kind.after
FROM broadcast_deliveries AS d
CROSS JOIN (VALUES ('Asante, nitakuja', interval '20 minutes', 0), ('an earlier question', interval '-3 days', 1),
                   ('a day too late', interval '30 hours', 2)) AS kind(body, after, n)
WHERE d.broadcast_id = 10 AND (d.member_id / 10) % 3 = kind.n AND d.member_id % 100 < 30
"""


def main() -> None:
    """Seed, sign in, measure, print."""
    options = options_of(__doc__, "bench_campaign_results", 100_000)
    results: dict[str, float | int] = {}
    run(options, lambda app, reuse: measure(app, options, reuse, results))
    fields = " ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in results.items())
    print(f"RESULT members={options.members} runs={options.runs} {fields}")


def seed_broadcasts() -> None:
    """Ten broadcasts, their deliveries and the inbound messages around them."""
    start = utcnow() - timedelta(days=3)
    started = time.perf_counter()
    with db.engine.begin() as connection:
        connection.execute(sa.text(SEED_BROADCASTS), {"start": start})
        connection.execute(sa.text("SELECT setval(pg_get_serial_sequence('broadcasts', 'id'), 10)"))
        connection.execute(sa.text(SEED_DELIVERIES))
        connection.execute(sa.text(SEED_MESSAGES))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("broadcasts", "broadcast_deliveries", "messages"):
            connection.execute(sa.text(f"VACUUM ANALYZE {table}"))
    deliveries = db.session.scalar(sa.text("SELECT count(*) FROM broadcast_deliveries"))
    messages = db.session.scalar(sa.text("SELECT count(*) FROM messages"))
    db.session.rollback()
    print(f"seeded {deliveries:,} deliveries of 10 broadcasts and {messages:,} inbound messages"
          f" in {time.perf_counter() - started:.1f} s")


def measure(app, options: argparse.Namespace, reuse: bool, results: dict[str, float | int]) -> None:
    """Seed (unless reused), sign in an organiser and time both pages."""
    with app.app_context():
        if not reuse:
            seed(options.members, utcnow())
            seed_broadcasts()
        results["deliveries"] = db.session.scalar(sa.text("SELECT count(*) FROM broadcast_deliveries WHERE broadcast_id = 10"))
        db.session.rollback()
    client = organiser(app)
    print(f"{'page':<16}{'median ms':>11}{'p95 ms':>9}")
    pages = (("results", "/admin/broadcasts/10/results"), ("compare", "/admin/broadcasts/compare"),
             ("results_untimed", "/admin/broadcasts/10/results"))
    for name, url in pages:
        if name.startswith("results"):
            set_step_times(app, timed=name == "results")
        timings = []
        for _ in range(options.runs):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        html = response.get_data(as_text=True)
        if name == "results":
            results["replies"] = int(re.search(r'id="total-replies">(\d+)<', html).group(1))
            assert "funnel-approximate" not in html
        elif name == "results_untimed":
            assert 'id="funnel-approximate"' in html
        else:
            assert html.count('class="compared"') == 10
        results[f"{name}_median_ms"] = statistics.median(timings)
        results[f"{name}_p95_ms"] = p95(timings)
        print(f"{name:<16}{results[f'{name}_median_ms']:>11.1f}{results[f'{name}_p95_ms']:>9.1f}")


def set_step_times(app, timed: bool) -> None:
    """Give every delivery its step times, or empty them."""
    with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text(STEP_TIMES), {"timed": timed})
        connection.execute(sa.text("VACUUM ANALYZE broadcast_deliveries"))


if __name__ == "__main__":
    main()
