"""Assigning a case to a named colleague, or handing over the case one holds."""

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.casework import CaseNote
from app.cases.models import Case, CaseEvent, CaseStatus
from app.events import bus
from app.users.models import User
from tests.channels.voice.test_voice_safety import dump_all_tables
from tests.factories import make_case
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
HOME, ABROAD = "kz-almaty-shelter", "ru-moscow-shelter"


@pytest.fixture
def aigerim(client, session):
    return make_person(client, session, "aigerim", organisation=HOME)


@pytest.fixture
def dana(client, session):
    return make_person(client, session, "dana", organisation=HOME)


def url(case: Case, path: str = "") -> str:
    return f"/api/cases/{case.id}{path}"


def test_the_holder_hands_the_case_over_with_a_scrubbed_note(client, session, aigerim, dana):
    case = make_case(session, HOME, priority="urgent")
    session.commit()
    client.post(url(case, "/claim"), headers=aigerim.headers)
    handed = client.post(url(case, "/assign"), headers=aigerim.headers, json={
        "to": "dana", "note": "She asked for a woman; her sister's phone +7 701 123 45 67"})
    assert handed.status_code == 200, handed.text
    body = handed.json()
    assert body["assigned_to"] == "dana" and body["note_removed"] == {"phone": 1}
    assert body["claimed"] and not body["claimed_by_me"]
    # Dana now holds it and can work it; Aigerim no longer can.
    assert client.get(url(case), headers=dana.headers).json()["claimed_by_me"] is True
    notes = client.get(url(case, "/notes"), headers=dana.headers).json()
    assert [n["text"] for n in notes] == [
        "She asked for a woman; her sister's phone [phone removed]"]
    assert "She asked for a woman" not in dump_all_tables(session)  # stored encrypted
    assert client.post(url(case, "/notes"), json={"text": "x"},
                       headers=aigerim.headers).status_code == 409
    assert client.post(url(case, "/notes"), json={"text": "x"},
                       headers=dana.headers).status_code == 201
    session.expire_all()
    dana_id = session.scalars(select(User.id).where(User.username == "dana")).one()
    stored = session.get(Case, case.id)
    assert (stored.status, stored.claimed_by_id) == (CaseStatus.CLAIMED, dana_id)
    assigned = session.scalars(select(CaseEvent).where(CaseEvent.kind == "assigned")).one()
    assert assigned.detail["to_user_id"] == dana_id
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.assign")).one()
    assert audit.detail["handed_over"] is True and "woman" not in str(audit.detail)
    history = client.get(url(case), headers=dana.headers).json()["history"]
    assert [(h["kind"], h["by"], h["about"]) for h in history] == [
        ("claimed", "aigerim", None), ("assigned", "aigerim", "dana")]


def test_any_operator_assigns_an_unclaimed_case_without_a_note(client, session, aigerim,
                                                               dana):
    case = make_case(session, HOME)
    session.commit()
    published = []
    original = bus.publish
    bus.publish = lambda s, event: (published.append(event), original(s, event))[-1]
    try:
        response = client.post(url(case, "/assign"), json={"to": "dana"},
                               headers=aigerim.headers)
    finally:
        bus.publish = original
    assert response.status_code == 200 and response.json()["note_removed"] is None
    assert session.scalars(select(CaseNote)).all() == []
    assert [(e.kind, e.reference) for e in published] == [
        (bus.EventKind.CASE_ASSIGNED, case.reference)]
    assert client.get(url(case), headers=dana.headers).json()["claimed_by_me"] is True


def test_a_case_another_operator_holds_cannot_be_assigned_away(client, session, aigerim,
                                                               dana):
    make_person(client, session, "timur", organisation=HOME)
    case = make_case(session, HOME)
    session.commit()
    client.post(url(case, "/claim"), headers=dana.headers)
    refused = client.post(url(case, "/assign"), json={"to": "timur"}, headers=aigerim.headers)
    assert refused.status_code == 409 and refused.json()["detail"] == (
        "claimed by another operator")
    assert client.get(url(case), headers=dana.headers).json()["claimed_by_me"] is True


@pytest.mark.parametrize("who", ["olga", "nobody", "aigerim", "boss"])
def test_only_an_active_colleague_of_the_organisation_can_take_it(client, session, aigerim,
                                                                  who):
    from app.users.models import Role

    make_person(client, session, "olga", organisation=ABROAD)  # another organisation's
    make_person(client, session, "boss", Role.ADMIN)
    case = make_case(session, HOME)
    session.commit()
    client.post(url(case, "/claim"), headers=aigerim.headers)
    refused = client.post(url(case, "/assign"), json={"to": who}, headers=aigerim.headers)
    assert refused.status_code == 422
    assert ("colleague" if who == "aigerim" else "no active operator") in refused.text
    assert client.get(url(case), headers=aigerim.headers).json()["claimed_by_me"] is True


def test_an_inactive_colleague_cannot_take_it(client, session, aigerim, dana):
    session.scalars(select(User).where(User.username == "dana")).one().active = False
    case = make_case(session, HOME)
    session.commit()
    refused = client.post(url(case, "/assign"), json={"to": "dana"}, headers=aigerim.headers)
    assert refused.status_code == 422 and "no active operator 'dana'" in refused.text


def test_another_organisations_case_is_not_found(client, session, aigerim):
    theirs = make_case(session, ABROAD)
    session.commit()
    make_person(client, session, "olga", organisation=ABROAD)
    assert client.post(url(theirs, "/assign"), json={"to": "olga"},
                       headers=aigerim.headers).status_code == 404
