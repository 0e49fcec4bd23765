"""Files for partners: CSV of an aggregate table, and the k-anonymous case-level export
in HTCDS column names, cut from calendar quarters anonymised one by one (``Blocks``).

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

from sqlalchemy import Result, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.cases.casework import CaseScreening
from app.cases.models import Case, Contact
from app.cases.screening import HTCDS_EXPORT_NAMES
from app.stats import disclosure, kanon, sources
from app.stats.dimensions import Period
from app.stats.disclosure import UNKNOWN
from app.stats.service import quarter_label, quarter_number
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
    """Records in an export's window left out for want of reporting consent, and which of
    the two counts the window's months withhold (``disclosure.shown_in_block``)."""

    cases: int
    contacts: int | None = None  # None: the export has no contacts (HTCDS)
    held: frozenset[str] = frozenset()  # "cases", "contacts"

    def shown(self, k: int) -> dict[str, str]:
        counts = {"cases": self.cases, "contacts": self.contacts}
        return {name: shown_count(n, k, name in self.held)
                for name, n in counts.items() if n is not None}

    def headers(self, k: int) -> dict[str, str]:
        return {f"X-{name.title()}-Without-Consent": text
                for name, text in self.shown(k).items()}


def shown_count(n: int, k: int, held: bool = False) -> str:
    """A count of records as the tables show counts: 1 to k-1 as ``<k``, since an exact
    small number here would give away what the tables withhold; ``x`` where a month of
    the window withholds it (two windows would differ by that month's few)."""
    if 0 < n < k:
        return f"<{k}"
    return "x" if held else str(n)


def without_consent(session: Session, window: Window, countries: list[str], k: int, *,
                    screened: bool = False) -> LeftOut:
    """What an export of the window leaves out: cases without reporting consent and
    contacts not in a consented case (tables), or screened cases without consent (HTCDS,
    whose rows are screenings); counted by block (month, or quarter for HTCDS) and
    country, so that each count is shown only where every block of it would be."""
    counts = {"cases": _by_month(session, _cases_without_consent(window, screened),
                                 Case.created_at, Case.caller_country)}
    if screened:  # the HTCDS file's blocks are quarters: so are its counts'
        counts = {name: _quarterly(months) for name, months in counts.items()}
    else:
        counts["contacts"] = _by_month(session, _contacts_without_consent(window),
                                       Contact.started_at, Contact.caller_country)
    held = frozenset(name for name, blocks in counts.items()
                     if not all(disclosure.shown_in_block(block, countries, k)
                                for block in blocks.values()))
    totals = {name: sum(n for block in months.values() for c, n in block.items()
                        if not countries or c in countries)
              for name, months in counts.items()}
    return LeftOut(totals["cases"], totals.get("contacts"), held)


def _by_month(session: Session, query: Select[Any], moment: Any, country: Any
              ) -> dict[str, dict[str, int]]:
    """Records per month and country (unknown as ``UNKNOWN``)."""
    month = sources.period_expression(session.get_bind().dialect.name, moment, Period.MONTH)
    found: dict[str, dict[str, int]] = {}
    rows: Result[str, str | None, int] = session.execute(
        query.add_columns(month, country, func.count()).group_by(month, country))
    for period, code, n in rows:
        found.setdefault(period, {})[code or UNKNOWN] = n
    return found


def _quarterly(months: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    quarters: dict[str, dict[str, int]] = {}
    for month, by_country in months.items():
        block = quarters.setdefault(_quarter_of(datetime.strptime(month, "%Y-%m")), {})
        for country, n in by_country.items():
            block[country] = block.get(country, 0) + n
    return quarters


def _cases_without_consent(window: Window, screened: bool) -> Select[Any]:
    query = select().select_from(Case).where(
        Case.created_at >= window.start, Case.created_at < window.end,
        Case.reporting_consent.is_(False))
    if screened:
        query = query.join(CaseScreening, CaseScreening.case_id == Case.id)
    return query


def _contacts_without_consent(window: Window) -> Select[Any]:
    return (select().select_from(Contact)
            .outerjoin(Case, Contact.case_id == Case.id)
            .where(Contact.started_at >= window.start, Contact.started_at < window.end,
                   or_(Case.id.is_(None), Case.reporting_consent.is_(False))))


def _quarter_of(moment: datetime) -> str:
    return quarter_label(quarter_number(moment))


def _quarters(window: Window) -> list[str]:
    """The quarters of a window of whole quarters, oldest first."""
    return [quarter_label(n) for n in range(quarter_number(window.start),
                                            quarter_number(window.end))]


def case_blocks(session: Session, window: Window) -> dict[str, list[dict[str, str]]]:
    """The rows of each quarter of ``window`` (whole quarters), QIs unprocessed: one per
    person whose first screened case with reporting consent, ever, was opened in that
    quarter, from that case's screening. A later case never moves a person: a quarter
    holds the same people whichever window it is asked in, and so does the next."""
    blocks: dict[str, list[dict[str, str]]] = {label: [] for label in _quarters(window)}
    for created_at, screening in session.execute(_first_cases(window)):
        blocks[_quarter_of(created_at)].append(_row(created_at, screening))
    return blocks


def _first_cases(window: Window) -> Select[datetime, CaseScreening]:
    """Each person's first screened case with consent, ever, if opened in the window: no
    earlier one exists (the id breaks a tie in time, so there is only one first)."""
    earlier, screened = aliased(Case), aliased(CaseScreening)
    before = (select(earlier.id).join(screened, screened.case_id == earlier.id)
              .where(earlier.caller_pseudonym == Case.caller_pseudonym,
                     earlier.reporting_consent.is_(True),
                     or_(earlier.created_at < Case.created_at,
                         and_(earlier.created_at == Case.created_at, earlier.id < Case.id))))
    return (select(Case.created_at, CaseScreening)
            .join(CaseScreening, CaseScreening.case_id == Case.id)
            .where(Case.created_at >= window.start, Case.created_at < window.end,
                   Case.reporting_consent.is_(True), ~exists(before))
            .order_by(Case.created_at, Case.id))


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


@dataclass(frozen=True)
class Blocks:
    """The HTCDS file: each quarter anonymised on its own (its own levels and suppression),
    oldest first. Every block is k-anonymous by itself, so their union is, and two files
    differ by whole blocks."""

    released: dict[str, kanon.Anonymised]

    @property
    def rows(self) -> list[dict[str, str]]:
        return [row for block in self.released.values() for row in block.rows]

    @property
    def suppressed(self) -> int:
        return sum(block.suppressed for block in self.released.values())

    @property
    def achieved_k(self) -> int | None:
        return min((block.achieved_k for block in self.released.values()
                    if block.achieved_k is not None), default=None)

    def generalisation(self) -> str:
        """Each quarter's levels: ``2026-Q1:gender=0,age_band=1,...;2026-Q2:...``."""
        return ";".join(f"{label}:" + ",".join(f"{n}={v}" for n, v in block.levels.items())
                        for label, block in self.released.items())


def htcds(blocks: dict[str, list[dict[str, str]]], k: int) -> tuple[Blocks, str]:
    result = Blocks({label: kanon.anonymise(rows, k) for label, rows in blocks.items()})
    columns = {**QI_COLUMNS, **{n: HTCDS_EXPORT_NAMES[n] for n in OTHER_FIELDS}}
    text = to_csv(list(columns.values()),
                  [[row[name] for name in columns] for row in result.rows])
    return result, text
