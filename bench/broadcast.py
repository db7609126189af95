"""Broadcast benchmark: one broadcast to N members through the fake Twilio API at 150 ms latency.

Seeds N members (default 100,000) in PostgreSQL, starts the fake Twilio API (its own process) and K RQ
workers (default 2, their own processes), and measures:
- the time to resolve the audience (one INSERT … SELECT of N delivery rows);
- the sustained sends per second at 400/s over the whole broadcast, and at 80/s for a fixed time;
- the workers' peak memory (RSS sampled while they run);
- duplicates and missing recipients, from what the fake Twilio API recorded (both must be 0);
- a naive baseline in the same run: one RQ job per message, no batching, no concurrency, the Twilio SDK.

    python bench/broadcast.py [--members 100000] [--workers 2] [--latency 0.15] [--low-seconds 20]
                              [--baseline-seconds 20] [--database URL] [--redis URL]

Creates its own database (`--database`, default `bench_broadcast`), builds it with the migrations and drops
it at the end, also after a failure; empties its own Redis database (`--redis`, default db 12) before and
after. It prints figures; the last line is
`RESULT key=value …`. This machine is shared and noisy: read the figures as indications.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNT_SID = "AC" + "b" * 32
TOKEN = "bench-token"
LOG = Path(os.environ.get("TMPDIR", "/tmp")) / "bench-broadcast-workers.log"
TEMPLATES = {"broadcast": {"en": "HXbench_en", "sw": "HXbench_sw"}}
WORKER = ("from bot import create_app\nfrom bot.core import jobs\napp = create_app()\nwith app.app_context():\n"
          "    jobs.work(['bulk'], burst=True)\n")


def naive_send(delivery_id: int) -> str:
    """The baseline: one job per message, claim one row, one SDK call, one write."""
    from flask import current_app

    from bot.core.extensions import db
    from bot.whatsapp.sending import acquire
    from bot.whatsapp.twilio_api import make_client

    try:
        row = db.session.execute(sa.text(
            "UPDATE broadcast_deliveries d SET status = 'sending' FROM members m "
            "WHERE d.id = :id AND d.status = 'queued' AND m.id = d.member_id RETURNING m.phone"), {"id": delivery_id}
        ).first()
        db.session.commit()
        if row is None:
            return "taken"
        sender = current_app.config["TWILIO_WHATSAPP_FROM"]
        acquire(sender)
        created = make_client().messages.create(to=f"whatsapp:{row.phone}", from_=sender, body="Naive")
        db.session.execute(sa.text("UPDATE broadcast_deliveries SET status = 'accepted', twilio_sid = :sid "
                                   "WHERE id = :id"), {"id": delivery_id, "sid": created.sid})
        db.session.commit()
        return "sent"
    finally:
        db.session.remove()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(n: int) -> None:
    """N active members: a third in Swahili, a tenth outside the 24-hour window (they get the template)."""
    from bot.core.extensions import db

    db.session.execute(sa.text("""
        INSERT INTO members (phone, status, county, language, joined_at, consent_at, last_inbound_at, created_at,
                             updated_at)
        SELECT '+2547' || lpad(g::text, 8, '0'), 'active', CASE WHEN g % 2 = 0 THEN 'Nairobi' ELSE 'Kisumu' END,
               CASE WHEN g % 3 = 0 THEN 'sw' ELSE 'en' END, now() - interval '30 days', now() - interval '30 days',
               CASE WHEN g % 10 = 0 THEN now() - interval '3 days' ELSE now() - interval '1 hour' END, now(), now()
        FROM generate_series(1, :n) AS g"""), {"n": n})
    db.session.execute(sa.text("INSERT INTO member_work (member_id, kind) SELECT id, 'delivery' FROM members"))
    db.session.commit()


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Fake:
    """The fake Twilio API in its own process, driven over its /_fake endpoints."""

    def __init__(self, latency: float) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.devtools.fake_twilio", "--port", str(self.port), "--latency", str(latency),
             "--account-sid", ACCOUNT_SID, "--auth-token", TOKEN, "--callback-statuses", "", "--log-level", "WARNING"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL)
        for _ in range(100):
            try:
                requests.get(self.base + "/_fake/stats", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("the fake Twilio API did not start")

    def accepted(self) -> int:
        return requests.get(self.base + "/_fake/stats", timeout=10).json()["accepted"]

    def recipients(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        offset = 0
        while True:
            page = requests.get(self.base + "/_fake/messages", params={"offset": offset, "limit": 20000},
                                timeout=60).json()
            counts.update(m["to"] for m in page)
            offset += len(page)
            if len(page) < 20000:
                return counts

    def reset(self) -> None:
        requests.post(self.base + "/_fake/reset", timeout=10)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def run_workers(env: dict[str, str], k: int, *, stop_after: float | None, on_stop=None, fake: Fake) -> dict:
    """Start K burst workers, sample the fake's count and their memory until they exit (or `stop_after`)."""
    log = open(LOG, "a")  # noqa: SIM115  (the workers' own logs, out of the way of the figures)
    workers = [subprocess.Popen([sys.executable, "-c", WORKER], env=env, cwd=ROOT, stdout=log, stderr=log)
               for _ in range(k)]
    samples: list[tuple[float, int]] = []
    peak = 0
    started = time.monotonic()
    stopped = False
    while any(w.poll() is None for w in workers):
        peak = max(peak, *(rss_kb(w.pid) for w in workers))
        samples.append((time.monotonic(), fake.accepted()))
        if stop_after is not None and not stopped and time.monotonic() - started > stop_after:
            on_stop()
            stopped = True
        time.sleep(0.5)
    samples.append((time.monotonic(), fake.accepted()))
    return {"samples": samples, "peak_rss_mb": peak / 1024}


