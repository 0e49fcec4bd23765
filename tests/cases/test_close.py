"""Closing a case loses nothing silently: replies still waiting are sent by default (the
number is kept just until then), or cancelled when asked; a closed case says so."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.cases.models import Case, CaseEvent
from app.channels.sms.sender import text_senders
from app.messaging import outbox
from app.messaging.models import Conversation, Outbox, OutboxStatus
from app.messaging.outbox import SendError
from app.organisations.models import Organisation
from tests.conftest import WEEKDAY_MORNING
from tests.messaging.texting import FakeSender, Texter
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
NUMBER = "+77010000801"  # fictitious


@pytest.fixture
def scene(client, session, settings):
    texter = Texter(client, settings, NUMBER)
    for body in ("Сәлеметсіз бе, маған көмек керек", "2", "2"):
        texter.send(body)
    case = session.scalars(select(Case)).one()
    slug = session.get(Organisation, case.organisation_id).slug
    operator = make_person(client, session, "nurlan", organisation=slug)
    client.post(f"/api/cases/{case.id}/claim", headers=operator.headers)
    for body in ("Сәлем, біз осындамыз", "Ертең хабарласамыз"):
        assert client.post(f"/api/cases/{case.id}/messages", json={"body": body},
                           headers=operator.headers).status_code == 202
    return case, operator


def number_kept(session) -> bool:
    session.expire_all()
    return session.scalars(select(Conversation)).one().number_encrypted is not None


def deliver(app, sender, settings, minutes: int = 1):
    return outbox.deliver_due(app.state.sessionmaker, text_senders(sender, settings), settings,
                              WEEKDAY_MORNING + timedelta(minutes=minutes))


def test_closing_sends_the_pending_replies_then_forgets_the_number(app, client, session,
                                                                    settings, scene):
    case, operator = scene
    closed = client.post(f"/api/cases/{case.id}/close", json={"status": "Closed"},
                         headers=operator.headers)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert number_kept(session)  # still needed: two replies are waiting
    sender = FakeSender(failures=[SendError("20500", retryable=True)])
    deliver(app, sender, settings)
    assert [s.to for s in sender.sent] == [NUMBER]  # one went, one will be retried
    assert number_kept(session)
    deliver(app, sender, settings, minutes=10)
    assert [s.body for s in sender.sent] == ["Ертең хабарласамыз", "Сәлем, біз осындамыз"]
    assert not number_kept(session)  # the outbox is done with it: erased
    closing = session.scalars(select(CaseEvent).where(CaseEvent.kind == "closed")).one()
    assert closing.detail["pending_replies"] == 2 and closing.detail["sent"] is True


def test_a_reply_the_outbox_gives_up_on_also_releases_the_number(app, client, session,
                                                                  settings, scene):
    case, operator = scene
    client.post(f"/api/cases/{case.id}/close", json={}, headers=operator.headers)
    sender = FakeSender(failures=[SendError("21211", retryable=False)] * 2)
    deliver(app, sender, settings)
    session.expire_all()
    assert {o.status for o in session.scalars(select(Outbox))} == {OutboxStatus.FAILED}
    assert not number_kept(session)


def test_closing_without_sending_cancels_them_and_forgets_at_once(app, client, session,
                                                                  settings, scene):
    case, operator = scene
    closed = client.post(f"/api/cases/{case.id}/close",
                         json={"status": "Closed", "send_pending": False},
                         headers=operator.headers)
    assert closed.status_code == 200
    assert not number_kept(session)
    assert {o.status for o in session.scalars(select(Outbox))} == {OutboxStatus.CANCELLED}
    sender = FakeSender()
    deliver(app, sender, settings)
    assert sender.sent == []


def test_sms_on_a_closed_case_says_the_case_is_closed(client, session, scene):
    case, operator = scene
    client.post(f"/api/cases/{case.id}/close", json={}, headers=operator.headers)
    refused = client.post(f"/api/cases/{case.id}/messages", json={"body": "one more"},
                          headers=operator.headers)
    assert refused.status_code == 409 and refused.json()["detail"] == "the case is closed"
    assert client.post(f"/api/cases/{case.id}/close", json={},
                       headers=operator.headers).json()["detail"] == "the case is closed"


def test_a_case_without_pending_replies_forgets_the_number_at_once(app, client, session,
                                                                   settings, scene):
    case, operator = scene
    deliver(app, FakeSender(), settings)
    assert number_kept(session)  # the case is still open
    client.post(f"/api/cases/{case.id}/close", json={}, headers=operator.headers)
    assert not number_kept(session)
