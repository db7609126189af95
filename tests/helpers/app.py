"""The test settings (the real PostgreSQL and Redis of TEST_DATABASE_URL and TEST_REDIS_URL), serving the app over
real HTTP, and `WhatsApp`: correctly signed inbound messages to the webhook, as Twilio sends them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

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


@contextmanager
def sqlite_app_migrated(tmp_path: Path) -> Iterator[Flask]:
    """An app on a new SQLite file (the embedded default), its schema built by the migrations; closed after."""
    from flask_migrate import upgrade

    from bot import create_app

    app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'migrated.db'}"))
    with app.app_context():
        upgrade()
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def truncate_all() -> None:
    """TRUNCATE every table of the app (ids restart)."""
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


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


TWILIO_ACCOUNT_SID = "AC" + "1" * 32


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


def apply_statuses(app: Flask) -> int:
    """Apply the status callbacks waiting in the stream now, as `worker.py --statuses` does; returns how
    many entries it took."""
    from bot.whatsapp.statuses import Consumer

    with app.app_context():
        return Consumer("tests").drain()


@contextmanager
def applying_statuses(app: Flask) -> Iterator[None]:
    """A status consumer applying callbacks in a thread while the block runs (`worker.py --statuses`), then
    whatever is left."""
    import threading

    from bot.whatsapp.statuses import Consumer

    stopping = threading.Event()

    def run() -> None:
        with app.app_context():
            Consumer("tests-live").run(stopping, block_ms=50)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopping.set()
        thread.join(timeout=10)
        apply_statuses(app)
