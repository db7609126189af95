"""The engine's performers for the question flow's effects: tickets for an organiser."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.area import Performer
from bot.models import Member
from bot.support import tickets as ticket_service
from flows.base import Effect
from flows.effects import AddToTicket, OpenTicket


def perform_open_ticket(member: Member, effect: OpenTicket, now: datetime) -> dict[str, Any]:
    """Open a ticket for an organiser (or add to the open one); its number goes to the replies."""
    ticket = ticket_service.open_ticket(member, effect.text, effect.reason, faq_key=effect.faq_key,
                                        asked=effect.asked, now=now, call_me=effect.call_me)
    return {"ticket": ticket.id}


def perform_add_to_ticket(member: Member, effect: AddToTicket, now: datetime) -> dict[str, Any]:
    """Add the member's message to the open ticket."""
    ticket = ticket_service.add_to_open_ticket(member, effect.text, now)
    return {"ticket": ticket.id if ticket else "?"}


SUPPORT_PERFORMERS: dict[type[Effect], Performer] = {
    OpenTicket: perform_open_ticket,
    AddToTicket: perform_add_to_ticket,
}
