"""Live queue events: delivered after commit only, to the right organisation only, through a
real server's Server-Sent Events stream; across two app processes on PostgreSQL."""

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app import db
from app.cases.models import Case
from app.config import Settings
from app.events import bus
from app.events.bus import EventKind, QueueEvent
from app.main import create_app
from app.organisations import service as organisations
from app.organisations.models import Organisation
from app.users import service as users
from app.users.models import Role
from tests.conftest import BACKENDS, make_settings
from tests.console.helpers import form_token
from tests.events.live import EventReader, Running, free_port, serving
from tests.messaging.texting import Texter
from tests.users.people import PASSWORD

HOME, ABROAD = "kz-almaty-shelter", "ru-moscow-shelter"
CALLER = "+77010000611"  # fictitious
FIRST_SMS = ("Сәлеметсіз бе, маған көмек керек", "1")  # Kazakh; danger: the case opens
TIMEOUT = httpx.Timeout(10.0)  # every read of a stream waits at most this long


def token(client: httpx.Client, username: str) -> dict[str, str]:
    response = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def organisation_id(app: FastAPI, slug: str) -> int:
    with app.state.sessionmaker() as session:
        return session.scalars(select(Organisation.id).where(Organisation.slug == slug)).one()


def prepared_app(database_url: str, port: int, **overrides: object) -> tuple[FastAPI, Settings]:
    settings = make_settings(database_url, public_url=f"http://127.0.0.1:{port}", **overrides)
    return create_app(settings), settings


def seed(app: FastAPI) -> None:
    with app.state.sessionmaker() as session, session.begin():
        organisations.load_demo_if_empty(session)
        users.create_user(session, "aigerim", PASSWORD, Role.OPERATOR, HOME)
        users.create_user(session, "olga", PASSWORD, Role.OPERATOR, ABROAD)
        users.create_user(session, "root", PASSWORD, Role.ADMIN, None)


@dataclass
class Hotline:
    app: FastAPI
    settings: Settings
    running: Running
    client: httpx.Client

    def stream(self, headers: dict[str, str]):
        return self.client.stream("GET", "/api/events", headers=headers, timeout=TIMEOUT)

    def text(self, number: str = CALLER, bodies: tuple[str, ...] = FIRST_SMS) -> Texter:
        texter = Texter(self.client, self.settings, number)
        for body in bodies:
            texter.send(body)
        return texter


@pytest.fixture
def hotline(fresh_database_url: str) -> Iterator[Hotline]:
    db.upgrade(fresh_database_url)
    port = free_port()
    app, settings = prepared_app(fresh_database_url, port)
    seed(app)
    with serving(app, port) as running, httpx.Client(base_url=running.url,
                                                     timeout=TIMEOUT) as client:
        yield Hotline(app, settings, running, client)


# --- after commit, never after rollback ---------------------------------------------------


@pytest.fixture
def recorded(database_url: str) -> Iterator[tuple[FastAPI, list[QueueEvent]]]:
    """An app whose hub records what it is given (no stream needed)."""
    app = create_app(make_settings(database_url))
    seen: list[QueueEvent] = []
    app.state.events.dispatch = seen.append
    yield app, seen
    app.state.engine.dispose()


def test_an_event_is_delivered_when_the_transaction_commits(recorded):
    app, seen = recorded
    event = QueueEvent(1, EventKind.CASE_CLAIMED, uuid.uuid4(), "HL-AAAAAA")
    with app.state.sessionmaker() as session:
        bus.publish(session, event)
        assert seen == []  # not yet: the claim could still fail
        session.commit()
    assert seen == [event]


def test_a_rolled_back_event_is_never_delivered(recorded):
    app, seen = recorded
    with app.state.sessionmaker() as session:
        bus.publish(session, QueueEvent(1, EventKind.CASE_CLAIMED, uuid.uuid4(), "HL-AAAAAA"))
        session.rollback()
        later = QueueEvent(1, EventKind.CASE_RELEASED, uuid.uuid4(), "HL-BBBBBB")
        bus.publish(session, later)
        session.commit()
    assert seen == [later]  # the next commit of the same session does not revive it


def test_an_event_published_in_a_failed_request_is_not_delivered(recorded):
    app, seen = recorded
    with pytest.raises(RuntimeError), app.state.sessionmaker() as session, session.begin():
        bus.publish(session, QueueEvent(1, EventKind.CASE_CREATED, uuid.uuid4(), "HL-CCCCCC"))
        raise RuntimeError("the webhook failed after opening the case")
    assert seen == []


# --- the stream -------------------------------------------------------------------------


def test_the_stream_refuses_anyone_but_an_operator(hotline):
    assert hotline.client.get("/api/events").status_code == 401
    wrong = {"Authorization": "Bearer not-a-token"}
    assert hotline.client.get("/api/events", headers=wrong).status_code == 401
    admin = token(hotline.client, "root")
    assert hotline.client.get("/api/events", headers=admin).status_code == 403


