"""The sending pipeline shared by broadcasts, reminders and every outbound REST message.

- `RateLimiter`: a Redis-backed limit per WhatsApp sender (the `limits` library's moving window), shared by
  every worker process, so the union never goes over SEND_RATE_PER_SECOND per number.
- `Sender`: posts messages to Twilio's Messages API concurrently from a small thread pool over one
  keep-alive HTTP session (a plain form POST is a fraction of the CPU of the full SDK per message).
- `classify`: Twilio's answer → an `Outcome` (accepted, retry, opted out, outside the window, failed, or no
  answer), with the reason in plain words (`REASONS`, in every language through the catalogs).
- `Sender.find`: after a send that got no answer, asks Twilio (its Messages list, by recipient and sender)
  whether it created the message; single messages and broadcasts both send again only when it has not.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from flask import current_app
from limits import RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ProtocolError

from bot.core import i18n
from bot.core.redis_conn import limits_uri
from bot.observability import metrics
from flows.base import N_, Msg, Text, msg

# What each outcome means, in plain words, by Twilio error code or reason key (the reasons an organiser sees):
# the one table, marked for the catalogs, read in English on the dashboard and in the reader's language on
# WhatsApp.
REASONS: dict[int | str, str] = {
    21610: N_("the member has blocked messages (STOP)"),
    21211: N_("not a valid phone number"),
    21614: N_("not a WhatsApp number"),
    63016: N_("outside the 24-hour window and no template is configured"),
    63018: N_("Twilio's rate limit for this sender was reached"),
    63024: N_("invalid message recipient"),
    63003: N_("the number is not on WhatsApp"),
    63032: N_("the member's WhatsApp does not accept this message"),
    63049: N_("Meta chose not to deliver this marketing message"),
    20429: N_("too many requests"),
    30008: N_("unknown delivery error"),
    "timeout": N_("Twilio did not answer in time; not sent again in case it was delivered"),
    "interrupted": N_("the worker stopped while sending; not sent again in case it was delivered"),
    "connection": N_("could not reach Twilio"),
    "connection_lost": N_("the connection to Twilio broke after sending; not sent again in case it was delivered"),
    "unconfirmed": N_("Twilio's answer never came and it could not be confirmed; not sent again in case it was "
                      "delivered"),
    "server": N_("Twilio had an internal error"),
    "opted_out": N_("the member has opted out"),
    "no_template": N_("outside the 24-hour window and no template is configured"),
    "cancelled": N_("the broadcast was cancelled"),
    "too_many_attempts": N_("still failing after every retry"),
    "deleted": N_("the member's data was deleted"),
    "broadcasts_stopped": N_("the member stopped broadcasts (NO BROADCASTS)"),
    "no_consent": N_("the person never consented"),
}
UNKNOWN_REASON = N_("unknown")
REFUSED = N_("Twilio refused the message (HTTP %(status)s)")
OTHER_ERROR = N_("Twilio error %(code)s")
OPTED_OUT = 21610
OUTSIDE_WINDOW = 63016
RETRY_CODES = frozenset({63018, 20429, 429})


def reason_line(key: int | str | None) -> Msg:
    """The words for an error code or reason key, to render in the reader's language."""
    if key is None:
        return msg(UNKNOWN_REASON)
    if key in REASONS:
        return msg(REASONS[key])
    if isinstance(key, str) and key.startswith("http_"):
        return msg(REFUSED, status=Text(key.removeprefix("http_")))
    return msg(OTHER_ERROR, code=Text(str(key)))


def reason_text(key: int | str | None) -> str:
    """The plain English words for an error code or reason key (the dashboard, the CLI, the logs)."""
    return i18n.render_line(i18n.SOURCE_LANGUAGE, reason_line(key))


