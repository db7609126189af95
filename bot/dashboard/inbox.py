"""The organisers' inbox at /admin/tickets: every conversation with members (`bot.support.inbox`), a
ticket's page with its whole conversation, and the saved answers organisers insert into replies.

Answering, closing and assigning call the same service functions as the WhatsApp staff commands
(`tickets.reply`, `close`, `assign`), which write the audit record; the pages check the form and the role,
then commit. Every text from a member goes through `masking.shown_texts` for the reader's role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, get_flashed_messages, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from bot.core import i18n
from bot.core.extensions import db
from bot.dashboard import timeline
from bot.dashboard.nav import role_required
from bot.dashboard.review import form_errors
from bot.dashboard.views import bp, shows_phones
from bot.models import Member, Message, SavedAnswer, Ticket, TicketMessage
from bot.privacy import masking
from bot.privacy.masking import mask_phone
from bot.support import faq, saved_answers, tickets
from bot.support.inbox import SORTS, STATES, InboxQuery, age_in_words, assignable_users, holder_labels, inbox
from bot.whatsapp import sending

PAGE_SIZE = 50
MAX_LIMIT = 500
NOBODY = "nobody"


class TicketReplyForm(FlaskForm):
    """An organiser's answer to a ticket."""

    text = TextAreaField("Answer", validators=[DataRequired(), Length(max=1000)])


class TicketCloseForm(FlaskForm):
    """Close a ticket."""


class TicketAssignForm(FlaskForm):
    """Give a ticket to an organiser ('me' takes it, 'nobody' leaves it to whoever answers first)."""

    to = StringField("Assign to", validators=[DataRequired(), Length(max=20)])


class SavedAnswerForm(FlaskForm):
    """A saved answer: a title for organisers, the language of its members, the text they read."""

    title = StringField("Title", validators=[DataRequired(), Length(max=80)])
    language = SelectField("Language", validators=[DataRequired()])
    text = TextAreaField("Text", validators=[DataRequired(), Length(max=1000)])


class DeleteForm(FlaskForm):
    """Delete a saved answer."""


def me() -> str:
    """The signed-in account as a ticket's holder."""
    return tickets.dashboard_holder(current_user.id)


def holder_name(holder: str | None, labels: dict[str, str]) -> str:
    """Who handles a conversation, in words."""
    if holder is None:
        return "nobody yet"
    if holder == me():
        return "you"
    return labels.get(holder, holder)


# --- the inbox -------------------------------------------------------------------------------------

@bp.get("/tickets")
@role_required("organiser")
def tickets_page() -> ResponseReturnValue:
    """The inbox: conversations by state, the reader's or nobody's, searched, in the chosen order."""
    query = InboxQuery.of(request.args, me=me(), role=current_user.role)
    limit = min(max(request.args.get("limit", PAGE_SIZE, type=int) or PAGE_SIZE, 1), MAX_LIMIT)
    page = inbox(query, limit)
    firsts = masking.shown_texts([item.first_text for item in page.items], current_user.role)
    labels = holder_labels({item.holder for item in page.items})
    rows = [{"item": item, "first": first, "age": age_in_words(item.created_at),
             "holder": holder_name(item.holder, labels),
             "language": i18n.LANGUAGE_LABELS.get(item.language or "", item.language or "")}
            for item, first in zip(page.items, firsts, strict=True)]
    return render_template("admin/tickets.html", rows=rows, query=query, more=page.more, limit=limit,
                           states=STATES, sorts=SORTS, notices=get_flashed_messages(with_categories=True))


