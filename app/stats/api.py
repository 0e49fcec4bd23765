"""The coordinators' statistics API: aggregate tables, service quality and exports.

Coordinators and admins only; operators get 403. Every request, whatever its format,
is written to the audit log with the question asked. The JSON tables are the hotline's
own dashboard and count everyone; the CSV files are for partners and count only cases
with reporting consent, saying in their headers how many were left out.
"""

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.config import Settings
from app.db import SessionDep
from app.stats import budget, export, noise, quality, service
from app.stats.service import QueryError, StatsQuery
from app.users.deps import require
from app.users.models import Role, User

router = APIRouter(prefix="/api/stats", tags=["statistics"])
Coordinator = Annotated[User, Depends(require(Role.COORDINATOR, Role.ADMIN))]
GroupBy = Annotated[str, Query(description="up to two of: country, language, channel, need, "
                               "outcome, child, gender, age_band, citizenship, exploitation, "
                               "organisation; plus month or week", max_length=200)]
From = Annotated[date | None, Query(alias="from", description="snapped to the 1st")]
To = Annotated[date | None, Query(alias="to", description="snapped to the end of its month")]
Country = Annotated[str | None, Query(description="ISO codes, comma-separated",
                                      max_length=100)]


def _query(request: Request, group_by: str, start: date | None, end: date | None,
           country: str | None) -> StatsQuery:
    settings = request.app.state.settings
    try:
        return service.parse(group_by, start, end, country, request.app.state.clock().date(),
                             settings.stats_max_months)
    except QueryError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


def table(session: Session, app_settings: Settings, now: datetime, user: User,
          query: StatsQuery, fmt: str, consented_only: bool = False) -> dict[str, Any]:
    """A protected table, audited; differentially private releases go through the ledger.
    ``consented_only`` for partners: only cases with reporting consent, and their contacts."""
    settings = service.settings_of(app_settings)
    audit.record(session, user, "stats.table", now, query=query.describe(), format=fmt,
                 consented_only=consented_only)
    if settings.epsilon is None:
        return service.release(session, query, settings, consented_only)
    kind = "table.consented" if consented_only else "table"  # a different question
    key = budget.query_key(kind, query.describe(), settings.k, settings.epsilon)
    return budget.released(session, key, settings.epsilon, user.id, now,
                           lambda: service.release(session, query, settings, consented_only))


def table_export(session: Session, app_settings: Settings, now: datetime, user: User,
                 query: StatsQuery) -> tuple[str, dict[str, str]]:
    """A table as CSV for partners (consented cases only), and headers saying how many
    records were left out."""
    body = table(session, app_settings, now, user, query, "csv", consented_only=True)
    left_out = export.without_consent(session, service.window_of(query), list(query.countries))
    return export.table_csv(body), left_out.headers(app_settings.stats_k)


@router.get("")
def get_table(request: Request, session: SessionDep, user: Coordinator,
              group_by: GroupBy = "", start: From = None, end: To = None,
              country: Country = None) -> dict[str, Any]:
    return table(session, *_context(request), user,
                 _query(request, group_by, start, end, country), "json")


@router.get(".csv", response_class=Response)
def get_table_csv(request: Request, session: SessionDep, user: Coordinator,
                  group_by: GroupBy = "", start: From = None, end: To = None,
                  country: Country = None) -> Response:
    text, headers = table_export(session, *_context(request), user,
                                 _query(request, group_by, start, end, country))
    response = _download(text, "hotline-statistics.csv")
    response.headers.update(headers)
    return response


def quality_report(session: Session, app_settings: Settings, now: datetime, user: User,
                   query: StatsQuery) -> dict[str, Any]:
    settings = service.settings_of(app_settings)
    audit.record(session, user, "stats.quality", now, query=query.describe())

    def compute() -> dict[str, Any]:
        overall, per_org = quality.measure(session, service.window_of(query), list(query.countries),
                                           capped=settings.epsilon is not None)
        plan = _quality_plan(settings, len(per_org))
        slugs = service.organisation_slugs(session)
        return {"query": query.describe(), "k": settings.k,
                "overall": quality.report(overall, settings.k, plan),
                "organisations": [{"organisation": slugs.get(org, "other"),
                                   **quality.report(m, settings.k, plan)}
                                  for org, m in sorted(per_org.items(),
                                                       key=lambda i: slugs.get(i[0], ""))],
                "differential_privacy": plan.describe() if plan else None}

    if settings.epsilon is None:
        return compute()
    key = budget.query_key("quality", query.describe(), settings.k, settings.epsilon)
    return budget.released(session, key, settings.epsilon, user.id, now, compute)


def _quality_plan(settings: service.Settings, organisations: int) -> noise.Noise | None:
    if settings.epsilon is None:
        return None
    # A capped caller touches each of the five counts overall and in every organisation
    # their calls were offered to: bounded by the cap times the counts times the tables.
    sensitivity = quality.DP_CAP * len(quality.COUNTS) * (1 + organisations)
    return noise.plan(settings.epsilon, sensitivity)


@router.get("/quality")
def get_quality(request: Request, session: SessionDep, user: Coordinator,
                start: From = None, end: To = None, country: Country = None) -> dict[str, Any]:
    return quality_report(session, *_context(request), user,
                          _query(request, "", start, end, country))


def htcds_export(session: Session, app_settings: Settings, now: datetime, user: User,
                 query: StatsQuery) -> tuple[str, dict[str, str]]:
    """The k-anonymous HTCDS file of consented cases, audited, and headers saying the k
    achieved and how many screened cases were left out for want of consent."""
    k = app_settings.stats_k
    window, countries = service.window_of(query), list(query.countries)
    result, text = export.htcds(export.case_rows(session, window, countries), k)
    left_out = export.without_consent(session, window, countries, screened=True)
    audit.record(session, user, "stats.export", now, query=query.describe(), format="htcds",
                 rows=len(result.rows), suppressed=result.suppressed,
                 achieved_k=result.achieved_k, without_consent=left_out.cases)
    return text, {"X-K-Anonymity-Required": str(k),
                  "X-K-Anonymity-Achieved": str(result.achieved_k or ""),
                  "X-Rows-Suppressed": str(result.suppressed),
                  "X-Generalisation": ",".join(f"{n}={v}" for n, v in result.levels.items()),
                  **left_out.headers(k)}


@router.get("/export/htcds.csv", response_class=Response)
def get_htcds(request: Request, session: SessionDep, user: Coordinator,
              start: From = None, end: To = None, country: Country = None) -> Response:
    """Case-level, k-anonymous, HTCDS column names; the achieved k in the headers."""
    text, headers = htcds_export(session, *_context(request), user,
                                 _query(request, "", start, end, country))
    response = _download(text, "hotline-htcds.csv")
    response.headers.update(headers)
    return response


def _context(request: Request) -> tuple[Settings, datetime]:
    return request.app.state.settings, request.app.state.clock()


def _download(text: str, filename: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
