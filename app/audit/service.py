"""Writing and reading the audit log. Never commits: an entry lands with its change, chained
to the entries before it when the transaction commits (``app.audit.chain``)."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import chain
from app.audit.models import AuditEvent


class Actor(Protocol):
    """Who did it: what the log keeps of a user. Audit sits below the users domain (which
    records its own actions here), so it names the fields it reads, not ``User``."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def role(self) -> StrEnum: ...
    @property
    def organisation_id(self) -> int | None: ...


def record(session: Session, user: Actor, action: str, now: datetime, *,
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


def entries(reader: Actor, session: Session, *, case_id: uuid.UUID | None = None,
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
