"""What an operator does to a claimed case: notes, screening, replies, referral, closing.

Every change needs a live claim by the operator (``operator_queue.service.require_claim``)
and renews it. Free text is scrubbed before it is stored, then encrypted. Never commits.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.cases import history, referrals
from app.cases.casework import CaseNote, CaseScreening, Referral
from app.cases.models import Case, CaseStatus, CloseStatus
from app.cases.screening import ReferralType, Screening
from app.cases.scrub import Scrubbed, scrub
from app.config import Settings
from app.events import bus
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
    if case.status is CaseStatus.CLOSED:  # say so, rather than "claim the case first"
        raise queue_service.Conflict("the case is closed")
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
    referrals.on_referred(session, user, case, referral, now)
    return referral


def reply(session: Session, settings: Settings, user: User, case: Case, body: str,
          now: datetime) -> None:
    """An SMS to the caller through the outbox; raises conversations.CannotReply after an
    erase or STOP."""
    _working(session, settings, user, case, now)
    conversations.queue_reply(session, settings, case, body, now)


def close(session: Session, settings: Settings, user: User, case: Case, status: CloseStatus,
          now: datetime, send_pending: bool = True) -> int:
    """Close the case. Replies still in the outbox are sent (the number to reply is kept
    until the outbox is done with them, then forgotten) or, with ``send_pending`` False,
    cancelled and the number forgotten at once. Returns how many replies were pending."""
    _working(session, settings, user, case, now)
    pending = conversations.pending_replies(session, case.id)
    case.status = CaseStatus.CLOSED
    case.close_status = status
    case.closed_at = now
    case.claimed_by_id = case.claim_expires_at = None
    conversations.close_for_case(session, case.id, keep_for_outbox=send_pending)
    history.record(session, case.id, "closed", now, user_id=user.id,
                   organisation_id=case.organisation_id, status=status.value,
                   pending_replies=pending, sent=send_pending if pending else None)
    bus.publish(session, bus.QueueEvent(case.organisation_id, bus.EventKind.CASE_CLOSED,
                                        case.id, case.reference))
    return pending
