"""Editing one organisation of the responder directory by hand (the console's forms).

A form becomes the very entry a directory file would hold, is validated by the import's
schema (``OrganisationEntry``) and stored by the import's code (``import_directory``), so
the console can never save what ``hotline directory import`` would refuse, nor store it
differently. Every change is audited with the fields it changed, before and after, and
announced (``directory.changed``) so that every process routes by it at once.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.events import bus
from app.i18n import N_
from app.organisations import service
from app.organisations.models import OpeningException, Organisation, RingMode
from app.organisations.schemas import (
    ALWAYS,
    WEEKDAYS,
    DirectoryFile,
    OrganisationEntry,
    format_interval,
)

# What one dated exception is, as the form offers it.
HOLIDAY, CLOSURE, SPECIAL = "holiday", "closure", "open"
EXCEPTION_KINDS = (HOLIDAY, CLOSURE, SPECIAL)
BLANK_EXCEPTION_ROWS = 3  # room for new ones; save to get more
SEPARATORS = re.compile(r"[\s,;]+")
# The form's own refusals (the schema's are its English messages, as the import gives them).
SLUG_TAKEN = N_("An organisation with this id exists already.")
DATE_TWICE = N_("The same dates are given twice.")
ALL_FIELDS = ("name", "country", "timezone", "active", "hub", "priority", "services",
              "languages", "duty_numbers", "ring", "hours", "exceptions", "require_2fa")


@dataclass
class ExceptionRow:
    dates: str = ""  # "2027-01-01" or "2027-03-21/2027-03-23", as in the file
    name: str = ""
    kind: str = HOLIDAY
    hours: str = ""  # "09:00-12:00, 14:00-16:00": a closure's or the special hours

    @property
    def blank(self) -> bool:
        """No date: a row left empty, or one emptied to remove that exception."""
        return not self.dates.strip()


@dataclass
class OrganisationForm:
    """What the form holds, as typed: kept as it is to show again next to its errors."""

    slug: str = ""
    name: str = ""
    country: str = ""
    timezone: str = ""
    active: bool = True
    hub: bool = False
    priority: str = "100"
    services: list[str] = field(default_factory=list)
    languages: str = ""  # "kk, ru"
    duty_numbers: str = ""  # one per line
    ring: str = RingMode.SIMULTANEOUS.value
    always_open: bool = False
    hours: dict[str, str] = field(default_factory=dict)  # weekday -> "09:00-13:00, 14:00-18:00"
    exceptions: list[ExceptionRow] = field(default_factory=list)
    require_2fa: bool = False

    def with_blank_rows(self) -> "OrganisationForm":
        rows = [row for row in self.exceptions if not row.blank]
        self.exceptions = rows + [ExceptionRow() for _ in range(BLANK_EXCEPTION_ROWS)]
        return self


class Invalid(ValueError):
    """The form cannot be saved; ``problems`` maps a form field to its messages."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for messages in problems.values() for m in messages))
        self.problems = problems


def words(text: str) -> list[str]:
    return [word for word in SEPARATORS.split(text) if word]


# --- the stored organisation, as the form shows it ----------------------------------------


def form_of(org: Organisation) -> OrganisationForm:
    hours: dict[str, list[str]] = {}
    for interval in org.hours:
        hours.setdefault(WEEKDAYS[interval.weekday], []).append(
            format_interval(interval.opens_at, interval.closes_at))
    return OrganisationForm(
        slug=org.slug, name=org.name, country=org.country, timezone=org.timezone,
        active=org.active, hub=org.is_hub, priority=str(org.priority),
        services=list(org.services), languages=", ".join(org.languages),
        duty_numbers="\n".join(org.duty_numbers), ring=org.ring_mode,
        always_open=org.always_open,
        hours={day: ", ".join(texts) for day, texts in hours.items()},
        exceptions=exception_rows(org.exceptions), require_2fa=org.require_2fa)


def exception_rows(exceptions: list[OpeningException]) -> list[ExceptionRow]:
    """The stored days (one row each) as the file writes them: consecutive days with the
    same rule become one range again."""
    rows: list[tuple[date, date, ExceptionRow]] = []
    for exception in sorted(exceptions, key=lambda e: e.day):
        row = ExceptionRow("", exception.name or "", _kind(exception),
                           ", ".join(exception.intervals))
        if rows and rows[-1][2] == row and rows[-1][1] + timedelta(days=1) == exception.day:
            rows[-1] = (rows[-1][0], exception.day, row)
        else:
            rows.append((exception.day, exception.day, row))
    for first, last, row in rows:
        row.dates = first.isoformat() if first == last else f"{first}/{last}"
    return [row for _, _, row in rows]


def _kind(exception: OpeningException) -> str:
    if not exception.closed:
        return SPECIAL
    return CLOSURE if exception.intervals else HOLIDAY


# --- the form, as the directory file would write it ---------------------------------------


