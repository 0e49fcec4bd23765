"""How well the hotline answers: per organisation and overall, over whole months.

Overall figures describe the caller's experience (time from the call reaching us to a
responder accepting it); per organisation they describe the calls offered to it by
routing. Counts below k are withheld like any other figure, and so are rates and times
built on them. Under differential privacy each caller's calls are capped (``DP_CAP``)
so that one person's weight is bounded, counts are noised, and times are not released.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, and_, case, cast, distinct, func, select, true
from sqlalchemy.orm import Session

from app.cases.models import (
    AttemptResult,
    CallbackRequest,
    Case,
    Channel,
    Contact,
    ContactOutcome,
    RoutingAttempt,
)
from app.stats import noise, sources

DP_CAP = 5  # calls per caller counted in a differentially private release
COUNTS = ("calls", "answered", "abandoned", "callbacks_requested", "callbacks_completed")


@dataclass(frozen=True)
class Measured:
    counts: dict[str, int]
    wait_seconds: Counter[int]  # seconds to answer -> calls


def _seconds(dialect: str, later: Any, earlier: Any) -> Any:
    if dialect == "postgresql":
        return cast(func.round(func.extract("epoch", later - earlier)), Integer)
    return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86400), Integer)


def _calls(window: sources.Window, countries: list[str], capped: bool) -> Any:
    rank = func.row_number().over(partition_by=Contact.caller_pseudonym,
                                  order_by=(Contact.started_at, Contact.id))
    query: Select[Any] = select(Contact.id, Contact.case_id, Contact.outcome,
                                Contact.started_at, Contact.answered_at, rank.label("rank"))
    query = query.where(Contact.channel == Channel.VOICE, Contact.started_at >= window.start,
                        Contact.started_at < window.end)
    if countries:
        query = query.where(Contact.caller_country.in_(countries))
    calls = query.subquery()
    return calls, (calls.c.rank <= DP_CAP) if capped else true()


def measure(session: Session, window: sources.Window, countries: list[str],
            capped: bool) -> tuple[Measured, dict[int, Measured]]:
    """Overall and per-organisation counts and answer-time histograms."""
    dialect = session.get_bind().dialect.name
    calls, keep = _calls(window, countries, capped)
    overall = session.execute(select(
        func.count(), func.count(calls.c.answered_at),
        func.count(case((calls.c.outcome == ContactOutcome.ABANDONED.value, 1)))).where(keep)
    ).one()
    waits = Counter(dict(session.execute(
        select(_seconds(dialect, calls.c.answered_at, calls.c.started_at).label("s"),
               func.count()).where(keep, calls.c.answered_at.is_not(None)).group_by("s")
    ).all()))
    requested, completed = _callbacks(session, window, countries, None)
    result = Measured(dict(zip(COUNTS, [*overall, requested, completed], strict=True)), waits)
    return result, _per_organisation(session, dialect, calls, keep, window, countries)


def _per_organisation(session: Session, dialect: str, calls: Any, keep: Any,
                      window: sources.Window, countries: list[str]) -> dict[int, Measured]:
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
    out: dict[int, Measured] = {}
    for org, offered, answered, abandoned in figures:
        requested, completed = _callbacks(session, window, countries, org)
        out[org] = Measured(dict(zip(COUNTS, [offered, answered, abandoned, requested,
                                              completed], strict=True)),
                            Counter({s: n for o, s, n in waits if o == org}))
    return out


def _callbacks(session: Session, window: sources.Window, countries: list[str],
               organisation_id: int | None) -> tuple[int, int]:
    query = select(func.count(), func.count(CallbackRequest.completed_at)).join(
        Case, Case.id == CallbackRequest.case_id).where(and_(
            CallbackRequest.created_at >= window.start, CallbackRequest.created_at < window.end))
    if countries:
        query = query.where(Case.caller_country.in_(countries))
    if organisation_id is not None:
        query = query.where(Case.organisation_id == organisation_id)
    requested, completed = session.execute(query).one()
    return requested, completed


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
