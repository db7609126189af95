"""STATS: membership numbers for officers, optionally for one county and/or one kind of work."""

from __future__ import annotations

from bot.commands.registry import staff_command
from bot.stats import service as stats
from flows.base import N_, Ctx, Reply, Result


@staff_command("STATS", roles=("officer",), usage=N_("[county] [kind of work]"),
               summary=N_("membership numbers, for everyone or narrowed by county and/or kind of work"))
def stats_command(ctx: Ctx, args: str) -> Result:
    """Answer with the membership numbers in one message."""
    found = stats.parse_filter(args)
    if isinstance(found, stats.FilterProblem):
        return Result(None, (Reply.of(*found.lines),))
    return Result(None, (Reply.of(stats.report(found, ctx.now)),))
