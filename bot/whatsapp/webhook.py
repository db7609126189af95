"""The webhooks to paste into the Twilio console: inbound messages and delivery statuses."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, Request, Response, abort, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from redis.exceptions import RedisError
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.datastructures import MultiDict

from bot.core.area import assembled
from bot.members.service import whatsapp_sender
from bot.observability import logs
from bot.whatsapp import inbound, messaging, statuses
from bot.whatsapp.twilio_api import request_is_from_twilio, status_callback_url

bp = Blueprint("whatsapp", __name__, url_prefix="/whatsapp")

log = logging.getLogger(__name__)
# Control characters XML 1.0 cannot carry (TwiML would not parse) and PostgreSQL text cannot hold (NUL).
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# Twilio's largest message (1,600 characters of emoji, ten media URLs and types) is about 20 kB encoded
# and has fewer than 50 fields: anything much larger is refused before it is parsed, since werkzeug
# limits neither a url-encoded body without MAX_CONTENT_LENGTH nor its number of fields.
MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 200
# The shapes of the parameters we act on. Twilio signs names and values joined with no separator, so
# text moved from a value into the next name keeps the signature valid: only exact shapes are accepted.
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")
SID_ALIASES = ("SmsMessageSid", "SmsSid")
ERROR_CODE = re.compile(r"[0-9]{1,9}")
ROW_ID = re.compile(r"[0-9]{1,19}")
MAX_BIGINT = 2**63 - 1


class NoSessionForTwilio(SecureCookieSessionInterface):
    """Cookie sessions for the dashboard and the simulator; Twilio's webhooks carry no cookie, so they
    get Flask's empty session instead of a cookie parse and a signer per message."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(f"{bp.url_prefix}/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


@bp.before_request
def refuse_oversized_forms() -> None:
    """Refuse a body over MAX_BODY_BYTES (413) or with more than MAX_FIELDS fields (400, counted in the
    raw bytes) before anything parses it; the form is then parsed from those bytes."""
    # werkzeug refuses a longer Content-Length at once, but cuts a chunked body at the limit without an
    # error: one byte more is read, so a cut body is told from one of exactly the limit.
    request.max_content_length = MAX_BODY_BYTES + 1
    request.max_form_parts = MAX_FIELDS
    body = request.get_data(cache=True)
    if len(body) > MAX_BODY_BYTES:
        abort(413)
    if body.count(b"&") >= MAX_FIELDS:
        abort(400)


def twiml(replies: list[inbound.Answer]) -> Response:
    """A TwiML answer with one <Message> per reply (an empty <Response/> for none); a stored reply's
    `action` is its status callback URL, naming its row, so Twilio's statuses for it land there."""
    response = MessagingResponse()
    for text, reply_id in replies:
        action = {"action": status_callback_url(f"m={reply_id}")} if reply_id is not None else {}
        response.message(NOT_TEXT.sub("", text), **action)
    return Response(str(response), mimetype="text/xml")


def signed_by_twilio(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse, with 403, any request whose X-Twilio-Signature is missing or wrong."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not request_is_from_twilio():
            log.warning("refused an unsigned or wrongly signed request to %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return checked


def without_control_characters(form: Mapping[str, str]) -> dict[str, str]:
    """The form's fields without control characters other than tab and line ends (checked after the
    signature, which covers the fields as sent): they cannot be stored or echoed back in TwiML."""
    return {key: NOT_TEXT.sub("", value) for key, value in form.items()}


def message_sid_of(form: MultiDict[str, str]) -> str | None:
    """The MessageSid when it is sent once, has Twilio's shape, and the older names for it agree."""
    sids = form.getlist("MessageSid")
    if len(sids) != 1 or not MESSAGE_SID.fullmatch(sids[0]):
        return None
    if any(value and value != sids[0] for name in SID_ALIASES for value in form.getlist(name)):
        return None
    logs.bind(message_sid=sids[0])
    return sids[0]


@bp.post("/inbound")
@signed_by_twilio
def inbound_message() -> Response:
    """A message from a member: stored, processed once, answered with TwiML."""
    raw = request.form
    sid = message_sid_of(raw)
    senders = raw.getlist("From")
    phone = whatsapp_sender(senders[0]) if len(senders) == 1 else None
    if sid is None or phone is None or not inbound.media_urls_fit(raw):
        abort(400)
    return twiml(inbound.receive(without_control_characters(raw), sid, phone))


def row_named(args: MultiDict[str, str], name: str) -> int | None:
    """Our row named in the callback URL we gave Twilio (`?d=` a broadcast delivery, `?m=` a message), None
    when there is none; 400 when it is not an id."""
    values = args.getlist(name)
    if not values:
        return None
    if len(values) > 1 or not ROW_ID.fullmatch(values[0]) or int(values[0]) > MAX_BIGINT:
        abort(400)
    return int(values[0])


@bp.post("/status")
@signed_by_twilio
def message_status() -> Response:
    """A delivery status for a message we sent: appended to the status stream (applied in batches by
    `worker.py --statuses`) and answered 200 once Redis has it, 503 when it cannot take it."""
    form = request.form
    sid = message_sid_of(form)
    status = form.get("MessageStatus", form.get("SmsStatus", ""))
    code = form.get("ErrorCode") or None
    if sid is None or status not in messaging.TWILIO_STATUSES or (code and not ERROR_CODE.fullmatch(code)):
        abort(400)
    delivery, message = row_named(request.args, "d"), row_named(request.args, "m")
    if delivery is not None and (message is not None or assembled().delivery_statuses is None):
        abort(400)  # one row at most; and no area sends deliveries
    update = statuses.StatusUpdate(sid, status, int(code) if code else None, delivery, message)
    if not update.rank:
        return twiml([])  # says nothing about delivery (received, partially_delivered…)
    if current_app.config["STATUS_APPLY"] == "inline":
        statuses.apply_now(update)
        return twiml([])
    try:
        statuses.append(update)
    except RedisError:
        log.exception("could not store a status callback; Twilio is asked to retry it")
        abort(503)
    return twiml([])
