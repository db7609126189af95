"""Staff numbers and their roles."""

from __future__ import annotations

import sqlalchemy as sa

from bot.audit import service as audit
from bot.core.extensions import db
from bot.models.staff import ROLES, StaffMember


def roles_from(roles: str | None) -> frozenset[str]:
    """The role set of a stored roles column (empty for None: not a staff number)."""
    if roles is None:
        return frozenset()
    held = frozenset(role for role in roles.split(",") if role)
    return frozenset(ROLES) if "admin" in held else held


def add_staff(phone: str, roles: list[str], name: str | None = None, *, actor: str = "flask staff") -> StaffMember:
    """Add a staff number or give it more roles (recorded in the audit log as done by `actor`)."""
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
    audit.record(actor, "staff.add", phone, roles=sorted(roles), roles_after=staff.roles)
    db.session.commit()
    return staff


def remove_staff(phone: str, roles: list[str] | None = None, *, actor: str = "flask staff") -> bool:
    """Remove some roles, or the whole staff number when no roles are given; False if unknown (recorded in the
    audit log as done by `actor`)."""
    staff = db.session.scalars(sa.select(StaffMember).where(StaffMember.phone == phone)).first()
    if staff is None:
        return False
    remaining = set(filter(None, staff.roles.split(","))) - set(roles or ROLES)
    if remaining:
        staff.roles = ",".join(sorted(remaining))
    else:
        db.session.delete(staff)
    audit.record(actor, "staff.remove", phone, roles=sorted(roles or ROLES), roles_after=",".join(sorted(remaining)))
    db.session.commit()
    return True


def list_staff() -> list[StaffMember]:
    """Every staff number."""
    return list(db.session.scalars(sa.select(StaffMember).order_by(StaffMember.phone)))
