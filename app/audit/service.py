"""Writing and reading the audit log. Never commits: an entry lands with its change, chained
to the entries before it when the transaction commits (``app.audit.chain``)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import chain
from app.audit.models import AuditEvent
from app.users.models import User


def record(session: Session, user: User, action: str, now: datetime, *,
           case_id: uuid.UUID | None = None, **detail: Any) -> AuditEvent:
    entry = AuditEvent(at=now, user_id=user.id, username=user.username, role=user.role.value,
                       organisation_id=user.organisation_id, action=action, case_id=case_id,
                       detail=chain.as_stored(detail))
    chain.queue(session, entry)
    return entry


def record_system(session: Session, action: str, now: datetime, *,
                  organisation_id: int | None = None, case_id: uuid.UUID | None = None,
                  **detail: Any) -> AuditEvent:
    """An entry for what the service did on its own (an escalation alert, say)."""
    entry = AuditEvent(at=now, user_id=None, username="system", role="system",
                       organisation_id=organisation_id, action=action, case_id=case_id,
                       detail=chain.as_stored(detail))
    chain.queue(session, entry)
    return entry


def entries(reader: User, session: Session, *, case_id: uuid.UUID | None = None,
            limit: int = 200, before_id: int | None = None) -> list[AuditEvent]:
    """Newest first. An organisation's admin reads what its own people did; the hotline's
    admins (no organisation) read everything."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if reader.organisation_id is not None:
        query = query.where(AuditEvent.organisation_id == reader.organisation_id)
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(session.scalars(query))
