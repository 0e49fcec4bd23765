"""Consent to reporting: operators record it on a claimed case; exports to partners (the
HTCDS file and the CSV tables, through the API and the console) count only cases that
have it and say how many were left out; the hotline's own dashboard counts everyone."""

import csv
import io
import re
import uuid

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.models import Case
from app.users.models import Role
from tests.console.helpers import sign_in
from tests.stats.people import add_people
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
HOME = "kz-almaty-shelter"
MARCH = "from=2026-03-01&to=2026-03-31"
SCREENED = {"gender": "Feminine", "age_band": "18-20", "citizenship": ["KZ"],
            "country_of_exploitation": "RU", "exploitation_types": ["ForcedLabour"]}


@pytest.fixture
def coordinator(client, session):
    return make_person(client, session, "gulnara", Role.COORDINATOR)


@pytest.fixture
def people(session, demo_directory) -> list[str]:
    """March, all Kazakh speakers in KZ with the same screening: 12 who agreed to reporting
    and 11 who did not; 3 more called without a case being opened. Returns the pseudonyms
    of those who did not agree."""
    add_people(session, 12, screening=SCREENED, consent=True)
    refused = add_people(session, 11, screening=SCREENED)
    add_people(session, 3, case=False)
    session.commit()
    return refused


def parsed(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


def cell(rows: list[dict[str, str]], table: str, language: str) -> str:
    return next(r["shown_as"] for r in rows if r["table"] == table
                and r["period"] == "2026-03" and r["language"] == language)


def one_case(session) -> uuid.UUID:
    [pseudonym] = add_people(session, 1)
    session.commit()
    return session.scalars(select(Case.id).where(Case.caller_pseudonym == pseudonym)).one()


def test_operators_set_and_clear_consent_on_a_claimed_case_only(client, session):
    case = session.get(Case, one_case(session))
    aigerim = make_person(client, session, "aigerim")
    url = f"/api/cases/{case.id}/reporting-consent"
    assert client.put(url, json={"given": True}, headers=aigerim.headers).status_code == 409
    client.post(f"/api/cases/{case.id}/claim", headers=aigerim.headers)
    given = client.put(url, json={"given": True}, headers=aigerim.headers)
    assert given.status_code == 200 and given.json()["reporting_consent"] is True
    assert client.get(f"/api/cases/{case.id}", headers=aigerim.headers
                      ).json()["reporting_consent"] is True
    cleared = client.put(url, json={"given": False}, headers=aigerim.headers)
    assert cleared.json()["reporting_consent"] is False
    abroad = make_person(client, session, "ivan", organisation="ru-moscow-shelter")
    assert client.put(url, json={"given": True}, headers=abroad.headers).status_code == 404
    session.expire_all()
    assert session.get(Case, case.id).reporting_consent is False
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.consent")
                             .order_by(AuditEvent.id)).all()
    assert [(e.username, e.detail["given"]) for e in events] == [("aigerim", True),
                                                                ("aigerim", False)]


def test_the_case_page_shows_and_changes_consent(app, session):
    case_id = one_case(session)
    aigerim = sign_in(app, session, "aigerim")
    page = aigerim.get(f"/console/cases/{case_id}").text
    assert "Not given: this case is left out of exports to partners" in page
    assert f'action="/console/cases/{case_id}/consent"' not in page  # not claimed yet
    aigerim.post(f"/console/cases/{case_id}/claim")
    saved = aigerim.post(f"/console/cases/{case_id}/consent", {"given": "on"}, follow=True)
    assert "Reporting consent saved." in saved.text
    assert re.search(r'<input type="checkbox" name="given" checked>', saved.text)
    assert "Given: this case's anonymised data is counted" in saved.text
    russian = aigerim.get(f"/console/cases/{case_id}?lang=ru").text
    assert "Дано: обезличенные данные этого случая учитываются" in russian
    aigerim.post(f"/console/cases/{case_id}/consent", {})
    session.expire_all()
    assert session.get(Case, case_id).reporting_consent is False
    assert aigerim.post(f"/console/cases/{case_id}/consent", {"given": "on"},
                        csrf="forged").status_code == 403
    session.expire_all()
    assert session.get(Case, case_id).reporting_consent is False
    assert [e.detail["given"] for e in session.scalars(
        select(AuditEvent).where(AuditEvent.action == "case.consent"))] == [True, False]


@pytest.mark.usefixtures("people")
def test_the_htcds_export_has_only_consented_cases_and_counts_the_rest(client, coordinator,
                                                                         app, session):
    response = client.get(f"/api/stats/export/htcds.csv?{MARCH}", headers=coordinator.headers)
    assert len(parsed(response)) == 12
    assert response.headers["X-Cases-Without-Consent"] == "11"
    console = sign_in(app, session, "dina", Role.COORDINATOR)
    download = console.get(f"/console/stats/htcds.csv?{MARCH}")
    assert len(parsed(download)) == 12 and download.headers["X-Cases-Without-Consent"] == "11"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "stats.export")
                            .order_by(AuditEvent.id)).first()
    assert event.detail["rows"] == 12 and event.detail["without_consent"] == 11


