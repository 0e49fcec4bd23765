"""Contacts and cases: creating, continuing and recording what happened. Never commits."""

import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session, object_session

from app.cases.models import (
    CallbackRequest,
    Case,
    CasePriority,
    CaseStatus,
    Channel,
    Contact,
    ContactOutcome,
)
from app.db import utcnow
from app.events import bus
from app.monitoring import metrics
from app.privacy import crypto
from app.routing.needs import Need

REFERENCE_ALPHABET = "ACDEFHJKLMNPQRTUVWXY34679"  # no look-alikes (0/O, 1/I, 5/S, 8/B)


# The webhooks' queries are built once, with bind parameters, rather than on each call:
# SQLAlchemy works out a statement's cache key once per statement object, and worked out
# anew on every webhook step it cost about 0.15 ms of CPU a query (bench/load.py).
CONTACT_BY_SID = select(Contact).where(Contact.twilio_sid == bindparam("sid"))
OPEN_CASE = (select(Case).where(Case.caller_pseudonym == bindparam("pseudonym"),
                                Case.organisation_id == bindparam("organisation"),
                                Case.status != CaseStatus.CLOSED)
             .order_by(Case.created_at.desc()).limit(1))
REFERENCE_TAKEN = select(Case.id).where(Case.reference == bindparam("reference"))


def get_contact(session: Session, sid: str) -> Contact | None:
    return session.scalars(CONTACT_BY_SID, {"sid": sid}).one_or_none()


def start_contact(session: Session, *, sid: str, channel: Channel, pseudonym: str,
                  country: str | None, at: datetime | None = None,
                  line: str | None = None) -> Contact:
    """The contact for this CallSid/MessageSid, created on first sight only (``at``: when
    it started, if not now, as when the journal is replayed)."""
    contact = get_contact(session, sid)
    if contact is None:
        contact = new_contact(session, sid=sid, channel=channel, pseudonym=pseudonym,
                              country=country, at=at, line=line)
    return contact


def new_contact(session: Session, *, sid: str, channel: Channel, pseudonym: str,
                country: str | None, at: datetime | None = None,
                line: str | None = None) -> Contact:
    """A contact for a CallSid/MessageSid not recorded yet (one for the same SID, from a
    retry, fails on the unique SID when it is written).

    Not flushed here: it is written with the step's next flush, together with what the
    step adds to it (one flush fewer), so every field the step may read is given here
    rather than left to the column defaults of the INSERT."""
    contact = Contact(id=uuid.uuid4(), twilio_sid=sid, channel=channel,
                      caller_pseudonym=pseudonym, caller_country=country,
                      started_at=at or utcnow(), line=line, child=False,
                      outcome=ContactOutcome.IN_PROGRESS, media=0)
    session.add(contact)
    count_new_contact(session, channel)
    return contact


def count_new_contact(session: Session, channel: Channel) -> None:
    """Count a new contact once it commits; for rows written without the ORM too."""
    metrics.count_on_commit(session, metrics.CONTACTS.labels(channel.value))


@event.listens_for(Contact.outcome, "set")
def _count_outcome(contact: Contact, value: ContactOutcome, old: object, _initiator: object
                   ) -> None:
    # On the attribute, not in each function: the voice steps set some outcomes themselves.
    count_outcome(object_session(contact), Channel(contact.channel), old, value)


def count_outcome(session: Session | None, channel: Channel, old: object,
                  new: ContactOutcome | str) -> None:
    """Count a contact's outcome once it commits; for rows written without the ORM too."""
    outcome = ContactOutcome(new)
    if outcome != old and outcome is not ContactOutcome.IN_PROGRESS:
        metrics.count_on_commit(session, metrics.CONTACT_OUTCOMES.labels(
            channel.value, outcome.value))


def priority_for(need: Need | None, child: bool) -> CasePriority:
    if child:
        return CasePriority.CHILD
    return CasePriority.URGENT if need is Need.DANGER else CasePriority.NORMAL


def _new_reference(session: Session) -> str:
    while True:
        reference = "HL-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        with session.no_autoflush:
            taken = session.scalar(REFERENCE_TAKEN, {"reference": reference})
        if taken is None:
            return reference


def open_case(session: Session, contact: Contact, organisation_id: int) -> Case:
    """Attach the contact to its caller's open case with this organisation, or a new one.

    A repeat caller's new contact continues the open case, raising its priority if the
    new contact is more urgent; a closed case is never reopened.
    """
    if contact.case_id is not None:
        return session.get_one(Case, contact.case_id)
    priority = priority_for(contact.need, contact.child)
    # Nothing the step has pending can change the answer (no case of this caller's is
    # pending), so it is not flushed first: the case, the contact and the rest of the step
    # are written together, later.
    with session.no_autoflush:
        case = session.scalars(OPEN_CASE, {"pseudonym": contact.caller_pseudonym,
                                           "organisation": organisation_id}).one_or_none()
    if case is None:
        case = Case(id=uuid.uuid4(), reference=_new_reference(session),
                    organisation_id=organisation_id,
                    caller_pseudonym=contact.caller_pseudonym, priority=priority,
                    caller_country=contact.caller_country, language=contact.language,
                    need=contact.need, child=contact.child, channel=contact.channel,
                    status=CaseStatus.QUEUED)
        session.add(case)
        created = True
    else:
        created = False
        if priority.rank < case.priority.rank:
            case.priority = priority
    case.child = case.child or contact.child
    contact.case_id = case.id
    if created:
        bus.publish(session, bus.QueueEvent(organisation_id, bus.EventKind.CASE_CREATED,
                                            case.id, case.reference))
    return case


def request_callback(session: Session, contact: Contact, case: Case, number: str,
                     encryption_key: str, retention_days: int,
                     at: datetime | None = None) -> CallbackRequest:
    existing = session.scalars(select(CallbackRequest).where(
        CallbackRequest.contact_id == contact.id)).one_or_none()
    if existing is not None:
        return existing
    now = at or utcnow()
    # In the caller's language: the call-back's first words to them are in it.
    row = CallbackRequest(contact_id=contact.id, case_id=case.id,
                          number_encrypted=crypto.encrypt(encryption_key, number),
                          language=contact.language or case.language,
                          created_at=now, purge_after=now + timedelta(days=retention_days))
    session.add(row)
    contact.outcome = ContactOutcome.CALLBACK_REQUESTED
    return row


def mark_child(session: Session, case_id: uuid.UUID) -> None:
    """A child is involved: the case goes to the top of the queue."""
    case = session.get_one(Case, case_id)
    case.child = True
    case.priority = CasePriority.CHILD
