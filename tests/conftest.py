"""Fixtures: the app on a real PostgreSQL and a real Redis, a signed WhatsApp client, the fake Twilio API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bot import create_app
from bot.core.extensions import db
from bot.devtools.simulator import INBOUND_PATH, inbound_form, replies_of
from bot.whatsapp.twilio_api import sign

DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PUBLIC_URL = "https://umoja.example.org"
AUTH_TOKEN = "test-auth-token"


def app_config(tmp_path: Path, **overrides: object) -> dict[str, object]:
    """The settings every test app runs with."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": None,
        "TWILIO_AUTH_TOKEN": None,
        "WEBHOOK_AUTH_TOKEN": AUTH_TOKEN,
        "AUTO_MIGRATE": False,
        "SIMULATOR_ENABLED": True,
        "SECRET_KEY": "test",
        "HELP_CONTACT": "+254700000000",
        **overrides,
    }


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for the session, its schema built by the migrations from an empty database."""
    from flask_migrate import upgrade

    app = create_app(app_config(tmp_path_factory.mktemp("instance")))
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table and the test Redis database around each test that uses the app."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        truncate_all()
        from bot.core.redis_conn import connect

        connect().flushdb()
    yield
    with app.app_context():
        db.session.remove()


def truncate_all() -> None:
    """TRUNCATE every table of the app (ids restart)."""
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


class WhatsApp:
    """Sends correctly signed inbound messages to the webhook, as Twilio does, and reads the TwiML replies."""

    def __init__(self, client: FlaskClient, phone: str = "+254712345678") -> None:
        self.client = client
        self.phone = phone

    def post(self, form: dict[str, str], *, signature: str | None = None, path: str = INBOUND_PATH,
             url: str | None = None):
        """Post a form with a signature (computed for PUBLIC_URL + path unless given)."""
        if signature is None:
            signature = sign(url or PUBLIC_URL + path, form, AUTH_TOKEN)
        return self.client.post(path, data=form, headers={"X-Twilio-Signature": signature}, base_url=PUBLIC_URL)

    def form(self, body: str = "", **extra: str) -> dict[str, str]:
        """The fields of an inbound message from this phone."""
        return inbound_form(self.phone, body, extra=extra)

    def send(self, body: str = "", **extra: str) -> list[str]:
        """Send one message and return the replies."""
        response = self.post(self.form(body, **extra))
        assert response.status_code == 200, response.get_data(as_text=True)
        return replies_of(response.get_data(as_text=True))

    def says(self, body: str = "", **extra: str) -> str:
        """Send one message and return all replies joined, for substring checks."""
        return "\n".join(self.send(body, **extra))


@pytest.fixture
def whatsapp(client: FlaskClient) -> WhatsApp:
    """A member's phone talking to the webhook."""
    return WhatsApp(client)


TWILIO_ACCOUNT_SID = "AC" + "1" * 32


@pytest.fixture
def fake_twilio(app: Flask) -> Iterator[object]:
    """A local fake Twilio API over real HTTP, with the app's Twilio client pointed at it."""
    from bot.devtools.fake_twilio import FakeTwilio

    fake = FakeTwilio(TWILIO_ACCOUNT_SID, AUTH_TOKEN, seed=7).start()
    keys = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE_URL", "TWILIO_HTTP_TIMEOUT")
    saved = {key: app.config.get(key) for key in keys}
    app.config.update(TWILIO_ACCOUNT_SID=TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                      TWILIO_API_BASE_URL=fake.base_url, TWILIO_HTTP_TIMEOUT=2.0)
    yield fake
    app.config.update(saved)
    fake.stop()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve `app` over real HTTP on 127.0.0.1 (threaded) inside the block; yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on 127.0.0.1 (for callbacks from the fake Twilio API); PUBLIC_URL
    points at it while the test runs."""
    saved = app.config["PUBLIC_URL"]
    with serving(app) as base:
        app.config["PUBLIC_URL"] = base
        yield base
    app.config["PUBLIC_URL"] = saved


@pytest.fixture
def drain(app: Flask):
    """Run every queued job now, with the app's RQ worker (its job class) in burst mode against the test Redis."""
    from bot.core import jobs

    def run() -> None:
        with app.app_context():
            jobs.work(burst=True)

    return run
