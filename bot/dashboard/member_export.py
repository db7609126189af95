"""A member's data export on their dashboard page, for admins: the same data as MY DATA FILE (JSON, CSV or
the PDF in the member's language), built at once and not stored; each download is audited as
`member.data_export` with the member's id and the format only."""

from __future__ import annotations

from flask import Response, abort
from flask_login import current_user

from bot.audit import service as audit
from bot.core import i18n
from bot.core.extensions import db
from bot.dashboard.forms import DataExportForm
from bot.dashboard.nav import role_required
from bot.dashboard.views import bp
from bot.models import Member
from bot.privacy import export


@bp.post("/members/<int:member_id>/data-export/<any(pdf, json, csv):fmt>")
@role_required("admin")
def member_data_export(member_id: int, fmt: str) -> Response:
    """Download everything held about one member in one format (audited)."""
    member = db.session.get(Member, member_id) or abort(404)
    if not DataExportForm().validate_on_submit():
        abort(400)
    content = export.render(export.collect(member), member.language or i18n.SOURCE_LANGUAGE, fmt)
    audit.record(current_user.email, "member.data_export", f"member:{member.id}", member_id=member.id, format=fmt)
    db.session.commit()
    response = export.send_export(fmt, content)
    response.headers["Content-Disposition"] = f'attachment; filename="member-{member.id}-data.{fmt}"'
    return response
