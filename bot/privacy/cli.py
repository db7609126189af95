"""`flask retention purge|prospects|report`: how long message texts, and people who never consented, are kept,
and what is held past its time."""

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


@retention.command("report")
def retention_report() -> None:
    """Per kind of data the privacy notice names: how long it is kept and how much is held past that (should be
    nothing); exits 1 when anything is."""
    from bot.privacy.service import retention_report as report

    rows = report()
    width = max(len(row.kind) for row in rows)
    for row in rows:
        click.echo(f"{row.kind:<{width}}  kept for {row.kept_for}: {row.count} held past it")
    past = sum(row.count for row in rows)
    if past:
        click.echo(f"{past} held past their time: run flask retention purge and flask retention prospects")
        raise SystemExit(1)
    click.echo("nothing is held past its time")
