"""The HTCDS file is a union of calendar quarters, each k-anonymised on its own, each person
in the quarter of their first screened case with reporting consent: two files differ by
whole quarters, each k-anonymous, and a country filter is refused."""

import csv
import io
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.stats import service
from app.stats.dimensions import Period
from app.stats.service import StatsQuery
from app.users.models import Role
from tests.console.helpers import sign_in
from tests.stats.people import add_people
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
K = 10
QUASI = ["prs_Gender", "ageBroad", "prs_Citizenship", "CountryOfExploitation",
         "yearOfRegistration"]
KAZAKH_WOMAN = {"gender": "Feminine", "age_band": "18-20", "citizenship": ["KZ"],
                "country_of_exploitation": "RU"}
UZBEK_MAN = {"gender": "Masculine", "age_band": "24-26", "citizenship": ["UZ"],
             "country_of_exploitation": "KZ"}
TURKMEN_ELDER = {"gender": "Masculine", "age_band": "48+", "citizenship": ["TM"],
                 "country_of_exploitation": "TR"}
EXPORT = "/api/stats/export/htcds.csv"


@pytest.fixture
def coordinator(client, session):
    return make_person(client, session, "gulnara", Role.COORDINATOR)


def rows(response) -> list[tuple[str, ...]]:
    assert response.status_code == 200, response.text
    return [tuple(row.values()) for row in csv.DictReader(io.StringIO(response.text))]


def quasi(response) -> list[tuple[str, ...]]:
    return [tuple(row[c] for c in QUASI) for row in csv.DictReader(io.StringIO(response.text))]


def download(client, coordinator, window: str):
    return client.get(f"{EXPORT}?{window}", headers=coordinator.headers)


def test_two_overlapping_files_differ_by_a_whole_k_anonymous_quarter(client, session,
                                                                     coordinator):
    """The attacker downloads January-March, then January-April, and subtracts: before,
    April's three Turkmen men were the difference, with their exact quasi-identifiers."""
    add_people(session, 15, day="2026-02-10", screening=KAZAKH_WOMAN, consent=True)
    add_people(session, 12, day="2026-03-10", screening=UZBEK_MAN, consent=True)
    add_people(session, 3, day="2026-04-10", screening=TURKMEN_ELDER, consent=True)
    add_people(session, 12, day="2026-05-10", screening=UZBEK_MAN, consent=True)
    session.commit()
    first = download(client, coordinator, "from=2026-01-01&to=2026-03-31")
    second = download(client, coordinator, "from=2026-01-01&to=2026-04-30")
    assert first.headers["X-Period"] == "2026-01-01/2026-03-31"
    assert second.headers["X-Period"] == "2026-01-01/2026-06-30"
    old, new = rows(first), rows(second)
    # The first quarter is the same block in both files, oldest first.
    assert len(old) == 27 and Counter(new[:len(old)]) == Counter(old)
    assert Counter(old) <= Counter(new)
    difference = Counter(quasi(second)) - Counter(quasi(first))
    assert sum(difference.values()) == 15  # the second quarter, whole
    assert min(difference.values()) >= K, difference
    assert not any("TM" in combo or "48+" in combo for combo in difference)
    assert second.headers["X-K-Anonymity-Achieved"] == "12"  # March's Uzbek men
    assert second.headers["X-Rows-Suppressed"] == "0"
    generalised = dict(block.split(":") for block in
                       second.headers["X-Generalisation"].split(";"))
    assert generalised == {
        "2026-Q1": "gender=0,age_band=0,citizenship=0,country_of_exploitation=0,year=0",
        "2026-Q2": "gender=0,age_band=1,citizenship=1,country_of_exploitation=2,year=0"}
    # Any window touching the same quarters gives the same file.
    assert download(client, coordinator, "from=2026-02-01&to=2026-05-31").text == second.text


def test_a_person_stays_in_the_quarter_of_their_first_consented_screened_case(
        client, session, coordinator):
    first_case = {**KAZAKH_WOMAN, "exploitation_types": ["ForcedMarriage"]}
    second_case = {**UZBEK_MAN, "exploitation_types": ["OrganRemoval"]}
    person = add_people(session, 1, day="2026-02-01", screening=first_case, consent=True)
    add_people(session, 1, day="2026-05-01", screening=second_case, consent=True,
               pseudonyms=person)
    add_people(session, 12, day="2026-02-10", screening=KAZAKH_WOMAN, consent=True)
    add_people(session, 12, day="2026-05-10", screening=UZBEK_MAN, consent=True)
    session.commit()
    half_year = download(client, coordinator, "from=2026-01-01&to=2026-06-30")
    text = half_year.text
    assert len(rows(half_year)) == 25  # 13 in the first quarter, 12 in the second
    assert text.count("ForcedMarriage") == 1 and "OrganRemoval" not in text
    assert any("ForcedMarriage" in line for line in text.splitlines()[1:14])
    assert quasi(half_year).count(("Feminine", "18-20", "KZ", "RU", "2026")) == 13
    first_quarter = download(client, coordinator, "from=2026-01-01&to=2026-03-31")
    assert Counter(rows(first_quarter)) == Counter(rows(half_year)[:13])
    # Their case in May belongs to nobody's quarter: they are not in a file of it alone.
    second_quarter = download(client, coordinator, "from=2026-04-01&to=2026-06-30")
    assert len(rows(second_quarter)) == 12
    assert "ForcedMarriage" not in second_quarter.text
    assert "OrganRemoval" not in second_quarter.text


