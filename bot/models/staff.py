"""Staff numbers: the officers, organisers and admins who use staff commands on WhatsApp."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.extensions import db
from bot.models.base import utcnow

ROLES = ("officer", "organiser", "admin")


class StaffMember(db.Model):
    """A staff phone number and its roles (an admin may do everything)."""

    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(80))
    roles: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def role_set(self) -> frozenset[str]:
        """The roles as a set; an admin holds every role."""
        roles = frozenset(r for r in self.roles.split(",") if r)
        return frozenset(ROLES) if "admin" in roles else roles
