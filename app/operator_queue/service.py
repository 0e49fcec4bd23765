"""An organisation's queue: ordering, claiming and releasing cases. Never commits.

Each operator action here writes its audit entry itself (``view_queue``, ``view_case``,
``claim``, ``release``), so the API, the console and any script record it exactly once.
``queue`` and ``get_case`` are the unaudited reads other services build on.

A claim is one conditional UPDATE: it succeeds only if the case is still unclaimed (or
its claim has lapsed), so two operators can never both hold a case, on SQLite or
PostgreSQL. "Claim next" first picks candidates with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so fifty operators pressing it at once each get a different case instead of
queueing on the same row.
"""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Select, case, select, update
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.cases import history
from app.cases.claims import Conflict, claimable, get_case, require_claim, touch
from app.cases.models import Case, CasePriority, CaseStatus
from app.config import Settings
from app.db import rowcount
from app.events import bus
from app.users.models import User

OPEN_STATUSES = (CaseStatus.QUEUED, CaseStatus.CLAIMED, CaseStatus.REFERRED)
PRIORITY_ORDER = case({p.value: p.rank for p in CasePriority}, value=Case.priority)


def queue(session: Session, organisation_id: int) -> list[Case]:
    """Open cases of the organisation: child first, then urgent, then normal; oldest first."""
    return list(session.scalars(
        select(Case).where(Case.organisation_id == organisation_id,
                           Case.status.in_(OPEN_STATUSES))
        .order_by(PRIORITY_ORDER, Case.created_at, Case.id)))


def view_queue(session: Session, user: User, now: datetime) -> list[Case]:
    """The operator's organisation's queue, as they see it: a view, audited."""
    cases = queue(session, user.organisation_id or 0)
    audit.record(session, user, "queue.view", now, count=len(cases))
    return cases


def view_case(session: Session, user: User, case_id: uuid.UUID, now: datetime) -> Case:
    """The case, opened by an operator of its organisation: a view, audited."""
    case_ = get_case(session, user, case_id)
    audit.record(session, user, "case.view", now, case_id=case_.id)
    return case_


def claim(session: Session, settings: Settings, user: User, case_id: uuid.UUID,
          now: datetime) -> Case:
    """Claim the case (again, if the operator holds it already: the claim is renewed)."""
    case_ = get_case(session, user, case_id)
    if case_.claimed_by_id == user.id and case_.status is CaseStatus.CLAIMED:
        touch(settings, case_, now)
        audit.record(session, user, "case.claim", now, case_id=case_.id)
        return case_
    taken = rowcount(session.execute(
        update(Case).where(Case.id == case_id, Case.organisation_id == user.organisation_id,
                           claimable(now))
        .values(**_claim_values(settings, user, now))
        .execution_options(synchronize_session=False)))
    session.refresh(case_)
    if taken != 1:
        raise Conflict("claimed by another operator" if case_.status is CaseStatus.CLAIMED
                       else f"the case is {case_.status}")
    history.record(session, case_.id, "claimed", now, user_id=user.id,
                   organisation_id=case_.organisation_id)
    audit.record(session, user, "case.claim", now, case_id=case_.id)
    bus.publish(session, bus.QueueEvent(case_.organisation_id, bus.EventKind.CASE_CLAIMED,
                                        case_.id, case_.reference))
    return case_


def claim_next(session: Session, settings: Settings, user: User, now: datetime
               ) -> Case | None:
    """The most urgent claimable case of the operator's organisation, claimed."""
    for _ in range(5):  # another operator may win a race for the same row; try the next
        case_id = session.scalar(_next_query(session, user, now))
        if case_id is None:
            return None
        try:
            return claim(session, settings, user, case_id, now)
        except Conflict:
            continue
    return None


def _next_query(session: Session, user: User, now: datetime) -> Select[uuid.UUID]:
    query = (select(Case.id).where(Case.organisation_id == user.organisation_id,
                                   claimable(now))
             .order_by(PRIORITY_ORDER, Case.created_at, Case.id).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return query


def _claim_values(settings: Settings, user: User, now: datetime) -> dict[str, object]:
    return {"status": CaseStatus.CLAIMED, "claimed_by_id": user.id, "claimed_at": now,
            "claim_expires_at": now + timedelta(minutes=settings.claim_idle_minutes)}


def release(session: Session, user: User, case_id: uuid.UUID, now: datetime) -> Case:
    case_ = get_case(session, user, case_id)
    require_claim(case_, user, now)
    case_.status = CaseStatus.QUEUED
    case_.claimed_by_id = case_.claimed_at = case_.claim_expires_at = None
    history.record(session, case_.id, "released", now, user_id=user.id,
                   organisation_id=case_.organisation_id)
    audit.record(session, user, "case.release", now, case_id=case_.id)
    bus.publish(session, bus.QueueEvent(case_.organisation_id, bus.EventKind.CASE_RELEASED,
                                        case_.id, case_.reference))
    return case_
