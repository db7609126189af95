"""Status callbacks through the stream: the webhook appends, a consumer applies batches (out of order,
duplicated, before the SID is stored, for replies, single messages and broadcast deliveries), and a
consumer that dies mid-batch loses nothing and moves nothing backwards."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.broadcasts import service as broadcasts
from bot.core.extensions import db
from bot.core.redis_conn import connect
from bot.models import BroadcastDelivery, ConsentEvent, Member, Message
from bot.whatsapp import outbound, statuses
from bot.whatsapp.statuses import STREAM, Consumer, StatusUpdate
from flows.base import Msg, Reply, Text
from tests.helpers.app import PUBLIC_URL, apply_statuses
from tests.helpers.broadcasts import running_broadcast_to


def sid(n: int) -> str:
    """A MessageSid of Twilio's shape."""
    return f"SM{n:032x}"


def post(whatsapp, message_sid: str, status: str, code: int | None = None, query: str = "",
         public_url: str = PUBLIC_URL) -> int:
    """A signed status callback as Twilio posts it (to the app at `public_url`); returns the HTTP status."""
    form = {"AccountSid": "AC" + "1" * 32, "MessageSid": message_sid, "SmsSid": message_sid,
            "MessageStatus": status, "SmsStatus": status, **({"ErrorCode": str(code)} if code else {})}
    path = "/whatsapp/status" + query
    return whatsapp.post(form, path=path, url=public_url + path).status_code


def add_message(app, *, twilio_sid: str | None, status: str = "queued", rank: int = 1, channel: str = "rest",
                phone: str = "+254799000009") -> int:
    """An outbound message to a member; returns its id."""
    with app.app_context():
        member = db.session.scalar(sa.select(Member).where(Member.phone == phone))
        if member is None:
            member = Member(phone=phone, status="active")
            db.session.add(member)
            db.session.flush()
        message = Message(member_id=member.id, direction="out", channel=channel, twilio_sid=twilio_sid,
                          status=status, status_rank=rank)
        db.session.add(message)
        db.session.commit()
        return message.id


def message(app, message_id: int) -> tuple[str, str | None, int | None]:
    with app.app_context():
        row = db.session.get(Message, message_id)
        return row.status, row.twilio_sid, row.error_code


def deliveries_of(app, broadcast_id: int) -> list[BroadcastDelivery]:
    with app.app_context():
        rows = db.session.scalars(sa.select(BroadcastDelivery).where(BroadcastDelivery.broadcast_id == broadcast_id)
                                  .order_by(BroadcastDelivery.id)).all()
        db.session.expunge_all()
        return list(rows)


def broadcast_of(app, members: int, status: str = "accepted") -> tuple[int, list[int]]:
    """A running broadcast whose deliveries were posted to Twilio, with no SID recorded yet."""
    with app.app_context():
        broadcast_id = running_broadcast_to(members)
        db.session.execute(sa.update(BroadcastDelivery).values(status=status, status_rank=1, attempts=1))
        db.session.commit()
    return broadcast_id, [row.id for row in deliveries_of(app, broadcast_id)]


def opt_outs(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(ConsentEvent)
                                 .where(ConsentEvent.kind == "opt_out"))


def stream_length(app) -> int:
    with app.app_context():
        return connect().xlen(STREAM)


def test_the_webhook_appends_the_status_and_the_consumer_applies_it(app, whatsapp):
    message_id = add_message(app, twilio_sid=sid(1))
    assert post(whatsapp, sid(1), "read") == 200
    assert stream_length(app) == 1
    assert message(app, message_id)[0] == "queued"  # not yet: the consumer applies it
    assert apply_statuses(app) == 1
    assert message(app, message_id)[0] == "read"
    assert stream_length(app) == 0  # applied entries are acknowledged and deleted


def test_a_status_redis_cannot_take_gets_a_5xx_so_twilio_retries_it(app, whatsapp):
    message_id = add_message(app, twilio_sid=sid(1))
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        assert post(whatsapp, sid(1), "read") == 503
    finally:
        app.config["REDIS_URL"] = saved
    assert apply_statuses(app) == 0 and message(app, message_id)[0] == "queued"


