"""The audit log of staff actions: call `record` whenever staff export, review, broadcast or change staff.

Details name members by id only, never by a search string or free text that may hold a phone number or
a name: erasing a member then leaves nothing of her in the log (`bot.privacy.service.erase_audit_mentions`
blanks any detail that holds one of her identifiers all the same).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import AuditEvent


def record(actor: str, action: str, subject: str | None = None, **details: Any) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits with the action itself)."""
    event = AuditEvent(actor=actor, action=action, subject=subject, details=details or None)
    db.session.add(event)
    return event


def recent(limit: int = 50, offset: int = 0, action: str | None = None) -> list[AuditEvent]:
    """The latest audit events first, optionally of one action."""
    query = sa.select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query.limit(limit).offset(offset)))
