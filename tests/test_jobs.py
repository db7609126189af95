"""Background jobs: queued after commit (never for a rollback, never failing a commit when Redis is down),
run with the app context and a fresh session, and found by the dotted paths of the previous release."""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil

import pytest
import sqlalchemy as sa
from rq.exceptions import NoSuchJobError
from rq.utils import import_attribute

import bot
from bot.broadcasts import service as broadcasts
from bot.core import jobs
from bot.core.area import assembled
from bot.core.extensions import db
from bot.core.jobs import RenamedJob, queue
from bot.core.redis_conn import connect
from bot.models import Broadcast, BroadcastDelivery, Member, Message
from bot.privacy import area as privacy_area
from bot.stats import area as stats_area
from bot.whatsapp import area as whatsapp_area
from bot.whatsapp import documents, outbound
from tests.test_broadcasts import add_members
from tests.test_outbound import HELLO, add_member


def every_job() -> set[object]:
    """Every function of the bot package marked as a job."""
    found = set()
    for module in pkgutil.walk_packages(bot.__path__, "bot."):
        for value in vars(importlib.import_module(module.name)).values():
            if inspect.isfunction(value) and getattr(value, "is_job", False):
                found.add(value)
    return found


def test_the_table_names_every_job_under_its_previous_path(app):
    table = assembled(app).renamed_jobs
    new_in_this_release = {documents.send_my_data_file, privacy_area.purge_expired_exports,  # no previous path
                           privacy_area.purge_prospects, stats_area.refresh_language_stats,
                           whatsapp_area.apply_waiting_statuses}
    assert set(table.values()) == every_job() - {count_members} - new_in_this_release
    with app.app_context():
        for old, func in table.items():
            assert RenamedJob.create(old, connection=connect()).func is func
            assert jobs.job_name(old) == func.__name__  # the name the job metrics count it under
    renamed = {old for old, func in table.items() if old != f"{func.__module__}.{func.__qualname__}"}
    assert renamed >= {"bot.services.broadcasts.run", "bot.services.broadcasts.start_job",
                       "bot.services.broadcasts.tick_job", "bot.staff.broadcast.send_job",
                       "bot.services.periodic.broadcast_tick"}
    for old in renamed:  # only the table finds them
        with pytest.raises((AttributeError, ImportError, ValueError)):
            import_attribute(old)


def queued_under(path: str, *args: object, queue_name: str = "default") -> str:
    """Queue a job as the previous release did: its function by dotted path; returns its id."""
    return queue(queue_name).enqueue(path, *args).id


def test_a_job_queued_under_an_old_path_runs_the_new_function(app, drain):
    with app.app_context():
        [message] = outbound.notify(add_member(), HELLO)
        db.session.commit()
        message_id = message.id
        connect().flushdb()  # as if the job had been queued by the previous release, below
        old_send = queued_under("bot.services.outbound.send_outbound", message_id, queue_name="replies")
        assert RenamedJob.fetch(old_send, connection=connect()).func is outbound.send_outbound
        add_members(3, start=100)
        draft = broadcasts.create("Meeting on Saturday")
        db.session.commit()
        old_confirm = queued_under("bot.staff.broadcast.send_job", draft.id)
        draft_id = draft.id
    drain()
    with app.app_context():
        assert db.session.get(Message, message_id).status == "outbox"
        assert db.session.get(Broadcast, draft_id).status == "done"
        statuses = db.session.scalars(sa.select(BroadcastDelivery.status)).all()
        assert len(statuses) == 3 and "queued" not in statuses
        for job_id in (old_send, old_confirm):
            assert RenamedJob.fetch(job_id, connection=connect()).get_status() == "finished"


def test_an_old_broadcast_sending_job_still_sends(app, drain):
    with app.app_context():
        add_members(4, start=200)
        running = broadcasts.create("Hello")
        running.status = "running"
        db.session.commit()
        broadcasts.resolve(running.id)
        queued_under("bot.services.broadcasts.run", running.id, queue_name="bulk")
        running_id = running.id
    drain()
    with app.app_context():
        assert db.session.get(Broadcast, running_id).status == "done"


def test_after_commit_queues_in_order_with_the_given_ids_and_forgets_a_rollback(app):
    with app.app_context():
        jobs.after_commit(db.session, "default", "builtins.print", 1, job_id="first")
        jobs.after_commit(db.session, "default", "builtins.print", 2, job_id="second")
        assert queue("default").count == 0  # nothing before the commit
        db.session.commit()
        assert queue("default").job_ids == ["first", "second"]
        add_member()  # in the transaction rolled back
        jobs.after_commit(db.session, "default", "builtins.print", 3, job_id="third")
        db.session.rollback()
        db.session.commit()
        assert queue("default").job_ids == ["first", "second"]
        with pytest.raises(NoSuchJobError):
            RenamedJob.fetch("third", connection=connect())


def test_after_commit_with_redis_down_commits_and_warns(app, caplog):
    working_redis = app.config["REDIS_URL"]
    with app.app_context():
        app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
        try:
            member = add_member()
            jobs.after_commit(db.session, "default", "builtins.print", member.id, job_id="lost",
                              unqueued="the sweep finds it")
            with caplog.at_level(logging.WARNING, logger="bot.core.jobs"):
                db.session.commit()
        finally:
            app.config["REDIS_URL"] = working_redis
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 1
        [warning] = [r for r in caplog.records if r.name == "bot.core.jobs"]
        assert "could not queue builtins.print" in warning.getMessage()
        assert warning.getMessage().endswith("; the sweep finds it")
        assert queue("default").count == 0


@jobs.job
def count_members() -> int:
    """A job for the tests below."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Member))


def test_a_job_reuses_the_app_context_and_removes_the_session_after(app):
    with app.app_context():
        db.session.add(Member(phone="+254712000050", status="active"))
        assert count_members() == 1  # the caller's session (autoflush)
        assert not db.session.new  # removed: what was not committed is gone
        assert count_members() == 0


def test_a_job_without_an_app_context_runs_in_the_workers_app(app, monkeypatch):
    monkeypatch.setattr(jobs, "_worker_app", app)
    with app.app_context():
        add_member()
        db.session.commit()
    assert count_members() == 1
