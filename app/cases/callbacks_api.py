"""The operators' API for call-backs: the requests with their numbers masked, and a masked
call through Twilio. No answer ever holds a caller's number. 404 outside the organisation."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app import errors
from app.cases import callbacks, claims
from app.cases.models import CallbackOutcome
from app.db import MAX_INTEGER_ID
from app.deps import NowDep, SessionDep, SettingsDep
from app.operator_queue.api import http_errors
from app.twilio.rest import Outbound
from app.users.deps import Operator

router = APIRouter(prefix="/api/cases", tags=["cases"], responses=errors.SIGNED_IN)
CallbackId = Annotated[int, Path(ge=1, le=MAX_INTEGER_ID)]


def outbound_of(request: Request) -> Outbound | None:
    """Twilio's sender for the masked call (None when Twilio is not configured); here, not
    in ``app.deps``, since only call-backs place calls from a route."""
    outbound: Outbound | None = request.app.state.sms_sender
    return outbound


OutboundDep = Annotated[Outbound | None, Depends(outbound_of)]


class CallbackOut(BaseModel):
    id: int
    requested_at: datetime
    language: str | None = Field(description="the caller's language, asked in it")
    number_masked: str | None = Field(description="country code and last two digits, e.g. "
                                      "+7 ••• ••• •• 14; null once done or erased")
    attempts: int = Field(description="tries at the caller (not reached, not safe, talked)")
    last_attempt_at: datetime | None
    last_outcome: str | None
    pending: bool
    completed_at: datetime | None


class CallOut(BaseModel):
    attempt_id: int
    callback_id: int
    outcome: CallbackOutcome


@router.get("/{case_id:uuid}/callbacks", responses=errors.problems(404))
def list_callbacks(case_id: uuid.UUID, session: SessionDep, settings: SettingsDep,
                   now: NowDep, user: Operator) -> list[CallbackOut]:
    """The case's call-back requests, numbers masked (audited)."""
    with http_errors():
        case = claims.get_case(session, user, case_id)
    views = callbacks.view(session, settings, user, case, now)
    return [CallbackOut(**vars(v)) for v in views]


@router.post("/{case_id:uuid}/callbacks/{callback_id}/call",
             status_code=status.HTTP_202_ACCEPTED, response_model=CallOut,
             responses={**errors.problems(404, 409, 502), 503: errors.problem(
                 "No Twilio account or hotline number to call from, or the database is busy")})
def call_back(case_id: uuid.UUID, callback_id: CallbackId, session: SessionDep,
              settings: SettingsDep, outbound: OutboundDep, now: NowDep,
              user: Operator) -> CallOut | JSONResponse:
    """Twilio rings your own phone (from your duty profile), then the caller; both see only
    the hotline's number. Needs the claim; 409 without a phone on your duty profile."""
    with http_errors():
        case = claims.get_case(session, user, case_id)
        try:
            attempt = callbacks.place(session, settings, outbound, user, case,
                                        callback_id, now)
        except callbacks.NotConfigured as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    if attempt.outcome is CallbackOutcome.FAILED:
        # Returned, not raised: the attempt and its audit entry are kept.
        return JSONResponse({"detail": "Twilio refused the call; try again in a moment"},
                            status_code=status.HTTP_502_BAD_GATEWAY)
    return CallOut(attempt_id=attempt.id, callback_id=attempt.callback_id,
                   outcome=attempt.outcome)


@router.post("/{case_id:uuid}/callbacks/{callback_id}/done",
             responses=errors.problems(404, 409))
def callback_done(case_id: uuid.UUID, callback_id: CallbackId, session: SessionDep,
                  settings: SettingsDep, now: NowDep, user: Operator) -> CallbackOut:
    """Mark a call-back done without calling (reached another way): the number is erased."""
    with http_errors():
        case = claims.get_case(session, user, case_id)
        view = callbacks.complete(session, settings, user, case, callback_id, now)
    return CallbackOut(**vars(view))
