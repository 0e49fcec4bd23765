"""Differencing: an attacker asks for two overlapping releases and subtracts them.

Every release is cut from fixed blocks (a calendar month or a whole ISO week, and for a
country filter the table counted by country), so what two releases hold in common they
show alike, and their difference is whole blocks, each protected on its own. Each test
builds data on which the protection used before fixed blocks gave a small count away.
"""

from typing import Any

import pytest

from app.console.stats import window_sums
from app.users.models import Role
from tests.stats.people import add_people
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
K = 10
Row = dict[str, Any]


@pytest.fixture
def ask(client, session):
    coordinator = make_person(client, session, "coordinator", Role.COORDINATOR)

    def get(query: str) -> dict[str, Any]:
        response = client.get(f"/api/stats?{query}", headers=coordinator.headers)
        assert response.status_code == 200, response.text
        return response.json()

    return get


def cells(body: dict[str, Any], table: str = "contacts") -> dict[tuple[str, ...], Row]:
    """Each released figure by its key: period and category values."""
    return {tuple(str(v) for name, v in row.items()
                  if name not in ("value", "display", "withheld", "percent")): row
            for row in body["tables"][table]["rows"]}


def small_differences(first: dict[str, Any], second: dict[str, Any]) -> dict[Any, int]:
    """What an attacker learns by subtracting one release from the other: every figure
    both show, differing by 1 to k-1 people (a small count neither release shows)."""
    found = {}
    for table in ("contacts", "cases", "blocked"):
        a, b = cells(first, table), cells(second, table)
        for key in a.keys() & b.keys():
            if a[key]["value"] is not None and b[key]["value"] is not None:
                gap = abs(a[key]["value"] - b[key]["value"])
                if 0 < gap < K:
                    found[(table, *key)] = gap
    return found


def figures(found: dict[Any, Row]) -> dict[Any, tuple[Any, ...]]:
    return {key: (row["value"], row["display"], row["withheld"], row["percent"])
            for key, row in found.items()}


def in_period(body: dict[str, Any], period: str, table: str = "contacts") -> dict[Any, Row]:
    return {key: row for key, row in cells(body, table).items() if key[0] == period}


@pytest.fixture
def rare_in_january(session, demo_directory):
    """January: 12 from Kazakhstan, 3 from Tajikistan, 40 from abroad (counted in other).
    February and March: 20 from Kazakhstan each. April: 12 from Tajikistan, so Tajikistan
    is rare over January to March but not over January to April."""
    add_people(session, 12, day="2026-01-12", country="KZ", language="ru")
    add_people(session, 3, day="2026-01-13", country="TJ", language="tg")
    add_people(session, 40, day="2026-01-14", country="DE", language="ru")
    for day in ("2026-02-10", "2026-03-10"):
        add_people(session, 20, day=day, country="KZ", language="kk")
    add_people(session, 12, day="2026-04-07", country="TJ", language="tg")
    add_people(session, 12, day="2026-04-08", country="KZ", language="kk")
    session.commit()


@pytest.mark.usefixtures("rare_in_january")
def test_a_longer_window_shows_the_shared_months_exactly_as_the_shorter(ask):
    to_march = ask("group_by=country&from=2026-01-01&to=2026-03-31")
    to_april = ask("group_by=country&from=2026-01-01&to=2026-04-30")
    from_february = ask("group_by=country&from=2026-02-01&to=2026-04-30")
    # Folding Tajikistan into other by the window showed January's other as 43 from
    # January to March and 40 from January to April: 3, the Tajik callers.
    assert small_differences(to_march, to_april) == {}
    assert small_differences(from_february, to_april) == {}
    for month in ("2026-01", "2026-02", "2026-03"):
        assert in_period(to_march, month) == in_period(to_april, month)
    for month in ("2026-02", "2026-03", "2026-04"):
        assert in_period(from_february, month) == in_period(to_april, month)
    # January's 3 are counted in other whatever the window; April's 12 are listed.
    january = cells(to_april)
    assert ("2026-01", "TJ") not in january
    assert january[("2026-01", "other")]["value"] == 43
    assert cells(to_april)[("2026-04", "TJ")]["display"] == "12"


@pytest.mark.usefixtures("rare_in_january")
def test_what_the_longer_window_adds_is_its_own_month_protected(ask):
    to_march = ask("group_by=country,language&from=2026-01-01&to=2026-03-31")
    to_april = ask("group_by=country,language&from=2026-01-01&to=2026-04-30")
    april = {key: row for key, row in cells(to_april).items() if key[0] == "2026-04"}
    assert not any(key[0] == "2026-04" for key in cells(to_march))
    # April alone: 12 Kazakh speakers of KZ and 12 Tajik speakers of TJ.
    shown = {key[1:]: row["display"] for key, row in april.items()}
    assert shown[("KZ", "kk")] == shown[("TJ", "tg")] == "12"
    assert shown[("total", "total")] == "24"
    assert small_differences(to_march, to_april) == {}


