"""Broadcasts: segments and preview, the window/template choice, exactly once under racing and killed
workers, Twilio's errors, opt-out mid-broadcast, pause/resume/cancel, quiet hours, scheduling, callbacks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.broadcasts import service as broadcasts
from bot.core.extensions import db
from bot.devtools.simulator import INBOUND_PATH
from bot.models import (
    Broadcast,
    BroadcastDelivery,
    ConsentEvent,
    Course,
    Enrolment,
    Member,
    utcnow,
)
from bot.whatsapp import sending
from flows.broadcast import SEGMENT_NAMES
from tests.helpers.app import AUTH_TOKEN, DATABASE_URL, REDIS_URL, TWILIO_ACCOUNT_SID, WhatsApp
from tests.helpers.broadcasts import OLD, add_members, running_broadcast_to

ROOT = Path(__file__).resolve().parent.parent


def deliveries(app) -> dict[int, BroadcastDelivery]:
    """Every delivery row by member id."""
    with app.app_context():
        rows = db.session.scalars(sa.select(BroadcastDelivery)).all()
        for row in rows:
            db.session.expunge(row)
        return {row.member_id: row for row in rows}


def start(app, english: str = "Meeting on Saturday", texts: dict[str, str] | None = None, **kwargs) -> int:
    """Create and confirm a broadcast (in English and Swahili unless `texts` says); returns its id."""
    with app.app_context():
        broadcast = broadcasts.create({"en": english, **({"sw": "Mkutano Jumamosi"} if texts is None else texts)},
                                      **kwargs)
        assert broadcasts.send(broadcast.id) in {"running", "scheduled"}
        return broadcast.id


def status_of(app, broadcast_id: int) -> str:
    with app.app_context():
        return db.session.get(Broadcast, broadcast_id).status


def test_the_flow_offers_exactly_the_segment_filters_the_service_applies():
    assert set(SEGMENT_NAMES) == set(broadcasts.SEGMENT_FILTERS)
    assert len(SEGMENT_NAMES) == len(set(SEGMENT_NAMES))


def test_segments_and_preview_counts(app):
    with app.app_context():
        early = datetime(2026, 1, 1)
        add_members(3, start=0, county="Nairobi", work=("delivery", "taxi"), gender="female", joined=early)
        add_members(2, start=10, county="Nairobi", language="sw", last_inbound=OLD, work=("taxi",))
        add_members(1, start=20, county="Nairobi", last_inbound=None, community="mtaani")
        add_members(2, start=30, county="Nairobi", opted_out=True)
        add_members(4, start=40, county="Mombasa")
        add_members(1, start=50, county="Nairobi", status="prospect")
        app.config["WHATSAPP_TEMPLATES"] = {"broadcast": {"sw": "HXsw"}}
        try:
            b = broadcasts.create({"en": "Hello", "sw": "Habari"}, segment={"county": ["Nairobi"]})
            p = broadcasts.preview(b)
            assert (p.matched, p.opted_out, p.inside_window, p.template, p.no_template) == (8, 2, 3, 2, 1)
            assert p.recipients == 5 and p.seconds == pytest.approx(5 / app.config["SEND_RATE_PER_SECOND"])
            taxi = broadcasts.preview(broadcasts.create("x", segment={"work": ["taxi"], "county": "Nairobi"}))
            assert taxi.matched == 5
            assert broadcasts.preview(broadcasts.create("x", segment={"language": ["sw"]})).matched == 2
            assert broadcasts.preview(broadcasts.create("x", segment={"gender": ["female"]})).matched == 3
            assert broadcasts.preview(broadcasts.create("x", segment={"community": "mtaani"})).matched == 1
            assert broadcasts.preview(broadcasts.create("x", segment={"status": ["prospect"]})).matched == 1
            before = broadcasts.create("x", segment={"joined_before": date(2026, 2, 1).isoformat()})
            after = broadcasts.create("x", segment={"joined_after": "2026-02-01"})
            assert (broadcasts.preview(before).matched, broadcasts.preview(after).matched) == (3, 9)
            with pytest.raises(ValueError):
                broadcasts.create("x", segment={"shoe_size": 42})
            # The audience: one row per reachable member, and resolving again adds nothing.
            assert broadcasts.resolve(b.id) == 6
            assert broadcasts.resolve(b.id) == 6
        finally:
            app.config["WHATSAPP_TEMPLATES"] = {}


def test_members_who_erased_their_data_are_never_in_an_audience(app):
    from bot.privacy import service as privacy
    from bot.stats import service as stats

    with app.app_context():
        kept = add_members(2, start=0, county="Nairobi")
        erased = add_members(2, start=10, county="Nairobi") + add_members(1, start=20, county="Nairobi", opted_out=True)
        for member_id in erased:
            privacy.erase_member(db.session.get(Member, member_id))
        db.session.commit()
        assert stats.totals(stats.StatsFilter(county="Nairobi"), utcnow()).erased == 3  # still counted
        for segment in ({}, {"county": ["Nairobi"]}, {"status": ["deleted"]}, {"status": ["active", "deleted"]}):
            b = broadcasts.create("Hello", segment=segment)
            assert broadcasts.preview(b).matched == (0 if segment.get("status") == ["deleted"] else 2), segment
            broadcasts.resolve(b.id)
            audience = db.session.scalars(sa.select(BroadcastDelivery.member_id)
                                          .where(BroadcastDelivery.broadcast_id == b.id)).all()
            assert set(audience) <= set(kept), segment


def test_course_segments_enrolled_completed_and_not_completed(app):
    with app.app_context():
        for slug, position in (("generative-ai", 1), ("data-analysis", 2)):
            db.session.add(Course(slug=slug, url=f"https://example.org/{slug}", titles={"en": slug}, summaries={},
                                  position=position))
        db.session.flush()
        ai, data = db.session.scalars(sa.select(Course.id).order_by(Course.position)).all()
        ids = add_members(6)
        for member_id, course_id, status in ((ids[0], ai, "enrolled"), (ids[1], ai, "reported"),
                                             (ids[2], ai, "verified"), (ids[3], ai, "rewarded"),
                                             (ids[3], data, "enrolled"), (ids[4], data, "rewarded")):
            db.session.add(Enrolment(member_id=member_id, course_id=course_id, status=status))
        db.session.commit()

        def matched(**segment):
            return broadcasts.preview(broadcasts.create("x", segment=segment)).matched

        assert matched(enrolled_in=["generative-ai"]) == 4
        assert matched(completed=["generative-ai"]) == 2
        assert matched(not_completed=["generative-ai"]) == 2
        assert matched(enrolled_in=["generative-ai", "data-analysis"]) == 5
        assert matched(completed=["generative-ai"], not_completed=["data-analysis"]) == 1
        assert matched(enrolled_in=["no-such-course"]) == 0


def test_text_inside_the_window_template_outside_and_skip_without_template(app, pipeline, drain):
    app.config["WHATSAPP_TEMPLATES"] = {"broadcast": {"sw": "HXsw"}}
    with app.app_context():
        [inside_en] = add_members(1, start=1)
        [inside_sw] = add_members(1, start=2, language="sw")
        [outside_sw] = add_members(1, start=3, language="sw", last_inbound=OLD)
        [outside_en] = add_members(1, start=4, last_inbound=None)
    bid = start(app, media_url="https://example.org/poster.jpg")
    drain()
    sent = {m["to"]: m for m in pipeline.messages}
    assert sent["whatsapp:+254700000001"]["body"] == "Meeting on Saturday"
    assert sent["whatsapp:+254700000001"]["media_urls"] == ["https://example.org/poster.jpg"]
    assert sent["whatsapp:+254700000002"]["body"] == "Mkutano Jumamosi"
    assert sent["whatsapp:+254700000003"]["content_sid"] == "HXsw"
    assert "Mkutano Jumamosi" in sent["whatsapp:+254700000003"]["content_variables"]
    assert "whatsapp:+254700000004" not in sent
    rows = deliveries(app)
    assert {rows[i].kind for i in (inside_en, inside_sw)} == {"text"} and rows[outside_sw].kind == "template"
    assert (rows[outside_en].status, rows[outside_en].reason) == ("skipped", "no_template")
    assert status_of(app, bid) == "done"


def test_two_workers_racing_send_each_member_exactly_once(app, pipeline):
    app.config.update(BROADCAST_BATCH_SIZE=20, SEND_CONCURRENCY=10)
    try:
        with app.app_context():
            bid = running_broadcast_to(200)
        results: list[str] = []

        def worker() -> None:
            with app.app_context():
                results.append(broadcasts.send_broadcast_batches(bid, seconds=60))

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        app.config.update(BROADCAST_BATCH_SIZE=256, SEND_CONCURRENCY=64)
    counts = Counter(m["to"] for m in pipeline.messages)
    assert len(counts) == 200 and set(counts.values()) == {1}
    assert "done" in results
    rows = deliveries(app)
    assert all(row.twilio_sid for row in rows.values())
    assert len({row.sender for row in rows.values()}) == 1


def worker_env(app, live: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL,
            "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE_URL": app.config["TWILIO_API_BASE_URL"], "PUBLIC_URL": live, "AUTO_MIGRATE": "0",
            **extra}


WORKER = ("from bot import create_app\nfrom bot.core import jobs\napp = create_app()\nwith app.app_context():\n"
          "    jobs.work(['bulk'], burst=True)\n")


def test_a_worker_killed_mid_broadcast_and_a_restart_reach_every_member_once(app, pipeline, live_server):
    pipeline.latency = 0.05
    with app.app_context():
        add_members(300)
    env = worker_env(app, live_server, SEND_RATE_PER_SECOND="200", BROADCAST_BATCH_SIZE="40",
                     SEND_CONCURRENCY="20", BROADCAST_LEASE_SECONDS="2", BROADCAST_JOBS="1")
    app.config.update(BROADCAST_JOBS=1)
    try:
        bid = start(app)
    finally:
        app.config.update(BROADCAST_JOBS=2)
    victim = subprocess.Popen([sys.executable, "-c", WORKER], env=env, cwd=ROOT)
    try:
        pipeline.wait_for_messages(60, timeout=60)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        killed_at = len(pipeline.messages)
        assert killed_at < 300
        time.sleep(3)  # the leases expire; callbacks of messages in flight arrive
        with app.app_context():
            outcome = broadcasts.tick()
        assert outcome.get("relaunched") == 1
        subprocess.run([sys.executable, "-c", WORKER], env=env, cwd=ROOT, timeout=120, check=True)
    finally:
        if victim.poll() is None:
            victim.kill()
    counts = Counter(m["to"] for m in pipeline.messages)
    assert set(counts.values()) == {1}, "a member got the broadcast twice"
    # The rows in the chunks in flight when the worker died were looked up at Twilio: found ones were
    # recorded, the others sent; everyone got the broadcast once.
    assert len(counts) == 300
    rows = deliveries(app)
    assert {row.status for row in rows.values()} <= {"accepted", "sent", "delivered", "read"}
    assert {row.twilio_sid for row in rows.values()} == {m["sid"] for m in pipeline.messages}
    assert len([row for row in rows.values() if row.attempted_at is not None]) <= 2 * 20  # two chunks in flight
    assert status_of(app, bid) == "done"


def test_21610_opts_the_member_out_and_is_not_retried(app, pipeline, drain):
    with app.app_context():
        [member_id] = add_members(1, start=1)
    pipeline.add_error_rule(21610)
    bid = start(app)
    drain()
    row = deliveries(app)[member_id]
    assert (row.status, row.error_code) == ("failed", 21610)
    assert len(pipeline.attempts) == 1
    with app.app_context():
        assert db.session.get(Member, member_id).opted_out_at is not None
        assert db.session.scalar(sa.select(ConsentEvent.source)) == "twilio_21610"
        figures = broadcasts.figures(bid)
    assert figures.counts["failed"] == 1
    assert figures.reasons == [(21610, 21610, 1)]
    assert sending.reason_text(21610) == "the member has blocked messages (STOP)"


@pytest.mark.parametrize("synchronous", [True, False])
def test_63016_is_resent_as_the_template(app, pipeline, drain, synchronous):
    app.config["WHATSAPP_TEMPLATES"] = {"broadcast": {"en": "HXen"}}
    with app.app_context():
        [member_id] = add_members(1, start=1)
    pipeline.add_error_rule(63016, times=1, http_status=400 if synchronous else None)
    start(app)
    drain()
    if not synchronous:
        pipeline.wait_for_callbacks(1)
        time.sleep(0.3)
        drain()
    try:
        pipeline.wait_for_messages(2 if not synchronous else 1)
    except TimeoutError:
        raise AssertionError(str(deliveries(app)[member_id].__dict__)) from None
    final = pipeline.messages[-1]
    assert final["content_sid"] == "HXen" and final["body"] is None
    assert len(pipeline.attempts) == 2
    assert deliveries(app)[member_id].kind == "template"


def test_63016_without_a_template_is_skipped_with_its_reason(app, pipeline, drain):
    with app.app_context():
        [member_id] = add_members(1, start=1)
    pipeline.add_error_rule(63016, http_status=400)
    bid = start(app)
    drain()
    row = deliveries(app)[member_id]
    assert (row.status, row.reason, row.error_code) == ("skipped", "no_template", 63016)
    assert len(pipeline.attempts) == 1
    with app.app_context():
        assert broadcasts.figures(bid).counts["skipped"] == 1


@pytest.mark.parametrize("code,http_status", [(63018, 429), (20429, 429), (20500, 500), (20503, 503)])
def test_throttling_and_server_errors_are_retried_without_double_sending(app, pipeline, drain, code, http_status):
    with app.app_context():
        ids = add_members(3, start=1)
    pipeline.add_error_rule(code, to="whatsapp:+254700000002", times=2, http_status=http_status)
    start(app)
    drain()
    counts = Counter(m["to"] for m in pipeline.messages)
    assert counts == {f"whatsapp:+25470000000{i}": 1 for i in (1, 2, 3)}
    assert len(pipeline.attempts) == 5
    rows = deliveries(app)
    assert rows[ids[1]].attempts == 3 and rows[ids[1]].twilio_sid


def retry_when_due(app, broadcast_id: int) -> str:
    """Wait for the broadcast's next retry and run it, as RQ's scheduler would."""
    with app.app_context():
        due = db.session.scalar(sa.select(sa.func.max(BroadcastDelivery.next_attempt_at)))
        time.sleep(max(0.0, (due - utcnow()).total_seconds()) + 0.05)
        return broadcasts.send_broadcast_batches(broadcast_id, seconds=10)


def test_a_send_whose_answer_was_lost_is_found_at_twilio_and_not_sent_again(app, pipeline, drain):
    app.config["TWILIO_HTTP_TIMEOUT"] = 0.5
    pipeline.callback_statuses = ()  # nothing tells us later that it was accepted
    with app.app_context():
        [member_id] = add_members(1, start=1)
    pipeline.add_hang_rule(1.5, times=1)  # Twilio records the message, then answers too late
    bid = start(app)
    drain()
    assert (deliveries(app)[member_id].status, status_of(app, bid)) == ("queued", "running")
    assert retry_when_due(app, bid) == "done"
    [sent] = pipeline.messages
    row = deliveries(app)[member_id]
    # The retry asked Twilio, found the message and recorded its SID (so status callbacks land) without posting.
    assert (row.status, row.twilio_sid, row.reason) == ("accepted", sent["sid"], None)
    assert row.attempted_at is not None and row.attempts == 2 and row.lookups == 0
    assert len(pipeline.attempts) == 1
    assert status_of(app, bid) == "done"


@pytest.mark.parametrize("wait", [0.0, 1.0])
def test_a_send_that_never_reached_twilio_is_sent_again_once(app, pipeline, drain, wait):
    app.config["TWILIO_HTTP_TIMEOUT"] = 0.5
    pipeline.callback_statuses = ()
    with app.app_context():
        [member_id, other_id] = add_members(2, start=1)
    # Lost on the way: the connection breaks at once (0.0), or nothing answers before the timeout (1.0).
    pipeline.add_hang_rule(wait, to="whatsapp:+254700000001", times=1, lost=True)
    bid = start(app)
    drain()
    assert retry_when_due(app, bid) == "done"
    counts = Counter(m["to"] for m in pipeline.messages)
    assert counts == {"whatsapp:+254700000001": 1, "whatsapp:+254700000002": 1}
    rows = deliveries(app)
    [sent] = [m for m in pipeline.messages if m["to"] == "whatsapp:+254700000001"]
    assert (rows[member_id].status, rows[member_id].twilio_sid, rows[member_id].attempts) == ("accepted", sent["sid"], 2)
    assert rows[other_id].attempts == 1
    assert status_of(app, bid) == "done"


def test_when_twilio_cannot_be_asked_the_delivery_fails_as_unconfirmed(app, pipeline, drain):
    app.config.update(TWILIO_HTTP_TIMEOUT=0.5, BROADCAST_MAX_ATTEMPTS=3)
    pipeline.callback_statuses = ()
    with app.app_context():
        [member_id] = add_members(1, start=1)
        bid = broadcasts.create("Meeting on Saturday").id
        broadcasts.resolve(bid)
        db.session.execute(sa.update(Broadcast).values(status="running"))
        # An earlier try got no answer, and now Twilio cannot be reached to ask about it.
        db.session.execute(sa.update(BroadcastDelivery).values(attempted_at=utcnow(), attempts=1))
        db.session.commit()
    app.config["TWILIO_API_BASE_URL"] = "http://127.0.0.1:1"
    try:
        with app.app_context():
            assert broadcasts.send_broadcast_batches(bid, seconds=10) == "done"
    finally:
        app.config.update(TWILIO_API_BASE_URL=pipeline.base_url, BROADCAST_MAX_ATTEMPTS=5)
    row = deliveries(app)[member_id]
    assert (row.status, row.reason, row.lookups, row.attempts) == ("failed", "unconfirmed", 2, 4)
    assert pipeline.attempts == []
    with app.app_context():
        [(key, _, count)] = broadcasts.figures(bid).reasons
    assert key == "unconfirmed" and count == 1


def test_cancelling_leaves_an_unconfirmed_send_failed_not_cancelled(app, pipeline):
    with app.app_context():
        [uncertain, waiting] = add_members(2, start=1)
        bid = broadcasts.create("Meeting on Saturday").id
        broadcasts.resolve(bid)
        db.session.execute(sa.update(BroadcastDelivery).where(BroadcastDelivery.member_id == uncertain)
                           .values(attempted_at=utcnow(), reason="timeout"))
        db.session.execute(sa.update(Broadcast).values(status="running"))
        db.session.commit()
        assert broadcasts.cancel(bid)
    rows = deliveries(app)
    assert (rows[uncertain].status, rows[uncertain].reason) == ("failed", "unconfirmed")
    assert (rows[waiting].status, rows[waiting].reason) == ("cancelled", "cancelled")


@pytest.mark.parametrize("code", [63024, 63003])
def test_permanent_errors_fail_with_their_reason(app, pipeline, drain, code):
    with app.app_context():
        [member_id] = add_members(1, start=1)
    pipeline.add_error_rule(code, http_status=400)
    bid = start(app)
    drain()
    row = deliveries(app)[member_id]
    assert (row.status, row.error_code) == ("failed", code)
    assert len(pipeline.attempts) == 1
    with app.app_context():
        [(key, reason_code, n)] = broadcasts.figures(bid).reasons
    assert reason_code == code and n == 1 and "Twilio error" not in sending.reason_text(key)


def test_an_opt_out_during_a_broadcast_is_respected(app, pipeline, drain, whatsapp, live_server):
    with app.app_context():
        ids = add_members(3, start=1)
    whatsapp.phone = "+254700000002"
    start(app)  # the audience is resolved with all three
    assert len(deliveries(app)) == 3
    assert whatsapp.post(whatsapp.form("STOP"), url=live_server + INBOUND_PATH).status_code == 200
    drain()
    sent = {m["to"] for m in pipeline.messages}
    assert sent == {"whatsapp:+254700000001", "whatsapp:+254700000003"}
    row = deliveries(app)[ids[1]]
    assert (row.status, row.reason) == ("skipped", "opted_out")


def test_pause_resume_and_cancel(app, pipeline, drain):
    with app.app_context():
        add_members(5, start=1)
    bid = start(app)
    with app.app_context():
        assert broadcasts.pause(bid)
    drain()
    assert pipeline.messages == [] and status_of(app, bid) == "paused"
    with app.app_context():
        assert broadcasts.resume(bid)
    drain()
    assert len(pipeline.messages) == 5 and status_of(app, bid) == "done"

    with app.app_context():
        add_members(4, start=10)
    other = start(app, "Second")
    with app.app_context():
        assert broadcasts.cancel(other)
        assert not broadcasts.resume(other)
    drain()
    assert len(pipeline.messages) == 5
    with app.app_context():
        figures = broadcasts.figures(other)
    assert figures.counts["skipped"] == 9 and figures.broadcast.status == "cancelled"


def test_quiet_hours_pause_and_resume_by_themselves(app, pipeline, drain):
    with app.app_context():
        add_members(3, start=1)
    nairobi_now = datetime.now(ZoneInfo("Africa/Nairobi"))
    quiet = ((nairobi_now - timedelta(hours=1)).strftime("%H:%M"), (nairobi_now + timedelta(hours=1)).strftime("%H:%M"))
    bid = start(app, quiet=quiet)
    drain()
    assert pipeline.messages == []
    with app.app_context():
        b = db.session.get(Broadcast, bid)
        assert (b.status, b.paused_reason) == ("paused", "quiet_hours")
        assert broadcasts.tick() == {}  # still quiet: nothing changes
        assert broadcasts.tick(utcnow() + timedelta(hours=2)) == {"resumed": 1}
    drain()  # the job itself sees that it is still quiet and pauses again
    assert pipeline.messages == [] and status_of(app, bid) == "paused"
    with app.app_context():  # later: the quiet hours are over
        b = db.session.get(Broadcast, bid)
        b.quiet_start = (nairobi_now - timedelta(hours=2)).strftime("%H:%M")
        b.quiet_end = (nairobi_now - timedelta(minutes=1)).strftime("%H:%M")
        db.session.commit()
        assert broadcasts.tick() == {"resumed": 1}
    drain()
    assert len(pipeline.messages) == 3 and status_of(app, bid) == "done"


@pytest.mark.parametrize("paused_and_resumed", [False, True])
def test_a_scheduled_broadcast_waits_in_the_rq_scheduler_and_starts_on_time(app, pipeline, drain, paused_and_resumed):
    from rq.registry import ScheduledJobRegistry

    from bot.core.queues import queue

    with app.app_context():
        add_members(2, start=1)
    send_at = utcnow() + timedelta(hours=1)
    bid = start(app, send_at=send_at)
    if paused_and_resumed:  # resumed, it is scheduled again: nothing goes before its time
        with app.app_context():
            assert broadcasts.pause(bid) and broadcasts.resume(bid)
    drain()
    assert pipeline.messages == [] and status_of(app, bid) == "scheduled"
    with app.app_context():
        assert f"broadcast-start-{bid}" in ScheduledJobRegistry(queue=queue("bulk")).get_job_ids()
        assert broadcasts.tick() == {}
        assert db.session.get(Broadcast, bid).resolved_at is None  # nobody is chosen before its time
        assert broadcasts.tick(send_at + timedelta(minutes=1)) == {"started": 1}
    drain()
    assert len(pipeline.messages) == 2 and status_of(app, bid) == "done"


def test_a_scheduled_broadcast_resumed_after_its_time_starts_then(app, pipeline, drain):
    with app.app_context():
        add_members(2, start=1)
    bid = start(app, send_at=utcnow() + timedelta(hours=1))
    with app.app_context():
        assert broadcasts.pause(bid)
        assert broadcasts.tick(utcnow() + timedelta(hours=2)) == {}  # paused by an organiser: the clock waits
        assert broadcasts.resume(bid, now=utcnow() + timedelta(hours=2))
    drain()
    assert len(pipeline.messages) == 2 and status_of(app, bid) == "done"


def test_broadcast_resume_on_whatsapp_keeps_a_scheduled_broadcast_scheduled(app, client, pipeline, drain,
                                                                             live_server):
    with app.app_context():
        add_members(2, start=1)
    bid = start(app, send_at=utcnow() + timedelta(days=30))
    app.test_cli_runner().invoke(args=["staff", "add", "+254733000001", "--role", "organiser"])
    organiser = LiveWhatsApp(client, "+254733000001", live_server)
    organiser.send("Hi")
    assert f"Broadcast {bid}: paused." in organiser.says(f"BROADCAST PAUSE {bid}").splitlines()
    assert f"Broadcast {bid}: scheduled." in organiser.says(f"BROADCAST RESUME {bid}").splitlines()
    drain()
    assert pipeline.messages == [] and status_of(app, bid) == "scheduled"


def test_status_callbacks_out_of_order_never_move_a_delivery_backwards(app, pipeline, drain):
    pipeline.out_of_order = True
    with app.app_context():
        ids = add_members(20, start=1)
    bid = start(app)
    drain()
    pipeline.wait_for_callbacks(60)
    time.sleep(0.3)
    rows = deliveries(app)
    assert {rows[i].status for i in ids} == {"read"}
    with app.app_context():
        assert broadcasts.figures(bid).counts["read"] == 20
        # A callback that arrives before our write of the SID is kept, and a late one does not go back.
        row = db.session.get(BroadcastDelivery, rows[ids[0]].id)
        row.status, row.status_rank, row.twilio_sid = "sending", 0, None
        db.session.commit()
        assert broadcasts.record_status(row.id, "SMearly", "delivered", None)
        assert not broadcasts.record_status(row.id, "SMearly", "sent", None)
        assert not broadcasts.record_status(row.id, "SMother", "read", None)
        db.session.refresh(row)
        assert (row.status, row.twilio_sid) == ("delivered", "SMearly")


def test_cli_create_preview_send_status_cancel(app, pipeline, drain):
    with app.app_context():
        add_members(3, start=1, county="Nakuru")
        add_members(2, start=10, county="Kisumu")
        add_members(1, start=20, county="Nakuru", opted_out=True)
    runner = app.test_cli_runner()
    created = runner.invoke(args=["broadcast", "create", "--en", "Hello", "--sw", "Habari", "--county", "Nakuru",
                                  "--quiet", "25:00-07:00"])
    assert created.exit_code != 0 and "HH:MM-HH:MM" in created.output
    created = runner.invoke(args=["broadcast", "create", "--en", "Hello", "--sw", "Habari", "--county", "Nakuru"])
    assert created.exit_code == 0, created.output
    assert "4 members match; 1 left out (opted out or stopped broadcasts); 3 get the text" in created.output
    bid = int(created.output.split()[1])
    declined = runner.invoke(args=["broadcast", "send", str(bid)], input="n\n")
    assert "not sent" in declined.output and status_of(app, bid) == "draft"
    sent = runner.invoke(args=["broadcast", "send", str(bid), "--yes"])
    assert f"broadcast {bid}: running" in sent.output
    drain()
    status = runner.invoke(args=["broadcast", "status", str(bid)])
    assert "done" in status.output and "sent 3" in status.output
    assert runner.invoke(args=["broadcast", "cancel", str(bid)]).exit_code != 0
    assert {m["to"] for m in pipeline.messages} == {f"whatsapp:+25470000000{i}" for i in (1, 2, 3)}


class LiveWhatsApp(WhatsApp):
    """Signs for the live server's URL (PUBLIC_URL points there while callbacks come back)."""

    def __init__(self, client, phone: str, live_server: str) -> None:
        super().__init__(client, phone)
        self.live_server = live_server

    def post(self, form, **kwargs):
        return super().post(form, url=self.live_server + INBOUND_PATH)


