"""The app factory, and the migrations against the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot import create_app
from bot.extensions import db
from tests.conftest import DATABASE_URL, app_config


def test_config_override_wins(tmp_path):
    app = create_app(app_config(tmp_path, UNION_NAME="Another Union"))
    assert app.config["UNION_NAME"] == "Another Union"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == DATABASE_URL


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, db.metadata) == []
