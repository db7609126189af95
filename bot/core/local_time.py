"""The union's local time (TIMEZONE, Africa/Nairobi by default) and daily quiet hours.

The database keeps naive UTC; these helpers turn it into local time and back, and say whether a local
clock time falls inside quiet hours (which may span midnight, e.g. 20:00-08:00).
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import current_app

UTC = ZoneInfo("UTC")


def zone() -> ZoneInfo:
    """The union's time zone."""
    return ZoneInfo(current_app.config.get("TIMEZONE") or "Africa/Nairobi")


def to_local(moment: datetime) -> datetime:
    """A naive UTC moment as an aware local one."""
    return moment.replace(tzinfo=UTC).astimezone(zone())


def to_utc(local: datetime) -> datetime:
    """A local moment (naive means local) as naive UTC."""
    aware = local if local.tzinfo is not None else local.replace(tzinfo=zone())
    return aware.astimezone(UTC).replace(tzinfo=None)


def start_of_day(moment: datetime) -> datetime:
    """The local midnight that began a naive UTC moment's local day, as naive UTC."""
    return to_utc(datetime.combine(to_local(moment).date(), time()))


def parse_hours(text: str | None) -> tuple[time, time] | None:
    """'20:00-08:00' as (start, end); None for an empty setting."""
    text = (text or "").strip()
    if not text:
        return None
    start, _, end = text.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def inside(clock: time, start: time, end: time) -> bool:
    """Whether a clock time is within [start, end), the span crossing midnight when start > end."""
    return (start <= clock or clock < end) if start > end else start <= clock < end
