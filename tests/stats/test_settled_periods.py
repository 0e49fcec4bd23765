"""Only settled periods are released. A month in progress grows from day to day, and the
records of one just over are still being completed, so the same month released on two
days would differ by the people in between: the attacker downloads a table on the 16th and
again on the 28th and subtracts. A month (week, quarter) is released once it has been over
for ``stats_settle_days`` (14), and then shows the same figures in every release."""

from datetime import date

import pytest

from app.stats import service
from app.stats.dimensions import Period
from app.users.models import Role
from tests.stats.people import add_people
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")


def parse(settings, today: date, group_by: str = "language", start: date = date(2026, 1, 1),
          end: date = date(2026, 4, 30)) -> service.StatsQuery:
    return service.parse(group_by, start, end, None, today, settings.stats_max_months,
                         settings.stats_settle_days)


def released(session, settings, today: date) -> dict:
    return service.release(session, parse(settings, today), settings)["tables"]


def figure(tables: dict, period: str, language: str) -> int | None:
    return next((row["value"] for row in tables["contacts"]["rows"]
                 if row["period"] == period and row["language"] == language), None)


def test_two_releases_days_apart_show_the_same_figures(session, settings):
    add_people(session, 30, day="2026-03-10")
    add_people(session, 12, day="2026-04-03", language="ru")
    on_the_16th = released(session, settings, date(2026, 4, 16))
    add_people(session, 1, day="2026-04-20", language="ru")  # one more Russian speaker
    on_the_28th = released(session, settings, date(2026, 4, 28))
    assert on_the_16th == on_the_28th  # nothing to subtract
    assert figure(on_the_28th, "2026-03", "kk") == 30
    assert {row["period"] for row in on_the_28th["contacts"]["rows"]} == {
        "2026-01", "2026-02", "2026-03"}
    # April is over on 1 May, and shown from the 15th, with everyone it settled with.
    assert figure(released(session, settings, date(2026, 5, 14)), "2026-04", "ru") is None
    assert figure(released(session, settings, date(2026, 5, 15)), "2026-04", "ru") == 13


def test_a_week_is_shown_once_it_has_been_over_for_the_settling_days(settings):
    query = parse(settings, date(2026, 3, 18), group_by="week", end=date(2026, 3, 31))
    assert query.period is Period.WEEK
    # 14 days before Wednesday 18 March is Wednesday 4 March: its week is not over then.
    assert service.periods_of(query)[-1] == "2026-02-23"
    assert query.describe()["to"] == "2026-03-01"


def test_the_htcds_file_keeps_to_settled_quarters(settings):
    asked_in_may = parse(settings, date(2026, 5, 20))  # January to April
    window = service.quarter_window(asked_in_may)
    assert (window.start.date(), window.end.date()) == (date(2026, 1, 1), date(2026, 4, 1))
    asked_in_july = parse(settings, date(2026, 7, 15))
    assert service.quarter_window(asked_in_july).end.date() == date(2026, 7, 1)
    asked_in_march = parse(settings, date(2026, 3, 20))  # January and February settled
    assert service.quarter_window(asked_in_march).start == \
        service.quarter_window(asked_in_march).end


def test_the_api_says_why_a_month_in_progress_has_no_figures(client, session):
    coordinator = make_person(client, session, "gulnara", Role.COORDINATOR)
    # The clock says 2026-11-23: November is in progress, October over for 22 days.
    refused = client.get("/api/stats?group_by=language&from=2026-11-01&to=2026-11-30",
                         headers=coordinator.headers)
    assert refused.status_code == 422
    assert "released 14 days after it ends" in refused.text
    answer = client.get("/api/stats?group_by=language&from=2026-09-01&to=2026-11-30",
                        headers=coordinator.headers).json()
    assert answer["query"]["to"] == "2026-10-31"
    quality = client.get("/api/stats/quality?from=2026-09-01&to=2026-11-30",
                         headers=coordinator.headers)
    assert quality.status_code == 200 and quality.json()["query"]["to"] == "2026-10-31"
    htcds = client.get("/api/stats/export/htcds.csv?from=2026-10-01&to=2026-11-30",
                       headers=coordinator.headers)
    assert htcds.status_code == 422  # October to December is in progress
