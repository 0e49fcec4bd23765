"""The operators' API for the case tools: assigning a case to a colleague, answering a
referral, and the sender's read-only view of the referrals it made. The services record
the audit; 404 outside the organisation, as everywhere."""

import uuid

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from app import errors
from app.cases import assign as case_assign
from app.cases import claims, referrals
from app.cases.tools_schemas import SentReferralOut
from app.deps import NowDep, SessionDep, SettingsDep
from app.operator_queue.api import CaseOut, http_errors
from app.users.deps import Operator

router = APIRouter(tags=["cases"], responses=errors.SIGNED_IN)


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


@router.post("/api/cases/{case_id:uuid}/assign", responses=errors.problems(400, 404, 409))
def assign(case_id: uuid.UUID, body: AssignIn, session: SessionDep, settings: SettingsDep,
           now: NowDep, user: Operator) -> AssignedOut:
    """Hand the case you hold to a colleague, or give an unclaimed case to one: they hold
    it as if they had claimed it. 422 if they are not an active operator here."""
    with http_errors():
        case = claims.get_case(session, user, case_id)
        try:
            done = case_assign.assign(session, settings, user, case,
                                      body.to, body.note, now)
        except case_assign.NotAssignable as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return AssignedOut(**CaseOut.of(case, user, now).model_dump(), assigned_to=done.to.username,
                       note_removed=done.note.summary() if done.note else None)


@router.post("/api/cases/{case_id:uuid}/referral/accept", responses=errors.problems(404, 409))
def accept_referral(case_id: uuid.UUID, session: SessionDep, now: NowDep,
                    user: Operator) -> AnsweredOut:
    """Take the referred case on: it stays in this organisation's queue."""
    with http_errors():
        case = claims.get_case(session, user, case_id)
        referral = referrals.accept(session, user, case, now)
    return AnsweredOut(**CaseOut.of(case, user, now).model_dump(),
                       referral_status=referral.status.value)


@router.post("/api/cases/{case_id:uuid}/referral/decline",
             responses=errors.problems(400, 404, 409))
def decline_referral(case_id: uuid.UUID, body: DeclineIn, session: SessionDep,
                     settings: SettingsDep, now: NowDep, user: Operator) -> AnsweredOut:
    """Send the case back to the referring organisation's queue, with the reason."""
    with http_errors():
        case = claims.get_case(session, user, case_id)
        referral, cleaned = referrals.decline(session, settings, user,
                                              case, body.reason, now)
    return AnsweredOut(**CaseOut.of(case, user, now).model_dump(),
                       referral_status=referral.status.value,
                       reason_removed=cleaned.summary())


@router.get("/api/referrals/sent", tags=["referrals"])
def sent_referrals(session: SessionDep, now: NowDep,
                   user: Operator) -> list[SentReferralOut]:
    """The cases this organisation referred and how each stands now (pending, accepted,
    declined, closed): nothing of the case beyond its reference."""
    return [SentReferralOut(**vars(v)) for v in referrals.sent(session, user, now)]
