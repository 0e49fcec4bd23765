"""Two-factor login in the console: the sign-in's second step, and the page to set it up
(QR code drawn on the server as inline SVG, the key as text) or turn it off."""

from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from app.config import Settings
from app.console import auth, flash, login, pending
from app.console.errors import ConsoleRoute
from app.console.pages import render
from app.deps import AddressDep, NowDep, SessionFactoryDep, SettingsDep
from app.i18n import N_
from app.users import two_factor
from app.users.models import User
from app.users.signin import Outcome, attempt_code

router = APIRouter(route_class=ConsoleRoute)
WRONG_CODE = N_("That code is wrong or was already used. Enter the code your app shows now.")


@dataclass(frozen=True)
class State:
    enabled: bool
    required: bool
    recovery_left: int = 0
    enrolment: two_factor.Enrolment | None = None

    @property
    def qr(self) -> Markup:
        # Drawn by qrcode from our own otpauth URI: paths and fills, no text, no style.
        return Markup(self.enrolment.svg if self.enrolment else "")

    @property
    def secret_grouped(self) -> str:
        secret = self.enrolment.secret if self.enrolment else ""
        return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def state_of(session: Session, settings: Settings, user: User) -> State:
    if two_factor.enabled(user):
        return State(True, two_factor.required(session, user),
                     two_factor.remaining_recovery_codes(session, user))
    return State(False, two_factor.required(session, user),
                 enrolment=two_factor.pending(settings, user))


# --- the sign-in's second step ---------------------------------------------------------


def _code_page(request: Request, settings: Settings, *, status_code: int = 200,
               error: str | None = None) -> Response:
    token = auth.login_csrf_token(request, settings)
    response = render(request, "login_code.html", status_code=status_code, csrf_token=token,
                      error=error)
    auth.set_login_csrf_cookie(response, settings, token)
    return response


def _expired() -> Response:
    return flash.redirect("/console/login", error="login-expired")


@router.get("/login/code")
def code_form(request: Request, settings: SettingsDep, now: NowDep) -> Response:
    if pending.read_pending(request, settings, now) is None:
        return _expired()
    return _code_page(request, settings)


@router.post("/login/code")
def check_code(request: Request, session: auth.ConsoleDb, sessions: SessionFactoryDep,
               settings: SettingsDep, now: NowDep, address: AddressDep,
               form: auth.Form) -> Response:
    auth.check_login_csrf(request, settings, form)
    waiting = pending.read_pending(request, settings, now)
    if waiting is None:
        return _expired()
    found = attempt_code(sessions, settings, now, address, waiting.user_id,
                         waiting.password_stamp, auth.field(form, "code").strip()[:64])
    if found.outcome in (Outcome.CODE_WRONG, Outcome.CODE_REQUIRED):
        return _code_page(request, settings, status_code=401, error=WRONG_CODE)
    if found.outcome is Outcome.FAILED:
        response = _expired()
        pending.clear_pending(response, settings)
        return response
    response = login.finish_login(request, session, settings, now, found)
    pending.clear_pending(response, settings)
    return response


# --- setting it up, turning it off --------------------------------------------------------


def _page(request: Request, session: Session, settings: Settings, user: User, *,
          recovery_codes: list[str] | None = None) -> Response:
    return render(request, "two_factor.html", viewer=auth.viewer(request),
                  state=state_of(session, settings, user),
                  recovery_codes=recovery_codes or [])


@router.get("/two-factor")
def two_factor_page(request: Request, session: auth.ConsoleDb, settings: SettingsDep,
                    user: auth.SignedIn) -> Response:
    return _page(request, session, settings, user)


@router.post("/two-factor/begin")
def begin(session: auth.ConsoleDb, settings: SettingsDep, user: auth.SignedIn) -> Response:
    try:
        two_factor.begin(session, settings, user)
    except two_factor.TwoFactorError:
        return flash.redirect(auth.TWO_FACTOR_PATH, error="2fa-on")
    return flash.redirect(auth.TWO_FACTOR_PATH)


@router.post("/two-factor/confirm")
def confirm(request: Request, session: auth.ConsoleDb, settings: SettingsDep, now: NowDep,
            user: auth.SignedIn, form: auth.Form) -> Response:
    try:
        codes = two_factor.confirm(session, settings, user, auth.field(form, "code")[:64],
                                   now)
    except two_factor.TwoFactorError:
        # A redirect, not an error page: the failure's audit entry is committed.
        return flash.redirect(auth.TWO_FACTOR_PATH, error="2fa-code")
    # Shown in this answer only (no-store): the codes are kept nowhere in clear.
    return _page(request, session, settings, user, recovery_codes=codes)


@router.post("/two-factor/disable")
def disable(session: auth.ConsoleDb, settings: SettingsDep, now: NowDep, user: auth.SignedIn,
            form: auth.Form) -> Response:
    try:
        two_factor.disable(session, settings, user, auth.field(form, "code"), now)
    except two_factor.WrongCode:
        return flash.redirect(auth.TWO_FACTOR_PATH, error="2fa-code")
    except two_factor.TwoFactorError:
        return flash.redirect(auth.TWO_FACTOR_PATH, error="2fa-required")
    return flash.redirect(auth.TWO_FACTOR_PATH, done="2fa-off")
