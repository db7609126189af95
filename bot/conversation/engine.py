"""The conversation engine: load the state, classify the input, run the flows, perform the effects,
save the state and render the replies in the member's language.

Everything here runs inside the caller's transaction with the member's row locked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from bot.commands import suggest
from bot.commands.registry import dispatch as dispatch_staff_command
from bot.core import i18n, language_detect
from bot.core.area import assembled
from bot.core.extensions import db
from bot.core.facts import facts_of
from bot.core.sql import fetch, insert_for
from bot.members import service as member_service
from bot.members.staff_numbers import roles_from
from bot.models import Conversation, Member
from bot.privacy import service as privacy_service
from flows import question, router
from flows.base import SAVED, Ctx, Effect, Input, Media, MemberView, Result, Settings, State
from flows.effects import ConcernsMembers, OpenTicket


def perform_concerns(member: Member, effect: ConcernsMembers, now: datetime) -> None:
    """Nothing to do now: `answer` hands the members to the caller, who links the stored messages."""


def perform(member: Member, effects: tuple[Effect, ...], now: datetime) -> dict[str, Any]:
    """Perform each effect in order (with the performer an area declares for its kind, `Area.performers`);
    what they return is available to the replies as parameters (under `SAVED`: kept with the flow's data)."""
    performers = assembled().performers
    results: dict[str, Any] = {}
    for effect in effects:
        performer = performers.get(type(effect))
        if performer is None:
            raise LookupError(f"no performer for {type(effect).__name__}")
        results.update(performer(member, effect, now) or {})
    return results


def classify(text: str, *, media: tuple[Media, ...] = (), location: tuple[float, float] | None = None,
             button: str | None = None) -> Input:
    """Turn what the member sent into an `Input`: keywords and intents in every language."""
    words = i18n.normalize(text)
    vocabulary = i18n.vocabulary()
    return Input(
        text=text,
        keyword=vocabulary.keyword(words),
        intents=vocabulary.intents_of(words),
        media=media,
        location=location,
        button=button,
    )


def settings() -> Settings:
    """The union's settings as flows see them."""
    config = current_app.config
    return Settings(
        union_name=config["UNION_NAME"],
        union_short_name=config["UNION_SHORT_NAME"],
        help_contact=config["HELP_CONTACT"],
        languages=config["LANGUAGES"],
        language_names=language_names(config["LANGUAGES"]),
        timezone=config["TIMEZONE"],
        data_controller=config["DATA_CONTROLLER"] or config["UNION_NAME"],
        data_protection_contact=config["DATA_PROTECTION_CONTACT"],
        retention_days=config["RETENTION_DAYS"],
    )


@cache
def language_names(languages: tuple[str, ...]) -> dict[str, str]:
    """Each language's name written in itself."""
    return {code: i18n.autonym(code) for code in languages}


def member_view(member: Member) -> MemberView:
    """The snapshot of a member that flows see."""
    return MemberView(
        is_member=member.is_member,
        member_number=member.member_number,
        name=member.name,
        status=member.status,
        opted_out=member.opted_out,
        broadcasts_stopped=member.broadcasts_stopped,
        roles=roles_from(member.staff_roles),  # set by the statement that locked the member
        facts=facts_of(member),
        notice_outdated=member_service.notice_outdated(member),
        consented=member.consent_at is not None,
    )


CONVERSATIONS = Conversation.__table__


@dataclass(frozen=True)
class Answer:
    """The rendered replies to one message, the conversation row to store (`save_conversation`), the
    members the message and its replies name (a staff command about them), and whether the sender was
    forgotten (a refused consent: there is no member left to store anything for)."""

    texts: list[str]
    conversation: dict[str, Any]
    subjects: tuple[int, ...] = ()
    forgotten: bool = False


CONVERSATION_OF = sa.select(CONVERSATIONS).where(CONVERSATIONS.c.member_id == sa.bindparam("member"))


def load_conversation(member_id: int) -> Mapping[str, Any] | None:
    """The stored conversation of a member (read after the member's row is locked), or None."""
    rows = fetch(CONVERSATION_OF, {"member": member_id})
    return rows[0] if rows else None


@cache
def conversation_upsert(dialect: str) -> sa.Insert:
    """INSERT … ON CONFLICT (member_id) DO UPDATE of a conversation, built once per database kind."""
    insert = insert_for(dialect, CONVERSATIONS)
    columns = ("member_id", "flow", "step", "answers", "errors", "updated_at", "expires_at")
    return insert.values({name: sa.bindparam(f"c_{name}", type_=CONVERSATIONS.c[name].type) for name in columns}) \
        .on_conflict_do_update(index_elements=[CONVERSATIONS.c.member_id],
                               set_={name: insert.excluded[name] for name in columns[1:]})


def save_conversation(row: Mapping[str, Any]) -> None:
    """Store where the conversation stands (a row from `answer`)."""
    connection = db.session.connection()
    connection.execute(conversation_upsert(connection.dialect.name), row)


def answer(member: Member, inp: Input, now: datetime, *, first_contact: bool = False) -> Answer:
    """Answer one message from a (locked) member: run the flows, perform the effects, render the replies.
    The caller stores the conversation row it returns (in the same transaction)."""
    config = current_app.config
    unsure = False
    if member.language is None:
        # Not an ORM change (no UPDATE of its own): the caller stores it with `inbound.MARK_SEEN`, unless a
        # language switch in this message changes it first. A message that does not tell gets DEFAULT_LANGUAGE
        # and the list of languages. A staff member's words count, not the models: their first message is often
        # a command whose text is written for a member ("REPLY 1 Hatutoi mikopo").
        staff = bool(roles_from(member.staff_roles))
        detected = language_detect.detect(inp.text, config["LANGUAGES"], model=not staff)
        unsure = detected is None and not staff
        set_committed_value(member, "language", detected or config["DEFAULT_LANGUAGE"])
    conversation = load_conversation(member.id)
    state = None
    expires_at = updated_at = None
    if conversation is not None:
        state = State.from_json({"flow": conversation["flow"], "step": conversation["step"],
                                 "data": conversation["answers"], "errors": conversation["errors"]})
        expires_at, updated_at = conversation["expires_at"], conversation["updated_at"]
    expired = False
    if state is not None and expires_at is not None and now >= expires_at:
        expired = state.flow != router.MENU
        state = None
    paused = now - (updated_at or now)
    resumed = state is not None and not expired and paused >= timedelta(minutes=config["RESUME_NOTICE_MINUTES"])
    ctx = Ctx(
        member=member_view(member),
        lang=member.language,
        now=now,
        settings=settings(),
        resumed=resumed,
        expired=expired,
        first_contact=first_contact,
        language_unsure=unsure,
        translate=i18n.translate,
    )
    result = run(ctx, state, inp)
    extra = perform(member, result.effects, now)
    saved = extra.pop(SAVED, None)
    if saved and result.state is not None:
        result = Result(result.state.with_data(**saved), result.replies, result.effects)
    row = conversation_row(member.id, result.state, now, timedelta(hours=config["CONVERSATION_TIMEOUT_HOURS"]))
    lang = member.language or config["DEFAULT_LANGUAGE"]
    texts = [text for reply in result.replies for text in i18n.render_reply(lang, reply, extra)]
    subjects = tuple(i for effect in result.effects if isinstance(effect, ConcernsMembers) for i in effect.member_ids)
    return Answer(texts, row, subjects, privacy_service.was_forgotten(member))


def run(ctx: Ctx, state: State | None, inp: Input) -> Result:
    """A staff command when the message is one (the member's conversation stays where it was), else the flows.
    A staff member's mistyped command gets "did you mean …", and outside any flow their free words never
    become a question for the organisers on their own number."""
    staff = bool(ctx.member.roles) and inp.kind == "text"
    idle = state is None or state.flow == router.MENU or ctx.expired
    if inp.keyword is None and not router.takes_any_text(state):
        command = dispatch_staff_command(ctx, inp)
        if command is not None:
            return command if command.state is not None else Result(state, command.replies, command.effects)
        guess = suggest.did_you_mean(ctx, inp, idle=idle) if staff else None
        if guess is not None:
            return Result(state, guess.replies)
    result = router.handle(ctx, state, inp)
    if staff and idle and asks_organisers(result, inp):
        return suggest.not_a_command(ctx, state, inp)
    return result


def asks_organisers(result: Result, inp: Input) -> bool:
    """Whether the flows took a message for a question to the organisers (a ticket, or free words sent to the
    answers); choosing "Ask a question" from the menu by its number is not that."""
    if any(isinstance(effect, OpenTicket) for effect in result.effects):
        return True
    entered = result.state is not None and result.state.flow == question.NAME
    return entered and not inp.text.strip().rstrip(".)").isdigit()


def conversation_row(member_id: int, state: State | None, now: datetime, ttl: timedelta) -> dict[str, Any]:
    """Where the conversation stands and when it expires, as parameters of `conversation_upsert`."""
    return {
        "c_member_id": member_id,
        "c_flow": state.flow if state else None,
        "c_step": state.step if state else None,
        "c_answers": dict(state.data) if state else {},
        "c_errors": state.errors if state else 0,
        "c_updated_at": now,
        "c_expires_at": now + ttl if state else None,
    }