def test_a_status_that_says_nothing_about_delivery_is_answered_and_not_kept(app, whatsapp):
    assert post(whatsapp, sid(1), "received") == 200
    assert stream_length(app) == 0


def test_out_of_order_and_duplicated_statuses_never_move_backwards(app, whatsapp):
    ids = [add_message(app, twilio_sid=sid(n)) for n in range(1, 6)]
    broadcast_id, delivery_ids = broadcast_of(app, 5)
    orders = [["read", "delivered", "sent"], ["sent", "read", "read", "delivered"], ["delivered", "sent", "sent"],
              ["read", "sent", "delivered", "read"], ["sent", "delivered", "read"]]
    for n, order in enumerate(orders):
        for status in order:
            assert post(whatsapp, sid(n + 1), status) == 200
            assert post(whatsapp, sid(100 + n), status, query=f"?d={delivery_ids[n]}") == 200
    with app.app_context():
        Consumer("tests", batch=7).drain()  # batches that cut through each message's callbacks
    expected = [max(order, key=statuses.STATUS_RANK.get) for order in orders]
    assert [message(app, i)[0] for i in ids] == expected
    assert [row.status for row in deliveries_of(app, broadcast_id)] == expected
    # Late repeats, each in a batch of its own and all together: nothing moves.
    for n in range(5):
        post(whatsapp, sid(n + 1), "sent")
        post(whatsapp, sid(100 + n), "sent", query=f"?d={delivery_ids[n]}")
    with app.app_context():
        Consumer("tests", batch=1).step()
    apply_statuses(app)
    assert [message(app, i)[0] for i in ids] == expected
    assert [row.status for row in deliveries_of(app, broadcast_id)] == expected
    with app.app_context():
        assert broadcasts.figures(broadcast_id).counts["delivered"] == 5


def test_a_status_before_the_sid_is_stored_lands_on_a_single_message(app, whatsapp):
    message_id = add_message(app, twilio_sid=None, status="sending", rank=0)
    assert post(whatsapp, sid(7), "delivered", query=f"?m={message_id}") == 200
    apply_statuses(app)
    assert message(app, message_id) == ("delivered", sid(7), None)
    with app.app_context():
        outbound.accepted(message_id, sid(7))  # the worker's write of the SID comes after: it stays delivered
    assert message(app, message_id) == ("delivered", sid(7), None)
    # A status for this message with another SID is not its.
    post(whatsapp, sid(8), "read", query=f"?m={message_id}")
    apply_statuses(app)
    assert message(app, message_id) == ("delivered", sid(7), None)


def test_a_reply_sent_as_twiml_gets_its_statuses(app, whatsapp):
    whatsapp.send("Hi")
    with app.app_context():
        reply = db.session.scalars(sa.select(Message).where(Message.channel == "twiml")).first()
        assert (reply.status, reply.twilio_sid) == ("replied", None)
        reply_id = reply.id
    for status in ("read", "sent", "delivered"):
        assert post(whatsapp, sid(9), status, query=f"?m={reply_id}") == 200
    apply_statuses(app)
    assert message(app, reply_id) == ("read", sid(9), None)


def test_a_status_before_the_sid_is_stored_lands_on_a_broadcast_delivery(app, whatsapp):
    broadcast_id, delivery_ids = broadcast_of(app, 2, status="sending")
    assert post(whatsapp, sid(11), "delivered", query=f"?d={delivery_ids[0]}") == 200
    assert post(whatsapp, sid(12), "read", query=f"?d={delivery_ids[0]}") == 200  # another SID: not this one's
    apply_statuses(app)
    first = deliveries_of(app, broadcast_id)[0]
    assert (first.status, first.twilio_sid) == ("delivered", sid(11))


