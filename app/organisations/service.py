"""Loading the responder directory into the database and reading it back as a snapshot."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.organisations import information, lines
from app.organisations.models import OpeningException, OpeningHours, Organisation, RingMode
from app.organisations.schemas import (
    ALWAYS,
    DirectoryFile,
    OrganisationEntry,
    format_interval,
    parse_interval,
)
from app.routing.snapshot import DatedException, Directory, Interval, Responder

DEMO_DIRECTORY = Path(__file__).with_name("demo_directory.yaml")


class DirectoryError(ValueError):
    """A directory file that cannot be imported; ``problems`` name entry and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ImportReport:
    created: list[str]
    updated: list[str]
    deactivated: list[str]
    information: list[str] = field(default_factory=list)  # countries whose messages changed


def read_directory_file(path: Path) -> DirectoryFile:
    """Parse and validate a YAML or JSON directory file, or raise DirectoryError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DirectoryError([f"{path}: cannot read: {exc}"]) from exc
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise DirectoryError([f"{path}: not valid {path.suffix.lstrip('.').upper()}: {exc}"]
                             ) from exc
    return validate_directory(raw, source=str(path))


def validate_directory(raw: Any, source: str = "directory") -> DirectoryFile:
    try:
        return DirectoryFile.model_validate(raw)
    except ValidationError as exc:
        raise DirectoryError([_describe(error, raw, source) for error in exc.errors()]) from exc


def _describe(error: Any, raw: Any, source: str) -> str:
    loc = list(error["loc"])
    where = source
    if len(loc) >= 2 and loc[0] == "organisations" and isinstance(loc[1], int):
        index = loc[1]
        entry = raw["organisations"][index] if isinstance(raw, dict) else None
        entry_id = entry.get("id") if isinstance(entry, dict) else None
        where += f": organisations[{index}]" + (f" (id {entry_id!r})" if entry_id else "")
        loc = loc[2:]
    elif len(loc) >= 2 and loc[0] == "lines" and isinstance(loc[1], int):
        index = loc[1]
        line = raw["lines"][index] if isinstance(raw, dict) else None
        number = line.get("number") if isinstance(line, dict) else None
        where += f": lines[{index}]" + (f" (number {number!r})" if number else "")
        loc = loc[2:]
    field = ".".join(str(part) for part in loc if not str(part).startswith("function-"))
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {field or 'file'}: {message}"


def import_directory(session: Session, directory: DirectoryFile,
                     replace: bool = False) -> ImportReport:
    """Create or update every organisation in the file (matched by id/slug).

    With ``replace``, organisations absent from the file are deactivated, not deleted:
    cases still refer to them.
    """
    existing = {org.slug: org for org in session.scalars(select(Organisation))}
    created, updated = [], []
    for entry in directory.organisations:
        org = existing.get(entry.id)
        if org is None:
            org = Organisation(slug=entry.id)
            session.add(org)
            created.append(entry.id)
        else:
            updated.append(entry.id)
            org.hours.clear()
            org.exceptions.clear()
            session.flush()  # delete old intervals before inserting their replacements
        _apply(org, entry)
    deactivated = []
    if replace:
        listed = {entry.id for entry in directory.organisations}
        for slug, org in existing.items():
            if slug not in listed and org.active:
                org.active = False
                deactivated.append(slug)
    lines.import_lines(session, directory.lines, replace)
    countries = information.import_information(session, directory.information, replace)
    session.flush()
    return ImportReport(created, updated, deactivated, countries)


def _apply(org: Organisation, entry: OrganisationEntry) -> None:
    org.name = entry.name
    org.country = entry.country
    org.timezone = entry.timezone
    org.always_open = entry.hours == ALWAYS
    org.is_hub = entry.hub
    org.priority = entry.priority
    org.services = [str(service) for service in entry.services]
    org.languages = list(entry.languages)
    org.duty_numbers = list(entry.duty_numbers)
    org.ring_mode = entry.ring.value
    org.require_2fa = entry.require_2fa
    org.active = True
    org.hours = [OpeningHours(weekday=day, opens_at=opens, closes_at=closes)
                 for day, opens, closes in entry.weekly_intervals()]
    org.exceptions = [OpeningException(day=e.day, closed=e.closed, name=e.name,
                                       intervals=[format_interval(*i) for i in e.intervals])
                      for e in entry.dated_exceptions()]


def is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(Organisation))


def load_demo_if_empty(session: Session) -> ImportReport | None:
    if not is_empty(session):
        return None
    return import_directory(session, read_directory_file(DEMO_DIRECTORY))


def list_organisations(session: Session, include_inactive: bool = False) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.country, Organisation.slug)
    if not include_inactive:
        query = query.where(Organisation.active.is_(True))
    return list(session.scalars(query))


def to_responder(org: Organisation) -> Responder:
    return Responder(
        slug=org.slug, name=org.name, country=org.country, timezone=org.timezone,
        always_open=org.always_open, is_hub=org.is_hub, priority=org.priority,
        services=frozenset(org.services), languages=tuple(org.languages),
        duty_numbers=tuple(org.duty_numbers), ring_in_order=org.ring_mode == RingMode.IN_ORDER,
        ring_on_duty=org.ring_mode == RingMode.ON_DUTY,
        hours=tuple(Interval(h.weekday, h.opens_at, h.closes_at) for h in org.hours),
        exceptions=tuple(DatedException(e.day, e.closed, tuple(map(parse_interval, e.intervals)),
                                        e.name) for e in org.exceptions),
        organisation_id=org.id,
    )


def snapshot(session: Session, now: datetime | None = None) -> Directory:
    """The active directory as an immutable snapshot for the routing engine."""
    return Directory(tuple(to_responder(org) for org in list_organisations(session)),
                     loaded_at=now or utcnow(), lines=lines.snapshot_lines(session),
                     country_information=information.load(session))
