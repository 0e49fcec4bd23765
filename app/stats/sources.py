"""Counting people in the database, once per period, by up to two dimensions.

Each person (caller pseudonym) is counted once per period and table, in the cell of
their first contact (or first case) in that period, so a table's cells add up to its
totals and a repeat caller cannot inflate a small cell. Periods are computed in SQL
(UTC), so only one row per cell comes back.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, select
from sqlalchemy.orm import Session

from app.cases.casework import CaseScreening
from app.cases.models import Case, Contact
from app.stats import dimensions
from app.stats.dimensions import Period, Source


@dataclass(frozen=True)
class Window:
    start: datetime  # first day of a month, 00:00 UTC
    end: datetime    # first day of the month after the last, exclusive


def _columns(source: Source) -> dict[str, Any]:
    row = Contact if source is Source.CONTACTS else Case
    return {
        "country": row.caller_country, "language": row.language, "channel": row.channel,
        "need": row.need, "child": row.child,
        "outcome": Contact.outcome if source is Source.CONTACTS else Case.status,
        "organisation": Case.organisation_id, "gender": CaseScreening.gender,
        "age_band": CaseScreening.age_band, "citizenship": CaseScreening.citizenship,
        "exploitation": CaseScreening.exploitation_types,
    }


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
            window: Window, countries: list[str]) -> Select[Any]:
    """One row per person and period: their first record's dimension values."""
    columns = _columns(source)
    time = Contact.started_at if source is Source.CONTACTS else Case.created_at
    label = period_expression(session.get_bind().dialect.name, time, period)
    pseudonym = Contact.caller_pseudonym if source is Source.CONTACTS else Case.caller_pseudonym
    tiebreak = Contact.id if source is Source.CONTACTS else Case.id
    first = func.row_number().over(partition_by=(pseudonym, label), order_by=(time, tiebreak))
    query = select(label.label("period"), *[columns[n].label(n) for n in names],
                   first.label("first"))
    if source is Source.CONTACTS:
        query = query.select_from(Contact).outerjoin(Case, Contact.case_id == Case.id)
    else:
        query = query.select_from(Case)
    if any(dimensions.DIMENSIONS[n].screening for n in names):
        query = query.outerjoin(CaseScreening, CaseScreening.case_id == Case.id)
    query = query.where(time >= window.start, time < window.end)
    if countries:
        query = query.where(columns["country"].in_(countries))
    return query


def count(session: Session, source: Source, names: list[str], period: Period,
          window: Window, countries: list[str],
          organisations: dict[int, str]) -> Counter[tuple[str, ...]]:
    """People per (period, category, ...) over the window."""
    people = _people(session, source, names, period, window, countries).subquery()
    columns = [people.c.period, *[people.c[n] for n in names]]
    multi = any(dimensions.DIMENSIONS[n].multi for n in names)
    if multi:
        rows = session.execute(select(*columns, literal_column("1"))
                               .where(people.c.first == 1))
    else:
        rows = session.execute(select(*columns, func.count()).where(people.c.first == 1)
                               .group_by(*columns))
    counts: Counter[tuple[str, ...]] = Counter()
    for period_label, *values, n in rows:
        for key in _keys(names, values, organisations):
            counts[(period_label, *key)] += n
    return counts


def _keys(names: list[str], values: list[Any],
          organisations: dict[int, str]) -> list[tuple[str, ...]]:
    if names and dimensions.DIMENSIONS[names[0]].multi:
        return [(c,) for c in dimensions.multi_categories(names[0], values[0])]
    return [tuple(dimensions.category(n, v, organisations) for n, v in zip(names, values,
                                                                          strict=True))]