def test_consent_given_by_the_operator_takes_the_case_into_the_export(client, session,
                                                                      coordinator, people):
    aigerim = make_person(client, session, "aigerim")
    case = session.scalars(select(Case).where(Case.caller_pseudonym == people[0])).one()
    client.post(f"/api/cases/{case.id}/claim", headers=aigerim.headers)
    client.put(f"/api/cases/{case.id}/reporting-consent", json={"given": True},
               headers=aigerim.headers)
    response = client.get(f"/api/stats/export/htcds.csv?{MARCH}", headers=coordinator.headers)
    assert len(parsed(response)) == 13 and response.headers["X-Cases-Without-Consent"] == "10"


@pytest.mark.usefixtures("people")
def test_csv_tables_count_consented_cases_the_dashboard_everyone(client, coordinator):
    query = f"group_by=language&{MARCH}"
    rows = parsed(response := client.get(f"/api/stats.csv?{query}",
                                         headers=coordinator.headers))
    assert cell(rows, "cases", "kk") == "12" and cell(rows, "contacts", "kk") == "12"
    assert response.headers["X-Cases-Without-Consent"] == "11"
    assert response.headers["X-Contacts-Without-Consent"] == "14"  # 11 cases' and 3 without
    dashboard = client.get(f"/api/stats?{query}", headers=coordinator.headers).json()
    kk = {table: next(r["value"] for r in dashboard["tables"][table]["rows"]
                      if r["period"] == "2026-03" and r["language"] == "kk")
          for table in ("cases", "contacts")}
    assert kk == {"cases": 23, "contacts": 26}


@pytest.mark.usefixtures("people")
def test_the_console_page_counts_everyone_and_says_what_downloads_leave_out(app, session):
    console = sign_in(app, session, "dina", Role.COORDINATOR)
    page = console.get("/console/stats?from=2026-03&to=2026-03").text
    over_time = re.search(r'<section id="over_time">(.*?)</section>', page, re.S).group(1)
    assert re.search(r"<th scope=\"row\">2026-03</th><td>26</td><td>23</td>", over_time)
    assert "Left out of the downloads for this window: 11 cases and 14 contacts." in page
    assert "11 screened cases in these quarters are left out." in page
    rows = parsed(console.get("/console/stats/by_language.csv?from=2026-03&to=2026-03"))
    assert cell(rows, "cases", "kk") == "12" and cell(rows, "contacts", "kk") == "12"
    russian = console.get("/console/stats?from=2026-03&to=2026-03&lang=ru").text
    assert "случаев — 11, обращений — 14" in russian


def test_a_small_number_left_out_is_shown_as_small_cells_are(client, session, coordinator):
    """An exact 1 to k-1 would give away what the tables withhold (say, the only case in
    a country), so it is shown as the tables show such counts."""
    add_people(session, 12, screening=SCREENED, consent=True)
    add_people(session, 2, country="TJ", language="tg", screening=SCREENED)
    session.commit()
    response = client.get(f"/api/stats/export/htcds.csv?{MARCH}", headers=coordinator.headers)
    assert response.headers["X-Cases-Without-Consent"] == "<10"
    nothing = client.get(f"/api/stats.csv?{MARCH}&country=KZ", headers=coordinator.headers)
    assert nothing.headers["X-Cases-Without-Consent"] == "0"


def test_counts_left_out_cannot_be_subtracted_between_windows_or_countries(
        client, session, coordinator):
    """Cases without consent: 12 in March and 3 in April in Kazakhstan; in May, 12 in
    Kazakhstan, 3 in Tajikistan and 20 in Uzbekistan. Exact counts over March and over
    March to April would differ by April's 3; the hotline's May less Kazakhstan's and
    Uzbekistan's would be Tajikistan's 3."""
    for day, country, n in (("2026-03-10", "KZ", 12), ("2026-04-10", "KZ", 3),
                            ("2026-05-10", "KZ", 12), ("2026-05-10", "TJ", 3),
                            ("2026-05-10", "UZ", 20)):
        add_people(session, n, day=day, country=country, screening=SCREENED)
    session.commit()

    def left_out(window: str, country: str = "") -> str:
        url = f"/api/stats.csv?group_by=language&{window}" + (
            f"&country={country}" if country else "")
        response = client.get(url, headers=coordinator.headers)
        assert response.status_code == 200, response.text
        return response.headers["X-Cases-Without-Consent"]

    assert left_out(MARCH) == "12"
    assert left_out("from=2026-04-01&to=2026-04-30") == "<10"
    assert left_out("from=2026-03-01&to=2026-04-30") == "x"  # not 15
    may = "from=2026-05-01&to=2026-05-31"
    assert left_out(may) == "35"
    by_country = {c: left_out(may, c) for c in ("KZ", "TJ", "UZ")}
    assert by_country["TJ"] == "<10"
    withheld = [c for c, shown in by_country.items() if not shown.isdigit()]
    assert len(withheld) >= 2, by_country  # 35 less the shown is no single country
    htcds = client.get(f"/api/stats/export/htcds.csv?{MARCH}", headers=coordinator.headers)
    assert htcds.headers["X-Cases-Without-Consent"] == "12"  # the quarter: March alone
