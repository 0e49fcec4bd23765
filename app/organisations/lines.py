"""The hotline's own numbers (national lines): imported from the directory file, read
into the routing snapshot.

A line says which country a call or text to it most likely comes from and which
languages its callers should hear first; replies to texts sent to it leave from its
``sms_sender`` or from the number itself. Contacts record the number (``contacts.line``)
as text, not as a reference, so a line removed from the directory leaves them intact.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.organisations.models import NationalLine
from app.organisations.schemas import LineEntry
from app.routing.snapshot import HotlineNumber


def active_numbers(session: Session) -> list[str]:
    """The numbers of the active national lines, in order."""
    return list(session.scalars(select(NationalLine.number).where(NationalLine.active)
                                .order_by(NationalLine.number)))


@dataclass(frozen=True)
class LinesReport:
    created: list[str]
    updated: list[str]
    deactivated: list[str]


def import_lines(session: Session, entries: list[LineEntry],
                 replace: bool = False) -> LinesReport:
    """Create or update every line in the file (matched by number); with ``replace``,
    lines absent from the file are deactivated, as organisations are."""
    existing = {line.number: line for line in session.scalars(select(NationalLine))}
    created, updated = [], []
    for entry in entries:
        line = existing.get(entry.number)
        if line is None:
            line = NationalLine(number=entry.number)
            session.add(line)
            created.append(entry.number)
        else:
            updated.append(entry.number)
        line.country = entry.country
        line.languages = list(entry.languages)
        line.sms_sender = entry.sms_sender
        line.label = entry.label
        line.active = True
    deactivated = []
    if replace:
        listed = {entry.number for entry in entries}
        for number, line in existing.items():
            if number not in listed and line.active:
                line.active = False
                deactivated.append(number)
    session.flush()
    return LinesReport(created, updated, deactivated)


def list_lines(session: Session, include_inactive: bool = False) -> list[NationalLine]:
    query = select(NationalLine).order_by(NationalLine.country, NationalLine.number)
    if not include_inactive:
        query = query.where(NationalLine.active.is_(True))
    return list(session.scalars(query))


def to_hotline_number(line: NationalLine) -> HotlineNumber:
    return HotlineNumber(number=line.number, country=line.country,
                         languages=tuple(line.languages), sms_sender=line.sms_sender,
                         label=line.label)


def snapshot_lines(session: Session) -> tuple[HotlineNumber, ...]:
    return tuple(to_hotline_number(line) for line in list_lines(session))


def line_numbers(session: Session) -> list[str]:
    """Every line ever imported, for statistics: old contacts keep their line's category
    after it is deactivated."""
    return list(session.scalars(select(NationalLine.number).order_by(NationalLine.number)))
