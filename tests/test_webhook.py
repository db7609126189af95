"""The webhooks over HTTP: signatures, duplicates, concurrency, status callbacks, health."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import Conversation, Member, Message
from tests.helpers.app import AUTH_TOKEN, PUBLIC_URL, WhatsApp, apply_statuses

SID = "SM" + "0123456789abcdef" * 2


def count(app, model, *where) -> int:
    """Rows of a model matching the conditions."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_signed_request_is_answered_with_twiml(whatsapp):
    response = whatsapp.post(whatsapp.form("Hi"))
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True).startswith("<?xml")


@pytest.mark.parametrize("case", ["unsigned", "wrong token", "garbage", "body changed", "url changed", "field added"])
def test_forged_or_tampered_requests_get_403_and_store_nothing(app, whatsapp, case):
    from bot.whatsapp.twilio_api import sign

    form = whatsapp.form("Hi")
    good = sign(PUBLIC_URL + "/whatsapp/inbound", form, AUTH_TOKEN)
    if case == "unsigned":
        response = whatsapp.client.post("/whatsapp/inbound", data=form, base_url=PUBLIC_URL)
    elif case == "wrong token":
        response = whatsapp.post(form, signature=sign(PUBLIC_URL + "/whatsapp/inbound", form, "not-the-token"))
    elif case == "garbage":
        response = whatsapp.post(form, signature="%%%not base64")
    elif case == "body changed":
        response = whatsapp.post({**form, "Body": "STOP"}, signature=good)
    elif case == "url changed":
        response = whatsapp.post(form, signature=sign("https://evil.example.com/whatsapp/inbound", form, AUTH_TOKEN))
    else:
        response = whatsapp.post({**form, "Extra": "1"}, signature=good)
    assert response.status_code == 403
    assert count(app, Message) == 0 and count(app, Member) == 0


def test_status_webhook_refuses_unsigned_requests(client):
    response = client.post("/whatsapp/status", data={"MessageSid": SID, "MessageStatus": "read"}, base_url=PUBLIC_URL)
    assert response.status_code == 403


@pytest.mark.parametrize("form", [
    {"Body": "hi"},
    {"MessageSid": SID, "Body": "hi"},
    {"MessageSid": SID, "From": "whatsapp:not-a-number", "Body": "hi"},
    {"MessageSid": "x" * 65, "From": "whatsapp:+254712345678"},
])
def test_malformed_signed_requests_get_400(whatsapp, form):
    assert whatsapp.post(form).status_code == 400


def test_a_repeated_message_sid_is_processed_once_and_answered_the_same(app, whatsapp):
    form = whatsapp.form("Hi")
    first = whatsapp.post(form).get_data(as_text=True)
    whatsapp.send("1")
    again = whatsapp.post(form).get_data(as_text=True)
    assert first == again
    assert count(app, Message, Message.direction == "in") == 2
    with app.app_context():
        assert db.session.get(Conversation, 1).step == "name"


def test_inbound_message_is_stored_with_its_media(app, whatsapp):
    whatsapp.send("", NumMedia="1", MediaUrl0="https://api.twilio.com/m/ME1", MediaContentType0="image/png")
    with app.app_context():
        message = db.session.scalars(sa.select(Message).where(Message.direction == "in")).one()
        assert message.media == [{"url": "https://api.twilio.com/m/ME1", "content_type": "image/png"}]
        assert message.processed_at is not None and message.member_id is not None


def test_concurrent_messages_from_one_member_are_processed_one_at_a_time(app):
    """Ten messages at once on PostgreSQL: each is processed, one after another, none lost."""
    member = WhatsApp(app.test_client(), "+254711000111")
    member.send("Hi")
    member.send("1")
    forms = [member.form("12345") for _ in range(10)]

    def post(form):
        return WhatsApp(app.test_client(), member.phone).post(form).status_code

    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(post, forms))
    assert codes == [200] * 10
    assert count(app, Message, Message.direction == "in", Message.processed_at.is_not(None)) == 12
    assert count(app, Member) == 1
    with app.app_context():
        conversation = db.session.get(Conversation, 1)
        # Ten wrong names in a row: every third one offers help and resets the count, so 10 → 1 left.
        assert (conversation.step, conversation.errors) == ("name", 10 % 3)


def test_concurrent_first_messages_create_one_member(app):
    forms = [WhatsApp(None, "+254722333444").form("Hi") for _ in range(8)]

    def post(form):
        return WhatsApp(app.test_client(), "+254722333444").post(form).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(post, forms)) == [200] * 8
    assert count(app, Member) == 1


def test_status_callbacks_out_of_order_never_move_backwards(app, whatsapp):
    with app.app_context():
        member = Member(phone="+254700000001", status="active")
        db.session.add(member)
        db.session.flush()
        db.session.add(Message(member_id=member.id, direction="out", channel="rest", twilio_sid=SID,
                               status="queued", status_rank=1))
        db.session.commit()

    def status(value, answer=200):
        form = {"MessageSid": SID, "MessageStatus": value, "AccountSid": "AC1"}
        assert whatsapp.post(form, path="/whatsapp/status").status_code == answer
        apply_statuses(app)
        with app.app_context():
            row = db.session.scalars(sa.select(Message).where(Message.twilio_sid == SID)).one()
            return row.status, row.error_code

    assert status("read") == ("read", None)
    assert status("delivered") == ("read", None)
    assert status("sent") == ("read", None)
    assert status("bogus", answer=400) == ("read", None)


