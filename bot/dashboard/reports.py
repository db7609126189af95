"""Reports and exports: certificates and vouchers (for the partner's campaign report), tickets, and
membership breakdowns over a date range, each as CSV or as a printable page.

Every export is audited (the report, its format, the filters and the row count; never a phone or a name)
and gated by role like the pages it comes from. Breakdowns show groups under `SMALL_GROUP` as "<5".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from statistics import median
from typing import Any

import sqlalchemy as sa
from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bot.audit import service as audit
from bot.core import i18n
from bot.core.extensions import db
from bot.dashboard.date_range import BadRange, DateRange
from bot.dashboard.nav import ALL_ROLES, role_required
from bot.dashboard.timeline import course_name, message_reason, voucher_carrier
from bot.dashboard.users import allowed
from bot.dashboard.views import bp, csv_cell
from bot.dashboard.views import local_when as local
from bot.models import (
    Certificate,
    Course,
    Member,
    MemberWork,
    Message,
    Ticket,
    TicketMessage,
    Voucher,
    utcnow,
)
from bot.models.support import TicketStatus
from bot.privacy import masking
from bot.stats.service import SMALL_GROUP
from flows.signup import COMMUNITY_LABELS, GENDER_LABELS, WORK_LABELS

DEFAULT_DAYS = 90
LANGUAGE_LABELS = i18n.LANGUAGE_LABELS


@dataclass
class Report:
    """A report's columns and rows, and figures for the printable page's heading."""

    title: str
    columns: tuple[str, ...]
    rows: list[list[Any]]
    figures: list[tuple[str, Any]]


def small(count: int) -> int | str:
    """A breakdown's count, '<5' for a small group (so that no one can be picked out)."""
    return count if count >= SMALL_GROUP else f"<{SMALL_GROUP}"


def vouchers_report(period: DateRange) -> Report:
    """Who got which voucher code and when, and whether the message carrying it was delivered."""
    rows = db.session.execute(
        sa.select(Voucher, Member.member_number, Member.id, Certificate, Course)
        .join(Member, Member.id == Voucher.member_id)
        .outerjoin(Certificate, Certificate.id == Voucher.certificate_id)
        .outerjoin(Course, Course.id == Certificate.course_id)
        .where(*period.within(Voucher.assigned_at)).order_by(Voucher.assigned_at, Voucher.id)
    ).all()
    member_ids = [row[2] for row in rows]
    messages = list(db.session.scalars(
        sa.select(Message).where(Message.member_id.in_(member_ids), Message.direction == "out",
                                 *period.within(Message.created_at))
    )) if member_ids else []
    table = []
    delivered = 0
    for voucher, number, member_id, certificate, course in rows:
        carrier = voucher_carrier(voucher, messages)
        status = carrier.status if carrier else "unknown"
        delivered += status in ("delivered", "read")
        table.append([number or masking.member_reference(member_id), course_name(course) if course else "",
                      local(certificate.created_at) if certificate else "", local(certificate.reviewed_at) if certificate else "",
                      voucher.code, local(voucher.assigned_at), voucher.expires_on.isoformat() if voucher.expires_on else "",
                      status, message_reason(carrier) if carrier else ""])
    return Report("Certificates and vouchers",
                  ("member_number", "course", "reported_at", "approved_at", "voucher_code", "given_at", "expires_on",
                   "message_status", "message_reason"), table,
                  [("Vouchers given", len(table)), ("Delivered or read", delivered)])


def tickets_report(period: DateRange) -> Report:
    """Tickets opened in the range: reason, status, when first answered and how long it took."""
    first_answer = (sa.select(TicketMessage.ticket_id, sa.func.min(TicketMessage.created_at).label("at"))
                    .where(TicketMessage.author != "member").group_by(TicketMessage.ticket_id).subquery())
    rows = db.session.execute(
        sa.select(Ticket, first_answer.c.at).outerjoin(first_answer, first_answer.c.ticket_id == Ticket.id)
        .where(*period.within(Ticket.created_at)).order_by(Ticket.created_at, Ticket.id)
    ).all()
    table = []
    waits = []
    for ticket, answered in rows:
        minutes = round((answered - ticket.created_at).total_seconds() / 60) if answered else ""
        if answered:
            waits.append(minutes)
        table.append([ticket.id, local(ticket.created_at), ticket.reason, ticket.status, local(answered), minutes,
                      local(ticket.closed_at)])
    return Report("Tickets", ("ticket", "opened_at", "reason", "status", "first_answer_at", "minutes_to_first_answer",
                              "closed_at"), table,
                  [("Tickets opened", len(table)), ("Answered", len(waits)),
                   ("Still open", sum(1 for t, _ in rows if t.status != TicketStatus.CLOSED)),
                   ("Median minutes to first answer", median(waits) if waits else "—")])