def file_entry(form: OrganisationForm) -> dict[str, Any]:
    """The organisation's entry in a directory file, from what the form holds."""
    return {
        "id": form.slug.strip(), "name": form.name.strip(), "country": form.country.strip(),
        "timezone": form.timezone.strip(),
        "hours": ALWAYS if form.always_open else {
            day: words(form.hours[day]) for day in WEEKDAYS if words(form.hours.get(day, ""))},
        "exceptions": _file_exceptions(form.exceptions),
        "services": list(form.services), "languages": words(form.languages),
        "duty_numbers": [line.strip() for line in form.duty_numbers.splitlines()
                         if line.strip()],
        "ring": form.ring, "hub": form.hub, "priority": form.priority.strip(),
        "require_2fa": form.require_2fa,
    }


def _file_exceptions(rows: list[ExceptionRow]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for row in rows:
        if row.blank:
            continue
        key = row.dates.strip()
        if key in found:
            raise Invalid({"exceptions": [DATE_TWICE]})
        found[key] = _file_rule(row)
    return found


def _file_rule(row: ExceptionRow) -> Any:
    name = {"name": row.name.strip()} if row.name.strip() else {}
    if row.kind == CLOSURE:
        return name | {"closed": words(row.hours)}
    if row.kind == SPECIAL:
        return name | {"open": words(row.hours)}
    return name | {"closed": True}  # a holiday; any hours typed do not apply to it


def validate(form: OrganisationForm) -> OrganisationEntry:
    """The entry, validated as ``hotline directory import`` validates it; else Invalid with
    the schema's messages by field."""
    try:
        return OrganisationEntry.model_validate(file_entry(form))
    except ValidationError as exc:
        problems: dict[str, list[str]] = {}
        for error in exc.errors():
            where = str(error["loc"][0]) if error["loc"] else "form"
            problems.setdefault(where, []).append(_message(error))
        raise Invalid(problems) from None


def _message(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    inner = [str(part) for part in error["loc"][1:] if isinstance(part, int)]
    # A list's item says which one ("duty_numbers", item 2) when its message does not.
    if inner and error.get("input") is not None and repr(error["input"]) not in message:
        return f"{error['input']!r}: {message}"
    return message


# --- saving ---------------------------------------------------------------------------------


def find(session: Session, slug: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.slug == slug))


def create(session: Session, user: audit.Actor, form: OrganisationForm, now: datetime
           ) -> Organisation:
    entry = validate(form)
    if find(session, entry.id) is not None:
        raise Invalid({"id": [SLUG_TAKEN]})
    org = _store(session, entry, form)
    _announce(session, user, "directory.organisation.created", org, {}, audited(org), now)
    return org


def update(session: Session, user: audit.Actor, org: Organisation, form: OrganisationForm,
           now: datetime) -> Organisation:
    form.slug = org.slug  # the id is stable: cases and users refer to it
    entry = validate(form)
    before = audited(org)
    _store(session, entry, form)
    _announce(session, user, "directory.organisation.updated", org, before, audited(org), now)
    return org


def _store(session: Session, entry: OrganisationEntry, form: OrganisationForm
           ) -> Organisation:
    service.import_directory(session, DirectoryFile(organisations=[entry]))
    org = find(session, entry.id)
    assert org is not None  # just written
    org.active = form.active  # an import always activates what it lists; the form says
    session.flush()
    return org


def _announce(session: Session, user: audit.Actor, action: str, org: Organisation,
              before: dict[str, Any], after: dict[str, Any], now: datetime) -> None:
    changed = [name for name in ALL_FIELDS if before.get(name) != after.get(name)]
    if not changed:
        return  # saved as it was: nothing to audit, no process needs to reload
    audit.record(session, user, action, now, organisation=org.slug,
                 before={name: before[name] for name in changed if name in before},
                 after={name: after[name] for name in changed})
    bus.publish(session, bus.QueueEvent(org.id, bus.EventKind.DIRECTORY_CHANGED))


def audited(org: Organisation) -> dict[str, Any]:
    """The organisation's fields, comparable and as JSON keeps them. Duty numbers are the
    organisation's own lines, never a caller's, so they may be in the audit log."""
    form = form_of(org)
    return {"name": org.name, "country": org.country, "timezone": org.timezone,
            "active": org.active, "hub": org.is_hub, "priority": org.priority,
            "services": list(org.services), "languages": list(org.languages),
            "duty_numbers": list(org.duty_numbers), "ring": org.ring_mode,
            "hours": ALWAYS if org.always_open else {
                day: form.hours[day] for day in WEEKDAYS if day in form.hours},
            "exceptions": {row.dates: _describe(row) for row in form.exceptions},
            "require_2fa": org.require_2fa}


def _describe(row: ExceptionRow) -> str:
    """'Nauryz: holiday', 'closure 09:00-12:00', 'open 10:00-14:00'."""
    what = row.kind if row.kind == HOLIDAY else f"{row.kind} {row.hours}"
    return f"{row.name}: {what}" if row.name else what
