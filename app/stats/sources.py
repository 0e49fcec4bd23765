"""Counting people in the database, once per period, by up to two dimensions.

Each person (caller pseudonym) is counted once per period and table, in the cell of
their first contact (or first case) in that period, so a table's cells add up to its
totals and a repeat caller cannot inflate a small cell. Periods are computed in SQL
(UTC), so only one row per cell comes back.

Monthly tables by country and language (the dashboard's) read the stored figures of
settled months (``rollup``) and count only the last hour or two live.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from app.cases.casework import CaseScreening
from app.cases.models import Case, Contact, ContactOutcome
from app.stats import dimensions, rollup
from app.stats.dimensions import Period, Source

STORED = ("country", "language")  # the dimensions stored per month (see rollup)
Row = tuple[Any, ...]  # period, raw value per dimension, people


@dataclass(frozen=True)
class Window:
    start: datetime  # first day of a month, 00:00 UTC
    end: datetime    # first day of the month after the last, exclusive


def _columns(source: Source) -> dict[str, Any]:
    row = Case if source is Source.CASES else Contact
    return {
        "country": row.caller_country, "language": row.language, "channel": row.channel,
        "need": row.need, "child": row.child,
        "outcome": Case.status if source is Source.CASES else Contact.outcome,
        "organisation": Case.organisation_id, "line": _line(source),
        "gender": CaseScreening.gender,
        "age_band": CaseScreening.age_band, "citizenship": CaseScreening.citizenship,
        "exploitation": CaseScreening.exploitation_types,
    }


def _line(source: Source) -> Any:
    """The national line a contact came in on; a case's is its first contact's."""
    if source is not Source.CASES:
        return Contact.line
    first = aliased(Contact)
    return (select(first.line).where(first.case_id == Case.id)
            .order_by(first.started_at, first.id).limit(1).scalar_subquery())


def period_expression(dialect: str, column: Any, period: Period) -> ColumnElement[str]:
    if dialect == "postgresql":
        utc = func.timezone("UTC", column)
        if period is Period.MONTH:
            return func.to_char(utc, "YYYY-MM")
        return func.to_char(func.date_trunc("week", utc), "YYYY-MM-DD")
    if period is Period.MONTH:
        return func.strftime("%Y-%m", column)
    # SQLite: 'weekday 0' moves to the next Sunday (or stays), six days back is Monday.
    return func.date(column, "weekday 0", "-6 days")


def _people(session: Session, source: Source, names: list[str], period: Period,
            window: Window, countries: list[str], seen: rollup.Span | None = None,
            consented_only: bool = False) -> Select[Any]:
    """One row per person and period: their first record's dimension values. With
    ``seen``, people with a record in that span (already counted) are left out of its
    month; ``consented_only`` keeps only records of cases with reporting consent (a
    contact without a case has none)."""
    columns = _columns(source)
    row = Case if source is Source.CASES else Contact
    time = Case.created_at if source is Source.CASES else Contact.started_at
    label = period_expression(session.get_bind().dialect.name, time, period)
    pseudonym = row.caller_pseudonym
    first = func.row_number().over(partition_by=(pseudonym, label), order_by=(time, row.id))
    query = select(label.label("period"), *[columns[n].label(n) for n in names],
                   first.label("first"))
    if source is Source.CASES:
        query = query.select_from(Case)
    else:
        query = query.select_from(Contact).outerjoin(Case, Contact.case_id == Case.id)
    if any(dimensions.DIMENSIONS[n].screening for n in names):
        query = query.outerjoin(CaseScreening, CaseScreening.case_id == Case.id)
    query = query.where(time >= window.start, time < window.end, *_kept(source, row))
    if countries:
        query = query.where(columns["country"].in_(countries))
    if consented_only:  # Case is in the FROM of every source (outer-joined for contacts)
        query = query.where(Case.reporting_consent.is_(True))
    if seen is not None:
        earlier: type[Case] | type[Contact]  # aliased() is typed as the class it aliases
        if source is Source.CASES:
            earlier = aliased(Case)
            earlier_time = earlier.created_at
        else:
            earlier = aliased(Contact)
            earlier_time = earlier.started_at
        query = query.where(or_(time >= rollup.next_month(seen[0]), ~exists().where(
            earlier.caller_pseudonym == pseudonym, earlier_time >= seen[0],
            earlier_time < seen[1], *_kept(source, earlier))))
    return query


def _kept(source: Source, row: Any) -> list[ColumnElement[bool]]:
    """Blocked contacts are not people the hotline served: they have a table of their own."""
    if source is Source.CASES:
        return []
    blocked = row.outcome == ContactOutcome.BLOCKED
    return [blocked if source is Source.BLOCKED else ~blocked]


def count(session: Session, source: Source, names: list[str], period: Period,
          window: Window, countries: list[str], organisations: dict[int, str],
          consented_only: bool = False, lines: frozenset[str] = frozenset()
          ) -> Counter[tuple[str, ...]]:
    """People per (period, category, ...) over the window. Stored figures count everyone,
    so ``consented_only`` (exports to partners) is always counted live."""
    split = (rollup.split(window.start, window.end)
             if period is Period.MONTH and not countries and set(names) <= set(STORED)
             and not consented_only else None)
    rows = (_rows(session, source, names, period, window, countries,
                  consented_only=consented_only) if split is None
            else _stored_rows(session, source, names, split))
    counts: Counter[tuple[str, ...]] = Counter()
    for period_label, *values, n in rows:
        for key in _keys(names, values, organisations, lines):
            counts[(period_label, *key)] += n
    return counts


def _rows(session: Session, source: Source, names: list[str], period: Period,
          window: Window, countries: list[str], seen: rollup.Span | None = None,
          consented_only: bool = False) -> list[Row]:
    """(period, raw values..., people) counted in the database."""
    people = _people(session, source, names, period, window, countries, seen,
                     consented_only).subquery()
    columns = [people.c.period, *[people.c[n] for n in names]]
    if any(dimensions.DIMENSIONS[n].multi for n in names):
        query = select(*columns, literal_column("1")).where(people.c.first == 1)
    else:
        query = (select(*columns, func.count()).where(people.c.first == 1)
                 .group_by(*columns))
    return [tuple(row) for row in session.execute(query)]


def _stored_rows(session: Session, source: Source, names: list[str],
                 split: rollup.Split) -> list[Row]:
    """Rows by the stored dimensions from settled months' figures plus the live rest,
    narrowed to ``names``."""
    def compute(span: rollup.Span, seen: rollup.Span | None) -> list[list[Any]]:
        return [[*values, n] for _, *values, n in _rows(
            session, source, list(STORED), Period.MONTH, Window(*span), [], seen)]

    rows = [(month, *cell) for month, cells in rollup.stored(
        session, source.value, split.stored, compute, _add_cells).items() for cell in cells]
    if split.live:
        rows += _rows(session, source, list(STORED), Period.MONTH, Window(*split.live), [],
                      split.seen)
    picked = [STORED.index(n) for n in names]
    return [(row[0], *[row[1 + i] for i in picked], row[-1]) for row in rows]


def _add_cells(cells: list[list[Any]], more: list[list[Any]]) -> list[list[Any]]:
    """Stored cells (values..., people) plus those of people first seen later."""
    total: Counter[tuple[Any, ...]] = Counter()
    for *values, n in cells + more:
        total[tuple(values)] += n
    return [[*values, n] for values, n in total.items()]


def _keys(names: list[str], values: list[Any], organisations: dict[int, str],
          lines: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    if names and dimensions.DIMENSIONS[names[0]].multi:
        return [(c,) for c in dimensions.multi_categories(names[0], values[0])]
    return [tuple(dimensions.category(n, v, organisations, lines)
                  for n, v in zip(names, values, strict=True))]
