"""The audit log's hash chain: real entries verify; edits, deletions and forks are found.

These tests use a database of their own with committed data (not the rolled-back test
transaction), so ``hotline audit verify`` reads it through its own connection, as an
administrator would.
"""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from app import cli, db
from app.audit import chain
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.cases.models import Case, CasePriority
from app.config import get_settings
from app.db import UTCDateTime
from app.main import create_app
from app.organisations import service as organisations
from app.users import service as users
from app.users.models import Role, User
from tests.conftest import configure_cli, make_settings
from tests.factories import make_case
from tests.users.people import PASSWORD, Person, make_person

KEY = "audit-key-for-the-tests-" + "k" * 32
# Microseconds and an offset other than UTC: the hash must survive both backends' storage.
AT = datetime(2026, 11, 23, 13, 0, 0, 123456, tzinfo=ZoneInfo("Asia/Almaty"))
HOME = "kz-almaty-shelter"


@dataclass
class Live:
    app: FastAPI
    client: TestClient
    url: str

    def session(self) -> Session:
        return self.app.state.sessionmaker()

    def person(self, username: str, role: Role = Role.OPERATOR) -> Person:
        with self.session() as session:
            return make_person(self.client, session, username, role)

    def cases(self, n: int) -> list[str]:
        with self.session() as session:
            made = [str(make_case(session, HOME).id) for _ in range(n)]
            session.commit()
        return made

    def entries(self) -> list[AuditEvent]:
        with self.session() as session:
            return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


@pytest.fixture
def live(fresh_database_url, monkeypatch, tmp_path) -> Iterator[Live]:
    """The service on a database of its own, and ``hotline`` configured for it."""
    db.upgrade(fresh_database_url)
    settings = make_settings(fresh_database_url, audit_key=KEY, data_dir=tmp_path)
    configure_cli(monkeypatch, settings)
    get_settings.cache_clear()
    app = create_app(settings)
    app.state.clock = lambda: AT
    with app.state.sessionmaker() as session:
        organisations.load_demo_if_empty(session)
        session.commit()
    with TestClient(app) as client:
        yield Live(app, client, fresh_database_url)
    get_settings.cache_clear()


def verify(capsys) -> tuple[int, str]:
    code = cli.main(["audit", "verify"])
    return code, capsys.readouterr().out


SIGN_INS = ["auth.login"] * 3
WORK = ["case.view", "case.claim", "case.view", "case.claim", "case.screening",
        "case.release", "stats.table"]


def casework(live: Live) -> list[AuditEvent]:
    """Three people sign in (each sign-in is audited); two operators view, claim and release
    cases; a coordinator asks for statistics. Returns every entry, sign-ins first."""
    first, second = live.cases(2)
    aigerim, dana = live.person("aigerim"), live.person("dana")
    coordinator = live.person("gulnara", Role.COORDINATOR)
    for person, case in ((aigerim, first), (dana, second)):
        live.client.get(f"/api/cases/{case}", headers=person.headers)
        assert live.client.post(f"/api/cases/{case}/claim",
                                headers=person.headers).status_code == 200
    live.client.put(f"/api/cases/{first}/screening", headers=aigerim.headers,
                    json={"gender": "Feminine", "citizenship": ["KZ", "UZ"]})
    live.client.post(f"/api/cases/{second}/release", headers=dana.headers)
    # One country: several would make a new sum of countries (refused, docs/statistics.md).
    assert live.client.get("/api/stats?group_by=language&country=KZ",
                           headers=coordinator.headers).status_code == 200
    return live.entries()


