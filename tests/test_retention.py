"""Retention: what the purge erases (callback numbers, texters' numbers, message bodies),
what it keeps (the anonymised case), and the purge inside the service: periodic, logged
by counts only, and safe when several processes run it at once."""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from app import db, retention
from app.cases.models import CallbackRequest, Case, Contact, RoutingAttempt
from app.main import create_app
from app.messaging.models import Conversation, Message
from app.organisations import service as organisations
from app.retention import purge_expired
from app.workers import PeriodicWorker
from tests.channels.voice.calls import Caller
from tests.conftest import WEEKDAY_MORNING, make_settings
from tests.messaging.texting import Texter

CALLER = "+992900000901"
TEXTER = "+77010000911"
PAST_EVERY_RETENTION = WEEKDAY_MORNING + timedelta(days=400)


def call_asking_for_a_callback(client, settings, number: str = CALLER) -> None:
    c = Caller(client, settings, number)
    c.call()
    c.press("1")  # Tajik
    c.press("1")  # danger
    for _ in range(settings.max_dial_attempts):
        c.dial_ends("no-answer")
    c.press("1")  # yes, call me back: the number is kept, encrypted
    c.status("completed", 50)


def text_the_hotline(client, settings, number: str = TEXTER) -> None:
    t = Texter(client, settings, number)
    for body in ("Сәлеметсіз бе, маған көмек керек", "1", "2"):
        t.send(body)


def anonymised(case: Case) -> tuple:
    return (case.reference, case.status, case.priority, case.organisation_id,
            case.caller_pseudonym, case.caller_country, case.language, case.need, case.child,
            case.channel, case.created_at)


@pytest.mark.usefixtures("demo_directory")
def test_callback_numbers_are_purged_at_their_date_and_the_case_stays(client, settings,
                                                                      session):
    call_asking_for_a_callback(client, settings)
    request = session.scalars(select(CallbackRequest)).one()
    case = session.get_one(Case, request.case_id)
    contact = session.get_one(Contact, request.contact_id)
    before = anonymised(case), (contact.outcome, contact.need, contact.duration_seconds)

    early = purge_expired(session, settings, request.purge_after - timedelta(minutes=1))
    assert early.callback_numbers == 0
    later = purge_expired(session, settings, request.purge_after + timedelta(minutes=1))
    assert later.callback_numbers == 1
    session.commit()
    session.expire_all()
    assert session.get_one(CallbackRequest, request.id).number_encrypted is None
    case, contact = session.get_one(Case, case.id), session.get_one(Contact, contact.id)
    assert (anonymised(case), (contact.outcome, contact.need, contact.duration_seconds)
            ) == before
    assert case.need == "danger" and case.caller_country == "TJ" and case.language == "tg"
    assert len(session.scalars(select(RoutingAttempt)).all()) == settings.max_dial_attempts


@pytest.mark.usefixtures("demo_directory")
def test_past_every_retention_no_contact_detail_or_body_is_left(client, settings, session):
    call_asking_for_a_callback(client, settings)
    text_the_hotline(client, settings)
    cases_before = sorted(map(anonymised, session.scalars(select(Case))), key=str)

    report = purge_expired(session, settings, PAST_EVERY_RETENTION)
    assert (report.numbers, report.bodies, report.callback_numbers) == (1, 6, 1)
    session.expire_all()
    assert all(c.number_encrypted is None for c in session.scalars(select(Conversation)))
    assert all(m.body_encrypted is None and m.erased_at is not None
               for m in session.scalars(select(Message)))
    assert all(r.number_encrypted is None for r in session.scalars(select(CallbackRequest)))
    assert sorted(map(anonymised, session.scalars(select(Case))), key=str) == cases_before
    again = purge_expired(session, settings, PAST_EVERY_RETENTION)
    assert (again.numbers, again.bodies, again.callback_numbers, again.webhook_replies) == (
        0, 0, 0, 0)


