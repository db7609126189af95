"""A range of local dates chosen on a dashboard page (`from` and `to` in the query string), read by one
parser for the reports and the overview: a date that is not one, or a range that ends before it starts,
is refused with a message saying why, never silently replaced."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from bot.core.local_time import to_utc, zone

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Dates outside these years are typing mistakes (and far ones overflow when turned into moments).
FIRST_YEAR, LAST_YEAR = 2000, 2099


class BadRange(ValueError):
    """A `from` or `to` that could not be read; the message says which and why, for the page."""


@dataclass(frozen=True)
class DateRange:
    """Local dates in TIMEZONE, both included; no `start`: from the first day."""

    start: date | None
    end: date

    @classmethod
    def of(cls, source: Any, *, default_days: int | None = None) -> DateRange | None:
        """Read `from` and `to` (YYYY-MM-DD). A missing `to` is today; a missing `from` is `default_days`
        before the end, or the first day when there is no default; neither given and no default: None.

        Raises:
            BadRange: a date that is not one, or out of range, or a `from` after the `to`.
        """
        start, end = parse_date(source.get("from"), "from"), parse_date(source.get("to"), "to")
        if start is None and end is None and default_days is None:
            return None
        end = end or datetime.now(zone()).date()
        if start is None and default_days is not None:
            start = end - timedelta(days=default_days)
        if start is not None and start > end:
            raise BadRange(f'The "from" date ({start.isoformat()}) is after the "to" date ({end.isoformat()}): '
                           "choose a range that starts before it ends.")
        return cls(start, end)

    def bounds(self) -> tuple[datetime | None, datetime]:
        """The range as naive UTC moments [start, end); no start when it runs from the first day."""
        start = to_utc(datetime.combine(self.start, time())) if self.start else None
        return start, to_utc(datetime.combine(self.end + timedelta(days=1), time()))

    def within(self, column: Any) -> list[sa.ColumnElement[bool]]:
        """SQL conditions: the time in `column` falls in the range."""
        start, end = self.bounds()
        return [column < end] if start is None else [column >= start, column < end]

    def args(self) -> dict[str, str]:
        """The range for links and the audit log."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat()} if self.start else {"to": self.end.isoformat()}

    def label(self) -> str:
        """The range as a page title says it: '2026-11-01 to 2026-11-30', 'up to 2026-11-30'."""
        if self.start is None:
            return f"up to {self.end.isoformat()}"
        if self.start == self.end:
            return f"on {self.start.isoformat()}"
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def parse_date(text: str | None, name: str) -> date | None:
    """A YYYY-MM-DD date; None when the field is empty.

    Raises:
        BadRange: anything else written there.
    """
    written = (text or "").strip()
    if not written:
        return None
    try:
        if not ISO_DATE.fullmatch(written):
            raise ValueError(written)
        day = date.fromisoformat(written)
    except ValueError:
        raise BadRange(f'The "{name}" date "{written[:20]}" is not a date: write it as YYYY-MM-DD, '
                       "for example 2026-11-30.") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadRange(f'The "{name}" date {written} is outside the years {FIRST_YEAR}–{LAST_YEAR}.')
    return day
