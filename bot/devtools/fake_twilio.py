"""A local fake of Twilio's Messages REST API, status callbacks and media, for tests and benchmarks.

It listens on loopback, speaks the same HTTP as api.twilio.com (so the real twilio SDK can be pointed
at it with `client.api.base_url = fake.base_url`), injects latency, errors and hangs on demand, sends
signed status callbacks from a background pool, and records what it saw. Run it on its own with
`python -m bot.devtools.fake_twilio --port 4010`; a benchmark in another process drives it through
the `/_fake/...` control endpoints.
"""

from __future__ import annotations

import argparse
import base64
import heapq
import hmac
import http.client
import itertools
import json
import logging
import random
import re
import secrets
import signal
import socketserver
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "fake-token"
MAX_BODY_CHARS = 1600
MAX_REQUEST_BYTES = 16 * 1024 * 1024

_MESSAGES_PATH = re.compile(r"/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json")
_MEDIA_PATH = re.compile(r"/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<mm>MM[0-9a-f]{32})/Media/(?P<me>ME[0-9a-f]{32})")
# Loose on purpose: a channel prefix and 7-15 digits; Twilio's own check also depends on the country. On
# WhatsApp, also a business-scoped user id ('whatsapp:US.1349…', Meta's usernames): a country, a dot and
# up to 128 letters and digits.
_PHONE_ADDRESS = re.compile(r"(?:[a-z-]+:)?\+?[1-9][0-9]{6,14}|whatsapp:[A-Z]{2}\.[0-9A-Za-z]{1,128}")

# Codes answered synchronously by the REST call, with their default HTTP status.
SYNC_ERROR_STATUS: dict[int, int] = {21610: 400, 21211: 400, 20429: 429, 20500: 500, 20503: 503}
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

# Codes Twilio reports later through the status callback (any code >= 30000 is treated the same way).
ASYNC_ERROR_CODES = frozenset({63016, 63018, 63024, 63003, 63032, 63049})
ASYNC_STATUSES = ("failed", "undelivered")

ERROR_MESSAGES: dict[int, str] = {
    20003: "Authenticate",
    20004: "Method not allowed",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21656: "The ContentVariables Parameter is invalid.",
    30008: "Unknown error.",
    63003: "Channel could not find To address",
    63016: ("Failed to send freeform message because you are outside the allowed window. "
            "If you want to send messages outside this window, please use a Message Template."),
    63018: "Rate limit exceeded for Channel",
    63024: "Invalid message recipient",
    63032: "We cannot send this message to this user because of a WhatsApp limitation.",
    63049: "Meta chose not to deliver this WhatsApp marketing message.",
}
_ERROR_CODE_FOR_STATUS = {401: 20003, 404: 20404, 405: 20004, 429: 20429, 500: 20500, 503: 20503}


def error_message(code: int) -> str:
    """Twilio's human-readable text for an error code (a generic one for codes we do not know)."""
    return ERROR_MESSAGES.get(code, f"Error {code}")


def error_payload(code: int, http_status: int, message: str | None = None) -> dict[str, Any]:
    """The JSON body Twilio answers a failed REST call with."""
    return {
        "code": code,
        "message": message or error_message(code),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": http_status,
    }


def new_sid(prefix: str) -> str:
    """A Twilio-style sid: two-letter prefix and 32 lowercase hex characters."""
    return prefix + secrets.token_hex(16)


def _without_channel(address: str | None) -> str | None:
    """An address without its `whatsapp:`-style prefix, so rules match either spelling."""
    if address is None:
        return None
    return address.split(":", 1)[1] if ":" in address else address


@dataclass(slots=True, frozen=True)
class _Message:
    """One accepted message, kept compact because a benchmark may push hundreds of thousands."""

    sid: str
    to: str
    from_: str | None
    body: str | None
    media_urls: tuple[str, ...]
    content_sid: str | None
    content_variables: str | None
    status_callback: str | None
    messaging_service_sid: str | None
    received_at: float
    error_code: int | None

    def as_dict(self) -> dict[str, Any]:
        """The public snapshot form of this message."""
        return {
            "sid": self.sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "media_urls": list(self.media_urls),
            "content_sid": self.content_sid,
            "content_variables": self.content_variables,
            "status_callback": self.status_callback,
            "messaging_service_sid": self.messaging_service_sid,
            "received_at": self.received_at,
            "error_code": self.error_code,
        }

    def as_attempt(self) -> dict[str, Any]:
        """The public form of the POST that created this message."""
        return {"sid": self.sid, "to": self.to, "from": self.from_, "body": self.body,
                "received_at": self.received_at, "error_code": None, "http_status": 201}


