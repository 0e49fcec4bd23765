"""How well the hotline answers: per organisation and overall, over whole months.

Overall figures describe the caller's experience (time from the call reaching us to a
responder accepting it); per organisation they describe the calls offered to it by
routing. Counts below k are withheld like any other figure, and so are rates and times
built on them. Under differential privacy each caller's calls are capped (``DP_CAP``)
so that one person's weight is bounded, counts are noised, and times are not released.
Uncapped call figures of the whole hotline add up over time, so settled months come from
``rollup``; callbacks (completed, and their case referred, later) are always counted live.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
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
from app.stats import noise, rollup, sources

DP_CAP = 5  # calls per caller counted in a differentially private release
COUNTS = ("calls", "answered", "abandoned", "callbacks_requested", "callbacks_completed")


@dataclass(frozen=True)
class Measured:
    counts: dict[str, int]
    wait_seconds: Counter[int]  # seconds to answer -> calls


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
        Contact.id, Contact.case_id, Contact.outcome, Contact.started_at, Contact.answered_at]
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
            capped: bool) -> tuple[Measured, dict[int, Measured]]:
    """Overall and per-organisation counts and answer-time histograms. Uncapped figures
    of the whole hotline are read from the stored months (``rollup``) where settled."""
    split = None if capped or countries else rollup.split(window.start, window.end)
    calls = Calls()
    if split is None:
        calls.add(_measure_calls(session, window, countries, capped))
    else:
        for body in rollup.stored(
                session, "quality", split.stored,
                lambda span, _: _measure_calls(session, sources.Window(*span), [], False),
                lambda body, more: Calls().add(body).add(more).body()).values():
            calls.add(body)
        if split.live:
            calls.add(_measure_calls(session, sources.Window(*split.live), [], False))
    callbacks = _callbacks(session, window, countries)
    overall = [sum(r for r, _ in callbacks.values()), sum(c for _, c in callbacks.values())]
    result = Measured(dict(zip(COUNTS, [*calls.counts, *overall], strict=True)), calls.waits)
    return result, {org: Measured(dict(zip(COUNTS, [*counts, *callbacks.get(org, (0, 0))],
                                           strict=True)), waits)
                    for org, (counts, waits) in calls.organisations.items()}


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


def _callbacks(session: Session, window: sources.Window,
               countries: list[str]) -> dict[int, tuple[int, int]]:
    """Callbacks requested and completed, by the organisation holding the case."""
    query = select(Case.organisation_id, func.count(), func.count(CallbackRequest.completed_at)
                   ).join(Case, Case.id == CallbackRequest.case_id).where(and_(
                       CallbackRequest.created_at >= window.start,
                       CallbackRequest.created_at < window.end))
    if countries:
        query = query.where(Case.caller_country.in_(countries))
    rows = session.execute(query.group_by(Case.organisation_id))
    return {org: (requested, completed) for org, requested, completed in rows}


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
    out: dict[str, Any] = {name: _count(value, k) for name, value in counts.items()}
    out["answer_rate"] = _rate(counts["answered"], counts["calls"], k)
    out["abandoned_rate"] = _rate(counts["abandoned"], counts["calls"], k)
    out["callback_completion"] = _rate(counts["callbacks_completed"],
                                       counts["callbacks_requested"], k)
    answered = counts["answered"]
    for name, q in (("median_seconds_to_answer", 0.5), ("p90_seconds_to_answer", 0.9)):
        value = quantile(measured.wait_seconds, q) if plan is None and answered >= k else None
        out[name] = {"value": value, "display": "-" if value is None else f"{value} s",
                     "withheld": None if value is not None or not answered else
                     ("differential_privacy" if plan else "small")}
    return out


def _count(value: int, k: int) -> dict[str, Any]:
    if 0 < value < k:
        return {"value": None, "display": f"<{k}", "withheld": "small"}
    return {"value": value, "display": f"{value:,}", "withheld": None}


def _rate(part: int, whole: int, k: int) -> dict[str, Any]:
    if whole == 0:
        return {"value": None, "display": "-", "withheld": None}
    if 0 < part < k or whole < k or 0 < whole - part < k:
        return {"value": None, "display": "x", "withheld": "small"}
    value = round(100 * part / whole, 1)
    return {"value": value, "display": f"{value}%", "withheld": None}
