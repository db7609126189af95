"""Operating it: structured log lines without personal data, error reports without it, and /metrics."""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from bot import create_app
from bot.core.extensions import db
from bot.models import Member, Message, utcnow
from bot.observability import logs
from bot.observability.jobs import ObservedWorker
from bot.whatsapp.outbound import notify
from flows.base import Msg, Reply, Text
from tests.helpers.app import AUTH_TOKEN, PUBLIC_URL, WhatsApp, app_config, apply_statuses

ROOT = Path(__file__).resolve().parent.parent
PHONE = "+254712345678"
NAME = "Amina Wanjiru"
TEXT = "Habari, naitwa Amina na nina swali kuhusu malipo"
TOKEN = "s3cret-scrape-token"


HELLO = Reply((Msg("Hello %(name)s!", {"name": Text("Amina")}),))


def add_member(phone: str = PHONE) -> Member:
    """A member who wrote an hour ago (inside the 24-hour window)."""
    member = Member(phone=phone, status="active", language="en", last_inbound_at=utcnow() - timedelta(hours=1))
    db.session.add(member)
    db.session.flush()
    return member


# --- logs ----------------------------------------------------------------------------------------

@pytest.fixture
def log_lines(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """What the production handler (JSON lines) writes while the test runs, at DEBUG (one line per webhook
    request) and above."""
    stream = io.StringIO()
    handler = logs.make_handler("json", stream)
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    yield stream
    root.removeHandler(handler)


def parsed(stream: io.StringIO) -> list[dict]:
    """Each line written, as the object it holds (every line must be one JSON object)."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_an_inbound_message_logs_its_sid_and_member_id_but_never_the_phone_name_or_text(app, client, log_lines):
    whatsapp = WhatsApp(client, PHONE)
    first = whatsapp.form(TEXT, ProfileName=NAME)
    assert whatsapp.post(first).status_code == 200
    assert whatsapp.post(first).status_code == 200  # Twilio's retry of the same message
    whatsapp.send("STOP", ProfileName=NAME)
    with app.app_context():
        member_id = db.session.scalar(sa.select(Member.id))

    lines = parsed(log_lines)
    mine = [line for line in lines if line.get("message_sid") == first["MessageSid"]]
    assert len(mine) == 2 and all(line["member_id"] == member_id for line in mine)
    assert {"time", "level", "logger", "message"} <= set(mine[0])
    assert mine[0]["http_status"] == 200 and mine[0]["logger"] == "bot.whatsapp.webhook"
    written = log_lines.getvalue()
    for secret in (PHONE, PHONE.lstrip("+"), "712345678", NAME, "Amina", "naitwa", "malipo"):
        assert secret not in written


def test_the_text_format_is_the_default_without_a_database_url_or_twilio_and_json_with_one(tmp_path):
    cases = [{}, {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"}, {"LOG_FORMAT": "json"},
             {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none", "LOG_FORMAT": "text"}]
    # One process, one app per case (each app configures the root logger again, as a new process would).
    script = textwrap.dedent(f"""
        import logging, os
        from bot import create_app
        from bot.observability import logs
        for case in {cases!r}:
            for key in ("DATABASE_URL", "LOG_FORMAT"):
                os.environ.pop(key, None)
            os.environ.update(case)
            create_app()
            with logs.bound(message_sid="SM" + "0a" * 16, member_id=7, job_id="outbound-3"):
                logging.getLogger("bot.check").warning("hello")
    """)
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "LOG_FORMAT"}}
    # On SQLite the app migrates at start-up: alembic must not replace the app's log handler.
    done = subprocess.run([sys.executable, "-c", script], env={**env, "INSTANCE_PATH": str(tmp_path)},
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    laptop, production, asked_json, asked_text = [line for line in done.stderr.splitlines() if "hello" in line]
    context = "[sid=SM" + "0a" * 16 + " member=7 job=outbound-3]"
    assert laptop.endswith(f"WARNING bot.check: hello {context}") and asked_text.endswith(f"hello {context}")
    production = json.loads(production)
    assert (production["level"], production["logger"], production["message"]) == ("WARNING", "bot.check", "hello")
    assert production["message_sid"] == "SM" + "0a" * 16 and production["member_id"] == 7
    assert production["job_id"] == "outbound-3" and production["time"].endswith("+00:00")
    assert json.loads(asked_json)["message"] == "hello"


def test_a_failed_statement_does_not_show_its_parameters(app):
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError) as failed:
            db.session.execute(sa.text("SELECT 1 / 0, :phone, :body"), {"phone": PHONE, "body": TEXT})
        db.session.rollback()
    assert "division by zero" in str(failed.value)
    assert PHONE not in str(failed.value) and TEXT not in str(failed.value)


def test_a_database_error_quoting_a_phone_number_is_logged_without_it(app, log_lines):
    with app.app_context():
        add_member()
        db.session.commit()
        try:
            add_member()  # PostgreSQL's message quotes the duplicate key: Key (phone)=(+2547…)
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
            logging.getLogger("bot.check").exception("could not add the member")
    [line] = [line for line in parsed(log_lines) if line["logger"] == "bot.check"]
    assert "UniqueViolation" in line["exc_info"] and "[Filtered]" in line["exc_info"]
    assert "712345678" not in log_lines.getvalue()
    text = logs.make_handler("text").format(logging.makeLogRecord({"msg": f"no member whatsapp:{PHONE}"}))
    assert text.endswith("no member whatsapp:[Filtered]")


def test_the_worker_logs_each_job_with_its_id_and_counts_it(app, log_lines):
    from prometheus_client import REGISTRY

    from bot.core.queues import QUEUES, queue
    from bot.core.redis_conn import connect

    labels = {"job": "send_outbound", "result": "ok"}
    before = REGISTRY.get_sample_value("umoja_jobs_total", labels) or 0
    with app.app_context():
        [message] = notify(add_member(), HELLO)
        db.session.commit()
        job_id = f"outbound-{message.id}"
        ObservedWorker([queue(name) for name in QUEUES], connection=connect()).work(burst=True)
    assert REGISTRY.get_sample_value("umoja_jobs_total", labels) == before + 1
    assert REGISTRY.get_sample_value("umoja_job_seconds_count", {"job": "send_outbound"}) >= 1
    lines = parsed(log_lines)
    assert [line for line in lines if line.get("job_id") == job_id]
    assert not [line for line in lines if line.get("job_id") not in (None, job_id)]
    assert "Hello Amina" not in log_lines.getvalue() and "712345678" not in log_lines.getvalue()
    assert logs.current() == {}


# --- error reports -------------------------------------------------------------------------------

def test_without_sentry_dsn_nothing_reports_errors(app):
    import sentry_sdk

    from bot.observability.errors import init_error_reporting

    assert app.config["SENTRY_DSN"] is None
    assert not init_error_reporting(app)
    assert not sentry_sdk.get_client().is_active()


class Envelopes(BaseHTTPRequestHandler):
    """Takes Sentry's envelopes (gzip or uncompressed) as a Sentry server would."""

    received: list[bytes]

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.server.received.append(body)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def sentry_server() -> Iterator[ThreadingHTTPServer]:
    """A loopback HTTP server standing in for Sentry; error reporting is switched off again afterwards."""
    import sentry_sdk

    server = ThreadingHTTPServer(("127.0.0.1", 0), Envelopes)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    sentry_sdk.get_client().close(timeout=2)
    sentry_sdk.get_global_scope().set_client(None)
    server.shutdown()
    server.server_close()


def test_an_error_is_reported_to_sentry_without_the_phone_name_or_text(tmp_path, sentry_server):
    import requests
    import sentry_sdk

    port = sentry_server.server_address[1]
    # The database is down: the most likely error in production, raised while the form is at hand.
    app = create_app(app_config(tmp_path, SENTRY_DSN=f"http://public@127.0.0.1:{port}/1",
                                SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:1/none",
                                PROPAGATE_EXCEPTIONS=False))
    assert sentry_sdk.get_client().is_active() and not sentry_sdk.get_client().should_send_default_pii()
    whatsapp = WhatsApp(app.test_client(), PHONE)
    form = whatsapp.form(TEXT, ProfileName=NAME)
    assert whatsapp.post(form).status_code == 500
    # An HTTP call whose query names the member (as the lookup at Twilio does) leaves a breadcrumb on the
    # next report.
    requests.get(f"http://127.0.0.1:{port}/2010-04-01/Messages.json", params={"To": f"whatsapp:{PHONE}"},
                 timeout=5)
    sentry_sdk.capture_message(f"could not ask Twilio about the message to whatsapp:{PHONE}")
    sentry_sdk.flush(timeout=5)

    events = [body.decode() for body in sentry_server.received if b'"type":"event"' in body]
    assert len(events) == 2, sentry_server.received
    error = next(event for event in events if "OperationalError" in event)
    assert "/whatsapp/inbound" in error
    lookup = next(event for event in events if "could not ask Twilio" in event)
    assert "Messages.json" in lookup  # the breadcrumb came along, without its query
    for secret in (PHONE, PHONE.lstrip("+"), "712345678", NAME, "Amina", "naitwa", "malipo", AUTH_TOKEN):
        assert secret not in error and secret not in lookup, secret


def test_the_scrubber_leaves_ids_and_removes_phones_and_request_data():
    from bot.observability.errors import scrub_event

    sid = "SM0123456789abcdef0123456789abcdef"
    event = {
        "event_id": "0123456789abcdef0123456789abcdef",
        "message": f"no member for whatsapp:{PHONE} ({sid})",
        "request": {"method": "POST", "url": f"{PUBLIC_URL}/admin/members?q={NAME}", "data": {"Body": TEXT},
                    "query_string": f"q={NAME}", "cookies": {"session": "x"}, "headers": {"Cookie": "x"}},
        "user": {"ip_address": "127.0.0.1"},
        "extra": {"sys.argv": ["flask", "staff", "add", "0712345678"]},
        "exception": {"values": [{"stacktrace": {"frames": [{"function": "receive", "vars": {"phone": PHONE}}]}}]},
    }
    scrubbed = json.dumps(scrub_event(event))
    assert sid in scrubbed and "0123456789abcdef0123456789abcdef" in scrubbed and "/admin/members" in scrubbed
    for secret in ("712345678", NAME, TEXT, "Cookie", "ip_address", '"vars"'):
        assert secret not in scrubbed, secret


# --- /metrics ------------------------------------------------------------------------------------

@pytest.fixture
def metrics_on(app) -> Iterator[str]:
    """METRICS_TOKEN set while the test runs."""
    app.config["METRICS_TOKEN"] = TOKEN
    yield TOKEN
    app.config["METRICS_TOKEN"] = None


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """Every sample of an authorized scrape, by (name, labels)."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/plain"
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def value(samples: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    """One sample's value (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_is_not_found_without_a_token_setting(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "])
def test_metrics_refuses_a_missing_or_wrong_token(client, metrics_on, header):
    response = client.get("/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert "umoja_" not in response.get_data(as_text=True)


def test_the_counters_move_after_a_signed_inbound_message(client, metrics_on):
    before = scrape(client)
    whatsapp = WhatsApp(client, PHONE)
    whatsapp.send("Hi")
    whatsapp.post(whatsapp.form("Hi"), signature="forged")
    after = scrape(client)
    for name, labels, moved in [("umoja_inbound_messages_total", {"result": "answered"}, 1),
                                ("umoja_inbound_messages_total", {"result": "refused"}, 1),
                                ("umoja_inbound_seconds_count", {}, 1)]:
        assert value(after, name, **labels) == value(before, name, **labels) + moved, name
    assert value(after, "umoja_inbound_seconds_sum") > value(before, "umoja_inbound_seconds_sum")


@pytest.mark.parametrize("path", ["wsgi", "flask"])
def test_a_failed_inbound_message_is_answered_500_counted_and_logged_with_its_sid(tmp_path, log_lines, path):
    from prometheus_client import REGISTRY

    # The database is down: the message cannot even be stored.
    app = create_app(app_config(tmp_path, INBOUND_PATH=path, PROPAGATE_EXCEPTIONS=False,
                                SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:1/none"))
    errors = {"result": "error"}
    before = REGISTRY.get_sample_value("umoja_inbound_messages_total", errors) or 0
    whatsapp = WhatsApp(app.test_client(), PHONE)
    form = whatsapp.form(TEXT, ProfileName=NAME)
    assert whatsapp.post(form).status_code == 500
    assert REGISTRY.get_sample_value("umoja_inbound_messages_total", errors) == before + 1
    [line] = [line for line in parsed(log_lines) if line["level"] == "ERROR"]
    assert line["message"] == "Exception on /whatsapp/inbound [POST]" and "OperationalError" in line["exc_info"]
    assert line["message_sid"] == form["MessageSid"]
    assert "712345678" not in log_lines.getvalue() and "Amina" not in log_lines.getvalue()
    assert logs.current() == {}


def test_sends_statuses_and_queues_are_counted(app, client, metrics_on, fake_twilio, drain):
    before = scrape(client)
    with app.app_context():
        [accepted] = notify(add_member(), HELLO)
        [refused] = notify(add_member("+254712000002"), HELLO)
        db.session.commit()
        accepted_id = accepted.id
    waiting = scrape(client)
    assert value(waiting, "umoja_queue_jobs", queue="replies", state="queued") == 2
    assert value(waiting, "umoja_scrape_source_up", source="redis") == 1
    fake_twilio.add_error_rule(21211, to="whatsapp:+254712000002")
    drain()
    with app.app_context():
        sid = db.session.get(Message, accepted_id).twilio_sid
    status = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC" + "1" * 32}
    whatsapp = WhatsApp(client)
    for _ in range(2):  # the second is a repeat: received, not applied
        assert whatsapp.post(status, path="/whatsapp/status").status_code == 200
    assert value(scrape(client), "umoja_statuses_pending") == 2
    assert apply_statuses(app) == 2
    after = scrape(client)
    assert value(after, "umoja_statuses_pending") == 0
    moves = [("umoja_sends_total", {"outcome": "accepted", "code": "none"}, 1),
             ("umoja_sends_total", {"outcome": "failed", "code": "21211"}, 1),
             ("umoja_status_batch_statuses_total", {"applied": "yes"}, 1),
             ("umoja_status_batch_statuses_total", {"applied": "no"}, 1),
             ("umoja_status_callbacks_total", {"result": "answered"}, 2),
             ("umoja_status_callback_seconds_count", {}, 2)]
    for name, labels, moved in moves:
        assert value(after, name, **labels) == value(before, name, **labels) + moved, (name, labels)
    assert value(after, "umoja_queue_jobs", queue="replies", state="queued") == 0


def test_the_progress_of_a_running_broadcast_is_read_at_scrape_time(app, client, metrics_on):
    from bot.broadcasts import service as broadcasts
    from tests.helpers.broadcasts import running_broadcast_to

    with app.app_context():
        broadcast_id = running_broadcast_to(3)
        done = broadcasts.create("Done already")
        done.status = "done"
        db.session.commit()
        done_id = done.id
    samples = scrape(client)
    assert value(samples, "umoja_broadcast_deliveries", broadcast=str(broadcast_id), state="queued") == 3
    assert value(samples, "umoja_broadcast_deliveries", broadcast=str(broadcast_id), state="sent") == 0
    assert not [key for key in samples if key[0] == "umoja_broadcast_deliveries" and ("broadcast", str(done_id))
                in key[1]]
    assert value(samples, "umoja_scrape_source_up", source="database") == 1


def test_with_a_multiprocess_directory_a_scrape_adds_up_every_process(client, metrics_on, tmp_path, monkeypatch):
    count = "from bot.observability import metrics; metrics.send_finished('accepted', None, None)"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two worker processes, each counting one send
        subprocess.run([sys.executable, "-c", count], env=env, cwd=ROOT, check=True, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = scrape(client)
    assert value(samples, "umoja_sends_total", outcome="accepted", code="none") == 2
    assert value(samples, "umoja_queue_jobs", queue="bulk", state="queued") == 0
