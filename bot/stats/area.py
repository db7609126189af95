"""The stats area: the membership numbers of STATS and the running tallies behind them."""

from __future__ import annotations

from bot.core.area import Area
from bot.core.jobs import job
from bot.core.periodic import PeriodicJob
from bot.stats import service, staff


@job
def compact_member_tallies() -> None:
    """Fold the running member counts behind STATS (cheap: a few thousand rows)."""
    from bot.stats.service import compact_tallies

    compact_tallies()


AREA = Area(
    "stats",
    stats_sections=service.SECTIONS,
    commands=(staff.stats_command,),
    periodic=(PeriodicJob(compact_member_tallies, "default", interval=300),),
    tables=("member_tallies",),
)
