"""The stats area: the membership numbers of STATS and the running tallies behind them."""

from __future__ import annotations

from bot.core import periodic
from bot.core.area import Area
from bot.core.periodic import PeriodicJob
from bot.stats import service, staff

AREA = Area(
    "stats",
    stats_sections=service.SECTIONS,
    commands=(staff.stats_command,),
    periodic=(PeriodicJob(periodic.compact_member_tallies, "default", interval=300),),
    tables=("member_tallies",),
)
