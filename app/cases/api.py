"""The operators' API for working a claimed case: notes, screening, referral, closing and
the SMS thread. Same rules as the queue: 404 outside the organisation; every read and
change is audited by the service that does it (``app.operator_queue.work``)."""

import uuid
from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from app import errors
from app.cases import claims
from app.cases.models import CloseStatus
from app.cases.screening import ReferralType, Screening
from app.deps import NowDep, SessionDep, SettingsDep
from app.messaging import conversations
from app.messaging.models import Author, Direction
from app.operator_queue import work
from app.operator_queue.api import CaseOut, http_errors
from app.users.deps import Operator

router = APIRouter(prefix="/api/cases", tags=["cases"], responses=errors.SIGNED_IN)
# Changes need the claim (409 without it, or once the case is closed); a body can be
# unreadable (400).
CHANGE = errors.problems(400, 404, 409)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)
    shared: bool = Field(default=False, strict=True)  # the schema's boolean, not 0 or "no"


class NoteOut(BaseModel):
    id: int
    text: str
    removed: dict[str, int]  # what scrubbing took out, by kind: shown to the operator
    shared: bool
    mine: bool
    created_at: datetime


class ReferralIn(BaseModel):
    organisation: str = Field(description="the receiving organisation's id (slug)")
    service: ReferralType
    reason: str = Field(min_length=1, max_length=2000)
    share_notes: bool = Field(default=False, strict=True)


class ConsentIn(BaseModel):
    given: bool = Field(strict=True, description="the person agreed that their anonymised "
                        "data may be counted in exports to partners")


class CloseIn(BaseModel):
    status: CloseStatus = CloseStatus.CLOSED
    send_pending: bool = Field(default=True, strict=True, description="replies still in the "
                               "outbox are sent (true) or cancelled (false)")


class MessageOut(BaseModel):
    at: datetime
    direction: Direction
    author: Author
    body: str | None
    delivery: str | None


class ReplyIn(BaseModel):
    body: str = Field(min_length=1, max_length=1600)


@router.get("/{case_id:uuid}/notes", responses=errors.problems(404))
def list_notes(case_id: uuid.UUID, session: SessionDep, settings: SettingsDep, now: NowDep,
               user: Operator) -> list[NoteOut]:
    with http_errors():
        case = claims.get_case(session, user, case_id)
    notes = work.view_notes(session, settings, user, case, now)
    return [NoteOut(**vars(n)) for n in notes]


@router.post("/{case_id:uuid}/notes", status_code=status.HTTP_201_CREATED, responses=CHANGE)
def add_note(case_id: uuid.UUID, body: NoteIn, session: SessionDep, settings: SettingsDep,
             now: NowDep, user: Operator) -> NoteOut:
    with http_errors():
        case = claims.get_case(session, user, case_id)
        note, cleaned = work.add_note(session, settings, user, case, body.text, body.shared,
                                      now)
    return NoteOut(id=note.id, text=cleaned.text, removed=cleaned.summary(),
                   shared=note.shared, mine=True, created_at=now)


@router.get("/{case_id:uuid}/screening", responses=errors.problems(404))
def get_screening(case_id: uuid.UUID, session: SessionDep, now: NowDep,
                  user: Operator) -> Screening:
    with http_errors():
        case = claims.get_case(session, user, case_id)
    return work.view_screening(session, user, case, now)


@router.put("/{case_id:uuid}/screening", responses=CHANGE)
def put_screening(case_id: uuid.UUID, body: Screening, session: SessionDep,
                  settings: SettingsDep, now: NowDep, user: Operator) -> Screening:
    with http_errors():
        case = claims.get_case(session, user, case_id)
        work.save_screening(session, settings, user, case, body, now)
    return body


@router.put("/{case_id:uuid}/reporting-consent", responses=CHANGE)
def reporting_consent(case_id: uuid.UUID, body: ConsentIn, session: SessionDep,
                      settings: SettingsDep, now: NowDep, user: Operator) -> CaseOut:
    """Set or clear the person's consent to reporting (needs the claim; audited)."""
    with http_errors():
        case = claims.get_case(session, user, case_id)
        work.set_reporting_consent(session, settings, user, case, body.given, now)
    return CaseOut.of(case, user, now)


@router.post("/{case_id:uuid}/refer", responses=CHANGE)
def refer(case_id: uuid.UUID, body: ReferralIn, session: SessionDep, settings: SettingsDep,
          now: NowDep, user: Operator) -> CaseOut:
    with http_errors():
        case = claims.get_case(session, user, case_id)
        try:
            work.refer(session, settings, user, case, body.organisation, body.service,
                       body.reason, body.share_notes, now)
        except LookupError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return CaseOut.of(case, user, now)


@router.post("/{case_id:uuid}/close", responses=CHANGE)
def close(case_id: uuid.UUID, body: CloseIn, session: SessionDep, settings: SettingsDep,
          now: NowDep, user: Operator) -> CaseOut:
    with http_errors():
        case = claims.get_case(session, user, case_id)
        work.close(session, settings, user, case, body.status, now,
                   send_pending=body.send_pending)
    return CaseOut.of(case, user, now)


@router.get("/{case_id:uuid}/messages", responses=errors.problems(404))
def thread(case_id: uuid.UUID, session: SessionDep, settings: SettingsDep, now: NowDep,
           user: Operator) -> list[MessageOut]:
    with http_errors():
        case = claims.get_case(session, user, case_id)
    entries = work.view_thread(session, settings, user, case, now)
    return [MessageOut(**vars(e)) for e in entries]


@router.post("/{case_id:uuid}/messages", status_code=status.HTTP_202_ACCEPTED,
             responses=CHANGE)
def reply(case_id: uuid.UUID, body: ReplyIn, session: SessionDep, settings: SettingsDep,
          now: NowDep, user: Operator) -> MessageOut:
    """An SMS to the caller, through the outbox; 409 if they erased their number or
    texted STOP."""
    with http_errors():
        case = claims.get_case(session, user, case_id)
        try:
            work.reply(session, settings, user, case, body.body, now)
        except conversations.CannotReply as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return MessageOut(at=now, direction=Direction.OUT, author=Author.OPERATOR,
                      body=body.body, delivery="pending")
