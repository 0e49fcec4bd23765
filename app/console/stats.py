"""The coordinators' statistics page: protected figures as SVG charts and plain tables.

Every figure comes from ``app.stats`` after disclosure control, and every request is
audited there (``app.stats.reports``, which the API calls too), once per request.
The page only adds figures up over the window where that cannot reveal a withheld one:
a category with a withheld cell in any period is shown withheld for the whole window.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.support import NullTranslations
from fastapi import APIRouter, Depends, Request, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from app.config import Settings
from app.console import auth, language
from app.console.errors import ConsoleRoute, ErrorPage
from app.console.flash import Nn_
from app.console.pages import harden, render
from app.deps import NowDep, SettingsDep
from app.i18n import N_
from app.organisations import service as organisations
from app.stats import export, reports, service
from app.stats.charts import Point, bar_chart, line_chart
from app.stats.dashboard import TABLES, dashboard
from app.stats.dimensions import COUNTRIES, Period
from app.stats.disclosure import OTHER, TOTAL, UNKNOWN
from app.stats.service import NotSettled, QueryError, StatsQuery
from app.stats.sources import Window
from app.users.models import Role, User

router = APIRouter(route_class=ConsoleRoute)
# As the API: coordinators and admins; operators get the console's 403 page.
StatsUser = Annotated[User, Depends(auth.role(Role.COORDINATOR, Role.ADMIN))]
SOURCES = ("contacts", "cases")
MONTH = re.compile(r"(\d{4})-(\d{1,2})(?:-\d{1,2})?")
YEARS = (1970, 2999)
ABSENT = "—"  # a category that one of the two tables does not list

# The form's own checks, then the statistics service's messages, so the catalog has them.
MONTH_INVALID = N_("Enter months as year and month, for example 2026-03.")
PERIOD_INVALID = N_("Choose months or weeks.")
COUNTRY_INVALID = N_("Choose a country from the list.")
FROM_AFTER_TO = N_("'from' must not be after 'to'")
TOO_MANY_MONTHS = Nn_("at most %(months)d month per table",
                      "at most %(months)d months per table")
# service.HTCDS_COUNTRY_REFUSED again, for the catalogs: explain() translates a refusal by
# its text, and pybabel reads only the console's files.
HTCDS_COUNTRY_REFUSED = N_("the HTCDS file covers every country and takes no country filter: "
                           "its citizenship and country-of-exploitation columns say where")
NO_SUCH_TABLE = N_("There is no such table.")
NOT_SETTLED = Nn_("No month or week of this window is shown yet: a month or week is shown "
                  "%(days)d day after it ends, once its records are complete.",
                  "No month or week of this window is shown yet: a month or week is shown "
                  "%(days)d days after it ends, once its records are complete.")

TITLES = {
    ("over_time", Period.MONTH): N_("People in contact, per month"),
    ("over_time", Period.WEEK): N_("People in contact, per week"),
    ("by_country", None): N_("People in contact, by country"),
    ("by_language", None): N_("People in contact, by language"),
}
FIRST_COLUMN = {Period.MONTH: N_("Month"), Period.WEEK: N_("Week (Monday)"),
                "by_country": N_("Country"), "by_language": N_("Language")}
COUNT_COLUMNS = (N_("People in contact"), N_("People with a case opened"))
CATEGORY_NAMES = {OTHER: N_("Other"), UNKNOWN: N_("Unknown"), TOTAL: N_("Total")}
WINDOW_NOTE = N_("Each person counts once in every month or week of the window in which "
                 "they were in contact, so a person in contact in several of them counts "
                 "more than once here. A category with a figure withheld in any month or "
                 "week is withheld for the whole window.")
QUALITY_TITLE = N_("Service quality: calls answered, by organisation")
QUALITY_COLUMNS = (N_("Calls"), N_("Answered"), N_("Answer rate"),
                   N_("Median time to answer"), N_("90% answered within"), N_("Abandoned"),
                   N_("Callbacks completed (%)"))
QUALITY_FIGURES = ("calls", "answered", "answer_rate", "median_seconds_to_answer",
                   "p90_seconds_to_answer", "abandoned", "callback_completion")
ORGANISATION, ALL_ORGANISATIONS = N_("Organisation"), N_("All organisations")
NO_PEOPLE = N_("Nobody was in contact in this window.")
NO_ORGANISATIONS = N_("No calls were offered to an organisation in this window.")
NOISE = N_("Random noise is added to these figures (differential privacy, ε = %(epsilon)s): "
           "each is within %(accuracy)s of the true count with 95%% probability.")
NOISE_SUMMED = N_("Random noise is added to these figures (differential privacy, "
                  "ε = %(epsilon)s): each month's or week's figure is within %(accuracy)s of "
                  "the true count with 95%% probability, and a sum over several is less "
                  "precise.")


@dataclass(frozen=True)
class Asked:
    """The form as entered (shown back when it cannot be answered)."""

    start: str = ""
    end: str = ""
    country: str = ""
    period: str = Period.MONTH.value

    @classmethod
    def of(cls, request: Request) -> "Asked":
        def given(name: str, default: str = "") -> str:
            return request.query_params.get(name, default).strip()[:40]

        return cls(given("from"), given("to"), given("country").upper(),
                   given("period", Period.MONTH.value) or Period.MONTH.value)

    @classmethod
    def answered(cls, query: StatsQuery) -> "Asked":
        last = query.end - timedelta(days=1)
        return cls(f"{query.start.year:04d}-{query.start.month:02d}",
                   f"{last.year:04d}-{last.month:02d}", ",".join(query.countries),
                   query.period.value)

    def query_string(self) -> str:
        values = {"from": self.start, "to": self.end, "period": self.period}
        return urlencode(values | ({"country": self.country} if self.country else {}))


@dataclass
class Section:
    """One chart and the table of the same figures under it."""

    name: str
    title: str
    chart: Markup | None
    empty: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]
    notes: list[str] = field(default_factory=list)
    download: str | None = None


def _month(text: str) -> date | None:
    """The first day of a ``YYYY-MM`` month (a whole date is accepted and snapped)."""
    if not text:
        return None
    found = MONTH.fullmatch(text)
    try:
        if found is None or not YEARS[0] <= int(found.group(1)) <= YEARS[1]:
            raise ValueError(text)  # far years would overflow the month arithmetic
        return date(int(found.group(1)), int(found.group(2)), 1)
    except ValueError:
        raise QueryError(MONTH_INVALID) from None


def parse(asked: Asked, settings: Settings, now: datetime) -> StatsQuery:
    """The statistics question of the form; QueryError says what is wrong."""
    if asked.period not in {p.value for p in Period}:
        raise QueryError(PERIOD_INVALID)
    if any(code not in COUNTRIES for code in asked.country.split(",") if code):
        raise QueryError(COUNTRY_INVALID)
    start, end = _month(asked.start), _month(asked.end)
    return service.parse(asked.period, start, end, asked.country or None, now.date(),
                         settings.stats_max_months, settings.stats_settle_days)


def explain(error: QueryError, translations: NullTranslations) -> str:
    if isinstance(error, NotSettled):
        return translations.ngettext(*NOT_SETTLED, error.days) % {"days": error.days}
    message = str(error)
    months = re.fullmatch(r"at most (\d+) months per table", message)
    if months:
        count = int(months.group(1))
        return translations.ngettext(*TOO_MANY_MONTHS, count) % {"months": count}
    return translations.gettext(message)


def _stats_page(request: Request, asked: Asked, *, status_code: int = 200,
                error: str | None = None, **shown: Any) -> Response:
    return render(request, "stats.html", viewer=auth.viewer(request), status_code=status_code,
                  form=asked, countries=COUNTRIES, error=error,
                  sections=shown.pop("sections", []), **shown)


def _refused(request: Request, asked: Asked, error: QueryError) -> Response:
    translations = language.translations(language.language_of(request))
    return _stats_page(request, asked, status_code=422, error=explain(error, translations))


@router.get("/stats")
def stats_page(request: Request, session: auth.ConsoleDb, settings: SettingsDep, now: NowDep,
               user: StatsUser) -> Response:
    asked = Asked.of(request)
    try:
        query = parse(asked, settings, now)
    except QueryError as exc:
        return _refused(request, asked, exc)
    board = dashboard(session, settings, now, user, query)
    ui = language.language_of(request)
    translations = language.translations(ui)
    answered = Asked.answered(query)
    gettext = translations.gettext
    names: dict[str, Callable[[str], str]] = {
        "by_country": lambda code: language.country_name(code, ui),
        "by_language": lambda code: language.language_name(code, ui)}
    sections = [_over_time(board["tables"]["over_time"], query.period, gettext)]
    sections += [_by_category(board["tables"][name], name, names[name], gettext)
                 for name in ("by_country", "by_language")]
    sections.append(_quality(board["quality"], _organisation_names(session), gettext))
    query_string = answered.query_string()
    for section in sections:
        if section.name in TABLES:
            section.download = f"/console/stats/{section.name}.csv?{query_string}"
    protection = board["tables"]["over_time"]["protection"]
    budget = board["quality"].get("budget")
    return _stats_page(request, answered, sections=sections, k=protection["k"],
                       settle_days=settings.stats_settle_days,
                       without_consent=_without_consent(session, query, protection["k"]),
                       htcds=_htcds(session, query, protection["k"]),
                       private=bool(protection.get("differential_privacy")),
                       window=(answered.start, answered.end), query_string=query_string,
                       budget_spent=budget["epsilon_spent_to_date"] if budget else None)


def _without_consent(session: Session, query: StatsQuery, k: int) -> dict[str, str]:
    """What the table downloads of this window leave out for want of reporting consent."""
    return export.without_consent(session, service.window_of(query), list(query.countries),
                                  k).shown(k)


def _htcds(session: Session, query: StatsQuery, k: int) -> dict[str, str]:
    """The HTCDS file of this window: its quarters, its link, and what it leaves out.
    The link drops the country chosen, which the file refuses: it covers every country."""
    window = service.quarter_window(query)
    if window.start == window.end:
        return {}  # no whole quarter of the window has settled yet
    left_out = export.without_consent(session, window, [], k, screened=True)
    start, end = _quarters(window)
    every_country = replace(Asked.answered(query), country="")
    return {"start": start, "end": end, "query_string": every_country.query_string(),
            "screened": left_out.shown(k)["cases"]}


def _quarters(window: Window) -> tuple[str, str]:
    """The first and last month of the HTCDS file's quarters (``service.quarter_window``)."""
    return f"{window.start:%Y-%m}", f"{window.end - timedelta(days=1):%Y-%m}"


