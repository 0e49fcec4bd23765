"""A caller who comes back: the new case lists the organisation's earlier cases of the
same caller, and never another organisation's."""

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.models import Case
from app.organisations.models import Organisation
from tests.messaging.texting import Texter
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
NUMBER = "+77010000701"  # fictitious


def text_for_help(client, settings, number: str = NUMBER) -> None:
    texter = Texter(client, settings, number)
    for body in ("Сәлеметсіз бе, маған көмек керек", "2", "2"):
        texter.send(body)


def test_the_same_caller_twice_links_the_cases_but_not_another_organisations(
        client, session, settings):
    text_for_help(client, settings)
    first = session.scalars(select(Case)).one()
    slug = session.get(Organisation, first.organisation_id).slug
    operator = make_person(client, session, "nurlan", organisation=slug)
    client.post(f"/api/cases/{first.id}/claim", headers=operator.headers)
    assert client.post(f"/api/cases/{first.id}/close", json={"status": "Closed"},
                       headers=operator.headers).status_code == 200

    # A third case of the same caller, held by another organisation (referred there, say).
    elsewhere = Case(reference="HL-ELSE01", organisation_id=session.scalars(
        select(Organisation.id).where(Organisation.slug == "ru-moscow-shelter")).one(),
        caller_pseudonym=first.caller_pseudonym, language="kk", created_at=first.created_at)
    session.add(elsewhere)
    session.commit()

    text_for_help(client, settings)  # the same number writes again: a new case
    second = session.scalars(select(Case).where(
        Case.id.not_in([first.id, elsewhere.id]))).one()
    assert second.caller_pseudonym == first.caller_pseudonym
    detail = client.get(f"/api/cases/{second.id}", headers=operator.headers).json()
    assert [(e["reference"], e["status"], e["close_status"]) for e in detail["earlier_cases"]
            ] == [(first.reference, "closed", "Closed")]
    assert detail["earlier_cases"][0]["closed_at"] is not None
    assert "HL-ELSE01" not in str(detail)
    assert NUMBER not in str(detail) and NUMBER[1:] not in str(detail)
    # The earlier case shows the new one too, and the look at other cases is audited.
    back = client.get(f"/api/cases/{first.id}", headers=operator.headers).json()
    assert [e["reference"] for e in back["earlier_cases"]] == [second.reference]
    looked = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "case.earlier.view", AuditEvent.case_id == second.id)).one()
    assert looked.detail["cases"] == [str(first.id)]

    moscow = make_person(client, session, "olga", organisation="ru-moscow-shelter")
    theirs = client.get(f"/api/cases/{elsewhere.id}", headers=moscow.headers).json()
    assert theirs["earlier_cases"] == []  # Almaty's cases of the caller stay Almaty's


def test_a_first_time_caller_has_no_earlier_cases(client, session, settings):
    text_for_help(client, settings, "+77010000702")
    case = session.scalars(select(Case)).one()
    slug = session.get(Organisation, case.organisation_id).slug
    operator = make_person(client, session, "nurlan", organisation=slug)
    assert client.get(f"/api/cases/{case.id}", headers=operator.headers
                      ).json()["earlier_cases"] == []
    assert session.scalars(select(AuditEvent).where(
        AuditEvent.action == "case.earlier.view")).all() == []