# --- a ticket --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    """How an organiser's line went to the member: as 'text' or 'template', and what kept it from them
    ('not sent': skipped, 'failed': failed or undelivered; '' when nothing did) with the reason in words."""

    how: str
    problem: str = ""
    reason: str = ""


def deliveries(lines: list[TicketMessage]) -> dict[int, Delivery]:
    """How each organiser line went to the member, in one query."""
    ids = {line.message_id for line in lines if line.message_id is not None and line.author != "member"}
    if not ids:
        return {}
    messages = {message.id: message for message in db.session.scalars(sa.select(Message).where(Message.id.in_(ids)))}
    found: dict[int, Delivery] = {}
    for line in lines:
        message = messages.get(line.message_id or 0) if line.author != "member" else None
        if message is None:
            continue
        how, _ = tickets.how_sent(message)
        problem = ("not sent" if message.status == "skipped" else
                   "failed" if message.status in ("failed", "undelivered") else "")
        found[line.id] = Delivery(how, problem, timeline.message_reason(message) if problem else "")
    return found


def call_note(view: tickets.OpenTicketView, holder: str) -> str:
    """What the page says about a member who asked to be called (only the holder sees the number)."""
    if not view.call_requested:
        return ""
    if view.phone_for(holder):
        return "Asked to be called: the number is shown to you, as the organiser handling this ticket."
    if view.holder is None:
        return "Asked to be called: answer the ticket (or take it) to see the number."
    return "Asked to be called: the organiser handling this ticket sees the number."


def reply_draft(suggestion: faq.Suggestion | None) -> str:
    """What the reply box starts with: a saved answer chosen (`saved`), the FAQ's suggestion (`use=faq`), or nothing."""
    saved_id = request.args.get("saved", type=int)
    if saved_id:
        saved = db.session.get(SavedAnswer, saved_id)
        return saved.text if saved is not None else ""
    if request.args.get("use") == "faq" and suggestion is not None:
        return suggestion.answer
    return ""


@bp.get("/tickets/<int:ticket_id>")
@role_required("organiser")
def ticket_detail(ticket_id: int) -> ResponseReturnValue:
    """One ticket: the whole conversation as the reader may read it, each answer that was not sent marked with
    the reason, and the forms to answer (with saved answers and the FAQ's suggestion), assign and close."""
    found = tickets.conversation(ticket_id) or abort(404)
    ticket = db.session.get(Ticket, ticket_id) or abort(404)
    member = db.session.get(Member, ticket.member_id) if ticket.member_id is not None else None
    view, lines = found.view, found.lines
    bodies = masking.shown_texts([line.body for line in lines], current_user.role)
    sends = deliveries(lines)
    language = member.language if member is not None and member.language else i18n.SOURCE_LANGUAGE
    suggestion = faq.suggestion(view.first_text, language, member) if view.first_text else None
    phone = ""
    if member is not None:
        phone = member.phone if shows_phones() or view.phone_for(me()) else mask_phone(member.phone)
    labels = holder_labels({ticket.holder})
    return render_template(
        "admin/ticket.html", ticket=ticket, view=view, member=member, phone=phone,
        lines=[(line, body if line.body else None, sends.get(line.id)) for line, body in zip(lines, bodies, strict=True)],
        reason=tickets.reason_text(ticket.reason), call=call_note(view, me()),
        holder=holder_name(ticket.holder, labels), mine=ticket.holder == me(), users=assignable_users(),
        language=language, language_label=i18n.LANGUAGE_LABELS.get(language, language),
        saved=saved_answers.answers_in(language), suggestion=suggestion,
        suggestion_failed=suggestion is not None and ticket.reason == "not_helped" and suggestion.key == ticket.faq_key,
        draft=reply_draft(suggestion), reply_form=TicketReplyForm(), close_form=TicketCloseForm(),
        assign_form=TicketAssignForm(), age=age_in_words(ticket.created_at),
        notices=get_flashed_messages(with_categories=True))


REPLY_NOTICES = {
    "text": ("ok", "Sent to ticket #{id} as a message."),
    "template": ("ok", "Sent to ticket #{id} as the approved template (the member has not written in 24 hours)."),
    "skipped": ("warn", "Not sent to ticket #{id}: {reason}."),
}


@bp.post("/tickets/<int:ticket_id>/reply")
@role_required("organiser")
def reply_ticket(ticket_id: int) -> ResponseReturnValue:
    """Answer a ticket through tickets.reply (a message inside the 24-hour window, the template outside)."""
    form = TicketReplyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        outcome = tickets.reply(ticket_id, (form.text.data or "").strip(), actor=current_user.email, holder=me())
    except tickets.TicketError:
        db.session.rollback()
        abort(404)
    db.session.commit()
    category, text = REPLY_NOTICES[outcome.how]
    flash(text.format(id=ticket_id, reason=sending.reason_text(outcome.reason)), category)
    return redirect(url_for("admin.ticket_detail", ticket_id=ticket_id))


@bp.post("/tickets/<int:ticket_id>/close")
@role_required("organiser")
def close_ticket(ticket_id: int) -> ResponseReturnValue:
    """Close a ticket."""
    if not TicketCloseForm().validate_on_submit():
        abort(400)
    if not tickets.close(ticket_id, actor=current_user.email):
        db.session.rollback()
        abort(404)
    db.session.commit()
    flash(f"Ticket #{ticket_id} is closed.", "ok")
    return redirect(url_for("admin.tickets_page"))


