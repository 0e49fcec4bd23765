"""Files for partners: CSV of an aggregate table, and the k-anonymous case-level export
in HTCDS column names. Spreadsheet formulas in cells are neutralised."""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases.casework import CaseScreening
from app.cases.models import Case
from app.cases.screening import HTCDS_EXPORT_NAMES
from app.stats import kanon
from app.stats.sources import Window

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
YEAR_COLUMN = "yearOfRegistration"  # CTDC's name; HTCDS has none
QI_COLUMNS = {"gender": HTCDS_EXPORT_NAMES["gender"], "age_band": HTCDS_EXPORT_NAMES["age_band"],
              "citizenship": HTCDS_EXPORT_NAMES["citizenship"],
              "country_of_exploitation": HTCDS_EXPORT_NAMES["country_of_exploitation"],
              "year": YEAR_COLUMN}
OTHER_FIELDS = ("trafficking_status", "exploitation_types", "control_methods",
                "recruitment_method", "relationship_to_trafficker", "referral_made")


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


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


def case_rows(session: Session, window: Window, countries: list[str]) -> list[dict[str, str]]:
    """One row per person (their latest screened case in the window), QIs unprocessed."""
    query = (select(Case.caller_pseudonym, Case.created_at, CaseScreening)
             .join(CaseScreening, CaseScreening.case_id == Case.id)
             .where(Case.created_at >= window.start, Case.created_at < window.end)
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
