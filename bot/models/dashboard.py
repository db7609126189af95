"""Dashboard users (staff who sign in to /admin) and the audit log of staff actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.extensions import db
from bot.models.base import utcnow


class DashboardUser(db.Model):
    """A staff member who signs in to the web dashboard with an email and a (hashed) password."""

    __tablename__ = "dashboard_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(80))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Part of every session's id: raising it (sign-out, a new password) ends every session of the account.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    # Flask-Login's user interface.
    @property
    def is_active(self) -> bool:
        """Disabled users cannot sign in."""
        return self.active

    @property
    def is_authenticated(self) -> bool:
        """A loaded user is signed in."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Never anonymous."""
        return False

    def get_id(self) -> str:
        """The id kept in the session: the account and its session version, '<id>:<version>'."""
        return f"{self.id}:{self.session_version}"


class AuditEvent(db.Model):
    """One staff action: who did what to what, and when (exports, reviews, broadcasts, staff changes)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    subject: Mapped[str | None] = mapped_column(sa.String(254))
    details: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
