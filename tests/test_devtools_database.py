"""The scratch databases of the tests and the benches (bot/devtools/database.py), on the test server."""

from __future__ import annotations

import uuid

import pytest
import redis
import sqlalchemy as sa

from bot.devtools.database import database_exists, reset_schema, scratch_database, scratch_redis
from tests.helpers.app import DATABASE_URL, REDIS_URL


def scratch_url() -> str:
    """A database name on the test server that nobody else uses."""
    return sa.make_url(DATABASE_URL).set(database=f"scratch_{uuid.uuid4().hex[:12]}").render_as_string(False)


def tables_in(url: str) -> list[str]:
    """The tables of the public schema."""
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def make_table(url: str) -> None:
    """A table with a row, and a connection left open on the database."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (x int)"))
        connection.execute(sa.text("INSERT INTO t VALUES (1)"))
    engine.connect()  # still open when the database is dropped


def test_a_bench_database_is_created_empty_and_dropped_even_after_a_failure():
    url = scratch_url()
    with pytest.raises(RuntimeError), scratch_database(url) as reused:
        assert not reused and database_exists(url) and tables_in(url) == []
        make_table(url)
        raise RuntimeError("the bench failed")
    assert not database_exists(url)


def test_keep_leaves_the_database_and_a_later_keep_reuses_it():
    url = scratch_url()
    try:
        with scratch_database(url, keep=True) as reused:
            assert not reused
            make_table(url)
        with scratch_database(url, keep=True) as reused:
            assert reused and tables_in(url) == ["t"]
        with scratch_database(url) as reused:
            assert not reused and tables_in(url) == []
        assert not database_exists(url)
    finally:
        with scratch_database(url):
            pass


def test_reset_schema_creates_a_missing_database_and_empties_one_there():
    url = scratch_url()
    try:
        reset_schema(url)
        assert database_exists(url) and tables_in(url) == []
        make_table(url)
        reset_schema(url)
        assert tables_in(url) == []
    finally:
        with scratch_database(url):
            pass


def test_a_bench_redis_database_is_emptied_before_and_after():
    connection = redis.Redis.from_url(REDIS_URL)
    connection.set("left-over", 1)
    with pytest.raises(RuntimeError), scratch_redis(REDIS_URL):
        assert connection.dbsize() == 0
        connection.set("bench", 1)
        raise RuntimeError("the bench failed")
    assert connection.dbsize() == 0
