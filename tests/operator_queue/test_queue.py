"""The operator queue: ordering, organisation scope, claims, audit."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc, select

from app import db
from app.audit.models import AuditEvent
from app.cases.models import Case
from app.operator_queue import service as queue_service
from app.organisations import service as organisations
from app.users import service as users
from app.users.models import Role, User
from tests.conftest import WEEKDAY_MORNING, make_settings
from tests.factories import make_case
from tests.users.people import PASSWORD, make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
HOME, OTHER = "kz-almaty-shelter", "tj-dushanbe-shelter"


def at(minutes: int) -> datetime:
    return datetime(2026, 11, 23, 6, 0, tzinfo=UTC) + timedelta(minutes=minutes)


def test_queue_is_child_then_urgent_then_normal_oldest_first(client, session):
    made = [make_case(session, HOME, priority=p, created_at=at(m), reference=f"HL-{n}")
            for n, (p, m) in enumerate([("normal", 1), ("urgent", 5), ("child", 9),
                                        ("urgent", 2), ("normal", 0)])]
    make_case(session, OTHER, priority="child", reference="HL-X")
    person = make_person(client, session, "aigerim")
    listed = client.get("/api/cases", headers=person.headers).json()
    assert [c["reference"] for c in listed] == ["HL-2", "HL-3", "HL-1", "HL-4", "HL-0"]
    assert len(made) == 5


@pytest.mark.parametrize(("method", "path"), [
    ("get", ""), ("post", "/claim"), ("post", "/release")])
def test_another_organisations_case_is_not_found_for_every_verb(client, session, method,
                                                                path):
    foreign = make_case(session, OTHER)
    person = make_person(client, session, "aigerim")
    response = getattr(client, method)(f"/api/cases/{foreign.id}{path}", headers=person.headers)
    assert response.status_code == 404
    missing = getattr(client, method)(f"/api/cases/{foreign.id.hex[:-4]}abcd{path}",
                                      headers=person.headers)
    assert missing.status_code == 404 and missing.json() == response.json()


def test_only_operators_work_cases(client, session):
    case = make_case(session, HOME)
    coordinator = make_person(client, session, "coord", Role.COORDINATOR)
    admin = make_person(client, session, "admin", Role.ADMIN)
    for person in (coordinator, admin):
        assert client.get("/api/cases", headers=person.headers).status_code == 403
        assert client.get(f"/api/cases/{case.id}", headers=person.headers).status_code == 403
    assert client.get("/api/cases").status_code == 401
    assert client.get("/api/cases", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_claimed_case_cannot_be_claimed_by_a_colleague(client, session):
    case = make_case(session, HOME)
    first, second = (make_person(client, session, n) for n in ("aigerim", "daniyar"))
    claimed = client.post(f"/api/cases/{case.id}/claim", headers=first.headers)
    assert claimed.status_code == 200 and claimed.json()["claimed_by_me"]
    refused = client.post(f"/api/cases/{case.id}/claim", headers=second.headers)
    assert refused.status_code == 409
    assert client.post(f"/api/cases/{case.id}/release", headers=second.headers
                       ).status_code == 409
    assert client.post(f"/api/cases/{case.id}/release", headers=first.headers
                       ).status_code == 200
    assert client.post(f"/api/cases/{case.id}/claim", headers=second.headers
                       ).status_code == 200


def test_an_idle_claim_lapses(app, client, session, settings):
    case = make_case(session, HOME)
    first, second = (make_person(client, session, n) for n in ("aigerim", "daniyar"))
    client.post(f"/api/cases/{case.id}/claim", headers=first.headers)
    app.state.clock = lambda: WEEKDAY_MORNING + timedelta(minutes=settings.claim_idle_minutes - 1)
    assert client.post(f"/api/cases/{case.id}/claim", headers=second.headers
                       ).status_code == 409
    app.state.clock = lambda: WEEKDAY_MORNING + timedelta(minutes=settings.claim_idle_minutes + 1)
    listed = client.get("/api/cases", headers=second.headers).json()
    assert listed[0]["claimed"] is False
    assert client.post(f"/api/cases/{case.id}/claim", headers=second.headers
                       ).status_code == 200


def test_claim_next_takes_the_most_urgent_case(client, session):
    make_case(session, HOME, priority="normal", created_at=at(0))
    urgent = make_case(session, HOME, priority="urgent", created_at=at(5))
    person = make_person(client, session, "aigerim")
    assert client.post("/api/cases/claim-next", headers=person.headers
                       ).json()["id"] == str(urgent.id)
    client.post("/api/cases/claim-next", headers=person.headers)
    assert client.post("/api/cases/claim-next", headers=person.headers).status_code == 404


def test_views_and_claims_are_audited_and_only_admins_read_the_log(client, session):
    case = make_case(session, HOME)
    person = make_person(client, session, "aigerim")
    admin = make_person(client, session, "admin", Role.ADMIN)
    client.get(f"/api/cases/{case.id}", headers=person.headers)
    client.post(f"/api/cases/{case.id}/claim", headers=person.headers)
    log = client.get("/api/audit", params={"case_id": str(case.id)}, headers=admin.headers)
    assert [(e["username"], e["action"]) for e in log.json()] == [
        ("aigerim", "case.claim"), ("aigerim", "case.view")]
    assert client.get("/api/audit", headers=person.headers).status_code == 403


def test_the_audit_log_refuses_changes(client, session):
    case = make_case(session, HOME)
    person = make_person(client, session, "aigerim")
    client.get(f"/api/cases/{case.id}", headers=person.headers)
    entry = session.scalars(select(AuditEvent)).first()
    entry.action = "nothing to see"
    with pytest.raises(PermissionError):
        session.flush()


def test_fifty_operators_claim_a_thousand_cases_each_exactly_once(fresh_database_url):
    db.upgrade(fresh_database_url)
    settings = make_settings(fresh_database_url)
    # Fifty threads share one engine's forty connections: waiting for one is expected here.
    engine = db.make_engine(fresh_database_url, pool_timeout=60)
    make_session = db.make_sessionmaker(engine)
    with make_session() as session, session.begin():
        organisations.load_demo_if_empty(session)
        for n in range(1000):
            make_case(session, HOME, priority=("child", "urgent", "normal")[n % 3],
                      created_at=at(n % 97), reference=f"HL-{n:06d}")
        operators = [users.create_user(session, f"op{n}", PASSWORD, Role.OPERATOR, HOME)
                     for n in range(50)]
    claims: dict[int, list] = {op.id: [] for op in operators}

    def work(operator_id: int) -> None:
        while True:
            try:
                with make_session() as session, session.begin():
                    user = session.get_one(User, operator_id)
                    case = queue_service.claim_next(session, settings, user, WEEKDAY_MORNING)
                    if case is None:
                        return
                    case_id = case.id
            except exc.OperationalError:
                # SQLite has one writer at a time and its busy handler is not fair: on a
                # loaded machine a thread can wait past the 5 s lock timeout. Nothing was
                # claimed then, and trying again is what an operator would do.
                if not fresh_database_url.startswith("sqlite"):
                    raise
                continue
            claims[operator_id].append(case_id)  # only once committed

    threads = [threading.Thread(target=work, args=(op.id,)) for op in operators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [case_id for ids in claims.values() for case_id in ids]
    with make_session() as session:
        all_ids = set(session.scalars(select(Case.id)))
    engine.dispose()
    assert len(claimed) == len(set(claimed)) == 1000 and set(claimed) == all_ids
    assert sum(1 for ids in claims.values() if ids) > 1  # the work was really shared


def test_the_database_itself_refuses_to_change_the_audit_log(client, session):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    case = make_case(session, HOME)
    person = make_person(client, session, "aigerim")
    client.get(f"/api/cases/{case.id}", headers=person.headers)
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(statement))


def test_a_claim_is_stored_before_the_operator_is_told_it_succeeded(app, session):
    """If storing the claim fails, the operator gets an error, never a 200 for a case that
    is still anyone's (the session used to commit after the response had gone out): a 503
    that asks them to check before they repeat it."""
    case = make_case(session, HOME)
    joined = app.state.sessionmaker

    def failing_commit() -> object:
        request_session = joined()
        request_session.commit = _refuse  # type: ignore[method-assign]
        return request_session

    with TestClient(app, raise_server_exceptions=False) as client:
        person = make_person(client, session, "aigerim")
        app.state.sessionmaker = failing_commit
        answer = client.post(f"/api/cases/{case.id}/claim", headers=person.headers)
    assert answer.status_code == 503
    assert "check whether it was saved" in answer.json()["detail"]


def _refuse() -> None:
    raise exc.OperationalError("COMMIT", {}, Exception("the database went away"))
