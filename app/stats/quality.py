"""How well the hotline answers: per organisation and overall, over whole months.

Overall figures describe the caller's experience (time from the call reaching us to a
responder accepting it); per organisation they describe the calls offered to it by
routing. Counts below k are withheld like any other figure, and so are rates and times
built on them. Under differential privacy each caller's calls are capped (``DP_CAP``)
so that one person's weight is bounded, counts are noised, and times are not released.
Uncapped call figures of the whole hotline and call-backs add up over time, so settled
months come from ``rollup`` (a call-back completed, or its case referred, later outdates
its month's stored figures).

Without noise every count is cut from fixed blocks, the calendar months (docs/statistics.md,
rule 5): a window's count is shown only where each of its months' counts would be, so the
difference of two windows (January to April less January to March) is whole months, none
of them small. With a country filter, each month's counts are a table by country whose
total is the hotline's figure; the country's cell is shown only where that table's
suppression (small cells, complementary cells) shows it, so the hotline's figure less the
country's, or less every other country's, is no small count either.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Result,
    Subquery,
    and_,
    case,
    cast,
    distinct,
    func,
    select,
    true,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.cases.models import (
    AttemptResult,
    CallbackRequest,
    Case,
    Channel,
    Contact,
    ContactOutcome,
    RoutingAttempt,
)
from app.stats import disclosure, noise, rollup, sources
from app.stats.dimensions import Period
from app.stats.disclosure import UNKNOWN

DP_CAP = 5  # calls per caller counted in a differentially private release
COUNTS = ("calls", "answered", "abandoned", "callbacks_requested", "callbacks_completed")
RATES = {"answer_rate": ("answered", "calls"), "abandoned_rate": ("abandoned", "calls"),
         "callback_completion": ("callbacks_completed", "callbacks_requested")}
ALL = "*"  # the country key of figures not split by country

Subject = int | None  # an organisation, or None for the whole hotline
# month -> subject -> country (or ALL) -> the five COUNTS
Monthly = dict[str, dict[Subject, dict[str, list[int]]]]


@dataclass(frozen=True)
class Measured:
    counts: dict[str, int]
    wait_seconds: Counter[int]  # seconds to answer -> calls
    held: frozenset[str] = frozenset()  # counts a month of the window withholds


class Calls:
    """Calls, answered, abandoned and answer times, overall and per organisation offered
    the call, added up over spans of time (they are sums over calls). A span's figures
    come as a JSON-ready ``body``, the form in which settled months are stored; answer
    times as flat [seconds, calls, seconds, calls, ...] lists (few objects to decode)."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.waits: Counter[int] = Counter()
        self.organisations: dict[int, tuple[list[int], Counter[int]]] = {}

    def add(self, body: dict[str, Any]) -> "Calls":
        _add(self.counts, self.waits, body["counts"], body["waits"])
        for org, counts, waits in body["organisations"]:
            mine = self.organisations.setdefault(org, ([0, 0, 0], Counter()))
            _add(*mine, counts, waits)
        return self

    def body(self) -> dict[str, Any]:
        return {"counts": self.counts, "waits": _flat(self.waits.items()),
                "organisations": [[org, counts, _flat(waits.items())]
                                  for org, (counts, waits) in self.organisations.items()]}


def _add(counts: list[int], waits: Counter[int], more: list[int], more_waits: list[int]
         ) -> None:
    for i, n in enumerate(more):
        counts[i] += n
    pairs = iter(more_waits)
    for seconds, n in zip(pairs, pairs, strict=True):
        waits[seconds] += n


def _flat(pairs: Iterable[tuple[int, int]]) -> list[int]:
    return [value for pair in pairs for value in pair]


def _seconds(dialect: str, later: Any, earlier: Any) -> ColumnElement[int]:
    if dialect == "postgresql":
        return cast(func.round(func.extract("epoch", later - earlier)), Integer)
    return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86400), Integer)


def _calls(window: sources.Window, countries: list[str], capped: bool
           ) -> tuple[Subquery, ColumnElement[bool]]:
    columns: list[InstrumentedAttribute[Any] | ColumnElement[Any]] = [
        Contact.id, Contact.case_id, Contact.outcome, Contact.started_at, Contact.answered_at,
        Contact.caller_country]
    if capped:
        columns.append(func.row_number().over(partition_by=Contact.caller_pseudonym,
                                              order_by=(Contact.started_at, Contact.id))
                       .label("rank"))
    query = select(*columns).where(  # a blocked caller is not a call to answer
        Contact.channel == Channel.VOICE, Contact.outcome != ContactOutcome.BLOCKED,
        Contact.started_at >= window.start, Contact.started_at < window.end)
    if countries:
        query = query.where(Contact.caller_country.in_(countries))
    calls = query.subquery()
    return calls, (calls.c.rank <= DP_CAP) if capped else true()


