"""STAFF: the commands a staff member may use."""

from __future__ import annotations

from bot.commands.registry import staff_command
from bot.commands.roles import role_names
from bot.core.area import assembled
from bot.models.staff import ROLES
from flows.base import N_, Ctx, Reply, Result, Text, msg


@staff_command("STAFF", roles=ROLES, summary=N_("the staff commands you can use"))
def list_commands(ctx: Ctx, args: str) -> Result:
    """List the commands open to this staff member's roles."""
    lines = [
        msg(N_("%(command)s %(usage)s: %(summary)s"), command=Text(c.word), usage=msg(c.usage), summary=msg(c.summary))
        if c.usage else msg(N_("%(command)s: %(summary)s"), command=Text(c.word), summary=msg(c.summary))
        for c in sorted(assembled().commands.values(), key=lambda c: c.word)
        if c.roles & ctx.member.roles
    ]
    roles = role_names(ctx.member.roles)
    return Result(None, (Reply.of(msg(N_("Staff commands (%(roles)s):"), roles=roles), *lines),))
