"""The referral handoff: what the receiving organisation reads, its answer, and the
sender's read-only view of what became of the cases it referred.

A referral moves the case at once (``app.operator_queue.work.refer``); the receiver then accepts
it (the case stays) or declines it with a reason (the case goes back to the sender's
queue). Screening's ``referral_made`` follows: the service while the referral stands,
what it was before once declined. Never commits.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.cases import claims, history
from app.cases.casework import CaseScreening, Referral, ReferralStatus
from app.cases.models import Case, CaseEvent, CaseStatus
from app.cases.screening import ReferralType, Screening
from app.cases.scrub import Scrubbed, scrub
from app.config import Settings
from app.events import bus
from app.organisations.models import Organisation
from app.privacy import crypto
from app.users.models import User

MAX_SENT = 50
REFERRED = "referred"  # the history kind whose detail remembers the screening before


class SentStatus(StrEnum):
    """What the sender may know of a case it referred: no more than this."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CLOSED = "closed"


@dataclass(frozen=True)
class ReferralView:
    """The case's latest referral, as the organisation now holding the case reads it."""

    id: int
    status: ReferralStatus
    service: str
    reason: str
    from_organisation: str  # names, as the directory writes them
    to_organisation: str
    incoming: bool  # this organisation is the receiver (else the sender, after a decline)
    created_at: datetime
    responded_at: datetime | None
    decline_reason: str | None


@dataclass(frozen=True)
class SentView:
    reference: str
    to_organisation: str
    status: SentStatus
    referred_at: datetime
    responded_at: datetime | None


def latest(session: Session, case_id: uuid.UUID) -> Referral | None:
    return session.scalars(select(Referral).where(Referral.case_id == case_id)
                           .order_by(Referral.created_at.desc(), Referral.id.desc())
                           .limit(1)).one_or_none()


def _name(session: Session, organisation_id: int) -> str:
    return session.get_one(Organisation, organisation_id).name


def view(session: Session, settings: Settings, case: Case) -> ReferralView | None:
    """The referral to show on the case: to its receiver, or to its sender once declined
    (the case is theirs again). None when there is nothing for the holder to read."""
    referral = latest(session, case.id)
    if referral is None:
        return None
    incoming = referral.to_organisation_id == case.organisation_id
    returned = (referral.from_organisation_id == case.organisation_id
                and referral.status is ReferralStatus.DECLINED)
    if not (incoming or returned):
        return None
    key = settings.encryption_key
    return ReferralView(
        id=referral.id, status=referral.status, service=referral.service,
        reason=crypto.decrypt(key, referral.reason_encrypted),
        from_organisation=_name(session, referral.from_organisation_id),
        to_organisation=_name(session, referral.to_organisation_id), incoming=incoming,
        created_at=referral.created_at, responded_at=referral.responded_at,
        decline_reason=crypto.decrypt(key, referral.decline_reason_encrypted)
        if referral.decline_reason_encrypted else None)


def _screening_row(session: Session, case_id: uuid.UUID, now: datetime) -> CaseScreening:
    row = session.get(CaseScreening, case_id)
    if row is None:  # nobody screened yet: every answer Unknown, as the form starts
        row = CaseScreening(case_id=case_id)
        row.update_from(Screening(), now)
        session.add(row)
    return row


def _announce(session: Session, case: Case, referral: Referral) -> None:
    """Both queues changed: the case left one organisation's and joined (or stayed in)
    the other's."""
    for organisation_id in (referral.from_organisation_id, referral.to_organisation_id):
        bus.publish(session, bus.QueueEvent(organisation_id, bus.EventKind.CASE_REFERRED,
                                            case.id, case.reference))


def on_referred(session: Session, user: User, case: Case, referral: Referral,
                now: datetime) -> None:
    """After ``work.refer`` moved the case: screening, history and events."""
    row = _screening_row(session, case.id, now)
    before = row.referral_made
    row.referral_made = ReferralType(referral.service)
    row.updated_at = now
    session.flush()
    history.record(session, case.id, REFERRED, now, user_id=user.id,
                   organisation_id=referral.from_organisation_id, referral_id=referral.id,
                   to_organisation_id=referral.to_organisation_id, service=referral.service,
                   referral_made_before=str(before) if before else None)
    _announce(session, case, referral)


