"""TICKETS, TICKET <number>, REPLY <number> <text> and CLOSE <number>: organisers answer members' questions on
WhatsApp. Members are named by member number (or P-1234), never by phone; times are in TIMEZONE."""

from __future__ import annotations

from datetime import datetime

from bot.commands.registry import concerning, numbered, staff_actor, staff_command
from bot.core import local_time
from bot.models.support import TicketStatus
from bot.privacy.masking import shown_texts
from bot.support import tickets
from bot.whatsapp import sending
from flows.base import N_, NP_, Ctx, Effect, Line, Reply, Result, Text, label_of, msg, msgn

ROLES = ("organiser", "admin")
SHOWN = 20
PREVIEW = 80
CONVERSATION_LINES = 40  # TICKET <number> shows the latest lines; WhatsApp splits a long answer in parts
TIME_FORMAT = "%d/%m %H:%M"

STATUS_LABELS = {TicketStatus.OPEN: N_("waiting for an organiser"),
                 TicketStatus.WAITING: N_("waiting for the member"),
                 TicketStatus.ANSWERED: N_("answered")}
AUTHORS = {"member": N_("member"), "organiser": N_("organiser")}
MESSAGES = NP_("%(count)s message", "%(count)s messages")


def said(*lines: Line, effects: tuple[Effect, ...] = ()) -> Result:
    """A reply to the staff member; their own conversation stays where it was."""
    return Result(None, (Reply.of(*lines),), effects)


def holder(ctx: Ctx) -> str:
    """This staff number as a ticket holder."""
    return str(ctx.member.facts.get("ticket_holder") or "")


def local(moment: datetime) -> Text:
    """A stored (UTC) time as the union's local day and time."""
    return Text(local_time.to_local(moment).strftime(TIME_FORMAT))


def clipped(text: str) -> str:
    """A text cut to one line's preview."""
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW else text[:PREVIEW - 1] + "…"


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


def only_number(args: str) -> int | None:
    """The ticket number when it is all the command holds ('12', '#12')."""
    found = numbered(args)
    return found[0] if found and not found[1] else None


def not_open(number: int, about: tuple[Effect, ...]) -> Result:
    """The answer for a ticket that does not exist or is closed."""
    return said(msg(N_("Ticket #%(ticket)s is not open."), ticket=Text(str(number))), effects=about)


@staff_command("TICKETS", roles=ROLES, summary=N_("the members' questions that are not closed"))
def list_tickets(ctx: Ctx, args: str) -> Result:
    """The live tickets, those waiting for an organiser first: who asked (member number and first name, or
    P-1234), when, the state, how many messages and the first question (masked for roles that may not read
    phone numbers or codes)."""
    views = tickets.list_open(SHOWN)
    if not views:
        return said(msg(N_("No open tickets.")))
    lines: list[Line] = [msg(N_("Open tickets (%(count)s):"), count=Text(str(tickets.count_open())))]
    for view, first_text in zip(views, shown_texts([v.first_text for v in views], ctx.member.roles), strict=True):
        lines.append(msg(N_("#%(ticket)s %(member)s, %(date)s, %(status)s, %(messages)s: %(text)s"),
                         ticket=Text(str(view.id)), member=Text(view.member), date=local(view.created_at),
                         status=label_of(STATUS_LABELS, view.status),
                         messages=msgn(MESSAGES, "count", count=view.count), text=Text(clipped(first_text) or "-")))
        call = call_line(ctx, view)
        if call is not None:
            lines.append(call)
    lines.append(msg(N_("Read one with TICKET <number>; answer with REPLY <number> <text>; close with CLOSE <number>.")))
    return said(*lines, effects=concerning(*(view.member_id for view in views)))


@staff_command("TICKET", roles=ROLES, usage=N_("<number>"), summary=N_("the whole conversation of a ticket"))
def show_ticket(ctx: Ctx, args: str) -> Result:
    """Every line of one ticket, oldest first, with local times and who wrote it (masked like TICKETS)."""
    number = only_number(args)
    if number is None:
        return said(msg(N_("Write TICKET and the ticket number, e.g. TICKET 12.")))
    whole = tickets.conversation(number)
    if whole is None:
        return said(msg(N_("There is no ticket #%(ticket)s."), ticket=Text(str(number))))
    view, entries = whole.view, whole.lines[-CONVERSATION_LINES:]
    status = label_of(STATUS_LABELS, view.status)
    if view.closed_at is not None:
        status = msg(N_("closed on %(date)s"), date=local(view.closed_at))
    lines: list[Line] = [msg(N_("Ticket #%(ticket)s, %(member)s, %(status)s, %(messages)s (times in %(zone)s):"),
                             ticket=Text(str(view.id)), member=Text(view.member), status=status,
                             messages=msgn(MESSAGES, "count", count=view.count), zone=Text(ctx.settings.timezone))]
    call = call_line(ctx, view)
    if call is not None:
        lines.append(call)
    if len(whole.lines) > len(entries):
        lines.append(msgn(NP_("(%(count)s earlier message not shown)", "(%(count)s earlier messages not shown)"),
                          "count", count=len(whole.lines) - len(entries)))
    texts = shown_texts([entry.body for entry in entries], ctx.member.roles)
    for entry, text in zip(entries, texts, strict=True):
        body: Line = Text(text) if entry.body else msg(N_("(erased)"))
        lines.append(msg(N_("%(time)s %(author)s: %(text)s"), time=local(entry.created_at),
                         author=label_of(AUTHORS, entry.author), text=body))
    if view.status != TicketStatus.CLOSED:
        lines.append(msg(N_("Answer with REPLY %(ticket)s <text>; close with CLOSE %(ticket)s."),
                         ticket=Text(str(view.id))))
    return said(*lines, effects=concerning(view.member_id))


@staff_command("REPLY", roles=ROLES, usage=N_("<number> <text>"), summary=N_("answer a member's ticket"))
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
        return not_open(number, about)
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
    if outcome.ticket.status == TicketStatus.WAITING:
        lines.append(msg(N_("Your answer asks a question: the ticket waits for the member.")))
    return said(*lines, *calls, effects=about)


@staff_command("CLOSE", roles=ROLES, usage=N_("<number>"), summary=N_("close a ticket and tell the member"))
def close_ticket(ctx: Ctx, args: str) -> Result:
    """Close a ticket: the member is told how to ask again, and their next messages go to the answers."""
    number = only_number(args)
    if number is None:
        return said(msg(N_("Write CLOSE and the ticket number, e.g. CLOSE 12.")))
    about = concerning(tickets.member_of_ticket(number))
    outcome = tickets.close(number, now=ctx.now, actor=staff_actor(ctx))
    if outcome is None:
        return not_open(number, about)
    told = msg(N_("The member is told that it is closed and how to ask again."))
    if outcome.how == "skipped":
        told = msg(N_("The member was not told: %(reason)s."), reason=sending.reason_line(outcome.reason))
    return said(msg(N_("Ticket #%(ticket)s is closed."), ticket=Text(str(number))), told, effects=about)
