"""Handing a case to a named colleague of the same organisation. Never commits.

The operator holding the claim hands the case over; any operator of the organisation may
assign a case nobody holds. Either way the colleague ends up holding a fresh claim, as if
they had claimed it themselves, so the idle-claim rules stay the same for everyone.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.cases import claims, history
from app.cases.casework import CaseNote
from app.cases.models import Case, CaseStatus
from app.cases.scrub import Scrubbed, scrub
from app.config import Settings
from app.db import rowcount
from app.events import bus
from app.privacy import crypto
from app.users.models import Role, User


class NotAssignable(ValueError):
    """The named person cannot take the case; the message says why (shown to the user)."""


@dataclass(frozen=True)
class Assigned:
    to: User
    handed_over: bool  # the assigning operator held the claim
    note: Scrubbed | None


def colleagues(session: Session, user: User) -> list[User]:
    """The other active operators of the user's organisation, by name."""
    return list(session.scalars(select(User).where(
        User.organisation_id == user.organisation_id, User.role == Role.OPERATOR,
        User.active.is_(True), User.id != user.id).order_by(User.username)))


def _colleague(session: Session, user: User, case: Case, username: str) -> User:
    target = session.scalars(select(User).where(User.username == username)).one_or_none()
    if target is None or not target.active or target.role is not Role.OPERATOR or (
            target.organisation_id != case.organisation_id):
        # One message for all: whether a username exists elsewhere is not this user's business.
        raise NotAssignable(f"no active operator {username!r} in this organisation")
    if target.id == user.id:
        raise NotAssignable("assign the case to a colleague; to take it yourself, claim it")
    return target


def assign(session: Session, settings: Settings, user: User, case: Case, to_username: str,
           note: str | None, now: datetime) -> Assigned:
    """Give ``case`` to the colleague named ``to_username``, with an optional note."""
    if case.status is CaseStatus.CLOSED:
        raise claims.Conflict("the case is closed")
    target = _colleague(session, user, case, to_username)
    handed_over = case.claimed_by_id == user.id
    previous_holder = case.claimed_by_id
    values = {"status": CaseStatus.CLAIMED, "claimed_by_id": target.id, "claimed_at": now,
              "claim_expires_at": now + timedelta(minutes=settings.claim_idle_minutes)}
    if handed_over:
        claims.require_claim(case, user, now)
        for name, value in values.items():
            setattr(case, name, value)
    else:
        # The same conditional UPDATE as a claim: a colleague claiming the case at this very
        # moment wins, and this assignment is refused rather than silently taking it back.
        taken = rowcount(session.execute(
            update(Case).where(Case.id == case.id,
                               Case.organisation_id == user.organisation_id,
                               claims.claimable(now))
            .values(**values).execution_options(synchronize_session=False)))
        session.refresh(case)
        if taken != 1:
            raise claims.Conflict("claimed by another operator")
        previous_holder = None
    cleaned, note_id = _store_note(session, settings, user, case, note, now)
    history.record(session, case.id, "assigned", now, user_id=user.id,
                   organisation_id=case.organisation_id, to_user_id=target.id,
                   from_user_id=previous_holder)
    audit.record(session, user, "case.assign", now, case_id=case.id, to_user_id=target.id,
                 handed_over=handed_over, note_id=note_id,
                 removed=cleaned.summary() if cleaned else {})
    bus.publish(session, bus.QueueEvent(case.organisation_id, bus.EventKind.CASE_ASSIGNED,
                                        case.id, case.reference))
    return Assigned(to=target, handed_over=handed_over, note=cleaned)


def _store_note(session: Session, settings: Settings, user: User, case: Case,
                note: str | None, now: datetime) -> tuple[Scrubbed | None, int | None]:
    """The handover note, scrubbed and encrypted like any note of the organisation."""
    if not note or not note.strip():
        return None, None
    cleaned = scrub(note.strip())
    row = CaseNote(case_id=case.id, organisation_id=case.organisation_id, author_id=user.id,
                   text_encrypted=crypto.encrypt(settings.encryption_key, cleaned.text),
                   removed=cleaned.summary(), shared=False, created_at=now)
    session.add(row)
    session.flush()
    return cleaned, row.id
