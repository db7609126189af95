"""The templates page: every message the union may send outside WhatsApp's 24-hour window, and for each
configured language the Content SID WHATSAPP_TEMPLATES gives it, TEMPLATE_FALLBACK's, or none (members of
that language get nothing outside the window). Content SIDs are not personal: every staff role may read them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app, render_template
from flask.typing import ResponseReturnValue

from bot.broadcasts.service import language_name
from bot.core import i18n
from bot.courses import reminders
from bot.dashboard.nav import role_required
from bot.dashboard.views import bp
from bot.models.staff import ROLES as ALL_ROLES
from bot.support import tickets

# SID: their language's own template; FALLBACK: TEMPLATE_FALLBACK's; NONE: no template, they get nothing.
SID, FALLBACK, NONE = "sid", "fallback", "none"


@dataclass(frozen=True)
class TemplateUse:
    """A message sent as a template outside the window: its name in WHATSAPP_TEMPLATES, when, its variables."""

    name: str
    sent_when: str
    variables: str


def template_uses() -> tuple[TemplateUse, ...]:
    """Every template name a message may be sent as (the README's table of message templates)."""
    return (
        TemplateUse(tickets.TEMPLATE, "an organiser answers a ticket", "{{1}} ticket number, {{2}} the answer"),
        TemplateUse(tickets.CLOSED_TEMPLATE, "an organiser closes a ticket", "{{1}} ticket number"),
        TemplateUse(reminders.TEMPLATE, "a course reminder", "{{1}} course, {{2}} link"),
        TemplateUse("voucher", "a certificate is approved and a code is free (or a code kept back can go)",
                    "{{1}} code, {{2}} expiry or -"),
        TemplateUse("voucher_waiting", "approved, but the voucher pool is empty", "none"),
        TemplateUse("certificate_update", "a certificate file is received or refused, or a report is rejected",
                    "{{1}} reason"),
        TemplateUse("officer_alert", "officers must act (e.g. the voucher pool is empty)", "none"),
        TemplateUse(current_app.config.get("BROADCAST_TEMPLATE") or "broadcast",
                    "a broadcast to a member outside the window (BROADCAST_TEMPLATE)",
                    "{{1}} the text in their language (English when the broadcast has none in it)"),
    )


@dataclass(frozen=True)
class Cell:
    """What members of one language get for one template outside the window."""

    code: str
    language: str
    state: str  # SID, FALLBACK or NONE
    sid: str | None = None


@dataclass(frozen=True)
class TemplateRow:
    """One template and what each configured language gets."""

    use: TemplateUse
    cells: tuple[Cell, ...]

    @property
    def missing(self) -> int:
        """Languages whose members get nothing outside the window."""
        return sum(cell.state == NONE for cell in self.cells)


def configured() -> Mapping[str, Mapping[str, str]]:
    """WHATSAPP_TEMPLATES as set (name → language code → Content SID)."""
    return current_app.config.get("WHATSAPP_TEMPLATES") or {}


def cell_for(per_language: Mapping[str, str], code: str, fallback: str | None) -> Cell:
    """What a language gets: its own template, the fallback's, or none (as `outbound.template_choice` picks)."""
    if per_language.get(code):
        return Cell(code, language_name(code), SID, per_language[code])
    if fallback and per_language.get(fallback):
        return Cell(code, language_name(code), FALLBACK, per_language[fallback])
    return Cell(code, language_name(code), NONE)


def template_rows() -> list[TemplateRow]:
    """Every template use with a cell per language of LANGUAGES, in their order."""
    templates = configured()
    fallback = current_app.config.get("TEMPLATE_FALLBACK") or None
    return [TemplateRow(use, tuple(cell_for(templates.get(use.name) or {}, code, fallback) for code in i18n.LANGUAGES))
            for use in template_uses()]


def unused_entries() -> list[tuple[str, str]]:
    """Entries of WHATSAPP_TEMPLATES no message is sent as, and languages set that are not in LANGUAGES:
    (name, what is wrong)."""
    known = {use.name for use in template_uses()}
    found = []
    for name, per_language in sorted(configured().items()):
        if name not in known:
            found.append((name, "no message is sent as this template"))
            continue
        others = sorted(code for code in per_language or {} if code not in i18n.LANGUAGES)
        if others:
            found.append((name, f"languages not in LANGUAGES: {', '.join(others)}"))
    return found


@bp.get("/templates")
@role_required(*ALL_ROLES)
def message_templates() -> ResponseReturnValue:
    """The templates per message and language, the missing ones highlighted."""
    fallback = current_app.config.get("TEMPLATE_FALLBACK") or None
    return render_template("admin/templates.html", rows=template_rows(), unused=unused_entries(),
                           fallback=language_name(fallback) if fallback else None, fallback_code=fallback)
