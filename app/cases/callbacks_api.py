"""The operators' API for call-backs: the requests with their numbers masked, and a masked
call through Twilio. No answer ever holds a caller's number. 404 outside the organisation."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.cases import callbacks
from app.cases.models import CallbackOutcome
from app.db import MAX_INTEGER_ID, SessionDep
from app.operator_queue import service as queue_service
from app.operator_queue.api import http_errors, now_of
from app.telephony import callback as masked_call
from app.users.deps import Operator

router = APIRouter(prefix="/api/cases", tags=["cases"])
CallbackId = Annotated[int, Path(ge=1, le=MAX_INTEGER_ID)]


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


@router.get("/{case_id}/callbacks")
def list_callbacks(case_id: uuid.UUID, request: Request, session: SessionDep,
                   user: Operator) -> list[CallbackOut]:
    """The case's call-back requests, numbers masked (audited)."""
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
    views = callbacks.view(session, request.app.state.settings, user, case, now_of(request))
    return [CallbackOut(**vars(v)) for v in views]


@router.post("/{case_id}/callbacks/{callback_id}/call", status_code=status.HTTP_202_ACCEPTED,
             response_model=CallOut)
def call_back(case_id: uuid.UUID, callback_id: CallbackId, request: Request,
              session: SessionDep, user: Operator) -> CallOut | JSONResponse:
    """Twilio rings your own phone (from your duty profile), then the caller; both see only
    the hotline's number. Needs the claim; 409 without a phone on your duty profile."""
    now = now_of(request)
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
        try:
            attempt = masked_call.place(session, request.app.state.settings,
                                        request.app.state.sms_sender, user, case, callback_id,
                                        now)
        except masked_call.NotConfigured as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    if attempt.outcome is CallbackOutcome.FAILED:
        # Returned, not raised: the attempt and its audit entry are kept.
        return JSONResponse({"detail": "Twilio refused the call; try again in a moment"},
                            status_code=status.HTTP_502_BAD_GATEWAY)
    return CallOut(attempt_id=attempt.id, callback_id=attempt.callback_id,
                   outcome=attempt.outcome)


@router.post("/{case_id}/callbacks/{callback_id}/done")
def callback_done(case_id: uuid.UUID, callback_id: CallbackId, request: Request,
                  session: SessionDep, user: Operator) -> CallbackOut:
    """Mark a call-back done without calling (reached another way): the number is erased."""
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
        view = callbacks.complete(session, request.app.state.settings, user, case,
                                  callback_id, now_of(request))
    return CallbackOut(**vars(view))
