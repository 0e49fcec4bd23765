"""Statistics by the national line people called or wrote to."""

import pytest

from app.users.models import Role
from tests.organisations.lines import demo_line
from tests.stats.people import add_people
from tests.stats.test_stats_api import WINDOW, rows, shown
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")


@pytest.fixture
def callers(session, demo_directory):
    """March: 30 on the Kazakh line, 12 on the Afghan line, 11 on a number that is not a
    line, 10 from before lines were recorded."""
    add_people(session, 30, line=demo_line("KZ"))
    add_people(session, 12, country="AF", language="prs", line=demo_line("AF"))
    add_people(session, 11, line="+77270009999")
    add_people(session, 10)
    session.commit()


@pytest.mark.usefixtures("callers")
@pytest.mark.parametrize("table", ["contacts", "cases"])
def test_people_are_counted_by_the_line_they_came_in_on(client, session, table):
    coordinator = make_person(client, session, "coordinator", Role.COORDINATOR)
    response = client.get(f"/api/stats?group_by=line&{WINDOW}",
                          headers=coordinator.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert shown(body, "2026-03", demo_line("KZ"), table=table) == "30"
    assert shown(body, "2026-03", demo_line("AF"), table=table) == "12"
    assert shown(body, "2026-03", "other", table=table) == "11"
    assert shown(body, "2026-03", "unknown", table=table) == "10"
    assert "+77270009999" not in {key[1] for key in rows(body, table)}
