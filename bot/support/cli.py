"""`flask faq load`: the curated questions and answers."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

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
