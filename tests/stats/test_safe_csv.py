"""Every CSV the service writes is safe to open in a spreadsheet: no cell, nor any part of
one after a ";" (where Excel in Russian and other locales splits a CSV line), starts with
a character that makes it a formula. The hostile values are still there, as text."""

import csv
import io

import pytest
from sqlalchemy import select

from app.cases.models import Case
from app.organisations.models import Organisation
from app.stats.export import FORMULA_STARTS
from app.users.models import Role
from tests.console.helpers import sign_in
from tests.stats.people import add_people
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
MARCH = "from=2026-03-01&to=2026-03-31"
LINK = '=HYPERLINK("http://evil","x")'
CALC = "+cmd|' /C calc'!A0"
# Written straight into the database (an old import, a hand edit, a bug elsewhere): the
# API's own validation would refuse these values, so the export must not rely on it.
HOSTILE_SCREENING = {"gender": "Feminine", "age_band": "18-20", "citizenship": [CALC],
                     "exploitation_types": ["ForcedLabour", "=1+1"],
                     "control_methods": ["\tTAB", "\rCR", "@SUM(1,2)", "-2+3"]}


@pytest.fixture
def hostile(session, demo_directory) -> None:
    """An organisation whose id and name are formulas, with 12 consented, screened cases."""
    session.add(Organisation(slug=LINK, name=LINK, country="KZ", timezone="Asia/Almaty",
                             always_open=True, services=["shelter"], languages=["kk"]))
    session.flush()
    add_people(session, 12, organisation=LINK, screening=HOSTILE_SCREENING, consent=True)
    session.commit()


def cells(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


def assert_inert(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            for part in cell.split(";"):
                assert not part.startswith(FORMULA_STARTS), (cell, row)


@pytest.mark.usefixtures("hostile")
def test_the_htcds_export_neutralises_formulas_through_the_api_and_the_console(
        client, session, app):
    coordinator = make_person(client, session, "gulnara", Role.COORDINATOR)
    api = cells(client.get(f"/api/stats/export/htcds.csv?{MARCH}",
                           headers=coordinator.headers))
    console = cells(sign_in(app, session, "dina", Role.COORDINATOR)
                    .get(f"/console/stats/htcds.csv?{MARCH}"))
    assert api == console and len(api) == 13
    for rows in (api, console):
        assert_inert(rows)
        found = dict(zip(rows[0], rows[1], strict=True))
        assert found["prs_Citizenship"] == "'" + CALC
        assert found["vic_TypeOfExploitation"] == "ForcedLabour;'=1+1"
        assert found["vic_MethodsOfControl"] == "'\tTAB;'\rCR;'@SUM(1,2);'-2+3"


@pytest.mark.usefixtures("hostile")
def test_the_table_exports_neutralise_formulas(client, session, app):
    coordinator = make_person(client, session, "gulnara", Role.COORDINATOR)
    by_organisation = cells(client.get(f"/api/stats.csv?group_by=organisation&{MARCH}",
                                       headers=coordinator.headers))
    assert_inert(by_organisation)
    names = {row[2] for row in by_organisation[1:]}
    assert "'" + LINK in names
    console = sign_in(app, session, "dina", Role.COORDINATOR)
    for name in ("over_time", "by_country", "by_language"):
        assert_inert(cells(console.get(f"/console/stats/{name}.csv?{MARCH}")))


@pytest.mark.usefixtures("hostile")
def test_a_hostile_note_never_reaches_an_export(client, session):
    """Notes stay with the case: no export has free text an operator wrote."""
    note = "-cmd|' /C notepad'!A0"
    operator = make_person(client, session, "aigerim", organisation=LINK)
    case = session.scalars(select(Case)).first()
    client.post(f"/api/cases/{case.id}/claim", headers=operator.headers)
    assert client.post(f"/api/cases/{case.id}/notes", json={"text": note},
                       headers=operator.headers).status_code == 201
    coordinator = make_person(client, session, "gulnara", Role.COORDINATOR)
    for url in (f"/api/stats/export/htcds.csv?{MARCH}",
                f"/api/stats.csv?group_by=organisation&{MARCH}"):
        response = client.get(url, headers=coordinator.headers)
        assert response.status_code == 200 and "notepad" not in response.text
