"""Finding an organisation's cases again, closed ones too, and a caller's other cases.

Only ever the operator's own organisation: every query here is filtered on it, so a
search cannot reach another organisation's cases even by reference. Dates are the days of
the organisation's own calendar (its time zone), as its operators think of them. Never
commits. ``find`` and ``view_earlier`` are what an operator does, audited here;
``search`` and ``earlier_cases`` are the unaudited queries beneath them.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.cases.models import Case, CasePriority, CaseStatus, Channel
from app.languages import LANGUAGES
from app.organisations.models import Organisation
from app.users.models import User

PAGE = 50
MAX_PAGE = 100
MAX_EARLIER = 20
# Bounds on searched days, so that a day at the edge of the calendar cannot overflow when
# it becomes a time in the organisation's zone.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
# References are "HL-" and six letters or digits; a part of one may be searched.
REFERENCE = re.compile(r"[A-Za-z0-9-]{1,16}")


class InvalidSearch(ValueError):
    """A filter that cannot mean anything (the message names the filter, not the value)."""


@dataclass(frozen=True)
class Filters:
    reference: str | None = None
    status: CaseStatus | None = None
    created_from: date | None = None
    created_to: date | None = None
    language: str | None = None
    channel: Channel | None = None
    priority: CasePriority | None = None

    def names(self) -> list[str]:
        """Which filters were used: for the audit, which must not hold their values."""
        return [name for name, value in vars(self).items() if value is not None]

    def validate(self) -> "Filters":
        if self.reference is not None and not REFERENCE.fullmatch(self.reference):
            raise InvalidSearch("reference: letters, digits and '-' only, at most 16")
        if self.language is not None and self.language not in LANGUAGES:
            raise InvalidSearch("language: not one of the hotline's languages")
        for name, day in (("from", self.created_from), ("to", self.created_to)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                raise InvalidSearch(f"{name}: not a day the hotline can have cases on")
        if self.created_from and self.created_to and self.created_from > self.created_to:
            raise InvalidSearch("from: after to")
        return self


@dataclass(frozen=True)
class Page:
    cases: list[Case]
    next_offset: int | None  # None on the last page


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def search(session: Session, organisation_id: int, filters: Filters, *, limit: int = PAGE,
           offset: int = 0) -> Page:
    """The organisation's cases matching every filter, newest first, one page of them."""
    filters.validate()
    query = select(Case).where(Case.organisation_id == organisation_id)
    if filters.reference:
        query = query.where(Case.reference.contains(filters.reference.upper(),
                                                    autoescape=True))
    if filters.status is not None:
        query = query.where(Case.status == filters.status)
    if filters.language is not None:
        query = query.where(Case.language == filters.language)
    if filters.channel is not None:
        query = query.where(Case.channel == filters.channel)
    if filters.priority is not None:
        query = query.where(Case.priority == filters.priority)
    query = _dates(session, query, organisation_id, filters)
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(session.scalars(query.order_by(Case.created_at.desc(), Case.id.desc())
                                .offset(offset).limit(limit + 1)))
    return Page(rows[:limit], offset + limit if len(rows) > limit else None)


def find(session: Session, user: User, filters: Filters, now: datetime, *,
         limit: int = PAGE, offset: int = 0) -> Page:
    """An operator's search of their organisation's cases: audited with the names of the
    filters used (never their values, which may be a reference or a date)."""
    page = search(session, user.organisation_id or 0, filters, limit=limit, offset=offset)
    audit.record(session, user, "case.search", now, filters=filters.names(),
                 count=len(page.cases), offset=offset)
    return page


def _dates(session: Session, query: Select[Case], organisation_id: int,
           filters: Filters) -> Select[Case]:
    if filters.created_from is None and filters.created_to is None:
        return query
    organisation = session.get_one(Organisation, organisation_id)
    zone = ZoneInfo(organisation.timezone)
    if filters.created_from is not None:
        query = query.where(Case.created_at >= _start_of(filters.created_from, zone))
    if filters.created_to is not None:
        query = query.where(Case.created_at < _start_of(
            filters.created_to + timedelta(days=1), zone))
    return query


def earlier_cases(session: Session, case: Case) -> list[Case]:
    """The same caller's other cases with this case's organisation, newest first.

    Linked by pseudonym only (a withheld number gets a fresh one each time, so it never
    links strangers), and never across organisations: another organisation's cases of
    the same person stay invisible, as every other case of theirs does."""
    return list(session.scalars(
        select(Case).where(Case.caller_pseudonym == case.caller_pseudonym,
                           Case.organisation_id == case.organisation_id,
                           Case.id != case.id)
        .order_by(Case.created_at.desc(), Case.id.desc()).limit(MAX_EARLIER)))


def view_earlier(session: Session, user: User, case: Case, now: datetime) -> list[Case]:
    """``earlier_cases``, shown to an operator: their references are a look at those
    cases too, so a non-empty answer is audited."""
    earlier = earlier_cases(session, case)
    if earlier:
        audit.record(session, user, "case.earlier.view", now, case_id=case.id,
                     cases=[str(c.id) for c in earlier])
    return earlier