def test_the_country_filter_is_refused_with_the_reason(client, session, coordinator, app):
    add_people(session, 12, day="2026-03-10", screening=KAZAKH_WOMAN, consent=True)
    session.commit()
    refused = client.get(f"{EXPORT}?from=2026-03-01&to=2026-03-31&country=KZ",
                         headers=coordinator.headers)
    assert refused.status_code == 422
    message = refused.json()["detail"][0]["msg"]
    assert message == service.HTCDS_COUNTRY_REFUSED
    assert "covers every country" in message
    assert "citizenship and country-of-exploitation columns" in message
    console = sign_in(app, session, "dina", Role.COORDINATOR)
    page = console.get("/console/stats/htcds.csv?from=2026-03&to=2026-03&country=KZ")
    assert page.status_code == 422 and "covers every country" in page.text
    russian = console.get("/console/stats/htcds.csv?from=2026-03&to=2026-03&country=KZ"
                          "&lang=ru").text
    assert "файл HTCDS охватывает все страны" in russian
    exports = session.scalars(select(AuditEvent).where(AuditEvent.action == "stats.export"))
    assert exports.all() == []  # nothing was released


def test_the_console_links_the_file_of_every_country(app, session):
    console = sign_in(app, session, "dina", Role.COORDINATOR)
    page = console.get("/console/stats?from=2026-02&to=2026-04&country=KZ").text
    assert 'href="/console/stats/htcds.csv?from=2026-02&amp;to=2026-04&amp;period=month"' \
        in page
    assert "The file covers every country and whole quarters, from 2026-01 to 2026-06" in page
    linked = console.get("/console/stats/htcds.csv?from=2026-02&to=2026-04&period=month")
    assert linked.status_code == 200
    assert "hotline-htcds-2026-01-to-2026-06.csv" in linked.headers["content-disposition"]


def test_the_window_is_widened_to_whole_quarters_and_so_is_the_count_left_out(
        client, session, coordinator, app):
    add_people(session, 12, day="2026-01-10", screening=KAZAKH_WOMAN, consent=True)
    add_people(session, 10, day="2026-01-20", screening=KAZAKH_WOMAN)  # no consent
    # The last minutes of the quarter (a minute apart), enough for a count of its own.
    add_people(session, 10, day="2026-06-30T23:50:00", screening=KAZAKH_WOMAN)
    add_people(session, 5, day="2026-07-01", screening=KAZAKH_WOMAN)  # the next quarter
    add_people(session, 5, day="2025-12-31T23:50:00", screening=KAZAKH_WOMAN)
    session.commit()
    response = download(client, coordinator, "from=2026-02-01&to=2026-04-30")
    assert response.headers["X-Period"] == "2026-01-01/2026-06-30"
    assert len(rows(response)) == 12  # January's, though February was asked for first
    assert response.headers["X-Cases-Without-Consent"] == "20"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "stats.export")
                            ).one()
    assert event.detail["period"] == "2026-01-01/2026-06-30"
    assert event.detail["query"]["from"] == "2026-02-01"  # the question, as asked
    assert (event.detail["rows"], event.detail["without_consent"]) == (12, 20)
    assert (event.detail["suppressed"], event.detail["achieved_k"]) == (0, 12)
    page = sign_in(app, session, "dina", Role.COORDINATOR).get(
        "/console/stats?from=2026-02&to=2026-04").text
    assert "20 screened cases in these quarters are left out." in page


@pytest.mark.parametrize(("start", "end", "period"), [
    (date(2026, 1, 1), date(2026, 2, 1), "2026-01-01/2026-04-01"),
    (date(2026, 3, 1), date(2026, 5, 1), "2026-01-01/2026-07-01"),
    (date(2025, 12, 1), date(2026, 2, 1), "2025-10-01/2026-04-01"),
    (date(2026, 10, 1), date(2027, 1, 1), "2026-10-01/2027-01-01"),
])
def test_quarters_are_calendar_quarters_in_utc(start, end, period):
    window = service.quarter_window(StatsQuery((), Period.MONTH, start, end))
    assert f"{window.start.date()}/{window.end.date()}" == period
    assert window.start.tzinfo is not None


def test_every_quarter_of_the_file_says_its_own_generalisation(client, session,
                                                               coordinator):
    add_people(session, 12, day="2025-11-10", screening=UZBEK_MAN, consent=True)
    add_people(session, 3, day="2026-01-10", screening=TURKMEN_ELDER, consent=True)
    session.commit()
    response = download(client, coordinator, "from=2025-12-01&to=2026-01-31")
    assert response.headers["X-Period"] == "2025-10-01/2026-03-31"
    blocks = response.headers["X-Generalisation"].split(";")
    assert [block.split(":")[0] for block in blocks] == ["2025-Q4", "2026-Q1"]
    assert blocks[0].endswith("gender=0,age_band=0,citizenship=0,"
                              "country_of_exploitation=0,year=0")
    # Three people are fewer than k: their quarter releases nothing, and says so.
    assert len(rows(response)) == 12 and response.headers["X-Rows-Suppressed"] == "<10"
    assert response.headers["X-K-Anonymity-Achieved"] == "12"
    assert "TM" not in response.text


def test_the_count_left_out_is_withheld_where_a_quarter_of_it_is_small(client, session,
                                                                        coordinator):
    """10 screened cases without consent in the first quarter, 1 in the second: a file of
    the first quarter says 10, so one of both saying 11 would give away the second's 1."""
    add_people(session, 10, day="2026-01-20", screening=KAZAKH_WOMAN)
    add_people(session, 1, day="2026-05-20", screening=KAZAKH_WOMAN)
    session.commit()
    first = download(client, coordinator, "from=2026-01-01&to=2026-03-31")
    both = download(client, coordinator, "from=2026-01-01&to=2026-06-30")
    assert first.headers["X-Cases-Without-Consent"] == "10"
    assert both.headers["X-Cases-Without-Consent"] == "x"
