"""The RQ queues, highest priority first: replies to members, then reminders and jobs, then bulk sends."""

from __future__ import annotations

from rq import Queue

from bot.core.redis_conn import connect

QUEUES = ("replies", "default", "bulk")


def queue(name: str = "default") -> Queue:
    """One of the app's queues."""
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=connect())
