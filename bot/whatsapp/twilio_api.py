"""Twilio: the REST client (pointable at a local fake API) and webhook signature checks."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable, Iterator, Mapping
from hashlib import sha1
from urllib.parse import urlparse

from flask import current_app, request
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator, add_port, remove_port
from twilio.rest import Client
from werkzeug.datastructures import MultiDict


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


# Twilio's connection overrides (twilio.com/docs/usage/webhooks/webhooks-connection-overrides), a fragment
# on a callback URL: retry 3 times (`rc`) on a 5xx answer, a connect failure or a read timeout (`rp`).
# Twilio does not retry a status callback otherwise, and a status the webhook could not store answers 503.
RETRY_FRAGMENT = "#rc=3&rp=5xx,ct,rt"


def public_url(path: str) -> str:
    """The URL Twilio uses for a path of this app (what it signs)."""
    return current_app.config["PUBLIC_URL"] + path


def status_callback_url(row: str) -> str:
    """The status callback URL for one of our rows (`m=<message id>` or `d=<delivery id>`), with the retry
    fragment: every StatusCallback and TwiML `action` we give Twilio is made here."""
    return public_url(f"/whatsapp/status?{row}") + RETRY_FRAGMENT


def signed_url() -> str:
    """The public URL of the current request, query string included."""
    url = public_url(request.path)
    if request.query_string:
        url += "?" + request.query_string.decode("utf-8", "replace")
    return url


def signed_params(form: MultiDict[str, str]) -> str:
    """What Twilio signs after the URL: each name with each of its values, sorted, joined with no separator
    (as `RequestValidator.compute_signature` builds it)."""
    return joined_pairs(form.items(multi=True))


def joined_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    """`signed_params` of a form's (name, value) pairs: sorted by name, then value, each pair once."""
    return "".join(name + value for name, value in sorted(set(pairs)))


def url_spellings(url: str) -> Iterator[str]:
    """The URL as configured, then without and with its port: Twilio signs one of them (the SDK's
    `RequestValidator.validate` tries the last two); last, with the retry fragment of our callback URLs (a
    fragment never reaches the server, so Twilio signs the URL without it, but asking costs one HMAC only
    when the others failed). Each is made only when the ones before did not match."""
    yield url
    parsed = urlparse(url)
    seen = {url}
    for spelling in (remove_port(parsed), add_port(parsed), url + RETRY_FRAGMENT):
        if spelling not in seen:
            seen.add(spelling)
            yield spelling


def request_is_from_twilio() -> bool:
    """Whether the current request carries a valid X-Twilio-Signature for PUBLIC_URL + path.

    The form is parsed and joined once; only the short HMAC is repeated for each spelling of the URL, so
    a wrong signature costs no more than a right one.
    """
    return signature_matches(request.headers.get("X-Twilio-Signature", ""), signed_url(),
                             signed_params(request.form), current_app.config["WEBHOOK_AUTH_TOKEN"])


def signature_matches(signature: str, url: str, params: str, token: str) -> bool:
    """Whether `signature` is Twilio's for this public URL (query string included) and form (its
    `signed_params`)."""
    if not signature:
        return False
    expected, key = signature.encode(), token.encode()
    return any(
        hmac.compare_digest(base64.b64encode(hmac.new(key, (spelling + params).encode(), sha1).digest()), expected)
        for spelling in url_spellings(url)
    )


def sign(url: str, params: Mapping[str, str], token: str) -> str:
    """The signature Twilio would send for these parameters (used by the simulator and tests)."""
    return RequestValidator(token).compute_signature(url, dict(params))
