"""BROADCAST for organisers on WhatsApp: start the broadcast conversation, or follow one
(BROADCAST STATUS|PAUSE|RESUME|CANCEL <number>). The performers of the flow's effects live here too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app

from bot.broadcasts import service as broadcasts
from bot.commands.registry import staff_command
from bot.core import i18n, jobs
from bot.core.extensions import db
from bot.models import Broadcast, Member
from bot.models.broadcasts import BroadcastStatus
from bot.whatsapp import sending
from flows import broadcast as flow
from flows.base import N_, NP_, SAVED, Ctx, PerLanguage, Reply, Result, Text, label_of, msg, msgn
from flows.effects import PreviewBroadcast, SendBroadcast

ACTIONS = {"STATUS": None, "PAUSE": broadcasts.pause, "RESUME": broadcasts.resume, "CANCEL": broadcasts.cancel}
# A broadcast's status in words (draft → scheduled → running ⇄ paused → done | cancelled).
STATUSES = {BroadcastStatus.DRAFT: N_("draft"), BroadcastStatus.SCHEDULED: N_("scheduled"),
            BroadcastStatus.RUNNING: N_("running"), BroadcastStatus.PAUSED: N_("paused"),
            BroadcastStatus.DONE: N_("done"), BroadcastStatus.CANCELLED: N_("cancelled")}
USAGE = msg(N_("Send BROADCAST to write a new one, BROADCAST STATUS for the latest, or BROADCAST STATUS, PAUSE, RESUME "
                "or CANCEL and its number."))


@staff_command("BROADCAST", roles=("organiser", "admin"), usage=N_("[STATUS|PAUSE|RESUME|CANCEL <number>]"),
               summary=N_("write a broadcast to members, or follow and control one (STATUS alone: the latest)"))
def broadcast_command(ctx: Ctx, args: str) -> Result:
    """Start the conversation, or show/change a broadcast."""
    if not args:
        return flow.FLOW.start(ctx)
    action, _, number = args.upper().partition(" ")
    number = number.strip().lstrip("#")
    if action == "STATUS" and not number:
        latest = broadcasts.latest_id()
        if latest is None:
            return Result(None, (Reply.of(msg(N_("There is no broadcast yet. Send BROADCAST to write one."))),))
        return Result(None, (figures_reply(latest),))
    if action not in ACTIONS or not number.isdigit():
        return Result(None, (Reply.of(USAGE),))
    broadcast_id = int(number)
    change = ACTIONS[action]
    if change is not None and not change(broadcast_id):
        return Result(None, (Reply.of(msg(N_("Broadcast %(number)s cannot be changed that way now."),
                                          number=broadcast_id)),))
    return Result(None, (figures_reply(broadcast_id),))


def figures_reply(broadcast_id: int) -> Reply:
    """The live figures of a broadcast."""
    figures = broadcasts.figures(broadcast_id)
    if figures is None:
        return Reply.of(msg(N_("There is no broadcast %(number)s."), number=broadcast_id))
    lines = [
        msg(N_("Broadcast %(number)s: %(status)s."), number=broadcast_id,
            status=label_of(STATUSES, figures.broadcast.status)),
        msg(N_("Queued %(queued)s, sent %(sent)s, delivered %(delivered)s, read %(read)s, failed %(failed)s, "
               "skipped %(skipped)s."), **figures.counts),
    ]
    lines += [msg(N_("%(count)s: %(reason)s (%(code)s)"), count=count, reason=sending.reason_line(key),
                  code=Text(str(code or "-")))
              for key, code, count in figures.reasons]
    return Reply.of(*lines)


# The languages whose members outside the 24-hour window get the fallback template, or nothing.
FALLBACK_NOTE = NP_("%(count)s %(language)s speaker outside the window gets the %(fallback)s template "
                    "(there is none in %(language)s)",
                    "%(count)s %(language)s speakers outside the window get the %(fallback)s template "
                    "(there is none in %(language)s)")
NOTHING_NOTE = NP_("%(count)s %(language)s speaker outside the window has no template: they get nothing",
                   "%(count)s %(language)s speakers outside the window have no template: they get nothing")
EVERY_TEMPLATE = msg(N_("everyone outside the window has a template in their language"))
# After a language left with nothing: the dashboard page that shows what is set for each language.
TEMPLATES_PAGE = N_("which template each language has: %(url)s")


def language_named(code: str) -> PerLanguage:
    """A language's name in the reader's language ('Somali', 'Kisomali')."""
    names = {}
    for reader in dict.fromkeys((*i18n.FULL_LANGUAGES, *i18n.LANGUAGES)):
        names[reader] = i18n.locale(reader).languages.get(code) or code
    return PerLanguage(names)


def perform_preview(member: Member, effect: PreviewBroadcast, now: datetime) -> dict[str, Any]:
    """The preview figures for the flow's preview lines."""
    draft = Broadcast(texts={}, segment=dict(effect.segment))
    p = broadcasts.preview(draft, now)
    fallback = language_named(p.fallback_language or i18n.SOURCE_LANGUAGE)
    notes = [msgn(FALLBACK_NOTE if kind == "fallback" else NOTHING_NOTE, "count", count=count,
                  language=language_named(code), fallback=fallback)
             for kind, code, count in broadcasts.preview_notes(p)]
    if p.no_template:
        notes.append(msg(TEMPLATES_PAGE, url=Text(current_app.config["PUBLIC_URL"] + "/admin/templates")))
    # Filled in here, in the organiser's language (the engine passes these values to the lines as they are).
    lang = member.language or current_app.config["DEFAULT_LANGUAGE"]
    return {"matched": p.matched, "opted_out": p.opted_out, "text_count": p.inside_window,
            "template_count": p.template, "no_template": p.no_template, "minutes": f"{p.seconds / 60:.1f}",
            "language_notes": i18n.render_value(lang, notes or EVERY_TEMPLATE, {}),
            SAVED: {"matched": p.matched}}


def perform_send(member: Member, effect: SendBroadcast, now: datetime) -> dict[str, Any]:
    """Store the broadcast in this transaction; it starts once the transaction commits."""
    created = Broadcast(texts=broadcasts.clean_texts(effect.texts), segment=dict(effect.segment),
                        status=BroadcastStatus.DRAFT, send_at=effect.send_at, created_by=member.phone)
    db.session.add(created)
    db.session.flush()
    jobs.after_commit(db.session, "default", confirm_broadcast, created.id,
                      unqueued="the draft stays; send it with flask broadcast send")
    return {"broadcast_id": created.id}


@jobs.job
def confirm_broadcast(broadcast_id: int) -> str:
    """Confirm the broadcast from a worker (resolving a large audience does not hold up the webhook)."""
    return broadcasts.send(broadcast_id)
