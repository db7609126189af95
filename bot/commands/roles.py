"""The staff roles in words, for replies in the staff member's language."""

from __future__ import annotations

from collections.abc import Iterable

from flows.base import N_, Line, label_of

ROLE_NAMES = {"officer": N_("officer"), "organiser": N_("organiser"), "admin": N_("admin")}


def role_names(roles: Iterable[str]) -> list[Line]:
    """The roles in words, in a stable order (rendered as a comma-separated list)."""
    return [label_of(ROLE_NAMES, role) for role in sorted(roles)]
