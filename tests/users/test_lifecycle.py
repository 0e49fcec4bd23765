"""Users after they are created: deactivated (every session ended for good), reactivated,
passwords reset (one-time ones must be changed), roles changed; an organisation's admin
manages only its own; every change audited."""

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.users import service as users
from app.users.models import Role, User
from tests.users import authenticator
from tests.users.people import PASSWORD, Person, make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
NEW_PASSWORD = "a brand new passphrase 42"


def login(client, username, password=PASSWORD):
    return client.post("/api/auth/token", data={"username": username, "password": password})


def bearer(response) -> dict[str, str]:
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def org_admin(client, session, username: str, organisation: str) -> Person:
    users.create_user(session, username, PASSWORD, Role.ADMIN, organisation)
    session.commit()
    authenticator.enrol_if_required(session, client.app, username)  # admins must
    answer = client.post("/api/auth/token", data={
        "username": username, "password": PASSWORD,
        "otp": authenticator.code_for(client.app, username)})
    return Person(username, Role.ADMIN, organisation, bearer(answer))


def actions(session, username: str) -> list[str]:
    return [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if e.detail.get("username") == username and e.action.startswith("user.")]


def test_deactivation_ends_every_session_and_reactivation_revives_none(client, session):
    admin = make_person(client, session, "root", Role.ADMIN)
    aigerim = make_person(client, session, "aigerim")
    second_session = bearer(login(client, "aigerim"))
    answer = client.post("/api/users/aigerim/deactivate", headers=admin.headers)
    assert answer.status_code == 200 and answer.json()["active"] is False
    for headers in (aigerim.headers, second_session):
        assert client.get("/api/cases", headers=headers).status_code == 401
    assert login(client, "aigerim").status_code == 401
    assert client.post("/api/users/aigerim/reactivate", headers=admin.headers).json()["active"]
    for headers in (aigerim.headers, second_session):  # old tokens stay dead
        assert client.get("/api/cases", headers=headers).status_code == 401
    assert login(client, "aigerim").status_code == 200
    assert actions(session, "aigerim") == ["user.deactivate", "user.reactivate"]