@dataclass(frozen=True)
class Outcome:
    """What happened to one send: kind is accepted, retry, opted_out, outside_window, failed, timeout (no
    answer: Twilio may have it) or unconfirmed (Twilio could not be asked whether it has it)."""

    kind: str
    sid: str | None = None
    code: int | None = None
    reason: str | None = None


def classify(http_status: int | None, body: dict[str, Any] | None, error: str | None = None) -> Outcome:
    """Turn Twilio's HTTP answer (or a transport error) into an Outcome."""
    if error == "timeout":
        return Outcome("timeout", reason="timeout")
    if error is not None or http_status is None:
        return Outcome("retry", reason="connection")
    body = body or {}
    if 200 <= http_status < 300:
        return Outcome("accepted", sid=body.get("sid"))
    code = body.get("code")
    code = int(code) if isinstance(code, int | str) and str(code).isdigit() else None
    if code == OPTED_OUT:
        return Outcome("opted_out", code=code, reason=str(code))
    if code == OUTSIDE_WINDOW:
        return Outcome("outside_window", code=code, reason="no_template")
    if code in RETRY_CODES or http_status == 429:
        return Outcome("retry", code=code or 20429, reason=str(code or 20429))
    if http_status >= 500:
        return Outcome("retry", code=code, reason="server")
    return Outcome("failed", code=code, reason=str(code) if code else f"http_{http_status}")


def async_outcome(status: str, code: int | None) -> str | None:
    """For a failed/undelivered status callback: 'retry', 'outside_window', 'opted_out' or None (final)."""
    if status not in {"failed", "undelivered"}:
        return None
    if code == OPTED_OUT:
        return "opted_out"
    if code == OUTSIDE_WINDOW:
        return "outside_window"
    if code in RETRY_CODES:
        return "retry"
    return None


def senders() -> list[str]:
    """The WhatsApp numbers that share the load (WHATSAPP_SENDERS, else TWILIO_WHATSAPP_FROM)."""
    config = current_app.config
    return list(config.get("WHATSAPP_SENDERS") or []) or [config["TWILIO_WHATSAPP_FROM"]]


