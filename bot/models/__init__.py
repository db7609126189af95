"""The data Umoja keeps, one module per area. Models carry data only; side effects (Twilio, queues,
files) live in the area packages (`bot/broadcasts/`, `bot/courses/`, …)."""

from bot.models.base import utcnow
from bot.models.broadcasts import Broadcast, BroadcastDelivery
from bot.models.courses import Certificate, Course, Enrolment, ReminderSend, Voucher
from bot.models.dashboard import AuditEvent, DashboardUser
from bot.models.members import (
    ERASED_STATUS,
    ConsentEvent,
    Conversation,
    ForgottenMessage,
    Member,
    MemberNumber,
    MemberWork,
    Message,
    MessageSubject,
)
from bot.models.notes import MemberNote
from bot.models.staff import StaffMember
from bot.models.stats import MemberTally
from bot.models.support import FaqEntry, SavedAnswer, Ticket, TicketMessage

__all__ = [
    "ERASED_STATUS",
    "AuditEvent",
    "DashboardUser",
    "ConsentEvent",
    "Conversation",
    "Member",
    "MemberNumber",
    "MemberTally",
    "MemberWork",
    "Message",
    "MessageSubject",
    "ForgottenMessage",
    "StaffMember",
    "utcnow",
    "FaqEntry",
    "Ticket",
    "TicketMessage",
    "SavedAnswer",
    "Certificate",
    "Course",
    "Enrolment",
    "ReminderSend",
    "Voucher",
    "Broadcast",
    "BroadcastDelivery",
    "MemberNote",
]
