"""The path of every inbound contact, on one screen:

number -> country and pseudonym (detection, privacy; ``telephony.lines.Caller`` for calls,
``messaging.intake`` for texts) -> contact record -> routing candidates -> case in the
chosen organisation's queue.
"""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class DialPlan:
    """One ``<Dial>``: numbers of one organisation rung at once."""

    candidate: Candidate
    numbers: tuple[str, ...]
    reasons: str
    on_duty: bool = False  # operators' own phones: they must see the hotline's number

    @property
    def slug(self) -> str:
        return self.candidate.slug


MAX_NUMBERS_PER_DIAL = 10  # Twilio rings at most ten <Number>s of one <Dial>


OnDutyPhones = Callable[[Collection[int]], Mapping[int, tuple[str, ...]]]


def dial_plans(directory: Directory, query: Query, limit: int,
               on_duty: OnDutyPhones | None = None) -> list[DialPlan]:
    """The dials to try in turn, up to ``limit`` organisations: all of an organisation's
    duty numbers at once (the first to answer takes the call, Twilio stops the others),
    or, for an organisation that rings in order, one dial per number. An organisation in
    ``on_duty`` mode rings its on-duty operators' phones at once, or its duty numbers
    while nobody is on duty (or ``on_duty`` is None: the database is out of reach).
    ``on_duty`` is asked once, and only if such an organisation is among the candidates."""
    candidates = dialable(directory, query, limit)
    wanted = [c.responder.organisation_id for c in candidates
              if c.responder.ring_on_duty and c.responder.organisation_id is not None]
    phones = on_duty(wanted) if on_duty is not None and wanted else {}
    plans = []
    for candidate in candidates:
        numbers = candidate.responder.duty_numbers[:MAX_NUMBERS_PER_DIAL]
        reasons = "; ".join(candidate.reasons)
        staff = phones.get(candidate.responder.organisation_id or 0, ())
        if staff:
            plans.append(DialPlan(candidate, staff[:MAX_NUMBERS_PER_DIAL],
                                  f"{len(staff)} on-duty operator(s); {reasons}", on_duty=True))
            continue
        if not candidate.responder.ring_in_order:
            plans.append(DialPlan(candidate, numbers, reasons))
            continue
        # First, as reasons are cut to fit their column.
        plans.extend(DialPlan(candidate, (number,),
                              f"duty number {n} of {len(numbers)}, in order; {reasons}")
                     for n, number in enumerate(numbers, start=1))
    return plans


def organisation_id(session: Session, slug: str, directory: Directory | None = None) -> int:
    """The id of the organisation ``slug``: the snapshot's if it has it, else the row's."""
    responder = directory.by_slug(slug) if directory is not None else None
    if responder is not None and responder.organisation_id is not None:
        return responder.organisation_id
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
    return cases.open_case(session, contact, organisation_id(session, slug, directory))
