"""A statistics release: the question, the counts, and the protection, in one place.

``parse`` turns the coordinator's question into a fixed shape (at most two dimensions
plus a period, whole months, countries from the hotline's list); ``release`` counts,
optionally adds noise, collapses rare categories, withholds small cells and says what
was done. Every number in the result has been through ``disclosure.protect``.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.organisations.lines import line_numbers
from app.organisations.models import Organisation
from app.stats import disclosure, noise, sources
from app.stats.dimensions import COUNTRIES, DIMENSIONS, Period, Source, categories
from app.stats.disclosure import Key

MAX_DIMENSIONS = 2
DP_MAX_ITEMS = 3  # multi-select answers counted per person under differential privacy


class QueryError(ValueError):
    """The question cannot be answered in this shape; the message says why."""


@dataclass(frozen=True)
class StatsQuery:
    dimensions: tuple[str, ...]
    period: Period
    start: date  # first day of the first month
    end: date    # first day of the month after the last (exclusive)
    countries: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        return {"group_by": list(self.dimensions), "period": self.period.value,
                "from": self.start.isoformat(),
                "to": (self.end - timedelta(days=1)).isoformat(),
                "country": list(self.countries)}


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def parse(group_by: str, start: date | None, end: date | None, country: str | None,
          today: date, max_months: int) -> StatsQuery:
    """The question, snapped to whole months; QueryError says what is wrong."""
    names = [n.strip() for n in (group_by or "").split(",") if n.strip()]
    periods = [n for n in names if n in Period.__members__.values()]
    names = [n for n in names if n not in periods]
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown:
        raise QueryError(f"cannot group by {', '.join(unknown)}; choose from "
                         f"{', '.join([*Period, *DIMENSIONS])}")
    if len(periods) > 1 or len(names) > MAX_DIMENSIONS or len(set(names)) < len(names):
        raise QueryError("a table has at most two different dimensions and one period")
    if len(names) > 1 and any(DIMENSIONS[n].multi for n in names):
        raise QueryError("citizenship and exploitation hold several answers per person: "
                         "they are shown only in one-way tables")
    if any(d is not None and not 2000 <= d.year <= 2999 for d in (start, end)):
        raise QueryError("dates must be between the years 2000 and 2999")
    last = _next_month(end or today)
    first = _month_start(start) if start else _month_start(last - timedelta(days=365))
    if first >= last:
        raise QueryError("'from' must not be after 'to'")
    if (last.year - first.year) * 12 + last.month - first.month > max_months:
        raise QueryError(f"at most {max_months} months per table")
    countries = tuple(sorted({c.strip().upper() for c in (country or "").split(",")
                              if c.strip()}))
    if bad := [c for c in countries if c not in COUNTRIES]:
        raise QueryError(f"unknown country {', '.join(bad)}; use {', '.join(COUNTRIES)}")
    return StatsQuery(tuple(names), Period(periods[0]) if periods else Period.MONTH,
                      first, last, countries)


def periods_of(query: StatsQuery) -> list[str]:
    if query.period is Period.MONTH:
        labels, day = [], query.start
        while day < query.end:
            labels.append(day.strftime("%Y-%m"))
            day = _next_month(day)
        return labels
    monday = query.start - timedelta(days=query.start.weekday())
    weeks = (query.end - monday).days // 7 + (1 if (query.end - monday).days % 7 else 0)
    return [(monday + timedelta(weeks=i)).isoformat() for i in range(weeks)]


def organisation_slugs(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Organisation.id, Organisation.slug)).all())


def window_of(query: StatsQuery) -> sources.Window:
    return sources.Window(datetime.combine(query.start, datetime.min.time(), UTC),
                          datetime.combine(query.end, datetime.min.time(), UTC))


def release(session: Session, query: StatsQuery, settings: Settings,
            consented_only: bool = False) -> dict[str, Any]:
    """Both tables (contacts and cases) of one question, protected (``stats_k``, and noise
    when ``stats_epsilon`` is set); ``consented_only`` (exports to partners) counts only
    cases with reporting consent and their contacts."""
    slugs = organisation_slugs(session)
    lines = line_numbers(session)
    window = window_of(query)
    epsilon = settings.stats_epsilon
    share = epsilon / len(Source) if epsilon else None
    tables, privacy = {}, {}
    for source in Source:
        counts = sources.count(session, source, list(query.dimensions), query.period,
                               window, list(query.countries), slugs, consented_only,
                               frozenset(lines))
        persons = _persons(session, source, query, window, slugs, consented_only)
        table, applied = _table(query, source, counts, persons, settings.stats_k, share,
                                sorted(slugs.values()), lines)
        tables[source.value] = table
        if applied:
            privacy[source.value] = applied
    return {"query": query.describe(), "protection": _protection(settings, privacy),
            "tables": tables}


def _persons(session: Session, source: Source, query: StatsQuery, window: sources.Window,
             slugs: dict[int, str], consented_only: bool) -> Counter[Key] | None:
    """People per period, for tables whose cells do not add up to it (multi-select)."""
    if not any(DIMENSIONS[n].multi for n in query.dimensions):
        return None
    return sources.count(session, source, [], query.period, window, list(query.countries),
                         slugs, consented_only)


def _table(query: StatsQuery, source: Source, counts: Counter[Key],
           persons: Counter[Key] | None, k: int, epsilon: float | None,
           organisations: list[str], lines: list[str] | None = None
           ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    periods = periods_of(query)
    fixed = [categories(n, source, organisations, lines) for n in query.dimensions]
    applied = None
    if epsilon is not None:
        counts, persons, applied = _add_noise(query, counts, persons, periods, fixed, epsilon)
    cells = {key: n for key, n in counts.items() if n}
    merged, _ = disclosure.collapse_rare({key[1:]: n for key, n in cells.items()}, k)
    cats = [[c for c in axis if any(key[i] == c for key in merged) or epsilon is not None]
            for i, axis in enumerate(_with_other(fixed))]
    rows = []
    for period in periods:
        period_cells = {key[1:]: n for key, n in cells.items() if key[0] == period}
        total = persons.get((period,), 0) if persons is not None else None
        shown = disclosure.protect(_restrict(period_cells, merged, cats), cats, k,
                                   additive=persons is None, total=total)
        rows += [_row(period, query.dimensions, key, figure) for key, figure in shown.items()]
    return {"rows": rows}, applied


def _with_other(fixed: list[list[str]]) -> list[list[str]]:
    return [axis if disclosure.OTHER in axis else [*axis[:-1], disclosure.OTHER, axis[-1]]
            for axis in fixed]


def _restrict(period_cells: dict[Key, int], merged: dict[Key, int],
              cats: list[list[str]]) -> dict[Key, int]:
    """A period's cells, with categories rare over the whole window counted in other."""
    allowed = [set(axis) for axis in cats]
    out: dict[Key, int] = {}
    for key, n in period_cells.items():
        new = tuple(part if part in allowed[i] else disclosure.OTHER
                    for i, part in enumerate(key))
        out[new] = out.get(new, 0) + n
    return out


