"""The outbox: nothing lost when Twilio is down or the process dies mid-send."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from twilio.http.response import Response as TwilioResponse

from app import db
from app.cases.models import Case
from app.channels.sms.sender import text_senders
from app.messaging import conversations, outbox
from app.messaging.models import Outbox, OutboxStatus
from app.messaging.outbox import SendError
from app.segments import segments
from app.twilio.rest import TwilioOutbound as TwilioSmsSender
from tests.conftest import WEEKDAY_MORNING, make_settings
from tests.messaging.texting import FakeSender, Texter
from tests.twilio import post

pytestmark = pytest.mark.usefixtures("demo_directory")
NUMBER = "+77010000401"
T0 = WEEKDAY_MORNING
DOWN = SendError("503", retryable=True)


@pytest.fixture
def case(client, settings, session) -> Case:
    t = Texter(client, settings, NUMBER)
    for body in ("Сәлеметсіз бе, маған көмек керек", "2", "2"):
        t.send(body)
    return session.scalars(select(Case)).one()


@pytest.fixture
def queued(case, settings, session) -> Outbox:
    row = conversations.queue_reply(session, settings, case, "Сәлем, біз көмектесеміз", T0)
    session.commit()
    return row


def deliver(app, sender, settings, at):
    return outbox.deliver_due(app.state.sessionmaker, text_senders(sender, settings), settings, at)


def test_a_reply_is_sent_once_to_the_callers_number(app, settings, session, queued):
    sender = FakeSender()
    assert deliver(app, sender, settings, T0).sent == [queued.id]
    assert deliver(app, sender, settings, T0 + timedelta(hours=1)).sent == []
    [sent] = sender.sent
    assert (sent.to, sent.body) == (NUMBER, "Сәлем, біз көмектесеміз")
    assert sent.status_callback == "https://hotline.example.org/twilio/sms/status"
    session.expire_all()
    row = session.get(Outbox, queued.id)
    assert (row.status, row.twilio_sid, row.attempts) == (OutboxStatus.SENT, sent.sid, 1)


def test_twilio_down_retries_with_backoff_until_it_is_back(app, settings, session, queued):
    sender = FakeSender(failures=[DOWN, DOWN, DOWN])
    assert deliver(app, sender, settings, T0).retrying == [queued.id]
    assert deliver(app, sender, settings, T0 + timedelta(seconds=10)).retrying == []  # not yet
    assert deliver(app, sender, settings, T0 + timedelta(seconds=16)).retrying == [queued.id]
    assert deliver(app, sender, settings, T0 + timedelta(seconds=40)).retrying == []
    assert deliver(app, sender, settings, T0 + timedelta(seconds=47)).retrying == [queued.id]
    assert deliver(app, sender, settings, T0 + timedelta(minutes=2)).sent == [queued.id]
    assert len(sender.sent) == 1 and sender.attempts == 4
    session.expire_all()
    assert session.get(Outbox, queued.id).last_error == "503"


def test_backoff_doubles_and_is_capped():
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert outbox.backoff(30) == timedelta(minutes=30)


def test_gives_up_after_the_configured_attempts(app, settings, session, queued):
    few = settings.model_copy(update={"outbox_max_attempts": 2})
    sender = FakeSender(failures=[DOWN] * 5)
    deliver(app, sender, few, T0)
    assert deliver(app, sender, few, T0 + timedelta(minutes=1)).failed == [queued.id]
    assert deliver(app, sender, few, T0 + timedelta(days=1)).sent == []
    session.expire_all()
    assert session.get(Outbox, queued.id).status is OutboxStatus.FAILED


def test_a_permanent_error_is_not_retried(app, settings, session, queued):
    sender = FakeSender(failures=[SendError("21211", retryable=False)])
    assert deliver(app, sender, settings, T0).failed == [queued.id]
    assert sender.attempts == 1


def test_unsubscribed_recipient_marks_the_case_opted_out(app, settings, session, case, queued):
    sender = FakeSender(failures=[SendError("21610", retryable=False)])
    assert deliver(app, sender, settings, T0).cancelled == [queued.id]
    session.expire_all()
    assert session.get(Case, case.id).opted_out_at == T0
    assert session.get(Outbox, queued.id).status is OutboxStatus.CANCELLED


def test_a_worker_that_dies_mid_send_is_replaced_and_the_message_still_goes(
        app, settings, session, queued):
    class Crash(BaseException):
        """The process is killed while Twilio is being called."""

    class DyingSender(FakeSender):
        def send(self, to, body, status_callback, origin=None):
            raise Crash

    with pytest.raises(Crash):
        deliver(app, DyingSender(), settings, T0)
    session.expire_all()
    assert session.get(Outbox, queued.id).status is OutboxStatus.SENDING  # its lease holds
    restarted = FakeSender()
    assert deliver(app, restarted, settings, T0 + timedelta(seconds=30)).sent == []
    assert deliver(app, restarted, settings, T0 + outbox.LEASE + timedelta(seconds=1)
                   ).sent == [queued.id]
    assert len(restarted.sent) == 1


def test_each_message_of_a_slow_batch_is_leased_from_when_it_is_taken(
        app, settings, session, case, monkeypatch):
    """Twilio takes three minutes a message: the second one's lease must still hold when
    another process's worker looks, or both would send it."""
    for body in ("one", "two"):
        conversations.queue_reply(session, settings, case, body, T0)
    session.commit()
    elapsed = [0.0]
    monkeypatch.setattr(outbox, "monotonic", lambda: elapsed[0])
    other = FakeSender()

    class SlowSender(FakeSender):
        def send(self, to, body, status_callback, origin=None):
            if body == "two":
                deliver(app, other, settings, T0 + timedelta(seconds=elapsed[0] + 1))
            elapsed[0] += 180
            return super().send(to, body, status_callback, origin)

    slow = SlowSender()
    deliver(app, slow, settings, T0)
    assert [s.body for s in slow.sent] == ["one", "two"]
    assert other.sent == []


