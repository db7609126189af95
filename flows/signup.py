"""Joining the union: consent (with the age), then name, county, kind of work, whether we may ask the sensitive
questions (gender and community) and, if so, those, then a summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flows import language, privacy
from flows.base import (
    N_,
    Choices,
    Ctx,
    Input,
    Line,
    Msg,
    Option,
    Part,
    Reply,
    Result,
    State,
    Text,
    fold_digits,
    label_of,
    msg,
)
from flows.choices import Match, not_understood, read, which_one
from flows.counties import match_county
from flows.effects import ForgetContact, RecordConsent, RecordSensitiveChoice, RegisterMember
from flows.form import Answer, Exit, Form, Invalid, Step, Unsure
from flows.vocabulary import INTENTS
from flows.yes_no import YES_OR_NO, yes_no

NAME = "signup"

WORK_KINDS: tuple[tuple[str, str], ...] = (
    ("transcription", N_("Transcription")),
    ("data_annotation", N_("Data annotation / AI training")),
    ("online_freelancing", N_("Online freelancing (Upwork, Fiverr and the like)")),
    ("virtual_assistance", N_("Virtual assistance")),
    ("ride_delivery", N_("Ride-hailing or delivery")),
    ("content_creation", N_("Content creation")),
    ("other", N_("Other")),
)
GENDERS: tuple[tuple[str, str], ...] = (
    ("woman", N_("Woman")),
    ("man", N_("Man")),
    ("undisclosed", N_("Prefer not to say")),
)
COMMUNITIES: tuple[tuple[str, str], ...] = (
    ("refugee", N_("Refugee")),
    ("host", N_("Host community")),
    ("neither", N_("Neither")),
)
# Translators: the words members use for an option, separated by '|', in capitals (like the vocabulary):
# the option's label and these words choose it, in every language at once. Keep the English words out.
SYNONYMS: dict[str, str] = {
    "transcription": N_("TRANSCRIBING|TRANSCRIBER|TRANSCRIBE|AUDIO TYPING|TYPING"),
    "data_annotation": N_("ANNOTATION|DATA LABELLING|DATA LABELING|LABELLING|LABELING|AI TRAINING|TAGGING|"
                          "REMOTASKS|APPEN"),
    "online_freelancing": N_("FREELANCING|FREELANCER|FREELANCE|ONLINE WORK|ONLINE JOBS|ONLINE|UPWORK|FIVERR|"
                             "ACADEMIC WRITING|ONLINE WRITING|WRITING"),
    "virtual_assistance": N_("VIRTUAL ASSISTANT|VA|ADMIN SUPPORT|CUSTOMER SUPPORT"),
    "ride_delivery": N_("DELIVERY|DELIVERIES|RIDER|RIDING|DRIVER|DRIVING|BODA|BODA BODA|BODABODA|UBER|BOLT|"
                        "LITTLE CAB|GLOVO|UBER EATS|TAXI|RIDE HAILING"),
    "content_creation": N_("CONTENT|CONTENT CREATOR|YOUTUBE|TIKTOK|INFLUENCER|BLOGGING|VLOGGING"),
    "other": N_("SOMETHING ELSE|ANOTHER"),
    "woman": N_("WOMAN|FEMALE|LADY|GIRL|F"),
    "man": N_("MAN|MALE|GUY|BOY|M"),
    "undisclosed": N_("RATHER NOT SAY|NOT SAY|PRIVATE"),
    "refugee": N_("REFUGEE|REFUGEES|ASYLUM SEEKER"),
    "host": N_("HOST|HOST COMMUNITY|LOCAL COMMUNITY"),
    "neither": N_("NEITHER|NONE|NONE OF THEM|NO"),
}


def options_of(pairs: tuple[tuple[str, str], ...]) -> tuple[Option, ...]:
    """The options of a list of (id, label), with their words."""
    return tuple(Option(key, msg(label), (SYNONYMS[key],) if key in SYNONYMS else ()) for key, label in pairs)


WORK_CHOICES = Choices.of(options_of(WORK_KINDS), multiple=True)
CONSENT_CHOICES = Choices.of((
    Option("yes", msg(N_("Yes, I am 18 or older and I agree")), (INTENTS["yes"],), intent="yes"),
    Option("no", msg(N_("No")), (INTENTS["no"],), intent="no"),
    Option("under_18", msg(N_("I am under 18")), (INTENTS["under_18"],), intent="under_18"),
))
SENSITIVE_CHOICES = yes_no(msg(N_("Yes, ask me")), msg(N_("No, skip them")), no_words=(INTENTS["skip"],))


def unsure_or_invalid(choices: Choices, found: Match, reason: Msg) -> Unsure | Invalid:
    """An answer that fits several options asks which; anything else re-asks with the reason."""
    if found.ask:
        return Unsure(which_one(choices, found))
    return Invalid(reason, not_understood(found))


WORK_LABELS = dict(WORK_KINDS)
GENDER_LABELS = dict(GENDERS)
COMMUNITY_LABELS = dict(COMMUNITIES)

SKIP_HINT = msg(N_("Reply SKIP to skip this question."))


def work_summary(data: Mapping[str, Any]) -> tuple[Line, ...]:
    """The kinds of work, rendered as a comma-separated list."""
    parts: list[Line] = [msg(WORK_LABELS[k]) for k in data.get("work", []) if k in WORK_LABELS and k != "other"]
    if "other" in data.get("work", []):
        parts.append(Text(data.get("work_other") or "other"))
    return tuple(parts)


class Consent(Step):
    """The short notice (the full one is PRIVACY) and the member's agreement, with the age folded in."""

    name = "consent"
    topic = msg(N_("whether we may keep your details"))

    # What is asked and why, before the rights: sign-up's wording; the notice before a ticket or an enrolment
    # (flows/agree.py) says its own.
    opening = N_(
        "Before you join, may we keep your details? %(union)s keeps your phone number, name, county and "
        "kind of work to run your membership, send you union news and count members (totals only) in "
        "our work with government and partners. Joining is voluntary."
    )

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Part]:
        """Who we are, why we keep data, that it is voluntary, the main rights and their keywords."""
        return (
            msg(self.opening, union=privacy.controller(ctx)),
            msg(N_("At any time you can see your data (MY DATA), delete it (DELETE MY DATA) or stop our messages "
                   "(STOP). Send PRIVACY for the full notice: who receives your data, how long we keep it and all "
                   "your rights.")),
            msg(N_("Reply YES if you are 18 or older and agree.")),
            CONSENT_CHOICES,
        )

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Unsure | Exit:
        """Yes records consent; no, or under 18, ends the conversation without keeping anything."""
        found = read(CONSENT_CHOICES, ctx, inp)
        if found.one == "under_18":
            return decline(msg(N_("Thank you for your interest! You must be 18 or older to join the union, so you "
                                  "cannot join yet. We have deleted your phone number and your messages. You are "
                                  "welcome to join when you turn 18.")))
        if found.one == "yes":
            return Answer({"consented": True}, effects=(RecordConsent(),))
        if found.one == "no":
            return decline(msg(N_("No problem. We have deleted your phone number and your messages, and we keep "
                                  "nothing that identifies you. Without your agreement you cannot become a member. "
                                  "Send JOIN any time if you change your mind, or PRIVACY to read the full notice.")))
        return unsure_or_invalid(CONSENT_CHOICES, found, msg(N_(
            "Please reply 1 if you are 18 or older and agree, 2 if you do not agree, or 3 if you are under 18.")))


