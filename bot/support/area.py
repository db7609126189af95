"""The support area: questions and answers, tickets for organisers, staff notes about members."""

from __future__ import annotations

from bot.core.area import Area
from bot.support import cli, faq, inbox, notes, staff, tickets
from bot.support.effects import SUPPORT_PERFORMERS

AREA = Area(
    "support",
    facts={"faq": faq.knowledge, "open_ticket": tickets.open_ticket_id, "ticket_holder": tickets.holder_key},
    erasure_hooks=(tickets.erase_ticket_texts, notes.erase_notes),
    retention_hooks=(tickets.purge_old_ticket_texts,),
    retention_checks=(tickets.ticket_texts_past_time,),
    performers=SUPPORT_PERFORMERS,
    commands=(staff.list_tickets, staff.show_ticket, staff.reply_to_ticket, staff.close_ticket),
    cli=(cli.faq,),
    inbox_sources=(inbox.TICKETS,),
    tables=("faq_entries", "tickets", "ticket_messages", "member_notes", "saved_answers"),
)
