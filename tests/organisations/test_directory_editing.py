"""Editing an organisation by hand: the form says back exactly what is stored, and every
process routes by a change within seconds, without waiting for its periodic reload."""

import asyncio
import time
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app import cli, db
from app.audit.models import AuditEvent
from app.config import get_settings
from app.events.bus import EventKind, QueueEvent
from app.events.hub import Hub
from app.main import create_app
from app.organisations import editing
from app.organisations import service as organisations
from app.organisations.models import Organisation
from app.routing.engine import Query, route
from app.routing.needs import Need
from app.users import service as users
from app.users.models import Role, User
from tests.channels.voice.calls import Caller
from tests.channels.voice.test_voice_flow import choose
from tests.conftest import BACKENDS, WEEKDAY_MORNING, make_settings

SHELTER = "kz-almaty-shelter"  # 24/7 in the demo directory; first for a Kazakh in danger
SHELTER_PHONE = "+77270000111"
SECONDS = 5  # "within seconds": how long another process may take


def test_every_demo_organisation_saved_unchanged_stays_as_it_was(session, demo_directory):
    """The form shows back exactly what the import stored (ranges of holidays, nights past
    midnight, special hours): saving it untouched changes and audits nothing."""
    boss = users.create_user(session, "boss", "a long passphrase here", Role.ADMIN, None)
    orgs = organisations.list_organisations(session, include_inactive=True)
    assert any(org.exceptions for org in orgs) and any(not org.always_open for org in orgs)
    for org in orgs:
        before = organisations.to_responder(org)
        editing.update(session, boss, org, editing.form_of(org), WEEKDAY_MORNING)
        session.flush()
        session.expire_all()
        assert organisations.to_responder(session.get(Organisation, org.id)) == before, org.slug
    assert session.scalars(select(AuditEvent)).all() == []


def test_directory_changed_reloads_routing_and_never_reaches_the_queue_streams():
    hub, reloads = Hub(), []
    hub.on_directory_changed(lambda: reloads.append("reloaded"))
    claimed = QueueEvent(7, EventKind.CASE_CLAIMED, uuid.uuid4(), "HL-AAAAAA")

    async def streamed() -> list:
        subscription = hub.subscribe(7)
        hub.dispatch(QueueEvent(7, EventKind.DIRECTORY_CHANGED))
        hub.dispatch(claimed)
        await asyncio.sleep(0.01)  # the hub hands items over through the loop
        return [subscription.queue.get_nowait() for _ in range(subscription.queue.qsize())]

    assert asyncio.run(streamed()) == [claimed]  # an operator's page sees only its queue
    assert reloads == ["reloaded"]
    hub.resync()  # the listener was away: a change may have been missed
    assert reloads == ["reloaded", "reloaded"]


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "postgresql"], indirect=True)
def test_an_edit_in_one_process_is_routed_by_another_within_seconds(fresh_database_url,
                                                                    audio_dir):
    """Two app processes on one PostgreSQL database, each reloading its directory only
    once an hour: an edit saved through one is routed by the other within seconds."""
    db.upgrade(fresh_database_url)
    apps = [create_app(make_settings(fresh_database_url, directory_refresh_seconds=3600,
                                     audio_dir_override=audio_dir)) for _ in range(2)]
    first, second = apps
    with first.state.sessionmaker() as session, session.begin():
        organisations.load_demo_if_empty(session)
        users.create_user(session, "boss", "a long passphrase here", Role.ADMIN, None)
    for app in apps:
        app.state.clock = lambda: WEEKDAY_MORNING
    with TestClient(first), TestClient(second) as client:
        for app in apps:
            assert app.state.events_listener.connected.wait(10)
        assert first_for_a_kazakh_in_danger(second) == SHELTER

        with first.state.sessionmaker() as session, session.begin():
            boss = session.scalars(select(User).where(User.username == "boss")).one()
            org = editing.find(session, SHELTER)
            form = editing.form_of(org)
            form.always_open, form.hours = False, {"mon": "15:00-18:00"}
            editing.update(session, boss, org, form, WEEKDAY_MORNING)

        # The process that saved routes by it at once; the other within seconds.
        assert first_for_a_kazakh_in_danger(first) != SHELTER
        deadline = time.monotonic() + SECONDS
        while first_for_a_kazakh_in_danger(second) == SHELTER:
            assert time.monotonic() < deadline, "the other process still routes the old hours"
            time.sleep(0.05)
        caller = Caller(client, second.state.settings, "+77010000703")
        assert SHELTER_PHONE not in choose(caller, "KZ", "kk", "1").dialled_numbers()
        afternoon = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)  # 15:30 in Almaty
        assert first_for_a_kazakh_in_danger(second, afternoon) == SHELTER


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "postgresql"], indirect=True)
def test_a_directory_imported_by_command_is_routed_by_a_running_server_within_seconds(
        fresh_database_url, audio_dir, tmp_path, monkeypatch):
    db.upgrade(fresh_database_url)
    app = create_app(make_settings(fresh_database_url, directory_refresh_seconds=3600,
                                   audio_dir_override=audio_dir))
    with app.state.sessionmaker() as session, session.begin():
        organisations.load_demo_if_empty(session)
    app.state.clock = lambda: WEEKDAY_MORNING
    demo = organisations.DEMO_DIRECTORY.read_text(encoding="utf-8")
    changed = tmp_path / "directory.yaml"
    shelter = demo.index(f"id: {SHELTER}")
    changed.write_text(demo[:shelter] + demo[shelter:].replace(
        'hours: "24/7"', 'hours: {mon: ["15:00-18:00"]}', 1), encoding="utf-8")
    monkeypatch.setenv("HOTLINE_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    with TestClient(app):
        assert app.state.events_listener.connected.wait(10)
        assert first_for_a_kazakh_in_danger(app) == SHELTER
        try:
            assert cli.main(["directory", "import", str(changed)]) == 0
        finally:
            get_settings.cache_clear()
        deadline = time.monotonic() + SECONDS
        while first_for_a_kazakh_in_danger(app) == SHELTER:
            assert time.monotonic() < deadline, "the server still routes the old hours"
            time.sleep(0.05)


def first_for_a_kazakh_in_danger(app, at: datetime = WEEKDAY_MORNING) -> str:
    """Who the app's routing snapshot, as it is (never reloaded here), puts first."""
    candidates = route(app.state.directory.current, Query("kk", "KZ", Need.DANGER, at))
    return next(c.slug for c in candidates if c.is_open)
