"""A member's timeline: everything the union holds about one member, in time order, as a role may read it.

Each source is read with one statement (messages, consent events, enrolments, reminders, certificates, the
voucher, tickets and their lines, broadcasts received, staff notes), and every text a role may not read
whole goes through one `masking.shown_texts` call, so a page costs the same dozen statements whatever the
member has done. Later areas add their own entries by appending a `TimelineSource` to `SOURCES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from bot.broadcasts import service as broadcasts
from bot.core import i18n
from bot.core.extensions import db
from bot.core.local_time import to_local
from bot.members.effects import LANGUAGE_CHANGED
from bot.members.service import CORRECTED
from bot.models import (
    AuditEvent,
    Broadcast,
    BroadcastDelivery,
    Certificate,
    ConsentEvent,
    Course,
    Enrolment,
    Member,
    MemberNote,
    Message,
    ReminderSend,
    Ticket,
    Voucher,
)
from bot.privacy import masking
from bot.whatsapp.sending import reason_text

MESSAGE_LIMIT = 500
CONSENT_TITLES = {"consent": "Gave consent", "opt_out": "Opted out (STOP)", "opt_in": "Opted in again (START)",
                  "broadcasts_off": "Stopped broadcasts (NO BROADCASTS)",
                  "broadcasts_on": "Broadcasts again (BROADCASTS ON)"}
LANGUAGES = i18n.LANGUAGE_LABELS


@dataclass
class Entry:
    """One line of the timeline. `texts` are shown through the masking; `plain` are shown as they are."""

    at: datetime
    kind: str
    title: str
    texts: list[str] = field(default_factory=list)
    status: str = ""
    reason: str = ""
    plain: list[str] = field(default_factory=list)
    order: int = 0


@dataclass
class Timeline:
    """A member's entries in time order, their texts as the reader's role may read them."""

    member: Member
    entries: list[tuple[Entry, list[str]]]
    truncated: bool


def course_name(course: Course | None) -> str:
    """A course's English title (the dashboard's language)."""
    if course is None:
        return "a course"
    return course.titles.get("en") or course.slug


def message_reason(message: Message) -> str:
    """Why an outbound message was skipped or failed, in plain words ('' when it was not)."""
    payload = message.payload or {}
    if message.status in ("failed", "undelivered"):
        return reason_text(message.error_code or payload.get("reason"))
    if message.status == "skipped":
        return reason_text(payload.get("reason"))
    return ""


def sent_as(message: Message) -> str:
    """How an outbound message really went: as text, or as which template with which variables."""
    payload = message.payload or {}
    if message.direction != "out":
        return ""
    if payload.get("content_sid"):
        variables = payload.get("content_variables") or {}
        shown = ", ".join(f"{{{{{k}}}}} = {v}" for k, v in sorted(variables.items()))
        return f"sent as the template {payload.get('template') or payload['content_sid']}" + (f" ({shown})" if shown else "")
    if message.channel == "outbox":
        return "kept in the local outbox (no Twilio account)"
    return ""


def consent_entries(member: Member) -> list[Entry]:
    """Consent, opt-out and opt-in events (with the text version and the language of the notice)."""
    rows = db.session.scalars(sa.select(ConsentEvent).where(ConsentEvent.member_id == member.id))
    return [Entry(e.created_at, "consent", CONSENT_TITLES.get(e.kind, e.kind), plain=[
        " · ".join(filter(None, [f"via {e.source}", e.text_version and f"notice {e.text_version}",
                                  LANGUAGES.get(e.language or "", e.language or "")]))], order=e.id) for e in rows]


def member_entries(member: Member) -> list[Entry]:
    """The first contact and joining, from the member's own row."""
    found = [Entry(member.created_at, "signup", "First contact", order=-2)]
    if member.joined_at is not None:
        found.append(Entry(member.joined_at, "signup", "Joined", plain=[" · ".join(filter(None, [
            member.member_number, member.county, LANGUAGES.get(member.language or "", member.language or "")]))],
            order=-1))
    return found


def message_rows(member: Member) -> tuple[list[Message], bool]:
    """The latest messages to and from the member (at most MESSAGE_LIMIT), and whether older ones exist."""
    rows = list(db.session.scalars(
        sa.select(Message).where(Message.member_id == member.id)
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(MESSAGE_LIMIT + 1)
    ))
    return rows[:MESSAGE_LIMIT], len(rows) > MESSAGE_LIMIT


