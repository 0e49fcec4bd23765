"""Two-factor login in the console: the second step, enrolment where it is required, and
the cookies and headers under an https or http public URL."""

import re

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.main import create_app
from app.organisations.models import Organisation
from app.users import service as users
from app.users.models import AuthToken, Role, User
from tests.conftest import WEEKDAY_MORNING, make_settings, use_sessions
from tests.console.helpers import (
    BASE_URL,
    HOME,
    PASSWORD,
    Console,
    form_token,
    login_post,
    make_user,
)
from tests.users import authenticator

pytestmark = pytest.mark.usefixtures("demo_directory")
SECRET = re.compile(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<')


def password_step(browser: TestClient, username: str):
    token = form_token(browser.get("/console/login").text)
    answer = browser.post("/console/login", follow_redirects=False,
                          data={"username": username, "password": PASSWORD,
                                "csrf_token": token})
    return answer, token


def test_a_user_with_two_factor_gets_no_session_before_the_code(app, session):
    make_user(session, "aigerim")
    user = session.scalars(select(User).where(User.username == "aigerim")).one()
    secret = authenticator.enrol(session, app.state.settings, user, WEEKDAY_MORNING)
    session.commit()
    browser = TestClient(app, base_url=BASE_URL)
    answer, token = password_step(browser, "aigerim")
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/login/code")
    assert "hotline_session" not in str(answer.headers.get_list("set-cookie"))
    assert session.scalars(select(AuthToken)).all() == []
    assert browser.get("/console", follow_redirects=False).headers["location"] == (
        "/console/login")
    page = browser.get("/console/login/code")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text
    wrong = browser.post("/console/login/code", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 401 and "wrong or was already used" in wrong.text
    forged = browser.post("/console/login/code", follow_redirects=False,
                          data={"code": pyotp.TOTP(secret).at(WEEKDAY_MORNING),
                                "csrf_token": "forged"})
    assert forged.status_code == 403
    right = browser.post("/console/login/code", follow_redirects=False,
                         data={"code": pyotp.TOTP(secret).at(WEEKDAY_MORNING),
                               "csrf_token": token})
    assert (right.status_code, right.headers["location"]) == (303, "/console")
    assert browser.get("/console").status_code == 200


def test_the_second_step_without_a_pending_sign_in_goes_back_to_the_password(app, client):
    answer = client.get("/console/login/code", follow_redirects=False)
    assert answer.headers["location"] == "/console/login?error=login-expired"
    assert "took too long" in client.get(answer.headers["location"]).text


def test_wrong_codes_lock_the_account_like_wrong_passwords(app, session):
    make_user(session, "aigerim")
    user = session.scalars(select(User).where(User.username == "aigerim")).one()
    secret = authenticator.enrol(session, app.state.settings, user, WEEKDAY_MORNING)
    session.commit()
    browser = TestClient(app, base_url=BASE_URL)
    _, token = password_step(browser, "aigerim")
    for guess in ("000001", "123456", "999999", "424242", "131313"):
        browser.post("/console/login/code", data={"code": guess, "csrf_token": token})
    locked = browser.post("/console/login/code",
                          data={"code": pyotp.TOTP(secret).at(WEEKDAY_MORNING),
                                "csrf_token": token})
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text


@pytest.mark.parametrize("role", [Role.ADMIN, Role.COORDINATOR])
def test_admins_and_coordinators_must_enrol_before_anything_else(app, session, role):
    make_user(session, "someone", role)
    browser = TestClient(app, base_url=BASE_URL)
    answer, _ = password_step(browser, "someone")
    assert answer.headers["location"] == "/console/two-factor"
    for path in ("/console/admin", "/console/stats", "/console/coordinator"):
        assert browser.get(path, follow_redirects=False).headers["location"] == (
            "/console/two-factor")
    page = browser.get("/console/two-factor")
    assert "required" in page.text
    csrf = form_token(page.text)
    page = browser.post("/console/two-factor/begin", data={"csrf_token": csrf})
    assert '<svg' in page.text and "<script" not in page.text.replace(
        '<script src="/console/console.js" defer></script>', "")
    secret = SECRET.search(page.text).group(1).replace(" ", "")
    wrong = browser.post("/console/two-factor/confirm", follow_redirects=False,
                         data={"code": "000000", "csrf_token": csrf})
    assert wrong.headers["location"] == "/console/two-factor?error=2fa-code"
    done = browser.post("/console/two-factor/confirm",
                        data={"code": pyotp.TOTP(secret).at(WEEKDAY_MORNING),
                              "csrf_token": csrf})
    codes = re.findall(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4})</code></li>", done.text)
    assert len(codes) == 10 and done.headers["cache-control"] == "no-store"
    home = "/console/admin" if role is Role.ADMIN else "/console/stats"
    assert browser.get(home).status_code == 200
    assert "Recovery codes left: 10" in browser.get("/console/two-factor").text
    assert not all(code in browser.get("/console/two-factor").text for code in codes)


@pytest.mark.parametrize("required", [False, True])
def test_operators_enrol_only_when_their_organisation_requires_it(app, session, required):
    session.scalars(select(Organisation).where(Organisation.slug == HOME)
                    ).one().require_2fa = required
    make_user(session, "aigerim")
    answer, _ = password_step(TestClient(app, base_url=BASE_URL), "aigerim")
    assert answer.headers["location"] == ("/console/two-factor" if required else "/console")


def test_an_operator_turns_it_off_where_not_required(app, session):
    make_user(session, "aigerim")
    user = session.scalars(select(User).where(User.username == "aigerim")).one()
    secret = authenticator.enrol(session, app.state.settings, user, WEEKDAY_MORNING)
    session.commit()
    client = TestClient(app, base_url=BASE_URL)
    assert login_post(client, "aigerim").headers["location"] == "/console"
    console = Console(client, "aigerim", form_token(client.get("/console/two-factor").text))
    assert 'name="code" required' in client.get("/console/two-factor").text
    code = authenticator.code_for(app, "aigerim")
    assert console.post("/console/two-factor/disable", {"code": code},
                        csrf="forged").status_code == 403
    wrong = console.post("/console/two-factor/disable", {"code": "123"})
    assert wrong.headers["location"] == "/console/two-factor?error=2fa-code"
    off = console.post("/console/two-factor/disable", {"code": code})
    assert off.headers["location"] == "/console/two-factor?done=2fa-off"
    assert secret not in client.get("/console/two-factor").text
    session.expire_all()
    assert session.scalars(select(User.totp_confirmed_at).where(User.username == "aigerim")
                           ).one() is None


def app_at(database_url, connection, public_url: str):
    app = create_app(make_settings(database_url, public_url=public_url))
    use_sessions(app, lambda: Session(bind=connection, join_transaction_mode="create_savepoint",
                                      expire_on_commit=False))
    app.state.clock = lambda: WEEKDAY_MORNING
    return app


def test_https_cookies_are_secure_and_host_only_with_hsts(database_url, connection, session):
    app = app_at(database_url, connection, "https://hotline.example.org")
    users.create_user(session, "aigerim", PASSWORD, Role.OPERATOR, HOME)
    session.commit()
    browser = TestClient(app, base_url=BASE_URL)
    answer, _ = password_step(browser, "aigerim")
    cookie = [c for c in answer.headers.get_list("set-cookie")
              if c.startswith("__Host-hotline_session=")]
    assert len(cookie) == 1 and "; secure" in cookie[0].lower() and "; Path=/;" in cookie[0]
    assert "domain" not in cookie[0].lower()
    for response in (answer, browser.get("/console"), browser.get("/healthz")):
        assert response.headers["strict-transport-security"] == (
            "max-age=31536000; includeSubDomains")
        assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in browser.get("/console").headers["content-security-policy"]


def test_http_keeps_plain_cookies_so_a_local_run_signs_in(database_url, connection, session):
    app = app_at(database_url, connection, "http://127.0.0.1:8000")
    users.create_user(session, "aigerim", PASSWORD, Role.OPERATOR, HOME)
    session.commit()
    browser = TestClient(app, base_url="http://127.0.0.1:8000")
    answer, _ = password_step(browser, "aigerim")
    cookie = [c for c in answer.headers.get_list("set-cookie")
              if c.startswith("hotline_session=")]
    assert len(cookie) == 1 and "secure" not in cookie[0].lower()
    page = browser.get("/console")
    assert page.status_code == 200 and "strict-transport-security" not in page.headers
    assert page.headers["x-frame-options"] == "DENY"
