"""What an operator does to a claimed case: notes, screening, replies, referral, closing.

Every change needs a live claim by the operator (``operator_queue.service.require_claim``)
and renews it. Free text is scrubbed before it is stored, then encrypted. Never commits.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.cases.casework import CaseNote, CaseScreening, Referral
from app.cases.models import CallbackRequest, Case, CaseStatus, CloseStatus
from app.cases.screening import ReferralType, Screening
from app.cases.scrub import Scrubbed, scrub
from app.config import Settings
from app.messaging import conversations
from app.operator_queue import service as queue_service
from app.organisations.models import Organisation
from app.privacy import crypto
from app.users.models import User


@dataclass(frozen=True)
class NoteView:
    id: int
    text: str
    removed: dict[str, int]
    shared: bool
    mine: bool  # written by the reader's organisation
    created_at: datetime


def _working(session: Session, settings: Settings, user: User, case: Case,
             now: datetime) -> None:
    queue_service.require_claim(case, user, now)
    queue_service.touch(settings, case, now)


def add_note(session: Session, settings: Settings, user: User, case: Case, text: str,
             shared: bool, now: datetime) -> tuple[CaseNote, Scrubbed]:
    _working(session, settings, user, case, now)
    cleaned = scrub(text)
    note = CaseNote(case_id=case.id, organisation_id=case.organisation_id, author_id=user.id,
                    text_encrypted=crypto.encrypt(settings.encryption_key, cleaned.text),
                    removed=cleaned.summary(), shared=shared, created_at=now)
    session.add(note)
    session.flush()
    return note, cleaned


def visible_notes(session: Session, settings: Settings, user: User, case: Case
                  ) -> list[NoteView]:
    """The reader's organisation's own notes, and notes others shared with it."""
    rows = session.scalars(select(CaseNote).where(
        CaseNote.case_id == case.id,
        or_(CaseNote.organisation_id == user.organisation_id, CaseNote.shared.is_(True)))
        .order_by(CaseNote.created_at, CaseNote.id))
    return [NoteView(id=n.id, text=crypto.decrypt(settings.encryption_key, n.text_encrypted),
                     removed=dict(n.removed), shared=n.shared,
                     mine=n.organisation_id == user.organisation_id, created_at=n.created_at)
            for n in rows]


def screening_of(session: Session, case: Case) -> Screening:
    row = session.get(CaseScreening, case.id)
    return Screening() if row is None else row.to_schema()


def save_screening(session: Session, settings: Settings, user: User, case: Case,
                   screening: Screening, now: datetime) -> list[str]:
    """Store the screening; returns the names of the fields that changed (for the audit)."""
    _working(session, settings, user, case, now)
    before = screening_of(session, case)
    row = session.get(CaseScreening, case.id) or CaseScreening(case_id=case.id)
    row.update_from(screening, now)
    session.add(row)
    return [name for name in Screening.model_fields
            if getattr(before, name) != getattr(screening, name)]


def set_reporting_consent(session: Session, settings: Settings, user: User, case: Case,
                          given: bool, now: datetime) -> None:
    """Record whether the person agreed to their anonymised data being counted beyond the
    hotline: exports to partners include only cases where they did."""
    _working(session, settings, user, case, now)
    case.reporting_consent = given


def refer(session: Session, settings: Settings, user: User, case: Case, to_slug: str,
          service: ReferralType, reason: str, share_notes: bool, now: datetime) -> Referral:
    """Hand the case to another organisation (any country); it joins their queue."""
    _working(session, settings, user, case, now)
    target = session.scalars(select(Organisation).where(
        Organisation.slug == to_slug, Organisation.active.is_(True))).one_or_none()
    if target is None:
        raise LookupError(f"no organisation {to_slug!r}")
    if target.id == case.organisation_id:
        raise queue_service.Conflict("the case is already with this organisation")
    referral = Referral(case_id=case.id, from_organisation_id=case.organisation_id,
                        to_organisation_id=target.id, service=service.value,
                        reason_encrypted=crypto.encrypt(settings.encryption_key,
                                                        scrub(reason).text),
                        share_notes=share_notes, referred_by_id=user.id, created_at=now)
    session.add(referral)
    if share_notes:
        for note in session.scalars(select(CaseNote).where(
                CaseNote.case_id == case.id,
                CaseNote.organisation_id == case.organisation_id)):
            note.shared = True
    case.organisation_id = target.id
    case.status = CaseStatus.REFERRED
    case.claimed_by_id = case.claimed_at = case.claim_expires_at = None
    session.flush()
    return referral


def reply(session: Session, settings: Settings, user: User, case: Case, body: str,
          now: datetime) -> None:
    """An SMS to the caller through the outbox; raises conversations.CannotReply after an
    erase or STOP."""
    _working(session, settings, user, case, now)
    conversations.queue_reply(session, settings, case, body, now)


def close(session: Session, settings: Settings, user: User, case: Case, status: CloseStatus,
          now: datetime) -> None:
    """Close the case: the caller's number kept to reply is forgotten at once."""
    _working(session, settings, user, case, now)
    case.status = CaseStatus.CLOSED
    case.close_status = status
    case.closed_at = now
    case.claimed_by_id = case.claim_expires_at = None
    conversations.close_for_case(session, case.id)


@dataclass(frozen=True)
class CallbackView:
    id: int
    requested_at: datetime
    number: str | None  # None once done or purged
    completed_at: datetime | None


def callbacks(session: Session, settings: Settings, user: User, case: Case,
              now: datetime) -> list[CallbackView]:
    """The caller's callback requests; the number is shown only to the claiming operator."""
    _working(session, settings, user, case, now)
    rows = session.scalars(select(CallbackRequest).where(CallbackRequest.case_id == case.id)
                           .order_by(CallbackRequest.created_at)).all()
    return [CallbackView(r.id, r.created_at, crypto.decrypt(settings.encryption_key,
                                                            r.number_encrypted)
                         if r.number_encrypted else None, r.completed_at) for r in rows]


def complete_callback(session: Session, settings: Settings, user: User, case: Case,
                      callback_id: int, now: datetime) -> CallbackRequest:
    """The operator called back: the number is no longer needed, so it is erased."""
    _working(session, settings, user, case, now)
    row = session.scalars(select(CallbackRequest).where(
        CallbackRequest.id == callback_id, CallbackRequest.case_id == case.id)).one_or_none()
    if row is None:
        raise queue_service.NotFound(callback_id)
    row.completed_at = row.completed_at or now
    row.number_encrypted = None
    return row
