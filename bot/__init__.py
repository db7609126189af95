"""Umoja: a WhatsApp assistant for a gig workers' union.

`create_app` builds the Flask app: settings from the environment, then the test override; the
database and migrations; then it installs the areas of `bot/areas.py` (their blueprints, `flask`
commands and the parts the engine, DELETE MY DATA, STATS and the clock read, see `bot/core/area.py`).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.core.config import load_settings
from bot.core.extensions import db, migrate
from bot.observability import init_observability

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = ROOT / "migrations"


def create_app(config: dict[str, Any] | None = None, *, background: bool = False) -> Flask:
    """Build the app: defaults from the environment, then `config` (used by tests) on top. `background`:
    for the worker and the clock (their database pool pings before each use, see `engine_options`)."""
    load_dotenv(ROOT / ".env")
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_folder())
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.update(load_settings(instance))
    app.config.update(config or {})
    configure_languages(app)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                          engine_options(app.config["SQLALCHEMY_DATABASE_URI"], ping=background))
    init_observability(app)

    if app.config["TRUSTED_PROXIES"]:
        # The client's address (the dashboard's sign-in limit) and scheme as the proxies saw them.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            serialize_sqlite_writes(db.engine)

    from bot import models  # noqa: F401  (the tables join the metadata, for the migrations)
    from bot.areas import AREAS
    from bot.core.area import install

    for area in install(app, AREAS).areas:
        for group in area.cli:
            app.cli.add_command(group)
        if area.setup is not None:
            area.setup(app)

    if app.config["AUTO_MIGRATE"]:
        from flask_migrate import upgrade

        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
    return app


def configure_languages(app: Flask) -> None:
    """Serve the LANGUAGES setting (a test may give it as a list or a comma-separated string)."""
    from bot.core import i18n

    app.config["LANGUAGES"] = i18n.parse_languages(app.config.get("LANGUAGES"))
    if app.config["DEFAULT_LANGUAGE"] not in app.config["LANGUAGES"]:
        raise ValueError(f"DEFAULT_LANGUAGE {app.config['DEFAULT_LANGUAGE']!r} is not one of LANGUAGES")
    i18n.configure(app.config["LANGUAGES"])
    if not app.testing:
        # Load the language models now, beside the start-up, so that no member's first message waits for them.
        from bot.core import language_detect

        threading.Thread(target=language_detect.warm, name="language-models", daemon=True).start()


def instance_folder() -> str | None:
    """INSTANCE_PATH when set (made absolute); otherwise Flask's default `instance/` beside the code."""
    path = os.environ.get("INSTANCE_PATH", "").strip()
    return os.path.abspath(path) if path else None


def engine_options(url: str, *, ping: bool = False) -> dict[str, Any]:
    """Connection settings per database: a busy timeout for SQLite; a pool for PostgreSQL. The web app's
    pool does not ping before each request (a round trip per message): after a restart the first
    statement on a dead connection fails and the pool starts afresh (a member message tries that first
    statement once more, `inbound.store_and_lock_once`; elsewhere the request answers 500 for Twilio
    to retry). The worker and the clock ping (`ping`): a job that fails on a dead connection may
    not be retried. Neither shows a statement's parameters in its errors (they hold phone numbers, names and
    texts, and errors reach the logs and the error reports)."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}, "hide_parameters": True}
    return {"pool_pre_ping": ping, "pool_size": 10, "max_overflow": 20, "hide_parameters": True}


def serialize_sqlite_writes(engine: Engine) -> None:
    """Make every SQLite transaction take the write lock up front, so concurrent requests queue up
    instead of failing halfway (SQLite has no row locks; PostgreSQL uses SELECT … FOR UPDATE)."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