def decline(goodbye: Msg) -> Exit:
    """Leave sign-up without consent (a refusal, or someone under 18): the person is forgotten (their row,
    number and messages are deleted), the same for both."""
    return Exit(Result(None, (Reply.of(goodbye),), (ForgetContact(),)))


class FullName(Step):
    """The member's full name."""

    name = "name"
    topic = msg(N_("your name"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Part]:
        """Ask for the full name."""
        return (msg(N_("What is your full name?")),)

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Exit:
        """2 to 80 characters with at least two letters."""
        if inp.kind != "text":
            return Invalid(msg(N_("Please type your full name, for example: Amina Wanjiku.")))
        name = " ".join(inp.text.split())
        letters = sum(ch.isalpha() for ch in name)
        if len(name) > 80:
            return Invalid(msg(N_("That is too long for a name. Please type your full name in 80 characters or fewer.")))
        if len(name) < 2 or letters < 2:
            return Invalid(msg(N_("Please type your full name in letters, for example: Amina Wanjiku.")))
        return Answer({"name": name})


class County(Step):
    """The county, matched loosely."""

    name = "county"
    topic = msg(N_("your county"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Part]:
        """Ask for the county."""
        return (msg(N_("Which county do you live in? For example: Nairobi, Mombasa or Turkana.")),)

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Exit:
        """A sure match is saved; several likely ones are offered as a numbered list."""
        if inp.kind != "text":
            return Invalid(msg(N_("Please type the name of your county.")))
        found = match_county(inp.text)
        if found.county:
            return Answer({"county": found.county})
        if found.candidates:
            return Answer({"county_candidates": list(found.candidates)}, next="county_pick")
        return Invalid(
            msg(N_("I could not find a county called \u201c%(text)s\u201d. Please type your county, for example Nairobi, Kisumu or Turkana."), text=inp.text[:40])
        )


class CountyPick(Step):
    """Choose from the likely counties."""

    name = "county_pick"
    topic = msg(N_("your county"))
    substep = True

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Part]:
        """The likely counties, numbered, and 0 for none of them."""
        return (
            msg(N_("Did you mean one of these? Reply with its number, or 0 to type it again.")),
            county_choices(state),
        )

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Unsure | Exit:
        """A number or a name from the list, 0 to retype, or a county typed again."""
        if inp.text.strip() == "0":
            return Answer({"county_candidates": []}, next="county")
        choices = county_choices(state)
        found = read(choices, ctx, inp)
        if found.one:
            return Answer({"county": found.one, "county_candidates": []})
        retyped = match_county(inp.text) if inp.kind == "text" else None
        if retyped and retyped.county:
            return Answer({"county": retyped.county, "county_candidates": []})
        return unsure_or_invalid(choices, found, msg(N_(
            "Please reply with a number from the list, or 0 to type your county again.")))


def county_choices(state: State) -> Choices:
    """The likely counties offered, as choices."""
    return Choices.of(Option(county, Text(county)) for county in state.data.get("county_candidates", []))


class Work(Step):
    """Kinds of gig work, several allowed."""

    name = "work"
    topic = msg(N_("the kind of work you do"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Part]:
        """The numbered menu of kinds of work."""
        return (
            msg(N_("What kind of gig work do you do? Reply with one or more numbers or words, for example: "
                   "1, 3 or transcription, delivery")),
            WORK_CHOICES,
        )

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Unsure | Exit:
        """Numbers or words from the menu; 'other' asks for a description next."""
        found = read(WORK_CHOICES, ctx, inp)
        if not found.sure:
            return unsure_or_invalid(WORK_CHOICES, found, msg(N_(
                "Please reply with numbers from 1 to %(count)s, for example: 1, 3"), count=len(WORK_KINDS)))
        kinds = [key for key, _ in WORK_KINDS if key in found.ids]
        return Answer({"work": kinds}, next="work_other" if "other" in kinds else None)


class WorkOther(Step):
    """A description of 'other' work."""

    name = "work_other"
    topic = msg(N_("the kind of work you do"))
    substep = True

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Part]:
        """Ask what the other work is."""
        return (msg(N_("What other kind of work do you do? Describe it in a few words.")),)

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Exit:
        """A few words, 2 to 60 characters."""
        text = " ".join(inp.text.split())
        if inp.kind != "text" or sum(ch.isalpha() for ch in text) < 2 or len(text) > 60:
            return Invalid(msg(N_("Please describe your work in a few words (up to 60 characters).")))
        return Answer({"work_other": text})


class Choice(Step):
    """A skippable numbered choice."""

    options: tuple[tuple[str, str], ...] = ()
    question: str = ""

    def choices(self) -> Choices:
        """The options as choices."""
        return Choices.of(options_of(self.options))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Part]:
        """The question, the numbered options and how to skip."""
        return (msg(self.question), self.choices(), SKIP_HINT)

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Unsure | Exit:
        """A number or a word from the list, or SKIP."""
        if inp.means("skip"):
            return Answer({self.name: None})
        choices = self.choices()
        found = read(choices, ctx, inp)
        if found.one:
            return Answer({self.name: found.one})
        return unsure_or_invalid(choices, found, msg(N_(
            "Please reply with a number from 1 to %(count)s, or SKIP."), count=len(self.options)))


