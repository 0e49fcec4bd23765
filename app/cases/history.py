"""A case's history as its operators see it: one row per thing that happened (created,
claimed, assigned, escalated, referred, called back, closed), never what anyone said.
Never commits."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases.models import CaseEvent


def record(session: Session, case_id: uuid.UUID, kind: str, at: datetime, *,
           user_id: int | None = None, organisation_id: int | None = None,
           **detail: Any) -> CaseEvent:
    """``detail``: ids, references, levels, slugs; nothing a caller or operator wrote."""
    row = CaseEvent(case_id=case_id, kind=kind, at=at, user_id=user_id,
                    organisation_id=organisation_id, detail=detail)
    session.add(row)
    return row


def of_case(session: Session, case_id: uuid.UUID) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                .order_by(CaseEvent.at, CaseEvent.id)))
