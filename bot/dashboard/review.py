"""The dashboard's work pages: the certificate review queue and the voucher pool (members' tickets are in `inbox`).

Each action calls the same service function as the WhatsApp staff commands and the `flask` commands
(`certificates.approve_certificate`, `reject_certificate`, `import_vouchers`),
which also write the audit record; the page only checks the form and the role, then commits.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, get_flashed_messages, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from bot.certificates import service as certificates
from bot.certificates.files import send_certificate_file
from bot.core.extensions import db
from bot.core.i18n import SOURCE_LANGUAGE, render_line
from bot.dashboard.nav import role_required
from bot.dashboard.views import bp, shows_phones, takes_body
from bot.models import Certificate, Member
from bot.models.courses import course_title
from bot.privacy.masking import mask_phone

QUEUE_SIZE = 100
VOUCHER_CSV_MAX_BYTES = 2 * 1024 * 1024


class ApproveForm(FlaskForm):
    """Approve a certificate report."""


class RejectForm(FlaskForm):
    """Reject a certificate report with the reason the member will read."""

    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=500)])


class VoucherUploadForm(FlaskForm):
    """A CSV of voucher codes (a 'code' column, optional 'expires_on'; or one code per line)."""

    file = FileField("CSV file", validators=[FileRequired(), FileSize(VOUCHER_CSV_MAX_BYTES)])


def reviewer_tag() -> str:
    """Who reviews, as stored on the report (20 characters at most); the audit log names the email."""
    return f"dashboard:{current_user.id}"[:20]


def form_errors(form: FlaskForm) -> str:
    """A form's problems in one sentence."""
    return "; ".join(f"{name}: {', '.join(problems)}" for name, problems in form.errors.items())


# --- certificates ----------------------------------------------------------------------------------

def by_id(model: Any, ids: set[int]) -> dict[int, Any]:
    """Rows of a model by id, in one query (the pages list several at once)."""
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(sa.select(model).where(model.id.in_(ids)))}


@bp.get("/certificates")
@role_required("officer")
def certificates_queue() -> ResponseReturnValue:
    """Reports waiting for review, oldest first, with the link or the stored file and duplicate warnings."""
    rows = []
    for report, member, course in certificates.pending_certificates(limit=QUEUE_SIZE):
        rows.append({"report": report, "member": member, "course": course_title(course, "en"),
                     "phone": member.phone if shows_phones() else mask_phone(member.phone)})
    return render_template("admin/certificates.html", rows=rows, approve_form=ApproveForm(), reject_form=RejectForm(),
                           notices=get_flashed_messages(with_categories=True))


@bp.get("/certificates/<int:certificate_id>/file")
@role_required("officer")
def certificate_file(certificate_id: int) -> ResponseReturnValue:
    """A stored certificate file, for signed-in reviewers."""
    return send_certificate_file(certificate_id)


# How each review outcome is shown (its words are the ones officers read on WhatsApp, in English).
OUTCOME_LEVELS = {"rewarded": "ok", "reserved": "warn", "waiting": "warn", "already_rewarded": "ok", "rejected": "ok",
                  "not_pending": "warn", "not_ready": "warn", "duplicate": "warn"}


def review_done(certificate_id: int, outcome: certificates.ReviewOutcome) -> ResponseReturnValue:
    """Commit the review, say what happened, and go back to the queue."""
    if outcome.status == "not_found":
        db.session.rollback()
        abort(404)
    db.session.commit()
    flash(render_line(SOURCE_LANGUAGE, certificates.review_outcome_line(certificate_id, outcome)),
          OUTCOME_LEVELS[outcome.status])
    return redirect(url_for("admin.certificates_queue"))


@bp.post("/certificates/<int:certificate_id>/approve")
@role_required("officer")
def approve_certificate(certificate_id: int) -> ResponseReturnValue:
    """Approve a report: the member gets a voucher code or a place on the waiting list."""
    if not ApproveForm().validate_on_submit():
        abort(400)
    outcome = certificates.approve_certificate(certificate_id, reviewer=reviewer_tag(), actor=current_user.email)
    return review_done(certificate_id, outcome)


@bp.post("/certificates/<int:certificate_id>/reject")
@role_required("officer")
def reject_certificate(certificate_id: int) -> ResponseReturnValue:
    """Reject a report with a reason the member reads."""
    form = RejectForm()
    if not form.validate_on_submit():
        abort(400)
    outcome = certificates.reject_certificate(certificate_id, form.reason.data or "", reviewer=reviewer_tag(),
                                              actor=current_user.email)
    return review_done(certificate_id, outcome)


# --- vouchers --------------------------------------------------------------------------------------

@bp.get("/vouchers")
@role_required("officer")
def vouchers() -> ResponseReturnValue:
    """The pool's counts and the waiting list in order; admins upload codes."""
    return vouchers_page(VoucherUploadForm(), None, 200)


def vouchers_page(form: VoucherUploadForm, error: str | None, status: int) -> ResponseReturnValue:
    """The vouchers page with the pool as it is now."""
    pool = certificates.pool_status()
    waiting = []
    reports = by_id(Certificate, {certificate_id for certificate_id, _, _ in pool.waiting})
    members = by_id(Member, {report.member_id for report in reports.values()})
    for certificate_id, phone, since in pool.waiting:
        member = members[reports[certificate_id].member_id]
        waiting.append({"id": certificate_id, "member": member, "since": since,
                        "phone": phone if shows_phones() else mask_phone(phone)})
    return render_template("admin/vouchers.html", pool=pool, waiting=waiting, form=form, error=error,
                           can_upload=current_user.role == "admin",
                           notices=get_flashed_messages(with_categories=True)), status


@bp.post("/vouchers/upload")
@takes_body(VOUCHER_CSV_MAX_BYTES + 64 * 1024)
@role_required("admin")
def upload_vouchers() -> ResponseReturnValue:
    """Import a CSV of codes with the same function as `flask vouchers import`; the waiting list is served."""
    form = VoucherUploadForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return vouchers_page(form, form_errors(form), 400)
    upload = form.file.data
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(upload.filename or "codes.csv").name or "codes.csv")
        upload.save(path)
        try:
            result = certificates.import_vouchers(path, actor=current_user.email)
        except (UnicodeDecodeError, ValueError) as problem:
            db.session.rollback()
            return vouchers_page(form, f"Could not read the file: {problem}", 400)
    db.session.commit()
    flash(f"{result.added} codes added, {result.duplicates} duplicates ignored, {result.invalid} invalid rows, "
          f"{result.served} sent to the waiting list.", "ok")
    if result.problems:
        flash("Rows not used: " + "; ".join(result.problem_lines()) + ".", "warn")
    return redirect(url_for("admin.vouchers"))
