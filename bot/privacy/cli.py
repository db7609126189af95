"""`flask retention purge|prospects`: how long message texts, and people who never consented, are kept."""

from __future__ import annotations

import click
from flask.cli import AppGroup

retention = AppGroup("retention", help="How long personal data is kept (RETENTION_DAYS, PROSPECT_DAYS).")


@retention.command("purge")
@click.option("--days", type=int, default=None, help="Keep this many days; default: RETENTION_DAYS.")
def retention_purge(days: int | None) -> None:
    """Blank the texts, media and raw payloads of messages older than the retention period."""
    from bot.privacy.service import purge_old_messages

    click.echo(f"purged {purge_old_messages(days)} messages")


@retention.command("prospects")
@click.option("--days", type=int, default=None, help="Keep this many days; default: PROSPECT_DAYS.")
def retention_prospects(days: int | None) -> None:
    """Forget the people who neither consented nor refused within the period after their last message."""
    from bot.privacy.service import purge_prospects

    click.echo(f"forgot {purge_prospects(days)} people who never consented")