def test_an_organiser_broadcasts_from_whatsapp_and_nothing_is_sent_without_yes(app, client, pipeline, drain,
                                                                              live_server):
    def WhatsApp(client, phone):  # noqa: N802
        return LiveWhatsApp(client, phone, live_server)

    with app.app_context():
        add_members(2, start=1, county="Nakuru")
        add_members(1, start=2 + 1, county="Nakuru", language="sw")
        add_members(2, start=10, county="Kisumu")
    app.test_cli_runner().invoke(args=["staff", "add", "+254733000001", "--role", "organiser"])
    officer = WhatsApp(client, "+254733000001")
    app.test_cli_runner().invoke(args=["staff", "add", "+254733000002", "--role", "officer"])
    assert "organiser" in WhatsApp(client, "+254733000002").says("BROADCAST")
    assert "Type the message in English" in officer.says("broadcast")
    assert "add it in another language" in officer.says("Meeting on Saturday")
    assert "Written in: English · Kiswahili." in officer.says("Kiswahili: Mkutano Jumamosi")
    assert "Who should get it?" in officer.says("SKIP")
    assert "did not understand" in officer.says("shoe_size 42")
    assert "YYYY-MM-DD" in officer.says("joined_after yesterday")
    preview = officer.says("county Nakuru")
    assert "Preview: 3 members match. 0 are left out" in preview and "3 will get the text" in preview
    assert "When should it go?" in preview
    assert "YYYY-MM-DD HH:MM" in officer.says("tomorrow")
    assert "Reply YES to send it now" in officer.says("now")
    assert "YES or NO" in officer.says("maybe")
    drain()
    assert pipeline.messages == []
    done = officer.says("YES")
    assert "Broadcast 1 is on its way" in done
    drain()
    assert {m["to"] for m in pipeline.messages} == {f"whatsapp:+25470000000{i}" for i in (1, 2, 3)}
    assert {m["body"] for m in pipeline.messages} == {"Meeting on Saturday", "Mkutano Jumamosi"}
    status = officer.says("BROADCAST STATUS 1")
    assert "Broadcast 1: done." in status and "sent 3" in status
    assert "cannot be changed" in officer.says("BROADCAST PAUSE 1")
    assert "BROADCAST STATUS" in officer.says("BROADCAST what")
    # NO drops it: no second broadcast exists.
    officer.send("BROADCAST")
    officer.send("Second")
    officer.send("SKIP")
    officer.send("ALL")
    officer.send("NOW")
    assert "Nothing was sent" in officer.says("NO")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Broadcast)) == 1


