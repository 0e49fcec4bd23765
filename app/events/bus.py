"""Live queue events: what changed in an organisation's queue, so open console pages update
themselves. An event carries ids and a case reference, never content.

``publish`` queues an event on the session; it is delivered only once the transaction
commits (a rolled-back claim was never made). Delivery to subscribers is the job of the
hub (in-process on SQLite; PostgreSQL LISTEN/NOTIFY across processes).

How an event finds its app's hub: the app's sessionmaker carries the hub in
``Session.info[HUB]`` (``db.make_sessionmaker(engine, info=...)``), so every session the
app opens, in a request or a worker, delivers to that app's streams after its commit. A
session without a hub (the CLI, a test's own session) delivers nothing in-process.

On PostgreSQL ``publish`` also runs ``pg_notify`` in the transaction: PostgreSQL sends it
to every listening process at commit and drops it on rollback, so each app process (and
the CLI) reaches every other. The payload names the publishing hub (``origin``) so that
process's own listener skips what the commit already delivered locally.
"""

import json
import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session, SessionTransaction

if TYPE_CHECKING:
    from app.events.hub import Hub

logger = logging.getLogger(__name__)
PENDING = "events_pending"  # Session.info: events waiting for the commit
HUB = "events_hub"          # Session.info: the app's hub (from its sessionmaker)
CHANNEL = "hotline_events"
NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', :payload)")


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
    # The responder directory changed: every process reloads its routing snapshot. Not a
    # queue event: the hub hands it to its directory hooks, never to the queue streams.
    DIRECTORY_CHANGED = "directory.changed"


@dataclass(frozen=True)
class QueueEvent:
    organisation_id: int
    kind: EventKind
    case_id: uuid.UUID | None = None
    reference: str | None = None

    def data(self) -> dict[str, str | None]:
        """What a subscriber is told: ids and the reference, nothing about the caller."""
        return {"case_id": str(self.case_id) if self.case_id else None,
                "reference": self.reference}


def publish(session: Session, event: QueueEvent) -> None:
    """Deliver ``event`` to the organisation's subscribers once ``session`` commits."""
    if not session.in_transaction():
        # The event belongs to a transaction, so that a rollback forgets it. Beginning one
        # sends nothing to the database (SQLite connects at the first statement).
        session.begin()
    session.info.setdefault(PENDING, []).append(event)
    if session.get_bind().dialect.name == "postgresql":
        hub: Hub | None = session.info.get(HUB)
        # On the connection, not through the session: a NOTIFY reads no table, so the
        # session's pending changes need not be flushed before it (they go out together,
        # later, one UPDATE a row; bench/load.py).
        session.connection().execute(
            NOTIFY, {"payload": encode(event, hub.origin if hub else None)})


def encode(event: QueueEvent, origin: str | None) -> str:
    return json.dumps({"o": event.organisation_id, "k": event.kind.value,
                       "c": str(event.case_id) if event.case_id else None,
                       "r": event.reference, "origin": origin})


def decode(payload: str) -> tuple[QueueEvent, str | None] | None:
    """The event in a NOTIFY payload and the hub that sent it; None if it is not one."""
    try:
        found: dict[str, Any] = json.loads(payload)
        event = QueueEvent(int(found["o"]), EventKind(found["k"]),
                           uuid.UUID(found["c"]) if found.get("c") else None,
                           found.get("r"))
    except (ValueError, KeyError, TypeError):
        return None
    return event, found.get("origin")


@event.listens_for(Session, "after_commit")
def _deliver_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    events: list[QueueEvent] = session.info.pop(PENDING, [])
    hub: Hub | None = session.info.get(HUB)
    if hub is None:
        return
    for queued in events:
        try:
            hub.dispatch(queued)
        except Exception:  # a live page missing an update must never fail a commit
            logger.exception("live event not delivered")


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # after a commit the list is already gone
        session.info.pop(PENDING, None)
