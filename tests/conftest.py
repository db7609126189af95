"""Fixtures: the app on a real PostgreSQL and a real Redis, a signed WhatsApp client, the fake Twilio API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bot import create_app
from bot.core.extensions import db
from bot.devtools.database import reset_schema
from tests.helpers.app import (
    AUTH_TOKEN,
    DATABASE_URL,
    TWILIO_ACCOUNT_SID,
    WhatsApp,
    app_config,
    apply_statuses,
    applying_statuses,
    serving,
    truncate_all,
)
from tests.helpers.browser import CHROMIUM
from tests.helpers.courses import add_member
from tests.helpers.dashboard import failed_ids


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for the session, its schema built by the migrations from an empty database."""
    from flask_migrate import upgrade

    reset_schema(DATABASE_URL)
    app = create_app(app_config(tmp_path_factory.mktemp("instance")))
    with app.app_context():
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


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def whatsapp(client: FlaskClient) -> WhatsApp:
    """A member's phone talking to the webhook."""
    return WhatsApp(client)


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
    """Run every queued job now, with the app's RQ worker (its job class) in burst mode against the test Redis,
    then apply the status callbacks waiting in the stream."""
    from bot.core import jobs

    def run() -> None:
        with app.app_context():
            jobs.work(burst=True)
        apply_statuses(app)

    return run


@pytest.fixture
def catalog(app: Flask, tmp_path: Path):
    """The sample catalog loaded with the CLI; files stored under a temporary folder; no quiet hours."""
    saved = {key: app.config[key] for key in ("STORAGE_DIR", "QUIET_HOURS")}
    app.config.update(STORAGE_DIR=str(tmp_path / "storage"), QUIET_HOURS="")
    result = app.test_cli_runner().invoke(args=["courses", "load"])
    assert result.exit_code == 0 and "8 added" in result.output, result.output
    yield
    app.config.update(saved)


@pytest.fixture
def member(app: Flask, client: FlaskClient, catalog) -> WhatsApp:
    """An English-speaking member."""
    add_member(app, "+254712345678")
    return WhatsApp(client, "+254712345678")


@pytest.fixture
def mwanachama(app: Flask, client: FlaskClient, catalog) -> WhatsApp:
    """A Swahili-speaking member."""
    add_member(app, "+254722000001", language="sw")
    return WhatsApp(client, "+254722000001")


@pytest.fixture
def pipeline(app, fake_twilio, live_server):
    """The fake Twilio API, with status callbacks coming back to the app over loopback and applied by a status
    consumer running alongside; fast retries."""
    keys = ("BROADCAST_RETRY_SECONDS", "WHATSAPP_TEMPLATES", "SEND_RATE_PER_SECOND", "BROADCAST_BATCH_SIZE",
            "SEND_CONCURRENCY", "WHATSAPP_SENDERS", "BROADCAST_JOBS")
    saved = {k: app.config[k] for k in keys}
    app.config.update(BROADCAST_RETRY_SECONDS=0.0, SEND_RATE_PER_SECOND=400)
    with applying_statuses(app):
        yield fake_twilio
    app.config.update(saved)


@pytest.fixture
def failed_job(app, drain):
    """A job that failed on the default queue (a real worker ran it): what requeue, delete and empty act on."""
    from bot.core.queues import queue

    with app.app_context():
        queue("default").enqueue("builtins.int", "not a number", job_id="job-1")
    drain()
    assert failed_ids(app) == ["job-1"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page (no cookies) that fails the test on any script error."""
    context = browser.new_context(base_url=live_server, accept_downloads=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    yield tab
    context.close()
    assert errors == []
