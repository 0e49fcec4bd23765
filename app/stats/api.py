"""The coordinators' statistics API: aggregate tables, service quality and exports.

Coordinators and admins only; operators get 403. Every request, whatever its format,
is written to the audit log with the question asked (by ``app.stats.reports``). The JSON
tables are the hotline's own dashboard and count everyone; the CSV files are for partners
and count only cases with reporting consent, saying in their headers how many were left
out. The HTCDS file covers whole quarters of every country and refuses a country filter.
"""

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import Response

from app import errors
from app.config import Settings
from app.deps import NowDep, SessionDep, SettingsDep
from app.stats import reports, service
from app.stats.service import QueryError, StatsQuery
from app.users.deps import Coordinator

router = APIRouter(prefix="/api/stats", tags=["statistics"], responses=errors.SIGNED_IN)
GroupBy = Annotated[str, Query(description="up to two of: country, language, channel, need, "
                               "outcome, child, gender, age_band, citizenship, exploitation, "
                               "organisation; plus month or week", max_length=200)]
From = Annotated[date | None, Query(alias="from", description="snapped to the 1st")]
To = Annotated[date | None, Query(alias="to", description="snapped to the end of its month, "
                                  "then cut back to the last settled one (released "
                                  "HOTLINE_STATS_SETTLE_DAYS after it ends)")]
Country = Annotated[str | None, Query(description="ISO codes, comma-separated",
                                      max_length=100)]
NoCountry = Annotated[str | None, Query(description="refused (422): the file covers every "
                                        "country", max_length=100)]


def _query(settings: Settings, now: datetime, group_by: str, start: date | None,
           end: date | None, country: str | None) -> StatsQuery:
    try:
        return service.parse(group_by, start, end, country, now.date(),
                             settings.stats_max_months, settings.stats_settle_days)
    except QueryError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


@router.get("")
def get_table(session: SessionDep, settings: SettingsDep, now: NowDep, user: Coordinator,
              group_by: GroupBy = "", start: From = None, end: To = None,
              country: Country = None) -> dict[str, Any]:
    query = _query(settings, now, group_by, start, end, country)
    return reports.table(session, settings, now, user, query, "json")


@router.get(".csv", response_class=Response)
def get_table_csv(session: SessionDep, settings: SettingsDep, now: NowDep, user: Coordinator,
                  group_by: GroupBy = "", start: From = None, end: To = None,
                  country: Country = None) -> Response:
    query = _query(settings, now, group_by, start, end, country)
    text, headers = reports.table_export(session, settings, now, user, query)
    response = _download(text, "hotline-statistics.csv")
    response.headers.update(headers)
    return response


@router.get("/quality")
def get_quality(session: SessionDep, settings: SettingsDep, now: NowDep, user: Coordinator,
                start: From = None, end: To = None, country: Country = None) -> dict[str, Any]:
    query = _query(settings, now, "", start, end, country)
    return reports.quality_report(session, settings, now, user, query)


@router.get("/export/htcds.csv", response_class=Response)
def get_htcds(session: SessionDep, settings: SettingsDep, now: NowDep, user: Coordinator,
              start: From = None, end: To = None, country: NoCountry = None) -> Response:
    """Case-level, k-anonymous, HTCDS column names, whole quarters of every country; the
    quarters (``X-Period``) and the achieved k in the headers."""
    query = _query(settings, now, "", start, end, country)
    try:
        text, headers = reports.htcds_export(session, settings, now, user, query)
    except QueryError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    response = _download(text, "hotline-htcds.csv")
    response.headers.update(headers)
    return response


def _download(text: str, filename: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
