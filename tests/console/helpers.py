"""Signing in to the console through its own login form, and posting its forms."""

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.cases.models import Case
from app.organisations.models import Organisation
from app.users import service as users
from app.users.models import Role
from tests.messaging.texting import Texter
from tests.users import authenticator

PASSWORD = "correct horse battery staple"
HOME, ABROAD = "kz-almaty-shelter", "ru-moscow-shelter"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SECOND_STEP = "/console/login/code"
# The tests' public URL is https, so the console's cookies are Secure: a browser (and
# httpx) sends them only over https.
BASE_URL = "https://testserver"


def form_token(html: str) -> str:
    found = TOKEN.search(html)
    assert found, html
    return found.group(1)


def login_post(client: TestClient, username: str, password: str = PASSWORD, **headers: str):
    """Sign in through the form, and its second step with the user's next two-factor
    code where they have one (users who must have one are enrolled first)."""
    with client.app.state.sessionmaker() as session:
        authenticator.enrol_if_required(session, client.app, username)
    token = form_token(client.get("/console/login").text)
    response = client.post("/console/login", headers=headers, follow_redirects=False,
                           data={"username": username, "password": password,
                                 "csrf_token": token})
    if response.headers.get("location") != SECOND_STEP:
        return response
    code = authenticator.code_for(client.app, username)
    return client.post(SECOND_STEP, headers=headers, follow_redirects=False,
                       data={"code": code, "csrf_token": token})


@dataclass
class Console:
    """A browser signed in as one user: its own cookies and the session's CSRF token."""

    client: TestClient
    username: str
    csrf: str

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, *, csrf: str | None = "ok",
             follow: bool = False):
        """Post a form; ``csrf`` None leaves the token out, any other string but "ok" is
        sent instead of the real one."""
        fields = dict(data or {})
        if csrf is not None:
            fields["csrf_token"] = self.csrf if csrf == "ok" else csrf
        return self.client.post(path, data=fields, follow_redirects=follow)


def make_user(session, username: str, role: Role = Role.OPERATOR,
              organisation: str | None = HOME) -> None:
    users.create_user(session, username, PASSWORD, role,
                      organisation if role is Role.OPERATOR else None)
    session.commit()


def sign_in(app, session, username: str, role: Role = Role.OPERATOR,
            organisation: str | None = HOME) -> Console:
    """A new user, signed in through the form in a browser of their own."""
    make_user(session, username, role, organisation)
    client = TestClient(app, base_url=BASE_URL)
    response = login_post(client, username)
    assert response.status_code == 303, response.text
    home = client.get(response.headers["location"])
    assert home.status_code == 200, home.text
    return Console(client, username, form_token(home.text))


def texted_case(client, session, settings, number: str = "+77010000601") -> tuple[Case, str]:
    """Someone texted the hotline in Kazakh for legal help; their case and its organisation."""
    texter = Texter(client, settings, number)
    for body in ("Сәлеметсіз бе, маған көмек керек", "2", "2"):
        texter.send(body)
    case = session.scalars(select(Case)).one()
    return case, session.get(Organisation, case.organisation_id).slug


def case_url(case: Case, action: str = "") -> str:
    return f"/console/cases/{case.id}{action}"


OWN_SCRIPT = '<script src="/console/console.js" defer></script>'


def without_own_script(html: str) -> str:
    """The page without the console's one script (the live queue), which every signed-in
    page loads; any other script tag is a failure."""
    assert html.count(OWN_SCRIPT) == 1, "the console's script is missing or doubled"
    return html.replace(OWN_SCRIPT, "")
