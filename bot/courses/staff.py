"""REVIEW, APPROVE and REJECT: officers review certificate reports from WhatsApp."""

from __future__ import annotations

from bot.certificates import service as certificates
from bot.certificates.files import file_url
from bot.commands.registry import concerning, numbered, staff_actor, staff_command
from bot.models import Certificate
from bot.models.courses import course_title
from bot.privacy.masking import member_label
from flows.base import N_, Ctx, Line, Reply, Result, Text, msg


@staff_command("REVIEW", roles=("officer",), summary=N_("list certificate reports waiting for review"))
def review(ctx: Ctx, args: str) -> Result:
    """The oldest pending reports: number, member (member number and first name, never the phone), course,
    link or file."""
    pending = certificates.pending_certificates(limit=10)
    if not pending:
        return Result(None, (Reply.of(msg(N_("No certificate reports are waiting for review."))),))
    lines: list[Line] = [msg(N_("Certificate reports waiting for review:"))]
    for report, member, course in pending:
        lines.append(msg(
            N_("#%(id)s %(member)s, %(course)s: %(proof)s"), id=report.id, member=Text(member_label(member)),
            course=Text(course_title(course, ctx.lang)), proof=Text(proof_of(report)),
        ))
        if report.duplicate_of_id:
            lines.append(msg(N_("  warning: the same certificate as report #%(other)s from another member"),
                             other=report.duplicate_of_id))
    lines.append(msg(N_("Reply APPROVE <number> or REJECT <number> <reason>.")))
    return Result(None, (Reply.of(*lines),), concerning(*(member.id for _, member, _ in pending)))


@staff_command("APPROVE", roles=("officer",), usage=N_("<number>"), summary=N_("approve a certificate report"))
def approve(ctx: Ctx, args: str) -> Result:
    """Approve one report; the member receives a voucher or a place on the waiting list."""
    found = numbered(args)
    if found is None or found[1]:
        return Result(None, (Reply.of(msg(N_("Please write APPROVE and the report number, for example: APPROVE 12"))),))
    number = found[0]
    outcome = certificates.approve_certificate(number, reviewer=staff_actor(ctx), now=ctx.now)
    return Result(None, (Reply.of(certificates.review_outcome_line(number, outcome)),),
                  concerning(certificates.member_of_report(number)))


@staff_command("REJECT", roles=("officer",), usage=N_("<number> <reason>"),
               summary=N_("reject a certificate report and tell the member why"))
def reject(ctx: Ctx, args: str) -> Result:
    """Reject one report with a reason the member will read."""
    found = numbered(args)
    if found is None or not found[1]:
        return Result(None, (Reply.of(msg(N_("Please write REJECT, the report number and the reason, for example: REJECT 12 the name does not match"))),))
    number, reason = found
    outcome = certificates.reject_certificate(number, reason, reviewer=staff_actor(ctx), now=ctx.now)
    return Result(None, (Reply.of(certificates.review_outcome_line(number, outcome)),),
                  concerning(certificates.member_of_report(number)))


def proof_of(report: Certificate) -> str:
    """The certificate link, or a signed link to the stored file (the Twilio media URL until it is fetched)."""
    if report.link:
        return report.link
    return file_url(report) if report.stored_path else report.media_url or ""