def _noise(described: dict[str, Any] | None, epsilon: float | None,
           gettext: Callable[[str], str], message: str = NOISE) -> list[str]:
    """The 95% accuracy of a differentially private release, if it is one."""
    if not described:
        return []
    return [gettext(message) % {"epsilon": f"{epsilon if epsilon is not None else '?'}",
                                "accuracy": f"±{described['accuracy_95']:g}"}]


def _table_noise(body: dict[str, Any], gettext: Callable[[str], str],
                 message: str = NOISE) -> list[str]:
    private = body["protection"].get("differential_privacy")
    if not private:
        return []
    plans = [plan["cells"] for plan in private["tables"].values() if "cells" in plan]
    widest = max(plans, key=lambda plan: plan["accuracy_95"], default=None)
    return _noise(widest, private["epsilon"], gettext, message)


def _over_time(body: dict[str, Any], period: Period,
               gettext: Callable[[str], str]) -> Section:
    series = {source: {row["period"]: row for row in body["tables"][source]["rows"]}
              for source in SOURCES}
    periods = list(series["contacts"])
    title = gettext(TITLES[("over_time", period)])
    points = [Point(p, series["contacts"][p]["value"], series["contacts"][p]["display"])
              for p in periods]
    rows = [(p, [series[source][p]["display"] if p in series[source] else ABSENT
                 for source in SOURCES]) for p in periods]
    return Section("over_time", title, line_chart(points, title=title) if points else None,
                   gettext(NO_PEOPLE), [gettext(FIRST_COLUMN[period]),
                                        *map(gettext, COUNT_COLUMNS)],
                   rows, _table_noise(body, gettext))


