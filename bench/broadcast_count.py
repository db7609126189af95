"""The composer's live recipient count: latency of GET /admin/broadcasts/count over 1,000,000 members.

    python bench/broadcast_count.py [--database URL] [--redis URL] [--members 1000000] [--runs 20] [--keep]

Seeds members as `bench/stats.py` does (it DROPS every table of the database: point it at a scratch
one), signs in an organiser and times the whole request (segment form, the broadcast service's preview
query, JSON) for a few segments. Prints figures; the last line is `RESULT key=value …` (milliseconds).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from stats import p95, seed  # noqa: E402

from bot import create_app  # noqa: E402

SEGMENTS = {
    "everyone": "",
    "county": "county=Nairobi",
    "small_county": "county=Lamu",
    "work_language": "work=transcription&language=sw",
    "counties_joined": "county=Mombasa&county=Kisumu&joined_after=2025-06-01",
}


def main() -> None:
    """Seed, sign in, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/test_i5c")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="reuse the members already seeded")
    options = parser.parse_args()
    app = create_app({"SQLALCHEMY_DATABASE_URI": options.database, "AUTO_MIGRATE": False, "TESTING": True,
                      "SECRET_KEY": "bench", "REDIS_URL": options.redis, "SIMULATOR_ENABLED": False,
                      "DASHBOARD_LOGIN_LIMIT": "1000 per minute"})
    app.instance_path = tempfile.mkdtemp()
    with app.app_context():
        from bot.dashboard.users import create_user

        if not options.keep:
            seed(options.members)
        email = f"bench-{time.time_ns()}@example.org"
        create_user(email, "a long bench password", "organiser")
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    signed = client.post("/admin/login", data={"email": email, "password": "a long bench password", "csrf_token": token})
    assert signed.status_code == 302, signed.status_code
    results: dict[str, float] = {}
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
    worst = max(v for k, v in results.items() if k.endswith("_p95_ms"))
    fields = " ".join(f"{k}={v:.1f}" for k, v in results.items())
    print(f"RESULT members={options.members} runs={options.runs} {fields} worst_p95_ms={worst:.1f}")


if __name__ == "__main__":
    main()
