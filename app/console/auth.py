"""Who is using the console: the session cookie, the role, and CSRF on every form.

Every POST by a signed-in user must carry ``csrf_token`` equal to its session's
``AuthToken.csrf_token``; the check runs inside the dependency that resolves the user,
so no console form can be added without it. The login form has no session yet, so it is
protected by a double-submit cookie instead: a random value set in a cookie with the
form and compared with the copy the form posts back.
"""

import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.config import Settings
from app.console.errors import ConsoleError, LoginRequired, csrf_refused, forbidden
from app.console.pages import Viewer
from app.deps import NowDep, SessionDep, SettingsDep
from app.organisations.models import Organisation
from app.users import two_factor
from app.users.deps import (
    SESSION_COOKIE,
    cookie_name,
    cookie_session_user,
    secure_cookies,
    session_cookie,
)
from app.users.models import Role, User

LOGIN_CSRF_COOKIE = "hotline_login_csrf"
HOME: dict[Role, str] = {Role.OPERATOR: "/console", Role.ADMIN: "/console/admin",
                         Role.COORDINATOR: "/console/coordinator"}
# A user with a one-time password an admin set may reach only this page (and sign out).
PASSWORD_PATH = "/console/password"
OPEN_WITH_ONE_TIME_PASSWORD = {PASSWORD_PATH, "/console/logout"}
# A user who must use two-factor login and has not enrolled may reach only these.
TWO_FACTOR_PATH = "/console/two-factor"
OPEN_BEFORE_TWO_FACTOR = {TWO_FACTOR_PATH, f"{TWO_FACTOR_PATH}/begin",
                          f"{TWO_FACTOR_PATH}/confirm", PASSWORD_PATH, "/console/logout"}


async def posted_form(request: Request) -> FormData:
    """The submitted form fields (Starlette caches them), empty for anything but POST."""
    return await request.form() if request.method == "POST" else FormData()


Form = Annotated[FormData, Depends(posted_form)]


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def same_token(given: str, expected: str) -> bool:
    return bool(given and expected) and secrets.compare_digest(given.encode(), expected.encode())


def console_db(request: Request, session: SessionDep) -> Session:
    """The request's session, remembered so that a refused request can be rolled back."""
    request.state.db = session
    return session


ConsoleDb = Annotated[Session, Depends(console_db)]


def signed_in(request: Request, session: ConsoleDb, settings: SettingsDep, now: NowDep,
              form: Form) -> User:
    if not session_cookie(request, settings):
        raise LoginRequired
    try:
        user = cookie_session_user(request, session, settings, now)
    except HTTPException:
        raise LoginRequired from None
    csrf_token: str = request.state.csrf_token
    request.state.viewer = Viewer(user.username, user.role, csrf_token, HOME[user.role],
                                  organisation_timezone(session, user))
    if request.method == "POST" and not same_token(field(form, "csrf_token"), csrf_token):
        raise csrf_refused()
    if user.must_change_password and request.url.path not in OPEN_WITH_ONE_TIME_PASSWORD:
        raise PasswordChangeRequired
    if request.url.path not in OPEN_BEFORE_TWO_FACTOR and two_factor.must_enrol(session, user):
        raise TwoFactorEnrolmentRequired
    return user


class PasswordChangeRequired(ConsoleError):
    """Every other page sends a user with a one-time password to choose their own."""

    def response(self, request: Request) -> Response:
        return RedirectResponse(PASSWORD_PATH, status_code=303)


class TwoFactorEnrolmentRequired(ConsoleError):
    """Signed in with the password only: the user must set up two-factor login first."""

    def response(self, request: Request) -> Response:
        return RedirectResponse(TWO_FACTOR_PATH, status_code=303)


SignedIn = Annotated[User, Depends(signed_in)]


def organisation_timezone(session: Session, user: User) -> str:
    """The zone the console shows this user's times in: their organisation's, or UTC."""
    if user.organisation_id is None:
        return "UTC"
    found = session.scalar(select(Organisation.timezone)
                           .where(Organisation.id == user.organisation_id))
    return found or "UTC"


def role(*roles: Role) -> Callable[[User], User]:
    def dependency(user: SignedIn) -> User:
        if user.role not in roles:
            raise forbidden()
        return user

    return dependency


OperatorUser = Annotated[User, Depends(role(Role.OPERATOR))]
AdminUser = Annotated[User, Depends(role(Role.ADMIN))]
CoordinatorUser = Annotated[User, Depends(role(Role.COORDINATOR))]


def viewer(request: Request) -> Viewer:
    found: Viewer = request.state.viewer
    return found


# Cookies follow the public URL (app.users.deps.cookie_name): under https they are Secure
# and __Host- prefixed, which also requires Path=/ for the login form's own cookies.


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(cookie_name(settings, SESSION_COOKIE), token,
                        max_age=settings.session_hours * 3600, path="/", httponly=True,
                        samesite="lax", secure=secure_cookies(settings))


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(cookie_name(settings, SESSION_COOKIE), path="/", httponly=True,
                           samesite="lax", secure=secure_cookies(settings))


def login_cookie_path(settings: Settings) -> str:
    return "/" if secure_cookies(settings) else "/console/login"


def login_csrf_token(request: Request, settings: Settings) -> str:
    """The login form's token: the one already in the cookie (other tabs keep working)."""
    existing = request.cookies.get(cookie_name(settings, LOGIN_CSRF_COOKIE), "")
    return existing if len(existing) == 43 and existing.isascii() else secrets.token_urlsafe(32)


def set_login_csrf_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(cookie_name(settings, LOGIN_CSRF_COOKIE), token, max_age=3600,
                        path=login_cookie_path(settings), httponly=True, samesite="lax",
                        secure=secure_cookies(settings))


def clear_login_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(cookie_name(settings, name), path=login_cookie_path(settings),
                           httponly=True, samesite="lax", secure=secure_cookies(settings))


def check_login_csrf(request: Request, settings: Settings, form: FormData) -> None:
    expected = request.cookies.get(cookie_name(settings, LOGIN_CSRF_COOKIE), "")
    if not same_token(field(form, "csrf_token"), expected):
        raise csrf_refused()
