"""Live queue events: what changed in an organisation's queue, so open console pages update
themselves. An event carries ids and a case reference, never content.

``publish`` queues an event on the session; it is delivered only once the transaction
commits (a rolled-back claim was never made). Delivery to subscribers is the job of the
hub (in-process on SQLite; PostgreSQL LISTEN/NOTIFY across processes).
"""

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

PENDING = "events_pending"  # Session.info: events waiting for the commit


class EventKind(StrEnum):
    CASE_CREATED = "case.created"
    CASE_CLAIMED = "case.claimed"
    CASE_RELEASED = "case.released"
    CASE_ASSIGNED = "case.assigned"
    CASE_CLOSED = "case.closed"
    CASE_REFERRED = "case.referred"      # arrived in (or left) this organisation's queue
    CASE_ESCALATED = "case.escalated"
    MESSAGE_INBOUND = "message.inbound"
    DUTY_CHANGED = "duty.changed"         # an operator went on or off duty


@dataclass(frozen=True)
class QueueEvent:
    organisation_id: int
    kind: EventKind
    case_id: uuid.UUID | None = None
    reference: str | None = None


def publish(session: Session, event: QueueEvent) -> None:
    """Deliver ``event`` to the organisation's subscribers once ``session`` commits."""
    session.info.setdefault(PENDING, []).append(event)
