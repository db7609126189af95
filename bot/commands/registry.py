"""Staff commands: a command word, the roles allowed, and a handler that returns a Result.

`@staff_command` makes a handler a `StaffCommand`; each area lists its commands in `Area.commands` and
`dispatch` finds them among the installed areas' commands.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.commands.roles import role_names
from bot.core.area import assembled
from flows.base import N_, Ctx, Effect, Input, Reply, Result, msg
from flows.effects import ConcernsMembers

Handler = Callable[[Ctx, str], Result]


@dataclass(frozen=True)
class StaffCommand:
    """One staff command."""

    word: str
    roles: frozenset[str]
    summary: str
    handler: Handler
    usage: str = ""  # what follows the word, e.g. "<number> <text>" (translatable), empty for none

    def __call__(self, ctx: Ctx, args: str) -> Result:
        return self.handler(ctx, args)


NOT_ALLOWED = N_("Sorry, %(command)s is for %(roles)s only.")

NUMBERED = re.compile(r"#?(\d{1,9})(?:\s+(.*))?", flags=re.DOTALL)


def numbered(args: str) -> tuple[int, str] | None:
    """'12 …' or '#12 …' (a ticket or report number, then the rest of the words), or None."""
    found = NUMBERED.fullmatch(args.strip())
    return (int(found.group(1)), (found.group(2) or "").strip()) if found else None


def staff_actor(ctx: Ctx) -> str:
    """Who acts, for the audit log: the staff member's phone number."""
    return str(ctx.member.facts.get("phone") or ctx.member.member_number or "whatsapp")


def concerning(*member_ids: int | None) -> tuple[Effect, ...]:
    """The effect that links a command and its replies to the members they name (erasing one of them
    blanks them); none when the command names no member."""
    ids = tuple(dict.fromkeys(i for i in member_ids if i is not None))
    return (ConcernsMembers(ids),) if ids else ()


def staff_command(word: str, *, roles: tuple[str, ...], summary: str, usage: str = ""
                  ) -> Callable[[Handler], StaffCommand]:
    """Make a handler the command for a word (matched case-insensitively as the first word); `usage` is what
    follows the word and `summary` what it does (STAFF shows 'WORD usage: summary'); the area lists it in
    its `Area.commands`."""

    def command(handler: Handler) -> StaffCommand:
        return StaffCommand(word.upper(), frozenset(roles), summary, handler, usage)

    return command


def dispatch(ctx: Ctx, inp: Input) -> Result | None:
    """Run the staff command the message starts with, or None when it is not one (or the sender is not staff)."""
    if not ctx.member.roles or not inp.text:
        return None
    word, _, args = inp.text.strip().partition(" ")
    command = assembled().commands.get(word.upper())
    if command is None:
        return None
    if not command.roles & ctx.member.roles:
        return Result(None, (Reply.of(msg(NOT_ALLOWED, command=command.word, roles=role_names(command.roles))),))
    return command.handler(ctx, args.strip())
