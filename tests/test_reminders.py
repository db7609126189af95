"""Course reminders: scheduled with RQ's scheduler, moved out of quiet hours, skipped once the
certificate is reported, sent as a template outside the 24-hour window, never twice."""

# ruff: noqa: F811  (the course fixtures are imported from test_courses and used as arguments)

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from rq.registry import ScheduledJobRegistry

from bot.core.extensions import db
from bot.core.queues import queue
from bot.courses.reminders import out_of_quiet_hours, schedule, send_reminder, sweep
from bot.models import Enrolment, ReminderSend, utcnow
from tests.helpers.reminders import age_enrolment, enrol
from tests.helpers.signup import play

LINK = "https://www.linkedin.com/learning/certificates/feedfacecafebeef0123"


def sends(app) -> list[tuple[int, str, str | None]]:
    """(offset, status, reason) of every reminder row."""
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            sa.select(ReminderSend.offset_days, ReminderSend.status, ReminderSend.reason).order_by(ReminderSend.offset_days))]


def test_quiet_hours_move_a_reminder_to_the_next_morning_in_nairobi(app, monkeypatch):
    monkeypatch.setitem(app.config, "QUIET_HOURS", "20:00-08:00")
    with app.app_context():
        evening = datetime(2026, 11, 23, 18, 30)       # 21:30 in Nairobi
        before_dawn = datetime(2026, 11, 24, 3, 0)     # 06:00 in Nairobi
        midday = datetime(2026, 11, 24, 9, 0)          # 12:00 in Nairobi
        assert out_of_quiet_hours(evening) == datetime(2026, 11, 24, 5, 0)
        assert out_of_quiet_hours(before_dawn) == datetime(2026, 11, 24, 5, 0)
        assert out_of_quiet_hours(midday) == midday
        assert out_of_quiet_hours(datetime(2026, 11, 24, 16, 59)) == datetime(2026, 11, 24, 16, 59)


def test_a_reminder_that_runs_late_into_quiet_hours_waits_for_the_morning(app, member, monkeypatch):
    enrol(member)
    enrolment_id = age_enrolment(app, 3)
    monkeypatch.setitem(app.config, "QUIET_HOURS", "20:00-08:00")
    with app.app_context():
        night = datetime(2026, 11, 23, 19, 0)  # 22:00 in Nairobi; the reminder was due at 19:00 there
        db.session.execute(sa.update(Enrolment).values(enrolled_at=datetime(2026, 11, 20, 16, 0)))
        db.session.commit()
        assert send_reminder(enrolment_id, 3, now=night) == "quiet hours"
        registry = ScheduledJobRegistry(queue=queue("default"))
        when = registry.get_scheduled_time(f"reminder-{enrolment_id}-3-morning").replace(tzinfo=None)
    assert when == datetime(2026, 11, 24, 5, 0)
    assert sends(app) == []


def test_reminders_of_an_evening_enrolment_are_scheduled_for_the_morning(app, member, monkeypatch):
    enrol(member)
    monkeypatch.setitem(app.config, "QUIET_HOURS", "20:00-08:00")
    with app.app_context():
        evening = datetime(2026, 11, 20, 18, 0)  # 21:00 in Nairobi
        assert schedule(1, evening) == 3
        registry = ScheduledJobRegistry(queue=queue("default"))
        times = [registry.get_scheduled_time(f"reminder-1-{d}").replace(tzinfo=None) for d in (3, 7, 14)]
    assert times == [datetime(2026, 11, 24, 5, 0), datetime(2026, 11, 28, 5, 0), datetime(2026, 12, 5, 5, 0)]


def test_a_due_reminder_is_sent_once_as_text_inside_the_window(app, member, fake_twilio, drain):
    enrol(member, "2")
    enrolment_id = age_enrolment(app, 3.1)
    with app.app_context():
        assert sweep() == 1
    drain()
    [sent] = fake_twilio.messages
    assert sent["to"] == "whatsapp:+254712345678"
    assert sent["body"].startswith("A reminder about your free course Data Analysis: keep going")
    assert "send CERTIFICATE to report it" in sent["body"]
    # A restarted worker, a second sweep, the scheduled job itself: nothing is sent again.
    with app.app_context():
        assert sweep() == 0
        assert send_reminder(enrolment_id, 3) == "already done"
    drain()
    assert len(fake_twilio.messages) == 1 and sends(app) == [(3, "sent", None)]


