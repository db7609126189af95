"""Members' data rights (Kenya Data Protection Act 2019): MY DATA shows everything held about the member;
DELETE MY DATA, after a confirmation, erases the personal data.

The engine supplies the summary as `facts["my_data"]` (a mapping of plain values).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows.base import (
    N_,
    NOT_GIVEN,
    NP_,
    Choices,
    Ctx,
    Input,
    Line,
    Msg,
    Option,
    Reply,
    Result,
    State,
    Text,
    label_of,
    msg,
    msgn,
)
from flows.choices import ask_which, not_understood, read
from flows.effects import EraseMyData
from flows.form import re_ask
from flows.signup import COMMUNITY_LABELS, GENDER_LABELS, WORK_LABELS
from flows.vocabulary import INTENTS

NAME = "mydata"

DELETE_CHOICES = Choices.of((
    Option("yes", msg(N_("Yes, delete my data")), (INTENTS["yes"],), intent="yes"),
    Option("no", msg(N_("No, keep it")), (INTENTS["no"],), intent="no"),
))
CONFIRM = (
    msg(N_("This erases your name, phone number, messages and files for good, and ends your membership. "
           "We keep only anonymous counts (county, kind of work, month you joined, courses completed).")),
    msg(N_("Delete your data?")),
    DELETE_CHOICES,
)
CONFIRM_AGAIN = msg(N_("Please reply 1 to delete your data or 2 to keep it."))
ERASED = msg(N_("Your personal data has been deleted. Thank you for being part of the union. "
                "You can write to us again at any time."))
KEPT = msg(N_("Nothing was deleted. Send MENU for the main menu."))
DELETE_HINT = msg(N_("To erase your personal data, send DELETE MY DATA."))


def value(raw: Any) -> Line:
    """A stored value as shown, or 'not given'."""
    return label_of({}, raw)


def summary(ctx: Ctx) -> Reply:
    """Everything held about the member, one line each."""
    data: Mapping[str, Any] = ctx.member.facts.get("my_data") or {}
    work: list[Line] = [msg(WORK_LABELS[k]) for k in data.get("work", ()) if k in WORK_LABELS and k != "other"]
    if data.get("work_other"):
        work.append(Text(str(data["work_other"])))
    consent = data.get("consent_at")
    lines: list[Msg] = [
        msg(N_("This is everything we hold about you:")),
        msg(N_("Name: %(value)s"), value=value(data.get("name"))),
        msg(N_("Phone: %(value)s"), value=value(data.get("phone"))),
        *([msg(N_("WhatsApp user id: %(value)s"), value=Text(str(data["user_id"])))] if data.get("user_id") else []),
        msg(N_("WhatsApp name: %(value)s"), value=value(data.get("profile_name"))),
        msg(N_("Member number: %(value)s"), value=value(data.get("member_number"))),
        msg(N_("County: %(value)s"), value=value(data.get("county"))),
        msg(N_("Work: %(value)s"), value=work or NOT_GIVEN),
        msg(N_("Gender: %(value)s"), value=label_of(GENDER_LABELS, data.get("gender"))),
        msg(N_("Community: %(value)s"), value=label_of(COMMUNITY_LABELS, data.get("community"))),
        msg(N_("Language: %(value)s"), value=value(data.get("language"))),
        msg(N_("Joined: %(value)s"), value=value(data.get("joined_at"))),
        msg(N_("Consent given: %(value)s"), value=(
            msg(N_("%(date)s (notice version %(version)s)"), date=Text(str(consent)),
                version=Text(str(data.get("consent_version") or "")))
            if consent else NOT_GIVEN)),
        msg(N_("Messages from us: %(value)s"),
            value=msg(N_("stopped")) if data.get("opted_out") else msg(N_("allowed"))),
        msgn(NP_("Messages stored: %(count)s (message texts are deleted after %(days)s day)",
                 "Messages stored: %(count)s (message texts are deleted after %(days)s days)"), "days",
            count=Text(str(data.get("messages", 0))), days=Text(str(data.get("retention_days", "")))),
        msg(N_("Questions to organisers: %(count)s"), count=Text(str(data.get("tickets", 0)))),
        msg(N_("Courses: %(count)s; certificates reported: %(certificates)s"),
            count=Text(str(data.get("enrolments", 0))), certificates=Text(str(data.get("certificates", 0)))),
        DELETE_HINT,
    ]
    return Reply.of(*lines)


class MyData:
    """MY DATA (a summary) and DELETE MY DATA (a confirmation, then the erasure)."""

    name = NAME

    def start(self, ctx: Ctx, data: Mapping[str, Any] | None = None) -> Result:
        """The summary, or the deletion question."""
        if (data or {}).get("delete"):
            return Result(State(NAME, "confirm"), (Reply.of(*CONFIRM),))
        return Result(None, (summary(ctx),))

    def handle(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """1 / yes erases, 2 / no keeps; anything else asks again."""
        found = read(DELETE_CHOICES, ctx, inp)
        if found.one == "yes":
            return Result(None, (Reply.of(ERASED),), (EraseMyData(),))
        if found.one == "no":
            return Result(None, (Reply.of(KEPT),))
        if found.ask:
            return ask_which(state, DELETE_CHOICES, found)
        return re_ask(state, (*not_understood(found), CONFIRM_AGAIN))

    def back(self, ctx: Ctx, state: State) -> Result:
        """Ask again."""
        return self.ask(ctx, state)

    def ask(self, ctx: Ctx, state: State) -> Result:
        """The deletion question again."""
        return Result(state, (Reply.of(*CONFIRM),))

    def topic(self, state: State) -> Msg:
        """What the member was doing."""
        return msg(N_("whether to delete your data"))


FLOW = MyData()
