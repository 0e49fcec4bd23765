"""A statistics release: the question, the counts, and the protection, in one place.

``parse`` turns the coordinator's question into a fixed shape (at most two dimensions
plus a period, whole months, countries from the hotline's list); ``release`` counts,
optionally adds noise, collapses rare categories, withholds small cells and says what
was done. Every number in the result has been through ``disclosure`` (small cells,
complementary suppression) and the interval audit (``intervals``: each period of a block
with everything released with it, the table by country included).

Releases are cut from fixed blocks so that two of them cannot be subtracted to reveal a
small count (docs/statistics.md, "Differencing"): each period (a calendar month or a
whole ISO week) is protected from its own counts alone, and a country filter selects
rows of the table counted by country over all countries, never a new sum.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.organisations.lines import line_numbers
from app.organisations.models import Organisation
from app.stats import disclosure, intervals, noise, sources
from app.stats.dimensions import COUNTRIES, DIMENSIONS, Period, Source, categories
from app.stats.disclosure import TOTAL, Key, Withheld

MAX_DIMENSIONS = 2
DP_MAX_ITEMS = 3  # multi-select answers counted per person under differential privacy
COUNTRY = "country"
FILTER_REFUSED = ("a country filter applies to one country, or to several in a table grouped "
                  "by country; with at most one other dimension, and not to citizenship or "
                  "exploitation")
HTCDS_COUNTRY_REFUSED = ("the HTCDS file covers every country and takes no country filter: "
                         "its citizenship and country-of-exploitation columns say where")


class QueryError(ValueError):
    """The question cannot be answered in this shape; the message says why."""


class NotSettled(QueryError):
    """Nothing the window holds has settled yet (``settled_by``)."""

    def __init__(self, days: int) -> None:
        super().__init__(f"no period of this window has settled yet: a month, week or quarter "
                         f"is released {days} days after it ends")
        self.days = days


@dataclass(frozen=True)
class StatsQuery:
    dimensions: tuple[str, ...]
    period: Period
    start: date  # first day of the first month
    end: date    # first day of the month after the last (exclusive)
    countries: tuple[str, ...] = ()
    settled_by: date = date.max  # periods ending on or before this day are released

    def describe(self) -> dict[str, Any]:
        return {"group_by": list(self.dimensions), "period": self.period.value,
                "from": self.start.isoformat(),
                "to": (self.end - timedelta(days=1)).isoformat(),
                "country": list(self.countries)}


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def settled_by(today: date, settle_days: int) -> date:
    """The day by which a period must have ended to be released. A period in progress
    grows from day to day, and records of a period just over are still being completed
    (screenings, consent), so two releases of it would differ by a few people: only
    periods that ended ``settle_days`` ago are released (docs/statistics.md, rule 12)."""
    return today - timedelta(days=settle_days)


def _settled_end(last: date, period: Period, by: date) -> date:
    """The exclusive end of the window, cut back to the last settled month or week."""
    if period is Period.MONTH:
        return min(last, _month_start(by))
    return min(last, by - timedelta(days=by.weekday()))


def parse(group_by: str, start: date | None, end: date | None, country: str | None,
          today: date, max_months: int, settle_days: int) -> StatsQuery:
    """The question, snapped to whole months and cut back to settled periods; QueryError
    says what is wrong."""
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
    period = Period(periods[0]) if periods else Period.MONTH
    by = settled_by(today, settle_days)
    last = _settled_end(_next_month(end or today), period, by)
    first = _month_start(start) if start else _month_start(last - timedelta(days=365))
    if start and end and _month_start(start) > _month_start(end):
        raise QueryError("'from' must not be after 'to'")
    if first >= last:
        raise NotSettled(settle_days)
    if (last.year - first.year) * 12 + last.month - first.month > max_months:
        raise QueryError(f"at most {max_months} months per table")
    countries = tuple(sorted({c.strip().upper() for c in (country or "").split(",")
                              if c.strip()}))
    if bad := [c for c in countries if c not in COUNTRIES]:
        raise QueryError(f"unknown country {', '.join(bad)}; use {', '.join(COUNTRIES)}")
    if countries and not _filterable(names, countries):
        raise QueryError(FILTER_REFUSED)
    return StatsQuery(tuple(names), period, first, last, countries, by)


def _filterable(names: list[str], countries: tuple[str, ...]) -> bool:
    """Whether a filtered table is rows of its country block (``block_of``): anything
    else would publish sums over countries that no protected table contains."""
    if any(DIMENSIONS[n].multi for n in names):
        return False
    return COUNTRY in names or (len(names) < MAX_DIMENSIONS and len(countries) == 1)


def block_of(query: StatsQuery, private: bool) -> StatsQuery:
    """The fixed block a release is cut from. Without noise, a table by at most one
    dimension besides country is counted and protected by country too, over all
    countries: the unfiltered release is its margin, a filtered one its country's rows,
    so the difference of the two is rows of the same protected table. Under differential
    privacy the noise covers differences (every release is in the ledger), so the
    question is counted as asked."""
    if private:
        return query
    names = query.dimensions
    if (COUNTRY not in names and len(names) < MAX_DIMENSIONS
            and not any(DIMENSIONS[n].multi for n in names)):
        names = (COUNTRY, *names)
    return replace(query, dimensions=names, countries=())


def _cut(table: dict[str, Any], query: StatsQuery, block: StatsQuery) -> dict[str, Any]:
    """The rows of the block's table that the question asked for, unchanged."""
    if block == query:
        return table
    added = COUNTRY not in query.dimensions
    wanted = set(query.countries) or ({TOTAL} if added else None)
    rows = []
    for row in table["rows"]:
        if wanted is not None and row[COUNTRY] not in wanted:
            continue
        if added:
            row = {name: value for name, value in row.items() if name != COUNTRY}
            if not query.dimensions:  # a country's share of all countries: not asked
                row["percent"] = None
        rows.append(row)
    return {**table, "rows": rows}


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


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


