"""Courses benchmark: what the course facts add to every inbound message, how fast officers' approvals
go when many run at once (and that each member still gets one voucher), and how long the reminder
sweep takes for many enrolments.

    python bench/courses.py [--database-url URL] [--redis-url URL] [--members 2000] [--threads 8]

The database's `public` schema is dropped and rebuilt by the migrations, and the Redis database is
flushed: give it ones nobody else uses. Prints figures; the last line is `RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bot import create_app  # noqa: E402
from bot.core.extensions import db  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_courses")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "REDIS_URL": args.redis_url, "AUTO_MIGRATE": False,
                      "TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None, "QUIET_HOURS": "",
                      "STORAGE_DIR": tempfile.mkdtemp(), "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": args.threads + 2}})
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        upgrade()
        from bot.core.redis_conn import connect

        connect().flushdb()
        figures = run(app, args.members, args.threads)
        connect().flushdb()
    print("RESULT " + " ".join(f"{k}={v}" for k, v in figures.items()))


def run(app, members: int, threads: int) -> dict[str, object]:
    from bot.certificates.service import approve_certificate, import_vouchers
    from bot.courses.reminders import sweep
    from bot.courses.service import FACT_LOADERS, load_catalog
    from bot.models import Certificate, Course, Enrolment, Member, Voucher, utcnow

    load_catalog()
    courses = db.session.scalars(sa.select(Course.id)).all()
    now = utcnow()
    db.session.execute(sa.insert(Member), [
        {"phone": f"+2547{n:08d}", "status": "active", "language": "en", "member_number": f"B-{n:06d}",
         "created_at": now, "updated_at": now, "last_inbound_at": now} for n in range(members)])
    ids = db.session.scalars(sa.select(Member.id).order_by(Member.id)).all()
    db.session.execute(sa.insert(Enrolment), [
        {"member_id": m, "course_id": courses[i % len(courses)], "status": "enrolled",
         "enrolled_at": now - timedelta(days=3, hours=i % 48)} for i, m in enumerate(ids)])
    db.session.commit()

    # 1. The course facts a course flow reads (catalog + the member's enrolments), loaded on first use.
    member = db.session.get(Member, ids[0])
    samples = []
    for _ in range(300):
        start = time.perf_counter()
        {name: load(member) for name, load in FACT_LOADERS.items()}
        samples.append((time.perf_counter() - start) * 1000)
    facts_median = statistics.median(samples)
    facts_p95 = sorted(samples)[int(len(samples) * 0.95)]
    print(f"course facts per message: median {facts_median:.2f} ms, p95 {facts_p95:.2f} ms")

    # 2. The reminder sweep over every enrolment (all due: each reminder is queued once).
    start = time.perf_counter()
    queued = sweep()
    sweep_ms = (time.perf_counter() - start) * 1000
    print(f"reminder sweep: {members} enrolments, {queued} reminders queued in {sweep_ms:.0f} ms")

    # 3. Approvals from many threads at once: half the reports get a voucher, the pool then runs dry.
    reports = []
    for n, m in enumerate(ids[: members // 2]):
        reports.append(Certificate(member_id=m, course_id=courses[n % len(courses)], kind="link",
                                   link=f"https://www.linkedin.com/learning/certificates/b{n}", certificate_key=f"b{n}",
                                   status="pending", created_at=now))
    db.session.add_all(reports)
    db.session.commit()
    report_ids = [r.id for r in reports]
    codes = Path(tempfile.mkdtemp()) / "codes.csv"
    codes.write_text("code\n" + "".join(f"V{n:06d}\n" for n in range(len(report_ids) // 2)), encoding="utf-8")
    import_vouchers(codes)
    db.session.commit()
    db.session.remove()
    # Every report is approved twice, by two threads, in an interleaved order.
    work = report_ids + report_ids[::-1]
    chunks = [work[i::threads] for i in range(threads)]
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def approve(chunk: list[int], n: int) -> None:
        with app.app_context():
            for report_id in chunk:
                status = approve_certificate(report_id, reviewer=f"+25473{n:07d}").status
                db.session.commit()
                with lock:
                    outcomes[status] = outcomes.get(status, 0) + 1
            db.session.remove()

    start = time.perf_counter()
    workers = [threading.Thread(target=approve, args=(chunk, n)) for n, chunk in enumerate(chunks)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    given = db.session.scalar(sa.select(sa.func.count()).where(Voucher.member_id.is_not(None)))
    holders = db.session.scalar(sa.select(sa.func.count(sa.distinct(Voucher.member_id))))
    rate = len(work) / elapsed
    print(f"approvals: {len(work)} attempts on {len(report_ids)} reports by {threads} threads in {elapsed:.1f} s "
          f"({rate:.0f}/s); outcomes {outcomes}; vouchers given {given} to {holders} members")
    assert given == holders == len(report_ids) // 2, "a voucher was given twice"
    return {"facts_median_ms": f"{facts_median:.2f}", "facts_p95_ms": f"{facts_p95:.2f}",
            "sweep_ms": f"{sweep_ms:.0f}", "approvals_per_s": f"{rate:.0f}", "vouchers_given": given}


if __name__ == "__main__":
    main()
