"""Messages the union starts: the 24-hour window, templates, the outbox, and sending exactly once."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import ConsentEvent, Member, Message, utcnow
from bot.whatsapp.outbound import enqueue, notify, send_outbound
from flows.base import Msg, Reply, Text

HELLO = Reply((Msg("Hello %(name)s!", {"name": Text("Amina")}),))


def add_member(phone: str = "+254712000001", *, language: str = "en", last_inbound: timedelta | None = timedelta(hours=1)):
    """A member who last wrote `last_inbound` ago (None: never)."""
    member = Member(phone=phone, status="active", language=language,
                    last_inbound_at=utcnow() - last_inbound if last_inbound is not None else None)
    db.session.add(member)
    db.session.flush()
    return member


def outbound(app) -> list[Message]:
    """Every outbound message, oldest first."""
    with app.app_context():
        rows = db.session.scalars(sa.select(Message).where(Message.direction == "out").order_by(Message.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_inside_the_window_the_text_goes_to_the_outbox_without_twilio(app, drain):
    with app.app_context():
        notify(add_member(language="sw"), HELLO)
        db.session.commit()
    drain()
    [message] = outbound(app)
    assert (message.status, message.channel, message.body) == ("outbox", "outbox", "Habari Amina!")


def test_inside_the_window_the_text_goes_to_twilio_once(app, drain, fake_twilio):
    with app.app_context():
        [message] = notify(add_member(), HELLO)
        db.session.commit()
        message_id = message.id
    drain()
    with app.app_context():
        assert enqueue(message_id)
    drain()
    with app.app_context():
        assert send_outbound(message_id) == "already handled"
    [sent] = fake_twilio.messages
    assert (sent["to"], sent["body"]) == ("whatsapp:+254712000001", "Hello Amina!")
    [row] = outbound(app)
    assert row.status == "queued" and row.twilio_sid == sent["sid"]


def test_outside_the_window_the_template_is_sent(app, drain, fake_twilio):
    app.config["WHATSAPP_TEMPLATES"] = {"greeting": {"en": "HXen", "sw": "HXsw"}}
    try:
        with app.app_context():
            notify(add_member(language="sw", last_inbound=timedelta(hours=30)), HELLO, template="greeting",
                   variables={"1": "Amina"})
            db.session.commit()
        drain()
    finally:
        app.config["WHATSAPP_TEMPLATES"] = {}
    [sent] = fake_twilio.messages
    assert sent["content_sid"] == "HXsw" and '"1": "Amina"' in sent["content_variables"]


def test_outside_the_window_without_a_template_it_is_skipped_with_its_reason(app, drain, fake_twilio):
    with app.app_context():
        notify(add_member(last_inbound=None), HELLO, template="greeting")
        db.session.commit()
    drain()
    [row] = outbound(app)
    assert row.status == "skipped" and row.payload["reason"] == "no_template"
    assert fake_twilio.messages == []


def test_opted_out_members_get_nothing(app, drain, fake_twilio):
    with app.app_context():
        member = add_member()
        member.opted_out_at = utcnow()
        notify(member, HELLO)
        db.session.commit()
    drain()
    assert outbound(app)[0].status == "skipped" and fake_twilio.messages == []


def test_twilio_21610_marks_the_member_opted_out_and_is_not_retried(app, drain, fake_twilio):
    fake_twilio.add_error_rule(21610)
    with app.app_context():
        notify(add_member(), HELLO)
        db.session.commit()
    drain()
    [row] = outbound(app)
    assert (row.status, row.error_code) == ("failed", 21610)
    with app.app_context():
        assert db.session.scalar(sa.select(Member.opted_out_at)) is not None
        assert db.session.scalar(sa.select(ConsentEvent.source)) == "twilio_21610"
    assert len(fake_twilio.attempts) == 1


def test_a_rolled_back_notification_is_never_queued(app, drain, fake_twilio):
    with app.app_context():
        notify(add_member(), HELLO)
        db.session.rollback()
    drain()
    assert fake_twilio.attempts == [] and outbound(app) == []


def test_throttled_by_twilio_the_job_is_retried_and_sends_once(app, drain, fake_twilio):
    with app.app_context():
        notify(add_member(), HELLO)
        db.session.commit()
    fake_twilio.add_error_rule(20429, times=1, http_status=429)
    drain()  # the first try is throttled: the message is given back and the job is retried later
    [message] = outbound(app)
    assert message.status == "pending" and not fake_twilio.messages
    with app.app_context():
        assert send_outbound(message.id) == "sent"  # what RQ's retry runs
        assert send_outbound(message.id) == "already handled"
    assert len(fake_twilio.messages) == 1 and len(fake_twilio.attempts) == 2


def test_a_send_with_no_answer_is_looked_up_at_twilio_and_not_sent_twice(app, drain, fake_twilio):
    import time

    app.config["TWILIO_HTTP_TIMEOUT"] = 0.3
    fake_twilio.add_hang_rule(0.8, times=1)  # Twilio accepts it but answers too late
    with app.app_context():
        notify(add_member(), HELLO)
        db.session.commit()
    drain()
    [message] = outbound(app)
    assert message.status == "uncertain" and "attempted_at" in message.payload
    time.sleep(0.8)
    with app.app_context():
        assert send_outbound(message.id) == "sent"  # the retry finds the message at Twilio
        assert send_outbound(message.id) == "already handled"
    [sent] = fake_twilio.messages
    [message] = outbound(app)
    assert (message.status, message.twilio_sid) == ("queued", sent["sid"])
    assert len(fake_twilio.attempts) == 1


def test_a_send_with_no_answer_that_twilio_does_not_have_is_sent_once(app, drain, fake_twilio):
    with app.app_context():
        [message] = notify(add_member(), HELLO)
        message.payload = {**(message.payload or {}), "attempted_at": utcnow().isoformat()}
        message.status = "uncertain"
        db.session.commit()
        message_id = message.id
        assert send_outbound(message_id) == "sent"
        assert send_outbound(message_id) == "already handled"
    assert len(fake_twilio.messages) == 1