def _row(period: str, names: tuple[str, ...], key: Key,
         figure: disclosure.Figure) -> dict[str, Any]:
    row: dict[str, Any] = {"period": period, **dict(zip(names, key, strict=True))}
    row.update({"value": figure.value, "display": figure.display,
                "withheld": figure.withheld.value if figure.withheld else None,
                "percent": figure.percent})
    return row


def _add_noise(query: StatsQuery, counts: Counter[Key], persons: Counter[Key] | None,
               periods: list[str], fixed: list[list[str]], epsilon: float) -> tuple[
        Counter[Key], Counter[Key] | None, dict[str, Any]]:
    """Noise on every cell of the fixed grid, zeros included; totals get their own."""
    multi = persons is not None
    cell_epsilon = epsilon / 2 if multi else epsilon
    grid = [(p, *combo) for p in periods for combo in _product(fixed)]
    plan = noise.plan(cell_epsilon, len(periods) * (DP_MAX_ITEMS if multi else 1))
    noisy = Counter(dict(zip(grid, noise.noisy([counts.get(key, 0) for key in grid], plan),
                             strict=True)))
    applied = {"cells": plan.describe()}
    if persons is not None:
        total_plan = noise.plan(epsilon / 2, len(periods))
        keys = [(p,) for p in periods]
        persons = Counter(dict(zip(keys, noise.noisy([persons.get(k, 0) for k in keys],
                                                     total_plan), strict=True)))
        applied["totals"] = total_plan.describe()
    return noisy, persons, applied


def _product(axes: list[list[str]]) -> list[Key]:
    combos: list[Key] = [()]
    for axis in axes:
        combos = [(*combo, value) for combo in combos for value in axis]
    return combos


def _protection(settings: Settings, privacy: dict[str, Any]) -> dict[str, Any]:
    k, epsilon = settings.stats_k, settings.stats_epsilon
    return {
        "k": k,
        "counting": "each person once per period and table, at their first contact "
                    "(contacts), first case (cases) or first blocked contact (blocked) in "
                    "the period; blocked callers turned away are not counted in contacts",
        "small_cells": f"counts from 1 to {k - 1} are shown as <{k}",
        "complementary": "cells shown as x are withheld so that no <k cell can be worked "
                         "out from the totals",
        "rare_categories": ("every category is listed, zeros included, as noise covers "
                            "them" if epsilon else
                            f"categories with fewer than {k} people in the window are "
                            "counted in 'other'"),
        "percentages": "share of the row among people whose answer is known; withheld "
                       "where the cell or the row total is withheld",
        "differential_privacy": ({"epsilon": epsilon, "tables": privacy}
                                 if epsilon else None),
    }

