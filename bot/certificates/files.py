"""Certificate files for officers: a signed, expiring link per stored file (REVIEW shows it)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, send_file
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.core.extensions import db
from bot.models import Certificate
from bot.whatsapp.twilio_api import public_url

bp = Blueprint("certificate_files", __name__)
LINK_DAYS = 7


def serializer() -> URLSafeTimedSerializer:
    """Signs certificate ids with the app's secret."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="certificate-file")


def file_url(certificate: Certificate) -> str:
    """A link to a stored certificate file, valid for LINK_DAYS days."""
    return public_url(f"/certificates/file/{serializer().dumps(certificate.id)}")


@bp.get("/certificates/file/<token>")
def certificate_file(token: str):
    """Serve one stored certificate file to whoever holds a valid link."""
    try:
        certificate_id = serializer().loads(token, max_age=LINK_DAYS * 86400)
    except BadSignature:
        abort(404)
    return send_certificate_file(certificate_id)


def send_certificate_file(certificate_id: int) -> Response:
    """A stored certificate file as a response that browsers neither sniff nor cache; 404 when there is none.
    The signed link and the dashboard's review queue both serve files through this."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or not certificate.stored_path or not Path(certificate.stored_path).is_file():
        abort(404)
    response = send_file(certificate.stored_path, mimetype=certificate.content_type or "application/octet-stream",
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