def _waiting(session: Session, user: User, case: Case, now: datetime) -> Referral:
    """The referral this operator may answer: pending, to their organisation, and the case
    not held by a colleague."""
    referral = latest(session, case.id)
    if referral is None or referral.to_organisation_id != case.organisation_id or (
            referral.status is not ReferralStatus.PENDING):
        raise claims.Conflict("no referral is waiting for an answer")
    held = case.status is CaseStatus.CLAIMED and case.claim_expires_at is not None and (
        case.claim_expires_at > now)
    if held and case.claimed_by_id != user.id:
        raise claims.Conflict("claimed by another operator")
    return referral


def accept(session: Session, user: User, case: Case, now: datetime) -> Referral:
    referral = _waiting(session, user, case, now)
    referral.status = ReferralStatus.ACCEPTED
    referral.responded_at, referral.responded_by_id = now, user.id
    if case.status is CaseStatus.REFERRED:
        case.status = CaseStatus.QUEUED  # theirs now, waiting in their queue like any case
    history.record(session, case.id, "referral_accepted", now, user_id=user.id,
                   organisation_id=case.organisation_id, referral_id=referral.id)
    audit.record(session, user, "case.referral.accept", now, case_id=case.id,
                 referral_id=referral.id)
    _announce(session, case, referral)
    return referral


def decline(session: Session, settings: Settings, user: User, case: Case, reason: str,
            now: datetime) -> tuple[Referral, Scrubbed]:
    """Send the case back to the sender's queue, with the reason (scrubbed, encrypted)."""
    referral = _waiting(session, user, case, now)
    cleaned = scrub(reason.strip())
    referral.status = ReferralStatus.DECLINED
    referral.responded_at, referral.responded_by_id = now, user.id
    referral.decline_reason_encrypted = crypto.encrypt(settings.encryption_key, cleaned.text)
    case.organisation_id = referral.from_organisation_id
    case.status = CaseStatus.QUEUED
    case.claimed_by_id = case.claimed_at = case.claim_expires_at = None
    _restore_screening(session, case.id, referral.id, now)
    history.record(session, case.id, "referral_declined", now, user_id=user.id,
                   organisation_id=referral.to_organisation_id, referral_id=referral.id,
                   removed=cleaned.summary())
    audit.record(session, user, "case.referral.decline", now, case_id=case.id,
                 referral_id=referral.id, removed=cleaned.summary())
    _announce(session, case, referral)
    return referral, cleaned


def _restore_screening(session: Session, case_id: uuid.UUID, referral_id: int,
                       now: datetime) -> None:
    """``referral_made`` back to what it was before this referral (the history row of the
    referral remembers it), or Unknown if that is lost."""
    referred = session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case_id, CaseEvent.kind == REFERRED)
        .order_by(CaseEvent.id.desc())).all()
    before: str | None = ReferralType.UNKNOWN.value
    for event in referred:
        if event.detail.get("referral_id") == referral_id:
            before = event.detail.get("referral_made_before")
            break
    row = _screening_row(session, case_id, now)
    row.referral_made = ReferralType(before) if before else None
    row.updated_at = now


def sent(session: Session, user: User, now: datetime) -> list[SentView]:
    """The organisation's referrals, newest first: where each case went and how it stands,
    without anything of the case itself. Audited as one look."""
    rows = session.execute(
        select(Referral, Case.reference, Case.status, Organisation.name)
        .join(Case, Case.id == Referral.case_id)
        .join(Organisation, Organisation.id == Referral.to_organisation_id)
        .where(Referral.from_organisation_id == user.organisation_id)
        .order_by(Referral.created_at.desc(), Referral.id.desc()).limit(MAX_SENT)).all()
    views = [SentView(reference=reference, to_organisation=name,
                      status=_sent_status(referral, status),
                      referred_at=referral.created_at, responded_at=referral.responded_at)
             for referral, reference, status, name in rows]
    if views:
        audit.record(session, user, "referrals.sent.view", now, count=len(views))
    return views


def _sent_status(referral: Referral, case_status: CaseStatus) -> SentStatus:
    if referral.status is ReferralStatus.DECLINED:
        return SentStatus.DECLINED
    if case_status is CaseStatus.CLOSED:
        return SentStatus.CLOSED
    return SentStatus(referral.status.value)
