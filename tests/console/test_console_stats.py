"""The coordinators' statistics page: charts and tables of protected figures, downloads."""

import csv
import html as markup
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.models import AttemptResult, Contact, RoutingAttempt
from app.console.stats import window_sums
from app.users.models import Role
from tests.console.helpers import (
    BASE_URL,
    HOME,
    login_post,
    make_user,
    sign_in,
    without_own_script,
)
from tests.stats.people import add_people, organisation_id

pytestmark = pytest.mark.usefixtures("demo_directory")
WINDOW = "from=2026-03&to=2026-04"


def answer_calls(session, organisation: str = HOME, seconds: int = 20) -> None:
    """Every voice call so far offered to one organisation, which accepted it."""
    org = organisation_id(session, organisation)
    for contact in session.scalars(select(Contact)).all():
        contact.answered_at = contact.started_at + timedelta(seconds=seconds)
        session.add(RoutingAttempt(contact_id=contact.id, attempt=1, organisation_id=org,
                                   reason="test", result=AttemptResult.COMPLETED,
                                   started_at=contact.started_at,
                                   answered_at=contact.answered_at))
    session.flush()


@pytest.fixture
def callers(session, demo_directory):
    """March: 30 Kazakh speakers in KZ, 12 Russian speakers in KZ calling 3 times each,
    3 Tajik speakers in TJ; all answered. April: 15 Russian speakers in TJ by SMS. All
    agreed to reporting, so the downloads for partners count them too."""
    add_people(session, 30, language="kk", screening={"gender": "Feminine"}, consent=True)
    add_people(session, 12, language="ru", contacts_each=3, consent=True)
    add_people(session, 3, country="TJ", language="tg", consent=True)
    answer_calls(session)
    add_people(session, 15, day="2026-04-02", country="TJ", language="ru", channel="sms",
               consent=True)
    session.commit()


@pytest.fixture
def coordinator(app, session):
    """A signed-in coordinator; signing in opened (and audited) the statistics page."""
    return sign_in(app, session, "gulnara", Role.COORDINATOR)


def section(html: str, name: str) -> str:
    found = re.search(rf'<section id="{name}">(.*?)</section>', html, re.S)
    assert found, name
    return found.group(1)


