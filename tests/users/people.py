"""Users for API tests: created in the test's transaction, signed in through the API
(with a two-factor code where the role or organisation requires one)."""

from dataclasses import dataclass

from app.users import service as users
from app.users.models import Role
from tests.users import authenticator

PASSWORD = "correct horse battery staple"


@dataclass
class Person:
    username: str
    role: Role
    organisation: str | None
    headers: dict[str, str]


def make_person(client, session, username: str, role: Role = Role.OPERATOR,
                organisation: str | None = "kz-almaty-shelter") -> Person:
    users.create_user(session, username, PASSWORD, role,
                      organisation if role is Role.OPERATOR else None)
    session.commit()
    authenticator.enrol_if_required(session, client.app, username)
    data = {"username": username, "password": PASSWORD}
    otp = authenticator.code_for(client.app, username)
    response = client.post("/api/auth/token", data=data | ({"otp": otp} if otp else {}))
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    return Person(username, role, organisation, {"Authorization": f"Bearer {token}"})
