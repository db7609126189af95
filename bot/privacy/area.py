"""The privacy area: MY DATA (and as a file), DELETE MY DATA, forgetting a refused consent, the retention of texts."""

from __future__ import annotations

from bot.core.area import Area
from bot.core.jobs import job
from bot.core.periodic import PeriodicJob
from bot.privacy import cli, export
from bot.privacy import service as privacy
from bot.privacy.effects import PRIVACY_PERFORMERS


@job
def purge_old_messages() -> int:
    """Blank message texts older than RETENTION_DAYS (daily)."""
    from bot.privacy.service import purge_old_messages as purge

    return purge()


@job
def purge_expired_exports() -> int:
    """Delete MY DATA files older than their links (hourly)."""
    return export.purge_expired_exports()


AREA = Area(
    "privacy",
    facts={"my_data": privacy.summary},
    erasure_hooks=(export.erase_exports,),
    performers=PRIVACY_PERFORMERS,
    periodic=(PeriodicJob(purge_old_messages, "default", cron="15 3 * * *"),
              PeriodicJob(purge_expired_exports, "default", cron="40 * * * *")),
    setup=export.setup,
    cli=(cli.retention,),
    tables=("forgotten_messages",),
    anonymous_tables=("forgotten_messages",),
)
