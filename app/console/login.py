"""Signing in and out, the coordinators' landing page, and the style sheet."""

from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Request, Response, status
from sqlalchemy.orm import Session

from app.config import Settings
from app.console import auth, flash, language, pending
from app.console.errors import ConsoleRoute
from app.console.pages import render
from app.deps import AddressDep, NowDep, SessionFactoryDep, SettingsDep
from app.i18n import N_
from app.users import service as users
from app.users.deps import session_cookie
from app.users.signin import Attempt, Outcome, attempt

router = APIRouter(route_class=ConsoleRoute)
STYLE_SHEET = (Path(__file__).with_name("static") / "console.css").read_bytes()
LOGIN_FAILURES = {
    status.HTTP_401_UNAUTHORIZED: N_("Wrong username or password."),
    status.HTTP_429_TOO_MANY_REQUESTS: N_("Too many failed sign-ins. Wait 15 minutes and "
                                          "try again, or ask an administrator."),
}
RETRY_AFTER = "900"  # the login window (15 minutes), as the API says it
SECOND_STEP = "/console/login/code"


@router.get("/console.css")
def style_sheet() -> Response:
    # Cached by the browser for a day: one download per phone, not one per page.
    return Response(STYLE_SHEET, media_type="text/css",
                    headers={"Cache-Control": "public, max-age=86400"})


def _login_page(request: Request, settings: Settings, *, status_code: int = 200,
                error: str | None = None, username: str = "",
                retry_after: str | None = None) -> Response:
    token = auth.login_csrf_token(request, settings)
    response = render(request, "login.html", status_code=status_code, csrf_token=token,
                      error=error, username=username)
    auth.set_login_csrf_cookie(response, settings, token)
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


@router.get("/login")
def login_form(request: Request, settings: SettingsDep) -> Response:
    return _login_page(request, settings)


@router.post("/login")
def login(request: Request, session: auth.ConsoleDb, sessions: SessionFactoryDep,
          settings: SettingsDep, now: NowDep, address: AddressDep,
          form: auth.Form) -> Response:
    auth.check_login_csrf(request, settings, form)
    username = auth.field(form, "username").strip()[:64]
    found = attempt(sessions, settings, now, address, username,
                    auth.field(form, "password"), None)
    if found.outcome is Outcome.CODE_REQUIRED and found.user_id is not None:
        # The password was right; no session until the code is too (app.console.two_factor).
        response = flash.redirect(SECOND_STEP)
        pending.set_pending(response, settings,
                            pending.Pending(found.user_id, found.password_stamp), now)
        return response
    return finish_login(request, session, settings, now, found, username)


def finish_login(request: Request, session: Session, settings: Settings, now: datetime,
                 found: Attempt, username: str = "") -> Response:
    """The session cookie and the user's start page, or the login form saying why not."""
    if found.outcome is Outcome.LIMITED:
        return _login_page(request, settings, status_code=429, username=username,
                           error=LOGIN_FAILURES[429], retry_after=RETRY_AFTER)
    issued = found.issued
    resolved = users.resolve_token(session, issued.token, now) if issued else None
    if issued is None or resolved is None:  # refused, or deactivated in the instant since
        return _login_page(request, settings, status_code=401, username=username,
                           error=LOGIN_FAILURES[401])
    response = flash.redirect(auth.TWO_FACTOR_PATH if found.enrol
                              else auth.HOME[resolved[0].role])
    auth.set_session_cookie(response, settings, issued.token)
    auth.clear_login_cookie(response, settings, auth.LOGIN_CSRF_COOKIE)
    pending.clear_pending(response, settings)
    return response


@router.post("/logout")
def logout(request: Request, session: auth.ConsoleDb, settings: SettingsDep, now: NowDep,
           user: auth.SignedIn) -> Response:
    users.revoke_token(session, user, session_cookie(request, settings) or "", now)
    response = flash.redirect("/console/login", done="logout")
    auth.clear_session_cookie(response, settings)
    return response


@router.get("/coordinator")
def coordinator(request: Request, _user: auth.CoordinatorUser) -> Response:
    """Where coordinators land after signing in: their statistics page."""
    return flash.redirect("/console/stats", lang=language.chosen_in_query(request) or "")