def assignee(choice: str) -> str | None:
    """The holder a choice of the assign form names ('me', 'nobody' or an account's id), or 400."""
    if choice == "me":
        return me()
    if choice == NOBODY:
        return None
    if choice.isdigit() and int(choice) in {user.id for user in assignable_users()}:
        return tickets.dashboard_holder(int(choice))
    abort(400)


@bp.post("/tickets/<int:ticket_id>/assign")
@role_required("organiser")
def assign_ticket(ticket_id: int) -> ResponseReturnValue:
    """Give a ticket to an organiser, or take it (audited)."""
    form = TicketAssignForm()
    if not form.validate_on_submit():
        abort(400)
    holder = assignee((form.to.data or "").strip())
    try:
        tickets.assign(ticket_id, holder, actor=current_user.email)
    except tickets.TicketError:
        db.session.rollback()
        abort(404)
    db.session.commit()
    labels = holder_labels({holder})
    flash(f"Ticket #{ticket_id} is now handled by {holder_name(holder, labels)}.", "ok")
    return redirect(url_for("admin.ticket_detail", ticket_id=ticket_id))


# --- saved answers ---------------------------------------------------------------------------------

def saved_form(answer: SavedAnswer | None = None) -> SavedAnswerForm:
    """The saved answer form, with the configured languages to choose from."""
    form = SavedAnswerForm(obj=answer) if answer is not None and request.method == "GET" else SavedAnswerForm()
    form.language.choices = [(lang, i18n.LANGUAGE_LABELS.get(lang, lang)) for lang in i18n.LANGUAGES]
    return form


def saved_page(form: SavedAnswerForm, editing: SavedAnswer | None, error: str | None, status: int) -> ResponseReturnValue:
    """The saved answers page with a form to add one (or change one)."""
    return render_template("admin/saved_answers.html", answers=saved_answers.all_answers(), form=form,
                           editing=editing, error=error, delete_form=DeleteForm(),
                           language_label=lambda lang: i18n.LANGUAGE_LABELS.get(lang, lang),
                           notices=get_flashed_messages(with_categories=True)), status


@bp.get("/saved-answers")
@role_required("organiser")
def saved_answers_page() -> ResponseReturnValue:
    """Every saved answer by language, and a form to add one."""
    return saved_page(saved_form(), None, None, 200)


@bp.get("/saved-answers/<int:answer_id>")
@role_required("organiser")
def saved_answer_edit(answer_id: int) -> ResponseReturnValue:
    """The page with one saved answer in the form, to change it."""
    answer = db.session.get(SavedAnswer, answer_id) or abort(404)
    return saved_page(saved_form(answer), answer, None, 200)


def save_answer(answer_id: int | None) -> ResponseReturnValue:
    """Add or change a saved answer from the posted form."""
    editing = db.session.get(SavedAnswer, answer_id) if answer_id is not None else None
    if answer_id is not None and editing is None:
        abort(404)
    form = saved_form()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return saved_page(form, editing, form_errors(form), 400)
    fields: dict[str, Any] = {"title": form.title.data or "", "language": form.language.data or "",
                              "text": form.text.data or ""}
    try:
        if editing is None:
            saved_answers.add(**fields, actor=current_user.email)
        else:
            saved_answers.change(editing.id, **fields, actor=current_user.email)
    except saved_answers.SavedAnswerError as problem:
        db.session.rollback()
        return saved_page(form, editing, str(problem), 400)
    db.session.commit()
    flash(f"Saved answer “{fields['title'].strip()}” kept.", "ok")
    return redirect(url_for("admin.saved_answers_page"))


@bp.post("/saved-answers")
@role_required("organiser")
def add_saved_answer() -> ResponseReturnValue:
    """Keep a new saved answer (audited)."""
    return save_answer(None)


@bp.post("/saved-answers/<int:answer_id>")
@role_required("organiser")
def change_saved_answer(answer_id: int) -> ResponseReturnValue:
    """Change a saved answer (audited)."""
    return save_answer(answer_id)


@bp.post("/saved-answers/<int:answer_id>/delete")
@role_required("organiser")
def delete_saved_answer(answer_id: int) -> ResponseReturnValue:
    """Delete a saved answer (audited)."""
    if not DeleteForm().validate_on_submit():
        abort(400)
    if not saved_answers.delete(answer_id, actor=current_user.email):
        db.session.rollback()
        abort(404)
    db.session.commit()
    flash("Saved answer deleted.", "ok")
    return redirect(url_for("admin.saved_answers_page"))
