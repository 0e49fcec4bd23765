"""What an operator does to a claimed case: notes, screening, replies, referral, closing.

Every change needs a live claim by the operator (``operator_queue.claims.require_claim``)
and renews it. Free text is scrubbed before it is stored, then encrypted. Never commits.

Every change and every read of a case's contents (``view_notes``, ``view_screening``,
``view_thread``) writes its audit entry here, in the same transaction: the API and the
console call these and record nothing themselves. ``visible_notes`` and ``screening_of``
are the unaudited reads.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.cases import claims, history, referrals
from app.cases.casework import CaseNote, CaseScreening, Referral
from app.cases.models import Case, CaseStatus, CloseStatus
from app.cases.screening import ReferralType, Screening
from app.cases.scrub import Scrubbed, scrub
from app.config import Settings
from app.events import bus
from app.messaging import conversations
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
        raise claims.Conflict("the case is closed")
    claims.require_claim(case, user, now)
    claims.touch(settings, case, now)


def add_note(session: Session, settings: Settings, user: User, case: Case, text: str,
             shared: bool, now: datetime) -> tuple[CaseNote, Scrubbed]:
    _working(session, settings, user, case, now)
    cleaned = scrub(text)
    note = CaseNote(case_id=case.id, organisation_id=case.organisation_id, author_id=user.id,
                    text_encrypted=crypto.encrypt(settings.encryption_key, cleaned.text),
                    removed=cleaned.summary(), shared=shared, created_at=now)
    session.add(note)
    session.flush()
    audit.record(session, user, "case.note", now, case_id=case.id, note_id=note.id,
                 removed=cleaned.summary())
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


def view_notes(session: Session, settings: Settings, user: User, case: Case,
               now: datetime) -> list[NoteView]:
    """``visible_notes``, read by the operator: audited."""
    notes = visible_notes(session, settings, user, case)
    audit.record(session, user, "case.notes.view", now, case_id=case.id)
    return notes


def screening_of(session: Session, case: Case) -> Screening:
    row = session.get(CaseScreening, case.id)
    return Screening() if row is None else row.to_schema()


def view_screening(session: Session, user: User, case: Case, now: datetime) -> Screening:
    """``screening_of``, read by the operator: audited."""
    screening = screening_of(session, case)
    audit.record(session, user, "case.screening.view", now, case_id=case.id)
    return screening


def save_screening(session: Session, settings: Settings, user: User, case: Case,
                   screening: Screening, now: datetime) -> list[str]:
    """Store the screening; returns the names of the fields that changed (the audit entry
    names them, never their values)."""
    _working(session, settings, user, case, now)
    before = screening_of(session, case)
    row = session.get(CaseScreening, case.id) or CaseScreening(case_id=case.id)
    row.update_from(screening, now)
    session.add(row)
    changed = [name for name in Screening.model_fields
               if getattr(before, name) != getattr(screening, name)]
    audit.record(session, user, "case.screening", now, case_id=case.id, fields=changed)
    return changed


def set_reporting_consent(session: Session, settings: Settings, user: User, case: Case,
                          given: bool, now: datetime) -> None:
    """Record whether the person agreed to their anonymised data being counted beyond the
    hotline: exports to partners include only cases where they did."""
    _working(session, settings, user, case, now)
    case.reporting_consent = given
    audit.record(session, user, "case.consent", now, case_id=case.id, given=given)


def refer(session: Session, settings: Settings, user: User, case: Case, to_slug: str,
          service: ReferralType, reason: str, share_notes: bool, now: datetime) -> Referral:
    """Hand the case to another organisation (any country); it joins their queue."""
    _working(session, settings, user, case, now)
    target = session.scalars(select(Organisation).where(
        Organisation.slug == to_slug, Organisation.active.is_(True))).one_or_none()
    if target is None:
        raise LookupError(f"no organisation {to_slug!r}")
    if target.id == case.organisation_id:
        raise claims.Conflict("the case is already with this organisation")
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
    audit.record(session, user, "case.refer", now, case_id=case.id,
                 to_organisation_id=target.id, service=service.value, share_notes=share_notes)
    return referral


def reply(session: Session, settings: Settings, user: User, case: Case, body: str,
          now: datetime) -> None:
    """An SMS to the caller through the outbox; raises conversations.CannotReply after an
    erase or STOP."""
    _working(session, settings, user, case, now)
    conversations.queue_reply(session, settings, case, body, now)
    audit.record(session, user, "case.reply", now, case_id=case.id)


def view_thread(session: Session, settings: Settings, user: User, case: Case,
                now: datetime) -> list[conversations.ThreadEntry]:
    """The case's text messages, read by the operator: audited."""
    entries = conversations.thread(session, settings, case, case.organisation_id)
    audit.record(session, user, "case.messages.view", now, case_id=case.id)
    return entries


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
    audit.record(session, user, "case.close", now, case_id=case.id, status=status.value,
                 pending_replies=pending, sent=send_pending if pending else None)
    return pending
