"""The data Umoja keeps, one module per area. Models carry data only; side effects (Twilio, queues,
files) live in `bot/services`."""

from bot.models.base import utcnow
from bot.models.broadcasts import Broadcast, BroadcastDelivery
from bot.models.members import ConsentEvent, Conversation, Member, MemberNumber, MemberWork, Message
from bot.models.staff import StaffMember

__all__ = [
    "ConsentEvent",
    "Conversation",
    "Member",
    "MemberNumber",
    "MemberWork",
    "Message",
    "StaffMember",
    "utcnow",
    "Broadcast",
    "BroadcastDelivery",
]
