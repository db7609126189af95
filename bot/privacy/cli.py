"""`flask retention purge`: how long message texts are kept."""

from __future__ import annotations

import click
from flask.cli import AppGroup

retention = AppGroup("retention", help="How long message texts are kept (RETENTION_DAYS).")


@retention.command("purge")
@click.option("--days", type=int, default=None, help="Keep this many days; default: RETENTION_DAYS.")
def retention_purge(days: int | None) -> None:
    """Blank the texts, media and raw payloads of messages older than the retention period."""
    from bot.privacy.service import purge_old_messages

    click.echo(f"purged {purge_old_messages(days)} messages")
