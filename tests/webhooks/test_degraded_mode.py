"""The database goes away mid-call: callers are still answered and routed from the
snapshot, what happened is journalled without numbers, and lands once when it is back.

The app runs on a real, migrated database of each backend; "down" points it at a
PostgreSQL port nothing listens on, exactly what a stopped server looks like to it.
"""

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from app import db
from app.cases.models import (
    AttemptResult,
    CallbackRequest,
    Case,
    Contact,
    ContactOutcome,
    RoutingAttempt,
)
from app.main import create_app
from app.messaging.models import Conversation, Message, Outbox
from app.organisations import service as organisations
from app.webhooks import lane, recovery
from app.webhooks.replies import WebhookReply
from tests.channels.voice.calls import Caller
from tests.conftest import WEEKDAY_MORNING, make_settings, use_sessions
from tests.console.helpers import sign_in, texted_case
from tests.messaging.texting import Texter
from tests.twilio import post, twiml
from tests.users.people import make_person

DEAD = "postgresql+psycopg://postgres@127.0.0.1:1/test"  # nothing listens on port 1
NUMBERS = ["+992900000011", "+77010000012", "+79000000013", "+998900000014"]


class Database:
    """Switches the app between its database and a dead one."""

    def __init__(self, app: FastAPI, url: str) -> None:
        self.app = app
        # As the app's own engine: a step waiting on a lock gives up as the service's does.
        self.engine = db.make_engine(
            url, lock_timeout=app.state.settings.database_lock_timeout_seconds)
        self.dead = db.make_engine(DEAD)
        self.up()

    def up(self) -> None:
        use_sessions(self.app, db.make_sessionmaker(self.engine))

    def down(self) -> None:
        use_sessions(self.app, db.make_sessionmaker(self.dead))

    def session(self) -> Session:
        return Session(self.engine)


@contextmanager
def running_hotline(url: str, audio_dir: Path, tmp_path: Path, **overrides: object
                    ) -> Iterator[tuple[FastAPI, Database]]:
    """A migrated database with the demo directory, and an app that can be switched off it."""
    db.upgrade(url)
    settings = make_settings(url, audio_dir_override=audio_dir,
                             journal_dir_override=tmp_path / "journal",
                             **({"journal_retry_seconds": 0.2,
                                 "database_lock_timeout_seconds": 0.5} | overrides))
    app = create_app(settings)
    app.state.clock = lambda: WEEKDAY_MORNING
    database = Database(app, url)
    with database.session() as session, session.begin():
        organisations.load_demo_if_empty(session)
    try:
        yield app, database
    finally:
        database.engine.dispose()
        database.dead.dispose()


@pytest.fixture
def hotline(fresh_database_url, audio_dir, tmp_path) -> Iterator[tuple[FastAPI, Database]]:
    with running_hotline(fresh_database_url, audio_dir, tmp_path) as running:
        yield running


def journal_text(app: FastAPI) -> str:
    """Every journal file's lines: those being written and those moved aside to replay."""
    return "".join(p.read_text() for p in sorted(app.state.settings.journal_dir.iterdir())
                   if p.suffix in (".jsonl", ".replay"))


