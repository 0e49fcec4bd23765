"""The console's sign-in, session cookie, CSRF, roles and output escaping."""

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.cases.models import Case, CaseStatus
from app.main import create_app
from app.organisations.models import Organisation
from app.users.models import AuthToken, Role
from tests.channels.voice.test_voice_safety import dump_all_tables
from tests.conftest import WEEKDAY_MORNING, make_settings, use_sessions
from tests.console.helpers import (
    ABROAD,
    BASE_URL,
    HOME,
    case_url,
    form_token,
    login_post,
    make_user,
    sign_in,
    texted_case,
    without_own_script,
)
from tests.factories import make_case

pytestmark = pytest.mark.usefixtures("demo_directory")


def cookie_header(response, name: str) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(name + "=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def test_login_sets_a_safe_session_cookie_and_opens_the_queue(client, session):
    make_user(session, "aigerim")
    response = login_post(client, "aigerim")
    assert (response.status_code, response.headers["location"]) == (303, "/console")
    cookie = cookie_header(response, "__Host-hotline_session").lower()
    for flag in ("httponly", "samesite=lax", "path=/;", f"max-age={12 * 3600}", "secure"):
        assert flag in cookie + ";"  # Secure: the public URL is https, even in development
    assert "domain" not in cookie
    assert client.get("/console").status_code == 200


def test_the_session_cookie_is_secure_in_production(database_url, connection, session):
    settings = make_settings(database_url, env="production",
                             public_url="https://hotline.example.org")
    app = create_app(settings)
    use_sessions(app, lambda: Session(bind=connection, join_transaction_mode="create_savepoint",
                                      expire_on_commit=False))
    app.state.clock = lambda: WEEKDAY_MORNING
    make_user(session, "aigerim")
    browser = TestClient(app, base_url="https://testserver")
    response = login_post(browser, "aigerim")
    assert response.status_code == 303
    assert "; secure" in cookie_header(response, "__Host-hotline_session").lower()


def test_a_wrong_password_is_said_plainly_and_signs_nobody_in(client, session):
    make_user(session, "aigerim")
    response = login_post(client, "aigerim", "not the password")
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert "hotline_session" not in response.headers.get("set-cookie", "")
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_too_many_attempts_are_refused_with_their_own_message(client, session):
    make_user(session, "aigerim")
    for _ in range(5):
        assert login_post(client, "aigerim", "guess").status_code == 401
    locked = login_post(client, "aigerim")  # even the right password, for a while
    assert locked.status_code == 429 and locked.headers["Retry-After"]
    assert "Too many failed sign-ins" in locked.text
    assert "hotline_session" not in locked.headers.get("set-cookie", "")


def test_the_login_form_needs_its_double_submit_token(client, session):
    make_user(session, "aigerim")
    token = form_token(client.get("/console/login").text)
    data = {"username": "aigerim", "password": "correct horse battery staple"}
    for sent in ({}, {"csrf_token": "forged"}):
        response = client.post("/console/login", data=data | sent, follow_redirects=False)
        assert response.status_code == 403 and "hotline_session" not in str(response.headers)
    client.cookies.clear()  # the token without its cookie: a cross-site form
    response = client.post("/console/login", data=data | {"csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 403
    assert session.scalars(select(AuthToken)).all() == []


@pytest.mark.parametrize("path", ["/console", "/console/admin", "/console/coordinator",
                                  "/console/cases/{case}"])
def test_every_page_sends_a_stranger_to_the_login_form(client, session, path):
    case = make_case(session, HOME)
    session.commit()
    for cookies in ({}, {"__Host-hotline_session": "not-a-session"}):
        client.cookies.clear()
        client.cookies.update(cookies)
        response = client.get(path.format(case=case.id), follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/console/login")


def test_logout_revokes_the_session_and_clears_the_cookie(app, session):
    aigerim = sign_in(app, session, "aigerim")
    assert aigerim.post("/console/logout", csrf="wrong").status_code == 403
    response = aigerim.post("/console/logout")
    assert response.status_code == 303 and response.headers["location"].startswith(
        "/console/login")
    assert '__Host-hotline_session=""' in cookie_header(response, "__Host-hotline_session")
    assert session.scalars(select(AuthToken)).all() == []
    assert aigerim.get("/console", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(("role", "home", "refused"), [
    (Role.OPERATOR, "/console", ["/console/admin", "/console/coordinator"]),
    (Role.ADMIN, "/console/admin", ["/console", "/console/coordinator", "/console/cases/{case}"]),
    (Role.COORDINATOR, "/console/coordinator",
     ["/console", "/console/admin", "/console/cases/{case}"]),
])
def test_each_role_starts_on_its_page_and_is_refused_the_others(app, session, role, home,
                                                                 refused):
    case = make_case(session, HOME)
    make_user(session, "someone", role)
    browser = TestClient(app, base_url=BASE_URL)
    assert login_post(browser, "someone").headers["location"] == home
    assert browser.get(home).status_code == 200
    for path in refused:
        response = browser.get(path.format(case=case.id))
        assert response.status_code == 403, path
        assert "text/html" in response.headers["content-type"]
        assert "not for your role" in response.text


# Every console form with data that would succeed: the CSRF test below proves it does.
VALID_FORMS = {
    "/console/login": None,  # the double-submit cookie, tested above
    "/console/logout": {},
    "/console/claim-next": {},
    "/console/cases/{case_id}/claim": {},
    "/console/cases/{case_id}/release": {},
    "/console/cases/{case_id}/screening": {"gender": "Feminine",
                                           "ilo_indicators": ["deception"]},
    "/console/cases/{case_id}/consent": {"given": "on"},
    "/console/cases/{case_id}/notes": {"text": "She is safe now"},
    "/console/cases/{case_id}/reply": {"body": "We are here"},
    "/console/cases/{case_id}/refer": {"organisation": ABROAD, "service": "Shelter",
                                       "reason": "She is in Moscow"},
    "/console/cases/{case_id}/close": {"status": "Closed"},
    # Tested in tests/console/test_console_casetools.py (need a colleague, a referral).
    "/console/cases/{case_id}/assign": None,
    "/console/cases/{case_id}/referral/accept": None,
    "/console/cases/{case_id}/referral/decline": None,
    "/console/duty": {"on_duty": "1", "phone": "+77010000214"},
    # Tested in tests/telephony/test_callback.py (needs a caller's call-back request).
    "/console/cases/{case_id}/callbacks/{callback_id}/call": None,
    "/console/cases/{case_id}/callbacks/{callback_id}/done": None,
    "/console/admin/users": {"username": "new-operator", "password": "a long passphrase",
                             "role": "operator", "organisation": HOME},
    # Tested in tests/console/test_console_users.py (need a user to act on).
    "/console/admin/users/{user_id}/deactivate": None,
    "/console/admin/users/{user_id}/reactivate": None,
    "/console/admin/users/{user_id}/password": None,
    "/console/admin/users/{user_id}/role": None,
    "/console/admin/users/{user_id}/two-factor/reset": None,
    "/console/password": {"current_password": "correct horse battery staple",
                          "new_password": "a brand new passphrase",
                          "new_password_again": "a brand new passphrase"},
    # Tested in tests/console/test_console_two_factor.py (the login's cookie; a code).
    "/console/login/code": None,
    "/console/two-factor/begin": {},
    "/console/two-factor/confirm": None,
    "/console/two-factor/disable": None,
    "/console/admin/blocks": None,  # tested in tests/test_blocklist.py (needs a block)
    # Tested in tests/console/test_console_directory.py (a whole organisation's form).
    "/console/admin/directory/new": None,
    "/console/admin/directory/{slug}/edit": None,
    "/console/admin/blocks/{block_id}/lift": None,
}


def test_every_console_form_is_in_the_csrf_test(app):
    # Included routers stay nested in app.routes with this FastAPI: walk their contexts.
    posted = {route.path for route in iter_route_contexts(app.routes)
              if route.path.startswith("/console") and "POST" in (route.methods or ())}
    assert posted == set(VALID_FORMS)


@pytest.mark.parametrize("path", [p for p, form in VALID_FORMS.items() if form is not None])
def test_a_form_without_the_session_csrf_token_is_refused_and_changes_nothing(
        app, client, session, settings, path):
    case, organisation = texted_case(client, session, settings)
    user = sign_in(app, session, "boss", Role.ADMIN) if "admin" in path else sign_in(
        app, session, "nurlan", organisation=organisation)
    if not path.endswith(("/claim", "/claim-next")) and "admin" not in path:
        assert user.post(case_url(case, "/claim")).status_code == 303
    url = path.format(case_id=case.id)
    before = dump_all_tables(session)
    one_off = user.csrf[:-1] + ("y" if user.csrf.endswith("x") else "x")
    for csrf in (None, "", "forged-token", one_off, "токен"):
        response = user.post(url, VALID_FORMS[path], csrf=csrf)
        assert response.status_code == 403, (csrf, response.text)
        assert "This form has expired" in response.text
    assert dump_all_tables(session) == before
    accepted = user.post(url, VALID_FORMS[path])
    assert accepted.status_code == 303 and "error=" not in accepted.headers["location"]
    assert dump_all_tables(session) != before  # the same form with the token does change it


def test_hostile_text_is_escaped_everywhere_it_is_shown(app, session):
    hostile = '<script>alert(1)</script>'
    session.execute(update(Organisation).where(Organisation.slug == ABROAD)
                    .values(name=f'Evil <b onmouseover="x()">{hostile}</b>'))
    case = make_case(session, HOME)
    session.commit()
    aigerim = sign_in(app, session, "aigerim")
    aigerim.post(case_url(case, "/claim"))
    aigerim.post(case_url(case, "/notes"), {"text": f"Caller wrote {hostile} & left"})
    page = aigerim.get(case_url(case)).text
    assert "Caller wrote &lt;script&gt;alert(1)&lt;/script&gt; &amp; left" in page
    assert "Evil &lt;b onmouseover=&#34;x()&#34;&gt;&lt;script&gt;" in page  # refer list
    admin = sign_in(app, session, "boss", Role.ADMIN).get("/console/admin").text
    assert "Evil &lt;b onmouseover=" in admin
    for html in (page, admin):
        assert "<script" not in without_own_script(html) and "<b onmouseover" not in html


def test_pages_are_small_and_need_nothing_from_elsewhere(app, client, session):
    case = make_case(session, HOME)
    session.commit()
    aigerim = sign_in(app, session, "aigerim")
    aigerim.post(case_url(case, "/claim"))
    style = client.get("/console/console.css")
    assert style.status_code == 200 and len(style.content) < 4096
    assert "max-age" in style.headers["cache-control"]
    script = client.get("/console/console.js")
    assert script.status_code == 200 and len(script.content) < 8192
    assert script.headers["content-type"].startswith("text/javascript")
    assert "max-age" in script.headers["cache-control"]
    for absent in ("https://", "http://", "eval(", "document.write"):
        assert absent not in script.text
    for path in ("/console", case_url(case)):
        response = aigerim.get(path)
        assert len(response.content) < 40_000
        assert response.headers["cache-control"] == "no-store"
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self';" in policy
        assert "unsafe" not in policy  # no inline script, no eval
        page = without_own_script(response.text).lower()
        for absent in ("<script", 'http-equiv="refresh"', "https://", "http://", "@font-face"):
            assert absent not in page


def test_a_case_of_another_organisation_is_a_404_page(app, session):
    foreign = make_case(session, ABROAD)
    session.commit()
    aigerim = sign_in(app, session, "aigerim")
    before = dump_all_tables(session)
    for response in (aigerim.get(case_url(foreign)), aigerim.post(case_url(foreign, "/claim")),
                     aigerim.get("/console/cases/not-a-case-id")):
        assert response.status_code == 404 and "text/html" in response.headers["content-type"]
        assert "no such case" in response.text
    assert dump_all_tables(session) == before
    assert session.get(Case, foreign.id).status is CaseStatus.QUEUED
