"""What the dashboard benches share: their command line, the app on a scratch database and Redis, and an
organiser's signed-in test client."""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from bot import create_app
from bot.core.extensions import db
from bot.devtools.database import scratch_database, scratch_redis

PASSWORD = "a long bench password"


def options_of(doc: str | None, database: str, members: int) -> argparse.Namespace:
    """--database, --redis, --members, --runs and --keep, with this bench's defaults."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--members", type=int, default=members)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse what was seeded there)")
    return parser.parse_args()


def run(options: argparse.Namespace, measure: Callable[[Flask, bool], None]) -> None:
    """`measure(app, reused)` on a database and a Redis of its own, both emptied or dropped after, also after a failure."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": options.database, "AUTO_MIGRATE": False, "TESTING": True,
                      "SECRET_KEY": "bench", "REDIS_URL": options.redis, "SIMULATOR_ENABLED": False,
                      "DASHBOARD_LOGIN_LIMIT": "1000 per minute"})
    app.instance_path = tempfile.mkdtemp()
    with scratch_database(options.database, keep=options.keep) as reuse, scratch_redis(options.redis):
        try:
            measure(app, reuse)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()  # no connection left, so the database can be dropped


def organiser(app: Flask) -> FlaskClient:
    """A test client signed in through the form as a new organiser."""
    from bot.dashboard.users import create_user

    email = f"bench-{time.time_ns()}@example.org"
    with app.app_context():
        create_user(email, PASSWORD, "organiser")
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    signed = client.post("/admin/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert signed.status_code == 302, signed.status_code
    return client