@dataclass(slots=True, frozen=True)
class _Rejection:
    """One POST the fake refused."""

    to: str | None
    from_: str | None
    body: str | None
    received_at: float
    error_code: int
    http_status: int

    def as_attempt(self) -> dict[str, Any]:
        """The public form of this refused POST."""
        return {"sid": None, "to": self.to, "from": self.from_, "body": self.body,
                "received_at": self.received_at, "error_code": self.error_code, "http_status": self.http_status}


@dataclass(slots=True, frozen=True)
class _CallbackRecord:
    """One status callback attempt; its parameters are rebuilt from the message when asked for."""

    url: str
    message: _Message
    status: str
    http_status: int | None


@dataclass(slots=True)
class _ErrorRule:
    """An error to inject into matching POSTs."""

    code: int
    to: str | None
    probability: float
    times_left: int | None
    http_status: int | None
    async_status: str

    @property
    def is_synchronous(self) -> bool:
        """Whether the REST call itself fails (otherwise the message is accepted and fails later)."""
        return self.http_status is not None


@dataclass(slots=True)
class _HangRule:
    """A delay to inject into matching POSTs after the message has been accepted (or, lost, before it
    is: the request is then dropped without an answer and nothing is recorded)."""

    seconds: float
    to: str | None
    probability: float
    times_left: int | None
    lost: bool = False


@dataclass(slots=True, frozen=True)
class _Media:
    """A registered media file."""

    content: bytes
    content_type: str
    delay: float
    status: int


@dataclass(slots=True)
class _CallbackJob:
    """The status callbacks still to send for one message, in the order they will be sent."""

    url: str
    message: _Message
    statuses: list[str]
    generation: int


@dataclass(slots=True)
class _Answer:
    """An HTTP response the handler writes out."""

    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def with_json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> _Answer:
        """A JSON answer."""
        return cls(status, json.dumps(payload).encode(), headers=headers or {})

    @classmethod
    def error(cls, code: int, http_status: int, message: str | None = None) -> _Answer:
        """A Twilio error answer."""
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if http_status == 401 else None
        return cls.with_json(http_status, error_payload(code, http_status, message), headers)