def test_the_error_reactions_are_kept(app, whatsapp):
    app.config["WHATSAPP_TEMPLATES"] = {}
    try:
        broadcast_id, delivery_ids = broadcast_of(app, 3)
        single = add_message(app, twilio_sid=sid(30), phone="+254799000001")
        post(whatsapp, sid(20), "failed", 21610, query=f"?d={delivery_ids[0]}")
        post(whatsapp, sid(21), "failed", 63018, query=f"?d={delivery_ids[1]}")
        post(whatsapp, sid(22), "undelivered", 63016, query=f"?d={delivery_ids[2]}")
        post(whatsapp, sid(30), "failed", 21610, query=f"?m={single}")
        apply_statuses(app)
    finally:
        app.config["WHATSAPP_TEMPLATES"] = {}
    rows = deliveries_of(app, broadcast_id)
    assert (rows[0].status, rows[0].error_code) == ("failed", 21610)
    assert (rows[1].status, rows[1].twilio_sid, rows[1].next_attempt_at is not None) == ("queued", None, True)
    assert (rows[2].status, rows[2].reason) == ("skipped", "no_template")
    assert message(app, single) == ("failed", sid(30), 21610)
    with app.app_context():
        opted = db.session.scalars(sa.select(Member.id).where(Member.opted_out_at.is_not(None))).all()
        assert set(opted) == {rows[0].member_id, db.session.get(Message, single).member_id}
    assert opt_outs(app) == 2


def test_a_consumer_killed_mid_batch_loses_nothing_and_moves_nothing_backwards(app, whatsapp):
    ids = [add_message(app, twilio_sid=sid(n)) for n in range(1, 11)]
    broadcast_id, delivery_ids = broadcast_of(app, 4)
    for n in range(10):
        for status in ("sent", "read", "delivered"):
            post(whatsapp, sid(n + 1), status)
    post(whatsapp, sid(40), "delivered", query=f"?d={delivery_ids[0]}")
    post(whatsapp, sid(41), "failed", 21610, query=f"?d={delivery_ids[1]}")
    post(whatsapp, sid(42), "failed", 63018, query=f"?d={delivery_ids[2]}")
    with app.app_context():
        # The first consumer takes a batch and dies before applying it.
        dead = Consumer("dead", batch=10)
        assert len(dead.take()) == 10
        # The second takes the rest, applies it and dies before acknowledging.
        dying = Consumer("dying", claim_seconds=3600)
        taken = dying.take()
        statuses.apply(update for _, update in taken)
        db.session.remove()
        # A third takes over what both left pending, once it is old enough (here: at once).
        assert Consumer("next", claim_seconds=0).drain() == 33
    assert stream_length(app) == 0
    assert [message(app, i)[0] for i in ids] == ["read"] * 10
    rows = deliveries_of(app, broadcast_id)
    assert [row.status for row in rows[:3]] == ["delivered", "failed", "queued"]
    assert rows[2].attempts == 1  # requeued once for its retry, not twice
    assert opt_outs(app) == 1  # the opt-out is recorded once


def test_inline_applies_in_the_request_as_before(app, whatsapp):
    message_id = add_message(app, twilio_sid=sid(1))
    app.config["STATUS_APPLY"] = "inline"
    try:
        assert post(whatsapp, sid(1), "delivered") == 200
    finally:
        app.config["STATUS_APPLY"] = "stream"
    assert stream_length(app) == 0 and message(app, message_id)[0] == "delivered"


def test_an_entry_that_is_not_a_status_is_acknowledged_and_dropped(app, whatsapp):
    message_id = add_message(app, twilio_sid=sid(1))
    with app.app_context():
        Consumer("tests")  # the group exists
        connect().xadd(STREAM, {"x": "1"})
        statuses.append(StatusUpdate(sid(1), "read"))
    assert apply_statuses(app) == 2
    assert stream_length(app) == 0 and message(app, message_id)[0] == "read"


# --- the URLs we give Twilio --------------------------------------------------------------------------

RETRY = "#rc=3&rp=5xx,ct,rt"
REPLY = Reply((Msg("Hello %(name)s!", {"name": Text("Amina")}),))


