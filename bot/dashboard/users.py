"""Dashboard users: create them, check their passwords."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from bot.audit import service as audit
from bot.core.extensions import db
from bot.models import DashboardUser, utcnow
from bot.models.staff import ROLES

MIN_PASSWORD_LENGTH = 10


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively."""
    return email.strip().lower()


def create_user(email: str, password: str, role: str, *, name: str | None = None, actor: str = "cli") -> DashboardUser:
    """Add a dashboard user with a hashed password, and record it in the audit log."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    email = normalize_email(email)
    if "@" not in email:
        raise ValueError("not an email address")
    if db.session.scalar(sa.select(DashboardUser.id).where(DashboardUser.email == email)) is not None:
        raise ValueError(f"{email} already has a dashboard account")
    user = DashboardUser(email=email, name=name, role=role, active=True, password_hash=generate_password_hash(password))
    db.session.add(user)
    audit.record(actor, "staff.create", email, role=role)
    db.session.commit()
    return user


def authenticate(email: str, password: str, *, address: str) -> DashboardUser | None:
    """The active user with this email and password, or None (the same work either way). A failed sign-in
    to an existing account goes to the audit log with the client's address (the caller commits)."""
    user = db.session.scalars(sa.select(DashboardUser).where(DashboardUser.email == normalize_email(email))).first()
    if user is None:
        check_password_hash(DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        audit.record(f"sign-in from {address}", "staff.sign_in_failed", user.email)
        return None
    user.last_login_at = utcnow()
    return user


DUMMY_HASH = generate_password_hash("not a real password")


def user_of_session(session_id: str) -> DashboardUser | None:
    """The active user a session's id ('<id>:<session version>', `DashboardUser.get_id`) belongs to, or None
    when the session was ended since (sign-out, a new password) or the account is disabled."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(DashboardUser, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def end_sessions(user: DashboardUser) -> None:
    """End every signed-in session of this account, on every device (the caller commits)."""
    user.session_version += 1


def set_password(email: str, password: str, *, actor: str = "cli") -> DashboardUser:
    """Give an account a new password and end its sessions, recorded in the audit log."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    user = db.session.scalars(sa.select(DashboardUser).where(DashboardUser.email == normalize_email(email))).first()
    if user is None:
        raise ValueError(f"{normalize_email(email)} has no dashboard account")
    user.password_hash = generate_password_hash(password)
    end_sessions(user)
    audit.record(actor, "staff.password", user.email)
    db.session.commit()
    return user


def allowed(role: str, roles: frozenset[str] | tuple[str, ...]) -> bool:
    """Whether a user of `role` may open something meant for `roles` (admins may open everything)."""
    return role == "admin" or role in roles


def list_users() -> list[DashboardUser]:
    """Every dashboard account, by email."""
    return list(db.session.scalars(sa.select(DashboardUser).order_by(DashboardUser.email)))


def set_active(user_id: int, active: bool, *, actor: str) -> DashboardUser | None:
    """Disable or enable an account (signed-in sessions of a disabled account end), recorded in the audit log."""
    user = db.session.get(DashboardUser, user_id)
    if user is None:
        return None
    if user.active != active:
        user.active = active
        audit.record(actor, "staff.enable" if active else "staff.disable", user.email)
    db.session.commit()
    return user
