"""``GET /api/audit``: the audit log, newest first, for admins only."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app import errors
from app.audit import service
from app.db import MAX_INTEGER_ID, SessionDep
from app.users.deps import Admin

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=errors.SIGNED_IN)


class AuditOut(BaseModel):
    id: int
    at: datetime
    username: str
    role: str
    organisation_id: int | None
    action: str
    case_id: uuid.UUID | None
    detail: dict[str, Any]


@router.get("")
def list_audit(session: SessionDep, admin: Admin, case_id: uuid.UUID | None = None,
               before_id: Annotated[int | None, Query(ge=1, le=MAX_INTEGER_ID)] = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[AuditOut]:
    return [AuditOut.model_validate(e, from_attributes=True)
            for e in service.entries(admin, session, case_id=case_id, limit=limit,
                                     before_id=before_id)]