def test_a_twiml_reply_names_its_row_in_its_action_and_its_statuses_land_there(app, whatsapp):
    import xml.etree.ElementTree as ET

    form = whatsapp.form("Hi")
    answer = whatsapp.post(form)
    messages = list(ET.fromstring(answer.get_data(as_text=True)).iter("Message"))
    with app.app_context():
        reply_ids = db.session.scalars(sa.select(Message.id).where(Message.channel == "twiml")
                                       .order_by(Message.id)).all()
    assert messages and len(messages) == len(reply_ids)
    for node, reply_id in zip(messages, reply_ids, strict=True):
        assert node.get("action") == f"{PUBLIC_URL}/whatsapp/status?m={reply_id}{RETRY}"
    # Twilio calls that URL without its fragment (a fragment never leaves the client) and signs it so.
    action = messages[0].get("action").removeprefix(PUBLIC_URL).split("#")[0]
    assert post(whatsapp, sid(50), "delivered", query=action.removeprefix("/whatsapp/status")) == 200
    apply_statuses(app)
    assert message(app, reply_ids[0]) == ("delivered", sid(50), None)
    # Twilio's retry of the message is answered the same, naming the same rows.
    assert whatsapp.post(form).get_data(as_text=True) == answer.get_data(as_text=True)


def test_a_single_message_and_a_broadcast_give_twilio_their_row_and_the_retry_fragment(app, drain, pipeline):
    from tests.helpers.broadcasts import add_members

    with app.app_context():
        member = db.session.get(Member, add_members(1, start=900)[0])
        [single] = outbound.notify(member, REPLY)
        db.session.commit()
        single_id, phone = single.id, member.phone
    drain()
    with app.app_context():
        broadcast_id = running_broadcast_to(1)  # to that member and one more
        broadcasts.launch(broadcast_id, jobs=1)
    drain()
    callbacks = sorted(m["status_callback"] for m in pipeline.messages)
    rows = deliveries_of(app, broadcast_id)
    base = app.config["PUBLIC_URL"]
    assert callbacks == sorted([f"{base}/whatsapp/status?m={single_id}{RETRY}",
                                *(f"{base}/whatsapp/status?d={row.id}{RETRY}" for row in rows)])
    assert f"whatsapp:{phone}" in {m["to"] for m in pipeline.messages}
    # The fake Twilio posts the statuses back (without the fragment); the consumer beside applies them.
    pipeline.wait_for_callbacks(9)
    apply_statuses(app)
    assert message(app, single_id)[0] == "read"
    assert [row.status for row in deliveries_of(app, broadcast_id)] == ["read", "read"]
    # The send pipeline set `sent_at` when Twilio accepted each; the statuses the later steps.
    assert all(row.sent_at is not None and row.sent_at <= row.delivered_at <= row.read_at
               for row in deliveries_of(app, broadcast_id))


def times_of(app, broadcast_id: int) -> list[tuple]:
    """Each delivery's status and funnel times (sent, delivered, read)."""
    return [(row.status, row.sent_at, row.delivered_at, row.read_at) for row in deliveries_of(app, broadcast_id)]


