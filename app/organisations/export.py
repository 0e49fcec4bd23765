"""The directory in the database, written back as the file ``hotline directory import``
reads: organisations (hours, dated exceptions, ring mode, two-factor rule), lines and
per-country information messages.

The output is canonical (each day's exception on its own, lists in their stored order,
defaults written out), so exporting, importing the export and exporting again gives the
same bytes: a coordinator can keep the file under version control and diff it.
"""

from typing import Any

import yaml
from sqlalchemy.orm import Session

from app.organisations import information, lines, service
from app.organisations.models import NationalLine, OpeningException, Organisation
from app.organisations.schemas import ALWAYS, WEEKDAYS, format_interval

HEADER = ("# The hotline's responder directory, exported by `hotline directory export`.\n"
          "# Edit and load it again with `hotline directory import FILE`.\n")


def export_directory(session: Session) -> str:
    """The active organisations, lines and information messages as YAML."""
    data: dict[str, Any] = {
        "organisations": [_organisation(org) for org in service.list_organisations(session)],
        "lines": [_line(line) for line in lines.list_lines(session)],
    }
    messages = information.load(session)
    if messages:  # left out when there are none, as files written before it had
        data["information"] = information.as_file_section(messages)
    return HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _organisation(org: Organisation) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": org.slug, "name": org.name, "country": org.country,
                             "timezone": org.timezone, "hours": _hours(org)}
    if org.exceptions:
        entry["exceptions"] = {e.day.isoformat(): _exception(e) for e in org.exceptions}
    return entry | {
        "services": list(org.services), "languages": list(org.languages),
        "duty_numbers": list(org.duty_numbers), "ring": str(org.ring_mode),
        "hub": org.is_hub, "priority": org.priority, "require_2fa": org.require_2fa,
    }


def _hours(org: Organisation) -> str | dict[str, list[str]]:
    if org.always_open:
        return ALWAYS
    week: dict[str, list[str]] = {}
    for interval in org.hours:  # ordered by weekday, then opening time
        week.setdefault(WEEKDAYS[interval.weekday], []).append(
            format_interval(interval.opens_at, interval.closes_at))
    return week


def _exception(exception: OpeningException) -> Any:
    """The shortest written form that reads back as this exception."""
    hours = list(exception.intervals)
    if exception.name is None:
        if exception.closed:
            return {"closed": hours} if hours else "closed"
        return hours
    if exception.closed:
        return {"name": exception.name, "closed": hours or True}
    return {"name": exception.name, "open": hours}


def _line(line: NationalLine) -> dict[str, Any]:
    entry: dict[str, Any] = {"number": line.number, "country": line.country,
                             "languages": list(line.languages)}
    if line.sms_sender is not None:
        entry["sms_sender"] = line.sms_sender
    if line.label is not None:
        entry["label"] = line.label
    return entry
