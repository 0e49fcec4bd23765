"""Service quality, differential privacy and the k-anonymous HTCDS export."""

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.cases.models import AttemptResult, CallbackRequest, Contact, RoutingAttempt
from app.stats.models import StatsRelease
from app.users.models import Role
from tests.stats.people import add_people, organisation_id
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
MARCH = "from=2026-03-01&to=2026-03-31"
HOME, OTHER = "kz-almaty-shelter", "ru-moscow-shelter"


@pytest.fixture
def coordinator(client, session):
    return make_person(client, session, "coordinator", Role.COORDINATOR)


def calls(session, *, answered: int, abandoned: int):
    """Voice calls offered to HOME: the first ``answered`` accepted after 1, 2, ... s."""
    add_people(session, answered, outcome="connected")
    add_people(session, abandoned, outcome="abandoned", day="2026-03-11")
    home, other = organisation_id(session, HOME), organisation_id(session, OTHER)
    contacts = session.scalars(select(Contact).order_by(Contact.started_at)).all()
    for i, contact in enumerate(contacts):
        accepted = i < answered
        contact.answered_at = contact.started_at + timedelta(seconds=i + 1) if accepted else None
        session.add(RoutingAttempt(contact_id=contact.id, attempt=1, organisation_id=home,
                                   reason="test", started_at=contact.started_at,
                                   answered_at=contact.answered_at,
                                   result=AttemptResult.COMPLETED if accepted
                                   else AttemptResult.NO_ANSWER))
        if i >= len(contacts) - 5:  # the last five also rang OTHER, in vain
            session.add(RoutingAttempt(contact_id=contact.id, attempt=2, organisation_id=other,
                                       reason="test", started_at=contact.started_at,
                                       result=AttemptResult.NO_ANSWER))
    return contacts


def callbacks(session, contacts, *, requested: int, completed: int):
    for i, contact in enumerate(contacts[:requested]):
        session.add(CallbackRequest(contact_id=contact.id, case_id=contact.case_id,
                                    number_encrypted=None, created_at=contact.started_at,
                                    purge_after=contact.started_at + timedelta(days=14),
                                    completed_at=contact.started_at if i < completed else None))


def test_service_quality_overall_and_per_organisation(client, session, coordinator):
    contacts = calls(session, answered=25, abandoned=15)
    callbacks(session, contacts, requested=30, completed=15)
    session.commit()
    body = client.get(f"/api/stats/quality?{MARCH}", headers=coordinator.headers).json()
    overall = body["overall"]
    assert overall["calls"]["value"] == 40 and overall["answered"]["value"] == 25
    assert overall["answer_rate"]["display"] == "62.5%"
    assert overall["abandoned"]["value"] == 15
    assert overall["median_seconds_to_answer"]["value"] == 13  # waits 1..25 s
    assert overall["p90_seconds_to_answer"]["value"] == 23
    assert overall["callback_completion"]["display"] == "50.0%"
    home, other = (next(o for o in body["organisations"] if o["organisation"] == slug)
                   for slug in (HOME, OTHER))
    assert home["answer_rate"]["display"] == "62.5%"
    # OTHER was offered 5 calls and answered none: every figure about it is small.
    assert other["calls"]["display"] == "<10"
    assert other["answer_rate"]["value"] is None
    assert other["median_seconds_to_answer"]["value"] is None


def test_rates_that_would_reveal_a_small_count_are_withheld(client, session, coordinator):
    calls(session, answered=36, abandoned=4)
    session.commit()
    overall = client.get(f"/api/stats/quality?{MARCH}",
                         headers=coordinator.headers).json()["overall"]
    assert overall["abandoned"]["display"] == "<10"
    assert overall["answer_rate"]["value"] is None  # 90% of 40 would give the 4 away
    assert overall["median_seconds_to_answer"]["value"] == 18


@pytest.fixture
def private(app):
    app.state.settings = app.state.settings.model_copy(update={"stats_epsilon": 1.0})