def test_the_funnel_times_are_set_once_out_of_order_and_duplicated(app, whatsapp):
    broadcast_id, delivery_ids = broadcast_of(app, 4)
    assert all(times[1:] == (None, None, None) for times in times_of(app, broadcast_id))
    # One batch: read before delivered before sent; a sent alone; a failure; nothing yet for the last.
    for status in ("read", "delivered", "sent"):
        post(whatsapp, sid(50), status, query=f"?d={delivery_ids[0]}")
    post(whatsapp, sid(51), "sent", query=f"?d={delivery_ids[1]}")
    post(whatsapp, sid(52), "failed", 63024, query=f"?d={delivery_ids[2]}")
    apply_statuses(app)
    first = times_of(app, broadcast_id)
    read, sent, failed, untouched = first
    assert read[0] == "read" and read[1] is not None and read[1] == read[2] == read[3]  # the read implies the rest
    assert sent[0] == "sent" and sent[1] is not None and sent[2:] == (None, None)
    assert failed == ("failed", None, None, None)
    assert untouched == ("accepted", None, None, None)
    # Later batches: each step's time is that of the batch that first reached it; repeats change nothing.
    for status in ("sent", "delivered", "delivered"):
        post(whatsapp, sid(51), status, query=f"?d={delivery_ids[1]}")
    post(whatsapp, sid(50), "delivered", query=f"?d={delivery_ids[0]}")
    apply_statuses(app)
    post(whatsapp, sid(51), "read", query=f"?d={delivery_ids[1]}")
    post(whatsapp, sid(51), "sent", query=f"?d={delivery_ids[1]}")
    post(whatsapp, sid(50), "read", query=f"?d={delivery_ids[0]}")
    apply_statuses(app)
    later = times_of(app, broadcast_id)
    assert later[0] == read
    assert later[1][0] == "read" and later[1][1] == sent[1] and sent[1] < later[1][2] < later[1][3]
    assert later[2:] == first[2:]
    # A batch applied a second time (its consumer died before acknowledging it) changes nothing.
    repeated = [StatusUpdate(sid(51), status, delivery=delivery_ids[1]) for status in ("sent", "delivered", "read")]
    repeated += [StatusUpdate(sid(53), "delivered", delivery=delivery_ids[3])]
    with app.app_context():
        statuses.apply(repeated)
        once = times_of(app, broadcast_id)
        statuses.apply(repeated)
    assert times_of(app, broadcast_id) == once
    assert once[:3] == later[:3] and once[3][0] == "delivered" and once[3][1] == once[3][2] is not None


def test_the_inline_path_sets_the_times_once_too(app, whatsapp, monkeypatch):
    broadcast_id, delivery_ids = broadcast_of(app, 1)
    monkeypatch.setitem(app.config, "STATUS_APPLY", "inline")
    post(whatsapp, sid(60), "delivered", query=f"?d={delivery_ids[0]}")
    [(status, sent, delivered, read)] = times_of(app, broadcast_id)
    assert status == "delivered" and sent is not None and sent == delivered and read is None
    post(whatsapp, sid(60), "sent", query=f"?d={delivery_ids[0]}")
    post(whatsapp, sid(60), "delivered", query=f"?d={delivery_ids[0]}")
    assert times_of(app, broadcast_id) == [(status, sent, delivered, read)]
    post(whatsapp, sid(60), "read", query=f"?d={delivery_ids[0]}")
    [(status, sent_after, delivered_after, read)] = times_of(app, broadcast_id)
    assert (status, sent_after, delivered_after) == ("read", sent, delivered) and read > delivered
    assert stream_length(app) == 0


def test_a_recovered_send_with_its_sid_counts_as_sent_when_it_was_posted(app):
    from datetime import timedelta

    from bot.models import utcnow

    posted = utcnow() - timedelta(minutes=10)
    broadcast_id, delivery_ids = broadcast_of(app, 2, status="sending")
    with app.app_context():
        for n, delivery_id in enumerate(delivery_ids):
            db.session.execute(sa.update(BroadcastDelivery).where(BroadcastDelivery.id == delivery_id).values(
                status_rank=0, twilio_sid=sid(70 + n), updated_at=posted, lease_until=posted,
                sent_at=posted - timedelta(minutes=1) if n else None))
        db.session.commit()
        assert broadcasts.recover(broadcast_id) == 2
    rows = deliveries_of(app, broadcast_id)
    assert [(row.status, row.sent_at) for row in rows] == [("accepted", posted),
                                                           ("accepted", posted - timedelta(minutes=1))]


# --- 63016 and 63018 on single messages -------------------------------------------------------------

VOUCHER = Reply((Msg("Your code is %(code)s", {"code": Text("LI-1234")}),))


def notified(app, *, start: int = 700, kind: str = "voucher") -> int:
    """A member inside the window and a notification of `kind` to them, stored and committed; its id."""
    from tests.helpers.broadcasts import add_members

    with app.app_context():
        member = db.session.get(Member, add_members(1, start=start)[0])
        [row] = outbound.notify(member, VOUCHER, template=kind, variables={"1": "LI-1234"})
        db.session.commit()
        return row.id