def table_cells(html: str) -> dict[str, list[str]]:
    """The rows of a section's table: the row heading, then the figures."""
    return {markup.unescape(head): [markup.unescape(c)
                                    for c in re.findall(r"<td>([^<]*)</td>", cells)]
            for head, cells in re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', html)}


def stats_events(session, username: str, after: int = 0) -> list[AuditEvent]:
    return session.scalars(select(AuditEvent).where(AuditEvent.username == username,
                                                    AuditEvent.action.like("stats.%"),
                                                    AuditEvent.id > after)
                           .order_by(AuditEvent.id)).all()


def last_event_id(session) -> int:
    return session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


@pytest.mark.usefixtures("callers")
def test_a_coordinator_sees_four_charts_and_the_protected_figures(coordinator):
    response = coordinator.get(f"/console/stats?{WINDOW}")
    assert response.status_code == 200, response.text
    html = response.text
    assert html.count("<svg") == 4 and html.count("</svg>") == 4
    over_time = table_cells(section(html, "over_time"))
    assert over_time == {"2026-03": ["45", "45"], "2026-04": ["15", "15"]}
    languages = table_cells(section(html, "by_language"))
    # March's 30 Kazakh speakers are withheld too: with Russian's x (at least 10) alone,
    # 45 - 30 - Russian would narrow Other to 1 to 5 (the interval audit).
    assert languages["Kazakh"][0] == "x"
    # The three Tajik speakers are rare in the window: counted in Other, shown as <10.
    assert languages["Other"][0] == "<10" and "Tajik" not in languages
    assert languages["Russian"][0] == "x"  # or 45 - 30 - 3 would give them away
    # Tajikistan has 3 in March and 15 in April: rare in March alone, its 3 are counted
    # in March's Other (each month is a fixed block), so the window shows Other <10 and
    # no sum for Tajikistan or for Kazakhstan, whose March is withheld to protect them.
    countries = table_cells(section(html, "by_country"))
    assert countries == {"Kazakhstan": ["x", "x"], "Tajikistan": ["x", "x"],
                         "Other": ["<10", "<10"], "Total": ["60", "60"]}
    for name in ("over_time", "by_country", "by_language"):
        for cells in table_cells(section(html, name)).values():
            assert "3" not in cells and "12" not in cells
    quality = table_cells(section(html, "quality"))
    # 45 people's 69 calls, all accepted after 20 seconds.
    assert quality["All organisations"][:5] == ["69", "69", "100.0%", "20 s", "20 s"]
    assert len(quality) == 2
    assert "&lt;10" in html and "fewer than 10" in html


def test_the_page_is_for_coordinators_and_admins_only(app, client, session):
    operator = sign_in(app, session, "aigerim")
    response = operator.get("/console/stats")
    assert response.status_code == 403 and "not for your role" in response.text
    for path in ("/console/stats", "/console/stats/by_country.csv",
                 "/console/stats/htcds.csv"):
        assert operator.get(path).status_code == 403
        refused = client.get(path, follow_redirects=False)
        assert (refused.status_code, refused.headers["location"]) == (303, "/console/login")
    assert stats_events(session, "aigerim") == []
    admin = sign_in(app, session, "boss", Role.ADMIN)
    assert admin.get("/console/stats").status_code == 200


def test_coordinators_land_on_the_statistics_page(app, session):
    make_user(session, "gulnara", Role.COORDINATOR)
    browser = TestClient(app, base_url=BASE_URL)
    home = login_post(browser, "gulnara").headers["location"]
    landing = browser.get(home, follow_redirects=False)
    assert (landing.status_code, landing.headers["location"]) == (303, "/console/stats")
    russian = browser.get(home + "?lang=ru", follow_redirects=False)
    assert russian.headers["location"] == "/console/stats?lang=ru"
    page = browser.get(home)  # nobody yet: only the line of zeros is drawn
    assert page.status_code == 200 and page.text.count("<svg") == 1
    assert "Nobody was in contact in this window." in page.text


@pytest.mark.usefixtures("callers")
def test_every_view_and_download_is_audited(coordinator, session):
    after = last_event_id(session)
    coordinator.get(f"/console/stats?{WINDOW}&country=KZ")
    coordinator.get(f"/console/stats/by_language.csv?{WINDOW}&country=KZ")
    coordinator.get(f"/console/stats/htcds.csv?{WINDOW}")  # every country, always
    events = stats_events(session, "gulnara", after)
    assert [e.action for e in events] == ["stats.table"] * 3 + ["stats.quality",
                                                                "stats.table", "stats.export"]
    assert [e.detail["query"]["country"] for e in events] == [["KZ"]] * 5 + [[]]
    assert events[0].detail["query"]["from"] == "2026-03-01"
    assert events[0].detail["query"]["to"] == "2026-04-30"
    assert [e.detail.get("format") for e in events] == ["dashboard"] * 3 + [None, "csv",
                                                                             "htcds"]


@pytest.mark.parametrize(("query", "message"), [
    ("from=2026-05&to=2026-03", "&#39;from&#39; must not be after &#39;to&#39;"),
    ("from=2016-01&to=2026-03", "at most 60 months per table"),
    ("from=March&to=2026-03", "Enter months as year and month"),
    ("from=2026-13&to=2026-03", "Enter months as year and month"),
    ("from=2026-03&to=9999-12", "Enter months as year and month"),
    ("period=day", "Choose months or weeks."),
    ("country=XX", "Choose a country from the list."),
])
def test_questions_that_cannot_be_answered_say_why(coordinator, session, query, message):
    after = last_event_id(session)
    response = coordinator.get(f"/console/stats?{query}")
    assert response.status_code == 422
    assert message in response.text and "<svg" not in response.text
    assert 'name="from"' in response.text  # the form, to correct it
    csv_response = coordinator.get(f"/console/stats/by_country.csv?{query}")
    assert csv_response.status_code == 422 and message in csv_response.text
    assert stats_events(session, "gulnara", after) == []  # nothing was released


def test_a_refusal_is_translated(coordinator):
    response = coordinator.get("/console/stats?from=2016-01&to=2026-03&lang=ru")
    assert response.status_code == 422 and "не больше 60 месяцев" in response.text


@pytest.mark.usefixtures("callers")
def test_the_csv_download_keeps_the_protection(coordinator):
    response = coordinator.get(f"/console/stats/by_language.csv?{WINDOW}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(response.text)))
    march_other = next(r for r in table if r["table"] == "contacts"
                       and r["period"] == "2026-03" and r["language"] == "other")
    assert march_other["count"] == "" and march_other["shown_as"] == "<10"
    assert "tg" not in {r["language"] for r in table}
    assert coordinator.get(f"/console/stats/by_phone.csv?{WINDOW}").status_code == 404


@pytest.mark.usefixtures("callers")
def test_the_htcds_download_has_the_standard_column_names(coordinator):
    response = coordinator.get(f"/console/stats/htcds.csv?{WINDOW}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    header = next(csv.reader(io.StringIO(response.text)))
    assert {"prs_Gender", "ageBroad", "vic_TypeOfExploitation"} <= set(header)
    assert response.headers["X-K-Anonymity-Required"] == "10"
    released, left_out = len(response.text.splitlines()) - 1, response.headers[
        "X-Rows-Suppressed"]  # of the 30 screened cases; a few left out show as <10
    assert (left_out, released) == ("0", 30) or (left_out == "<10" and 20 < released < 30)


@pytest.mark.usefixtures("callers")
def test_the_page_links_downloads_of_the_same_question(coordinator):
    html = coordinator.get(f"/console/stats?{WINDOW}&country=KZ&period=week").text
    query = "from=2026-03&amp;to=2026-04&amp;period=week&amp;country=KZ"
    for name in ("over_time", "by_country", "by_language"):
        assert f'href="/console/stats/{name}.csv?{query}"' in html
    # The HTCDS file refuses a country (it covers every one): its link leaves it out.
    every_country = query.removesuffix("&amp;country=KZ")
    assert f'href="/console/stats/htcds.csv?{every_country}"' in html
    assert 'value="2026-03"' in html and '<option value="KZ" selected>' in html
    # Kazakhstan's 42 that week are withheld: with the week's 45 on the unfiltered page
    # they would give away the 3 from Tajikistan.
    assert table_cells(section(html, "over_time"))["2026-03-09"][0] == "x"


def test_the_default_window_is_the_last_twelve_settled_months(coordinator):
    # The clock says 2026-11-23: November is in progress, October over for 22 days.
    html = coordinator.get("/console/stats").text
    assert 'name="from" value="2025-11"' in html and 'name="to" value="2026-10"' in html
    assert len(table_cells(section(html, "over_time"))) == 12
    assert "A month or week is shown 14 days after it ends" in html


def test_a_month_in_progress_is_not_shown(coordinator):
    """Asked today and tomorrow, a month in progress would differ by the day's callers."""
    html = coordinator.get("/console/stats?from=2026-11&to=2026-11").text
    assert "No month or week of this window is shown yet: a month or week is shown 14 days" in html
    assert '<section id="over_time">' not in html
    refused = coordinator.get("/console/stats/htcds.csv?from=2026-10&to=2026-11")
    assert refused.status_code == 422  # the quarter October to December is in progress
    russian = coordinator.get("/console/stats?from=2026-11&to=2026-11&lang=ru").text
    assert "месяц или неделя показываются через 14 дней после окончания" in russian


@pytest.mark.usefixtures("callers")
def test_the_russian_page_is_in_russian(coordinator):
    html = coordinator.get(f"/console/stats?{WINDOW}&lang=ru").text
    for shown in ("Статистика", "Обратившиеся по странам", "Обратившиеся по языкам",
                  "Казахстан", "казахский", "Все организации"):
        assert shown in html, shown
    for english in ("People in contact", "by country", "All organisations", "Download"):
        assert english not in html, english


@pytest.mark.usefixtures("callers")
def test_the_page_works_on_a_phone_without_anything_from_elsewhere(coordinator):
    response = coordinator.get(f"/console/stats?{WINDOW}")
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    html = without_own_script(response.text)  # the console's one script, served by itself
    for absent in ("<script", "style=", "https://", "@font-face"):
        assert absent not in html.lower()
    assert html.count('<div class="scroll">') == 4
    assert 'viewBox="0 0 360' in html and 'width="100%"' in html


def test_differential_privacy_is_stated_with_its_accuracy(app, session):
    pytest.importorskip("opendp")
    app.state.settings = app.state.settings.model_copy(update={"stats_epsilon": 1.0})
    add_people(session, 30, language="kk")
    session.commit()
    coordinator = sign_in(app, session, "gulnara", Role.COORDINATOR)
    html = coordinator.get(f"/console/stats?{WINDOW}").text
    assert html.count("differential privacy, ε = 1.0") == 4 and "with 95% probability" in html
    assert "a sum over several is less precise" in html
    # Four releases of ε = 1 on landing (the last twelve months), four for this window.
    assert "Privacy budget spent so far by all statistics: ε = 8.0." in html
    assert "in the whole window are counted in Other" not in html  # all listed under noise


@pytest.mark.parametrize(("cells", "expected"), [
    ([(5, "5", None), (20, "20", None)], (25, "25")),
    ([(None, "<10", "small"), (0, "0", None)], (None, "<10")),
    ([(None, "<10", "small"), (20, "20", None)], (None, "x")),
    ([(None, "<10", "small"), (None, "<10", "small")], (None, "x")),
    ([(None, "x", "complementary"), (0, "0", None)], (None, "x")),
    ([(1200, "1,200", None)], (1200, "1,200")),
])
def test_window_sums_never_add_up_withheld_figures(cells, expected):
    rows = [{"period": str(i), "language": "kk", "value": value, "display": display,
             "withheld": withheld} for i, (value, display, withheld) in enumerate(cells)]
    assert window_sums(rows, "language") == {"kk": expected}

