"""The webhooks to paste into the Twilio console: inbound messages and delivery statuses."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from functools import wraps
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote_plus
from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Request, Response, abort, current_app, got_request_exception, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from redis.exceptions import RedisError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import parse_options_header
from werkzeug.wrappers import Response as BaseResponse

from bot.core.area import assembled
from bot.members.service import whatsapp_sender
from bot.observability import logs, webhook_done
from bot.whatsapp import inbound, messaging, statuses
from bot.whatsapp.twilio_api import (
    joined_pairs,
    request_is_from_twilio,
    signature_matches,
    signed_params,
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


TWIML_START = '<?xml version="1.0" encoding="UTF-8"?><Response>'
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
# How ElementTree (and so the Twilio library's MessagingResponse) escapes an attribute value.
ATTRIBUTE_ENTITIES = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}


def twiml_text(replies: list[inbound.Answer]) -> str:
    """TwiML with one <Message> per reply (an empty <Response /> for none), written as the Twilio library's
    MessagingResponse writes it, without building an element tree per answer; a stored reply's `action` is
    its status callback URL, naming its row, so Twilio's statuses for it land there."""
    if not replies:
        return EMPTY_TWIML
    parts = [TWIML_START]
    for text, reply_id in replies:
        action = "" if reply_id is None else \
            f' action="{escape(status_callback_url(f"m={reply_id}"), ATTRIBUTE_ENTITIES)}"'
        body = escape(NOT_TEXT.sub("", text))
        parts.append(f"<Message{action}>{body}</Message>" if body else f"<Message{action} />")
    parts.append("</Response>")
    return "".join(parts)


def twiml(replies: list[inbound.Answer]) -> Response:
    """A TwiML answer (`twiml_text`)."""
    return Response(twiml_text(replies), mimetype="text/xml")


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


def replies_to_signed(form: MultiDict[str, str]) -> list[inbound.Answer]:
    """The replies to a signed inbound message once its shapes are checked (400 otherwise): stored,
    processed once (`inbound.receive`)."""
    sid = message_sid_of(form)
    senders = form.getlist("From")
    phone = whatsapp_sender(senders[0]) if len(senders) == 1 else None
    if sid is None or phone is None or not inbound.media_urls_fit(form):
        abort(400)
    return inbound.receive(without_control_characters(form), sid, phone)


@bp.post("/inbound")
@signed_by_twilio
def inbound_message() -> Response:
    """A message from a member: stored, processed once, answered with TwiML. With INBOUND_PATH=wsgi,
    `Webhooks` answers before Flask is reached; this view serves INBOUND_PATH=flask."""
    return twiml(replies_to_signed(request.form))


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


INBOUND_PATHS = ("wsgi", "flask")
FORM_TYPE = "application/x-www-form-urlencoded"


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


def form_of(body: bytes) -> MultiDict[str, str]:
    """A url-encoded body parsed as werkzeug parses Flask's `request.form` (an empty form when it is not
    UTF-8), so both paths check the signature over the same fields."""
    try:
        return MultiDict(parse_qsl(body.decode(), keep_blank_values=True, errors="werkzeug.url_quote"))
    except ValueError:
        return MultiDict()


def a_plain_form(environ: dict[str, Any]) -> bool:
    """Whether a request is what Twilio sends: a url-encoded form with a Content-Length within
    MAX_BODY_BYTES. Anything else (chunked, too long, another type) goes to Flask's view, whose answers
    for it are werkzeug's own."""
    length = environ.get("CONTENT_LENGTH") or ""
    return (length.isdigit() and int(length) <= MAX_BODY_BYTES and "HTTP_TRANSFER_ENCODING" not in environ
            and parse_options_header(environ.get("CONTENT_TYPE"))[0].lower() == FORM_TYPE)