def measure(session: Session, window: sources.Window, countries: list[str],
            capped: bool, k: int) -> tuple[Measured, dict[int, Measured]]:
    """Overall and per-organisation counts and answer-time histograms. Uncapped figures
    of the whole hotline are read from the stored months (``rollup``) where settled, and
    say which counts their months withhold (``held``); capped ones are noised instead."""
    calls = Calls()
    monthly: Monthly = {}
    split = None if capped or countries else rollup.split(window.start, window.end)
    if split is None:
        calls.add(_measure_calls(session, window, countries, capped))
        if not capped:
            monthly = _calls_by_country(session, window)
    else:
        bodies = _monthly_bodies(session, split)
        for body in bodies.values():
            calls.add(body)
        monthly = _monthly_of(bodies)
    callbacks = _callbacks(session, window)
    if not capped:
        _add_callbacks(monthly, callbacks, by_country=bool(countries))
    mine = _callbacks_of(callbacks, countries)
    requested_done = [sum(r for r, _ in mine.values()), sum(c for _, c in mine.values())]
    overall = Measured(dict(zip(COUNTS, [*calls.counts, *requested_done], strict=True)),
                       calls.waits)
    per_org = {org: Measured(dict(zip(COUNTS, [*counts, *mine.get(org, (0, 0))],
                                      strict=True)), waits)
               for org, (counts, waits) in calls.organisations.items()}
    if capped:
        return overall, per_org
    held = held_back(monthly, countries[0] if countries else None, k)
    return (replace(overall, held=frozenset(held[None])),
            {org: replace(m, held=frozenset(held[org])) for org, m in per_org.items()})


def _monthly_bodies(session: Session, split: rollup.Split) -> dict[str, dict[str, Any]]:
    """The whole hotline's call figures per month: stored where settled, the rest live
    (added to its month's stored part)."""
    bodies = rollup.stored(
        session, "quality", split.stored,
        lambda span, _: _measure_calls(session, sources.Window(*span), [], False),
        lambda body, more: Calls().add(body).add(more).body())
    if split.live:
        month = f"{split.live[0]:%Y-%m}"
        live = _measure_calls(session, sources.Window(*split.live), [], False)
        bodies[month] = Calls().add(bodies[month]).add(live).body() if month in bodies else live
    return bodies


def _monthly_of(bodies: Mapping[str, dict[str, Any]]) -> Monthly:
    monthly: Monthly = {}
    for month, body in bodies.items():  # counts only: adding up answer times costs
        _line(monthly, month, None)[ALL] = [*body["counts"], 0, 0]
        for org, counts, _ in body["organisations"]:
            _line(monthly, month, org)[ALL] = [*counts, 0, 0]
    return monthly


def held_back(monthly: Monthly, country: str | None, k: int) -> defaultdict[Subject, set[str]]:
    """Per subject, the counts whose window figure a month withholds: the month's figure
    is small, or, for one country, withheld in the month's table by country."""
    held: defaultdict[Subject, set[str]] = defaultdict(set)
    for lines in monthly.values():
        for subject, by_country in lines.items():
            for i, name in enumerate(COUNTS):
                if not disclosure.shown_in_block({c: counts[i] for c, counts in
                                                  by_country.items()},
                                                 [country] if country else [], k):
                    held[subject].add(name)
    return held


def _measure_calls(session: Session, window: sources.Window, countries: list[str],
                   capped: bool) -> dict[str, Any]:
    """The figures of the calls in the window, as a ``Calls`` body."""
    dialect = session.get_bind().dialect.name
    calls, keep = _calls(window, countries, capped)
    rows = session.execute(select(
        _seconds(dialect, calls.c.answered_at, calls.c.started_at).label("s"),
        func.count(), func.count(calls.c.answered_at),
        func.count(case((calls.c.outcome == ContactOutcome.ABANDONED.value, 1)))
    ).where(keep).group_by("s")).all()
    return {"counts": [sum(row[i] for row in rows) for i in (1, 2, 3)],
            "waits": _flat((s, n) for s, n, _, _ in rows if s is not None),
            "organisations": _per_organisation(session, dialect, calls, keep)}


