"""The operators' API: their organisation's queue and the cases in it.

Another organisation's case answers 404 for every verb, exactly like a case that does
not exist, so an operator cannot even learn that it exists. Every view and change is
written to the audit log in the same transaction as the change.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel

from app.audit import service as audit
from app.cases.models import Case, CasePriority, CaseStatus
from app.db import SessionDep
from app.operator_queue import service as queue_service
from app.routing.needs import Need
from app.users.deps import Operator
from app.users.models import User

router = APIRouter(prefix="/api/cases", tags=["cases"])


class CaseOut(BaseModel):
    id: uuid.UUID
    reference: str
    status: CaseStatus
    priority: CasePriority
    caller_country: str | None
    language: str | None
    need: Need | None
    child: bool
    created_at: datetime
    claimed_by_me: bool
    claimed: bool
    claim_expires_at: datetime | None
    opted_out: bool
    reporting_consent: bool  # counted in exports to partners

    @classmethod
    def of(cls, case: Case, user: User, now: datetime) -> "CaseOut":
        live = case.status is CaseStatus.CLAIMED and bool(
            case.claim_expires_at and case.claim_expires_at > now)
        return cls(id=case.id, reference=case.reference, status=case.status,
                   priority=case.priority, caller_country=case.caller_country,
                   language=case.language, need=case.need, child=case.child,
                   created_at=case.created_at, claimed=live,
                   claimed_by_me=live and case.claimed_by_id == user.id,
                   claim_expires_at=case.claim_expires_at if live else None,
                   opted_out=case.opted_out_at is not None,
                   reporting_consent=case.reporting_consent)


@contextmanager
def http_errors() -> Iterator[None]:
    """Service exceptions as HTTP answers: 404 for unknown or foreign, 409 for conflicts."""
    try:
        yield
    except queue_service.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case") from None
    except queue_service.Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None


def now_of(request: Request) -> datetime:
    return request.app.state.clock()


@router.get("")
def list_cases(request: Request, session: SessionDep, user: Operator) -> list[CaseOut]:
    """The organisation's open cases: child first, then urgent, then normal; oldest first."""
    now = now_of(request)
    cases = queue_service.queue(session, user.organisation_id or 0)
    audit.record(session, user, "queue.view", now, count=len(cases))
    return [CaseOut.of(c, user, now) for c in cases]


@router.post("/claim-next")
def claim_next(request: Request, session: SessionDep, user: Operator) -> CaseOut:
    now = now_of(request)
    case = queue_service.claim_next(session, request.app.state.settings, user, now)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the queue is empty")
    audit.record(session, user, "case.claim", now, case_id=case.id)
    return CaseOut.of(case, user, now)


@router.get("/{case_id}")
def get_case(case_id: uuid.UUID, request: Request, session: SessionDep,
             user: Operator) -> CaseOut:
    now = now_of(request)
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
    audit.record(session, user, "case.view", now, case_id=case.id)
    return CaseOut.of(case, user, now)


@router.post("/{case_id}/claim")
def claim(case_id: uuid.UUID, request: Request, session: SessionDep,
          user: Operator) -> CaseOut:
    now = now_of(request)
    with http_errors():
        case = queue_service.claim(session, request.app.state.settings, user, case_id, now)
    audit.record(session, user, "case.claim", now, case_id=case.id)
    return CaseOut.of(case, user, now)


@router.post("/{case_id}/release")
def release(case_id: uuid.UUID, request: Request, session: SessionDep,
            user: Operator) -> CaseOut:
    now = now_of(request)
    with http_errors():
        case = queue_service.release(session, user, case_id, now)
    audit.record(session, user, "case.release", now, case_id=case.id)
    return CaseOut.of(case, user, now)
