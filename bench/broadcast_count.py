"""The composer's live recipient count: latency of GET /admin/broadcasts/count over 1,000,000 members.

    python bench/broadcast_count.py [--database URL] [--redis URL] [--members 1000000] [--runs 20] [--keep]

Creates its own database (`--database`, default `bench_broadcast_count`; dropped at the end, also after a
failure; `--keep` leaves it and a later `--keep` run reuses its members) and empties its own Redis database
(`--redis`) before and after, seeds members as `bench/stats.py` does, signs in an organiser and times the whole request (segment form, the broadcast service's preview
query, JSON) for a few segments. Prints figures; the last line is `RESULT key=value …` (milliseconds).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dashboard_bench import options_of, organiser, run  # noqa: E402
from stats import p95, seed  # noqa: E402

from bot.models import utcnow  # noqa: E402

SEGMENTS = {
    "everyone": "",
    "county": "county=Nairobi",
    "small_county": "county=Lamu",
    "work_language": "work=transcription&language=sw",
    "counties_joined": "county=Mombasa&county=Kisumu&joined_after=2025-06-01",
}


def main() -> None:
    """Seed, sign in, measure, print."""
    options = options_of(__doc__, "bench_broadcast_count", 1_000_000)
    results: dict[str, float] = {}
    run(options, lambda app, reuse: measure(app, options, reuse, results))
    worst = max(v for k, v in results.items() if k.endswith("_p95_ms"))
    fields = " ".join(f"{k}={v:.1f}" for k, v in results.items())
    print(f"RESULT members={options.members} runs={options.runs} {fields} worst_p95_ms={worst:.1f}")


def measure(app, options: argparse.Namespace, reuse: bool, results: dict[str, float]) -> None:
    """Seed (unless reused), sign in an organiser and time the count for each segment."""
    if not reuse:
        with app.app_context():
            seed(options.members, utcnow())
    client = organiser(app)
    print(f"{'segment':<18}{'matched':>12}{'median ms':>11}{'p95 ms':>9}")
    for name, query in SEGMENTS.items():
        timings = []
        for _ in range(options.runs):
            started = time.perf_counter()
            response = client.get(f"/admin/broadcasts/count?{query}")
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.get_data(as_text=True)
        results[f"{name}_median_ms"] = statistics.median(timings)
        results[f"{name}_p95_ms"] = p95(timings)
        print(f"{name:<18}{response.get_json()['matched']:>12,}{results[f'{name}_median_ms']:>11.1f}"
              f"{results[f'{name}_p95_ms']:>9.1f}")


if __name__ == "__main__":
    main()