class Webhooks:
    """Twilio's busiest webhooks as a plain WSGI callable ahead of Flask: `POST /whatsapp/status` (with
    STATUS_APPLY=stream) and `POST /whatsapp/inbound` (with INBOUND_PATH=wsgi, read at start-up). Each
    makes the same checks in the same order as the Flask views (body size and field count before
    parsing, the signature, Twilio's shapes) and gives the same answers; every other request goes on to
    Flask. Flask's request and context machinery was most of a status callback's cost and about a
    quarter of an inbound message's."""

    def __init__(self, app: Flask, wrapped: Any) -> None:
        self.app = app
        self.wrapped = wrapped
        self.status_path = f"{bp.url_prefix}/status"
        self.inbound_path = f"{bp.url_prefix}/inbound"
        if app.config["INBOUND_PATH"] not in INBOUND_PATHS:
            raise ValueError(f"INBOUND_PATH must be one of {', '.join(INBOUND_PATHS)}, "
                             f"not {app.config['INBOUND_PATH']!r}")
        self.inbound_ahead = app.config["INBOUND_PATH"] == "wsgi"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") == "POST":
            path = environ.get("PATH_INFO")
            if path == self.inbound_path and self.inbound_ahead and a_plain_form(environ):
                return self.answer_inbound(environ, start_response)
            if path == self.status_path and self.app.config["STATUS_APPLY"] == "stream":
                return self.answer_status(environ, start_response)
        return self.wrapped(environ, start_response)

    def answer_status(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Take one status callback: 200 once the stream has it, an empty body for a refusal."""
        started = time.perf_counter()
        try:
            self.take(environ)
            status = 200
        except HTTPException as refusal:
            status = refusal.code or 500
        except Exception:
            log.exception("a status callback failed")
            status = 500
        webhook_done("status", status, time.perf_counter() - started)
        body = EMPTY_TWIML.encode() if status == 200 else b""
        start_response(f"{status} {HTTPStatus(status).phrase}",
                       [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    def signed_form(self, environ: dict[str, Any], path: str, *, pairs: bool = False
                    ) -> tuple[MultiDict[str, str], str]:
        """The form and the query string of a request to `path` signed by Twilio; raises an HTTPException
        (413: too long, 400: too many fields, 403: not signed) as the Flask views refuse it. `pairs`: split
        the form the cheap way (`form_pairs`, for status callbacks), else exactly as werkzeug does."""
        length = environ.get("CONTENT_LENGTH") or ""
        if length and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            abort(413)
        stream = environ["wsgi.input"]
        body = stream.read(int(length)) if length else stream.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            abort(413)
        if body.count(b"&") >= MAX_FIELDS:
            abort(400)
        if pairs:
            split = form_pairs(body.decode("utf-8", "replace"))
            form, params = MultiDict(split), joined_pairs(split)
        else:
            form = form_of(body)
            params = signed_params(form)
        # PEP 3333 hands the query string over as latin-1; Flask's view reads it as UTF-8, so does this.
        query = environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", "replace")
        url = self.app.config["PUBLIC_URL"] + path + (f"?{query}" if query else "")
        if not signature_matches(environ.get("HTTP_X_TWILIO_SIGNATURE", ""), url, params,
                                 self.app.config["WEBHOOK_AUTH_TOKEN"]):
            log.warning("refused an unsigned or wrongly signed request to %s", path)
            abort(403)
        return form, query

    def take(self, environ: dict[str, Any]) -> None:
        """Check and append one callback; raises an HTTPException (400, 403, 413, 503) when refused."""
        form, query = self.signed_form(environ, self.status_path, pairs=True)
        args = MultiDict(form_pairs(query))
        take_status(status_update_of(form, args, self.app), self.app)

    def answer_inbound(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Answer one inbound message in an app context (no request context): the TwiML of its replies, or
        werkzeug's page for a refusal or a failure, counted and reported as Flask's view is."""
        started = time.perf_counter()
        logs.clear()
        try:
            with self.app.app_context():
                response = self.inbound_response(environ)
                webhook_done("inbound", response.status_code, time.perf_counter() - started)
        finally:
            logs.clear()
        return response(environ, start_response)

    def inbound_response(self, environ: dict[str, Any]) -> BaseResponse:
        """The response to one inbound message; an error is reported (Flask's `got_request_exception`, which
        error reporting listens to), logged, and answered 500, or raised when the app propagates errors."""
        try:
            form, _query = self.signed_form(environ, self.inbound_path)
            return Response(twiml_text(replies_to_signed(form)), mimetype="text/xml")
        except HTTPException as refusal:
            return refusal.get_response(environ)
        except Exception as error:
            got_request_exception.send(self.app, _async_wrapper=self.app.ensure_sync, exception=error)
            propagate = self.app.config["PROPAGATE_EXCEPTIONS"]
            if propagate or (propagate is None and (self.app.testing or self.app.debug)):
                raise
            self.app.logger.error("Exception on %s [POST]", self.inbound_path, exc_info=True)
            return InternalServerError(original_exception=error).get_response(environ)
