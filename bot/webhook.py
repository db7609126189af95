"""The webhooks to paste into the Twilio console: inbound messages and delivery statuses."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, Request, Response, abort, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from twilio.twiml.messaging_response import MessagingResponse

from bot.services import broadcasts, inbound, messaging
from bot.services.members import normalize_phone
from bot.services.twilio_api import request_is_from_twilio

bp = Blueprint("whatsapp", __name__, url_prefix="/whatsapp")

log = logging.getLogger(__name__)
# Control characters XML 1.0 cannot carry (TwiML would not parse) and PostgreSQL text cannot hold (NUL).
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class NoSessionForTwilio(SecureCookieSessionInterface):
    """Cookie sessions for the dashboard and the simulator; Twilio's webhooks carry no cookie, so they
    get Flask's empty session instead of a cookie parse and a signer per message."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if request.path.startswith(bp.url_prefix + "/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def twiml(texts: list[str]) -> Response:
    """A TwiML answer with one <Message> per reply (an empty <Response/> for none)."""
    response = MessagingResponse()
    for text in texts:
        response.message(NOT_TEXT.sub("", text))
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


@bp.post("/inbound")
@signed_by_twilio
def inbound_message() -> Response:
    """A message from a member: stored, processed once, answered with TwiML."""
    form = without_control_characters(request.form)
    sid = (form.get("MessageSid") or form.get("SmsMessageSid") or "").strip()
    phone = normalize_phone(form.get("From", ""))
    if not sid or len(sid) > 64 or phone is None:
        abort(400)
    return twiml(inbound.receive(form, sid, phone))


@bp.post("/status")
@signed_by_twilio
def message_status() -> Response:
    """A delivery status for a message we sent; never moves a message's status backwards."""
    form = request.form
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid or not status:
        abort(400)
    code = form.get("ErrorCode")
    error_code = int(code) if code and re.fullmatch(r"[0-9]{1,9}", code) else None
    delivery = request.args.get("d", "")
    if delivery.isdigit():  # a broadcast delivery: the id is in the callback URL we gave Twilio
        broadcasts.record_status(int(delivery), sid, status, error_code)
        return twiml([])
    messaging.record_status(sid, status, error_code)
    return twiml([])
