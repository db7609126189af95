"""The `flask` commands: translate (pybabel), chat (terminal simulator) and dev (run everything locally)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
from babel.messages.frontend import CommandLineInterface
from flask import current_app
from flask.cli import AppGroup

from bot.core import i18n

translate = AppGroup("translate", help="Extract, update and compile the message catalogs (pybabel).")


def pybabel(*args: str) -> None:
    """Run one pybabel command in-process."""
    CommandLineInterface().run(["pybabel", "-q", *args])


def pot_path(domain: str) -> Path:
    """Where a domain's extracted template goes."""
    return i18n.LOCALES_DIR / f"{domain}.pot"


@translate.command("extract")
def extract() -> None:
    """Collect every marked message from the code into one .pot template per domain."""
    for domain, paths in i18n.DOMAINS.items():
        pybabel("extract", "-F", str(i18n.LOCALES_DIR / "babel.cfg"), "-k", "N_", "-c", "Translators:",
                "--sort-by-file", "--omit-header", "-o", str(pot_path(domain)),
                *[str(i18n.ROOT / p) for p in paths])
    click.echo(f"extracted {len(i18n.DOMAINS)} domains into {i18n.LOCALES_DIR}")


@translate.command("update")
@click.pass_context
def update(ctx: click.Context) -> None:
    """Extract, then merge new messages into every language's catalog (creating missing ones)."""
    ctx.invoke(extract)
    for domain in i18n.DOMAINS:
        for lang in i18n.LANGUAGES:
            po = i18n.LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
            action = "update" if po.exists() else "init"
            pybabel(action, "-i", str(pot_path(domain)), "-d", str(i18n.LOCALES_DIR), "-D", domain, "-l", lang)
    i18n.reload()
    click.echo("catalogs updated; translate the new entries in locales/<language>/LC_MESSAGES/*.po")


@translate.command("compile")
def compile_catalogs() -> None:
    """Compile .po catalogs into .mo files (optional: the app reads the .po files directly)."""
    for domain in i18n.DOMAINS:
        pybabel("compile", "-d", str(i18n.LOCALES_DIR), "-D", domain, "--statistics")


@translate.command("check")
def check() -> None:
    """List messages missing a translation; fails when any language is incomplete."""
    from bot.core.i18n_check import missing_translations

    problems = missing_translations()
    for problem in problems:
        click.echo(problem)
    if problems:
        raise SystemExit(1)
    click.echo("every message is translated in " + ", ".join(i18n.LANGUAGES))


@translate.command("status")
def status() -> None:
    """A table of how complete each configured language is in each domain; fails when a required one is not
    (English and Swahili: every domain; any other language: the domains members read)."""
    from bot.core.i18n_check import coverage

    rows = coverage()
    domains = list(i18n.DOMAINS)
    click.echo(f"{'language':<10}" + "".join(f"{domain:>12}" for domain in domains))
    by_language: dict[str, dict[str, str]] = {}
    for row in rows:
        mark = "" if row.required else "*"
        by_language.setdefault(row.lang, {})[row.domain] = f"{row.percent:.0f}%{mark}"
    for lang, cells in by_language.items():
        click.echo(f"{lang:<10}" + "".join(f"{cells[domain]:>12}" for domain in domains))
    click.echo("* read by staff only: may fall back to English")
    incomplete = sorted({row.lang for row in rows if row.required and row.problems})
    if incomplete:
        click.echo("incomplete: " + ", ".join(incomplete) + " (flask translate check lists the messages)")
        raise SystemExit(1)


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
@click.option("--no-worker", is_flag=True, help="Do not start the worker and the clock.")
def dev(port: int, no_worker: bool) -> None:
    """Run Umoja locally: the web app, a worker, the clock and the simulator, on the embedded defaults.
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
                   subprocess.Popen([sys.executable, script, "--clock", "--quiet"], env=env)]
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
    """Stop the worker and the clock."""
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


staff = AppGroup("staff", help="Staff numbers and their roles (officer, organiser, admin).")


@staff.command("add")
@click.argument("phone")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(["officer", "organiser", "admin"]))
@click.option("--name", default=None)
def staff_add(phone: str, roles: tuple[str, ...], name: str | None) -> None:
    """Add a staff number (a phone number, or a WhatsApp user id such as US.1349…) with one or more roles
    (repeat --role)."""
    from bot.members.service import staff_identity
    from bot.members.staff_numbers import add_staff

    number = staff_identity(phone)
    if number is None:
        raise click.BadParameter("not a phone number or a WhatsApp user id", param_hint="PHONE")
    member = add_staff(number, list(roles), name)
    click.echo(f"{member.phone}: {member.roles}")


@staff.command("list")
def staff_list() -> None:
    """List staff numbers and roles."""
    from bot.members.staff_numbers import list_staff

    for member in list_staff():
        click.echo(f"{member.phone}\t{member.roles}\t{member.name or ''}")


@staff.command("remove")
@click.argument("phone")
@click.option("--role", "roles", multiple=True, type=click.Choice(["officer", "organiser", "admin"]),
              help="Remove only these roles (default: the whole staff number).")
def staff_remove(phone: str, roles: tuple[str, ...]) -> None:
    """Remove a staff number, or some of its roles."""
    from bot.members.service import staff_identity
    from bot.members.staff_numbers import remove_staff

    number = staff_identity(phone)
    if number is None or not remove_staff(number, list(roles) or None):
        raise click.ClickException(f"{phone} is not a staff number")
    click.echo(f"removed {', '.join(roles) if roles else 'staff number'} {number}")


faq = AppGroup("faq", help="The curated questions and answers (data/faq.yaml).")


@faq.command("load")
@click.option("--file", "path", default=None, help="The data file; default: FAQ_FILE (data/faq.yaml).")
def faq_load(path: str | None) -> None:
    """Load the questions and answers into the database (adds, changes and removes entries by key)."""
    from bot.support.faq import FaqFileError, load

    try:
        report = load(path or current_app.config["FAQ_FILE"])
    except (FaqFileError, OSError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"faq: {report.added} added, {report.updated} updated, {report.removed} removed")


retention = AppGroup("retention", help="How long message texts are kept (RETENTION_DAYS).")


@retention.command("purge")
@click.option("--days", type=int, default=None, help="Keep this many days; default: RETENTION_DAYS.")
def retention_purge(days: int | None) -> None:
    """Blank the texts, media and raw payloads of messages older than the retention period."""
    from bot.privacy.service import purge_old_messages

    click.echo(f"purged {purge_old_messages(days)} messages")

