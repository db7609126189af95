"""Optional error reporting to Sentry (sentry-sdk), on only when SENTRY_DSN is set.

Nothing that identifies a member may leave: no default PII (user, IP address), no local variables in stack
frames, no request bodies (a webhook's form holds the phone number, the name and the text), no cookies,
headers or query strings (the dashboard's search carries names and numbers), and every string left in an
event — exception messages, breadcrumbs such as the URL of a lookup at Twilio, the command line — has
anything that looks like a phone number replaced.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from bot.observability.logs import without_phones

REQUEST_KEPT = ("method", "url")


def init_error_reporting(app: Flask) -> bool:
    """Start reporting errors when SENTRY_DSN is set; returns whether it did."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config.get("SENTRY_ENVIRONMENT"),
        # send_default_pii stays off (its default; sentry-sdk 2.75 deprecates passing it).
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
    )
    return True


def scrub_event(event: dict[str, Any], _hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """The event without request data, user, frame variables or phone numbers."""
    request = event.get("request")
    if isinstance(request, dict):
        kept = {key: request[key] for key in REQUEST_KEPT if key in request}
        if "url" in kept:
            kept["url"] = str(kept["url"]).split("?", 1)[0]
        event["request"] = kept
    event.pop("user", None)
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    return scrubbed(event)


def scrub_breadcrumb(crumb: dict[str, Any], _hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """A breadcrumb without query strings or phone numbers (an HTTP call to Twilio lists messages `To=…`)."""
    data = crumb.get("data")
    if isinstance(data, dict):
        data.pop("http.query", None)
        if "url" in data:
            data["url"] = str(data["url"]).split("?", 1)[0]
    return scrubbed(crumb)


def scrubbed(value: Any) -> Any:
    """`value` with every phone-number-like run of digits in its strings replaced."""
    if isinstance(value, str):
        return without_phones(value)
    if isinstance(value, dict):
        return {key: scrubbed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrubbed(item) for item in value]
    return value