def test_weeks_across_a_month_boundary_are_counted_whole(ask, session):
    """2026-02-01 is a Sunday: its week starts on Monday 2026-01-26. Asked from February,
    that week used to count only its Sunday, so January's part of it (3 people) was the
    difference between the two releases."""
    add_people(session, 3, day="2026-01-27", country="KZ", language="kk")
    add_people(session, 12, day="2026-02-01", country="KZ", language="kk")
    add_people(session, 11, day="2026-02-16", country="KZ", language="kk")
    session.commit()
    january = ask("group_by=week&from=2026-01-01&to=2026-02-28")
    february = ask("group_by=week&from=2026-02-01&to=2026-02-28")
    assert in_period(february, "2026-01-26") == in_period(january, "2026-01-26")
    assert cells(february)[("2026-01-26",)]["value"] == 15
    assert small_differences(january, february) == {}


@pytest.fixture
def two_countries(session, demo_directory):
    """January: Kazakhstan 20 Kazakh and 12 Russian speakers; Tajikistan 2 Russian and 15
    Tajik speakers. Without blocks, all countries showed 14 Russian speakers and
    Kazakhstan alone 12: the 2 Russian speakers of Tajikistan, a withheld cell there."""
    add_people(session, 20, day="2026-01-12", country="KZ", language="kk")
    add_people(session, 12, day="2026-01-12", country="KZ", language="ru")
    add_people(session, 2, day="2026-01-13", country="TJ", language="ru")
    add_people(session, 15, day="2026-01-13", country="TJ", language="tg")
    session.commit()


WINDOW = "from=2026-01-01&to=2026-01-31"


@pytest.mark.usefixtures("two_countries")
def test_filtered_releases_are_rows_of_the_table_by_country(ask):
    everyone = ask(f"group_by=language&{WINDOW}")
    kazakhstan = ask(f"group_by=language&country=KZ&{WINDOW}")
    tajikistan = ask(f"group_by=language&country=TJ&{WINDOW}")
    block = cells(ask(f"group_by=country,language&{WINDOW}"))
    for release, country in ((everyone, "total"), (kazakhstan, "KZ"), (tajikistan, "TJ")):
        rows = {(key[0], key[2]): row for key, row in block.items() if key[1] == country}
        assert figures(cells(release)) == figures(rows)
    # Withheld, and not as <10: beside 17 people and Tajik named (at least 10), <10
    # would be at most 7; the row is hidden instead.
    assert cells(tajikistan)[("2026-01", "ru")]["withheld"] == "hidden"
    for a, b in ((everyone, kazakhstan), (everyone, tajikistan), (kazakhstan, tajikistan)):
        assert small_differences(a, b) == {}
    # Everyone minus Kazakhstan: Russian speakers of Tajikistan, the withheld cell.
    ru = [cells(r)[("2026-01", "ru")]["value"] for r in (everyone, kazakhstan)]
    assert None in ru


@pytest.mark.usefixtures("two_countries")
def test_a_period_with_few_people_from_the_country_is_not_released_for_it(ask, session):
    """A country with fewer than k people in a month is counted in other for that
    month, in the table by country and so in its own filtered release."""
    add_people(session, 4, day="2026-02-10", country="TJ", language="tg")
    add_people(session, 30, day="2026-02-10", country="KZ", language="kk")
    session.commit()
    tajikistan = ask("group_by=language&country=TJ&from=2026-01-01&to=2026-02-28")
    assert {key[0] for key in cells(tajikistan)} == {"2026-01"}
    everyone = ask("group_by=country&from=2026-02-01&to=2026-02-28")
    assert cells(everyone)[("2026-02", "other")]["display"] == "<10"


@pytest.mark.parametrize("query", [
    "group_by=language&country=KZ,TJ",        # a sum over two countries
    "group_by=language,channel&country=KZ",   # three dimensions with the country
    "group_by=citizenship&country=KZ",        # several answers per person
])
def test_filters_that_would_publish_new_sums_are_refused(client, session, query):
    coordinator = make_person(client, session, "coordinator", Role.COORDINATOR)
    response = client.get(f"/api/stats?{query}", headers=coordinator.headers)
    assert response.status_code == 422
    assert "country filter" in response.text


def _row(period: str, language: str, value: int | None, withheld: str | None = None) -> Row:
    display = f"{value:,}" if value is not None else ("<10" if withheld == "small" else "x")
    return {"period": period, "language": language, "value": value, "display": display,
            "withheld": withheld, "percent": None}


def test_the_page_does_not_sum_a_category_counted_in_other_in_some_month():
    """Russian speakers: 12 in January, 4 in February (rare there: counted in other).
    Summed over the two months the page would show 12 for 16; it withholds the sum."""
    january = [_row("2026-01", "ru", 12), _row("2026-01", "kk", 20)]
    february = [_row("2026-02", "kk", 25), _row("2026-02", "other", None, "small")]
    sums = window_sums([*january, *february], "language")
    assert sums["ru"] == (None, "x")
    assert sums["kk"] == (45, "45")
    # With nobody in other in February, Russian speakers were none there: 12 is the sum.
    sums = window_sums([*january, _row("2026-02", "kk", 25)], "language")
    assert sums["ru"] == (12, "12")
