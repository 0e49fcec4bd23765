"""Two-factor login over the API: the code as ``otp``, missing, wrong or replayed (counted
towards the login limit), and enrolling with a token that is good for nothing else."""

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.users import service as users
from app.users.models import Role, User
from tests.conftest import WEEKDAY_MORNING
from tests.users import authenticator
from tests.users.people import PASSWORD, make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
STEP = timedelta(seconds=30)


def token(client, username: str, otp: str | None = None, password: str = PASSWORD):
    data = {"username": username, "password": password} | ({"otp": otp} if otp else {})
    return client.post("/api/auth/token", data=data)


def enrolled_admin(app, session, username: str = "root") -> str:
    user = users.create_user(session, username, PASSWORD, Role.ADMIN, None)
    secret = authenticator.enrol(session, app.state.settings, user, WEEKDAY_MORNING)
    session.commit()
    return secret


def audited(session) -> list[tuple[str, str]]:
    return [(e.action, e.username) for e in session.scalars(select(AuditEvent)
                                                            .order_by(AuditEvent.id))]


def test_the_code_signs_in_once_and_its_absence_is_recognisable(app, client, session):
    secret = enrolled_admin(app, session)
    missing = token(client, "root")
    assert missing.status_code == 401 and missing.json() == {"detail": "two-factor code required"}
    assert missing.headers["x-two-factor"] == "required"
    code = pyotp.TOTP(secret).at(WEEKDAY_MORNING)
    signed_in = token(client, "root", code)
    assert signed_in.status_code == 200 and signed_in.json()["enrol_two_factor"] is False
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert client.get("/api/audit", headers=headers).status_code == 200
    replayed = token(client, "root", code)
    assert replayed.status_code == 401 and replayed.headers["x-two-factor"] == "required"
    wrong_password = token(client, "root", pyotp.TOTP(secret).at(WEEKDAY_MORNING + STEP), "guess")
    assert wrong_password.json() == {"detail": "wrong username or password"}
    assert audited(session) == [("auth.login", "root"), ("auth.2fa.failed", "root"),
                                ("auth.login_failed", "system")]


def test_wrong_codes_count_towards_the_login_limit(app, client, session):
    secret = enrolled_admin(app, session)
    for guess in ("000001", "123456", "999999", "424242", "131313"):
        assert token(client, "root", guess).status_code == 401
    right = token(client, "root", pyotp.TOTP(secret).at(WEEKDAY_MORNING))
    assert right.status_code == 429 and right.headers["Retry-After"]
    # The right password without a code does not wipe the count of wrong codes either.
    assert token(client, "root").status_code == 429
    failed = [a for a, _ in audited(session)]
    assert failed == ["auth.2fa.failed"] * 5 + ["auth.login_refused"] * 2


def test_a_recovery_code_signs_in_once(app, client, session):
    user = users.create_user(session, "root", PASSWORD, Role.ADMIN, None)
    session.commit()
    first = token(client, "root").json()
    assert first["enrol_two_factor"] is True
    headers = {"Authorization": f"Bearer {first['access_token']}"}
    secret = client.post("/api/auth/2fa/enrol", headers=headers).json()["secret"]
    codes = client.post("/api/auth/2fa/confirm", headers=headers,
                        json={"code": pyotp.TOTP(secret).at(WEEKDAY_MORNING)}).json()
    recovery = codes["recovery_codes"][0]
    assert token(client, "root", recovery).status_code == 200
    assert token(client, "root", recovery).status_code == 401
    session.refresh(user)
    assert recovery not in str(session.scalars(select(User.totp_secret_encrypted)).all())


def test_an_admin_who_has_not_enrolled_may_only_enrol(app, client, session):
    users.create_user(session, "root", PASSWORD, Role.ADMIN, None)
    session.commit()
    answer = token(client, "root")
    assert answer.status_code == 200 and answer.json()["enrol_two_factor"] is True
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    for method, path in (("GET", "/api/audit"), ("GET", "/api/users"), ("GET", "/api/auth/me")):
        refused = client.request(method, path, headers=headers)
        assert refused.status_code == 403 and "enrol" in refused.json()["detail"], path
    enrolment = client.post("/api/auth/2fa/enrol", headers=headers)
    assert enrolment.status_code == 200
    body = enrolment.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/Hotline:root?")
    assert body["qr_svg"].startswith("<svg") and body["secret"] in body["otpauth_uri"]
    wrong = client.post("/api/auth/2fa/confirm", headers=headers, json={"code": "000000"})
    assert wrong.status_code == 400
    totp = pyotp.TOTP(body["secret"])
    confirmed = client.post("/api/auth/2fa/confirm", headers=headers,
                            json={"code": totp.at(WEEKDAY_MORNING)})
    assert confirmed.status_code == 200 and len(confirmed.json()["recovery_codes"]) == 10
    assert client.get("/api/audit", headers=headers).status_code == 200
    assert token(client, "root").json()["detail"] == "two-factor code required"
    again = client.post("/api/auth/2fa/enrol", headers=headers)
    assert again.status_code == 409  # already on: a second secret would need a reset
    assert client.post("/api/auth/2fa/disable", headers=headers,
                       json={"code": "000000"}).status_code == 409  # required
    actions = [a for a, _ in audited(session)]
    assert actions == ["auth.login", "auth.2fa.failed", "auth.2fa.enrolled"]
    assert all(body["secret"] not in str(e.detail) for e in session.scalars(select(AuditEvent)))


def test_an_operator_may_turn_it_on_and_off(app, client, session):
    aigerim = make_person(client, session, "aigerim")
    secret = client.post("/api/auth/2fa/enrol", headers=aigerim.headers).json()["secret"]
    client.post("/api/auth/2fa/confirm", headers=aigerim.headers,
                json={"code": pyotp.TOTP(secret).at(WEEKDAY_MORNING)})
    assert token(client, "aigerim").status_code == 401
    # A stolen token alone cannot turn it off: it takes a code from the app.
    wrong = client.post("/api/auth/2fa/disable", headers=aigerim.headers, json={"code": "0"})
    assert wrong.status_code == 400 and token(client, "aigerim").status_code == 401
    code = pyotp.TOTP(secret).at(WEEKDAY_MORNING + timedelta(seconds=30))  # a later step
    assert client.post("/api/auth/2fa/disable", headers=aigerim.headers,
                       json={"code": code}).status_code == 204
    assert token(client, "aigerim").status_code == 200
    assert "auth.2fa.disabled" in [a for a, _ in audited(session)]
