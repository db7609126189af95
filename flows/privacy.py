"""The full privacy notice (Kenya Data Protection Act 2019, s.29; General Regulations 2021, reg. 4), sent on
PRIVACY / FARAGHA at any step, from the menu and from the consent question, without consenting.

It is split into a few WhatsApp messages, each under Twilio's 1,600 characters in every language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows.base import N_, NP_, Ctx, Input, Line, Msg, Reply, Result, State, Text, msg, msgn

NAME = "privacy"

BULLET = N_("- %(item)s")


def bullets(*items: Line) -> tuple[Msg, ...]:
    """Lines of a bulleted list."""
    return tuple(msg(BULLET, item=item) for item in items)


def controller(ctx: Ctx) -> Text:
    """Who answers for members' data: DATA_CONTROLLER, else the union."""
    return Text(ctx.settings.data_controller or ctx.settings.union_name)


def contact_line(ctx: Ctx) -> Line:
    """How to reach the data controller: the configured contact, else an organiser through AGENT."""
    if ctx.settings.data_protection_contact:
        return Text(ctx.settings.data_protection_contact)
    return msg(N_("ask an organiser: send AGENT"))


def full_notice(ctx: Ctx) -> tuple[Reply, ...]:
    """The full notice: who, what, why, who receives it, safety, rights, and the consequence of refusing."""
    days = Text(str(ctx.settings.retention_days))
    who_and_what = Reply.of(
        msg(N_("PRIVACY NOTICE (1/3): who we are and what we keep")),
        msg(N_("%(controller)s is responsible for your data (the data controller). To contact us about your data: "
               "%(contact)s."), controller=controller(ctx), contact=contact_line(ctx)),
        msg(N_("We keep:")),
        *bullets(
            msg(N_("your phone number and WhatsApp name")),
            msg(N_("what you tell us when you join: name, county, kind of work and, only if you agree, gender and "
                   "whether you are a refugee or from a host community")),
            msgn(NP_("the texts of your messages to us and ours to you, deleted after %(days)s day",
                     "the texts of your messages to us and ours to you, deleted after %(days)s days"), "days", days=days),
            msg(N_("the courses you start, the certificates you send and the course vouchers you receive")),
            msg(N_("your questions to organisers and the cases we open to help you")),
        ),
        msg(N_("We use them:")),
        *bullets(
            msg(N_("to run your membership")),
            msg(N_("to offer you courses, vouchers and certificates")),
            msg(N_("to send you union news (broadcasts) and course reminders")),
            msg(N_("to count members in reports to government and partners: totals only, never your name or number")),
        ),
    )
    sharing_and_safety = Reply.of(
        msg(N_("PRIVACY NOTICE (2/3): who receives your data and how we keep it safe")),
        *bullets(
            msg(N_("Twilio, in the United States, carries our WhatsApp messages")),
            msg(N_("WhatsApp (Meta) delivers them")),
            msg(N_("our hosting provider stores our database")),
        ),
        msg(N_("So your data may leave Kenya. These companies may use it only to provide their service to us. "
               "We never sell your data.")),
        msg(N_("Only organisers who need your data can see it, through a dashboard protected by a password; they "
               "know you by your member number. Message texts are deleted after %(days)s days."), days=days),
        msg(N_("After DELETE MY DATA we keep only your county, kind of work, the month you joined and the courses "
               "you completed, without your name or number, for our counts.")),
    )
    rights = Reply.of(
        msg(N_("PRIVACY NOTICE (3/3): your rights under the Data Protection Act 2019")),
        *bullets(
            msg(N_("see your data: send MY DATA")),
            msg(N_("a copy of your data to take elsewhere: send MY DATA FILE (a PDF, with the same data as JSON and "
                   "CSV)")),
            msg(N_("correct your data: send AGENT and an organiser will correct it")),
            msg(N_("delete your data: send DELETE MY DATA")),
            msg(N_("object to a use of your data: send STOP for our news and reminders, or AGENT for any other use")),
            msg(N_("withdraw your consent at any time: send STOP, or DELETE MY DATA to end your membership")),
            msg(N_("complain to the Office of the Data Protection Commissioner (ODPC): www.odpc.go.ke")),
        ),
        msg(N_("Joining is voluntary. If you do not agree, you cannot become a member, and we do not keep your "
               "details. You must be 18 or older to join.")),
    )
    return (who_and_what, sharing_and_safety, rights)


class PrivacyNotice:
    """The full notice as a menu item: it answers and ends."""

    name = NAME

    def start(self, ctx: Ctx, data: Mapping[str, Any] | None = None) -> Result:
        """Send the full notice."""
        return Result(None, full_notice(ctx))

    def handle(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """Never waits for an answer; send the notice again."""
        return self.start(ctx)

    def back(self, ctx: Ctx, state: State) -> Result:
        """Nothing to go back to."""
        return self.start(ctx)

    def ask(self, ctx: Ctx, state: State) -> Result:
        """Send the notice again."""
        return self.start(ctx)

    def topic(self, state: State) -> Msg:
        """What the member was reading."""
        return msg(N_("our privacy notice"))


FLOW = PrivacyNotice()