def outbound_rows(app) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Message).where(Message.direction == "out").order_by(Message.id)).all()
        db.session.expunge_all()
        return list(rows)


def until(check, timeout: float = 10.0):
    """Wait for `check()` to be true (the live consumer applies callbacks in a thread); returns it."""
    import time

    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)
    return result


def test_a_63016_resends_a_single_message_as_its_kinds_template(app, pipeline, drain, whatsapp):
    app.config["WHATSAPP_TEMPLATES"] = {"voucher": {"en": "HXvoucher"}}
    first = notified(app)
    pipeline.add_error_rule(63016, times=1)  # accepted, then failed in its status callback
    drain()
    until(lambda: len(outbound_rows(app)) == 2)
    drain()
    [sent_as_text, sent_as_template] = pipeline.wait_for_messages(2)
    assert sent_as_text["body"] == "Your code is LI-1234" and sent_as_text["content_sid"] is None
    assert sent_as_template["content_sid"] == "HXvoucher" and sent_as_template["body"] is None
    assert json.loads(sent_as_template["content_variables"]) == {"1": "LI-1234"}
    failed, resent = outbound_rows(app)
    assert (failed.id, failed.status, failed.error_code) == (first, "failed", 63016)
    assert failed.payload["handled"] == "resent" and failed.payload["resent_as"] == resent.id
    assert resent.kind == "voucher" and resent.payload["content_sid"] == "HXvoucher"
    until(lambda: outbound_rows(app)[1].status == "read")
    # Twilio's callback again, and once more inline: the message was resent once, and only once.
    live = app.config["PUBLIC_URL"]
    assert post(whatsapp, failed.twilio_sid, "failed", 63016, query=f"?m={first}", public_url=live) == 200
    apply_statuses(app)
    app.config["STATUS_APPLY"] = "inline"
    try:
        assert post(whatsapp, failed.twilio_sid, "failed", 63016, query=f"?m={first}", public_url=live) == 200
    finally:
        app.config["STATUS_APPLY"] = "stream"
    drain()
    assert len(outbound_rows(app)) == 2 and len(pipeline.attempts) == 2



def test_a_63016_without_a_template_for_its_kind_parks_the_message_with_its_reason(app, whatsapp):
    from bot.dashboard.timeline import message_reason

    app.config["WHATSAPP_TEMPLATES"] = {"reminder": {"en": "HXreminder"}}  # none for vouchers
    try:
        first = notified(app)
        with app.app_context():
            db.session.execute(sa.update(Message).values(status="queued", status_rank=1, twilio_sid=sid(60)))
            db.session.commit()
        assert post(whatsapp, sid(60), "undelivered", 63016, query=f"?m={first}") == 200
        apply_statuses(app)
    finally:
        app.config["WHATSAPP_TEMPLATES"] = {}
    [row] = outbound_rows(app)
    assert (row.status, row.error_code, row.payload["handled"], row.payload["reason"]) == (
        "undelivered", 63016, "no_template", "no_template")
    assert message_reason(row) == "outside the 24-hour window and no template is configured"