def message_entry(message: Message, title: str | None = None) -> Entry:
    """A message: what the member wrote, or what was really sent and what became of it."""
    inbound = message.direction == "in"
    extra = sent_as(message)
    return Entry(message.created_at, "in" if inbound else "out",
                 title or ("Member wrote" if inbound else "Sent to the member"),
                 texts=[message.body or ("(erased)" if message.body is None else "")] + ([extra] if extra else []),
                 status="" if inbound else message.status, reason=message_reason(message), order=message.id)


def course_entries(member: Member) -> list[Entry]:
    """Enrolments and the reminders sent for them."""
    found = []
    enrolments = db.session.execute(
        sa.select(Enrolment, Course).join(Course, Course.id == Enrolment.course_id).where(Enrolment.member_id == member.id)
    ).all()
    titles = {}
    for enrolment, course in enrolments:
        titles[enrolment.id] = course_name(course)
        found.append(Entry(enrolment.enrolled_at, "course", f"Enrolled in {course_name(course)}",
                           status=enrolment.status, order=enrolment.id))
    if titles:
        reminders = db.session.scalars(sa.select(ReminderSend).where(ReminderSend.enrolment_id.in_(titles)))
        for reminder in reminders:
            found.append(Entry(reminder.created_at, "reminder",
                               f"Reminder after {reminder.offset_days} days: {titles[reminder.enrolment_id]}",
                               status=reminder.status, reason=reason_text(reminder.reason) if reminder.reason else "",
                               order=reminder.id))
    return found


def certificate_entries(member: Member) -> list[Entry]:
    """Certificate reports and their reviews (the reviewer may be a staff number: masked like any text)."""
    found = []
    rows = db.session.execute(
        sa.select(Certificate, Course).join(Course, Course.id == Certificate.course_id)
        .where(Certificate.member_id == member.id)
    ).all()
    for cert, course in rows:
        what = "a link" if cert.kind == "link" else f"a file ({cert.content_type or cert.kind})"
        found.append(Entry(cert.created_at, "certificate", f"Reported a certificate for {course_name(course)}: {what}",
                           texts=[cert.link or ""], status=cert.status,
                           plain=[f"flagged as a duplicate of report #{cert.duplicate_of_id}"] if cert.duplicate_of_id else [],
                           order=cert.id))
        if cert.reviewed_at is not None:
            verdict = "Certificate rejected" if cert.status == "rejected" else "Certificate approved"
            found.append(Entry(cert.reviewed_at, "review", f"{verdict} ({course_name(course)}, report #{cert.id})",
                               texts=[f"by {cert.reviewed_by or '?'}"] + ([f"reason: {cert.reason}"] if cert.reason else []),
                               order=cert.id))
    return found


def voucher_carrier(voucher: Voucher, messages: list[Message]) -> Message | None:
    """The message that carried a voucher code to its member: the one with the code in it, or the one
    stored when the code was given (a text blanked by retention or erasure)."""
    mine = sorted((m for m in messages if m.direction == "out" and m.member_id == voucher.member_id),
                  key=lambda m: (m.created_at, m.id), reverse=True)  # the latest try says what became of it
    return next((m for m in mine if m.body and voucher.code in m.body), None) or next(
        (m for m in mine if m.created_at == voucher.assigned_at), None)


def voucher_entries(member: Member, messages: list[Message]) -> list[Entry]:
    """The voucher code given, and what became of the message that carried it."""
    voucher = db.session.scalar(sa.select(Voucher).where(Voucher.member_id == member.id))
    if voucher is None or voucher.assigned_at is None:
        return []
    carrier = voucher_carrier(voucher, messages)
    expiry = f"expires {voucher.expires_on.isoformat()}" if voucher.expires_on else "no expiry"
    entry = Entry(voucher.assigned_at, "voucher", "Voucher code given", texts=[voucher.code], plain=[expiry],
                  order=voucher.id)
    if carrier is None:
        entry.status, entry.reason = "unknown", "no message carrying the code was found"
    else:
        entry.status, entry.reason = carrier.status, message_reason(carrier)
    return [entry]


def ticket_entries(member: Member) -> list[Entry]:
    """Tickets: opened, each line, closed."""
    found = []
    tickets = db.session.scalars(
        sa.select(Ticket).where(Ticket.member_id == member.id).options(selectinload(Ticket.entries))
    )
    for ticket in tickets:
        found.append(Entry(ticket.created_at, "ticket", f"Ticket #{ticket.id} opened ({ticket.reason})",
                           status=ticket.status, order=ticket.id))
        if ticket.call_requested_at is not None:
            found.append(Entry(ticket.call_requested_at, "ticket", f"Ticket #{ticket.id}: asked to be called",
                               order=ticket.id))
        for line in ticket.entries:
            who = "member" if line.author == "member" else line.author
            found.append(Entry(line.created_at, "ticket-line", f"Ticket #{ticket.id}, {who}",
                               texts=[line.body if line.body is not None else "(erased)"], order=line.id))
        if ticket.closed_at is not None:
            found.append(Entry(ticket.closed_at, "ticket", f"Ticket #{ticket.id} closed", order=ticket.id))
    return found