def test_erased_before_sending_means_never_sent(app, client, settings, session, queued):
    Texter(client, settings, NUMBER).send("ERASE")
    sender = FakeSender()
    deliver(app, sender, settings, T0)
    assert sender.sent == []


def test_status_callback_tracks_delivery_and_never_goes_back(app, client, settings, session,
                                                            queued):
    sender = FakeSender()
    deliver(app, sender, settings, T0)
    sid = sender.sent[0].sid
    for status in ("sent", "delivered", "sent"):
        response = post(client, settings, "/twilio/sms/status",
                        {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC1"})
        assert response.status_code == 200
    session.expire_all()
    assert session.get(Outbox, queued.id).delivery_status == "delivered"
    case = session.scalars(select(Case)).one()
    entries = conversations.thread(session, settings, case, case.organisation_id)
    assert entries[-1].delivery == "delivered"


def test_status_callback_must_be_signed(client, settings):
    response = post(client, settings, "/twilio/sms/status",
                    {"MessageSid": "SM1", "MessageStatus": "delivered"}, signature=None)
    assert response.status_code == 403


@contextmanager
def real_service(database_url: str, sender: FakeSender, replies: list[str],
                 **overrides: object) -> Iterator[FastAPI]:
    """The app on its own database, engine and sessions, with real commits; a person has
    gone through intake and an operator has queued ``replies``."""
    from app.main import create_app
    from app.organisations import service as organisations

    db.upgrade(database_url)
    settings = make_settings(database_url, **overrides)
    app = create_app(settings)
    app.state.senders = text_senders(sender, settings)
    with TestClient(app) as client:
        with app.state.sessionmaker() as session, session.begin():
            organisations.load_demo_if_empty(session)
        t = Texter(client, settings, NUMBER)
        for body in ("Сәлеметсіз бе, маған көмек керек", "2", "2"):
            t.send(body)
        with app.state.sessionmaker() as session, session.begin():
            case = session.scalars(select(Case)).one()
            for reply in replies:
                conversations.queue_reply(session, settings, case, reply, T0)
        yield app


def test_the_worker_thread_sends_from_inside_the_service(fresh_database_url):
    sender = FakeSender()
    with real_service(fresh_database_url, sender, ["Сәлем"], outbox_worker=True,
                      outbox_poll_seconds=0.05):
        deadline = time.monotonic() + 10
        while not sender.sent and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [s.to for s in sender.sent] == [NUMBER]


def test_two_workers_never_send_the_same_message_twice(fresh_database_url):
    """Two service processes share the outbox: every message goes out exactly once."""
    replies = [f"reply {n}" for n in range(40)]
    senders = [FakeSender(), FakeSender()]
    with real_service(fresh_database_url, FakeSender(), replies) as app:
        settings = app.state.settings
        workers = [threading.Thread(target=lambda s=s: [
            outbox.deliver_due(app.state.sessionmaker, text_senders(s, settings), settings, T0)
            for _ in range(3)])
            for s in senders]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert sorted(sent.body for s in senders for sent in s.sent) == sorted(replies)


class RecordingHttpClient:
    """Stands in for Twilio's HTTP client: no network, canned answers, requests kept."""

    def __init__(self, status: int, body: dict) -> None:
        self.status, self.body = status, body
        self.requests: list[dict] = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False):
        self.requests.append({"method": method, "uri": uri, "data": data})
        return TwilioResponse(self.status, json.dumps(self.body))


def twilio_sender(status: int, body: dict, sender: str = "+77270009999"):
    http = RecordingHttpClient(status, body)
    return TwilioSmsSender("AC" + "1" * 32, "token", sender, http_client=http), http


def test_twilio_sender_posts_the_message_to_the_messages_resource():
    sender, http = twilio_sender(201, {"sid": "SM" + "a" * 32, "status": "queued"})
    sid = sender.send(NUMBER, "Сәлем", "https://hotline.example.org/twilio/sms/status")
    assert sid == "SM" + "a" * 32
    [request] = http.requests
    assert request["method"] == "POST" and request["uri"].endswith("/Messages.json")
    assert request["data"]["To"] == NUMBER and request["data"]["From"] == "+77270009999"
    assert request["data"]["StatusCallback"].endswith("/twilio/sms/status")


def test_twilio_sender_can_use_a_messaging_service():
    sender, http = twilio_sender(201, {"sid": "SM1"}, sender="MG" + "2" * 32)
    sender.send(NUMBER, "x", "https://hotline.example.org/twilio/sms/status")
    assert http.requests[0]["data"]["MessagingServiceSid"] == "MG" + "2" * 32
    assert "From" not in http.requests[0]["data"]


@pytest.mark.parametrize(("status", "code", "retryable"), [
    (400, 21610, False), (400, 21211, False), (429, 20429, True), (503, None, True)])
def test_twilio_errors_are_classified(status, code, retryable):
    sender, _ = twilio_sender(status, {"code": code, "message": "no", "status": status})
    with pytest.raises(SendError) as raised:
        sender.send(NUMBER, "x", "https://hotline.example.org/twilio/sms/status")
    assert raised.value.retryable is retryable
    assert raised.value.opted_out is (code == 21610)
    assert NUMBER not in str(raised.value)


def test_an_operators_reply_goes_in_gsm7_where_it_saves_and_the_thread_shows_it_so(
        app, client, settings, session):
    t = Texter(client, settings, "+905300000402")
    for body in ("Merhaba, yardıma ihtiyacım var", "2", "2"):
        t.send(body)
    case = session.scalars(select(Case)).one()
    typed = ("Merhaba, size yardım edeceğiz. Şu an neredesiniz? Güvende misiniz? "
             "Lütfen bize yazın, hemen cevap veririz.")  # two UCS-2 segments as typed
    conversations.queue_reply(session, settings, case, typed, T0)
    session.commit()
    sender = FakeSender()
    deliver(app, sender, settings, T0)
    [sent] = sender.sent
    assert sent.body == ("Merhaba, size yardim edecegiz. Su an neredesiniz? Güvende misiniz? "
                         "Lütfen bize yazin, hemen cevap veririz.")
    assert segments(sent.body) == 1
    thread = conversations.thread(session, settings, case, case.organisation_id)
    assert thread[-1].body == sent.body  # what the operator sees is what was sent