def test_an_organiser_schedules_a_broadcast_from_whatsapp_in_local_time(app, client, drain):
    """A time in the past is refused; a local time to come is stored as UTC and the broadcast waits for it
    (scheduled); BROADCAST CANCEL stops it before it starts."""
    with app.app_context():
        add_members(2, start=1, county="Nakuru")
    app.test_cli_runner().invoke(args=["staff", "add", "+254733000001", "--role", "organiser"])
    organiser = WhatsApp(client, "+254733000001")
    organiser.send("BROADCAST")
    organiser.send("Meeting on Saturday")
    organiser.send("SKIP")
    organiser.send("county Nakuru")
    assert "has passed" in organiser.says("2020-01-01 10:00")
    nairobi = ZoneInfo("Africa/Nairobi")
    when = (datetime.now(nairobi) + timedelta(days=2)).replace(second=0, microsecond=0)
    typed = when.strftime("%Y-%m-%d %H:%M")
    assert f"Reply YES to send it at {typed}" in organiser.says(typed)
    assert f"will go out at {typed}" in organiser.says("YES")
    drain()
    with app.app_context():
        broadcast = db.session.scalars(sa.select(Broadcast)).one()
        assert broadcast.status == "scheduled" and broadcast.audience is None  # nobody resolved, nothing sent
        assert broadcast.send_at == when.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    assert "cancelled" in organiser.says(f"BROADCAST CANCEL {broadcast.id}")


