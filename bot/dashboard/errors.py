"""The dashboard's error pages (400, 403, 404, 429) in its own layout, with a way back; a form refused
because its CSRF token expired shows the text the person typed, so nothing is lost."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

from bot.dashboard.views import bp

TITLES = {
    400: "This request could not be handled",
    403: "You may not open this page",
    404: "This page does not exist",
    429: "Too many attempts",
}
EXPLANATIONS = {
    400: "Something in what was sent was missing or wrong.",
    403: "Your role does not include this page. Ask an admin if you need it.",
    404: "The address may be mistyped, or what it pointed to was removed.",
    429: "Please wait a minute before trying again.",
}
# Fields never shown back (secrets) or meaningless to the person (the token itself).
HIDDEN_FIELDS = {"csrf_token", "password"}


def dashboard_request() -> bool:
    """Whether the failing request was for the dashboard's own pages (rq-dashboard keeps its own)."""
    return request.path.startswith("/admin") and not request.path.startswith("/admin/rq")


def expired_form() -> bool:
    """Whether a POST was refused because its CSRF token is missing, expired or from another session."""
    if request.method != "POST":
        return False
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return True
    return False


def way_back() -> str:
    """The page the person came from, when it is on the dashboard; otherwise the overview."""
    referrer = request.referrer or ""
    host = request.host_url.rstrip("/")
    if referrer.startswith(host + "/admin") and referrer.rstrip("/") != request.url.rstrip("/"):
        return referrer
    return url_for("admin.overview")


def typed_text() -> list[tuple[str, str]]:
    """What the person typed in the refused form (secrets left out)."""
    return [(name, value) for name, value in request.form.items(multi=True)
            if name not in HIDDEN_FIELDS and value.strip()]


@bp.app_errorhandler(400)
@bp.app_errorhandler(403)
@bp.app_errorhandler(404)
@bp.app_errorhandler(429)
def error_page(error: HTTPException) -> ResponseReturnValue:
    """The error in the dashboard's layout (other paths keep Flask's plain pages)."""
    if not dashboard_request():
        return error
    code = error.code or 500
    expired = code == 400 and expired_form()
    title = "This form has expired" if expired else TITLES.get(code, error.name)
    explanation = ("The page was open too long (or you signed in again elsewhere), so it was not sent. "
                   "Nothing was changed. Your text is below: copy it, go back, and send it again."
                   if expired else EXPLANATIONS.get(code, error.description or ""))
    response = render_template("admin/error.html", code=code, title=title, explanation=explanation,
                               typed=typed_text() if code == 400 else [], back=way_back())
    return response, code
