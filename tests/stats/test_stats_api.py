"""GET /api/stats and friends: hand-computed tables, suppression, roles, audit, exports."""

import csv
import io

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.users.models import Role
from tests.stats.people import add_people
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
WINDOW = "from=2026-03-14&to=2026-04-02"  # snapped to 2026-03-01 .. 2026-04-30


@pytest.fixture
def coordinator(client, session):
    return make_person(client, session, "coordinator", Role.COORDINATOR)


@pytest.fixture
def callers(session, demo_directory):
    """March: 30 Kazakh speakers in KZ, 12 Russian speakers in KZ calling 3 times each,
    3 Tajik speakers in TJ. April: 15 Russian speakers in TJ by SMS, and the 12 again.
    Everyone agreed to reporting, so the exports to partners count them too."""
    add_people(session, 30, language="kk", consent=True)
    repeat = add_people(session, 12, language="ru", contacts_each=3, consent=True)
    add_people(session, 3, country="TJ", language="tg", consent=True)
    add_people(session, 15, day="2026-04-02", country="TJ", language="ru", channel="sms",
               consent=True)
    add_people(session, 12, day="2026-04-20", language="ru", pseudonyms=repeat, consent=True)
    session.commit()


def rows(body, table="contacts"):
    return {tuple(v for k, v in row.items() if k not in ("value", "display", "withheld",
                                                       "percent")): row
            for row in body["tables"][table]["rows"]}


def shown(body, *key, table="contacts"):
    return rows(body, table)[key]["display"]