def test_the_rate_limit_holds_across_workers_and_senders_share_the_load(app, pipeline):
    app.config.update(SEND_RATE_PER_SECOND=20, BROADCAST_BATCH_SIZE=10, SEND_CONCURRENCY=10,
                      WHATSAPP_SENDERS=["whatsapp:+254711000001", "whatsapp:+254711000002"])
    try:
        with app.app_context():
            bid = running_broadcast_to(100)

        def worker() -> None:
            with app.app_context():
                broadcasts.send_broadcast_batches(bid, seconds=60)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        app.config.update(SEND_RATE_PER_SECOND=400, BROADCAST_BATCH_SIZE=256, SEND_CONCURRENCY=64,
                          WHATSAPP_SENDERS=[])
    messages = pipeline.messages
    assert len(messages) == 100
    by_sender: dict[str, list[float]] = {}
    for message in messages:
        by_sender.setdefault(message["from"], []).append(message["received_at"])
    assert set(by_sender) == {"whatsapp:+254711000001", "whatsapp:+254711000002"}
    for times in by_sender.values():
        times.sort()
        # 50 messages at 20/s take at least 1.5 s (the first 20 may go at once); arrival times at the fake
        # jitter a little with the machine's load, hence some slack.
        assert times[-1] - times[0] >= 1.5 - 0.3
        busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
        assert busiest <= 20 * 1.3


