"""The path of every inbound contact, on one screen:

number -> country and pseudonym (detection, privacy; ``telephony.lines.Caller`` for calls,
``messaging.intake`` for texts) -> contact record -> routing candidates -> case in the
chosen organisation's queue.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases import service as cases
from app.cases.models import Case, Contact
from app.organisations.models import Organisation
from app.routing.engine import Candidate, Query, route
from app.routing.snapshot import Directory


def query_for(contact: Contact, at: datetime) -> Query:
    return Query(language=contact.language, country=contact.caller_country,
                 need=contact.need, at=at)


def dialable(directory: Directory, query: Query, limit: int) -> list[Candidate]:
    """Candidates that can be rung now: open, with duty numbers, best first."""
    return [c for c in route(directory, query)
            if c.is_open and c.responder.duty_numbers][:limit]


def organisation_id(session: Session, slug: str) -> int:
    return session.scalars(select(Organisation.id).where(Organisation.slug == slug)).one()


def enqueue(session: Session, directory: Directory, contact: Contact, at: datetime) -> Case:
    """Put the contact in the queue of its best candidate, open or not, as a case.

    A caller nobody in the directory matches still gets a case, with a hub if any.
    """
    candidates = route(directory, query_for(contact, at))
    if candidates:
        slug = candidates[0].slug
    elif directory.responders:
        slug = min(directory.responders, key=lambda r: (not r.is_hub, r.priority, r.slug)).slug
    else:
        raise LookupError("the responder directory is empty")
    return cases.open_case(session, contact, organisation_id(session, slug))
