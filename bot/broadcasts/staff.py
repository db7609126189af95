"""BROADCAST for organisers on WhatsApp: start the broadcast conversation, or follow one
(BROADCAST STATUS|PAUSE|RESUME|CANCEL <number>). The performers of the flow's effects live here too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.broadcasts import service as broadcasts
from bot.commands.registry import staff_command
from bot.core import jobs
from bot.core.extensions import db
from bot.models import Broadcast, Member
from bot.models.broadcasts import BroadcastStatus
from bot.whatsapp import sending
from flows import broadcast as flow
from flows.base import N_, Ctx, Reply, Result, Text, label_of, msg
from flows.effects import PreviewBroadcast, SendBroadcast

ACTIONS = {"STATUS": None, "PAUSE": broadcasts.pause, "RESUME": broadcasts.resume, "CANCEL": broadcasts.cancel}
# A broadcast's status in words (draft → scheduled → running ⇄ paused → done | cancelled).
STATUSES = {BroadcastStatus.DRAFT: N_("draft"), BroadcastStatus.SCHEDULED: N_("scheduled"),
            BroadcastStatus.RUNNING: N_("running"), BroadcastStatus.PAUSED: N_("paused"),
            BroadcastStatus.DONE: N_("done"), BroadcastStatus.CANCELLED: N_("cancelled")}
USAGE = msg(N_("Send BROADCAST to write a new one, or BROADCAST STATUS, PAUSE, RESUME or CANCEL and its number."))


@staff_command("BROADCAST", roles=("organiser", "admin"), summary=N_("send a message to a segment of members"))
def broadcast_command(ctx: Ctx, args: str) -> Result:
    """Start the conversation, or show/change a broadcast."""
    if not args:
        return flow.FLOW.start(ctx)
    action, _, number = args.upper().partition(" ")
    if action not in ACTIONS or not number.strip().isdigit():
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


def perform_preview(member: Member, effect: PreviewBroadcast, now: datetime) -> dict[str, Any]:
    """The preview figures for the flow's preview lines."""
    draft = Broadcast(texts={}, segment=dict(effect.segment))
    p = broadcasts.preview(draft, now)
    return {"matched": p.matched, "opted_out": p.opted_out, "text_count": p.inside_window,
            "template_count": p.template, "no_template": p.no_template, "minutes": f"{p.seconds / 60:.1f}"}


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