def test_calls_and_messages_during_an_outage_are_routed_and_land_once(hotline):
    app, database = hotline
    settings = app.state.settings
    with TestClient(app) as client:
        # Caller A chose a language while the database was up; then it went down.
        a = Caller(client, settings, NUMBERS[0])
        a.call()
        a.press("1")
        database.down()
        dial = a.press("1")  # danger: connect
        assert dial.dialled_numbers(), dial.text
        nxt = a.dial_ends("no-answer")
        assert nxt.dialled_numbers() and nxt.dialled_numbers() != dial.dialled_numbers()
        whisper = a.responder_whisper()
        assert whisper.gather_action(), whisper.text
        a.responder_presses(whisper, "1")
        hangup = twiml(post(client, settings, nxt.find("Dial").get("action"),
                            a.params(DialCallStatus="completed", DialBridged="true")))
        assert hangup.verbs() == ["Hangup"]
        a.status("completed", 75)

        # Caller B's whole call is in the outage: nobody answers, a callback is asked for.
        b = Caller(client, settings, NUMBERS[1])
        b.call()
        b.press("1")
        b.press("1")
        for _ in range(settings.max_dial_attempts):
            assert b.last.dialled_numbers(), b.last.text
            b.dial_ends("no-answer")
        offer = b.last.gather_action()
        goodbye = b.press("1")
        assert goodbye.verbs()[-1] == "Hangup"
        b.status("completed", 90)

        # Texter C writes in Russian; the reply says a person will write back.
        c = Texter(client, settings, NUMBERS[2])
        reply = c.send("Здравствуйте, мне нужна помощь")
        assert reply is not None and "112" in reply

        written = journal_text(app)
        assert written.count("\n") >= 15
        for number in NUMBERS:
            assert number not in written and number.lstrip("+") not in written
        assert "мне нужна помощь" not in written  # the body is encrypted too
        assert all(json.loads(line)["reply"] for line in written.splitlines())

        # The database is back: once the webhooks try it again (they skip it for
        # journal_retry_seconds after a failure), the next one replays the journal first.
        database.up()
        time.sleep(settings.journal_retry_seconds)
        d = Caller(client, settings, NUMBERS[3])
        d.call()
        assert not app.state.journal.pending
        assert journal_text(app) == ""
        # Twilio retrying a step answered during the outage gets the same reply.
        retried = twiml(post(client, settings, offer, b.params(Digits="1")))
        assert retried.text == goodbye.text

    with database.session() as session:
        contacts = {c.twilio_sid: c for c in session.scalars(select(Contact))}
        assert set(contacts) == {a.sid, b.sid, c.last_sid, d.sid}
        first = contacts[a.sid]
        assert (first.language, first.need.value, first.outcome) == (
            "tg", "danger", ContactOutcome.CONNECTED)
        assert first.duration_seconds == 75
        attempts = session.scalars(select(RoutingAttempt).where(
            RoutingAttempt.contact_id == first.id).order_by(RoutingAttempt.attempt)).all()
        assert [r.result for r in attempts] == [AttemptResult.NO_ANSWER,
                                                AttemptResult.COMPLETED]
        assert attempts[1].answered_at == WEEKDAY_MORNING
        second = contacts[b.sid]
        assert second.outcome is ContactOutcome.CALLBACK_REQUESTED
        assert session.scalar(select(func.count()).select_from(RoutingAttempt).where(
            RoutingAttempt.contact_id == second.id)) == settings.max_dial_attempts
        callback = session.scalars(select(CallbackRequest)).one()
        assert callback.contact_id == second.id and callback.number_encrypted
        assert session.scalar(select(func.count()).select_from(Case)) == 1  # B's, queued
        # C's message is in its conversation; the intake's next question waits to be sent.
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.language == "ru"
        assert session.scalar(select(func.count()).select_from(Message)) == 2
        assert session.scalar(select(func.count()).select_from(Outbox)) == 1


@contextmanager
def on_its_own_pools(url: str, audio_dir: Path, tmp_path: Path, **overrides: object
                     ) -> Iterator[tuple[FastAPI, Engine]]:
    """A migrated database with the demo directory, an app on its own connection pools
    (the webhooks' and the console's, as in service), and another engine to look at the
    database and to get in the app's way."""
    db.upgrade(url)
    settings = make_settings(url, audio_dir_override=audio_dir,
                             journal_dir_override=tmp_path / "journal",
                             journal_retry_seconds=0.2, **overrides)
    app = create_app(settings)
    app.state.clock = lambda: WEEKDAY_MORNING
    other = db.make_engine(url)
    with Session(other) as session, session.begin():
        organisations.load_demo_if_empty(session)
    try:
        yield app, other
    finally:
        other.dispose()


def replayed_by_the_next_step(app: FastAPI, caller: Caller) -> None:
    """The step was journalled; once the journal may be retried, the responder not
    answering is the next step, which replays it first."""
    assert app.state.journal.pending
    time.sleep(app.state.settings.journal_retry_seconds)
    caller.dial_ends("no-answer")
    assert not app.state.journal.pending


