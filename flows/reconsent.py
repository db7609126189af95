"""Asking a member again when the notice's version changes (CONSENT_VERSION): once, at their next message.

Their earlier consent stands until they answer; STOP, HELP, PRIVACY and DELETE MY DATA work without
answering; a member who declines is offered DELETE MY DATA, and nothing is erased without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows import mydata, privacy
from flows.base import N_, Ctx, Input, Msg, Reply, Result, State, msg
from flows.choices import ask_which, not_understood, read
from flows.effects import DeclineNewNotice, MarkNoticeAsked, RecordConsent
from flows.form import re_ask
from flows.yes_no import yes_no

NAME = "reconsent"
AGREE_CHOICES = yes_no(msg(N_("Yes, I am 18 or older and I agree")), msg(N_("No")))


def prompt(ctx: Ctx) -> Reply:
    """What changed, where to read it, and the choices."""
    return Reply.of(
        msg(N_("Our privacy notice has changed: it now says who receives your data, how long we keep it and all "
               "your rights. %(union)s keeps your details as before, to run your membership, send you union news "
               "and count members (totals only). Send PRIVACY to read the full notice."),
            union=privacy.controller(ctx)),
        msg(N_("Do you agree to the new notice? Reply YES if you are 18 or older and agree.")),
        AGREE_CHOICES,
        msg(N_("Send MENU to answer later: your earlier agreement stays until you answer.")),
    )


class Reconsent:
    """The question about the new notice: yes records consent to it, no offers DELETE MY DATA."""

    name = NAME

    def start(self, ctx: Ctx, data: Mapping[str, Any] | None = None) -> Result:
        """Ask once (the engine records that it asked)."""
        return Result(State(NAME, "ask", dict(data or {})), (prompt(ctx),), (MarkNoticeAsked(),))

    def handle(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """Yes, no, DELETE MY DATA, or the question again with what is expected."""
        if inp.means("delete_data"):
            return mydata.FLOW.start(ctx, {"delete": True})
        found = read(AGREE_CHOICES, ctx, inp)
        if found.one == "yes":
            return Result(None, (Reply.of(msg(N_("Thank you: your agreement to the new notice is recorded."))),),
                          (RecordConsent(),))
        if found.one == "no":
            declined = msg(N_("All right: nothing has changed and nothing was deleted. If you want us to erase your "
                              "data and end your membership, send DELETE MY DATA."))
            return Result(None, (Reply.of(declined),), (DeclineNewNotice(),))
        if found.ask:
            return ask_which(state, AGREE_CHOICES, found)
        again = msg(N_("Please reply 1 if you agree to the new notice, 2 if you do not, or MENU to answer later."))
        return re_ask(state, (*not_understood(found), again), prompt(ctx).lines)

    def back(self, ctx: Ctx, state: State) -> Result:
        """Ask again."""
        return self.ask(ctx, state)

    def ask(self, ctx: Ctx, state: State) -> Result:
        """The question again."""
        return Result(state, (prompt(ctx),))

    def topic(self, state: State) -> Msg:
        """What the member was answering."""
        return msg(N_("whether you agree to our new privacy notice"))


FLOW = Reconsent()