class _Server(ThreadingHTTPServer):
    """The HTTP server: one daemon thread per connection, a deep accept queue, no joining on close."""

    daemon_threads = True
    # Hung requests and idle keep-alive connections must not make stop() wait for them.
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeTwilio) -> None:
        """Bind to `address` and serve requests for `fake`."""
        self.fake = fake
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the host name."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a handler crash instead of printing it to stderr (clients hanging up are routine)."""
        logger.debug("fake Twilio: error while serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, lets the FakeTwilio decide the answer, writes it with keep-alive."""

    protocol_version = "HTTP/1.1"
    server_version = "FakeTwilio/1.0"
    # Lets threads of idle keep-alive connections end eventually.
    timeout = 120
    # Headers and body leave as one buffered write with Nagle off; otherwise delayed ACKs stall
    # every keep-alive answer by ~40 ms.
    wbufsize = -1
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        """Serve a GET."""
        self._dispatch("GET")

    def do_POST(self) -> None:
        """Serve a POST."""
        self._dispatch("POST")

    def do_PUT(self) -> None:
        """Refuse a PUT."""
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        """Refuse a DELETE."""
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        """Read the body (so keep-alive stays in sync), route the request and write the answer."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._send(_Answer.with_json(411, {"error": "Content-Length required"}))
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_REQUEST_BYTES:
            self.close_connection = True
            self._send(_Answer.with_json(400, {"error": "bad Content-Length"}))
            return
        body = self.rfile.read(length) if length else b""
        try:
            answer = self.server.fake._route(method, self.path, self.headers, body)
        except Exception:
            logger.exception("fake Twilio: error answering %s %s", method, self.path)
            answer = _Answer.error(20500, 500)
        if answer is None:  # a lost request: the connection closes without an answer
            self.close_connection = True
            return
        self._send(answer)

    def _send(self, answer: _Answer) -> None:
        """Write an answer with its Content-Length; a client that already hung up is not an error."""
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Send the access log to the logger at debug level instead of stderr."""
        logger.debug("fake Twilio: %s " + format, self.address_string(), *args)


class FakeTwilio:
    """A local fake of Twilio's Messages API with error injection, signed status callbacks and media."""

    #: Threads that send status callbacks.
    CALLBACK_WORKERS = 8
    #: Seconds a status callback POST may take before it counts as failed.
    CALLBACK_TIMEOUT = 5.0

    def __init__(self, account_sid: str = DEFAULT_ACCOUNT_SID, auth_token: str = DEFAULT_AUTH_TOKEN, *,
                 host: str = "127.0.0.1", port: int = 0, latency: float = 0.0, jitter: float = 0.0,
                 callback_url: str | None = None,
                 callback_statuses: tuple[str, ...] = ("sent", "delivered", "read"),
                 callback_delay: float = 0.0, out_of_order: bool = False,
                 skip_delivered_probability: float = 0.0, seed: int | None = None) -> None:
        """Configure the fake; nothing listens until start()."""
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self.port = port
        self.latency = latency
        self.jitter = jitter
        self.callback_url = callback_url
        self.callback_statuses = tuple(callback_statuses)
        self.callback_delay = callback_delay
        self.out_of_order = out_of_order
        self.skip_delivered_probability = skip_delivered_probability
        self._rng = random.Random(seed)
        # Separate so that jitter draws, whose order depends on thread timing, do not disturb rule draws.
        self._jitter_rng = random.Random(None if seed is None else seed + 1)
        self._validator = RequestValidator(auth_token)
        self._credentials = f"{account_sid}:{auth_token}".encode()

        self._lock = threading.Lock()
        self._records_changed = threading.Condition(self._lock)
        self._callbacks_due = threading.Condition(self._lock)
        self._messages: list[_Message] = []
        self._attempts: list[_Message | _Rejection] = []
        self._callbacks: list[_CallbackRecord] = []
        self._error_rules: list[_ErrorRule] = []
        self._hang_rules: list[_HangRule] = []
        self._media: dict[tuple[str, str], _Media] = {}
        self._rejected_by_code: Counter[int] = Counter()
        self._callbacks_failed = 0
        self._async_failures = 0
        self._callback_heap: list[tuple[float, int, _CallbackJob]] = []
        self._callback_order = itertools.count()
        # Bumped by reset() so callbacks already in flight are not recorded into the fresh state.
        self._generation = 0
        self._unreachable_callback_urls: set[str] = set()

        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        """Bind, serve in a daemon thread, start the callback workers and return self."""
        if self._server is not None:
            raise RuntimeError("FakeTwilio is already running")
        server = _Server((self.host, self.port), self)
        self._server = server
        self._stopping = threading.Event()
        serve = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                 name="fake-twilio-http", daemon=True)
        workers = [threading.Thread(target=self._run_callback_worker, args=(self._stopping,),
                                    name=f"fake-twilio-callbacks-{i}", daemon=True)
                   for i in range(self.CALLBACK_WORKERS)]
        self._threads = [serve, *workers]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop callbacks not yet sent and release the port."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            self._stopping.set()
            self._callback_heap.clear()
            self._callbacks_due.notify_all()
        for thread in self._threads:
            # A worker may be in a callback POST; it is a daemon, so do not wait out its timeout.
            thread.join(timeout=1.0)
        self._threads = []

    def __enter__(self) -> FakeTwilio:
        """Start the fake."""
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Stop the fake."""
        self.stop()

    @property
    def base_url(self) -> str:
        """The root URL of the running fake, e.g. http://127.0.0.1:54321 (what `client.api.base_url` takes)."""
        if self._server is None:
            raise RuntimeError("FakeTwilio is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- records ---------------------------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """A snapshot of every accepted message, oldest first."""
        with self._lock:
            messages = list(self._messages)
        return [message.as_dict() for message in messages]

    @property
    def attempts(self) -> list[dict[str, Any]]:
        """A snapshot of every message POST that got past authentication, accepted or not."""
        with self._lock:
            attempts = list(self._attempts)
        return [attempt.as_attempt() for attempt in attempts]

    @property
    def callbacks(self) -> list[dict[str, Any]]:
        """A snapshot of every status callback attempted: url, params and http_status (None if unreachable)."""
        with self._lock:
            callbacks = list(self._callbacks)
        return [{"url": record.url, "params": self._callback_params(record.message, record.status),
                 "http_status": record.http_status} for record in callbacks]

    def stats(self) -> dict[str, Any]:
        """Counts of what the fake has seen since the last reset."""
        with self._lock:
            return {
                "accepted": len(self._messages),
                "rejected": sum(self._rejected_by_code.values()),
                "rejected_by_code": {str(code): n for code, n in sorted(self._rejected_by_code.items())},
                "async_failures": self._async_failures,
                "callbacks": len(self._callbacks),
                "callbacks_failed": self._callbacks_failed,
                "callbacks_pending": len(self._callback_heap),
            }

    def reset(self) -> None:
        """Forget messages, attempts, callbacks (sent and pending) and rules; registered media stay."""
        with self._lock:
            self._messages.clear()
            self._attempts.clear()
            self._callbacks.clear()
            self._error_rules.clear()
            self._hang_rules.clear()
            self._rejected_by_code.clear()
            self._callbacks_failed = 0
            self._async_failures = 0
            self._callback_heap.clear()
            self._generation += 1
            self._records_changed.notify_all()

    def wait_for_messages(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until at least n messages were accepted and return them, else raise TimeoutError."""
        self._wait_until(lambda: len(self._messages) >= n, timeout,
                         lambda: f"{len(self._messages)} of {n} messages accepted")
        return self.messages

    def wait_for_callbacks(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until at least n status callbacks were attempted and return them, else raise TimeoutError."""
        self._wait_until(lambda: len(self._callbacks) >= n, timeout,
                         lambda: f"{len(self._callbacks)} of {n} status callbacks attempted")
        return self.callbacks

    def _wait_until(self, done: Callable[[], bool], timeout: float, progress: Callable[[], str]) -> None:
        """Wait on the records condition until `done`, raising TimeoutError with `progress` if it never is."""
        with self._records_changed:
            if not self._records_changed.wait_for(done, timeout):
                raise TimeoutError(f"fake Twilio: only {progress()} after {timeout}s")

    # --- rules and media -------------------------------------------------------------------------

    def add_error_rule(self, code: int, *, to: str | None = None, probability: float = 1.0,
                       times: int | None = None, http_status: int | None = None,
                       async_status: str = "failed") -> None:
        """Make matching POSTs fail with `code`: at once (REST error) or later (failed status callback).

        Synchronous: codes in SYNC_ERROR_STATUS or any code given an http_status; other codes of 30000
        and above are asynchronous; other codes below 30000 are synchronous with HTTP 400. Rules are
        tried in the order added and the first that matches `to` and wins its probability draw applies.
        """
        code = int(code)
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if times is not None and times < 1:
            raise ValueError("times must be None or at least 1")
        if async_status not in ASYNC_STATUSES:
            raise ValueError(f"async_status must be one of {ASYNC_STATUSES}")
        if http_status is None and code not in ASYNC_ERROR_CODES and code < 30000:
            http_status = SYNC_ERROR_STATUS.get(code, 400)
        if http_status is not None and not 400 <= http_status <= 599:
            raise ValueError("http_status must be an HTTP error status (400-599)")
        rule = _ErrorRule(code, to, probability, times, http_status, async_status)
        with self._lock:
            self._error_rules.append(rule)

    def add_hang_rule(self, seconds: float, *, to: str | None = None, times: int | None = None,
                      probability: float = 1.0, lost: bool = False) -> None:
        """Make matching POSTs wait `seconds` before answering; the message is still accepted and recorded.

        With `lost`, the request never reaches Twilio: after `seconds` the connection is closed without an
        answer and nothing is recorded (the client sees a timeout or a connection broken after sending).
        """
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if times is not None and times < 1:
            raise ValueError("times must be None or at least 1")
        with self._lock:
            self._hang_rules.append(_HangRule(float(seconds), to, probability, times, bool(lost)))

    def add_media(self, content: bytes, content_type: str, *, delay: float = 0.0, status: int = 200) -> str:
        """Register a media file and return its Twilio-style URL on this (running) server."""
        message_sid, media_sid = new_sid("MM"), new_sid("ME")
        url = f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"
        with self._lock:
            self._media[(message_sid, media_sid)] = _Media(bytes(content), content_type, delay, status)
        return url

    def _take_rule(self, rules: list[Any], to: str | None) -> Any:
        """The first rule that matches `to` and wins its draw, used up by one; call with the lock held."""
        recipient = _without_channel(to)
        for index, rule in enumerate(rules):
            if rule.to is not None and _without_channel(rule.to) != recipient:
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            if rule.times_left is not None:
                rule.times_left -= 1
                if rule.times_left == 0:
                    del rules[index]
            return rule
        return None

    # --- HTTP ------------------------------------------------------------------------------------

    def _route(self, method: str, raw_path: str, headers: Message, body: bytes) -> _Answer | None:
        """Decide the answer to one request (called from a server thread)."""
        path, _, query = raw_path.partition("?")
        if path.startswith("/_fake/"):
            return self._control(method, path, query, headers, body)
        if not path.startswith(f"/{API_VERSION}/"):
            return _Answer.error(20404, 404, f"The requested resource {path} was not found")
        self._sleep_latency()
        if not self._authorized(headers.get("Authorization")):
            return _Answer.error(20003, 401)
        if match := _MESSAGES_PATH.fullmatch(path):
            if match["account"] != self.account_sid:
                return _Answer.error(20404, 404, f"The requested resource {path} was not found")
            if method == "GET":
                return self._list_messages(query)
            if method != "POST":
                return _Answer.error(20004, 405)
            return self._create_message(body)
        if (match := _MEDIA_PATH.fullmatch(path)) and match["account"] == self.account_sid:
            if method != "GET":
                return _Answer.error(20004, 405)
            return self._serve_media(match["mm"], match["me"])
        return _Answer.error(20404, 404, f"The requested resource {path} was not found")

    def _sleep_latency(self) -> None:
        """Wait the configured latency plus jitter, in this request's own thread."""
        delay = self.latency + (self._jitter_rng.uniform(0.0, self.jitter) if self.jitter > 0 else 0.0)
        if delay > 0:
            time.sleep(delay)

    def _authorized(self, header: str | None) -> bool:
        """Whether an Authorization header carries this account's sid and auth token."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            credentials = base64.b64decode(header[len("Basic "):].strip(), validate=True)
        except ValueError:
            return False
        return hmac.compare_digest(credentials, self._credentials)

    def _list_messages(self, query: str) -> _Answer:
        """GET Messages.json: the accepted messages, newest first, filtered by To and From like Twilio."""
        params = parse_qs(query)
        to, from_ = (params.get("To") or [None])[0], (params.get("From") or [None])[0]
        try:
            size = max(1, min(1000, int((params.get("PageSize") or ["50"])[0])))
        except ValueError:
            return _Answer.error(20001, 400, "PageSize must be a number")
        with self._lock:
            found = [m for m in reversed(self._messages)
                     if (to is None or m.to == to) and (from_ is None or m.from_ == from_)][:size]
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        return _Answer.with_json(200, {"messages": [self._message_resource(m) for m in found], "page": 0,
                                  "page_size": size, "uri": uri, "first_page_uri": uri, "next_page_uri": None,
                                  "previous_page_uri": None})

    def _create_message(self, body: bytes) -> _Answer | None:
        """Validate a Messages POST, apply the rules, record it and answer like Twilio."""
        received_at = time.time()
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)

        def first(name: str) -> str | None:
            """The first non-empty value of a form field."""
            values = [value for value in form.get(name, ()) if value]
            return values[0] if values else None

        to, from_, text = first("To"), first("From"), first("Body")
        service_sid, content_sid = first("MessagingServiceSid"), first("ContentSid")
        content_variables, status_callback = first("ContentVariables"), first("StatusCallback")
        media_urls = tuple(url for url in form.get("MediaUrl", ()) if url)

        invalid = self._invalid_message(to, from_, service_sid, text, media_urls, content_sid, content_variables)
        if invalid is not None:
            code, http_status, explanation = invalid
            self._record_rejection(_Rejection(to, from_, text, received_at, code, http_status))
            return _Answer.error(code, http_status, explanation)

        answer: _Answer | None
        with self._lock:
            hang = self._take_rule(self._hang_rules, to)
        if hang is not None and hang.lost:
            time.sleep(hang.seconds)
            return None
        with self._lock:
            rule = self._take_rule(self._error_rules, to)
            if rule is not None and rule.is_synchronous:
                self._rejected_by_code[rule.code] += 1
                self._attempts.append(_Rejection(to, from_, text, received_at, rule.code, rule.http_status))
                self._records_changed.notify_all()
                answer = _Answer.error(rule.code, rule.http_status)
            else:
                message = _Message(
                    sid=new_sid("SM"), to=to, from_=from_ and sys.intern(from_), body=text,
                    media_urls=media_urls, content_sid=content_sid, content_variables=content_variables,
                    status_callback=status_callback and sys.intern(status_callback),
                    messaging_service_sid=service_sid and sys.intern(service_sid),
                    received_at=received_at, error_code=rule.code if rule is not None else None,
                )
                self._messages.append(message)
                self._attempts.append(message)
                if rule is not None:
                    self._async_failures += 1
                self._records_changed.notify_all()
                self._schedule_callbacks(message, rule.async_status if rule is not None else None)
                answer = None
        if answer is None:
            answer = _Answer.with_json(201, self._message_resource(message))
        if hang is not None:
            # After recording: Twilio has the message even though the client may give up waiting.
            time.sleep(hang.seconds)
        return answer

    @staticmethod
    def _invalid_message(to: str | None, from_: str | None, service_sid: str | None, text: str | None,
                         media_urls: tuple[str, ...], content_sid: str | None,
                         content_variables: str | None) -> tuple[int, int, str] | None:
        """The (code, HTTP status, message) Twilio would refuse these parameters with, or None."""
        if to is None:
            return 21604, 400, error_message(21604)
        if from_ is None and service_sid is None:
            return 21603, 400, error_message(21603)
        if text is None and not media_urls and content_sid is None:
            return 21602, 400, error_message(21602)
        if not _PHONE_ADDRESS.fullmatch(to):
            return 21211, 400, f"Invalid 'To' Phone Number: {to}"
        if text is not None and content_sid is None and len(text) > MAX_BODY_CHARS:
            return 21617, 400, error_message(21617)
        if content_variables is not None:
            try:
                variables = json.loads(content_variables)
            except ValueError:
                variables = None
            if not isinstance(variables, dict):
                return 21656, 400, error_message(21656)
        return None

    def _record_rejection(self, rejection: _Rejection) -> None:
        """Record a refused POST."""
        with self._lock:
            self._rejected_by_code[rejection.error_code] += 1
            self._attempts.append(rejection)
            self._records_changed.notify_all()

    def _message_resource(self, message: _Message) -> dict[str, Any]:
        """The Message JSON Twilio answers a successful create with."""
        created = format_datetime(datetime.fromtimestamp(message.received_at, UTC))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": message.body or "",
            "date_created": created,
            "date_sent": None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": message.from_,
            "messaging_service_sid": message.messaging_service_sid,
            "num_media": str(len(message.media_urls)),
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": message.sid,
            # Twilio says "accepted" while a Messaging Service still has to pick the sender.
            "status": "queued" if message.from_ else "accepted",
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "to": message.to,
            "uri": f"{uri}.json",
        }

    def _serve_media(self, message_sid: str, media_sid: str) -> _Answer:
        """Answer a media download: the bytes, a forced error status, or 404."""
        with self._lock:
            media = self._media.get((message_sid, media_sid))
        if media is None:
            return _Answer.error(20404, 404, "The requested resource was not found")
        if media.delay > 0:
            time.sleep(media.delay)
        if media.status != 200:
            return _Answer.error(_ERROR_CODE_FOR_STATUS.get(media.status, media.status), media.status)
        return _Answer(200, media.content, content_type=media.content_type)

    # --- control API -----------------------------------------------------------------------------

    def _control(self, method: str, path: str, query: str, headers: Message, body: bytes) -> _Answer:
        """Serve the /_fake/... endpoints that let another process drive and inspect the fake."""
        params = {name: values[-1] for name, values in parse_qs(query).items()}
        try:
            if method == "GET" and path in ("/_fake/messages", "/_fake/attempts", "/_fake/callbacks"):
                records = getattr(self, path.removeprefix("/_fake/"))
                offset = int(params.get("offset", 0))
                limit = int(params["limit"]) if "limit" in params else None
                return _Answer.with_json(200, records[offset:None if limit is None else offset + limit])
            if method == "GET" and path == "/_fake/stats":
                return _Answer.with_json(200, self.stats())
            if method == "POST" and path == "/_fake/reset":
                self.reset()
                return _Answer.with_json(200, {"ok": True})
            if method == "POST" and path == "/_fake/rules":
                self._add_rule_from_json(body)
                return _Answer.with_json(201, {"ok": True})
            if method == "POST" and path == "/_fake/media":
                content_type = params.get("content_type") or headers.get("Content-Type") or "application/octet-stream"
                url = self.add_media(body, content_type, delay=float(params.get("delay", 0.0)),
                                     status=int(params.get("status", 200)))
                return _Answer.with_json(201, {"url": url})
        except (ValueError, TypeError, KeyError) as exc:
            return _Answer.with_json(400, {"error": str(exc) or exc.__class__.__name__})
        return _Answer.with_json(404, {"error": f"no control endpoint {method} {path}"})

    def _add_rule_from_json(self, body: bytes) -> None:
        """Add a rule from a JSON object with "kind": "error" or "hang" and the add_*_rule arguments."""
        spec = json.loads(body or b"{}")
        if not isinstance(spec, dict):
            raise ValueError("the rule must be a JSON object")
        kind = spec.pop("kind", None)
        if kind == "error":
            self.add_error_rule(**spec)
        elif kind == "hang":
            self.add_hang_rule(**spec)
        else:
            raise ValueError('"kind" must be "error" or "hang"')

    # --- status callbacks ------------------------------------------------------------------------

    def _schedule_callbacks(self, message: _Message, async_status: str | None) -> None:
        """Queue the status callbacks for a just-accepted message; call with the lock held."""
        url = message.status_callback or self.callback_url
        if not url:
            return
        if async_status is not None:
            statuses = [async_status]
        else:
            statuses = list(self.callback_statuses)
            if ("read" in statuses and "delivered" in statuses and self.skip_delivered_probability > 0
                    and self._rng.random() < self.skip_delivered_probability):
                statuses.remove("delivered")
            if self.out_of_order:
                self._rng.shuffle(statuses)
        if statuses:
            self._push_callback_job(_CallbackJob(url, message, statuses, self._generation))

    def _push_callback_job(self, job: _CallbackJob) -> None:
        """Put a job on the callback schedule, due after callback_delay; call with the lock held."""
        due = time.monotonic() + self.callback_delay
        heapq.heappush(self._callback_heap, (due, next(self._callback_order), job))
        self._callbacks_due.notify()

    def _run_callback_worker(self, stopping: threading.Event) -> None:
        """Send due status callbacks until the fake stops; one message's callbacks go out one at a time."""
        while True:
            job = self._next_due_callback(stopping)
            if job is None:
                return
            try:
                self._send_next_callback(job)
            except Exception:
                logger.exception("fake Twilio: status callback worker error (callback dropped)")

    def _next_due_callback(self, stopping: threading.Event) -> _CallbackJob | None:
        """Wait for the earliest callback job to fall due and take it; None once stopping."""
        with self._callbacks_due:
            while not stopping.is_set():
                if not self._callback_heap:
                    self._callbacks_due.wait()
                    continue
                wait = self._callback_heap[0][0] - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(self._callback_heap)[2]
                self._callbacks_due.wait(wait)
            return None

    def _send_next_callback(self, job: _CallbackJob) -> None:
        """POST the job's next status (tried again as the URL's connection overrides ask), record each try
        and put the rest of the job back on the schedule."""
        status = job.statuses.pop(0)
        overrides = ConnectionOverrides.of(job.url)
        params = self._callback_params(job.message, status)
        for _ in range(1 + overrides.retries):
            http_status, failure = self._post_callback(job.url, params, overrides)
            with self._lock:
                if job.generation != self._generation:
                    return
                self._callbacks.append(_CallbackRecord(job.url, job.message, status, http_status))
                if failure is not None:
                    self._callbacks_failed += 1
                self._records_changed.notify_all()
            if failure is None or failure not in overrides.retry_on or self._stopping.is_set():
                break
        with self._lock:
            if job.generation == self._generation and job.statuses and not self._stopping.is_set():
                self._push_callback_job(job)

    def _callback_params(self, message: _Message, status: str) -> dict[str, str]:
        """The form fields Twilio posts to a status callback."""
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "MessageSid": message.sid,
            "MessageStatus": status,
            "SmsSid": message.sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if message.from_:
            params["From"] = message.from_
        if ":" in message.to:
            params["ChannelPrefix"] = message.to.split(":", 1)[0]
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if status in ASYNC_STATUSES:
            code = message.error_code if message.error_code is not None else 30008
            params["ErrorCode"] = str(code)
            params["ErrorMessage"] = error_message(code)
        return params

    def _post_callback(self, url: str, params: dict[str, str],
                       overrides: ConnectionOverrides | None = None) -> tuple[int | None, str | None]:
        """POST a signed status callback (to the URL without its fragment, which is also what is signed, as
        a fragment never leaves the client); the HTTP status (None when none came) and what failed: None,
        '4xx', '5xx', 'ct' (no connection) or 'rt' (no answer in time)."""
        overrides = overrides or ConnectionOverrides()
        url = url.split("#", 1)[0]
        body = urlencode(params).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": self._validator.compute_signature(url, params),
            "User-Agent": "TwilioProxy/1.1",
            "Connection": "close",
        }
        parts = urlsplit(url)
        if parts.username is not None:
            token = base64.b64encode(f"{parts.username}:{parts.password or ''}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        stage = "ct"
        try:
            if parts.hostname not in LOOPBACK_HOSTS:
                raise ValueError("a local fake sends callbacks to this machine only (127.0.0.1, ::1, localhost)")
            connection = connection_class(parts.hostname or "", parts.port,
                                          timeout=overrides.connect_timeout or self.CALLBACK_TIMEOUT)
            try:
                connection.connect()
                stage = "rt"
                if connection.sock is not None:
                    connection.sock.settimeout(overrides.read_timeout or self.CALLBACK_TIMEOUT)
                connection.request("POST", target, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            finally:
                connection.close()
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # Warn once per URL: a benchmark without a receiver would otherwise flood the log.
            first_failure = url not in self._unreachable_callback_urls
            self._unreachable_callback_urls.add(url)
            logger.log(logging.WARNING if first_failure else logging.DEBUG,
                       "fake Twilio: status callback to %s failed: %s", url, exc)
            return None, stage
        failure = "5xx" if response.status >= 500 else "4xx" if response.status >= 400 else None
        return response.status, failure


@dataclass(frozen=True)
class ConnectionOverrides:
    """What a callback URL's fragment asks of Twilio's connection to it
    (twilio.com/docs/usage/webhooks/webhooks-connection-overrides): `rc` retries (0-5) on the failures
    `rp` lists (4xx, 5xx, ct, rt or all; ct,rt when only `rc` is given), within `ct` ms to connect and `rt`
    ms to answer. A URL without a fragment is tried once."""

    retries: int = 0
    retry_on: frozenset[str] = frozenset()
    connect_timeout: float | None = None
    read_timeout: float | None = None

    @classmethod
    def of(cls, url: str) -> ConnectionOverrides:
        """The overrides in a URL's fragment."""
        fragment = urlsplit(url).fragment
        if not fragment:
            return cls()
        values = {key: items[-1] for key, items in parse_qs(fragment).items()}

        def number(key: str, low: int, high: int) -> int | None:
            value = values.get(key, "")
            return min(high, max(low, int(value))) if value.isdigit() else None

        policy = set((values.get("rp") or "ct,rt").split(","))
        if "all" in policy:
            policy = {"4xx", "5xx", "ct", "rt"}
        connect, read = number("ct", 100, 10000), number("rt", 100, 15000)
        return cls(retries=number("rc", 0, 5) or 0, retry_on=frozenset(policy),
                   connect_timeout=connect / 1000 if connect else None, read_timeout=read / 1000 if read else None)


def _parse_args(argv: Iterable[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bot.devtools.fake_twilio",
                                     description="Serve a local fake of Twilio's Messages API until Ctrl-C.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4010)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API answer")
    parser.add_argument("--jitter", type=float, default=0.0, help="up to this many more seconds, at random")
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument("--callback-url", default=None,
                        help="where status callbacks go for messages sent without StatusCallback")
    parser.add_argument("--callback-statuses", default="sent,delivered,read",
                        help="comma-separated statuses to report for each message")
    parser.add_argument("--callback-delay", type=float, default=0.0, help="seconds before each status callback")
    parser.add_argument("--out-of-order", action="store_true", help="shuffle each message's status callbacks")
    parser.add_argument("--skip-delivered-probability", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(None if argv is None else list(argv))


def main(argv: Iterable[str] | None = None) -> int:
    """Run the fake from the command line until Ctrl-C."""
    args = _parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    fake = FakeTwilio(
        args.account_sid, args.auth_token, host=args.host, port=args.port, latency=args.latency,
        jitter=args.jitter, callback_url=args.callback_url,
        callback_statuses=tuple(status.strip() for status in args.callback_statuses.split(",") if status.strip()),
        callback_delay=args.callback_delay, out_of_order=args.out_of_order,
        skip_delivered_probability=args.skip_delivered_probability, seed=args.seed,
    )
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        """Ask the main loop to shut the fake down."""
        stop_requested.set()

    # Installed explicitly: a process started in the background may inherit an ignored SIGINT, and
    # benchmark harnesses usually stop it with SIGTERM.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    with fake:
        print(f"fake Twilio listening on {fake.base_url} (account {fake.account_sid}); Ctrl-C to stop", flush=True)
        while not stop_requested.wait(0.5):
            pass
        print("stopping", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
