"""The webhooks to paste into the Twilio console: inbound messages and delivery statuses."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from functools import wraps
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_plus

from flask import Blueprint, Flask, Request, Response, abort, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from redis.exceptions import RedisError
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from bot.core.area import assembled
from bot.members.service import whatsapp_sender
from bot.observability import logs, metrics
from bot.whatsapp import inbound, messaging, statuses
from bot.whatsapp.twilio_api import (
    joined_pairs,
    request_is_from_twilio,
    signature_matches,
    status_callback_url,
)

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


def status_update_of(form: MultiDict[str, str], args: MultiDict[str, str], app: Flask) -> statuses.StatusUpdate:
    """The status a signed callback carries, checked for Twilio's shapes (400 otherwise)."""
    sid = message_sid_of(form)
    status = form.get("MessageStatus", form.get("SmsStatus", ""))
    code = form.get("ErrorCode") or None
    if sid is None or status not in messaging.TWILIO_STATUSES or (code and not ERROR_CODE.fullmatch(code)):
        abort(400)
    delivery, message = row_named(args, "d"), row_named(args, "m")
    if delivery is not None and (message is not None or assembled(app).delivery_statuses is None):
        abort(400)  # one row at most; and no area sends deliveries
    return statuses.StatusUpdate(sid, status, int(code) if code else None, delivery, message)


def take_status(update: statuses.StatusUpdate, app: Flask) -> None:
    """Append a status that says something about delivery to the stream (503 when Redis cannot take it)."""
    if not update.rank:
        return  # received, partially_delivered…: nothing to apply
    try:
        statuses.append(update, app)
    except RedisError:
        log.exception("could not store a status callback; Twilio is asked to retry it")
        abort(503)


@bp.post("/status")
@signed_by_twilio
def message_status() -> Response:
    """A delivery status for a message we sent: appended to the status stream (applied in batches by
    `worker.py --statuses`) and answered 200 once Redis has it, 503 when it cannot take it. With the
    stream, `StatusEndpoint` answers before Flask is reached; this view serves STATUS_APPLY=inline."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    update = status_update_of(request.form, request.args, app)
    if app.config["STATUS_APPLY"] == "inline":
        if update.rank:
            statuses.apply_now(update)
    else:
        take_status(update, app)
    return twiml([])


EMPTY_TWIML = str(MessagingResponse()).encode()


def form_pairs(text: str) -> list[tuple[str, str]]:
    """A form's (name, value) pairs, as `parse_qsl(text, keep_blank_values=True)` gives them, without its
    unquoting where there is nothing to unquote (most of Twilio's fields)."""
    pairs = []
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "%" in field or "+" in field:
            name, value = unquote_plus(name), unquote_plus(value)
        pairs.append((name, value))
    return pairs


class StatusEndpoint:
    """`POST /whatsapp/status` as a plain WSGI callable ahead of Flask (with STATUS_APPLY=stream): the same
    checks in the same order as the Flask webhooks (body size and field count before parsing, the
    signature, Twilio's shapes), then one XADD; every other request goes on to Flask. A callback is the
    busiest request there is (up to three per message sent), and Flask's request and context machinery
    was most of its cost."""

    def __init__(self, app: Flask, wrapped: Any) -> None:
        self.app = app
        self.wrapped = wrapped
        self.path = f"{bp.url_prefix}/status"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if (environ.get("PATH_INFO") != self.path or environ.get("REQUEST_METHOD") != "POST"
                or self.app.config["STATUS_APPLY"] != "stream"):
            return self.wrapped(environ, start_response)
        started = time.perf_counter()
        try:
            self.take(environ)
            status = 200
        except HTTPException as refusal:
            status = refusal.code or 500
        except Exception:
            log.exception("a status callback failed")
            status = 500
        metrics.webhook_answered("status", status, time.perf_counter() - started)
        body = EMPTY_TWIML if status == 200 else b""
        start_response(f"{status} {HTTPStatus(status).phrase}",
                       [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    def take(self, environ: dict[str, Any]) -> None:
        """Check and append one callback; raises an HTTPException (400, 403, 413, 503) when refused."""
        length = environ.get("CONTENT_LENGTH") or ""
        if length and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            abort(413)
        stream = environ["wsgi.input"]
        body = stream.read(int(length)) if length else stream.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            abort(413)
        if body.count(b"&") >= MAX_FIELDS:
            abort(400)
        pairs = form_pairs(body.decode("utf-8", "replace"))
        # PEP 3333 hands the query string over as latin-1; Flask's view reads it as UTF-8, so does this.
        query = environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", "replace")
        url = self.app.config["PUBLIC_URL"] + self.path + (f"?{query}" if query else "")
        if not signature_matches(environ.get("HTTP_X_TWILIO_SIGNATURE", ""), url, joined_pairs(pairs),
                                 self.app.config["WEBHOOK_AUTH_TOKEN"]):
            log.warning("refused an unsigned or wrongly signed request to %s", self.path)
            abort(403)
        form = MultiDict(pairs)
        args = MultiDict(form_pairs(query))
        take_status(status_update_of(form, args, self.app), self.app)
