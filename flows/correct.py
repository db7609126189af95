"""CHANGE MY DETAILS / BADILISHA TAARIFA (Data Protection Act 2019, s.26(d) and s.40): a member changes any answer
of sign-up from a numbered summary, with sign-up's own questions and checks.

The summary starts from what is held (`facts["my_data"]`); each answer goes back to the summary, and a changed
answer is one `CorrectDetail` effect (the engine records it in the audit log by field name, without the old
value). Gender and community are sensitive: a member who holds neither is asked sign-up's yes/no first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flows import signup
from flows.base import N_, Choices, Ctx, Input, Line, Option, Part, Reply, Result, State, Text, label_of, msg
from flows.choices import read
from flows.effects import CorrectDetail, RecordSensitiveChoice
from flows.form import Answer, Exit, Form, Invalid, Step, Unsure

NAME = "correct"
SUMMARY = "summary"

# The answers of sign-up a member may change, in the summary's order, and the saved values each one sets.
FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("name", ("name",)),
    ("county", ("county",)),
    ("work", ("work", "work_other")),
    ("gender", ("gender",)),
    ("community", ("community",)),
)
FIELD_KEYS = dict(FIELDS)
SENSITIVE = ("gender", "community")
# The names members may type instead of a number, beside the label shown (kept here, with the list they
# choose from; the matcher folds case and accents and forgives a typo).
FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "name": ("NAME", "JINA", "NOM", "MAGAC", "الاسم"),
    "county": ("COUNTY", "KAUNTI", "COMTÉ", "GOBOLKA", "المقاطعة"),
    "work": ("WORK", "KAZI", "TRAVAIL", "SHAQO", "العمل"),
    "gender": ("GENDER", "JINSIA", "GENRE", "JINSI", "الجنس"),
    "community": ("COMMUNITY", "JAMII", "COMMUNAUTÉ", "BULSHO", "المجتمع"),
}

SAVED = msg(N_("Saved."))
UNCHANGED = msg(N_("That is what we had already: nothing changed."))
DONE = msg(N_("Your details are up to date. Send MENU for the main menu."))
NOT_A_MEMBER = msg(N_("Only members have details to change. Send JOIN to become a member, or MY DATA to see what we "
                      "hold about you."))


def held(ctx: Ctx) -> dict[str, Any]:
    """The member's sign-up answers as held now, in the shape sign-up's steps save them."""
    data: Mapping[str, Any] = ctx.member.facts.get("my_data") or {}
    return {
        "name": data.get("name") or "",
        "county": data.get("county") or "",
        "work": list(data.get("work") or ()),
        "work_other": data.get("work_other"),
        "gender": data.get("gender"),
        "community": data.get("community"),
    }


def values_of(data: Mapping[str, Any], field: str) -> dict[str, Any]:
    """What a field's answer saved (the 'other' description only with 'other' work)."""
    values: dict[str, Any] = {key: data.get(key) for key in FIELD_KEYS[field]}
    if field == "work":
        kinds = sorted(data.get("work") or ())
        values.update(work=kinds, work_other=values.get("work_other") if "other" in kinds else None)
    return values


class Summary(Step):
    """The numbered answers; a number goes to that question."""

    name = SUMMARY
    topic = msg(N_("which of your details to change"))

    def choices(self, state: State) -> Choices:
        """The answers as held (with this conversation's changes), one option per field."""
        data = state.data
        labels: dict[str, Line] = {
            "name": msg(N_("Name: %(value)s"), value=Text(data.get("name") or "")),
            "county": msg(N_("County: %(value)s"), value=Text(data.get("county") or "")),
            "work": msg(N_("Work: %(value)s"), value=signup.work_summary(data)),
            "gender": msg(N_("Gender: %(value)s"), value=label_of(signup.GENDER_LABELS, data.get("gender"))),
            "community": msg(N_("Community: %(value)s"), value=label_of(signup.COMMUNITY_LABELS, data.get("community"))),
        }
        return Choices.of(Option(field, labels[field], words=FIELD_WORDS[field]) for field, _ in FIELDS)

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Part]:
        """The answers as held, numbered."""
        return (
            msg(N_("Your details:")),
            self.choices(state),
            msg(N_("Reply with the number of the answer to change, or MENU when you are done.")),
        )

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Unsure | Exit:
        """A number (or a field's name) goes to its question; yes, no or thanks ends."""
        choices = self.choices(state)
        found = read(choices, ctx, inp)
        field = found.one
        if field is None and (inp.means("yes") or inp.means("no") or inp.means("thanks")):
            return Exit(Result(None, (Reply.of(DONE),)))
        if field is None:
            return signup.unsure_or_invalid(choices, found, msg(N_(
                "Please reply with a number from 1 to %(count)s, or MENU when you are done."), count=len(FIELDS)))
        step = field
        if field in SENSITIVE and not (state.data.get("gender") or state.data.get("community")):
            step = "sensitive"  # nothing sensitive is held: ask sign-up's yes/no first
        return Answer({"fixing": True, "field": field}, next=step)


class MayAskSensitive(signup.Sensitive):
    """Sign-up's yes/no before gender and community; no goes back to the summary and changes nothing."""

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Unsure | Exit:
        """Yes goes on to the chosen question (and is recorded); no returns to the summary."""
        outcome = super().parse(ctx, state, inp)
        if isinstance(outcome, Answer) and outcome.data.get("sensitive"):
            return Answer({"sensitive": True}, next=state.data.get("field"),
                          effects=(RecordSensitiveChoice(agreed=True),))
        if isinstance(outcome, Answer):
            return Answer({}, next=SUMMARY)
        return outcome


class Correct(Form):
    """The summary and sign-up's questions; every answer returns to the summary."""

    name = NAME
    steps = (Summary(), signup.FullName(), signup.County(), signup.CountyPick(), signup.Work(), signup.WorkOther(),
             MayAskSensitive(), signup.Gender(), signup.Community())
    review_step = SUMMARY

    def start(self, ctx: Ctx, data: Mapping[str, Any] | None = None) -> Result:
        """The summary of what is held; someone who has not joined has nothing to change."""
        if not ctx.member.is_member:
            return Result(None, (Reply.of(NOT_A_MEMBER),))
        return super().start(ctx, held(ctx))

    def handle(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """Sign-up's handling of each answer; back at the summary, a changed answer becomes a `CorrectDetail`."""
        result = super().handle(ctx, state, inp)
        field = state.data.get("field")
        if state.step in (SUMMARY, "sensitive") or result.state is None or result.state.step != SUMMARY \
                or field not in FIELD_KEYS:
            return result
        before, after = values_of(state.data, field), values_of(result.state.data, field)
        first, *rest = result.replies
        if before == after:
            return Result(result.state, (Reply((UNCHANGED, *first.lines)), *rest), result.effects)
        return Result(result.state, (Reply((SAVED, *first.lines)), *rest),
                      (*result.effects, CorrectDetail(field=field, values=after)))

    def finish(self, ctx: Ctx, state: State) -> Result:
        """Not reached: the summary is left with yes, no, MENU or CANCEL."""
        return Result(None, (Reply.of(DONE),))


FLOW = Correct()
