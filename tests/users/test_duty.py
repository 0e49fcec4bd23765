"""Operators go on and off duty; their phone is kept encrypted and only ever shown masked."""

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.events import bus
from app.events.bus import EventKind
from app.privacy import crypto
from app.users.models import User
from tests.console.helpers import sign_in
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
PHONE = "+77010000214"  # fictitious, like every number in the tests
OTHER_PHONE = "+77010000377"


@pytest.fixture
def published(monkeypatch) -> list[bus.QueueEvent]:
    events: list[bus.QueueEvent] = []
    monkeypatch.setattr(bus, "publish", lambda session, event: events.append(event))
    return events


def duty_audit(session) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action.like("duty.%"))
                                .order_by(AuditEvent.id)))


def test_going_on_duty_stores_the_phone_encrypted_and_answers_it_masked(
        client, session, settings, published):
    person = make_person(client, session, "aigerim")
    response = client.put("/api/me/duty", json={"on_duty": True, "phone": "+7 701 000 02 14"},
                          headers=person.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["on_duty"] is True and body["since"].startswith("2026-11-23T08:00")
    assert body["phone_masked"] == "+7 ••• ••• •• 14"
    assert "0000214" not in response.text and "701" not in response.text
    user = session.scalars(select(User).where(User.username == "aigerim")).one()
    session.refresh(user)
    assert PHONE not in (user.duty_phone_encrypted or "")
    assert crypto.decrypt(settings.encryption_key, user.duty_phone_encrypted) == PHONE
    again = client.get("/api/me/duty", headers=person.headers).json()
    assert again == body
    assert [e.kind for e in published] == [EventKind.DUTY_CHANGED]
    assert published[0].organisation_id == user.organisation_id


def test_off_and_on_again_reuses_the_stored_phone_and_each_change_is_audited(
        client, session, published):
    person = make_person(client, session, "aigerim")
    put = lambda body: client.put("/api/me/duty", json=body, headers=person.headers)  # noqa: E731
    assert put({"on_duty": True, "phone": PHONE}).status_code == 200
    off = put({"on_duty": False})
    assert off.status_code == 200
    assert off.json() == {"on_duty": False, "since": None, "phone_masked": "+7 ••• ••• •• 14"}
    assert put({"on_duty": True}).json()["on_duty"] is True  # no phone needed now
    actions = [e.action for e in duty_audit(session)]
    assert actions == ["duty.phone", "duty.on", "duty.off", "duty.on"]
    for entry in duty_audit(session):
        assert "0000214" not in str(entry.detail)
    assert len(published) == 3


def test_a_new_phone_replaces_the_old_one(client, session):
    person = make_person(client, session, "aigerim")
    client.put("/api/me/duty", json={"on_duty": True, "phone": PHONE}, headers=person.headers)
    changed = client.put("/api/me/duty", json={"on_duty": True, "phone": OTHER_PHONE},
                         headers=person.headers)
    assert changed.json()["phone_masked"] == "+7 ••• ••• •• 77"


@pytest.mark.parametrize(("phone", "says"), [
    ("87010000214", "must start with +"),
    ("+7 000 000 00 00", "not a valid number"),
    ("call me", "must start with +"),
    ("sms:+77010000214", "must be a number"),
    # phonenumbers alone would keep +7701 of the first and read through the second's
    # right-to-left override: stored as E.164 or refused, never as typed.
    ("+7701🆘", "not a phone number"),
    ("+7701000\u202e0214", "not a phone number"),
    ("+77010000214🆘", "not a phone number"),
])
def test_an_invalid_phone_is_refused_with_a_clear_message_and_not_echoed(
        client, session, phone, says):
    person = make_person(client, session, "aigerim")
    response = client.put("/api/me/duty", json={"on_duty": True, "phone": phone},
                          headers=person.headers)
    assert response.status_code == 422
    assert says in response.json()["detail"][0]["msg"]
    assert phone not in response.text
    assert client.get("/api/me/duty", headers=person.headers).json()["on_duty"] is False


def test_going_on_duty_without_any_phone_is_refused(client, session):
    person = make_person(client, session, "aigerim")
    response = client.put("/api/me/duty", json={"on_duty": True}, headers=person.headers)
    assert response.status_code == 422
    assert "phone" in response.json()["detail"][0]["msg"]


def test_a_whatsapp_address_is_kept_as_such(client, session, settings):
    person = make_person(client, session, "aigerim")
    body = client.put("/api/me/duty", json={"on_duty": True, "phone": "whatsapp:" + PHONE},
                      headers=person.headers).json()
    assert body["phone_masked"] == "WhatsApp +7 ••• ••• •• 14"
    user = session.scalars(select(User).where(User.username == "aigerim")).one()
    session.refresh(user)
    assert crypto.decrypt(settings.encryption_key, user.duty_phone_encrypted) == (
        "whatsapp:" + PHONE)


def test_duty_is_for_operators_only(client, session):
    admin = make_person(client, session, "root", role="admin")
    assert client.get("/api/me/duty", headers=admin.headers).status_code == 403
    assert client.get("/api/me/duty").status_code == 401


def test_the_queue_page_toggles_duty_and_shows_who_is_on_duty_never_the_number(
        app, client, session):
    colleague = make_person(client, session, "dana")
    client.put("/api/me/duty", json={"on_duty": True, "phone": OTHER_PHONE},
               headers=colleague.headers)
    console = sign_in(app, session, "aigerim")
    page = console.get("/console").text
    assert "dana" in page and "Nobody is on duty" not in page
    assert 'action="/console/duty"' in page and ">Go on duty</button>" in page

    refused = console.post("/console/duty", {"on_duty": "1", "phone": "12"})
    assert refused.headers["location"] == "/console?error=duty-phone"
    assert console.post("/console/duty", {"on_duty": "1", "phone": PHONE}, csrf="forged"
                        ).status_code == 403
    done = console.post("/console/duty", {"on_duty": "1", "phone": PHONE})
    assert done.headers["location"] == "/console?done=duty-on"
    page = console.get(done.headers["location"]).text
    assert "You are on duty." in page and "Go off duty" in page
    assert "aigerim (" in page and "dana (" in page
    assert "+7 ••• ••• •• 14" in page
    for number in (PHONE, OTHER_PHONE, PHONE[2:], OTHER_PHONE[2:]):
        assert number not in page

    off = console.post("/console/duty", {"on_duty": "0"})
    assert off.headers["location"] == "/console?done=duty-off"
    page = console.get("/console").text
    assert "aigerim (" not in page and ">Go on duty</button>" in page
    assert 'placeholder="+7 ••• ••• •• 14"' in page  # the hint, never the number
