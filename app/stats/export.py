"""Files for partners: CSV of an aggregate table, and the k-anonymous case-level export
in HTCDS column names.

Both count only cases whose person gave reporting consent (and, in the tables, those
cases' contacts); ``without_consent`` says how many records were left out. Every CSV the
service writes goes through ``to_csv``: spreadsheet formulas in cells are neutralised.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from app.cases.casework import CaseScreening
from app.cases.models import Case, Contact
from app.cases.screening import HTCDS_EXPORT_NAMES
from app.stats import kanon
from app.stats.sources import Window

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA = re.compile(f"(^|;)(?=[{re.escape(''.join(FORMULA_STARTS))}])")
YEAR_COLUMN = "yearOfRegistration"  # CTDC's name; HTCDS has none
QI_COLUMNS = {"gender": HTCDS_EXPORT_NAMES["gender"], "age_band": HTCDS_EXPORT_NAMES["age_band"],
              "citizenship": HTCDS_EXPORT_NAMES["citizenship"],
              "country_of_exploitation": HTCDS_EXPORT_NAMES["country_of_exploitation"],
              "year": YEAR_COLUMN}
OTHER_FIELDS = ("trafficking_status", "exploitation_types", "control_methods",
                "recruitment_method", "relationship_to_trafficker", "referral_made")


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets a quote, and so
    does one after a ";" (lists are joined with it, and Excel in Russian and other locales
    opens a CSV file split at ";", quotes or not)."""
    text = "" if value is None else str(value)
    return _FORMULA.sub(r"\1'", text)


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue()


def table_csv(body: dict[str, Any]) -> str:
    names = body["query"]["group_by"]
    header = ["table", "period", *names, "count", "shown_as", "withheld", "percent"]
    rows = [[table, row["period"], *[row[n] for n in names], row["value"], row["display"],
             row["withheld"], row["percent"]]
            for table, content in body["tables"].items() for row in content["rows"]]
    return to_csv(header, rows)


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(getattr(value, "value", value))


@dataclass(frozen=True)
class LeftOut:
    """Records in an export's window left out for want of reporting consent."""

    cases: int
    contacts: int | None = None  # None: the export has no contacts (HTCDS)

    def headers(self, k: int) -> dict[str, str]:
        shown = {"X-Cases-Without-Consent": shown_count(self.cases, k)}
        if self.contacts is not None:
            shown["X-Contacts-Without-Consent"] = shown_count(self.contacts, k)
        return shown


def shown_count(n: int, k: int) -> str:
    """A count of records as the tables show counts: 1 to k-1 as ``<k``, since an exact
    small number here would give away what the tables withhold."""
    return str(n) if n == 0 or n >= k else f"<{k}"


def without_consent(session: Session, window: Window, countries: list[str], *,
                    screened: bool = False) -> LeftOut:
    """What an export of the window leaves out: cases without reporting consent and
    contacts not in a consented case (tables), or screened cases without consent (HTCDS,
    whose rows are screenings)."""
    cases = session.scalar(_cases_without_consent(window, countries, screened)) or 0
    if screened:
        return LeftOut(cases)
    return LeftOut(cases, session.scalar(_contacts_without_consent(window, countries)) or 0)


def _cases_without_consent(window: Window, countries: list[str],
                           screened: bool) -> Select[int]:
    query = select(func.count()).select_from(Case).where(
        Case.created_at >= window.start, Case.created_at < window.end,
        Case.reporting_consent.is_(False))
    if screened:
        query = query.join(CaseScreening, CaseScreening.case_id == Case.id)
    return query.where(Case.caller_country.in_(countries)) if countries else query


def _contacts_without_consent(window: Window, countries: list[str]) -> Select[int]:
    query = (select(func.count()).select_from(Contact)
             .outerjoin(Case, Contact.case_id == Case.id)
             .where(Contact.started_at >= window.start, Contact.started_at < window.end,
                    or_(Case.id.is_(None), Case.reporting_consent.is_(False))))
    return query.where(Contact.caller_country.in_(countries)) if countries else query


def case_rows(session: Session, window: Window, countries: list[str]) -> list[dict[str, str]]:
    """One row per person (their latest screened case with reporting consent in the
    window), QIs unprocessed."""
    query = (select(Case.caller_pseudonym, Case.created_at, CaseScreening)
             .join(CaseScreening, CaseScreening.case_id == Case.id)
             .where(Case.created_at >= window.start, Case.created_at < window.end,
                    Case.reporting_consent.is_(True))
             .order_by(Case.created_at))
    if countries:
        query = query.where(Case.caller_country.in_(countries))
    latest: dict[str, tuple[datetime, CaseScreening]] = {}
    for pseudonym, created_at, screening in session.execute(query):
        latest[pseudonym] = (created_at, screening)
    return [_row(created_at, s) for created_at, s in latest.values()]


def _row(created_at: datetime, screening: CaseScreening) -> dict[str, str]:
    # Several citizenships are rare; the first stands for the person in the k-anonymity
    # check, as a second one would make almost every such person unique.
    citizenship = screening.citizenship[0] if screening.citizenship else ""
    row = {"gender": _value(screening.gender), "age_band": _value(screening.age_band),
           "citizenship": citizenship,
           "country_of_exploitation": screening.country_of_exploitation or "",
           "year": str(created_at.year)}
    row.update({name: _value(getattr(screening, name)) for name in OTHER_FIELDS})
    return row


def htcds(rows: list[dict[str, str]], k: int) -> tuple[kanon.Anonymised, str]:
    result = kanon.anonymise(rows, k)
    columns = {**QI_COLUMNS, **{n: HTCDS_EXPORT_NAMES[n] for n in OTHER_FIELDS}}
    text = to_csv(list(columns.values()),
                  [[row[name] for name in columns] for row in result.rows])
    return result, text