def test_each_organisation_sees_its_own_events_and_nothing_of_the_caller(hotline):
    home, abroad = token(hotline.client, "aigerim"), token(hotline.client, "olga")
    with hotline.stream(home) as mine, hotline.stream(abroad) as theirs:
        assert mine.status_code == 200
        assert mine.headers["content-type"].startswith("text/event-stream")
        reader = EventReader(mine.iter_lines()).subscribed()
        other = EventReader(theirs.iter_lines()).subscribed()
        texter = hotline.text()
        with hotline.app.state.sessionmaker() as session:
            case = session.scalars(select(Case)).one()
            assert session.get_one(Organisation, case.organisation_id).slug == HOME
        created = reader.until("case.created", case.reference)[-1]
        assert created == ("case.created", {"case_id": str(case.id),
                                            "reference": case.reference})
        texter.send("Мен Алматыдамын")  # a later message on the same case
        assert reader.until("message.inbound")[-1][1]["case_id"] == str(case.id)
        hotline.client.post(f"/api/cases/{case.id}/claim", headers=home)
        assert reader.next() == ("case.claimed", {"case_id": str(case.id),
                                                  "reference": case.reference})
        # Moscow's first event is its own: nothing of Almaty's case came before it.
        moscow = Texter(hotline.client, hotline.settings, "+79160000612")
        for body in ("Здравствуйте, мне нужна помощь", "1"):
            moscow.send(body)
        kind, data = other.next()
        assert kind == "case.created" and data["reference"] != case.reference
    raw = "\n".join(reader.raw + other.raw)
    assert raw.startswith(": live\nretry: ")  # the browser's reconnection delay
    for secret in (CALLER, CALLER[1:], "Алматыдамын", "көмек", "+79160000612"):
        assert secret not in raw


def test_the_console_session_cookie_opens_the_stream(hotline):
    client = hotline.client
    page = client.get("/console/login")
    client.post("/console/login", data={"username": "aigerim", "password": PASSWORD,
                                        "csrf_token": form_token(page.text)})
    with client.stream("GET", "/api/events", timeout=TIMEOUT) as response:
        assert response.status_code == 200
        reader = EventReader(response.iter_lines()).subscribed()
        hotline.text()
        assert reader.until("case.created")[-1][0] == "case.created"


def test_a_stream_ends_when_the_client_goes_away(hotline):
    hub = hotline.app.state.events
    with hotline.stream(token(hotline.client, "aigerim")) as response:
        lines = response.iter_lines()
        assert next(lines) == ": live"
        assert hub.subscribers() == 1
    deadline = time.monotonic() + 10
    while hub.subscribers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hub.subscribers() == 0


def test_the_server_stops_with_streams_open(hotline):
    """uvicorn waits for open connections: the server must end them, not hang."""
    with hotline.stream(token(hotline.client, "aigerim")) as response:
        lines = response.iter_lines()
        assert next(lines) == ": live"
        hotline.running.stop()  # asserts the server thread ended
        rest = list(lines)  # the stream ended cleanly: no error reading to its end
    assert all(line == "" or line.startswith(("retry:", ":")) for line in rest)


def test_the_stream_is_declared_as_server_sent_events(hotline):
    operation = hotline.client.get("/openapi.json").json()["paths"]["/api/events"]["get"]
    assert list(operation["responses"]["200"]["content"]) == ["text/event-stream"]


# --- several processes ------------------------------------------------------------------


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "postgresql"], indirect=True)
def test_an_event_of_one_app_reaches_the_streams_of_another(fresh_database_url):
    """Two app processes on one PostgreSQL database (as two create_app): an event
    committed in one reaches the other's streams through LISTEN/NOTIFY, and the one
    that published it delivers it once, not again from its own listener."""
    db.upgrade(fresh_database_url)
    first_port, second_port = free_port(), free_port()
    first, _ = prepared_app(fresh_database_url, first_port)
    second, _ = prepared_app(fresh_database_url, second_port)
    seed(first)
    home = organisation_id(first, HOME)
    with serving(first, first_port) as one, serving(second, second_port) as two, \
            httpx.Client(base_url=one.url, timeout=TIMEOUT) as client_one, \
            httpx.Client(base_url=two.url, timeout=TIMEOUT) as client_two:
        for app in (first, second):
            assert app.state.events_listener.connected.wait(10)
        headers = token(client_one, "aigerim")
        with client_one.stream("GET", "/api/events", headers=headers) as at_one, \
                client_two.stream("GET", "/api/events", headers=headers) as at_two:
            reader_one = EventReader(at_one.iter_lines()).subscribed()
            reader_two = EventReader(at_two.iter_lines()).subscribed()
            claimed = QueueEvent(home, EventKind.CASE_CLAIMED, uuid.uuid4(), "HL-FIRST1")
            with first.state.sessionmaker() as session, session.begin():
                bus.publish(session, claimed)
            assert reader_two.next() == ("case.claimed", claimed.data())
            marker = QueueEvent(home, EventKind.CASE_RELEASED, uuid.uuid4(), "HL-SECND2")
            with second.state.sessionmaker() as session, session.begin():
                bus.publish(session, marker)
            # The first app's listener received its own notification before the marker's
            # (PostgreSQL delivers in commit order) and skipped it.
            assert reader_one.next() == ("case.claimed", claimed.data())
            assert reader_one.next() == ("case.released", marker.data())
            assert reader_two.next() == ("case.released", marker.data())


def test_without_postgresql_no_listener_runs(database_url):
    app = create_app(make_settings(database_url))
    with TestClient(app):
        listener = app.state.events_listener
        assert (listener is not None) == (app.state.engine.dialect.name == "postgresql")
        if listener is not None:
            assert listener.connected.wait(10)
    if listener is not None:
        assert not listener.running  # stopped with the app