def test_outside_the_window_the_reminder_is_the_configured_template(app, member, fake_twilio, drain):
    app.config["WHATSAPP_TEMPLATES"] = {"course_reminder": {"en": "HXreminder_en", "sw": "HXreminder_sw"}}
    try:
        enrol(member, "5")
        age_enrolment(app, 7.5, last_inbound=timedelta(hours=30))
        with app.app_context():
            assert sweep() == 2
        drain()
    finally:
        app.config["WHATSAPP_TEMPLATES"] = {}
    assert [m["content_sid"] for m in fake_twilio.messages] == ["HXreminder_en", "HXreminder_en"]
    assert '"1": "Cybersecurity"' in fake_twilio.messages[0]["content_variables"]
    assert sends(app) == [(3, "sent", None), (7, "sent", None)]


def test_outside_the_window_without_a_template_it_is_skipped_with_its_reason(app, member, fake_twilio, drain):
    enrol(member)
    age_enrolment(app, 3.5, last_inbound=timedelta(days=2))
    with app.app_context():
        sweep()
    drain()
    assert fake_twilio.messages == [] and sends(app) == [(3, "skipped", "no_template")]


def test_no_reminder_after_the_certificate_is_reported(app, member, fake_twilio, drain):
    enrol(member)
    play(member, [("certificate", []), ("1", []), (LINK, ["waiting for review"])])
    enrolment_id = age_enrolment(app, 3.5)
    with app.app_context():
        assert sweep() == 0  # nothing left to send for this enrolment
        assert send_reminder(enrolment_id, 3) == "skipped: certificate_reported"
    drain()
    assert fake_twilio.messages == []


def test_no_reminder_for_members_who_opted_out(app, member, fake_twilio, drain):
    enrol(member)
    enrolment_id = age_enrolment(app, 3.5)
    member.send("STOP")
    with app.app_context():
        assert send_reminder(enrolment_id, 3) == "skipped: opted_out"
    drain()
    assert fake_twilio.messages == []


def test_a_reminder_run_early_does_nothing_and_a_lost_job_is_recovered_by_the_sweep(app, member, fake_twilio, drain):
    enrol(member)
    enrolment_id = age_enrolment(app, 1)
    with app.app_context():
        assert send_reminder(enrolment_id, 3) == "not due"
        from bot.core.redis_conn import connect

        connect().flushdb()  # the worker's Redis lost every scheduled job
        assert sweep() == 0
        db.session.execute(sa.update(Enrolment).values(enrolled_at=utcnow() - timedelta(days=3, minutes=5)))
        db.session.commit()
        assert sweep() == 1
    drain()
    assert len(fake_twilio.messages) == 1 and sends(app) == [(3, "sent", None)]


def test_scheduled_reminders_survive_a_worker_restart_and_run_once(app, member, fake_twilio):
    from bot.core import jobs

    enrol(member, "4")
    enrolment_id = age_enrolment(app, 15)
    with app.app_context():
        enrolled_at = db.session.get(Enrolment, enrolment_id).enrolled_at
        schedule(enrolment_id, enrolled_at)  # the scheduled jobs, now all in the past, are kept in Redis
        schedule(enrolment_id, enrolled_at)  # scheduled twice: still one job per reminder
        for _ in range(2):  # a worker, then a restarted one, each with RQ's scheduler
            jobs.work(burst=True, with_scheduler=True)
    bodies = [m["body"] for m in fake_twilio.messages]
    assert len(bodies) == 3 and all("Project Management" in body for body in bodies)
    assert sends(app) == [(3, "sent", None), (7, "sent", None), (14, "sent", None)]