def sustained(samples: list[tuple[float, int]]) -> float:
    """Sends per second between 10% and 90% of the messages (ramp-up and tail left out)."""
    total = samples[-1][1]
    if total < 10:
        return 0.0
    lo = next(s for s in samples if s[1] >= total * 0.1)
    hi = next(s for s in samples if s[1] >= total * 0.9)
    return (hi[1] - lo[1]) / (hi[0] - lo[0]) if hi[0] > lo[0] else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--low-seconds", type=float, default=20.0, help="how long to measure at 80/s")
    parser.add_argument("--baseline-seconds", type=float, default=20.0)
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_broadcast")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    from bot.devtools.database import scratch_database, scratch_redis

    with scratch_database(args.database), scratch_redis(args.redis):
        return measure(args, args.database, args.redis)


def measure(args: argparse.Namespace, database: str, redis_url: str) -> int:
    """Seed, then the broadcast at 400/s, at 80/s and the naive baseline; print the figures."""
    fake = Fake(args.latency)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database, "REDIS_URL": redis_url,
           "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_API_BASE_URL": fake.base,
           "PUBLIC_URL": "http://127.0.0.1:9", "AUTO_MIGRATE": "0", "WHATSAPP_TEMPLATES": json.dumps(TEMPLATES),
           "SEND_CONCURRENCY": str(args.concurrency), "BROADCAST_JOBS": str(args.workers),
           "BROADCAST_BATCH_SIZE": str(args.concurrency * 8), "TWILIO_HTTP_TIMEOUT": "10"}
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
                                           "TWILIO_API_BASE_URL", "PUBLIC_URL", "AUTO_MIGRATE", "WHATSAPP_TEMPLATES",
                                           "BROADCAST_JOBS")}, SEND_RATE_PER_SECOND="400")
    from flask_migrate import upgrade

    from bot import create_app
    from bot.broadcasts import service as broadcasts
    from bot.core.extensions import db
    from bot.core.queues import queue
    from bot.models import Broadcast

    app = create_app()
    try:
        with app.app_context():
            upgrade()
            began = time.monotonic()
            seed(args.members)
            print(f"seeded {args.members} members in {time.monotonic() - began:.1f}s", flush=True)

            # 1. The broadcast at 400/s: resolve, then send to everyone.
            broadcast = broadcasts.create({"en": "Union meeting on Saturday at 10",
                                           "sw": "Mkutano wa chama Jumamosi saa nne"})
            print(f"preview: {broadcasts.preview(broadcast)}", flush=True)
            broadcast.status = "running"
            db.session.commit()
            began = time.monotonic()
            audience = broadcasts.resolve(broadcast.id)
            resolve_s = time.monotonic() - began
            print(f"resolved {audience} deliveries in {resolve_s:.2f}s", flush=True)
            broadcasts.launch(broadcast.id, jobs=args.workers)
        high = run_workers({**env, "SEND_RATE_PER_SECOND": "400"}, args.workers, stop_after=None, fake=fake)
        rate_400 = sustained(high["samples"])
        counts = fake.recipients()
        duplicates = sum(c - 1 for c in counts.values() if c > 1)
        missing = args.members - len(counts)
        elapsed = high["samples"][-1][0] - high["samples"][0][0]
        print(f"400/s: {sum(counts.values())} messages in {elapsed:.1f}s, sustained {rate_400:.1f}/s "
              f"({rate_400 / 4:.1f}% of 400), peak worker RSS {high['peak_rss_mb']:.0f} MB, "
              f"duplicates {duplicates}, missing {missing}", flush=True)
        with app.app_context():
            status = db.session.get(Broadcast, broadcast.id).status
            print(f"broadcast status: {status}; figures: {broadcasts.figures(broadcast.id).counts}", flush=True)

            # 2. At 80/s for a fixed time, then cancelled.
            fake.reset()
            low_broadcast = broadcasts.create("Second notice")
            broadcasts.send(low_broadcast.id)
            low_id = low_broadcast.id

        def cancel_low() -> None:
            with app.app_context():
                broadcasts.cancel(low_id)

        low = run_workers({**env, "SEND_RATE_PER_SECOND": "80"}, args.workers, stop_after=args.low_seconds,
                          on_stop=cancel_low, fake=fake)
        rate_80 = sustained(low["samples"])
        print(f"80/s: sustained {rate_80:.1f}/s ({rate_80 / 0.8:.1f}% of 80)", flush=True)

        # 3. The naive baseline: one RQ job per message, no batching, no concurrency, the SDK.
        fake.reset()
        with app.app_context():
            naive = broadcasts.create("Naive")
            naive.status = "running"
            db.session.commit()
            broadcasts.resolve(naive.id)
            ids = db.session.scalars(sa.text("SELECT id FROM broadcast_deliveries WHERE broadcast_id = :b "
                                             "ORDER BY id LIMIT 4000"), {"b": naive.id}).all()
            bulk = queue("bulk")
            job = importlib.import_module("bench.broadcast").naive_send  # importable by the workers
            bulk.enqueue_many([bulk.prepare_data(job, (i,)) for i in ids])

        def stop_naive() -> None:
            with app.app_context():
                queue("bulk").empty()

        base = run_workers({**env, "SEND_RATE_PER_SECOND": "400"}, args.workers, stop_after=args.baseline_seconds,
                           on_stop=stop_naive, fake=fake)
        rate_naive = sustained(base["samples"])
        ratio = rate_400 / rate_naive if rate_naive else 0.0
        print(f"naive baseline: {rate_naive:.1f}/s; the pipeline is {ratio:.1f}x faster", flush=True)
        print(f"RESULT members={args.members} workers={args.workers} latency_ms={args.latency * 1000:.0f} "
              f"resolve_s={resolve_s:.2f} rate_400={rate_400:.1f} pct_400={rate_400 / 4:.1f} rate_80={rate_80:.1f} "
              f"pct_80={rate_80 / 0.8:.1f} peak_worker_rss_mb={high['peak_rss_mb']:.0f} duplicates={duplicates} "
              f"missing={missing} naive_rate={rate_naive:.1f} ratio={ratio:.1f}", flush=True)
    finally:
        fake.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()  # no connection left, so the database can be dropped
    return 0


if __name__ == "__main__":
    sys.exit(main())
