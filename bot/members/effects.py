"""The engine's performers for the effects of the joining, language, notice and opt-out flows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app

from bot.audit import service as audit
from bot.core.area import Performer
from bot.members import service as member_service
from bot.models import Member
from flows.base import Effect
from flows.effects import (
    CorrectDetail,
    DeclineNewNotice,
    MarkNoticeAsked,
    OptIn,
    OptOut,
    RecordConsent,
    RecordSensitiveChoice,
    RegisterMember,
    ResumeBroadcasts,
    SetLanguage,
    StopBroadcasts,
)

# The audit action of a member's change of language (the timeline shows it).
LANGUAGE_CHANGED = "member.language"


def perform_set_language(member: Member, effect: SetLanguage, now: datetime) -> None:
    """Switch the member's language; a change of a language already set is recorded (codes and ids only)."""
    if effect.language not in current_app.config["LANGUAGES"] or effect.language == member.language:
        return
    if member.language is not None and member.id is not None:
        audit.record(f"member:{member.id}", LANGUAGE_CHANGED, f"member:{member.id}", language_from=member.language,
                     language_to=effect.language)
    member.language = effect.language


def perform_record_consent(member: Member, effect: RecordConsent, now: datetime) -> None:
    """Record the member's consent."""
    member_service.record_consent(member, now)


def perform_mark_notice_asked(member: Member, effect: MarkNoticeAsked, now: datetime) -> None:
    """Record that the member was asked about the current notice version."""
    member_service.record_notice_event(member, member_service.NOTICE_ASKED, now)


def perform_decline_new_notice(member: Member, effect: DeclineNewNotice, now: datetime) -> None:
    """Record that the member declined the current notice version (their data stays)."""
    member_service.record_notice_event(member, member_service.NOTICE_DECLINED, now)


def perform_record_sensitive(member: Member, effect: RecordSensitiveChoice, now: datetime) -> None:
    """Record whether the member let us ask about gender and community."""
    member_service.record_sensitive_choice(member, effect.agreed, now)


def perform_register(member: Member, effect: RegisterMember, now: datetime) -> dict[str, Any]:
    """Register the member and hand the member number to the welcome message."""
    number = member_service.register(
        member, name=effect.name, county=effect.county, work_kinds=effect.work_kinds,
        work_other=effect.work_other, gender=effect.gender, community=effect.community, now=now,
    )
    return {"member_number": number}


def perform_opt_out(member: Member, effect: OptOut, now: datetime) -> None:
    """Stop messages to the member."""
    member_service.opt_out(member, "whatsapp", now)


def perform_opt_in(member: Member, effect: OptIn, now: datetime) -> None:
    """Resume messages to the member."""
    member_service.opt_in(member, "whatsapp", now)


def perform_stop_broadcasts(member: Member, effect: StopBroadcasts, now: datetime) -> None:
    """Stop broadcasts to the member (reminders and answers go on)."""
    member_service.stop_broadcasts(member, "whatsapp", now)


def perform_resume_broadcasts(member: Member, effect: ResumeBroadcasts, now: datetime) -> None:
    """Send broadcasts to the member again."""
    member_service.resume_broadcasts(member, "whatsapp", now)


def perform_correct(member: Member, effect: CorrectDetail, now: datetime) -> None:
    """Change one answer of sign-up (audited by field name)."""
    member_service.correct(member, effect.field, effect.values, now)


MEMBER_PERFORMERS: dict[type[Effect], Performer] = {
    SetLanguage: perform_set_language,
    RecordConsent: perform_record_consent,
    RecordSensitiveChoice: perform_record_sensitive,
    MarkNoticeAsked: perform_mark_notice_asked,
    DeclineNewNotice: perform_decline_new_notice,
    RegisterMember: perform_register,
    OptOut: perform_opt_out,
    OptIn: perform_opt_in,
    StopBroadcasts: perform_stop_broadcasts,
    CorrectDetail: perform_correct,
    ResumeBroadcasts: perform_resume_broadcasts,
}