def window_of(query: StatsQuery) -> sources.Window:
    return sources.Window(_midnight(query.start), _midnight(query.end))


def counted_window(query: StatsQuery) -> sources.Window:
    """The window the tables count: whole periods. A week that starts before the first
    month asked for, or ends after the last, is counted whole, as in any other release
    that holds it; a part of a week would differ from it by a few people."""
    if query.period is Period.MONTH:
        return window_of(query)
    monday = query.start - timedelta(days=query.start.weekday())
    return sources.Window(_midnight(monday),
                          _midnight(monday + timedelta(weeks=len(periods_of(query)))))


def quarter_window(query: StatsQuery) -> sources.Window:
    """The window of the HTCDS file: whole calendar quarters, from the first the months
    asked touch to the last, as weeks are counted whole (``counted_window``). Its blocks
    are quarters, each anonymised on its own; a part of one would be a smaller set of
    rows, anonymised differently from the whole quarter in another file."""
    first, last = quarter_number(query.start), quarter_number(query.end - timedelta(days=1))
    if _quarter_start(last + 1) > query.settled_by:  # as months are (``settled_by``)
        last -= 1
    return sources.Window(_midnight(_quarter_start(first)),
                          _midnight(_quarter_start(max(first, last + 1))))


def quarter_number(day: date) -> int:
    """Calendar quarters counted from year 0, so that the next is one more."""
    return day.year * 4 + (day.month - 1) // 3


def quarter_label(number: int) -> str:
    return f"{number // 4}-Q{number % 4 + 1}"