def membership_report(period: DateRange) -> Report:
    """Members who joined in the range by county, kind of work, gender, community and language; groups
    under five shown as '<5'."""
    joined = sa.and_(*period.within(Member.joined_at), Member.status != "prospect")
    dimensions: list[tuple[str, Any, Mapping[str, str]]] = [
        ("county", Member.county, {}), ("gender", Member.gender, GENDER_LABELS),
        ("community", Member.community, COMMUNITY_LABELS), ("language", Member.language, LANGUAGE_LABELS)]
    table: list[list[Any]] = []
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Member).where(joined)) or 0
    for name, column, labels in dimensions:
        counts = db.session.execute(sa.select(column, sa.func.count()).where(joined).group_by(column)
                                    .order_by(sa.func.count().desc(), column)).all()
        table += [[name, labels.get(value, value) if value else "not given", small(n)] for value, n in counts]
    work = db.session.execute(
        sa.select(MemberWork.kind, sa.func.count()).join(Member, Member.id == MemberWork.member_id).where(joined)
        .group_by(MemberWork.kind).order_by(sa.func.count().desc(), MemberWork.kind)
    ).all()
    table += [["work", WORK_LABELS.get(kind, kind), small(n)] for kind, n in work]
    return Report("Membership", ("breakdown", "group", "members"), table, [("Members who joined", total)])


@dataclass(frozen=True)
class ReportKind:
    """A report: who may export it and how it is built."""

    name: str
    label: str
    roles: tuple[str, ...]
    build: Callable[[DateRange], Report]


# Officers review certificates and vouchers, organisers answer tickets, everyone sees membership figures.
REPORTS = {
    "vouchers": ReportKind("vouchers", "Certificates and vouchers", ("officer",), vouchers_report),
    "tickets": ReportKind("tickets", "Tickets", ("organiser",), tickets_report),
    "membership": ReportKind("membership", "Membership", ALL_ROLES, membership_report),
}


def reports_page(period: DateRange | None, problem: str | None) -> ResponseReturnValue:
    """The reports this role may export; a range that could not be read is said, with what was typed."""
    mine = [kind for kind in REPORTS.values() if allowed(current_user.role, kind.roles)]
    return render_template("admin/reports.html", reports=mine, period=period, problem=problem,
                           typed=request.args), 400 if problem else 200


def chosen_period() -> DateRange:
    """The range of the query string, the last DEFAULT_DAYS days by default.

    Raises:
        BadRange: a date that could not be read.
    """
    period = DateRange.of(request.args, default_days=DEFAULT_DAYS)
    assert period is not None  # a default is given
    return period


@bp.get("/reports")
@role_required(*ALL_ROLES)
def reports() -> ResponseReturnValue:
    """The reports this role may export, with the date range to choose."""
    try:
        return reports_page(chosen_period(), None)
    except BadRange as problem:
        return reports_page(None, str(problem))


@bp.get("/reports/<any(vouchers, tickets, membership):name>.<any(csv, html):fmt>")
@role_required(*ALL_ROLES)
def report_export(name: str, fmt: str) -> ResponseReturnValue:
    """One report over the date range, as CSV or a printable page; audited with its filters and row count."""
    kind = REPORTS[name]
    if not allowed(current_user.role, kind.roles):
        abort(403)
    try:
        period = chosen_period()
    except BadRange as problem:
        return reports_page(None, str(problem))
    report = kind.build(period)
    audit.record(current_user.email, "report.export", name, format=fmt, filters=period.args(), rows=len(report.rows))
    db.session.commit()
    if fmt == "html":
        return render_template("admin/report.html", report=report, period=period, kind=kind, now=utcnow())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(report.columns)
    for row in report.rows:
        writer.writerow([csv_cell(value) for value in row])
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}-{period.start}-{period.end}-{stamp}.csv"})
