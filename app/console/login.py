"""Signing in and out, the coordinators' landing page, and the style sheet."""

from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response, status

from app.console import auth, flash, language
from app.console.errors import ConsoleRoute
from app.console.pages import render
from app.i18n import N_
from app.users import service as users
from app.users.api import login as api_login
from app.users.deps import SESSION_COOKIE

router = APIRouter(route_class=ConsoleRoute)
STYLE_SHEET = (Path(__file__).with_name("static") / "console.css").read_bytes()
LOGIN_FAILURES = {
    status.HTTP_401_UNAUTHORIZED: N_("Wrong username or password."),
    status.HTTP_429_TOO_MANY_REQUESTS: N_("Too many failed sign-ins. Wait 15 minutes and "
                                          "try again, or ask an administrator."),
}


@router.get("/console.css")
def style_sheet() -> Response:
    # Cached by the browser for a day: one download per phone, not one per page.
    return Response(STYLE_SHEET, media_type="text/css",
                    headers={"Cache-Control": "public, max-age=86400"})


def _login_page(request: Request, *, status_code: int = 200, error: str | None = None,
                username: str = "", retry_after: str | None = None) -> Response:
    token = auth.login_csrf_token(request)
    response = render(request, "login.html", status_code=status_code, csrf_token=token,
                      error=error, username=username)
    auth.set_login_csrf_cookie(response, request.app.state.settings, token)
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(request: Request, session: auth.ConsoleDb, form: auth.Form) -> Response:
    auth.check_login_csrf(request, form)
    username = auth.field(form, "username").strip()[:64]
    try:
        issued = api_login(request, username, auth.field(form, "password"))
    except HTTPException as exc:
        return _login_page(request, status_code=exc.status_code, username=username,
                           error=LOGIN_FAILURES.get(exc.status_code, LOGIN_FAILURES[401]),
                           retry_after=(exc.headers or {}).get("Retry-After"))
    now: datetime = request.app.state.clock()
    found = users.resolve_token(session, issued.token, now)
    if found is None:  # deactivated in the instant since: treat as a failed login
        return _login_page(request, status_code=401, error=LOGIN_FAILURES[401])
    response = flash.redirect(auth.HOME[found[0].role])
    auth.set_session_cookie(response, request.app.state.settings, issued.token)
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/console/login")
    return response


@router.post("/logout")
def logout(request: Request, session: auth.ConsoleDb, user: auth.SignedIn) -> Response:
    users.revoke_token(session, user, request.cookies.get(SESSION_COOKIE, ""),
                       request.app.state.clock())
    response = flash.redirect("/console/login", done="logout")
    auth.clear_session_cookie(response, request.app.state.settings)
    return response


@router.get("/coordinator")
def coordinator(request: Request, _user: auth.CoordinatorUser) -> Response:
    """Where coordinators land after signing in: their statistics page."""
    return flash.redirect("/console/stats", lang=language.chosen_in_query(request) or "")