def landed_once(other: Engine) -> Contact:
    """The one contact of the test, dialled once without answer and then again."""
    with Session(other) as session:
        attempts = session.scalars(select(RoutingAttempt).order_by(
            RoutingAttempt.attempt)).all()
        assert [a.result for a in attempts] == [AttemptResult.NO_ANSWER,
                                                AttemptResult.DIALLING]
        return session.scalars(select(Contact)).one()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_step_waiting_on_a_locked_row_is_answered_from_the_journal_and_lands_once(
        fresh_database_url, audio_dir, tmp_path):
    """Another transaction holds the caller's contact row (an operator's, a migration's):
    the step gives up waiting after HOTLINE_DATABASE_LOCK_TIMEOUT_SECONDS and is answered
    as during an outage, instead of holding one of the few webhook threads as long as the
    lock lasts. What it did lands once the row is free."""
    answered: dict[str, object] = {}
    with (on_its_own_pools(fresh_database_url, audio_dir, tmp_path,
                           database_lock_timeout_seconds=0.5) as (app, other),
          TestClient(app) as client, other.connect() as holder):
        caller = Caller(client, app.state.settings, NUMBERS[1], "KZ")
        caller.call()
        caller.press("1")  # Kazakh
        holding = holder.begin()
        holder.execute(text("SELECT id FROM contacts FOR UPDATE"))
        worker = threading.Thread(target=lambda: answered.update(dial=caller.press("1")),
                                  daemon=True)
        worker.start()
        worker.join(timeout=20)
        holding.rollback()
        assert not worker.is_alive(), "the step waited for the lock to be released"
        assert answered["dial"].dialled_numbers(), answered["dial"].text
        replayed_by_the_next_step(app, caller)
        contact = landed_once(other)
    assert (contact.language, contact.need.value) == ("kk", "danger")