def window_sums(rows: list[dict[str, Any]], dimension: str) -> dict[str, tuple[Any, str]]:
    """Each category's figure over the whole window, as (value, display).

    Shown only where every period's cell is shown; a category whose only non-zero
    period is a small withheld cell is that cell (nothing more is revealed); any other
    mix with withheld cells is withheld as ``x``. A category missing from a period whose
    ``other`` is not zero may be counted there (rare categories are folded month by
    month), so its sum over the window is not known either: ``x``.
    """
    cells: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        cells.setdefault(row[dimension], []).append(row)
    folded = {row["period"] for row in rows if row[dimension] == OTHER and row["value"] != 0}
    sums: dict[str, tuple[Any, str]] = {}
    for category, found in cells.items():
        withheld = [cell for cell in found if cell["value"] is None]
        shown = sum(cell["value"] for cell in found if cell["value"] is not None)
        if category not in (OTHER, TOTAL) and folded - {cell["period"] for cell in found}:
            sums[category] = (None, "x")
        elif not withheld:
            sums[category] = (shown, f"{shown:,}")
        elif shown == 0 and len(withheld) == 1 and withheld[0]["withheld"] == "small":
            sums[category] = (None, withheld[0]["display"])
        else:
            sums[category] = (None, "x")
    return sums


