"""What a coordinator asks for, audited here once whoever asks (the API, the console's
page and downloads, ``bench/stats.py``): protected tables, service quality, the HTCDS
export. Differentially private answers go through the privacy ledger (``budget``).
Never commits."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.config import Settings
from app.stats import budget, export, noise, quality, service
from app.stats.service import QueryError, StatsQuery
from app.stats.sources import Window
from app.users.models import User


def table(session: Session, settings: Settings, now: datetime, user: User,
          query: StatsQuery, fmt: str, consented_only: bool = False) -> dict[str, Any]:
    """A protected table, audited with the question and the format asked for.
    ``consented_only`` for partners: only cases with reporting consent, and their contacts."""
    audit.record(session, user, "stats.table", now, query=query.describe(), format=fmt,
                 consented_only=consented_only)
    epsilon = settings.stats_epsilon
    if epsilon is None:
        return service.release(session, query, settings, consented_only)
    kind = "table.consented" if consented_only else "table"  # a different question
    key = budget.query_key(kind, query.describe(), settings.stats_k, epsilon)
    return budget.released(session, key, epsilon, user.id, now,
                           lambda: service.release(session, query, settings, consented_only))


def table_export(session: Session, settings: Settings, now: datetime, user: User,
                 query: StatsQuery) -> tuple[str, dict[str, str]]:
    """A table as CSV for partners (consented cases only), and headers saying how many
    records were left out."""
    body = table(session, settings, now, user, query, "csv", consented_only=True)
    k = settings.stats_k
    left_out = export.without_consent(session, service.window_of(query), list(query.countries),
                                      k)
    return export.table_csv(body), left_out.headers(k)


def quality_report(session: Session, settings: Settings, now: datetime, user: User,
                   query: StatsQuery) -> dict[str, Any]:
    """Service quality overall and per organisation, audited."""
    audit.record(session, user, "stats.quality", now, query=query.describe())
    k, epsilon = settings.stats_k, settings.stats_epsilon

    def compute() -> dict[str, Any]:
        overall, per_org = quality.measure(session, service.window_of(query),
                                           list(query.countries), epsilon is not None, k)
        plan = _quality_plan(epsilon, len(per_org))
        slugs = service.organisation_slugs(session)
        return {"query": query.describe(), "k": k,
                "overall": quality.report(overall, k, plan),
                "organisations": [{"organisation": slugs.get(org, "other"),
                                   **quality.report(m, k, plan)}
                                  for org, m in sorted(per_org.items(),
                                                       key=lambda i: slugs.get(i[0], ""))],
                "differential_privacy": plan.describe() if plan else None}

    if epsilon is None:
        return compute()
    key = budget.query_key("quality", query.describe(), k, epsilon)
    return budget.released(session, key, epsilon, user.id, now, compute)


def _quality_plan(epsilon: float | None, organisations: int) -> noise.Noise | None:
    if epsilon is None:
        return None
    # A capped caller touches each of the five counts overall and in every organisation
    # their calls were offered to: bounded by the cap times the counts times the tables.
    sensitivity = quality.DP_CAP * len(quality.COUNTS) * (1 + organisations)
    return noise.plan(epsilon, sensitivity)


def htcds_export(session: Session, settings: Settings, now: datetime, user: User,
                 query: StatsQuery) -> tuple[str, dict[str, str]]:
    """The k-anonymous HTCDS file of consented cases over whole quarters, audited, and
    headers saying the quarters, the k achieved and how many screened cases were left out
    for want of consent. QueryError for a country filter: a country's rows of quarters
    anonymised over every country need not be k-anonymous among themselves."""
    if query.countries:
        raise QueryError(service.HTCDS_COUNTRY_REFUSED)
    k = settings.stats_k
    window = service.quarter_window(query)
    if window.start == window.end:
        raise service.NotSettled(settings.stats_settle_days)
    result, text = export.htcds(export.case_blocks(session, window), k)
    left_out = export.without_consent(session, window, [], k, screened=True)
    period = _period(window)
    audit.record(session, user, "stats.export", now, query=query.describe(), format="htcds",
                 period=period, rows=len(result.rows), suppressed=result.suppressed,
                 achieved_k=result.achieved_k, without_consent=left_out.cases)
    return text, {"X-Period": period,
                  "X-K-Anonymity-Required": str(k),
                  "X-K-Anonymity-Achieved": str(result.achieved_k or ""),
                  "X-Rows-Suppressed": _suppressed(result, k),
                  "X-Generalisation": result.generalisation(),
                  **left_out.headers(k)}


def _suppressed(result: export.Blocks, k: int) -> str:
    """The rows left out, shown as counts are: "1 Turkmen man" is a small count of people
    with a rare combination, and a file's total less another's would give a quarter's."""
    small = any(0 < block.suppressed < k for block in result.released.values())
    return export.shown_count(result.suppressed, k, held=small)


def _period(window: Window) -> str:
    """The window as first and last day: ``2026-01-01/2026-06-30``."""
    return f"{window.start.date()}/{(window.end - timedelta(days=1)).date()}"
