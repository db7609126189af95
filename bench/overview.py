"""The dashboard's overview: latency of GET /admin/ over 1,000,000 members, without dates (the running
counts) and over a range of joining days (counted from the members table).

    python bench/overview.py [--database URL] [--redis URL] [--members 1000000] [--runs 20] [--keep]

Creates its own database (`--database`, default `bench_overview`; dropped at the end, also after a
failure; `--keep` leaves it and a later `--keep` run reuses its members) and empties its own Redis database
(`--redis`) before and after, seeds members as `bench/stats.py` does (joined over the two years before
now), signs in an organiser and times the whole page (every figure and chart, rendered) for each filter.
Prints figures; the last line is `RESULT key=value …` (milliseconds).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dashboard_bench import options_of, organiser, run  # noqa: E402
from stats import p95, seed  # noqa: E402

from bot.core.local_time import zone  # noqa: E402
from bot.models import utcnow  # noqa: E402


def filters(today: date) -> dict[str, str]:
    """The overview's query strings, by name: no dates, then ranges of joining days up to today."""
    month, year = (today - timedelta(days=30)).isoformat(), (today - timedelta(days=365)).isoformat()
    return {
        "no_dates": "",
        "no_dates_county": "county=Nairobi",
        "month": f"from={month}&to={today}",
        "year": f"from={year}&to={today}",
        "month_county": f"county=Nairobi&from={month}&to={today}",
        "month_work": f"work=transcription&from={month}&to={today}",
        "year_county_work": f"county=Mombasa&work=ride_delivery&from={year}&to={today}",
    }


def main() -> None:
    """Seed, sign in, measure, print."""
    options = options_of(__doc__, "bench_overview", 1_000_000)
    results: dict[str, float] = {}
    run(options, lambda app, reuse: measure(app, options, reuse, results))
    worst = max(v for k, v in results.items() if k.endswith("_p95_ms") and not k.startswith("no_dates"))
    fields = " ".join(f"{k}={v:.1f}" for k, v in results.items())
    print(f"RESULT members={options.members} runs={options.runs} {fields} worst_range_p95_ms={worst:.1f}")


def measure(app, options: argparse.Namespace, reuse: bool, results: dict[str, float]) -> None:
    """Seed (unless reused), sign in an organiser and time the overview for each filter."""
    if not reuse:
        with app.app_context():
            seed(options.members, utcnow())
    client = organiser(app)
    with app.app_context():
        today = datetime.now(zone()).date()
    print(f"{'filter':<18}{'members':>12}{'median ms':>11}{'p95 ms':>9}")
    for name, query in filters(today).items():
        timings = []
        for _ in range(options.runs + 2):
            started = time.perf_counter()
            response = client.get(f"/admin/?{query}")
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.get_data(as_text=True)
        timings = timings[2:]  # after two warm-up runs
        members = re.search(r"<b>([\d,]+)</b> members", response.get_data(as_text=True)).group(1)
        results[f"{name}_median_ms"] = statistics.median(timings)
        results[f"{name}_p95_ms"] = p95(timings)
        print(f"{name:<18}{members:>12}{results[f'{name}_median_ms']:>11.1f}{results[f'{name}_p95_ms']:>9.1f}")


if __name__ == "__main__":
    main()