def _by_category(body: dict[str, Any], name: str, name_of: Callable[[str], str],
                 gettext: Callable[[str], str]) -> Section:
    dimension = TABLES[name][0]
    sums = {source: window_sums(body["tables"][source]["rows"], dimension)
            for source in SOURCES}
    categories = list(dict.fromkeys([*sums["contacts"], *sums["cases"]]))
    categories = [c for c in categories if c != TOTAL] + [c for c in categories if c == TOTAL]

    def label(category: str) -> str:
        return gettext(CATEGORY_NAMES[category]) if category in CATEGORY_NAMES else name_of(
            category)

    title = gettext(TITLES[(name, None)])
    points = [Point(label(c), *sums["contacts"][c]) for c in categories
              if c != TOTAL and c in sums["contacts"]]
    rows = [(label(c), [sums[source][c][1] if c in sums[source] else ABSENT
                        for source in SOURCES]) for c in categories]
    return Section(name, title, bar_chart(points, title=title) if points else None,
                   gettext(NO_PEOPLE),
                   [gettext(FIRST_COLUMN[name]), *map(gettext, COUNT_COLUMNS)], rows,
                   [gettext(WINDOW_NOTE), *_table_noise(body, gettext, NOISE_SUMMED)])


def _organisation_names(session: Session) -> dict[str, str]:
    return {o.slug: o.name
            for o in organisations.list_organisations(session, include_inactive=True)}


def _quality(body: dict[str, Any], org_names: dict[str, str],
             gettext: Callable[[str], str]) -> Section:
    title = gettext(QUALITY_TITLE)

    def label(slug: str) -> str:
        return gettext(CATEGORY_NAMES[OTHER]) if slug == OTHER else org_names.get(slug, slug)

    per_org = [(label(org["organisation"]), org) for org in body["organisations"]]
    points = [Point(name, org["answer_rate"]["value"], org["answer_rate"]["display"])
              for name, org in per_org]
    rows = [(name, [figures[figure]["display"] for figure in QUALITY_FIGURES])
            for name, figures in [(gettext(ALL_ORGANISATIONS), body["overall"]), *per_org]]
    private = body.get("differential_privacy")
    epsilon = private.get("epsilon") if private else None
    return Section("quality", title, bar_chart(points, title=title) if points else None,
                   gettext(NO_ORGANISATIONS),
                   [gettext(ORGANISATION), *map(gettext, QUALITY_COLUMNS)],
                   rows, _noise(private, epsilon, gettext))


def _download(text: str, filename: str) -> Response:
    return harden(Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'}))


def _file_name(kind: str, query: StatsQuery) -> str:
    asked = Asked.answered(query)
    return f"hotline-{kind}-{asked.start}-to-{asked.end}.csv"


@router.get("/stats/htcds.csv")
def htcds_csv(request: Request, session: auth.ConsoleDb, settings: SettingsDep, now: NowDep,
              user: StatsUser) -> Response:
    """The k-anonymous case-level export in HTCDS column names, audited as by the API;
    named after the quarters it covers."""
    asked = Asked.of(request)
    try:
        query = parse(asked, settings, now)
        text, headers = reports.htcds_export(session, settings, now, user, query)
    except QueryError as exc:
        return _refused(request, asked, exc)
    start, end = _quarters(service.quarter_window(query))
    response = _download(text, f"hotline-htcds-{start}-to-{end}.csv")
    response.headers.update(headers)
    return response


@router.get("/stats/{name}.csv")
def table_csv(name: str, request: Request, session: auth.ConsoleDb, settings: SettingsDep,
              now: NowDep, user: StatsUser) -> Response:
    """One of the page's tables, per period as the API gives it, audited as a CSV; for
    partners, so only cases with reporting consent (the page itself counts everyone)."""
    if name not in TABLES:
        raise ErrorPage(404, NO_SUCH_TABLE)
    asked = Asked.of(request)
    try:
        query = parse(asked, settings, now)
    except QueryError as exc:
        return _refused(request, asked, exc)
    table = replace(query, dimensions=TABLES[name])
    text, headers = reports.table_export(session, settings, now, user, table)
    response = _download(text, _file_name(name.replace("_", "-"), query))
    response.headers.update(headers)
    return response
