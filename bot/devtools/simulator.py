"""The simulator: a local web page and a terminal chat that send signed requests to the real webhook.

With no Twilio account the app signs with a local token, so the webhook runs exactly the code it runs
for Twilio. The page is served only while no Twilio account is configured, and only to this machine.
"""

from __future__ import annotations

import secrets
import threading
import uuid
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Mapping

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from bot.core.extensions import db
from bot.core.local_time import to_local, zone
from bot.members.service import normalize_phone
from bot.models import Member, Message
from bot.whatsapp.twilio_api import public_url, sign

bp = Blueprint("simulator", __name__, url_prefix="/simulator")

# Files sent from the page (a photo or a PDF of a certificate) are kept in this process's memory only, the
# last few of them, and served to the worker that downloads them as Twilio's media URLs would be: nothing
# is written to disk and a restart forgets them.
UPLOADS_KEPT = 16
_uploads: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
_uploads_lock = threading.Lock()

INBOUND_PATH = "/whatsapp/inbound"
LOCAL_ACCOUNT_SID = "AC" + "0" * 32


def inbound_form(phone: str, body: str = "", *, to: str = "whatsapp:+14155238886", profile_name: str = "Simulator",
                 sid: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The fields Twilio posts for an inbound WhatsApp message."""
    sid = sid or "SM" + uuid.uuid4().hex
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": LOCAL_ACCOUNT_SID,
        "From": f"whatsapp:{phone}",
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ProfileName": profile_name,
        "WaId": phone.lstrip("+"),
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        **(extra or {}),
    }


def replies_of(twiml: str) -> list[str]:
    """The texts of the <Message> elements of a TwiML answer."""
    root = ET.fromstring(twiml)
    return [
        "".join(node.itertext()) if node.find("Body") is None else "".join(node.find("Body").itertext())
        for node in root.iter("Message")
    ]


def local_only() -> None:
    """The simulator signs anything it is given: serve it to this machine only."""
    if request.remote_addr not in {"127.0.0.1", "::1"} and not current_app.config.get("SIMULATOR_ALLOW_REMOTE"):
        abort(403)


@bp.get("/")
def page() -> ResponseReturnValue:
    """The chat page."""
    local_only()
    return render_template("simulator.html", union_name=current_app.config["UNION_NAME"])


@bp.post("/sign")
def sign_request() -> ResponseReturnValue:
    """Build and sign an inbound request for the page, which then posts it to the webhook itself."""
    local_only()
    data = request.get_json(silent=True) or {}
    phone = normalize_phone(str(data.get("phone", "")))
    if phone is None:
        return jsonify({"error": "Type a valid phone number, e.g. +254712345678"}), 400
    extra = {str(k): str(v) for k, v in (data.get("extra") or {}).items()}
    form = inbound_form(phone, str(data.get("body", ""))[:1600], extra=extra)
    url = public_url(INBOUND_PATH)
    return jsonify({"path": INBOUND_PATH, "form": form,
                    "signature": sign(url, form, current_app.config["WEBHOOK_AUTH_TOKEN"])})


@bp.post("/upload")
def upload() -> ResponseReturnValue:
    """Keep a file sent from the page and return the URL and type to announce it with (MediaUrl0)."""
    local_only()
    limit = int(current_app.config["CERTIFICATE_MAX_BYTES"])
    request.max_content_length = limit + 64 * 1024
    file = request.files.get("file")
    if file is None or not file.filename:
        return jsonify({"error": "Choose a photo or a PDF to send"}), 400
    content = file.read(limit + 1)
    if not content:
        return jsonify({"error": "That file is empty"}), 400
    if len(content) > limit:
        return jsonify({"error": f"That file is larger than {limit // (1024 * 1024)} MB"}), 413
    token = secrets.token_urlsafe(16)
    content_type = (file.mimetype or "application/octet-stream")[:100]
    with _uploads_lock:
        _uploads[token] = (content, content_type)
        while len(_uploads) > UPLOADS_KEPT:
            _uploads.popitem(last=False)
    return jsonify({"url": public_url(f"/simulator/media/{token}"), "content_type": content_type})


@bp.get("/media/<token>")
def media(token: str) -> ResponseReturnValue:
    """A file sent from the page, for the worker that downloads it."""
    local_only()
    with _uploads_lock:
        kept = _uploads.get(token)
    if kept is None:
        abort(404)
    return Response(kept[0], mimetype=kept[1])


@bp.get("/messages")
def messages() -> ResponseReturnValue:
    """The conversation log of one phone: what they sent, the replies, and the outbox (with the links of the
    documents sent, such as MY DATA FILE's PDF)."""
    local_only()
    phone = normalize_phone(request.args.get("phone", ""))
    if phone is None:
        return jsonify([])
    rows = db.session.execute(
        sa.select(Message.id, Message.direction, Message.channel, Message.body, Message.status, Message.created_at,
                  Message.media)
        .join(Member, Member.id == Message.member_id)
        .where(Member.phone == phone)
        .order_by(Message.id.desc())
        .limit(200)
    ).all()
    zone_name = zone().key
    return jsonify([
        {"id": r.id, "direction": r.direction, "channel": r.channel, "body": r.body, "status": r.status,
         "documents": [str(item["url"]) for item in r.media or [] if r.direction == "out" and isinstance(item, dict)
                       and item.get("url")],
         "at": r.created_at.isoformat(timespec="seconds") + "Z",
         "local": to_local(r.created_at).strftime("%d %b %H:%M") + f" ({zone_name})"}
        for r in reversed(rows)
    ])
