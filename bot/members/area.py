"""The members area: joining, the member's row, consent, language and opt-out, the conversation state."""

from __future__ import annotations

from bot.core.area import Area
from bot.members import cli
from bot.members import service as member_service
from bot.members.effects import MEMBER_PERFORMERS

AREA = Area(
    "members",
    # The member's own fields are blanked last, by DELETE MY DATA itself (`bot.privacy.service.FINAL_HOOK`).
    erasure_hooks=(member_service.erase_conversation, member_service.erase_user_id),
    performers=MEMBER_PERFORMERS,
    cli=(cli.staff,),
    tables=("members", "member_work", "member_numbers", "consent_events", "conversations", "staff_members"),
    # Kinds of work and consent events stay for the counts (consent events never held the phone number).
    anonymous_tables=("member_work", "consent_events"),
)
