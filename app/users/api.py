"""``POST /api/auth/token``: the OAuth2 password flow, rate-limited per account and address."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.db import SessionDep
from app.users import service
from app.users.deps import AnyUser, CurrentUser, oauth2_scheme
from app.users.models import Role, User

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class Me(BaseModel):
    username: str
    role: Role
    organisation_id: int | None


def login(request: Request, username: str, password: str) -> service.IssuedToken:
    """Check the password and issue a token; failures are committed even though the
    request fails, or the rate limit would never count them."""
    now: datetime = request.app.state.clock()
    address = request.client.host if request.client else "unknown"
    with request.app.state.sessionmaker() as session, session.begin():
        try:
            user = service.authenticate(session, request.app.state.settings, username,
                                        password, address, now)
        except service.TooManyAttempts:
            user, limited = None, True
        else:
            limited = False
        issued = service.issue_token(session, request.app.state.settings, user, now
                                     ) if user else None
        _audit_login(session, user, username, address, limited, now)
    if limited:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            "too many failed logins; try again later",
                            headers={"Retry-After": "900"})
    if issued is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password",
                            headers={"WWW-Authenticate": "Bearer"})
    return issued


def _audit_login(session: Session, user: User | None, username: str, address: str,
                 limited: bool, now: datetime) -> None:
    """Every sign-in and every refused one, in the hash-chained audit log."""
    if user is not None:
        audit.record(session, user, "auth.login", now, address=address)
    else:
        audit.record_system(session, "auth.login_refused" if limited else "auth.login_failed",
                            now, username=username[:64], address=address)


@router.post("/token")
def token(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    issued = login(request, form.username, form.password)
    return Token(access_token=issued.token, expires_at=issued.expires_at)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, session: SessionDep, user: AnyUser,
           bearer: Annotated[str | None, Depends(oauth2_scheme)]) -> None:
    """End this token's session now (audited)."""
    service.revoke_token(session, user, bearer or "", request.app.state.clock())


@router.get("/me")
def me(user: CurrentUser) -> Me:
    return Me(username=user.username, role=user.role, organisation_id=user.organisation_id)
