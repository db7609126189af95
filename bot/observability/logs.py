"""Structured logs: one JSON object a line in production, readable text on a laptop.

Every line carries, where known, the MessageSid, the member id and the RQ job id of the work it belongs to:
the webhooks bind the SID (and the inbound path the member id) at the start of a request, the worker binds
the job id around each job. They live in a context variable, so threads and requests never mix them up.

Privacy by default: log member ids and SIDs, never a phone number, a name or the text of a message. As a
safety net, both formats replace anything that looks like a phone number (PostgreSQL's own error messages
quote the values they refuse, e.g. `Key (phone)=(+2547…) already exists`).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

HANDLER_NAME = "umoja"
FORMATS = ("json", "text")
EMPTY: Mapping[str, Any] = {}
# The identifiers a line may carry, in the order the text format shows them.
CONTEXT_FIELDS = {"message_sid": "sid", "member_id": "member", "job_id": "job"}

# A phone number in any of the forms it travels in: +254712345678, 254712345678 (WaId), 0712345678,
# whatsapp%3A%2B254712345678 (in a query string); not a run of digits inside an id (hex event ids, SIDs).
PHONE_LIKE = re.compile(r"%2[bB]\d{9,15}|(?<![0-9A-Za-z])\+?\d{9,15}(?![0-9A-Za-z])")
FILTERED = "[Filtered]"

_context: ContextVar[Mapping[str, Any]] = ContextVar("umoja_log_context", default=EMPTY)


def bind(**values: Any) -> None:
    """Add identifiers (message_sid, member_id, job_id) to every line logged from here on in this context."""
    _context.set({**_context.get(), **{key: value for key, value in values.items() if value is not None}})


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    """Identifiers for the lines logged inside the block; what is bound inside is forgotten after it."""
    token = _context.set({**_context.get(), **{key: value for key, value in values.items() if value is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def clear() -> None:
    """Forget every identifier (a thread serves many requests one after the other)."""
    _context.set(EMPTY)


def without_phones(text: str) -> str:
    """`text` with every phone-number-like run of digits replaced."""
    return PHONE_LIKE.sub(FILTERED, text)


def current() -> Mapping[str, Any]:
    """The identifiers bound now."""
    return _context.get()


class ContextFilter(logging.Filter):
    """Puts the bound identifiers on each record (a field given with `extra=` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonLines(JsonFormatter):
    """time (UTC, ISO 8601), level, logger, message, then the identifiers and any `extra=` fields."""

    def __init__(self) -> None:
        super().__init__("{asctime}{levelname}{name}{message}", style="{",
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: without_phones(value) if isinstance(value, str) else value for key, value in log_data.items()}


class ReadableText(logging.Formatter):
    """`12:00:01 INFO bot.whatsapp.webhook: message [sid=SM… member=12]` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{short}={getattr(record, key)}" for key, short in CONTEXT_FIELDS.items()
                           if getattr(record, key, None) is not None)
        if context:
            first, newline, rest = line.partition("\n")  # after the message, before a traceback
            line = f"{first} [{context}]{newline}{rest}"
        return without_phones(line)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a line is logged (it may be replaced after start-up)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def make_handler(log_format: str, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing lines in `log_format` (json or text) to `stream` (default: standard error)."""
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    handler: logging.Handler = logging.StreamHandler(stream) if stream is not None else StderrHandler()
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonLines() if log_format == "json" else ReadableText())
    handler.addFilter(ContextFilter())
    return handler


def configure(log_format: str, level: str | int = "INFO") -> bool:
    """Send the root logger's lines to standard error in `log_format`, unless something else (a test
    runner, a host's logging config) already set up the root logger; returns whether it did. Called again
    (another app in the same process), it replaces its own handler."""
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if handler.get_name() == HANDLER_NAME]
    if len(ours) < len(root.handlers):
        return False
    handler = make_handler(log_format)
    for old in ours:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    return True
