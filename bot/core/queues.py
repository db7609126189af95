"""The RQ queues, highest priority first: replies to members, then reminders and jobs, then bulk sends
(kept where they were imported from; they live in `bot/core/jobs.py`)."""

from __future__ import annotations

from bot.core.jobs import QUEUES, queue

__all__ = ["QUEUES", "queue"]