@pytest.mark.usefixtures("callers")
def test_people_by_language_are_counted_once_per_month(client, coordinator):
    response = client.get(f"/api/stats?group_by=language&{WINDOW}",
                          headers=coordinator.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["query"]["from"] == "2026-03-01" and body["query"]["to"] == "2026-04-30"
    # March: kk 30; ru 12 people (36 calls); tg 3 is rare in March -> other, <10;
    # ru or the total is withheld too, or other = 45 - 30 - 12 would give the 3 away.
    # ru's x alone (at least 10) would still leave other at 1 to 5 (45 - 30 - ru): the
    # interval audit withholds kk too, so other may be anything from 1 to 9.
    assert shown(body, "2026-03", "kk") == "x"
    assert shown(body, "2026-03", "other") == "<10"
    assert "x" in (shown(body, "2026-03", "ru"), shown(body, "2026-03", "total"))
    assert "tg" not in {key[1] for key in rows(body)}
    # April: 15 + the 12 returning callers, all Russian.
    assert shown(body, "2026-04", "ru") == "27"
    assert rows(body)[("2026-04", "ru")]["percent"] == 100.0
    assert shown(body, "2026-04", "total") == "27"


@pytest.mark.usefixtures("callers")
def test_two_way_table_by_country_and_channel(client, coordinator):
    body = client.get(f"/api/stats?group_by=country,channel&{WINDOW}",
                      headers=coordinator.headers).json()
    assert shown(body, "2026-04", "TJ", "sms") == "15"
    assert shown(body, "2026-04", "KZ", "voice") == "12"
    assert shown(body, "2026-04", "total", "total") == "27"
    # March: TJ's 3 are rare in March (other, <10); KZ's 42 and KZ's row total must go
    # too (45 - 42 = 3).
    assert shown(body, "2026-03", "other", "voice") == "<10"
    assert shown(body, "2026-03", "KZ", "voice") == "x"
    assert shown(body, "2026-03", "KZ", "total") == "x"
    assert shown(body, "2026-03", "total", "total") == "45"
    withheld = [r for r in body["tables"]["contacts"]["rows"] if r["value"] is None]
    assert all(r["display"] in ("<10", "x") and r["percent"] is None for r in withheld)
    assert body["tables"]["cases"]["rows"]  # cases are counted in their own table


@pytest.mark.usefixtures("callers")
def test_country_filter_and_weeks(client, coordinator):
    body = client.get(f"/api/stats?group_by=week,language&country=tj&{WINDOW}",
                      headers=coordinator.headers).json()
    assert body["query"]["country"] == ["TJ"]
    assert body["query"]["period"] == "week"
    # 2026-04-02 is a Thursday: its week starts on Monday 2026-03-30.
    assert shown(body, "2026-03-30", "ru") == "15"
    # The three in TJ on 2026-03-10 are fewer than k that week: counted in other in the
    # table by country, so that week is not released for TJ alone.
    assert not any(key[0] == "2026-03-09" for key in rows(body))
    assert all(key[1] != "kk" for key in rows(body))


def test_screening_fields_and_multi_select_tables(client, session, coordinator):
    add_people(session, 12, screening={"gender": "Feminine", "age_band": "18-20",
                                       "exploitation_types": ["ForcedLabour",
                                                              "SexualExploitation"]})
    add_people(session, 11, screening={"gender": "Masculine", "age_band": "30-38",
                                       "exploitation_types": ["ForcedLabour"]})
    session.commit()
    body = client.get(f"/api/stats?group_by=gender&{WINDOW}",
                      headers=coordinator.headers).json()
    assert shown(body, "2026-03", "Woman", table="cases") == "12"
    assert shown(body, "2026-03", "Man", table="cases") == "11"
    body = client.get(f"/api/stats?group_by=exploitation&{WINDOW}",
                      headers=coordinator.headers).json()
    assert shown(body, "2026-03", "ForcedLabour", table="cases") == "23"
    assert shown(body, "2026-03", "SexualExploitation", table="cases") == "12"
    assert shown(body, "2026-03", "total", table="cases") == "23"  # people, not answers


@pytest.mark.parametrize(("query", "message"), [
    ("group_by=country,language,need", "at most two"),
    ("group_by=citizenship,country", "one-way"),
    ("group_by=phone", "cannot group by phone"),
    ("country=XX", "unknown country"),
    ("from=2026-05-01&to=2026-03-01", "must not be after"),
    ("from=2016-01-01&to=2026-03-01", "at most 60 months"),
    ("from=not-a-date", "date"),
    ("to=9999-12-01", "between the years"),
])
def test_questions_outside_the_fixed_shapes_are_refused(client, coordinator, query, message):
    response = client.get(f"/api/stats?{query}", headers=coordinator.headers)
    assert response.status_code == 422
    assert message in response.text


ENDPOINTS = ["/api/stats?group_by=language", "/api/stats.csv?group_by=country",
             "/api/stats/quality", "/api/stats/export/htcds.csv"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_operators_get_403_and_strangers_401(client, session, url):
    operator = make_person(client, session, "operator")
    assert client.get(url, headers=operator.headers).status_code == 403
    assert client.get(url).status_code == 401
    admin = make_person(client, session, "admin", Role.ADMIN)
    assert client.get(url, headers=admin.headers).status_code == 200


def test_every_coordinator_request_is_audited(client, session, coordinator):
    for url in ENDPOINTS:
        country = "" if "htcds" in url else "country=KZ"  # the file takes no filter
        assert client.get(f"{url}{'&' if '?' in url else '?'}{country}",
                          headers=coordinator.headers).status_code == 200
    events = session.scalars(select(AuditEvent).where(AuditEvent.username == "coordinator",
                                                      AuditEvent.action.like("stats.%"))
                             ).all()
    assert [e.action for e in events] == ["stats.table", "stats.table", "stats.quality",
                                          "stats.export"]
    assert [e.detail["query"]["country"] for e in events] == [["KZ"]] * 3 + [[]]
    assert events[1].detail["format"] == "csv"


@pytest.mark.usefixtures("callers")
def test_csv_export_of_a_table_keeps_the_protection(client, coordinator):
    response = client.get(f"/api/stats.csv?group_by=language&{WINDOW}",
                          headers=coordinator.headers)
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    march_other = next(r for r in table if r["table"] == "contacts"
                       and r["period"] == "2026-03" and r["language"] == "other")
    assert march_other["count"] == "" and march_other["shown_as"] == "<10"
    kinds = {r["withheld"] for r in table}
    # Beside the <10 cell another is withheld: as complementary, or, where the dashboard
    # (everyone) withholds it, as hidden, so that the export cannot bound it.
    assert kinds >= {"small", ""} and kinds & {"complementary", "hidden"}


def test_k_is_never_below_five(database_url):
    from pydantic import ValidationError

    from tests.conftest import make_settings

    with pytest.raises(ValidationError, match="greater than or equal to 5"):
        make_settings(database_url, stats_k=4)
    assert make_settings(database_url).stats_k == 10