def test_twilio_unreachable_is_retried_then_fails_with_its_reason(app, pipeline, drain):
    with app.app_context():
        [member_id] = add_members(1, start=1)
    app.config.update(TWILIO_API_BASE_URL="http://127.0.0.1:1", BROADCAST_MAX_ATTEMPTS=3)
    try:
        bid = start(app)
        drain()
    finally:
        app.config.update(TWILIO_API_BASE_URL=pipeline.base_url, BROADCAST_MAX_ATTEMPTS=5)
    row = deliveries(app)[member_id]
    assert (row.status, row.reason, row.attempts) == ("failed", "too_many_attempts", 3)
    with app.app_context():
        [(key, _, count)] = broadcasts.figures(bid).reasons
    assert sending.reason_text(key) == "still failing after every retry" and count == 1


def a_paused_broadcast_with_failures(app) -> int:
    """A paused broadcast: one member blocked messages, one had no template, one kept failing, Twilio refused
    one without a code, one is queued."""
    with app.app_context():
        ids = add_members(5, start=1)
        broadcast = broadcasts.create("Meeting on Saturday")
        broadcast.status = "paused"
        db.session.flush()
        rows = [("failed", 21610, "21610"), ("skipped", 63016, "no_template"), ("failed", None, "too_many_attempts"),
                ("failed", None, "http_400"), ("queued", None, None)]
        db.session.add_all(BroadcastDelivery(broadcast_id=broadcast.id, member_id=member_id, status=status,
                                             error_code=code, reason=reason)
                           for member_id, (status, code, reason) in zip(ids, rows, strict=True))
        db.session.commit()
        return broadcast.id