class Sensitive(Step):
    """A separate yes/no before gender and community, which are sensitive data under the Act (s.2)."""

    name = "sensitive"
    topic = msg(N_("whether we may ask about your gender and community"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Part]:
        """Why the union counts them, that they are sensitive, and that saying no changes nothing else."""
        return (
            msg(N_("Two more questions, about your gender and whether you are a refugee or from a host community. "
                   "The law treats these as sensitive data, so we ask first. The union counts women, refugees and "
                   "host communities in gig work (totals only) to push for their needs. Saying no changes nothing "
                   "else.")),
            msg(N_("May we ask them?")),
            SENSITIVE_CHOICES,
        )

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Unsure | Exit:
        """Yes goes on to gender; no skips both and is recorded when the member joins."""
        found = read(SENSITIVE_CHOICES, ctx, inp)
        if found.one == "yes":
            return Answer({"sensitive": True}, next="gender")
        if found.one == "no" or inp.means("skip"):
            return Answer({"sensitive": False, "gender": None, "community": None}, next="confirm")
        return unsure_or_invalid(SENSITIVE_CHOICES, found, msg(N_(
            "Please reply 1 if we may ask about your gender and community, or 2 to skip them.")))


class Gender(Choice):
    """Gender, skippable."""

    name = "gender"
    topic = msg(N_("your gender"))
    options = GENDERS
    question = N_("What is your gender? (This helps the union count women in gig work.)")


class Community(Choice):
    """Refugee or host community, skippable."""

    name = "community"
    topic = msg(N_("your community"))
    options = COMMUNITIES
    question = N_("Are you a refugee or from a host community?")


FIXABLE = ("name", "county", "work", "gender", "community")
SENSITIVE_STEPS = ("gender", "community")


class Review(Step):
    """The summary: confirm, or correct one answer."""

    name = "confirm"
    topic = msg(N_("whether your details are right"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Part]:
        """The answers, numbered so one can be corrected."""
        return (
            msg(N_("Please check your details:")),
            review_choices(state),
            msg(N_("Reply YES to join, or the number of an answer to change it.")),
        )

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Unsure | Exit:
        """YES finishes; a number (or the name of an answer: 'county') goes back to that question."""
        if not fold_digits(inp.text).strip().isdigit() and read(YES_OR_NO, ctx, inp).one == "yes":
            return Answer({})
        choices = review_choices(state)
        found = read(choices, ctx, inp)
        if found.one:
            step = found.one
            if step in SENSITIVE_STEPS and not state.data.get("sensitive", True):
                step = "sensitive"  # they said no to these questions: ask that again first
            return Answer({"fixing": True}, next=step)
        return unsure_or_invalid(choices, found, msg(N_(
            "Please reply YES to join, or a number from 1 to %(count)s to change an answer."), count=len(FIXABLE)))


def review_choices(state: State) -> Choices:
    """The answers given, one option per question that can be corrected."""
    data = state.data
    values: dict[str, tuple[str, Line | tuple[Line, ...]]] = {
        "name": (N_("Name: %(value)s"), Text(data.get("name", ""))),
        "county": (N_("County: %(value)s"), Text(data.get("county", ""))),
        "work": (N_("Work: %(value)s"), work_summary(data)),
        "gender": (N_("Gender: %(value)s"), label_of(GENDER_LABELS, data.get("gender"))),
        "community": (N_("Community: %(value)s"), label_of(COMMUNITY_LABELS, data.get("community"))),
    }
    return Choices.of(Option(step, msg(values[step][0], value=values[step][1])) for step in FIXABLE)


class Signup(Form):
    """The sign-up form."""

    name = NAME
    steps = (Consent(), FullName(), County(), CountyPick(), Work(), WorkOther(), Sensitive(), Gender(), Community(),
             Review())
    review_step = "confirm"

    def start(self, ctx: Ctx, data: Mapping[str, Any] | None = None) -> Result:
        """Say what the union is (unless just said), offer the other languages, then ask for consent."""
        first = super().start(ctx, data)
        if (data or {}).get("welcomed"):
            return first
        return Result(first.state, (intro(ctx), *first.replies), first.effects)

    def finish(self, ctx: Ctx, state: State) -> Result:
        """Register the member; the engine adds the member number to the welcome."""
        data = state.data
        sensitive = RecordSensitiveChoice(agreed=bool(data.get("sensitive", True)))
        effect = RegisterMember(
            name=data["name"],
            county=data["county"],
            work_kinds=tuple(data.get("work", ())),
            work_other=data.get("work_other") if "other" in data.get("work", ()) else None,
            gender=data.get("gender"),
            community=data.get("community"),
        )
        welcome = Reply.of(
            msg(N_("Karibu, %(name)s! You are now a member of %(union)s."), name=Text(data["name"]), union=Text(ctx.settings.union_name)),
            msg(N_("Your member number is %(member_number)s. Keep it safe.")),
            msg(N_("Next: send MENU for the main menu, or COURSES for the free courses.")),
        )
        return Result(None, (welcome,), (sensitive, effect))


FLOW = Signup()


def intro(ctx: Ctx, *, offer: bool = True) -> Reply:
    """Who we are; with `offer`, the other languages by their own names (each name switches to it)."""
    lines = [
        msg(N_("Welcome to %(union)s!"), union=Text(ctx.settings.union_name)),
        msg(
            N_(
                "We are the union of gig workers in Kenya: freelancers, online workers, riders and drivers. "
                "Together we push for fair pay, safe work and new skills."
            )
        ),
    ]
    if offer and len(ctx.settings.languages) > 1:
        # Translators: the other languages follow, each written in itself; a member who reads one of them
        # finds its name here and sends it.
        lines.append(msg(N_("Other languages: %(languages)s. Send the name of yours."),
                         languages=language.names(ctx, leave_out=ctx.lang)))
    return Reply.of(*lines)


def already_member(ctx: Ctx) -> Reply:
    """What a member who writes JOIN again is told."""
    return Reply.of(
        msg(
            N_("You are already a member of %(union)s. Your member number is %(number)s and your membership is %(status)s."),
            union=Text(ctx.settings.union_name),
            number=Text(ctx.member.member_number or ""),
            status=status_label(ctx.member.status),
        )
    )


def status_label(status: str) -> Msg:
    """The member's status in words."""
    labels = {"active": N_("active"), "prospect": N_("not yet complete"), "deleted": N_("closed")}
    return msg(labels.get(status, N_("active")))