def test_a_63018_sends_the_single_message_again_later_a_bounded_number_of_times(app, whatsapp):
    from rq.registry import ScheduledJobRegistry

    from bot.core import jobs

    first = notified(app)
    current, tries = first, []
    for n in range(outbound.RATE_LIMIT_TRIES):
        with app.app_context():
            db.session.execute(sa.update(Message).where(Message.id == current)
                               .values(status="queued", status_rank=1, twilio_sid=sid(70 + n)))
            db.session.commit()
        assert post(whatsapp, sid(70 + n), "failed", 63018, query=f"?m={current}") == 200
        assert post(whatsapp, sid(70 + n), "failed", 63018, query=f"?m={current}") == 200  # Twilio's retry
        apply_statuses(app)
        rows = outbound_rows(app)
        tries.append(rows[-1].payload.get("tries"))
        current = rows[-1].id
    rows = outbound_rows(app)
    assert len(rows) == outbound.RATE_LIMIT_TRIES  # one row per try, none twice
    assert tries == [2, 3, 4, 4] and rows[-1].payload["handled"] == "given_up"  # the last is not sent again
    assert rows[-1].payload["reason"] == "too_many_attempts"
    assert [row.payload["handled"] for row in rows[:-1]] == ["retried"] * (outbound.RATE_LIMIT_TRIES - 1)
    waits = [datetime.fromisoformat(row.payload["not_before"]) - row.created_at for row in rows[1:]]
    assert waits == [outbound.RATE_LIMIT_WAIT * 2 ** n for n in range(outbound.RATE_LIMIT_TRIES - 1)]
    assert all(row.body == "Your code is LI-1234" and row.kind == "voucher" for row in rows)
    with app.app_context():
        scheduled = ScheduledJobRegistry(queue=jobs.queue("replies")).get_job_ids()
        assert {f"outbound-{row.id}" for row in rows[1:]} <= set(scheduled)
        assert outbound.requeue_pending(older_than=timedelta(0)) == 0  # not before their time


def test_a_consumer_killed_mid_batch_resends_a_single_message_once(app, whatsapp):
    app.config["WHATSAPP_TEMPLATES"] = {"voucher": {"en": "HXvoucher"}}
    try:
        first = notified(app)
        with app.app_context():
            db.session.execute(sa.update(Message).values(status="queued", status_rank=1, twilio_sid=sid(80)))
            db.session.commit()
        post(whatsapp, sid(80), "failed", 63016, query=f"?m={first}")
        post(whatsapp, sid(80), "failed", 63016, query=f"?m={first}")
        with app.app_context():
            dying = Consumer("dying", claim_seconds=3600)
            statuses.apply(update for _, update in dying.take())  # applied, reacted, never acknowledged
            db.session.remove()
            assert Consumer("next", claim_seconds=0).drain() == 2
    finally:
        app.config["WHATSAPP_TEMPLATES"] = {}
    failed, resent = outbound_rows(app)
    assert failed.payload["resent_as"] == resent.id and resent.payload["content_sid"] == "HXvoucher"
    assert resent.payload["content_variables"] == {"1": "LI-1234"}


def test_a_voucher_refused_with_63016_and_no_template_is_kept_for_the_members_next_message(
        app, client, catalog, whatsapp, tmp_path):
    from bot.models import Voucher
    from tests.helpers.app import WhatsApp
    from tests.helpers.dashboard import rewarded_member

    member_id = rewarded_member(app, tmp_path, "LI-KEPT-0001")  # inside the window: the code went as a text
    with app.app_context():
        [carrier] = db.session.scalars(sa.select(Message).where(Message.member_id == member_id,
                                                                Message.kind == "voucher")).all()
        assert "LI-KEPT-0001" in carrier.body and db.session.scalar(sa.select(Voucher.sent_at)) is not None
        db.session.execute(sa.update(Message).where(Message.id == carrier.id)
                           .values(status="queued", status_rank=1, twilio_sid=sid(61)))
        db.session.commit()
        carrier_id = carrier.id
    for _ in range(2):  # Twilio refuses it after accepting it, and says so twice
        assert post(whatsapp, sid(61), "undelivered", 63016, query=f"?m={carrier_id}") == 200
        apply_statuses(app)
    with app.app_context():
        assert db.session.get(Message, carrier_id).payload["handled"] == "no_template"
        assert db.session.scalar(sa.select(Voucher.sent_at)) is None  # kept for her again, not lost
    WhatsApp(client, "+254712345678").send("Hi")  # her next message opens the window: the code goes with it
    with app.app_context():
        carriers = db.session.scalars(sa.select(Message).where(Message.member_id == member_id,
                                                               Message.kind == "voucher")
                                      .order_by(Message.id)).all()
        assert [m.id for m in carriers][0] == carrier_id and len(carriers) == 2
        assert "LI-KEPT-0001" in carriers[1].body and carriers[1].status != "skipped"
        assert db.session.scalar(sa.select(Voucher.sent_at)) is not None