STATUS_IN_ENGLISH = ["Broadcast 1: paused.", "Queued 1, sent 0, delivered 0, read 0, failed 3, skipped 1.",
                     "1: the member has blocked messages (STOP) (21610)",
                     "1: outside the 24-hour window and no template is configured (63016)",
                     "1: still failing after every retry (-)", "1: Twilio refused the message (HTTP 400) (-)"]
STATUS_IN_SWAHILI = ["Tangazo 1: limesitishwa.", "Kwenye foleni 1, zimetumwa 0, zimefika 0, zimesomwa 0, zimeshindwa 3, "
                     "zimerukwa 1.", "1: mwanachama amezuia jumbe (STOP) (21610)",
                     "1: nje ya saa 24 na hakuna kiolezo kilichowekwa (63016)",
                     "1: bado inashindwa baada ya majaribio yote (-)", "1: Twilio ilikataa ujumbe (HTTP 400) (-)"]


@pytest.mark.parametrize(("greeting", "expected", "foreign"), [
    ("Hi", STATUS_IN_ENGLISH, STATUS_IN_SWAHILI),
    ("Habari", STATUS_IN_SWAHILI, STATUS_IN_ENGLISH),
])
def test_broadcast_status_reads_in_the_organisers_language(app, client, greeting, expected, foreign):
    bid = a_paused_broadcast_with_failures(app)
    app.test_cli_runner().invoke(args=["staff", "add", "+254733000001", "--role", "organiser"])
    organiser = WhatsApp(client, "+254733000001")
    organiser.send(greeting)
    status = organiser.says(f"BROADCAST STATUS {bid}")
    lines = status.splitlines()
    assert [line for line in expected if line not in lines] == [], status
    assert [line for line in foreign if line in lines] == [], status
