"""Signing in: passwords, rate limits, tokens."""

from datetime import timedelta

import pytest

from app.users import service as users
from app.users.models import Role, User
from tests.conftest import WEEKDAY_MORNING
from tests.users.people import PASSWORD, make_person

pytestmark = pytest.mark.usefixtures("demo_directory")


def login(client, username, password=PASSWORD):
    return client.post("/api/auth/token", data={"username": username, "password": password})


def test_password_is_stored_as_an_argon2_hash(client, session):
    make_person(client, session, "aigerim")
    user = session.query(User).filter_by(username="aigerim").one()
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_a_token_signs_in_and_says_who_you_are(client, session):
    person = make_person(client, session, "aigerim")
    me = client.get("/api/auth/me", headers=person.headers).json()
    assert me["username"] == "aigerim" and me["role"] == "operator"


def test_wrong_password_and_unknown_user_look_the_same(client, session):
    make_person(client, session, "aigerim")
    wrong, unknown = login(client, "aigerim", "nope"), login(client, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_an_account_is_locked_for_a_while_after_five_failures(app, client, session):
    make_person(client, session, "aigerim")
    for _ in range(5):
        assert login(client, "aigerim", "guess").status_code == 401
    locked = login(client, "aigerim")
    assert locked.status_code == 429 and locked.headers["Retry-After"]
    app.state.clock = lambda: WEEKDAY_MORNING + timedelta(minutes=16)
    assert login(client, "aigerim").status_code == 200


def test_one_address_cannot_try_many_accounts(client, session):
    make_person(client, session, "aigerim")
    for n in range(20):
        login(client, f"user{n}", "guess")
    assert login(client, "aigerim").status_code == 429


def test_tokens_expire(app, client, session):
    person = make_person(client, session, "aigerim")
    app.state.clock = lambda: WEEKDAY_MORNING + timedelta(hours=13)
    assert client.get("/api/auth/me", headers=person.headers).status_code == 401


def test_a_deactivated_user_is_signed_out(client, session):
    person = make_person(client, session, "aigerim")
    session.query(User).filter_by(username="aigerim").one().active = False
    session.commit()
    assert client.get("/api/auth/me", headers=person.headers).status_code == 401
    assert login(client, "aigerim").status_code == 401


def test_users_need_a_long_password_and_operators_an_organisation(session):
    with pytest.raises(users.UserError, match="at least 12"):
        users.create_user(session, "x", "short", Role.ADMIN, None)
    with pytest.raises(users.UserError, match="--org"):
        users.create_user(session, "x", PASSWORD, Role.OPERATOR, None)
    with pytest.raises(users.UserError, match="no organisation"):
        users.create_user(session, "x", PASSWORD, Role.OPERATOR, "nowhere")
