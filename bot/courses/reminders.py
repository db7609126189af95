"""Course reminders: scheduled with RQ's scheduler at offsets after enrolment, moved out of quiet hours,
recovered by a periodic sweep, and sent at most once per (enrolment, offset) thanks to a unique row.

The job `send_reminder(enrolment_id, offset_days)` has the id `reminder-<enrolment>-<offset>`; running
it twice, early or after the reminder stopped applying does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from bot.core import jobs, local_time
from bot.core.extensions import db
from bot.core.queues import queue
from bot.models import Course, Enrolment, Member, ReminderSend, utcnow
from bot.models.courses import course_title
from bot.whatsapp.outbound import notify
from flows.base import N_, Reply, Text, msg

log = logging.getLogger(__name__)

TEMPLATE = "course_reminder"
EARLY = timedelta(minutes=1)  # the scheduler keeps whole seconds: a job may start a moment before its time
REMINDER = N_("A reminder about your free course %(course)s: keep going, a few minutes a day is enough! %(url)s")
REMINDER_END = N_("When you finish, send CERTIFICATE to report it and receive your LinkedIn Premium voucher.")


def quiet_hours() -> tuple[time, time] | None:
    """The quiet hours (start, end) in the union's time zone, from QUIET_HOURS such as 20:00-08:00 (empty: none)."""
    return local_time.parse_hours(current_app.config.get("QUIET_HOURS"))


def out_of_quiet_hours(moment: datetime) -> datetime:
    """The moment itself (naive UTC), or the next morning's end of quiet hours when it falls inside them."""
    hours = quiet_hours()
    if hours is None:
        return moment
    start, end = hours
    local = local_time.to_local(moment)
    clock = local.time()
    if not local_time.inside(clock, start, end):
        return moment
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return local_time.to_utc(datetime.combine(day, end))


def offsets() -> list[int]:
    """The reminder offsets in days."""
    return sorted(set(current_app.config["REMINDER_OFFSETS_DAYS"]))


def due_at(enrolled_at: datetime, offset_days: int) -> datetime:
    """When the reminder at an offset is due (naive UTC)."""
    return out_of_quiet_hours(enrolled_at + timedelta(days=offset_days))


def job_id(enrolment_id: int, offset_days: int) -> str:
    """The deterministic job id of one reminder."""
    return f"reminder-{enrolment_id}-{offset_days}"


def scheduled_times(enrolled_at: datetime) -> list[tuple[int, datetime]]:
    """Each reminder offset with the moment it is scheduled for (aware UTC, for RQ's scheduler)."""
    return [(offset, due_at(enrolled_at, offset).replace(tzinfo=local_time.UTC)) for offset in offsets()]


def schedule(enrolment_id: int, enrolled_at: datetime) -> int:
    """Put each reminder of an enrolment on RQ's scheduler (again: the ids make it harmless)."""
    count = 0
    for offset, when in scheduled_times(enrolled_at):
        queue("default").enqueue_at(when, send_reminder, enrolment_id, offset, job_id=job_id(enrolment_id, offset))
        count += 1
    return count


def schedule_after_commit(enrolment: Enrolment) -> None:
    """Schedule the reminders once the enrolment is committed (when Redis is down, the sweep does later)."""
    for offset, when in scheduled_times(enrolment.enrolled_at):
        jobs.after_commit(db.session, "default", send_reminder, enrolment.id, offset, at=when,
                          job_id=job_id(enrolment.id, offset), unqueued="the sweep schedules it later")


def skip_reason(enrolment: Enrolment | None, member: Member | None) -> str | None:
    """Why a reminder no longer applies, or None when it does."""
    if enrolment is None or member is None:
        return "gone"
    if member.erased:
        return "deleted"
    if member.opted_out:
        return "opted_out"
    if member.consent_at is None and member.joined_at is None:  # enrolled before consenting to anything
        return "no_consent"
    if enrolment.status != "enrolled":
        return "certificate_reported"
    return None


@jobs.job
def send_reminder(enrolment_id: int, offset_days: int, now: datetime | None = None) -> str:
    """The job: send one reminder once, when it is due and still applies; returns what happened."""
    now = now or utcnow()
    enrolment = db.session.get(Enrolment, enrolment_id, with_for_update=True)
    if enrolment is None:
        return "gone"
    due = due_at(enrolment.enrolled_at, offset_days)
    if now + EARLY < due:
        return "not due"
    moved = out_of_quiet_hours(now)
    if moved != now:
        queue("default").enqueue_at(moved.replace(tzinfo=local_time.UTC), send_reminder, enrolment_id,
                                    offset_days, job_id=job_id(enrolment_id, offset_days) + "-morning")
        return "quiet hours"
    member = db.session.get(Member, enrolment.member_id)
    reason = skip_reason(enrolment, member)
    row = ReminderSend(enrolment_id=enrolment_id, offset_days=offset_days,
                       status="skipped" if reason else "sent", reason=reason, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        db.session.rollback()
        return "already done"
    if reason is None:
        course = db.session.get(Course, enrolment.course_id)
        lang = member.language or "en"
        title = course_title(course, lang)
        reply = Reply.of(msg(REMINDER, course=Text(title), url=Text(course.url)), msg(REMINDER_END))
        [message, *_] = notify(member, reply, template=TEMPLATE, variables={"1": title, "2": course.url},
                               queue_name="default", now=now)
        if message.status == "skipped":
            row.status, row.reason = "skipped", (message.payload or {}).get("reason")
    db.session.commit()
    return row.status if row.reason is None else f"{row.status}: {row.reason}"


def sweep(now: datetime | None = None, horizon: timedelta = timedelta(days=1)) -> int:
    """Queue every due reminder that has not run (a lost job) and schedule those due soon; returns how many."""
    now = now or utcnow()
    days = offsets()
    if not days:
        return 0
    oldest = now - timedelta(days=max(days) + 2)
    enrolments = db.session.execute(
        sa.select(Enrolment.id, Enrolment.enrolled_at).where(Enrolment.status == "enrolled", Enrolment.enrolled_at >= oldest)
    ).all()
    done = {(e, o) for e, o in db.session.execute(
        sa.select(ReminderSend.enrolment_id, ReminderSend.offset_days)
        .join(Enrolment, Enrolment.id == ReminderSend.enrolment_id)
        .where(Enrolment.status == "enrolled", Enrolment.enrolled_at >= oldest)
    )}
    count = 0
    for enrolment_id, enrolled_at in enrolments:
        for offset in days:
            if (enrolment_id, offset) in done:
                continue
            due = due_at(enrolled_at, offset)
            if due <= now:
                queue("default").enqueue(send_reminder, enrolment_id, offset, job_id=job_id(enrolment_id, offset))
                count += 1
            elif due <= now + horizon:
                queue("default").enqueue_at(due.replace(tzinfo=local_time.UTC), send_reminder, enrolment_id, offset,
                                            job_id=job_id(enrolment_id, offset))
                count += 1
    return count
