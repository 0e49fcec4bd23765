"""Users managed in the console: the admins' list and per-user page (deactivate, reactivate,
reset a password, change a role), scoped to an organisation's admin, audited, with CSRF;
and the password page a one-time password leads to, and nothing else."""

import html
import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.audit.models import AuditEvent
from app.console.users import SERVICE_REFUSALS
from app.organisations.models import Organisation
from app.users import service as users
from app.users.models import Role, User
from tests.channels.voice.test_voice_safety import dump_all_tables
from tests.console.helpers import (
    ABROAD,
    BASE_URL,
    HOME,
    PASSWORD,
    Console,
    form_token,
    login_post,
    make_user,
    sign_in,
    without_own_script,
)
from tests.factories import make_case
from tests.users import authenticator

pytestmark = pytest.mark.usefixtures("demo_directory")
USERS = "/console/admin/users"
ONE_TIME = "temporary passphrase 1"
OWN = "my very own passphrase"


def flash_of(response) -> str:
    """The message after a form: done, or the refusal (role="alert")."""
    found = re.search(r'<p class="flash (?:done" role="status|error" role="alert)">([^<]*)</p>',
                      response.text)
    return html.unescape(found.group(1).strip()) if found else ""


def user_named(session, username: str) -> User:
    session.expire_all()  # the app committed through its own session
    return session.scalars(select(User).where(User.username == username)).one()


def url(session, username: str, action: str = "") -> str:
    return f"{USERS}/{user_named(session, username).id}{action}"


def signed_in_as(app, username: str, password: str = PASSWORD) -> Console:
    """An existing operator, signed in through the form in a browser of their own."""
    client = TestClient(app, base_url=BASE_URL)
    response = login_post(client, username, password)
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    return Console(client, username, form_token(page.text))


def org_admin(app, session, username: str = "almaty-boss") -> Console:
    """An admin of HOME: signed in as any admin, then moved into the organisation."""
    console = sign_in(app, session, username, Role.ADMIN)
    home_id = session.scalar(select(Organisation.id).where(Organisation.slug == HOME))
    session.execute(update(User).where(User.username == username)
                    .values(organisation_id=home_id))
    session.commit()
    return console


