"""The stats area: the membership numbers of STATS and the running tallies behind them."""

from __future__ import annotations

from bot.core.area import Area
from bot.core.jobs import job
from bot.core.periodic import PeriodicJob
from bot.stats import languages, service, staff


@job
def compact_member_tallies() -> None:
    """Fold the running member counts behind STATS (cheap: a few thousand rows)."""
    from bot.stats.service import compact_tallies

    compact_tallies()


@job
def refresh_language_stats() -> None:
    """Count the members per language behind STATS and the languages page into Redis (see stats.languages)."""
    languages.refresh_snapshot()


AREA = Area(
    "stats",
    stats_sections=(*service.SECTIONS, languages.language_section),
    commands=(staff.stats_command,),
    periodic=(PeriodicJob(compact_member_tallies, "default", interval=300),
              PeriodicJob(refresh_language_stats, "default", interval=120)),
    tables=("member_tallies",),
)
