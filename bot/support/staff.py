"""TICKETS, REPLY <number> <text> and CLOSE <number>: organisers answer members' questions on WhatsApp."""

from __future__ import annotations

from bot.commands.registry import concerning, numbered, staff_actor, staff_command
from bot.privacy.masking import shown_texts
from bot.support import tickets
from bot.whatsapp import sending
from flows.base import N_, Ctx, Effect, Line, Reply, Result, Text, msg

ROLES = ("organiser", "admin")
SHOWN = 20
PREVIEW = 80


def said(*lines, effects: tuple[Effect, ...] = ()) -> Result:
    """A reply to the staff member; their own conversation stays where it was."""
    return Result(None, (Reply.of(*lines),), effects)


def holder(ctx: Ctx) -> str:
    """This staff number as a ticket holder."""
    return str(ctx.member.facts.get("ticket_holder") or "")


def call_line(ctx: Ctx, view: tickets.OpenTicketView) -> Line | None:
    """For a member who asked to be called: their number to the ticket's holder, a note to everybody else."""
    if not view.call_requested:
        return None
    phone = view.phone_for(holder(ctx))
    if phone:
        return msg(N_("  asked to be called: %(phone)s"), phone=Text(phone))
    if view.holder is None:
        return msg(N_("  asked to be called: REPLY %(ticket)s to take the ticket and see the number"),
                   ticket=Text(str(view.id)))
    return msg(N_("  asked to be called (the organiser handling the ticket sees the number)"))


@staff_command("TICKETS", roles=ROLES, summary=N_("the open questions from members"))
def list_tickets(ctx: Ctx, args: str) -> Result:
    """The oldest open tickets: who asked (member number and first name, or P-1234), when, their last words
    (masked for roles that may not read phone numbers or codes)."""
    views = tickets.list_open(SHOWN)
    if not views:
        return said(msg(N_("No open tickets.")))
    lines: list[Line] = [msg(N_("Open tickets (%(count)s):"), count=Text(str(tickets.count_open())))]
    for view, last_text in zip(views, shown_texts([v.last_text for v in views], ctx.member.roles), strict=True):
        text = last_text if len(last_text) <= PREVIEW else last_text[:PREVIEW - 1] + "…"
        lines.append(msg(N_("#%(ticket)s %(member)s, %(date)s: %(text)s"), ticket=Text(str(view.id)),
                         member=Text(view.member), date=Text(view.created_at.strftime("%d/%m %H:%M")),
                         text=Text(text or "-")))
        call = call_line(ctx, view)
        if call is not None:
            lines.append(call)
    lines.append(msg(N_("Answer with REPLY <number> <text>; close with CLOSE <number>.")))
    return said(*lines, effects=concerning(*(view.member_id for view in views)))


@staff_command("REPLY", roles=ROLES, summary=N_("REPLY <number> <text>: answer a member's ticket"))
def reply_to_ticket(ctx: Ctx, args: str) -> Result:
    """Send the organiser's answer to the member."""
    found = numbered(args)
    if not found or not found[1]:
        return said(msg(N_("Write REPLY, the ticket number and your answer, e.g. REPLY 12 Yes, you can join.")))
    number, answer = found
    about = concerning(tickets.member_of_ticket(number))  # the answer may name her, sent or not
    try:
        outcome = tickets.reply(number, answer, now=ctx.now, actor=staff_actor(ctx), holder=holder(ctx))
    except tickets.TicketError:
        return said(msg(N_("Ticket #%(ticket)s is not open."), ticket=Text(str(number))), effects=about)
    call = call_line(ctx, outcome.view) if outcome.view is not None else None
    calls = [call] if call is not None else []
    if outcome.how == "skipped":
        lines = [msg(N_("Not sent: %(reason)s."), reason=sending.reason_line(outcome.reason))]
        if outcome.reason == "no_template":
            lines.append(msg(N_("To answer outside the 24-hour window, set up the %(template)s template."),
                             template=Text(tickets.TEMPLATE)))
        return said(*lines, *calls, effects=about)
    how = msg(N_("as a message")) if outcome.how == "text" else msg(N_("as the approved template"))
    lines = [msg(N_("Sent %(how)s to ticket #%(ticket)s. Send CLOSE %(ticket)s when it is solved."),
                 how=how, ticket=Text(str(number)))]
    return said(*lines, *calls, effects=about)


@staff_command("CLOSE", roles=ROLES, summary=N_("CLOSE <number>: close a ticket"))
def close_ticket(ctx: Ctx, args: str) -> Result:
    """Close a ticket: the member's next messages go to the answers again."""
    found = numbered(args)
    if not found or found[1]:
        return said(msg(N_("Write CLOSE and the ticket number, e.g. CLOSE 12.")))
    number = found[0]
    about = concerning(tickets.member_of_ticket(number))
    if not tickets.close(number, now=ctx.now, actor=staff_actor(ctx)):
        return said(msg(N_("Ticket #%(ticket)s is not open."), ticket=Text(str(number))), effects=about)
    return said(msg(N_("Ticket #%(ticket)s is closed."), ticket=Text(str(number))), effects=about)