SLOW_CONTACTS = ("""CREATE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql AS
                   $$ BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$""",
                 """CREATE TRIGGER slow_contacts BEFORE INSERT OR UPDATE ON contacts
                   FOR EACH ROW EXECUTE FUNCTION slow_down()""")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_slow_statement_is_cancelled_and_the_caller_answered_from_the_journal(
        fresh_database_url, audio_dir, tmp_path):
    """Writing a contact takes 30 s (a trigger sleeps; in life a disk in trouble, a
    runaway migration): the webhooks' own connections cancel the statement after
    HOTLINE_WEBHOOK_STATEMENT_TIMEOUT_SECONDS and the caller is answered from the snapshot
    long before Twilio gives up (15 s). The console's connections have no such limit.
    What the steps did lands once writing is fast again."""
    with (on_its_own_pools(fresh_database_url, audio_dir, tmp_path,
                           webhook_statement_timeout_seconds=1) as (app, other),
          TestClient(app) as client):
        with other.begin() as connection:
            for statement in SLOW_CONTACTS:
                connection.execute(text(statement))
        caller = Caller(client, app.state.settings, NUMBERS[2], "TJ")
        started = time.monotonic()
        menu = caller.call()
        assert time.monotonic() - started < 15, "Twilio would have given up"
        assert menu.gather_action(), menu.text
        assert app.state.journal.pending
        assert _statement_timeout(client, app.state.webhook_sessionmaker) == "1s"
        assert _statement_timeout(client, app.state.sessionmaker) == "0"
        with other.begin() as connection:
            connection.execute(text("DROP TRIGGER slow_contacts ON contacts"))
        time.sleep(app.state.settings.journal_retry_seconds)
        caller.press("1")  # Russian, first in Tajikistan; the journal is replayed first
        assert not app.state.journal.pending
        dial = caller.press("1")  # danger: connect
        assert dial.dialled_numbers(), dial.text
        caller.dial_ends("no-answer")
        contact = landed_once(other)
    assert (contact.language, contact.need.value) == ("ru", "danger")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_after_the_database_dropped_its_connections_a_step_is_answered_and_lands_once(
        fresh_database_url, audio_dir, tmp_path):
    """The database server restarted between two steps of a call: every connection the
    webhooks had pooled is dead, and none is pinged before use (a round trip a step). The
    step is answered from the journal, the pool reconnects, and what it did lands once."""
    with (on_its_own_pools(fresh_database_url, audio_dir, tmp_path) as (app, other),
          TestClient(app) as client):
        caller = Caller(client, app.state.settings, NUMBERS[3], "UZ")
        caller.call()
        caller.press("1")  # the first language offered in Uzbekistan
        with other.begin() as connection:
            dropped = connection.scalar(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        assert dropped
        dial = caller.press("1")  # danger: connect
        assert dial.dialled_numbers(), dial.text
        replayed_by_the_next_step(app, caller)
        assert landed_once(other).need.value == "danger"


def _statement_timeout(client: TestClient, sessions: Callable[[], Session]) -> str:
    """As a webhook step reads it: in the app's lane (the webhooks' driver is awaited on
    the event loop)."""
    def show() -> str:
        with sessions() as session:
            return str(session.scalar(text("SHOW statement_timeout")))

    return client.portal.call(lane.run, client.app.state.webhook_lane, show)


def test_a_replayed_call_keeps_the_times_it_was_journalled_at(hotline):
    """Each step is journalled with its own time, and lands with it: an attempt starts
    before it ends, however long after the outage the journal is replayed."""
    app, database = hotline
    settings = app.state.settings
    t0 = WEEKDAY_MORNING
    at = {"now": t0}
    app.state.clock = lambda: at["now"]

    def step(seconds: int) -> None:
        at["now"] = t0 + timedelta(seconds=seconds)

    with TestClient(app) as client:
        database.down()
        caller = Caller(client, settings, NUMBERS[0])
        caller.call()
        step(5)
        caller.press("1")
        step(10)
        dial = caller.press("1")  # attempt 0 rings at +10 s
        step(40)
        nxt = caller.dial_ends("no-answer")  # ...ends at +40 s; attempt 1 rings
        step(45)
        whisper = caller.responder_whisper()
        step(50)
        caller.responder_presses(whisper, "1")  # answered at +50 s
        step(200)
        twiml(post(client, settings, nxt.find("Dial").get("action"),
                   caller.params(DialCallStatus="completed", DialBridged="true")))
        step(201)
        caller.status("completed", 190)
        assert dial.dialled_numbers() and app.state.journal.pending
        database.up()
        step(3600)  # replayed an hour later
        time.sleep(settings.journal_retry_seconds)
        assert app.state.journal.replay(lambda record: recovery.apply(app, record)) == 8
    with database.session() as session:
        contact = session.scalars(select(Contact)).one()
        attempts = session.scalars(select(RoutingAttempt).order_by(RoutingAttempt.attempt)).all()
    after = {seconds: t0 + timedelta(seconds=seconds) for seconds in (10, 40, 50, 200)}
    assert [(a.started_at, a.answered_at, a.ended_at) for a in attempts] == [
        (after[10], None, after[40]), (after[40], after[50], after[200])]
    assert all(a.started_at < a.ended_at for a in attempts)
    assert (contact.started_at, contact.answered_at, contact.ended_at) == (
        t0, after[50], t0 + timedelta(seconds=190))


def test_replaying_the_same_journal_twice_changes_nothing_twice(hotline, tmp_path):
    app, database = hotline
    settings = app.state.settings
    with TestClient(app) as client:
        database.down()
        caller = Caller(client, settings, NUMBERS[0])
        caller.call()
        caller.press("1")
        caller.press("5")  # a child: connect
        Texter(client, settings, NUMBERS[2]).send("Salom, yordam kerak")
        time.sleep(settings.journal_retry_seconds)
        saved = tmp_path / "copy"
        shutil.copytree(settings.journal_dir, saved)
        database.up()
        assert app.state.journal.replay(lambda record: recovery.apply(app, record)) == 4
        # A crash after the lines were applied, before the file was deleted: the same
        # lines are found again on the next start.
        for path in saved.iterdir():
            shutil.copy(path, settings.journal_dir / f"{path.stem}.1.replay")
        assert app.state.journal.replay(lambda record: recovery.apply(app, record)) == 0
        assert not list(settings.journal_dir.glob("*.replay"))
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 2
        assert session.scalar(select(func.count()).select_from(RoutingAttempt)) == 1
        assert session.scalar(select(func.count()).select_from(Message)) == 2  # in, reply
        assert session.scalar(select(func.count()).select_from(Outbox)) == 1
        assert session.scalar(select(func.count()).select_from(WebhookReply)) == 4
        assert session.scalars(select(Contact).where(Contact.twilio_sid == caller.sid)
                               ).one().child is True


def test_the_background_worker_replays_without_waiting_for_a_call(hotline):
    app, database = hotline
    app.state.settings = app.state.settings.model_copy(update={"recovery_worker": True})
    settings = app.state.settings
    with TestClient(app) as client:
        database.down()
        Caller(client, settings, NUMBERS[1]).call()
        assert app.state.journal.pending
        database.up()
        deadline = time.monotonic() + 10
        while app.state.journal.pending and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not app.state.journal.pending
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


def test_a_process_started_while_the_database_is_down_routes_from_the_saved_snapshot(
        hotline):
    app, _ = hotline
    settings = app.state.settings
    with TestClient(app):
        pass  # started once while the database was up: the snapshot is saved
    restarted = create_app(settings)
    restarted.state.clock = lambda: WEEKDAY_MORNING
    Database(restarted, DEAD)  # its own database is the dead one from the start
    with TestClient(restarted) as client:
        caller = Caller(client, settings, NUMBERS[0])
        caller.call()
        caller.press("1")
        dial = caller.press("1")
        assert dial.dialled_numbers(), dial.text
        assert restarted.state.journal.pending
    assert NUMBERS[0] not in (settings.journal_dir / "directory.json").read_text()


def test_a_journal_left_by_a_dead_process_is_replayed_by_a_running_one(hotline, tmp_path):
    app, database = hotline
    settings = app.state.settings
    with TestClient(app) as client:
        database.down()
        Caller(client, settings, NUMBERS[1]).call()
        app.state.journal.close()  # this process's file, as another process dies with it
        dead = next(settings.journal_dir.glob("*.jsonl"))
        shutil.move(dead, tmp_path / dead.name)
        app.state.journal.pending = False
        database.up()
    running = create_app(settings.model_copy(update={"recovery_worker": True}))
    running.state.clock = lambda: WEEKDAY_MORNING
    Database(running, str(database.engine.url.render_as_string(hide_password=False)))
    with TestClient(running):
        assert not running.state.journal.pending
        shutil.move(tmp_path / dead.name, dead)  # appears while it runs
        deadline = time.monotonic() + 10
        while dead.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


def _asks_to_retry(response, marker: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == str(db.RETRY_AFTER_SECONDS)
    assert marker in response.text, response.text


def test_operators_are_asked_to_retry_while_the_database_is_down_and_lose_nothing(hotline):
    """The console and the API answer 503 with a page or a message that says what to do,
    not a bare 500; once the database is back the same requests work."""
    app, database = hotline
    with TestClient(app) as client:
        with database.session() as session:  # closed before the outage: SQLite would wait
            case, organisation = texted_case(client, session, app.state.settings)
            case_id, case_page = case.id, f"/console/cases/{case.id}"
            console = sign_in(app, session, "aigerim", organisation=organisation)
            api = make_person(client, session, "dana", organisation=organisation)
        database.down()
        page = console.get("/console", headers={"Accept-Language": "ru"})
        _asks_to_retry(page, "База данных дел занята или недоступна")
        assert '<a href="/console">Попробовать ещё раз</a>' in page.text
        claim = console.client.post(f"{case_page}/claim", data={"csrf_token": console.csrf},
                                    headers={"Referer": f"http://testserver{case_page}"})
        _asks_to_retry(claim, "check whether it is there")
        # Back to the case page, not the claim posted again behind the operator's back.
        assert f'<a href="{case_page}">Try again</a>' in claim.text
        listed = client.get("/api/cases", headers=api.headers)
        _asks_to_retry(listed, "try again")
        assert listed.json()["detail"].startswith("The database is busy")
        database.up()
        assert console.get("/console").status_code == 200
        assert console.post(f"{case_page}/claim").status_code == 303
        assert client.get("/api/cases", headers=api.headers).status_code == 200
    with database.session() as session:
        assert session.get(Case, case_id).claimed_by_id is not None


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_claim_waiting_on_a_locked_case_is_refused_with_retry_and_changes_nothing(hotline):
    """Another transaction holds the case row: the claim gives up after the lock timeout
    (the operator is not left waiting on a page that never loads) and leaves the case
    unclaimed; once the row is free the same claim works."""
    app, database = hotline
    with TestClient(app) as client:
        with database.session() as session:
            case, organisation = texted_case(client, session, app.state.settings)
            case_id = case.id
            console = sign_in(app, session, "aigerim", organisation=organisation)
        with database.engine.connect() as holder:
            holding = holder.begin()
            holder.execute(text("SELECT id FROM cases FOR UPDATE"))
            claim = console.post(f"/console/cases/{case_id}/claim")  # answered while held
            holding.rollback()
        _asks_to_retry(claim, "busy or out of reach")
        with database.session() as session:
            assert session.get(Case, case_id).claimed_by_id is None
        assert console.post(f"/console/cases/{case_id}/claim").status_code == 303
        with database.session() as session:
            assert session.get(Case, case_id).claimed_by_id is not None


def _journal_a_backlog(app: FastAPI, database: Database, client: TestClient) -> list[Caller]:
    """Three callers choose a language and a need while the database is down."""
    database.down()
    callers = [Caller(client, app.state.settings, number) for number in NUMBERS[:3]]
    for caller in callers:
        caller.call()
        caller.press("1")
        caller.press("1")
    database.up()
    time.sleep(app.state.settings.journal_retry_seconds)  # the webhooks try it again
    return callers


@pytest.fixture
def slow_replay(monkeypatch):
    """Each journal record takes 0.2 s to apply: a long outage's journal, in small."""
    apply = recovery.apply

    def slowly(app, record, *sessions):
        time.sleep(0.2)
        return apply(app, record, *sessions)

    monkeypatch.setattr(recovery, "apply", slowly)
    monkeypatch.setattr(recovery, "WEBHOOK_REPLAY_SECONDS", 0.3)


def _contacts_by_sid(database: Database) -> list[str]:
    with database.session() as session:
        return sorted(session.scalars(select(Contact.twilio_sid)))


def test_after_a_long_outage_a_caller_is_answered_without_waiting_for_the_replay(
        hotline, slow_replay):
    """The first webhook after an outage replays only as long as a caller can wait, then
    answers into the journal behind the rest; once the rest is replayed (by the background
    worker here), every record has landed once and the call goes on in the database."""
    app, database = hotline
    with TestClient(app) as client:
        callers = _journal_a_backlog(app, database, client)
        newcomer = Caller(client, app.state.settings, NUMBERS[3])
        menu = newcomer.call()
        assert "Gather" in menu.verbs()
        assert app.state.journal.pending  # answered before the backlog (1.8 s) was replayed
        recovery.catch_up_in_background(app)
        assert "Gather" in newcomer.press("1").verbs()  # from the database: nothing pending
        assert not app.state.journal.pending
    assert _contacts_by_sid(database) == sorted(c.sid for c in [*callers, newcomer])
    with database.session() as session:
        needs = session.scalars(select(Contact.need).where(
            Contact.twilio_sid.in_([c.sid for c in callers]))).all()
        assert [need.value for need in needs] == ["danger"] * 3


def test_while_the_worker_replays_a_caller_is_answered_at_once(hotline, slow_replay):
    """A webhook never waits for another thread's replay: it answers into the journal."""
    app, database = hotline
    with TestClient(app) as client:
        callers = _journal_a_backlog(app, database, client)
        worker = threading.Thread(target=recovery.catch_up_in_background, args=(app,))
        worker.start()
        while not app.state.journal._replaying.locked():
            time.sleep(0.01)
        newcomer = Caller(client, app.state.settings, NUMBERS[3])
        menu = newcomer.call()
        replaying = worker.is_alive()
        worker.join(timeout=20)
        assert replaying  # answered while the worker was still replaying
        assert "Gather" in menu.verbs()
        newcomer.press("1")  # replays the newcomer's first step, then goes on in the database
        assert not app.state.journal.pending
    assert _contacts_by_sid(database) == sorted(c.sid for c in [*callers, newcomer])


def test_while_webhooks_skip_the_database_the_directory_refresh_skips_it_too(
        fresh_database_url, audio_dir, tmp_path, caplog):
    """A refresh against an unreachable database can take its connect timeout; after a
    webhook found the database down, callers are not made to wait for one."""
    with running_hotline(fresh_database_url, audio_dir, tmp_path, journal_retry_seconds=30,
                         directory_refresh_seconds=0.05) as (app, database), \
            TestClient(app) as client:
        caller = Caller(client, app.state.settings, NUMBERS[1], "KZ")
        database.down()
        caller.call()  # finds the database down: webhooks skip it for 30 s
        time.sleep(0.1)  # the snapshot is stale now
        caplog.clear()
        caller.press("1")
        assert caller.press("1").dialled_numbers(), caller.last.text
        assert "directory refresh failed" not in caplog.text
