"""Who is asking: the bearer token (API) or the session cookie (console), and their role."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from app.db import SessionDep
from app.users import service
from app.users.models import Role, User

SESSION_COOKIE = "hotline_session"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def _unauthorised() -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, "not signed in",
                         headers={"WWW-Authenticate": "Bearer"})


def _resolve(request: Request, session: SessionDep, token: str | None) -> User:
    if not token:
        raise _unauthorised()
    now: datetime = request.app.state.clock()
    found = service.resolve_token(session, token, now)
    if found is None:
        raise _unauthorised()
    user, auth_token = found
    request.state.csrf_token = auth_token.csrf_token
    return user


def current_user(request: Request, session: SessionDep,
                 bearer: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """API callers: the bearer token only. The console's cookie is not accepted here,
    because API requests carry no CSRF token and a cookie is sent by the browser itself.
    A user with a one-time password an admin set may only change it."""
    user = _resolve(request, session, bearer)
    if user.must_change_password:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "choose a new password first: POST /api/auth/password")
    return user


def any_user(request: Request, session: SessionDep,
             bearer: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """Signed in with a bearer token, even with a one-time password still to change."""
    return _resolve(request, session, bearer)


def cookie_user(request: Request, session: SessionDep) -> User:
    """Console pages: the session cookie (their forms carry the CSRF token)."""
    return _resolve(request, session, request.cookies.get(SESSION_COOKIE))


AnyUser = Annotated[User, Depends(any_user)]
CurrentUser = Annotated[User, Depends(current_user)]


def require(*roles: Role) -> Callable[[User], User]:
    def dependency(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "not allowed for your role")
        return user

    return dependency


Operator = Annotated[User, Depends(require(Role.OPERATOR))]
Admin = Annotated[User, Depends(require(Role.ADMIN))]