def test_a_one_time_password_must_be_changed_before_any_work(client, session):
    admin = make_person(client, session, "root", Role.ADMIN)
    make_person(client, session, "aigerim")
    reset = client.post("/api/users/aigerim/password", headers=admin.headers,
                        json={"password": "temporary passphrase 1", "one_time": True})
    assert reset.json()["must_change_password"] is True
    assert login(client, "aigerim").status_code == 401  # the old password is gone
    signed_in = bearer(login(client, "aigerim", "temporary passphrase 1"))
    refused = client.get("/api/cases", headers=signed_in)
    assert refused.status_code == 403 and "new password" in refused.json()["detail"]
    wrong = client.post("/api/auth/password", headers=signed_in,
                        json={"current_password": "guess", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 403
    changed = client.post("/api/auth/password", headers=signed_in,
                          json={"current_password": "temporary passphrase 1",
                                "new_password": NEW_PASSWORD})
    assert changed.status_code == 204
    assert client.get("/api/cases", headers=signed_in).status_code == 200
    assert actions(session, "aigerim") == ["user.password_reset"]
    assert "user.password_change" in [e.action for e in session.scalars(select(AuditEvent))]


def test_changing_ones_password_ends_every_other_session(client, session):
    aigerim = make_person(client, session, "aigerim")
    phone = bearer(login(client, "aigerim"))  # signed in on a second device too
    changed = client.post("/api/auth/password", headers=aigerim.headers,
                          json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 204
    assert client.get("/api/auth/me", headers=aigerim.headers).status_code == 200
    assert client.get("/api/auth/me", headers=phone).status_code == 401
    [entry] = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "user.password_change"))
    assert entry.detail == {"sessions_ended": 1}


def test_roles_change_and_the_last_hotline_admin_stays(client, session):
    admin = make_person(client, session, "root", Role.ADMIN)
    make_person(client, session, "aigerim")
    answer = client.post("/api/users/aigerim/role", headers=admin.headers,
                         json={"role": "coordinator"})
    assert answer.json()["role"] == "coordinator" and answer.json()["organisation"] is None
    back = client.post("/api/users/aigerim/role", headers=admin.headers,
                       json={"role": "operator", "organisation": "tj-dushanbe-shelter"})
    assert back.json()["organisation"] == "tj-dushanbe-shelter"
    me = client.post("/api/users/root/role", headers=admin.headers, json={"role": "operator",
                                                                         "organisation":
                                                                         "kz-almaty-shelter"})
    assert me.status_code == 403 and "last active admin" in me.json()["detail"]
    assert client.post("/api/users/root/deactivate", headers=admin.headers).status_code == 403


def test_an_organisations_admin_manages_only_its_users(client, session):
    local = org_admin(client, session, "kz-admin", "kz-almaty-shelter")
    make_person(client, session, "aigerim")                                   # Almaty
    make_person(client, session, "olga", organisation="ru-moscow-shelter")   # Moscow
    listed = [u["username"] for u in client.get("/api/users", headers=local.headers).json()]
    assert listed == ["aigerim", "kz-admin"]
    assert client.post("/api/users/olga/deactivate",
                       headers=local.headers).status_code == 404
    assert client.post("/api/users/aigerim/deactivate",
                       headers=local.headers).status_code == 200
    coordinator = client.post("/api/users/aigerim/role", headers=local.headers,
                              json={"role": "coordinator"})
    assert coordinator.status_code == 403
    moved = client.post("/api/users/aigerim/role", headers=local.headers,
                        json={"role": "admin", "organisation": "ru-moscow-shelter"})
    assert moved.json()["organisation"] == "kz-almaty-shelter"  # stays in the admin's own


def test_an_admin_resets_a_lost_phones_two_factor_login(client, session, app):
    local = org_admin(client, session, "kz-admin", "kz-almaty-shelter")
    aigerim = make_person(client, session, "aigerim")
    olga = make_person(client, session, "olga", organisation="ru-moscow-shelter")
    for person in (aigerim, olga):
        user = session.scalars(select(User).where(User.username == person.username)).one()
        authenticator.enrol(session, app.state.settings, user, app.state.clock())
    session.commit()
    assert client.post("/api/users/olga/two-factor/reset",
                       headers=local.headers).status_code == 404  # not the admin's to reset
    answer = client.post("/api/users/aigerim/two-factor/reset", headers=local.headers)
    assert answer.status_code == 200 and answer.json()["two_factor"] is False
    assert client.get("/api/auth/me", headers=aigerim.headers).status_code == 401
    assert login(client, "aigerim").status_code == 200  # the password alone, until enrolled
    assert login(client, "olga").status_code == 401     # Moscow's still needs the code
    assert client.post("/api/users/kz-admin/two-factor/reset",
                       headers=local.headers).status_code == 403  # not one's own
    [entry] = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.2fa.reset"))
    assert (entry.username, entry.detail["username"]) == ("kz-admin", "aigerim")


def test_an_organisations_admin_reads_only_its_own_peoples_audit_entries(client, session):
    local = org_admin(client, session, "kz-admin", "kz-almaty-shelter")
    root = make_person(client, session, "root", Role.ADMIN)
    make_person(client, session, "aigerim")
    make_person(client, session, "olga", organisation="ru-moscow-shelter")
    everyone = {e["username"] for e in client.get("/api/audit", headers=root.headers).json()}
    assert {"kz-admin", "root", "aigerim", "olga"} <= everyone
    own = {e["username"] for e in client.get("/api/audit", headers=local.headers).json()}
    assert own == {"kz-admin", "aigerim"}


def test_operators_cannot_manage_users(client, session):
    aigerim = make_person(client, session, "aigerim")
    assert client.get("/api/users", headers=aigerim.headers).status_code == 403


def test_the_command_line_resets_and_deactivates(fresh_database_url, monkeypatch, capsys,
                                                 tmp_path):
    import io

    from app import cli, db
    from app.config import get_settings
    from app.organisations import service as organisations
    from tests.conftest import configure_cli, make_settings

    settings = make_settings(fresh_database_url, data_dir=tmp_path)
    configure_cli(monkeypatch, settings)
    get_settings.cache_clear()
    db.upgrade(fresh_database_url)
    engine = db.make_engine(fresh_database_url)
    with db.make_sessionmaker(engine)() as session, session.begin():
        organisations.load_demo_if_empty(session)
        users.create_user(session, "aigerim", PASSWORD, Role.OPERATOR, "kz-almaty-shelter")
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO(NEW_PASSWORD + "\n"))
        assert cli.main(["user", "reset-password", "--password-stdin", "--one-time",
                         "aigerim"]) == 0
        assert cli.main(["user", "deactivate", "aigerim"]) == 0
        assert cli.main(["user", "deactivate", "nobody"]) == 1
        assert cli.main(["user", "list"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr()
    assert "to be changed at next sign-in" in out.out and "no user 'nobody'" in out.err
    with db.make_sessionmaker(engine)() as session:
        user = session.scalars(select(User).where(User.username == "aigerim")).one()
        assert not user.active and user.must_change_password
        assert users.password_matches(user, NEW_PASSWORD)
        vias = [e.detail.get("via") for e in session.scalars(select(AuditEvent))]
        assert vias == ["command line", "command line"]
    engine.dispose()


def test_sign_ins_failures_and_sign_outs_are_in_the_audit_log(client, session):
    aigerim = make_person(client, session, "aigerim")
    assert login(client, "aigerim", "guess").status_code == 401
    assert client.post("/api/auth/logout", headers=aigerim.headers).status_code == 204
    assert client.get("/api/auth/me", headers=aigerim.headers).status_code == 401
    entries = [(e.action, e.username, e.detail.get("username"))
               for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert entries == [("auth.login", "aigerim", None),
                       ("auth.login_failed", "system", "aigerim"),
                       ("auth.logout", "aigerim", None)]
