"""Members per language: the "By language" line of STATS and the dashboard's languages page.

The running counts (`member_tallies`) do not keep the language, and counting a million members per STATS
takes half a second or more. So, as for the course numbers, a snapshot is counted by a periodic job (every two
minutes): members per county and language, and per county, kind of work and language (a few hundred rows),
folded per filter and kept in Redis as one hash field per filter for COURSE_STATS_MAX_AGE seconds. When the
snapshot is missing (first use, Redis down, COURSE_STATS_MAX_AGE=0) it is counted on the spot.
Groups under `SMALL_GROUP` members are shown as "<5", as the dashboard's breakdowns do.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from babel import UnknownLocaleError
from flask import current_app, g

from bot.core import i18n
from bot.core.extensions import db
from bot.core.redis_conn import connect
from bot.models import Member, MemberWork
from bot.stats.service import COUNTED, StatsFilter, pairs, ranked
from flows.base import N_, Line, Text, label_of, msg

log = logging.getLogger(__name__)

SNAPSHOT_KEY = "umoja:stats:languages"
ANY_COUNTY, ANY_WORK, NO_LANGUAGE = "*", "", ""


def count_rows() -> list[tuple[str, str, str, int]]:
    """Members counted in STATS per (county, kind of work, language): '' for every kind, '' for no language."""
    county = sa.func.coalesce(Member.county, "")
    language = sa.func.coalesce(Member.language, NO_LANGUAGE)
    rows = [(c, ANY_WORK, lang, int(n)) for c, lang, n in db.session.execute(
        sa.select(county, language, sa.func.count()).where(COUNTED).group_by(county, language))]
    rows += [(c, str(kind), lang, int(n)) for c, kind, lang, n in db.session.execute(
        sa.select(county, MemberWork.kind, language, sa.func.count())
        .join(MemberWork, MemberWork.member_id == Member.id).where(COUNTED)
        .group_by(county, MemberWork.kind, language))]
    return rows


def field_of(f: StatsFilter) -> str:
    """The snapshot field a filter reads."""
    return f"{f.county or ANY_COUNTY}|{f.work or ANY_WORK}"


def summarise(rows: Sequence[tuple[str, str, str, int]]) -> dict[str, dict[str, int]]:
    """The counted rows folded per filter: 'county|kind' → language → members."""
    fields: dict[str, dict[str, int]] = {}
    for county, kind, lang, n in rows:
        for field in (f"{county}|{kind}", f"{ANY_COUNTY}|{kind}"):
            counts = fields.setdefault(field, {})
            counts[lang] = counts.get(lang, 0) + n
    return fields


def max_age() -> int:
    """How long a snapshot is kept (the course numbers' setting: both are counted by the clock alike)."""
    return int(current_app.config.get("COURSE_STATS_MAX_AGE", 300))


def refresh_snapshot() -> dict[str, dict[str, int]]:
    """Count the snapshot and keep it in Redis (the periodic job): one field per filter, swapped in at once;
    a field 'counted' marks a snapshot that exists even when no member has a language yet."""
    fields = summarise(count_rows())
    if max_age() > 0:
        try:
            pipe = connect().pipeline()
            pipe.delete(SNAPSHOT_KEY + ":new")
            pipe.hset(SNAPSHOT_KEY + ":new", mapping={"counted": "1", **{k: json.dumps(v) for k, v in fields.items()}})
            pipe.expire(SNAPSHOT_KEY + ":new", max_age())
            pipe.rename(SNAPSHOT_KEY + ":new", SNAPSHOT_KEY)
            pipe.execute()
        except Exception:  # noqa: BLE001
            log.warning("could not keep the members per language in Redis", exc_info=True)
    return fields


def counts_by_language(f: StatsFilter) -> list[tuple[str | None, int]]:
    """Members per language for a filter, largest first (None: no language recorded); read once per request."""
    memo = g.setdefault("language_stats", {})
    field = field_of(f)
    if field not in memo:
        values: list[Any] = [None, None]
        if max_age() > 0:
            try:
                values = connect().hmget(SNAPSHOT_KEY, ["counted", field])
            except Exception:  # noqa: BLE001
                log.warning("could not read the members per language from Redis", exc_info=True)
        counts = json.loads(values[1]) if values[1] else {}
        if values[0] is None:
            counts = refresh_snapshot().get(field, {})
        memo[field] = ranked({lang or None: n for lang, n in counts.items()})
    return list(memo[field])


def language_name(code: str | None) -> Line:
    """A language as its speakers write it (Kiswahili, Français, Soomaali, العربية), or 'not given'."""
    if not code:
        return label_of({}, None)
    try:
        return Text(i18n.autonym(code))
    except (ValueError, UnknownLocaleError):  # a code Babel does not know, kept from an older LANGUAGES setting
        return Text(code)


def language_section(f: StatsFilter, now: datetime) -> Sequence[Line]:
    """Members per language, groups under five shown as '<5'."""
    rows = pairs([(language_name(code), count) for code, count in counts_by_language(f)])
    return (msg(N_("By language: %(list)s"), list=rows or msg(N_("none"))),)
