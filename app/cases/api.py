"""The operators' API for working a claimed case: notes, screening, referral, closing and
the SMS thread. Same rules as the queue: 404 outside the organisation, audit everything."""

import uuid
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from app.audit import service as audit
from app.cases import work
from app.cases.models import CloseStatus
from app.cases.screening import ReferralType, Screening
from app.db import SessionDep
from app.messaging import conversations
from app.messaging.models import Author, Direction
from app.operator_queue import service as queue_service
from app.operator_queue.api import CaseOut, http_errors, now_of
from app.users.deps import Operator

router = APIRouter(prefix="/api/cases", tags=["cases"])


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)
    shared: bool = False


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
    share_notes: bool = False


class ConsentIn(BaseModel):
    given: bool = Field(description="the person agreed that their anonymised data may be "
                        "counted in exports to partners")


class CloseIn(BaseModel):
    status: CloseStatus = CloseStatus.CLOSED
    send_pending: bool = Field(default=True, description="replies still in the outbox are "
                               "sent (true) or cancelled (false)")


class MessageOut(BaseModel):
    at: datetime
    direction: Direction
    author: Author
    body: str | None
    delivery: str | None


class ReplyIn(BaseModel):
    body: str = Field(min_length=1, max_length=1600)


@router.get("/{case_id}/notes")
def list_notes(case_id: uuid.UUID, request: Request, session: SessionDep,
               user: Operator) -> list[NoteOut]:
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
    audit.record(session, user, "case.notes.view", now_of(request), case_id=case.id)
    notes = work.visible_notes(session, request.app.state.settings, user, case)
    return [NoteOut(**vars(n)) for n in notes]


@router.post("/{case_id}/notes", status_code=status.HTTP_201_CREATED)
def add_note(case_id: uuid.UUID, body: NoteIn, request: Request, session: SessionDep,
             user: Operator) -> NoteOut:
    now = now_of(request)
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
        note, cleaned = work.add_note(session, request.app.state.settings, user, case,
                                      body.text, body.shared, now)
    audit.record(session, user, "case.note", now, case_id=case.id, note_id=note.id,
                 removed=cleaned.summary())
    return NoteOut(id=note.id, text=cleaned.text, removed=cleaned.summary(),
                   shared=note.shared, mine=True, created_at=now)


@router.get("/{case_id}/screening")
def get_screening(case_id: uuid.UUID, request: Request, session: SessionDep,
                  user: Operator) -> Screening:
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
    audit.record(session, user, "case.screening.view", now_of(request), case_id=case.id)
    return work.screening_of(session, case)


@router.put("/{case_id}/screening")
def put_screening(case_id: uuid.UUID, body: Screening, request: Request,
                  session: SessionDep, user: Operator) -> Screening:
    now = now_of(request)
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
        changed = work.save_screening(session, request.app.state.settings, user, case,
                                      body, now)
    audit.record(session, user, "case.screening", now, case_id=case.id, fields=changed)
    return body


@router.put("/{case_id}/reporting-consent")
def reporting_consent(case_id: uuid.UUID, body: ConsentIn, request: Request,
                      session: SessionDep, user: Operator) -> CaseOut:
    """Set or clear the person's consent to reporting (needs the claim; audited)."""
    now = now_of(request)
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
        work.set_reporting_consent(session, request.app.state.settings, user, case,
                                   body.given, now)
    audit.record(session, user, "case.consent", now, case_id=case.id, given=body.given)
    return CaseOut.of(case, user, now)


@router.post("/{case_id}/refer")
def refer(case_id: uuid.UUID, body: ReferralIn, request: Request, session: SessionDep,
          user: Operator) -> CaseOut:
    now = now_of(request)
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
        try:
            referral = work.refer(session, request.app.state.settings, user, case,
                                  body.organisation, body.service, body.reason,
                                  body.share_notes, now)
        except LookupError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    audit.record(session, user, "case.refer", now, case_id=case.id,
                 to_organisation_id=referral.to_organisation_id, service=body.service.value,
                 share_notes=body.share_notes)
    return CaseOut.of(case, user, now)


@router.post("/{case_id}/close")
def close(case_id: uuid.UUID, body: CloseIn, request: Request, session: SessionDep,
          user: Operator) -> CaseOut:
    now = now_of(request)
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
        pending = work.close(session, request.app.state.settings, user, case, body.status,
                             now, send_pending=body.send_pending)
    audit.record(session, user, "case.close", now, case_id=case.id, status=body.status.value,
                 pending_replies=pending, sent=body.send_pending if pending else None)
    return CaseOut.of(case, user, now)


@router.get("/{case_id}/messages")
def thread(case_id: uuid.UUID, request: Request, session: SessionDep,
           user: Operator) -> list[MessageOut]:
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
    audit.record(session, user, "case.messages.view", now_of(request), case_id=case.id)
    entries = conversations.thread(session, request.app.state.settings, case,
                                   case.organisation_id)
    return [MessageOut(**vars(e)) for e in entries]


@router.post("/{case_id}/messages", status_code=status.HTTP_202_ACCEPTED)
def reply(case_id: uuid.UUID, body: ReplyIn, request: Request, session: SessionDep,
          user: Operator) -> MessageOut:
    """An SMS to the caller, through the outbox; 409 if they erased their number or
    texted STOP."""
    now = now_of(request)
    settings = request.app.state.settings
    with http_errors():
        case = queue_service.get_case(session, user, case_id)
        try:
            work.reply(session, settings, user, case, body.body, now)
        except conversations.CannotReply as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    audit.record(session, user, "case.reply", now, case_id=case.id)
    return MessageOut(at=now, direction=Direction.OUT, author=Author.OPERATOR,
                      body=body.body, delivery="pending")