def _per_organisation(session: Session, dialect: str, calls: Any, keep: Any
                      ) -> list[list[Any]]:
    accepted = RoutingAttempt.result.in_([AttemptResult.ACCEPTED.value,
                                          AttemptResult.COMPLETED.value])
    joined = select(RoutingAttempt.organisation_id,
                    func.count(distinct(calls.c.id)),
                    func.count(distinct(case((accepted, calls.c.id)))),
                    func.count(distinct(case((calls.c.outcome == ContactOutcome.ABANDONED.value,
                                              calls.c.id))))
                    ).join(calls, calls.c.id == RoutingAttempt.contact_id).where(keep)
    figures = session.execute(joined.group_by(RoutingAttempt.organisation_id)).all()
    waits = session.execute(
        select(RoutingAttempt.organisation_id,
               _seconds(dialect, RoutingAttempt.answered_at, calls.c.started_at).label("s"),
               func.count()).join(calls, calls.c.id == RoutingAttempt.contact_id)
        .where(keep, accepted, RoutingAttempt.answered_at.is_not(None))
        .group_by(RoutingAttempt.organisation_id, "s")).all()
    by_organisation: dict[int, list[int]] = {}
    for org, seconds, n in waits:
        by_organisation.setdefault(org, []).extend((seconds, n))
    return [[org, [offered, answered, abandoned], by_organisation.get(org, [])]
            for org, offered, answered, abandoned in figures]


def _calls_by_country(session: Session, window: sources.Window) -> Monthly:
    """Calls, answered and abandoned per month and country, overall and per organisation
    offered the call: every country, so a filtered release can be protected in its
    month's table by country."""
    calls, _ = _calls(window, [], False)
    month = sources.period_expression(session.get_bind().dialect.name, calls.c.started_at,
                                      Period.MONTH)
    abandoned = calls.c.outcome == ContactOutcome.ABANDONED.value
    accepted = RoutingAttempt.result.in_([AttemptResult.ACCEPTED.value,
                                          AttemptResult.COMPLETED.value])
    monthly: Monthly = {}
    # Typed here: the subquery's columns leave the rows' types unknown.
    overall: Result[str, str | None, int, int, int] = session.execute(
        select(month, calls.c.caller_country, func.count(), func.count(calls.c.answered_at),
               func.count(case((abandoned, 1)))).group_by(month, calls.c.caller_country))
    for period, country, calls_, answered, dropped in overall:
        _line(monthly, period, None)[country or UNKNOWN] = [calls_, answered, dropped, 0, 0]
    per_org: Result[int, str, str | None, int, int, int] = session.execute(
        select(RoutingAttempt.organisation_id, month, calls.c.caller_country,
               func.count(distinct(calls.c.id)),
               func.count(distinct(case((accepted, calls.c.id)))),
               func.count(distinct(case((abandoned, calls.c.id)))))
        .join(calls, calls.c.id == RoutingAttempt.contact_id)
        .group_by(RoutingAttempt.organisation_id, month, calls.c.caller_country))
    for org, period, country, offered, answered, dropped in per_org:
        _line(monthly, period, org)[country or UNKNOWN] = [offered, answered, dropped, 0, 0]
    return monthly


def _line(monthly: Monthly, month: str, subject: Subject) -> dict[str, list[int]]:
    return monthly.setdefault(month, {}).setdefault(subject, {})


Callbacks = dict[tuple[str, int, str], tuple[int, int]]  # (month, org, country) -> counts


def _callbacks(session: Session, window: sources.Window) -> Callbacks:
    """Callbacks requested and completed, by month asked, organisation holding the case
    and caller's country: settled months from their stored figures (``rollup``; a
    call-back completed, or its case referred, outdates its month: migration 0015), the
    rest counted live. Counting them live meant looking up the case of every call-back
    of the window, most of the quality report's time at ten million cases."""
    split = rollup.split(window.start, window.end)
    if split is None:
        return _count_callbacks(session, window)
    stored = rollup.stored(
        session, "callbacks", split.stored,
        lambda span, _: [[org, country, *counts] for (_, org, country), counts
                         in _count_callbacks(session, sources.Window(*span)).items()],
        _add_callback_bodies)
    found = {(month, org, country): (requested, completed) for month, body in stored.items()
             for org, country, requested, completed in body}
    live = _count_callbacks(session, sources.Window(*split.live)) if split.live else {}
    return dict(_sum(found, live))


