"""Twilio: the REST client (pointable at a local fake API) and webhook signature checks."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from flask import current_app, request
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client


def twilio_configured() -> bool:
    """Whether real Twilio credentials are set (otherwise outbound messages go to the local outbox)."""
    config = current_app.config
    return bool(config["TWILIO_ACCOUNT_SID"] and config["TWILIO_AUTH_TOKEN"])


def make_client() -> Client:
    """A Twilio client with an HTTP timeout, pointed at TWILIO_API_BASE_URL when that is set."""
    config = current_app.config
    client = Client(
        config["TWILIO_ACCOUNT_SID"],
        config["TWILIO_AUTH_TOKEN"],
        http_client=TwilioHttpClient(timeout=config["TWILIO_HTTP_TIMEOUT"]),
    )
    if config["TWILIO_API_BASE_URL"]:
        client.api.base_url = config["TWILIO_API_BASE_URL"].rstrip("/")
    return client


def public_url(path: str) -> str:
    """The URL Twilio uses for a path of this app (what it signs)."""
    return current_app.config["PUBLIC_URL"] + path


def signed_url() -> str:
    """The public URL of the current request, query string included."""
    url = public_url(request.path)
    if request.query_string:
        url += "?" + request.query_string.decode("utf-8", "replace")
    return url


def request_is_from_twilio() -> bool:
    """Whether the current request carries a valid X-Twilio-Signature for PUBLIC_URL + path."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    validator = RequestValidator(current_app.config["WEBHOOK_AUTH_TOKEN"])
    url, form = signed_url(), request.form
    # The URL exactly as configured is what Twilio signs in practice: one HMAC. Otherwise the library's
    # full check (it also tries the URL with and without the port).
    computed = validator.compute_signature(url, form).encode()
    return hmac.compare_digest(computed, signature.encode()) or bool(
        validator.validate(url, form, signature))


def sign(url: str, params: Mapping[str, str], token: str) -> str:
    """The signature Twilio would send for these parameters (used by the simulator and tests)."""
    return RequestValidator(token).compute_signature(url, dict(params))