def audited(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_list_shows_each_users_state_on_a_phone_too(app, session):
    make_user(session, "aigerim")
    session.execute(update(User).where(User.username == "aigerim").values(
        on_duty=True, totp_confirmed_at=datetime(2026, 12, 1, tzinfo=UTC)))
    make_user(session, "olga", organisation=ABROAD)
    session.commit()
    boss = sign_in(app, session, "boss", Role.ADMIN)
    page = boss.get(USERS)
    assert page.status_code == 200
    rows = {re.search(r">([^<>]+)</a></td>", row).group(1): row
            for row in re.findall(r"<tr><td.*?</tr>", page.text)}
    assert set(rows) == {"aigerim", "boss", "olga"}  # a hotline admin manages everyone
    cells = re.findall(r'<td data-label="([^"]+)">([^<]*)', rows["aigerim"])
    assert cells[1:] == [("Role", "operator"), ("Organisation", HOME), ("Active", "yes"),
                         ("Last sign-in", "—"), ("Two-factor login", "on"), ("On duty", "yes")]
    assert 'data-label="Two-factor login">off<' in rows["olga"]
    assert '<table class="cards">' in page.text
    assert all("data-label=" in cell for cell in re.findall(r"<td[^>]*>", page.text))
    admin_page = boss.get("/console/admin").text  # the way there, from the nav and the page
    assert admin_page.count(f'href="{USERS}"') == 2


def test_an_organisations_admin_sees_and_touches_only_its_own_users(app, session):
    make_user(session, "aigerim")
    make_user(session, "olga", organisation=ABROAD)
    almaty = org_admin(app, session)
    listed = almaty.get(USERS).text
    assert ">aigerim<" in listed and "olga" not in listed and ">boss<" not in listed
    foreign, missing = url(session, "olga"), f"{USERS}/999999"
    before = dump_all_tables(session)
    for response in (
            almaty.get(foreign), almaty.get(missing),
            almaty.post(foreign + "/deactivate", {"confirm": "yes"}),
            almaty.post(foreign + "/reactivate"),
            almaty.post(foreign + "/password", {"password": ONE_TIME}),
            almaty.post(foreign + "/role", {"role": "admin"}),
            almaty.post(missing + "/deactivate", {"confirm": "yes"})):
        assert response.status_code == 404  # the same as no user: names do not leak
        assert "There is no such user among those you manage." in response.text
        assert "olga" not in response.text
    assert dump_all_tables(session) == before


def test_an_organisations_admin_creates_users_in_its_own_organisation_only(app, session):
    almaty = org_admin(app, session)
    form = almaty.get(USERS).text
    assert 'name="organisation"' not in form and 'value="coordinator"' not in form
    created = almaty.post(USERS, {"username": "dana", "password": "x" * 12,
                                  "role": "operator", "organisation": ABROAD}, follow=True)
    assert flash_of(created) == "User created."
    assert user_named(session, "dana").organisation_id == user_named(
        session, "almaty-boss").organisation_id
    coordinator = almaty.post(USERS, {"username": "cora", "password": "x" * 12,
                                      "role": "coordinator"})
    assert coordinator.status_code == 422 and 'value="cora"' in coordinator.text
    assert "coordinators see the whole hotline: ask a hotline admin" in coordinator.text
    assert session.scalars(select(User).where(User.username == "cora")).all() == []


def test_deactivation_asks_for_the_box_and_ends_every_session_for_good(app, session):
    aigerim = sign_in(app, session, "aigerim")
    boss = sign_in(app, session, "boss", Role.ADMIN)
    page = boss.get(url(session, "aigerim")).text
    assert 'name="confirm" value="yes" required' in page
    before = dump_all_tables(session)
    unticked = boss.post(url(session, "aigerim", "/deactivate"))
    assert unticked.status_code == 422
    assert flash_of(unticked) == ("Tick the box to confirm the deactivation: nothing was "
                                  "changed.")
    assert dump_all_tables(session) == before
    assert aigerim.get("/console").status_code == 200  # still at work

    done = boss.post(url(session, "aigerim", "/deactivate"), {"confirm": "yes"}, follow=True)
    assert flash_of(done) == "The user is deactivated and signed out everywhere."
    gone = aigerim.get("/console", follow_redirects=False)
    assert (gone.status_code, gone.headers["location"]) == (303, "/console/login")
    assert login_post(TestClient(app, base_url=BASE_URL), "aigerim").status_code == 401

    back = boss.post(url(session, "aigerim", "/reactivate"), follow=True)
    assert flash_of(back) == "The user is active again and can sign in."
    assert aigerim.get("/console", follow_redirects=False).status_code == 303  # still dead
    assert signed_in_as(app, "aigerim").get("/console").status_code == 200  # signs in anew
    [off], [on] = audited(session, "user.deactivate"), audited(session, "user.reactivate")
    assert (off.username, off.detail["username"], off.detail["tokens_revoked"]) == (
        "boss", "aigerim", 1)
    assert (on.username, on.detail["username"]) == ("boss", "aigerim")


@pytest.mark.parametrize(("action", "form", "status", "message"), [
    ("/deactivate", {"confirm": "yes"}, 403, "you cannot deactivate yourself"),
    ("/role", {"role": "coordinator"}, 403,
     "this is the hotline's last active admin: make another first"),
    ("/role", {"role": "operator", "organisation": ""}, 422,
     "an operator needs an organisation"),
    ("/password", {"password": "too short"}, 422,
     "the password must have at least 12 characters"),
])
def test_a_refusal_is_said_plainly_and_changes_nothing(app, session, action, form, status,
                                                       message):
    boss = sign_in(app, session, "boss", Role.ADMIN)  # the hotline's only admin
    before = dump_all_tables(session)
    refused = boss.post(url(session, "boss", action), form)
    assert refused.status_code == status
    assert flash_of(refused) == message and message in SERVICE_REFUSALS  # translatable
    assert dump_all_tables(session) == before
    assert boss.get(USERS).status_code == 200  # still an admin, still signed in


def test_an_organisations_admin_cannot_make_a_coordinator(app, session):
    make_user(session, "aigerim")
    almaty = org_admin(app, session)
    before = dump_all_tables(session)
    refused = almaty.post(url(session, "aigerim", "/role"), {"role": "coordinator"})
    assert refused.status_code == 403
    assert flash_of(refused) == "coordinators see the whole hotline: ask a hotline admin"
    assert dump_all_tables(session) == before


def test_a_role_change_moves_the_user_and_is_audited(app, session):
    make_user(session, "aigerim")
    boss = sign_in(app, session, "boss", Role.ADMIN)
    done = boss.post(url(session, "aigerim", "/role"),
                     {"role": "admin", "organisation": ""}, follow=True)
    assert flash_of(done) == "Role changed."
    aigerim = user_named(session, "aigerim")
    assert (aigerim.role, aigerim.organisation_id) == (Role.ADMIN, None)
    [event] = audited(session, "user.role")
    assert event.username == "boss" and event.detail["before"][0] == "operator"
    assert event.detail["after"] == ["admin", None]
    # A coordinator belongs to no organisation, whatever the form had selected.
    boss.post(url(session, "aigerim", "/role"), {"role": "coordinator", "organisation": HOME})
    aigerim = user_named(session, "aigerim")
    assert (aigerim.role, aigerim.organisation_id) == (Role.COORDINATOR, None)


def test_a_one_time_password_leads_to_the_password_page_and_nowhere_else(app, session):
    case = make_case(session, HOME)
    session.commit()
    old_session = sign_in(app, session, "aigerim")
    boss = sign_in(app, session, "boss", Role.ADMIN)
    reset = boss.post(url(session, "aigerim", "/password"), {"password": ONE_TIME},
                      follow=True)
    assert flash_of(reset) == ("Password reset: the user must choose their own at the next "
                               "sign-in.")
    assert "one-time: to be changed at the next sign-in" in reset.text
    assert old_session.get("/console", follow_redirects=False).status_code == 303
    stranger = TestClient(app, base_url=BASE_URL)
    assert login_post(stranger, "aigerim").status_code == 401  # the old password is gone

    aigerim = signed_in_as(app, "aigerim", ONE_TIME)
    before = dump_all_tables(session)
    for response in (aigerim.get("/console", follow_redirects=False),
                     aigerim.get(f"/console/cases/{case.id}", follow_redirects=False),
                     aigerim.get("/console/search", follow_redirects=False),
                     aigerim.post("/console/claim-next"),
                     aigerim.post(f"/console/cases/{case.id}/claim")):
        assert (response.status_code, response.headers["location"]) == (
            303, "/console/password")
    assert dump_all_tables(session) == before  # nothing claimed
    page = aigerim.get("/console/password").text
    assert "An administrator gave you a one-time password." in page

    def change(current: str, new: str, again: str | None = None):
        return aigerim.post("/console/password", {"current_password": current,
                                                  "new_password": new,
                                                  "new_password_again": again or new})

    for refused, status, message in (
            (change("wrong passphrase", OWN), 403, "The current password is wrong."),
            (change(ONE_TIME, OWN, OWN + "!"), 422, "The two new passwords are not the same."),
            (change(ONE_TIME, ONE_TIME), 422,
             "Choose a password different from the current one."),
            (change(ONE_TIME, "too short"), 422,
             "the password must have at least 12 characters")):
        assert (refused.status_code, flash_of(refused)) == (status, message)
    assert dump_all_tables(session) == before
    done = change(ONE_TIME, OWN)
    assert (done.status_code, done.headers["location"]) == (303, "/console?done=password")
    assert flash_of(aigerim.get(done.headers["location"])) == "Your password is changed."
    assert user_named(session, "aigerim").must_change_password is False
    assert signed_in_as(app, "aigerim", OWN).get("/console").status_code == 200
    [reset_event], [change_event] = (audited(session, "user.password_reset"),
                                     audited(session, "user.password_change"))
    assert (reset_event.username, reset_event.detail["one_time"]) == ("boss", True)
    assert change_event.username == "aigerim"
    assert ONE_TIME not in dump_all_tables(session) and OWN not in dump_all_tables(session)


def test_a_user_with_a_one_time_password_can_still_sign_out(app, session):
    make_user(session, "aigerim")
    session.execute(update(User).where(User.username == "aigerim")
                    .values(must_change_password=True))
    session.commit()
    aigerim = signed_in_as(app, "aigerim")
    out = aigerim.post("/console/logout")
    assert out.headers["location"].startswith("/console/login")
    assert aigerim.get("/console/password", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(("action", "form"), [
    ("/deactivate", {"confirm": "yes"}), ("/reactivate", {}),
    ("/password", {"password": ONE_TIME}), ("/role", {"role": "admin", "organisation": ""}),
    ("/two-factor/reset", {}),
])
def test_every_user_form_needs_the_session_csrf_token(app, session, action, form):
    aigerim = sign_in(app, session, "aigerim")
    boss = sign_in(app, session, "boss", Role.ADMIN)
    if action == "/reactivate":
        session.execute(update(User).where(User.username == "aigerim").values(active=False))
        session.commit()
    if action == "/two-factor/reset":
        authenticator.enrol(session, app.state.settings, user_named(session, "aigerim"),
                            app.state.clock())
        session.commit()
    target = url(session, "aigerim", action)
    before = dump_all_tables(session)
    for csrf in (None, "", "forged-token", aigerim.csrf):  # another session's is forged too
        response = boss.post(target, form, csrf=csrf)
        assert response.status_code == 403 and "This form has expired" in response.text
    assert dump_all_tables(session) == before
    accepted = boss.post(target, form)
    assert accepted.status_code == 303 and "done=user-" in accepted.headers["location"]
    assert dump_all_tables(session) != before


def test_a_lost_phones_two_factor_login_is_reset_from_the_users_page(app, session):
    aigerim = sign_in(app, session, "aigerim")
    authenticator.enrol(session, app.state.settings, user_named(session, "aigerim"),
                        app.state.clock())
    session.commit()
    boss = sign_in(app, session, "boss", Role.ADMIN)
    assert "/two-factor/reset" not in boss.get(url(session, "boss")).text  # not one's own
    page = boss.get(url(session, "aigerim")).text
    assert "Reset two-factor login" in page
    done = boss.post(url(session, "aigerim", "/two-factor/reset"), follow=True)
    assert flash_of(done) == ("Two-factor login is reset: the user is signed out and sets it "
                              "up again at the next sign-in.")
    assert user_named(session, "aigerim").totp_confirmed_at is None
    gone = aigerim.get("/console", follow_redirects=False)
    assert (gone.status_code, gone.headers["location"]) == (303, "/console/login")
    assert signed_in_as(app, "aigerim").get("/console").status_code == 200  # password only
    [entry] = audited(session, "auth.2fa.reset")
    assert (entry.username, entry.detail["username"]) == ("boss", "aigerim")


def test_hostile_usernames_are_escaped(app, session):
    hostile = '<script>alert(1)</script>"><marquee>'
    users.create_user(session, hostile, PASSWORD, Role.OPERATOR, HOME)
    session.commit()
    boss = sign_in(app, session, "boss", Role.ADMIN)
    pages = [boss.get(USERS).text, boss.get(url(session, hostile)).text]
    refused = boss.post(url(session, hostile, "/password"), {"password": "short"})
    pages.append(refused.text)
    for page in pages:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;marquee&gt;" in page
        assert "<script" not in without_own_script(page) and "<marquee" not in page


def test_only_admins_reach_the_users_pages(app, session):
    make_user(session, "olga", organisation=ABROAD)
    target = url(session, "olga")
    for role in (Role.OPERATOR, Role.COORDINATOR):
        person = sign_in(app, session, f"someone-{role}", role)
        for response in (person.get(USERS), person.get(target),
                         person.post(target + "/deactivate", {"confirm": "yes"})):
            assert response.status_code == 403 and "not for your role" in response.text
    assert user_named(session, "olga").active
