"""The short notice for someone who never agreed to it, asked before anything about them is stored (a ticket,
an enrolment): sign-up's consent step on its own. YES records consent and the router carries on with what was
asked; NO or UNDER 18 forgets the person, as in sign-up."""

from __future__ import annotations

from flows.base import N_, Ctx, Result, State
from flows.form import Form
from flows.signup import Consent

NAME = "agree"
# The step a YES ends at: the router sees it, performs the consent and carries on with what was asked.
AGREED = "agreed"


class AskFirst(Consent):
    """Sign-up's consent step, opened for what was asked: a question for a person or a course, not joining."""

    opening = N_(
        "Before we go on, may we keep your details? %(union)s keeps your phone number and what you send us (your "
        "question, the course you choose) to answer you, send you union news and count people (totals only) in "
        "our work with government and partners. Agreeing is voluntary."
    )


class Agree(Form):
    """One question, the consent; the state's data says what to carry on with (`then`, and its `data`, or the
    `state` and the answer `text` and `intents` that would have stored something)."""

    name = NAME
    steps = (AskFirst(),)

    def finish(self, ctx: Ctx, state: State) -> Result:
        """Agreed: hand what was asked back to the router."""
        return Result(State(NAME, AGREED, state.data))


FLOW = Agree()