def tamper(engine: Engine, statement: str) -> None:
    """Change the audit log as the database's owner can, past the append-only triggers."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        connection.execute(text(statement))


@pytest.fixture
def owner(live) -> Iterator[Engine]:
    engine = db.make_engine(live.url)
    yield engine
    engine.dispose()


def test_entries_made_through_the_api_form_one_intact_chain(live, capsys):
    entries = casework(live)
    assert [e.action for e in entries] == SIGN_INS + WORK
    assert entries[0].prev_hash == chain.GENESIS
    assert all(later.prev_hash == earlier.entry_hash
               for earlier, later in pairwise(entries))
    code, out = verify(capsys)
    assert code == 0
    assert f"audit log intact: 10 entries checked; last #{entries[-1].id}" in out


def test_an_entry_edited_in_the_database_is_named(live, owner, capsys):
    entries = casework(live)[len(SIGN_INS):]
    claim = entries[3]
    tamper(owner, f"UPDATE audit_events SET username = 'aigerim' WHERE id = {claim.id}")
    code, out = verify(capsys)
    assert code == 1
    assert (f"broken at entry #{claim.id} (2026-11-23T08:00:00.123456+00:00, case.claim): "
            "content changed") in out
    assert "6 entries checked before it, intact" in out


def test_an_editor_without_the_key_cannot_reseal_the_chain(live, owner, capsys):
    """Recomputing every hash after the edit, as one could for a plain SHA-256 chain, does
    not hide it: the seal is keyed."""
    entries = casework(live)
    screening = entries[len(SIGN_INS) + 4]
    tamper(owner, f"UPDATE audit_events SET detail = '{{\"fields\": []}}' "
                  f"WHERE id = {screening.id}")
    with live.session() as session:
        edited = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    at = len(SIGN_INS) + 4
    previous = edited[at - 1].entry_hash
    for entry in edited[at:]:
        entry.prev_hash = previous
        previous = chain.seal(entry, b"")
        tamper(owner, f"UPDATE audit_events SET prev_hash = '{entry.prev_hash}', "
                      f"entry_hash = '{previous}' WHERE id = {entry.id}")
    code, out = verify(capsys)
    assert code == 1
    assert f"broken at entry #{screening.id} " in out and "content changed" in out


def test_a_deleted_entry_is_found(live, owner, capsys):
    entries = casework(live)[len(SIGN_INS):]
    tamper(owner, f"DELETE FROM audit_events WHERE id = {entries[2].id}")
    code, out = verify(capsys)
    assert code == 1
    assert f"broken at entry #{entries[3].id} " in out
    assert (f"entry missing: one or more entries between entry #{entries[1].id} and this one "
            "were removed") in out
    assert "5 entries checked before it, intact" in out


def test_entries_deleted_from_the_start_are_found(live, owner, capsys):
    entries = casework(live)
    tamper(owner, f"DELETE FROM audit_events WHERE id IN ({entries[0].id}, {entries[1].id})")
    code, out = verify(capsys)
    assert code == 1
    assert f"broken at entry #{entries[2].id} " in out
    assert "entry missing: one or more entries between the start and this one" in out


def test_a_changed_link_is_told_apart_from_changed_content(live, owner, capsys):
    entries = casework(live)[len(SIGN_INS):]
    tamper(owner, f"UPDATE audit_events SET prev_hash = '{'f' * 64}' "
                  f"WHERE id = {entries[5].id}")
    code, out = verify(capsys)
    assert code == 1
    assert f"broken at entry #{entries[5].id} " in out
    assert "link broken: its link to the entry before it was changed" in out


def test_entries_of_a_rolled_back_transaction_are_never_written(live, capsys):
    person = live.person("aigerim")
    with live.session() as session:
        user = session.scalars(select(User).where(User.username == person.username)).one()
        audit.record(session, user, "case.view", AT)
        session.rollback()
        audit.record(session, user, "queue.view", AT, count=0)
        session.commit()
    assert [e.action for e in live.entries()] == ["auth.login", "queue.view"]
    assert verify(capsys)[0] == 0


def test_concurrent_appends_from_many_connections_form_one_chain(fresh_database_url):
    """Sixteen threads, each with its own connection (as processes would have), append at
    once; without the lock two of them would link to the same entry and one would fail."""
    db.upgrade(fresh_database_url)
    engine = db.make_engine(fresh_database_url, pool_timeout=60)
    make_session = db.make_sessionmaker(engine, info=chain.sealing(KEY))
    with make_session() as session, session.begin():
        user_id = users.create_user(session, "root", PASSWORD, Role.ADMIN, None).id
    failures: list[BaseException] = []
    start = threading.Barrier(16)

    def work(n: int) -> None:
        start.wait()
        try:
            for i in range(10):
                with make_session() as session, session.begin():
                    user = session.get_one(User, user_id)
                    audit.record(session, user, "queue.view", AT, thread=n, round=i)
                    audit.record(session, user, "case.view", AT, thread=n, round=i)
        except BaseException as exc:  # reported below, with the thread's failure
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with make_session() as session:
        verdict = chain.verify(session, KEY.encode())
        pairs = session.execute(select(AuditEvent.action, AuditEvent.detail)
                                .order_by(AuditEvent.id)).all()
    engine.dispose()
    assert failures == []
    assert verdict.broken is None and verdict.checked == 320
    # A transaction's entries stay together in the chain.
    assert all(pairs[i].detail == pairs[i + 1].detail and pairs[i].action == "queue.view"
               for i in range(0, 320, 2))


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_transaction_waiting_for_a_row_never_holds_up_the_chain(fresh_database_url):
    """Two operators' transactions touch one case. The one that must wait for the other's
    row lock waits before taking the chain's lock: were it to take the chain's lock first,
    the other could not append its entry, and PostgreSQL would end one with a deadlock."""
    db.upgrade(fresh_database_url)
    engine = db.make_engine(fresh_database_url)
    make_session = db.make_sessionmaker(engine, info=chain.sealing(KEY))
    with make_session() as session, session.begin():
        organisations.load_demo_if_empty(session)
        user_id = users.create_user(session, "root", PASSWORD, Role.ADMIN, None).id
        case_id = make_case(session, HOME).id
    holder, waiter = make_session(), make_session()
    holder.get_one(Case, case_id).priority = CasePriority.URGENT
    holder.flush()  # the holder now has the case's row lock
    audit.record(holder, holder.get_one(User, user_id), "case.view", AT, case_id=case_id)
    audit.record(waiter, waiter.get_one(User, user_id), "case.view", AT, case_id=case_id)
    waiter.get_one(Case, case_id).child = True  # written at commit: it must wait
    failures: list[BaseException] = []

    def commit_waiter() -> None:
        try:
            waiter.commit()
        except BaseException as exc:  # reported below
            failures.append(exc)

    thread = threading.Thread(target=commit_waiter)
    thread.start()
    waiting_for_the_row(engine)
    holder.commit()
    thread.join(timeout=30)
    with make_session() as session:
        verdict = chain.verify(session, KEY.encode())
        stored = session.get_one(Case, case_id)
    holder.close(), waiter.close(), engine.dispose()
    assert failures == []
    assert verdict.broken is None and verdict.checked == 2
    assert stored.priority is CasePriority.URGENT and stored.child


def waiting_for_the_row(engine: Engine) -> None:
    """Until another connection to this database waits for a lock (at most 10 s)."""
    for _ in range(200):
        with engine.connect() as connection:
            if connection.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()")):
                return
        time.sleep(0.05)
    pytest.fail("the second transaction never waited for the row")


USERS = sa.table("users", sa.column("username"), sa.column("password_hash"),
                 sa.column("role"), sa.column("active", sa.Boolean()),
                 sa.column("created_at", UTCDateTime()))
OLD_AUDIT = sa.table("audit_events", sa.column("at", UTCDateTime()), sa.column("user_id"),
                     sa.column("username"), sa.column("role"), sa.column("action"),
                     sa.column("detail", sa.JSON()))


def test_existing_entries_are_chained_by_the_migration(fresh_database_url, monkeypatch,
                                                       tmp_path):
    config = db.alembic_config(fresh_database_url)
    command.upgrade(config, "0009")
    engine = db.make_engine(fresh_database_url)
    with engine.begin() as connection:  # what the service wrote before the chain existed
        user_id = connection.execute(sa.insert(USERS).values(
            username="root", password_hash="x", role="admin", active=True,
            created_at=AT).returning(sa.column("id"))).scalar_one()
        connection.execute(sa.insert(OLD_AUDIT), [
            {"at": AT.replace(month=n + 1, microsecond=n), "user_id": user_id,
             "username": "root", "role": "admin", "action": action,
             "detail": {"count": n, "query": {"country": ["KZ"], "сколько": None}}}
            for n, action in enumerate(("user.create", "queue.view", "stats.table"))])
    monkeypatch.setenv("HOTLINE_AUDIT_KEY", KEY)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    command.upgrade(config, "head")
    with db.make_sessionmaker(engine, info=chain.sealing(KEY))() as session:
        assert chain.verify(session, KEY.encode()).checked == 3
        audit.record(session, session.get_one(User, user_id), "queue.view", AT, count=0)
        session.commit()
        verdict = chain.verify(session, KEY.encode())
    engine.dispose()
    assert verdict.broken is None and verdict.checked == 4
