"""The RQ worker, with the scheduler on: `python worker.py [queue …]`."""

from __future__ import annotations

import sys

from rq import SimpleWorker

from bot import create_app
from bot.services.queues import QUEUES
from bot.services.redis_conn import connect


def main(queue_names: list[str]) -> None:
    """Work the queues (highest priority first) inside the app context until stopped."""
    app = create_app()
    with app.app_context():
        worker = SimpleWorker(queue_names or list(QUEUES), connection=connect())
        worker.work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv[1:])
