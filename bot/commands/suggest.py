"""A staff member's words that are not a command: "did you mean …" for a mistyped command word (over the
commands of the roles they hold), and, outside any flow, a pointer to STAFF instead of a question for the
organisers opened on their own number."""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from bot.core.area import assembled
from flows.base import N_, Ctx, Input, Reply, Result, State, Text, msg

CLOSE_ENOUGH = 75.0  # rapidfuzz ratio: TIKETS, TICKTS, BRODCAST, STAT, REPLAY, CLSOE
MIN_LETTERS = 3
ARGUMENTS = re.compile(r"#?\d|(STATUS|PAUSE|RESUME|CANCEL)\b", flags=re.IGNORECASE)
SEND_STAFF = msg(N_("Send STAFF for the commands you can use."))


def held_words(ctx: Ctx) -> list[str]:
    """The command words of the roles this staff member holds."""
    return sorted(c.word for c in assembled().commands.values() if c.roles & ctx.member.roles)


def closest_word(word: str, words: list[str]) -> str | None:
    """The command word a typed word is closest to, if it is close enough."""
    found = process.extractOne(word.upper(), words, scorer=fuzz.ratio, score_cutoff=CLOSE_ENOUGH)
    return found[0] if found else None


def did_you_mean(ctx: Ctx, inp: Input, *, idle: bool) -> Result | None:
    """'Did you mean TICKETS?' for a first word close to a command word the staff member may use; inside a
    flow only when the rest looks like a command's arguments (a number, STATUS …), so that an answer to the
    flow is never taken for a command. None when nothing is close."""
    word, _, rest = " ".join(inp.text.split()).partition(" ")
    if len(word) < MIN_LETTERS or not word.isalpha():
        return None
    if not idle and rest and not ARGUMENTS.match(rest):
        return None
    guess = closest_word(word, held_words(ctx))
    if guess is None:
        return None
    return Result(None, (Reply.of(msg(N_("%(word)s is not a staff command."), word=Text(word.upper())),
                                  msg(N_("Did you mean %(command)s?"), command=Text(f"{guess} {rest}".strip())),
                                  SEND_STAFF),))


def not_a_command(ctx: Ctx, state: State | None, inp: Input) -> Result:
    """What a staff member's free words get outside any flow: never a ticket on their own number."""
    guess = did_you_mean(ctx, inp, idle=True)
    if guess is not None:
        return Result(state, guess.replies)
    return Result(state, (Reply.of(msg(N_("That is not a staff command, and staff numbers do not open questions for "
                                          "the organisers.")), SEND_STAFF,
                                   msg(N_("To try what members see, send MENU."))),))