# --- the purge inside the service, on databases of their own, with real commits --------

@contextmanager
def service(database_url: str, **overrides: object) -> Iterator[tuple[FastAPI, TestClient]]:
    db.upgrade(database_url)
    settings = make_settings(database_url, **overrides)
    app = create_app(settings)
    with app.state.sessionmaker() as session, session.begin():
        organisations.load_demo_if_empty(session)
    with TestClient(app) as client:
        yield app, client


def erased(app: FastAPI) -> bool:
    with app.state.sessionmaker() as session:
        return session.scalars(select(Conversation.number_encrypted)).one() is None


def test_the_service_purges_every_interval_and_logs_counts_only(fresh_database_url, caplog):
    caplog.set_level(logging.INFO, logger="app.retention")
    with service(fresh_database_url, purge_interval_minutes=0.002) as (app, client):
        app.state.clock = lambda: WEEKDAY_MORNING
        text_the_hotline(client, app.state.settings)
        assert not erased(app)
        app.state.clock = lambda: PAST_EVERY_RETENTION  # the next pass finds it expired
        deadline = time.monotonic() + 20
        while not erased(app) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert erased(app)
    purges = [r for r in caplog.records if r.name == "app.retention"]
    assert any(r.purged["numbers"] == 1 and r.purged["bodies"] == 6 for r in purges)
    assert "erased 1 numbers, 6 message bodies" in caplog.text
    assert TEXTER[1:] not in caplog.text and TEXTER[-9:] not in caplog.text


def test_concurrent_purges_erase_everything_exactly_once(fresh_database_url):
    """Two processes' purge passes at the same moment, each with its own engine."""
    with service(fresh_database_url) as (app, client):
        settings = app.state.settings
        app.state.clock = lambda: WEEKDAY_MORNING
        for n in range(3):
            text_the_hotline(client, settings, f"+7701000092{n}")
            call_asking_for_a_callback(client, settings, f"+99290000092{n}")
    engines = [db.make_engine(fresh_database_url) for _ in range(2)]
    start = threading.Barrier(len(engines))
    reports = []

    def purge(engine) -> None:
        start.wait()
        reports.append(retention.purge_once(db.make_sessionmaker(engine), settings,
                                            PAST_EVERY_RETENTION))

    threads = [threading.Thread(target=purge, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    done = [report for report in reports if report is not None]
    assert len(reports) == 2 and done
    assert sum(r.numbers for r in done) == 3 and sum(r.callback_numbers for r in done) == 3
    assert sum(r.bodies for r in done) == 3 * 6


def test_a_pass_skips_while_another_process_purges_on_postgresql(backend, fresh_database_url):
    if backend != "postgresql":
        pytest.skip("SQLite admits one writer at a time: a second pass simply waits")
    db.upgrade(fresh_database_url)
    engine = db.make_engine(fresh_database_url)
    settings = make_settings(fresh_database_url)
    try:
        with engine.connect() as other, other.begin():
            other.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                          {"key": retention.LOCK_KEY})
            assert retention.purge_once(db.make_sessionmaker(engine), settings,
                                        PAST_EVERY_RETENTION) is None
        assert retention.purge_once(db.make_sessionmaker(engine), settings,
                                    PAST_EVERY_RETENTION) is not None
    finally:
        engine.dispose()


def test_an_interval_of_zero_leaves_purging_to_cron(database_url):
    settings = make_settings(database_url, purge_interval_minutes=0)
    assert retention.purge_worker(lambda: None, settings, lambda: WEEKDAY_MORNING) is None


def test_a_failing_pass_is_logged_and_the_worker_goes_on(caplog):
    passes = []

    def job() -> None:
        passes.append(1)
        raise RuntimeError("database down")

    worker = PeriodicWorker("flaky", job, interval=0.01)
    worker.start()
    deadline = time.monotonic() + 10
    while len(passes) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert len(passes) >= 3
    assert "flaky pass failed" in caplog.text
