"""Scratch PostgreSQL databases and Redis databases for the tests and the benches.

The tests build their schema once per session with `reset_schema` (the database is created when it is
missing); a bench runs inside `scratch_database` and `scratch_redis`, which create its own database and
empty its own Redis database first and drop or empty them at the end, also when the bench fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


def server_engine(url: str) -> tuple[str, sa.Engine]:
    """The database's name and an engine on the server's `postgres` database, outside transactions."""
    parsed = sa.make_url(url)
    return str(parsed.database), sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")


def database_exists(url: str) -> bool:
    """Whether the database of `url` is there."""
    name, server = server_engine(url)
    try:
        with server.connect() as connection:
            found = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
    finally:
        server.dispose()
    return bool(found)


def create_database(url: str, *, fresh: bool = True) -> None:
    """Create the database of `url`; with `fresh`, one of that name already there is dropped first."""
    if fresh:
        drop_database(url)
    elif database_exists(url):
        return
    on_server(url, 'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    """Drop the database of `url`, ending the connections still open on it."""
    on_server(url, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def on_server(url: str, statement: str) -> None:
    """Run a statement about the database of `url` (its name fills `{name}`) on the server's `postgres` database."""
    name, server = server_engine(url)
    try:
        with server.connect() as connection:
            connection.execute(sa.text(statement.format(name=name)))
    finally:
        server.dispose()


def reset_schema(url: str) -> None:
    """An empty `public` schema in the database of `url` (created when missing), for the migrations to build."""
    create_database(url, fresh=False)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@contextmanager
def scratch_database(url: str, *, keep: bool = False) -> Iterator[bool]:
    """A database of its own for a bench: created empty on entry and dropped on exit, also after a failure.
    With `keep` one already there is reused and left in place; yields whether it was there already."""
    reused = keep and database_exists(url)
    if not reused:
        create_database(url)
    try:
        yield reused
    finally:
        if not keep:
            drop_database(url)


@contextmanager
def scratch_redis(url: str) -> Iterator[str]:
    """A Redis database of its own for a bench (`redis://host:port/<db>`): emptied on entry and on exit."""
    import redis

    connection = redis.Redis.from_url(url)
    try:
        connection.flushdb()
        yield url
    finally:
        connection.flushdb()
        connection.close()