def test_failed_status_keeps_its_error_code_and_is_not_overwritten_by_sent(app, whatsapp):
    with app.app_context():
        db.session.add(Message(direction="out", channel="rest", twilio_sid=SID, status="queued", status_rank=1))
        db.session.commit()
    for value, code in [("failed", "63016"), ("sent", None)]:
        form = {"MessageSid": SID, "MessageStatus": value, **({"ErrorCode": code} if code else {})}
        whatsapp.post(form, path="/whatsapp/status")
    apply_statuses(app)
    with app.app_context():
        row = db.session.scalars(sa.select(Message).where(Message.twilio_sid == SID)).one()
        assert (row.status, row.error_code) == ("failed", 63016)


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"database": "ok", "redis": "ok", "status": "ok"}


def test_embedded_default_creates_its_database_and_answers_a_signed_message(tmp_path):
    """No settings at all: SQLite in the instance folder, embedded Redis, signed with the local token."""
    script = textwrap.dedent("""
        from pathlib import Path
        from bot import create_app
        from bot.devtools.simulator import inbound_form, replies_of
        from bot.whatsapp.twilio_api import sign
        app = create_app()
        token = (Path(app.instance_path) / "local_auth_token").read_text().strip()
        client = app.test_client()
        form = inbound_form("+254712345678", "Habari")
        url = app.config["PUBLIC_URL"] + "/whatsapp/inbound"
        response = client.post("/whatsapp/inbound", data=form, headers={"X-Twilio-Signature": sign(url, form, token)})
        print(response.status_code)
        print(replies_of(response.get_data(as_text=True))[0].splitlines()[0])
        print(client.get("/healthz").get_json()["redis"])
        print((Path(app.instance_path) / "umoja.db").exists())
    """)
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("DATABASE_URL", "REDIS_URL", "TWILIO_", "PUBLIC_URL", "SECRET_KEY"))}
    result = subprocess.run([sys.executable, "-c", script], env={**keep, "INSTANCE_PATH": str(tmp_path)},
                            capture_output=True, text=True, timeout=120, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-4:] == ["200", "Karibu Kenya Union of Gig Workers!", "ok", "True"]


@pytest.mark.parametrize(("code", "answer"), [("²", 400), ("12a", 400), ("9" * 40, 400), ("", 200)])
def test_odd_error_codes_in_a_status_callback_are_refused_or_ignored_not_a_crash(app, whatsapp, code, answer):
    with app.app_context():
        db.session.add(Message(direction="out", channel="rest", twilio_sid=SID, status="sent", status_rank=3))
        db.session.commit()
    form = {"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": code}
    assert whatsapp.post(form, path="/whatsapp/status").status_code == answer
    apply_statuses(app)
    with app.app_context():
        row = db.session.scalars(sa.select(Message).where(Message.twilio_sid == SID)).one()
        assert row.status == ("sent" if answer == 400 else "failed") and row.error_code is None


@pytest.mark.parametrize("replies", [
    [],
    [("Hi", 1)],
    [("Karibu! <b>&</b> \"1\" 'x'\n\tline\r\n", 12), ("", 3), ("no row", None), ("\x00\x1fnul", 99)],
    [("", None), ("Ω ✓ عربي > 2", 2**40)],
])
def test_twiml_is_written_as_the_twilio_library_writes_it(app, replies):
    from twilio.twiml.messaging_response import MessagingResponse

    from bot.whatsapp.twilio_api import status_callback_url
    from bot.whatsapp.webhook import NOT_TEXT, twiml_text

    expected = MessagingResponse()
    with app.app_context():
        for text, reply_id in replies:
            action = {"action": status_callback_url(f"m={reply_id}")} if reply_id is not None else {}
            expected.message(NOT_TEXT.sub("", text), **action)
        assert twiml_text(replies) == str(expected)


def test_both_inbound_paths_answer_alike_and_the_wsgi_one_skips_flask(app, tmp_path):
    import re

    from flask import request_started

    from bot import create_app
    from tests.helpers.app import app_config

    flask_app = create_app(app_config(tmp_path, INBOUND_PATH="flask"))
    started: list[str] = []

    def note(sender, **_extra):
        started.append(sender.config["INBOUND_PATH"])

    answers = {}
    request_started.connect(note)
    try:
        for path, each, phone in (("wsgi", app, "+254712345601"), ("flask", flask_app, "+254712345602")):
            member = WhatsApp(each.test_client(), phone)
            first = member.form("Hi")
            responses = [member.post(first), member.post(first), member.post(member.form("MENU")),
                         member.post({"Body": "hi"}), member.post(first, signature="wrong"),
                         member.post({**member.form("x"), **{f"F{i}": "1" for i in range(250)}})]
            answers[path] = [(r.status_code, r.mimetype, re.sub(r"m=[0-9]+", "m=", r.get_data(as_text=True)))
                             for r in responses]
    finally:
        request_started.disconnect(note)
    assert answers["wsgi"] == answers["flask"]
    assert [code for code, *_ in answers["wsgi"]] == [200, 200, 200, 400, 403, 400]
    assert "<Message" in answers["wsgi"][0][2] and answers["wsgi"][0] == answers["wsgi"][1]
    assert "wsgi" not in started and started.count("flask") == 6
