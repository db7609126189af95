"""The dashboard's navigation and role checks: each page says which roles may open it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

from bot.dashboard.users import allowed
from bot.models.staff import ROLES as ALL_ROLES


@dataclass(frozen=True)
class NavEntry:
    """One page in the navigation bar."""

    endpoint: str
    label: str
    roles: tuple[str, ...]


# Every page of the navigation bar, in this order (the routes are in the dashboard's modules).
NAV: tuple[NavEntry, ...] = (
    NavEntry("admin.overview", "Overview", ALL_ROLES),
    NavEntry("admin.members", "Members", ALL_ROLES),
    NavEntry("admin.accounts", "Accounts", ("admin",)),
    NavEntry("admin.audit_log", "Audit log", ("admin",)),
    NavEntry("admin.jobs", "Background jobs", ("admin",)),
    NavEntry("admin.broadcasts_list", "Broadcasts", ("organiser",)),
    NavEntry("admin.reports", "Reports", ALL_ROLES),
    NavEntry("admin.languages", "Languages", ("officer",)),
    NavEntry("admin.message_templates", "Templates", ALL_ROLES),
    NavEntry("admin.certificates_queue", "Certificates", ("officer",)),
    NavEntry("admin.vouchers", "Vouchers", ("officer",)),
    NavEntry("admin.tickets_page", "Tickets", ("organiser",)),
    NavEntry("admin.saved_answers_page", "Saved answers", ("organiser",)),
)


def nav_for(role: str) -> list[NavEntry]:
    """The pages a role may open."""
    return [entry for entry in NAV if allowed(role, entry.roles)]


def role_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Signed-in users of these roles (and admins) only: others get 403, anonymous users the sign-in page."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not allowed(current_user.role, roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorate
