"""The languages page: how many members read each configured language, and how complete its catalogs are in
each domain (what `flask translate status` prints), for officers and admins."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask.typing import ResponseReturnValue

from bot.core import i18n
from bot.core.i18n_check import Coverage, cached_coverage
from bot.dashboard.nav import role_required
from bot.dashboard.views import bp
from bot.stats import languages as language_stats
from bot.stats.service import StatsFilter, group_count


@dataclass(frozen=True)
class LanguageRow:
    """One language's line of the page."""

    code: str
    name: str
    rtl: bool
    members: str
    cells: tuple[Coverage | None, ...]  # per domain; None for English, the language the messages are written in


def language_rows() -> list[LanguageRow]:
    """Every configured language with its members (groups under five as '<5') and its catalogs' completeness;
    members whose language is no longer configured come last, by code."""
    members = dict(language_stats.counts_by_language(StatsFilter()))
    by_cell = {(row.lang, row.domain): row for row in cached_coverage()}
    rows = [LanguageRow(code, i18n.autonym(code), i18n.is_rtl(code), group_count(members.pop(code, 0)),
                        tuple(by_cell.get((code, domain)) for domain in i18n.DOMAINS))
            for code in i18n.LANGUAGES]
    for code, count in sorted(members.items(), key=lambda item: item[0] or ""):
        rows.append(LanguageRow(code or "", code or "not given", False, group_count(count), ()))
    return rows


@bp.get("/languages")
@role_required("officer")
def languages() -> ResponseReturnValue:
    """Members per language and how complete each language's messages are."""
    return render_template("admin/languages.html", rows=language_rows(), domains=tuple(i18n.DOMAINS),
                           member_domains=i18n.MEMBER_DOMAINS,
                           full=[i18n.autonym(code) for code in i18n.FULL_LANGUAGES if code in i18n.LANGUAGES])