def _quarter_start(number: int) -> date:
    return date(number // 4, number % 4 * 3 + 1, 1)


def release(session: Session, query: StatsQuery, settings: Settings,
            consented_only: bool = False) -> dict[str, Any]:
    """Both tables (contacts and cases) of one question, protected (``stats_k``, and noise
    when ``stats_epsilon`` is set); ``consented_only`` (exports to partners) counts only
    cases with reporting consent and their contacts."""
    slugs = organisation_slugs(session)
    lines = line_numbers(session)
    window = counted_window(query)
    epsilon = settings.stats_epsilon
    share = epsilon / len(Source) if epsilon else None
    block = block_of(query, private=epsilon is not None)

    def drafts(asked: StatsQuery, consented: bool = False, listed: Drafts | None = None
               ) -> tuple[Drafts, dict[str, Any]]:
        found, privacy = {}, {}
        for source in Source:
            counts = sources.count(session, source, list(asked.dimensions), asked.period,
                                   window, list(asked.countries), slugs, consented,
                                   frozenset(lines))
            persons = _persons(session, source, asked, window, slugs, consented)
            found[source], applied = _table(asked, source, counts, persons, settings.stats_k,
                                            share, sorted(slugs.values()), lines,
                                            listed[source] if listed else None)
            if applied:
                privacy[source.value] = applied
        return found, privacy

    everyone = audited_once(lambda wider: drafts(wider)[0], settings)
    privacy: dict[str, Any] = {}  # consented figures beside everyone's: never noisy
    if consented_only and epsilon is None:
        parts = _consented(block, settings, everyone,
                           lambda asked, listed: drafts(asked, True, listed)[0])
    else:
        parts, privacy = drafts(block, consented_only)
        _audit(block, parts, privacy, settings, everyone)
    tables = {source.value: _cut(_rendered(block, found, settings.stats_k), query, block)
              for source, found in parts.items()}
    return {"query": query.describe(), "protection": _protection(settings, privacy),
            "tables": tables}


Drafts = dict[Source, list[intervals.Part]]  # per source, one part per period
ROOT = (COUNTRY,)  # the table every block without noise shares its margins with
BELOW = ((Source.CASES.value, Source.CONTACTS.value),)  # a case's person was in contact


def audited_once(count: Callable[[StatsQuery], Drafts], settings: Settings,
                 beside_of: Callable[[StatsQuery], list[intervals.Part]] | None = None
                 ) -> Callable[[StatsQuery], Drafts]:
    """Blocks of context counted and audited once a release: a table by two dimensions
    shares the table by country through both of its context blocks."""
    audited: dict[StatsQuery, Drafts] = {}

    def context_of(wider: StatsQuery) -> Drafts:
        if wider not in audited:
            audited[wider] = count(wider)
            _audit(wider, audited[wider], {}, settings, context_of,
                   beside_of(wider) if beside_of else None)
        return audited[wider]
    return context_of


EVERYONE = " (everyone)"  # the source of a table of everyone beside a consented one
# A consented table counts some of the people the table of everyone counts.
CONSENTED_BELOW = (*BELOW, *((s.value, s.value + EVERYONE) for s in Source),
                   (Source.CASES.value + EVERYONE, Source.CONTACTS.value + EVERYONE))


def _consented(block: StatsQuery, settings: Settings, everyone: Callable[[StatsQuery], Drafts],
               count: Callable[[StatsQuery, Drafts], Drafts]) -> Drafts:
    """The figures of people whose cases have reporting consent (exports to partners),
    audited beside the same tables of everyone, which the dashboard shows: subtracting
    one from the other must not give away the few people without consent. Each table
    lists the categories everyone's lists, so that their cells are alike; a cell whose
    difference from everyone's is 1 to k-1 is withheld, and the audit widens every
    withheld cell's range with everyone's figures known (so the difference's too)."""
    k = settings.stats_k

    def consented(asked: StatsQuery) -> Drafts:
        whole = everyone(asked)
        found = count(asked, whole)
        _withhold_small_differences(found, whole, k)
        return found

    def beside(asked: StatsQuery) -> list[intervals.Part]:
        return [replace(p, name=(p.name, EVERYONE), source=p.source + EVERYONE)
                for wider in (asked, *_context_of(asked))
                for found in everyone(wider).values() for p in found]

    parts = consented(block)
    _audit(block, parts, {}, settings, audited_once(consented, settings, beside),
           beside(block))
    return parts


def _withhold_small_differences(parts: Drafts, whole: Drafts, k: int) -> None:
    """Hidden (any number from 0; "at least k" would keep the cell within k of everyone's
    figure): a consented cell 1 to k-1 below everyone's, and one beside a withheld figure
    of everyone's, which it would bound from below."""
    for source, found in parts.items():
        for part, everyone in zip(found, whole[source], strict=True):
            for key, value in part.table.items():
                if key in part.withheld:
                    continue
                if key in everyone.withheld:
                    gives_away = value > 0
                else:
                    gives_away = 0 < everyone.table.get(key, value) - value < k
                if gives_away:
                    part.withheld[key] = Withheld.HIDDEN


def _audit(block: StatsQuery, parts: Drafts, privacy: dict[str, Any], settings: Settings,
           context_of: Callable[[StatsQuery], Drafts],
           beside: list[intervals.Part] | None = None) -> None:
    """Each period of the block audited as a whole, all sources together (``intervals``),
    with the blocks whose margins it shares as released context (``_context_of``): their
    figures never depend on the block, so a period is shown alike in every release holding
    it (the dashboard's tables, an API answer, a file), and no union of them says more.
    Where context pins a line, its cells are shown without their marks (``hidden``).
    ``context_of`` gives a context block counted and audited; ``beside``, released tables
    of other people to audit with (everyone's, beside consented figures)."""
    k = settings.stats_k
    level = intervals.protection_level(k, settings.stats_protection)
    if not _audit_needed(privacy, level):
        return
    context: list[intervals.Part] = []
    for wider in _context_of(block) if settings.stats_epsilon is None else []:
        context += [p for found in context_of(wider).values() for p in found]
    context += beside or []
    below = CONSENTED_BELOW if beside else BELOW
    for period in periods_of(block):
        fixed = [replace(p, fixed=True) for p in context if p.period == period]
        release = intervals.Release(fixed, below)
        _protect_period(parts, period, release, k, level, settings.stats_epsilon is None)


def _protect_period(parts: Drafts, period: str, context: intervals.Release, k: int,
                    level: int, foldable: bool) -> None:
    """One period audited with its context; where naming categories pins a table, the
    table is folded (``_fold``) and the period audited again, each other table from the
    suppression it had before the first audit."""
    while True:
        own = [p for found in parts.values() for p in found if p.period == period]
        marks = [dict(p.withheld) for p in own]
        release = replace(context, parts=[*context.parts, *own])
        pinned = intervals.protect(release, k, level).pinned
        if not (pinned and foldable and _fold(parts, pinned, k)):
            return
        for part, withheld in zip(own, marks, strict=True):
            part.withheld.clear()
            part.withheld.update(withheld)


def _fold(parts: Drafts, pinned: frozenset[Any], k: int) -> bool:
    """Every category but the country folded into other in the tables whose cells stay
    narrower than the protection level with everything else hidden: the rule that a
    named category holds at least k people pins them (a month of 35 people with three
    channels named: each 10 to 15). Named no longer, the categories say nothing; the
    table shows its period's people under other, by country where the block has it.
    False when none is left to fold."""
    folded = False
    for found in parts.values():
        for i, part in enumerate(found):
            if (part.name in pinned and part.folded
                    and any(name != COUNTRY for name in part.group)):
                found[i] = _folded(part, k)
                folded = True
    return folded


def _folded(part: intervals.Part, k: int) -> intervals.Part:
    like = [cats if name == COUNTRY else [disclosure.OTHER]
            for name, cats in zip(part.group, part.categories, strict=True)]
    total = None if part.additive else part.table[tuple(TOTAL for _ in part.group)]
    axes = [cats if disclosure.OTHER in cats else [*cats, disclosure.OTHER] for cats in like]
    table = _period_table(dict(part.fine), axes, k, total, noisy=False, like=like)
    return replace(table, name=part.name, group=part.group, source=part.source,
                   period=part.period)


def _context_of(block: StatsQuery) -> list[StatsQuery]:
    """The blocks whose margins ``block`` shares and which are released alike whatever is
    asked: the table by country for a table by country and something else (or by one
    question of several answers); the tables by country and each dimension for a table
    by two other dimensions (both give the people per language, say)."""
    if block.dimensions == ROOT:
        return []
    if COUNTRY in block.dimensions or len(block.dimensions) < MAX_DIMENSIONS:
        return [replace(block, dimensions=ROOT, countries=())]
    return [replace(block, dimensions=(COUNTRY, name), countries=())
            for name in block.dimensions]


def _audit_needed(privacy: dict[str, Any], level: int) -> bool:
    """Skipped only where the noise already gives the protection level: every table's
    noise is, with 95% probability, within an accuracy ``a`` of the true count, so a
    noisy cell that the released figures pinned exactly still leaves ``2a + 1`` whole
    numbers for the true count; and differential privacy bounds what any combination of
    released figures says about one person (post-processing costs no privacy). Where
    ``2a + 1`` is below the level (a large epsilon), the noisy figures are audited."""
    if not privacy:
        return True
    accuracies = [plan["accuracy_95"] for applied in privacy.values()
                  for plan in applied.values()]
    return any(2 * a + 1 < level for a in accuracies)


def _rendered(block: StatsQuery, parts: list[intervals.Part], k: int) -> dict[str, Any]:
    rows = []
    for part in parts:
        shown = disclosure.figures(part.table, part.withheld, k)
        rows += [_row(part.period, block.dimensions, key, figure)
                 for key, figure in shown.items()]
    return {"rows": rows}


def _persons(session: Session, source: Source, query: StatsQuery, window: sources.Window,
             slugs: dict[int, str], consented_only: bool) -> Counter[Key] | None:
    """People per period, for tables whose cells do not add up to it (multi-select)."""
    if not any(DIMENSIONS[n].multi for n in query.dimensions):
        return None
    return sources.count(session, source, [], query.period, window, list(query.countries),
                         slugs, consented_only)


def _table(query: StatsQuery, source: Source, counts: Counter[Key],
           persons: Counter[Key] | None, k: int, epsilon: float | None,
           organisations: list[str], lines: list[str] | None = None,
           listed: list[intervals.Part] | None = None
           ) -> tuple[list[intervals.Part], dict[str, Any] | None]:
    """One part per period; ``listed``: other parts (one per period) whose categories the
    parts list, instead of those the counts would (a consented table beside everyone's)."""
    periods = periods_of(query)
    fixed = [categories(n, source, organisations, lines) for n in query.dimensions]
    applied = None
    if epsilon is not None:
        counts, persons, applied = _add_noise(query, counts, persons, periods, fixed, epsilon)
    axes = _with_other(fixed)
    parts = []
    for period in periods:
        cells = {key[1:]: n for key, n in counts.items() if key[0] == period and n}
        total = persons.get((period,), 0) if persons is not None else None
        like = next(p.categories for p in listed if p.period == period) if listed else None
        part = _period_table(cells, axes, k, total, noisy=epsilon is not None, like=like)
        parts.append(replace(part, name=(query.dimensions, source.value, period),
                             group=query.dimensions, source=source.value, period=period))
    return parts, applied


def _period_table(cells: dict[Key, int], axes: list[list[str]], k: int, total: int | None,
                  noisy: bool, like: list[list[str]] | None = None) -> intervals.Part:
    """One period's table from that period's counts alone: which categories are listed,
    which are folded into other and which cells are withheld never depend on the other
    periods of the window, so every release holding this period shows it alike. Under
    noise every category of the fixed lists is listed, zeros included. ``like``: the
    categories to list instead (those of the table of everyone, for consented figures),
    the rest folded into other."""
    fine = cells
    if like is not None:
        cells = disclosure.into_other(cells, lambda axis, name: name not in like[axis])
    elif not noisy:
        cells, _ = disclosure.collapse_rare(cells, k)
    cats = [[c for c in axis if noisy or (like is not None and c in like[i])
             or any(key[i] == c for key in cells)] for i, axis in enumerate(axes)]
    table, constraints = disclosure.with_margins(cells, cats, total)
    withheld = disclosure.suppress(table, constraints if total is None else [], k)
    # Listed like another table, a category may hold fewer than k: no rule to relate.
    return intervals.Part((), (), "", "", fine, table, cats, additive=total is None,
                          folded=not noisy and like is None, withheld=withheld)



def _with_other(fixed: list[list[str]]) -> list[list[str]]:
    return [axis if disclosure.OTHER in axis else [*axis[:-1], disclosure.OTHER, axis[-1]]
            for axis in fixed]


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
                         "out from the totals; x cells marked 'hidden' could be any number, "
                         "zero included (their line's total, shown in other tables, "
                         "would otherwise pin them)",
        "intervals": f"given everything released with it, every withheld cell could be "
                     f"any of at least {intervals.protection_level(k, settings.stats_protection)}"
                     " whole numbers; more cells are shown as x until it could",
        "rare_categories": ("every category is listed, zeros included, as noise covers "
                            "them" if epsilon else
                            f"categories with fewer than {k} people in a month or week "
                            "are counted in 'other' in that month or week"),
        "fixed_blocks": ("each month or week is protected from its own counts alone, and "
                         "a country's figures are rows of the table by country, so two "
                         "releases that overlap show their common part alike"
                         if not epsilon else "each release has noise of its own; "
                         "overlapping releases are covered by the epsilon they spend"),
        "percentages": "share of the row among people whose answer is known; withheld "
                       "where the cell or the row total is withheld",
        "differential_privacy": ({"epsilon": epsilon, "tables": privacy}
                                 if epsilon else None),
    }