def _add_callback_bodies(body: list[list[Any]], more: list[list[Any]]) -> list[list[Any]]:
    """A month's stored call-backs, [organisation, country, asked, completed] each, and
    those asked for since it was stored."""
    def keyed(rows: list[list[Any]]) -> dict[tuple[int, str], tuple[int, int]]:
        return {(org, country): (asked, done) for org, country, asked, done in rows}
    return [[*key, *counts] for key, counts in _sum(keyed(body), keyed(more))]


def _sum(first: Mapping[Any, tuple[int, int]], second: Mapping[Any, tuple[int, int]]
         ) -> Iterable[tuple[Any, tuple[int, int]]]:
    for key in first.keys() | second.keys():
        a, b = first.get(key, (0, 0)), second.get(key, (0, 0))
        yield key, (a[0] + b[0], a[1] + b[1])


def _count_callbacks(session: Session, window: sources.Window) -> Callbacks:
    month = sources.period_expression(session.get_bind().dialect.name,
                                      CallbackRequest.created_at, Period.MONTH)
    query = select(month, Case.organisation_id, Case.caller_country, func.count(),
                   func.count(CallbackRequest.completed_at)
                   ).join(Case, Case.id == CallbackRequest.case_id).where(and_(
                       CallbackRequest.created_at >= window.start,
                       CallbackRequest.created_at < window.end))
    rows = session.execute(query.group_by(*query.selected_columns[:3]))
    return {(period, org, country or UNKNOWN): (requested, completed)
            for period, org, country, requested, completed in rows}


def _callbacks_of(callbacks: Callbacks,
                  countries: list[str]) -> dict[int, tuple[int, int]]:
    """Callbacks requested and completed per organisation over the window and countries."""
    summed: dict[int, tuple[int, int]] = {}
    for (_, org, country), (requested, completed) in callbacks.items():
        if not countries or country in countries:
            was = summed.get(org, (0, 0))
            summed[org] = (was[0] + requested, was[1] + completed)
    return summed


def _add_callbacks(monthly: Monthly, callbacks: Callbacks,
                   by_country: bool) -> None:
    """Callbacks into the months' lines, by country where the lines are split by it."""
    for (month, org, country), (requested, completed) in callbacks.items():
        for subject in (None, org):
            counts = _line(monthly, month, subject).setdefault(
                country if by_country else ALL, [0] * len(COUNTS))
            counts[3] += requested
            counts[4] += completed


def quantile(histogram: Counter[int], q: float) -> int | None:
    """The smallest value with at least q of the observations at or below it."""
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= q * total:
            return value
    return None


def report(measured: Measured, k: int, plan: noise.Noise | None) -> dict[str, Any]:
    """The figures of one organisation (or overall), protected."""
    counts = dict(measured.counts)
    if plan is not None:
        counts = dict(zip(COUNTS, noise.noisy([counts[c] for c in COUNTS], plan), strict=True))
    held = measured.held
    out: dict[str, Any] = {name: _count(value, k, name in held)
                           for name, value in counts.items()}
    for name, (part, whole) in RATES.items():
        out[name] = _rate(counts[part], counts[whole], k, bool(held & {part, whole}))
    answered = counts["answered"]
    for name, q in (("median_seconds_to_answer", 0.5), ("p90_seconds_to_answer", 0.9)):
        value = quantile(measured.wait_seconds, q) if plan is None and answered >= k else None
        out[name] = {"value": value, "display": "-" if value is None else f"{value} s",
                     "withheld": None if value is not None or not answered else
                     ("differential_privacy" if plan else "small")}
    return out


WITHHELD_BY_A_MONTH = {"value": None, "display": "x", "withheld": "complementary"}


def _count(value: int, k: int, held: bool) -> dict[str, Any]:
    if 0 < value < k:
        return {"value": None, "display": f"<{k}", "withheld": "small"}
    if held:  # shown, it would differ from another window's by a small month
        return dict(WITHHELD_BY_A_MONTH)
    return {"value": value, "display": f"{value:,}", "withheld": None}


def _rate(part: int, whole: int, k: int, held: bool) -> dict[str, Any]:
    if whole == 0:
        return {"value": None, "display": "-", "withheld": None}
    if 0 < part < k or whole < k or 0 < whole - part < k:
        return {"value": None, "display": "x", "withheld": "small"}
    if held:  # with the other count shown, the rate would give the withheld one
        return dict(WITHHELD_BY_A_MONTH)
    value = round(100 * part / whole, 1)
    return {"value": value, "display": f"{value}%", "withheld": None}
