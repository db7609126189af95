"""The `flask` commands for trying Umoja locally: chat (the terminal simulator) and dev (the web app, a
worker, the clock, the status applier and the simulator, with the sample courses and questions loaded)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import click
from flask import current_app

from bot.core import i18n


@click.command("chat")
@click.option("--phone", default="+254712345678", show_default=True, help="The member's phone number.")
@click.option("--url", default=None, help="A running app's base URL; default: PUBLIC_URL. Use --local for none.")
@click.option("--local", is_flag=True, help="Talk to the app in this process (no server needed).")
def chat(phone: str, url: str | None, local: bool) -> None:
    """Chat with the bot from the terminal, as a WhatsApp member would."""
    from bot.devtools.chat import run_chat
    from bot.members.service import normalize_phone

    number = normalize_phone(phone)
    if number is None:
        raise click.BadParameter("not a phone number", param_hint="--phone")
    run_chat(number, None if local else (url or current_app.config["PUBLIC_URL"]))


def load_samples() -> None:
    """On a first run, the sample course catalog and the questions and answers, so there is something to try."""
    import sqlalchemy as sa

    from bot.core.extensions import db
    from bot.courses import service as courses
    from bot.models import Course, FaqEntry
    from bot.support import faq

    if not db.session.scalar(sa.select(sa.func.count()).select_from(Course)):
        courses.load_catalog()
        db.session.commit()
        click.echo("Loaded the sample course catalog (data/courses.csv).")
    if not db.session.scalar(sa.select(sa.func.count()).select_from(FaqEntry)):
        faq.load(current_app.config["FAQ_FILE"])
        click.echo("Loaded the questions and answers (data/faq.yaml).")


@click.command("dev")
@click.option("--port", default=5000, show_default=True)
@click.option("--no-worker", is_flag=True, help="Do not start the worker, the clock and the status applier.")
def dev(port: int, no_worker: bool) -> None:
    """Run Umoja locally: the web app, a worker, the clock, the status applier and the simulator, on the
    embedded defaults.
    The worker and the clock log RQ's own lines from WARNING up (`worker.py --quiet`); the simulator's
    address comes last, once the server listens and the worker is up."""
    from werkzeug.serving import make_server

    from bot.core.redis_conn import connect

    app = current_app._get_current_object()
    load_samples()
    if not os.environ.get("PUBLIC_URL"):
        app.config["PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PUBLIC_URL=app.config["PUBLIC_URL"])
    redis = connect()
    if not app.config.get("REDIS_URL") and hasattr(redis, "socket_file"):
        env["REDIS_URL"] = f"unix://{redis.socket_file}"
    helpers: list[subprocess.Popen] = []
    if not no_worker:
        script = str(i18n.ROOT / "worker.py")
        helpers = [subprocess.Popen([sys.executable, script, "--quiet"], env=env),
                   subprocess.Popen([sys.executable, script, "--clock", "--quiet"], env=env),
                   subprocess.Popen([sys.executable, script, "--statuses", "--quiet"], env=env)]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server = make_server("127.0.0.1", port, app, threaded=True)
        server.log_startup()
        if helpers:
            up = wait_for_helpers(redis, helpers[0], helpers[1])
            click.echo("Worker and clock: running (RQ's own lines from WARNING up)" if up else
                       "Worker and clock: not up yet (see the lines above)")
        if app.config["SIMULATOR_ENABLED"]:
            click.echo(f"Simulator: {app.config['PUBLIC_URL']}/simulator/  ·  terminal: flask --app bot chat")
        server.serve_forever()
    finally:
        stop(helpers)
        # The embedded Redis stops when this process exits, but only if it is then its one client.
        redis.connection_pool.disconnect()


def stop(processes: list[subprocess.Popen]) -> None:
    """Stop the worker, the clock and the status applier."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=10)


def wait_for_helpers(redis: Any, worker: subprocess.Popen[Any], clock: subprocess.Popen[Any],
                     seconds: float = 30.0) -> bool:
    """Wait until the worker started as `worker` and the clock have registered in Redis; False when one
    of them ended or `seconds` passed first."""
    import time

    from rq import Worker
    from rq.cron_scheduler_registry import get_keys

    from bot.core.jobs import CLOCK_NAME

    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and worker.poll() is None and clock.poll() is None:
            if (any(found.pid == worker.pid for found in Worker.all(connection=redis))
                    and CLOCK_NAME in get_keys(redis)):
                return True
            time.sleep(0.2)
        return False
    finally:
        redis.connection_pool.disconnect()
