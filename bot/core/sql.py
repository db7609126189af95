"""SQL helpers that work the same on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.rows import dict_row
from psycopg.types.json import Json
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached

from bot.core.extensions import db


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


@dataclass(frozen=True)
class DriverStatement:
    """A statement compiled once for PostgreSQL, run straight on psycopg (see `fetch`)."""

    statement: Any  # kept so the id used as the cache key stays taken
    sql: str
    defaults: dict[str, Any]
    json: tuple[str, ...]
    returns_rows: bool


DRIVER_STATEMENTS: dict[int, DriverStatement] = {}


def driver_statement(statement: Any, dialect: Any) -> DriverStatement:
    """The SQL text, the literal values and the JSON parameters of a statement built once (module level
    or cached), compiled on first use."""
    prepared = DRIVER_STATEMENTS.get(id(statement))
    if prepared is None or prepared.statement is not statement:
        compiled = statement.compile(dialect=dialect)
        json = tuple(name for name, bind in compiled.binds.items() if isinstance(bind.type, sa.JSON))
        returns_rows = bool(statement.is_select or getattr(compiled, "effective_returning", None))
        prepared = DriverStatement(statement, str(compiled), dict(compiled.params), json, returns_rows)
        DRIVER_STATEMENTS[id(statement)] = prepared
    return prepared


def fetch(statement: Any, params: Mapping[str, Any], connection: sa.Connection | None = None) -> list[dict[str, Any]]:
    """Run a statement built once in the session's transaction and return its rows as dicts.

    On PostgreSQL the compiled SQL goes straight to the psycopg connection under the session (prepared
    by psycopg after a few uses): on the webhook's hot path SQLAlchemy's per-execution work (caching
    keys, execution contexts, ORM loading) cost more CPU than the database. Only plain column values
    come back (psycopg parses JSON itself); a lost connection empties SQLAlchemy's pool. Elsewhere
    (SQLite) the statement runs through SQLAlchemy. `connection` is the session's connection when the
    caller already has it.
    """
    connection = connection or db.session.connection()
    if connection.dialect.name != "postgresql":
        result = connection.execute(statement, params)
        return [dict(row) for row in result.mappings()] if result.returns_rows else []
    prepared = driver_statement(statement, connection.dialect)
    values = {**prepared.defaults, **params}
    for name in prepared.json:
        if values[name] is not None:
            values[name] = Json(values[name])
    driver = connection.connection.driver_connection
    try:
        cursor = driver.cursor(row_factory=dict_row)
        cursor.execute(prepared.sql, values)
        return cursor.fetchall() if prepared.returns_rows else []
    except psycopg.Error as error:
        if connection.dialect.is_disconnect(error, driver, None):
            # As SQLAlchemy does for its own statements: this connection is dead, and after a database
            # restart so are the pool's others; a new pool connects afresh (the request fails with a
            # 500, which Twilio retries).
            connection.invalidate(error)
            connection.engine.dispose()
        raise


def adopt(model: type, row: Mapping[str, Any]) -> Any:
    """A persistent instance of `model` in the session from a row of all its columns (say from a
    RETURNING clause), without an ORM load: history starts clean, so only later changes are flushed.
    An instance already in the session is refreshed from the database instead."""
    identity = db.session.identity_key(model, row["id"])
    if identity in db.session.identity_map:
        return db.session.get(model, row["id"], populate_existing=True)
    instance = model.__mapper__.class_manager.new_instance()
    instance.__dict__.update(row)  # as the ORM's loader does: loaded values, no change history
    make_transient_to_detached(instance)
    db.session.add(instance)
    return instance
