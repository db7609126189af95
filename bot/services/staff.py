"""Staff numbers and their roles."""

from __future__ import annotations

import sqlalchemy as sa

from bot.extensions import db
from bot.models.staff import ROLES, StaffMember


def roles_of(phone: str) -> frozenset[str]:
    """The roles of a phone number (empty for members)."""
    return roles_from(db.session.scalar(sa.select(StaffMember.roles).where(StaffMember.phone == phone)))


def roles_from(roles: str | None) -> frozenset[str]:
    """The role set of a stored roles column (empty for None: not a staff number)."""
    if roles is None:
        return frozenset()
    held = frozenset(role for role in roles.split(",") if role)
    return frozenset(ROLES) if "admin" in held else held


def add_staff(phone: str, roles: list[str], name: str | None = None) -> StaffMember:
    """Add a staff number or give it more roles."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(sorted(unknown))}; roles are {', '.join(ROLES)}")
    staff = db.session.scalars(sa.select(StaffMember).where(StaffMember.phone == phone)).first()
    if staff is None:
        staff = StaffMember(phone=phone, roles="")
        db.session.add(staff)
    staff.roles = ",".join(sorted(set(filter(None, staff.roles.split(","))) | set(roles)))
    if name:
        staff.name = name
    db.session.commit()
    return staff


def remove_staff(phone: str, roles: list[str] | None = None) -> bool:
    """Remove some roles, or the whole staff number when no roles are given; False if unknown."""
    staff = db.session.scalars(sa.select(StaffMember).where(StaffMember.phone == phone)).first()
    if staff is None:
        return False
    remaining = set(filter(None, staff.roles.split(","))) - set(roles or ROLES)
    if remaining:
        staff.roles = ",".join(sorted(remaining))
    else:
        db.session.delete(staff)
    db.session.commit()
    return True


def list_staff() -> list[StaffMember]:
    """Every staff number."""
    return list(db.session.scalars(sa.select(StaffMember).order_by(StaffMember.phone)))
