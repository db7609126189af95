"""SQL helpers that work the same on PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from bot.extensions import db


def insert_for(dialect: str, table: Any) -> Any:
    """INSERT with ON CONFLICT support for a database kind ('postgresql' or 'sqlite'); for statements
    built once per kind and cached."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def dialect_insert(model: type) -> Any:
    """INSERT with this database's ON CONFLICT support (PostgreSQL or SQLite)."""
    return insert_for(db.session.get_bind().dialect.name, model)


def insert_ignore(model: type, **values: Any) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when a row was inserted."""
    result = db.session.execute(dialect_insert(model).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


def insert_returning_id(model: Any, **values: Any) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None when it already existed."""
    statement = dialect_insert(model).values(**values).on_conflict_do_nothing().returning(model.id)
    return db.session.execute(statement).scalar()