class RateLimiter:
    """At most `rate` sends per second per sender, counted in Redis and shared by every worker."""

    def __init__(self, redis_url: str, rate: int) -> None:
        self.rate = max(1, rate)
        self.piece = max(1, self.rate // 20)
        self.item = RateLimitItemPerSecond(self.rate, 1)
        self.limiter = MovingWindowRateLimiter(RedisStorage(limits_uri(redis_url)))

    def acquire(self, sender: str, cost: int = 1) -> None:
        """Block until `cost` sends from `sender` fit in the last second (taken in small pieces, so several
        workers share the window smoothly rather than in bursts of a whole chunk)."""
        while cost > 0:
            take = min(cost, self.piece)
            while not self.limiter.hit(self.item, "send", sender, cost=take):
                stats = self.limiter.get_window_stats(self.item, "send", sender)
                time.sleep(min(0.05, max(0.002, stats.reset_time - time.time())))
            cost -= take


_limiters: dict[tuple[str, int], RateLimiter] = {}


def rate_limiter() -> RateLimiter | None:
    """The app's shared limiter (None with the embedded Redis, which has no URL: no limit in local dev)."""
    config = current_app.config
    url = config.get("REDIS_URL")
    if not url:
        return None
    key = (url, int(config["SEND_RATE_PER_SECOND"]))
    if key not in _limiters:
        _limiters[key] = RateLimiter(*key)
    return _limiters[key]


def acquire(sender: str, cost: int = 1) -> None:
    """Wait for the shared rate limit of a sender (for single sends outside broadcasts)."""
    limiter = rate_limiter()
    if limiter is not None:
        limiter.acquire(sender, cost)


class Sender:
    """Posts messages to Twilio's Messages API, `concurrency` at a time, over keep-alive connections."""

    def __init__(self, account_sid: str, auth_token: str, base_url: str | None, *, timeout: float,
                 concurrency: int) -> None:
        base = (base_url or "https://api.twilio.com").rstrip("/")
        self.url = f"{base}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.timeout = timeout
        self.session = requests.Session()
        self.session.auth = (account_sid, auth_token)
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=concurrency, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="send")

    @classmethod
    def from_config(cls) -> Sender:
        """A sender configured from the app's settings (room for two chunks in flight)."""
        config = current_app.config
        return cls(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], config["TWILIO_API_BASE_URL"],
                   timeout=config["TWILIO_HTTP_TIMEOUT"], concurrency=2 * int(config["SEND_CONCURRENCY"]))

    def post(self, params: dict[str, str]) -> Outcome:
        """Send one message; never raises."""
        outcome = self._post(params)
        metrics.send_finished(outcome.kind, outcome.code, outcome.reason)
        return outcome

    def _post(self, params: dict[str, str]) -> Outcome:
        """Post the message and classify Twilio's answer."""
        try:
            response = self.session.post(self.url, data=params, timeout=self.timeout)
        except requests.ReadTimeout:
            return classify(None, None, "timeout")
        except requests.ConnectionError as error:
            # Refused or never connected: Twilio has nothing, send again later. Dropped after the request
            # went out: Twilio may have it, so it is not sent again before Twilio is asked (`find`).
            if error.args and isinstance(error.args[0], ProtocolError):
                return Outcome("timeout", reason="connection_lost")
            return classify(None, None, "connection")
        except requests.RequestException:
            return classify(None, None, "connection")
        try:
            body = response.json()
        except ValueError:
            body = None
        return classify(response.status_code, body if isinstance(body, dict) else None)

    def find(self, params: dict[str, str], since: datetime, froms: Iterable[str] = ()) -> str | None | bool:
        """After a send whose answer never came: the SID of the message Twilio created for these parameters
        since `since` (to the same recipient, from `params["From"]` or any of `froms`), None when it has
        none, False when Twilio could not be asked."""
        senders = {params["From"], *froms}
        query = {"To": params["To"], "PageSize": 20}
        if len(senders) == 1:
            query["From"] = params["From"]
        try:
            response = self.session.get(self.url, params=query, timeout=self.timeout)
            listed = response.json().get("messages") if response.status_code == 200 else None
        except (requests.RequestException, ValueError):
            return False
        if not isinstance(listed, list):
            return False
        for item in listed:
            try:
                created = parsedate_to_datetime(item.get("date_created") or "")
            except (TypeError, ValueError):
                continue
            if (item.get("from") in senders and same_message(item.get("body") or "", params)
                    and created.replace(tzinfo=None) >= since - timedelta(seconds=5)):
                return item.get("sid")
        return None

    def submit(self, params: dict[str, str]) -> Future[Outcome]:
        """Send one message in the background."""
        return self.pool.submit(self.post, params)

    def close(self) -> None:
        """Stop the threads and close the connections."""
        self.pool.shutdown(wait=True)
        self.session.close()


def same_message(body: str, params: dict[str, str]) -> bool:
    """Whether a message Twilio lists (by its body) is the one these parameters send: the same text, or for
    a template, a body that holds every variable (Twilio may list a template message with no body)."""
    if "ContentSid" not in params:
        return body == params.get("Body", "")
    try:
        variables = json.loads(params.get("ContentVariables") or "{}")
    except ValueError:
        variables = {}
    return not body or all(str(value) in body for value in variables.values())


_SHARED: dict[tuple[Any, ...], Sender] = {}


def shared_sender() -> Sender:
    """A sender kept for this process (its connections are reused by every notification job)."""
    config = current_app.config
    key = (config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], config["TWILIO_API_BASE_URL"],
           config["TWILIO_HTTP_TIMEOUT"])
    sender = _SHARED.get(key)
    if sender is None:
        sender = _SHARED[key] = Sender(*key[:3], timeout=key[3], concurrency=4)
    return sender


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