@pytest.mark.usefixtures("private")
def test_differential_privacy_release_states_protection_and_spends_budget(
        client, session, coordinator):
    add_people(session, 40, language="kk")
    session.commit()
    url = f"/api/stats?group_by=language&{MARCH}"
    body = client.get(url, headers=coordinator.headers).json()
    applied = body["protection"]["differential_privacy"]
    assert applied["epsilon"] == 1.0
    cells = applied["tables"]["contacts"]["cells"]
    assert cells["mechanism"] == "discrete Laplace (OpenDP)" and cells["accuracy_95"] > 0
    # Every language is released, zeros included; nothing from 1 to k-1 is shown.
    languages = {r["language"] for r in body["tables"]["contacts"]["rows"]}
    assert {"ru", "kk", "ky", "tg", "uz", "tk", "prs", "ps", "fa", "az", "tr", "en"} <= languages
    assert all(r["value"] is None or r["value"] == 0 or r["value"] >= 10
               for r in body["tables"]["contacts"]["rows"])
    assert body["budget"] == {"epsilon_this_release": 1.0, "repeated_release": False,
                              "epsilon_spent_to_date": 1.0}
    again = client.get(url, headers=coordinator.headers).json()
    assert again["tables"] == body["tables"]  # no fresh draw to average the noise away
    assert again["budget"]["repeated_release"] is True
    other = client.get(f"/api/stats?group_by=channel&{MARCH}",
                       headers=coordinator.headers).json()
    assert other["budget"]["epsilon_spent_to_date"] == 2.0
    assert len(session.scalars(select(StatsRelease)).all()) == 2


@pytest.mark.usefixtures("private")
def test_noise_changes_the_figures_but_stays_within_its_range(client, session, coordinator):
    # Two larger languages beside kk: when noise lifts an empty language to 1..k-1, the cell
    # withheld to protect it is the smallest shown one in its line, which is then never kk.
    add_people(session, 200, language="kk")
    add_people(session, 100, language="ru")
    add_people(session, 100, language="uz")
    session.commit()
    body = client.get(f"/api/stats?group_by=language&{MARCH}",
                      headers=coordinator.headers).json()
    kk = next(r for r in body["tables"]["contacts"]["rows"]
              if r["period"] == "2026-03" and r["language"] == "kk")
    accuracy = body["protection"]["differential_privacy"]["tables"]["contacts"]["cells"]
    assert abs(kk["value"] - 200) <= 3 * accuracy["accuracy_95"]


def test_htcds_export_is_k_anonymous(client, session, coordinator):
    add_people(session, 25, screening={"gender": "Feminine", "age_band": "18-20",
                                       "citizenship": ["KZ"], "country_of_exploitation": "RU",
                                       "exploitation_types": ["ForcedLabour"]}, consent=True)
    add_people(session, 12, screening={"gender": "Masculine", "age_band": "24-26",
                                       "citizenship": ["UZ"], "country_of_exploitation": "KZ"},
               consent=True)
    add_people(session, 1, screening={"gender": "Masculine", "age_band": "48+",
                                      "citizenship": ["TM"], "country_of_exploitation": "TR"},
               consent=True)
    add_people(session, 5, case=True)  # not screened: no case data to export
    session.commit()
    response = client.get(f"/api/stats/export/htcds.csv?{MARCH}", headers=coordinator.headers)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {"prs_Gender", "ageBroad", "prs_Citizenship", "CountryOfExploitation",
            "vic_TypeOfExploitation", "yearOfRegistration"} <= set(rows[0])
    quasi = ["prs_Gender", "ageBroad", "prs_Citizenship", "CountryOfExploitation",
             "yearOfRegistration"]
    combos = [tuple(r[c] for c in quasi) for r in rows]
    assert min(combos.count(c) for c in combos) >= 10
    assert response.headers["X-K-Anonymity-Achieved"] == str(min(map(combos.count, combos)))
    assert int(response.headers["X-K-Anonymity-Achieved"]) >= 10
    assert response.headers["X-Rows-Suppressed"] == "<10"  # the one Turkmen man
    assert "TM" not in response.text and len(rows) == 37
