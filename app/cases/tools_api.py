"""The operators' API for the case tools: assigning a case to a colleague, answering a
referral, and the sender's read-only view of the referrals it made. The services record
the audit; 404 outside the organisation, as everywhere."""

import uuid
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from app.cases import assign as case_assign
from app.cases import referrals
from app.cases.tools_schemas import SentReferralOut
from app.db import SessionDep
from app.operator_queue import service as queue_service
from app.operator_queue.api import CaseOut, http_errors, now_of
from app.users.deps import Operator

router = APIRouter(tags=["cases"])


class AssignIn(BaseModel):
    to: str = Field(min_length=1, max_length=64, description="the colleague's username")
    note: str | None = Field(default=None, max_length=5000,
                             description="for the colleague; scrubbed, stored as a note")


class AssignedOut(CaseOut):
    assigned_to: str
    note_removed: dict[str, int] | None  # what scrubbing took out of the note


class DeclineIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class AnsweredOut(CaseOut):
    referral_status: str
    reason_removed: dict[str, int] | None = None


@router.post("/api/cases/{case_id}/assign")
def assign(case_id: uuid.UUID, body: AssignIn, request: Request, session: SessionDep,
           user: Operator) -> AssignedOut:
    """Hand the case you hold to a colleague, or give an unclaimed case to one: they hold
    it as if they had claimed it. 422 if they are not an active operator here."""
    now = now_of(request)
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
        try:
            done = case_assign.assign(session, request.app.state.settings, user, case,
                                      body.to, body.note, now)
        except case_assign.NotAssignable as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return AssignedOut(**CaseOut.of(case, user, now).model_dump(), assigned_to=done.to.username,
                       note_removed=done.note.summary() if done.note else None)


@router.post("/api/cases/{case_id}/referral/accept")
def accept_referral(case_id: uuid.UUID, request: Request, session: SessionDep,
                    user: Operator) -> AnsweredOut:
    """Take the referred case on: it stays in this organisation's queue."""
    now = now_of(request)
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
        referral = referrals.accept(session, user, case, now)
    return AnsweredOut(**CaseOut.of(case, user, now).model_dump(),
                       referral_status=referral.status.value)


@router.post("/api/cases/{case_id}/referral/decline")
def decline_referral(case_id: uuid.UUID, body: DeclineIn, request: Request,
                     session: SessionDep, user: Operator) -> AnsweredOut:
    """Send the case back to the referring organisation's queue, with the reason."""
    now = now_of(request)
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
        referral, cleaned = referrals.decline(session, request.app.state.settings, user,
                                              case, body.reason, now)
    return AnsweredOut(**CaseOut.of(case, user, now).model_dump(),
                       referral_status=referral.status.value,
                       reason_removed=cleaned.summary())


@router.get("/api/referrals/sent", tags=["referrals"])
def sent_referrals(request: Request, session: SessionDep,
                   user: Operator) -> list[SentReferralOut]:
    """The cases this organisation referred and how each stands now (pending, accepted,
    declined, closed): nothing of the case beyond its reference."""
    now: datetime = now_of(request)
    return [SentReferralOut(**vars(v)) for v in referrals.sent(session, user, now)]
