"""One case's claim: who may see it and who may change it. The queue
(``app.operator_queue``) hands claims out; every service that changes a case checks
them here.

A case belongs to one organisation: an operator of another gets ``NotFound``, the same
answer as for a case that does not exist, so cases cannot be probed across
organisations.
"""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import Session

from app.cases.models import Case, CaseStatus
from app.config import Settings
from app.users.models import User


class NotFound(LookupError):
    """No such case in this organisation (another organisation's case looks the same)."""


class Conflict(Exception):
    """The case is claimed by someone else, or not in a state for this."""


def claimable(now: datetime) -> ColumnElement[bool]:
    """Cases waiting for an operator: queued, referred, or their claim lapsed."""
    return or_(Case.status.in_([CaseStatus.QUEUED, CaseStatus.REFERRED]),
               (Case.status == CaseStatus.CLAIMED) & (Case.claim_expires_at < now))


def get_case(session: Session, user: User, case_id: uuid.UUID) -> Case:
    case_ = session.get(Case, case_id)
    if case_ is None or user.organisation_id is None or (
            case_.organisation_id != user.organisation_id):
        raise NotFound(str(case_id))
    return case_


def require_claim(case_: Case, user: User, now: datetime) -> None:
    """Changing a case needs a live claim on it by this operator."""
    if not (case_.status is CaseStatus.CLAIMED and case_.claimed_by_id == user.id
            and case_.claim_expires_at is not None and case_.claim_expires_at > now):
        raise Conflict("claim the case first")


def touch(settings: Settings, case_: Case, now: datetime) -> None:
    """The operator is working on it: the claim lasts another idle period."""
    case_.claim_expires_at = now + timedelta(minutes=settings.claim_idle_minutes)
