"""Synthetic anonymised callers for statistics tests: contacts, cases and screenings."""

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases.casework import CaseScreening
from app.cases.models import Case, CaseStatus, Channel, Contact, ContactOutcome
from app.organisations.models import Organisation


def organisation_id(session: Session, slug: str) -> int:
    return session.scalars(select(Organisation.id).where(Organisation.slug == slug)).one()


def add_people(session: Session, n: int, *, day: str = "2026-03-10", country: str = "KZ",
               language: str = "kk", channel: str = "voice", need: str = "shelter",
               child: bool = False, outcome: str = "connected", status: str = "queued",
               organisation: str = "kz-almaty-shelter", contacts_each: int = 1,
               case: bool = True, screening: dict | None = None,
               pseudonyms: list[str] | None = None, consent: bool = False,
               line: str | None = None) -> list[str]:
    """n people, each with ``contacts_each`` contacts on ``day`` (at 09:00 unless it gives
    a time; a minute apart) and (optionally) a case, with reporting consent if
    ``consent``."""
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    if "T" not in day:
        start = start.replace(hour=9)
    org = organisation_id(session, organisation)
    names = pseudonyms or [secrets.token_hex(32) for _ in range(n)]
    for i, pseudonym in enumerate(names):
        at = start + timedelta(minutes=i)
        found = None
        if case:
            found = Case(reference="HL-" + secrets.token_hex(4).upper(), organisation_id=org,
                         caller_pseudonym=pseudonym, caller_country=country, language=language,
                         need=need, child=child, channel=Channel(channel),
                         status=CaseStatus(status), created_at=at,
                         reporting_consent=consent)
            session.add(found)
            session.flush()
            if screening is not None:
                session.add(CaseScreening(case_id=found.id, **_screening(screening)))
        for j in range(contacts_each):
            session.add(Contact(channel=Channel(channel), twilio_sid="CA" + uuid.uuid4().hex,
                                caller_pseudonym=pseudonym, caller_country=country,
                                language=language, need=need, child=child,
                                outcome=ContactOutcome(outcome),
                                case_id=found.id if found else None, line=line,
                                started_at=at + timedelta(seconds=j)))
    session.flush()
    return names


def _screening(values: dict) -> dict:
    defaults = {"gender": "NonSpecifiedUnknown", "age_band": "Unknown", "citizenship": [],
                "country_of_exploitation": None, "trafficking_status": "NotAssessed",
                "exploitation_types": ["Unknown"], "control_methods": ["Unknown"],
                "recruitment_method": "Unknown", "relationship_to_trafficker": "Unknown",
                "ilo_indicators": ["Unknown"], "referral_made": "Unknown",
                "caller_type": "Unknown", "interpreter_used": None}
    return defaults | values