def broadcast_entries(member: Member) -> list[Entry]:
    """Broadcasts the member was sent (the text in the language it went in, as a text or the template, and the
    template's language) and their status."""
    found = []
    rows = db.session.execute(
        sa.select(BroadcastDelivery, Broadcast).join(Broadcast, Broadcast.id == BroadcastDelivery.broadcast_id)
        .where(BroadcastDelivery.member_id == member.id)
    ).all()
    for delivery, broadcast in rows:
        # Deliveries from before the language was recorded: the text the member's language chooses now.
        language, text = broadcasts.text_in(broadcast, delivery.language or member.language)
        at = delivery.attempted_at or broadcast.started_at or delivery.updated_at or broadcast.created_at
        how = {"text": "as text", "template": "as the broadcast template"}.get(delivery.kind or "", "")
        if how and delivery.language:
            how += f", in {broadcasts.language_name(language)}"
        if delivery.kind == "template" and delivery.template_language and delivery.template_language != language:
            how += f", the {broadcasts.language_name(delivery.template_language)} template (none in theirs)"
        reason = reason_text(delivery.error_code or delivery.reason) if delivery.error_code or delivery.reason else ""
        found.append(Entry(at, "broadcast", f"Broadcast #{broadcast.id}" + (f" ({how})" if how else ""),
                           texts=[text], status=delivery.status, reason=reason, order=delivery.id,
                           plain=[funnel_times(delivery)]))
    return found


def funnel_times(delivery: BroadcastDelivery) -> str:
    """When the delivery was sent, delivered and read, in TIMEZONE ('sent 2026-12-03 09:01 EAT · read …'); empty
    for a delivery from before the times were kept."""
    steps = (("sent", delivery.sent_at), ("delivered", delivery.delivered_at), ("read", delivery.read_at))
    return " · ".join(f"{step} {to_local(moment):%Y-%m-%d %H:%M %Z}" for step, moment in steps if moment)


def note_entries(member: Member) -> list[Entry]:
    """Internal notes by staff."""
    rows = db.session.scalars(sa.select(MemberNote).where(MemberNote.member_id == member.id))
    return [Entry(n.created_at, "note", f"Note by {n.author}", texts=[n.body], order=n.id) for n in rows]


def language_entries(member: Member) -> list[Entry]:
    """Changes of the member's language (the first one, at the first message, is not a change)."""
    rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == LANGUAGE_CHANGED,
                                                          AuditEvent.subject == f"member:{member.id}"))
    return [Entry(e.created_at, "signup", "Language changed", plain=[" → ".join(
        LANGUAGES.get(code, code) for code in ((e.details or {}).get("language_from", "?"),
                                               (e.details or {}).get("language_to", "?")))], order=e.id)
        for e in rows]


def correction_entries(member: Member) -> list[Entry]:
    """Answers of sign-up the member changed (CHANGE MY DETAILS): the field only, as the audit log keeps it."""
    rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == CORRECTED,
                                                          AuditEvent.subject == f"member:{member.id}"))
    return [Entry(e.created_at, "signup", "Changed an answer of sign-up",
                  plain=[str((e.details or {}).get("field", "?"))], order=e.id) for e in rows]


TimelineSource = Callable[[Member], list[Entry]]
# Sources that need only the member; areas append theirs.
SOURCES: list[TimelineSource] = [member_entries, consent_entries, language_entries, correction_entries,
                                 course_entries, certificate_entries, ticket_entries, broadcast_entries, note_entries]
KIND_ORDER = {kind: n for n, kind in enumerate(
    ("signup", "consent", "in", "course", "reminder", "certificate", "review", "voucher", "out", "ticket",
     "ticket-line", "broadcast", "note"))}


def build(member: Member, role: str) -> Timeline:
    """The member's timeline, oldest first, each entry's texts as this role may read them."""
    messages, truncated = message_rows(member)
    entries: list[Entry] = [message_entry(m) for m in messages]
    entries += voucher_entries(member, messages)
    for source in SOURCES:
        entries += source(member)
    entries.sort(key=lambda e: (e.at, KIND_ORDER.get(e.kind, len(KIND_ORDER)), e.order))
    flat = [text for entry in entries for text in entry.texts]
    shown = iter(masking.shown_texts(flat, role))
    return Timeline(member, [(entry, [next(shown) for _ in entry.texts]) for entry in entries], truncated)

