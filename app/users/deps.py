"""Who is asking: the bearer token (API) or the session cookie (console), and their role."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.config import Settings
from app.deps import NowDep, SessionDep, SettingsDep
from app.users import service, two_factor
from app.users.models import Role, User

SESSION_COOKIE = "hotline_session"
ENROL_FIRST = "two-factor login is required for you: enrol first: POST /api/auth/2fa/enrol"


def secure_cookies(settings: Settings) -> bool:
    """Under an https public URL, in every mode: the browser then sends the cookies only
    over https. A local run on http://127.0.0.1 keeps plain cookies, or it could not
    sign in at all."""
    return settings.public_url.startswith("https://")


def cookie_name(settings: Settings, name: str) -> str:
    """``__Host-`` makes the browser refuse the cookie unless it is Secure, for this host
    only and for the whole site (Path=/, no Domain): a neighbouring subdomain cannot plant
    a session of its own choosing."""
    return f"__Host-{name}" if secure_cookies(settings) else name


def session_cookie(request: Request, settings: Settings) -> str | None:
    return request.cookies.get(cookie_name(settings, SESSION_COOKIE))


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def _unauthorised() -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, "not signed in",
                         headers={"WWW-Authenticate": "Bearer"})


def _resolve(request: Request, session: Session, token: str | None, now: datetime) -> User:
    if not token:
        raise _unauthorised()
    found = service.resolve_token(session, token, now)
    if found is None:
        raise _unauthorised()
    user, auth_token = found
    request.state.csrf_token = auth_token.csrf_token
    request.state.auth_token_id = auth_token.id  # this session, kept on a password change
    return user


def current_user(request: Request, session: SessionDep, now: NowDep,
                 bearer: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """API callers: the bearer token only. The console's cookie is not accepted here,
    because API requests carry no CSRF token and a cookie is sent by the browser itself.
    A user with a one-time password an admin set may only change it; one who must use
    two-factor login and has not enrolled yet may only enrol."""
    user = enrolling_user(request, session, now, bearer)
    if two_factor.must_enrol(session, user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, ENROL_FIRST)
    return user


def enrolling_user(request: Request, session: SessionDep, now: NowDep,
                   bearer: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """Signed in, with their own password, perhaps not enrolled in two-factor login yet."""
    user = _resolve(request, session, bearer, now)
    if user.must_change_password:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "choose a new password first: POST /api/auth/password")
    return user


def any_user(request: Request, session: SessionDep, now: NowDep,
             bearer: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """Signed in with a bearer token, even with a one-time password still to change."""
    return _resolve(request, session, bearer, now)


def cookie_session_user(request: Request, session: SessionDep, settings: SettingsDep,
                        now: NowDep) -> User:
    """Console pages: the session cookie (their forms carry the CSRF token). The console
    sends a user who has a password to change or two-factor login to set up to that page
    itself (app.console.auth)."""
    return _resolve(request, session, session_cookie(request, settings), now)


def cookie_user(request: Request, session: SessionDep, settings: SettingsDep,
                now: NowDep) -> User:
    """The session cookie outside the console pages (the live queue's event stream): no
    more than the API would allow the same user."""
    user = cookie_session_user(request, session, settings, now)
    if user.must_change_password or two_factor.must_enrol(session, user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "finish signing in in the console first")
    return user


AnyUser = Annotated[User, Depends(any_user)]
EnrollingUser = Annotated[User, Depends(enrolling_user)]
CurrentUser = Annotated[User, Depends(current_user)]


def require(*roles: Role) -> Callable[[User], User]:
    def dependency(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "not allowed for your role")
        return user

    return dependency


Operator = Annotated[User, Depends(require(Role.OPERATOR))]
Admin = Annotated[User, Depends(require(Role.ADMIN))]
Coordinator = Annotated[User, Depends(require(Role.COORDINATOR, Role.ADMIN))]  # statistics
