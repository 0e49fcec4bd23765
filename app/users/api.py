"""``POST /api/auth/token``: the OAuth2 password flow, with a two-factor code as ``otp``
where the user has one, rate-limited per account and address; and enrolling in two-factor
login (``/api/auth/2fa``)."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.config import Settings
from app.db import SessionDep
from app.users import service, two_factor
from app.users.deps import AnyUser, CurrentUser, EnrollingUser, oauth2_scheme
from app.users.models import Role, User

router = APIRouter(prefix="/api/auth", tags=["auth"])
TWO_FACTOR_REQUIRED = "two-factor code required"
# A client tells "the code is missing" from "wrong password" by this header (and detail).
TWO_FACTOR_HEADER = "X-Two-Factor"


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    # True: this token only enrols in two-factor login (POST /api/auth/2fa/enrol, then
    # /confirm); sign in again with the code afterwards.
    enrol_two_factor: bool = False


class Me(BaseModel):
    username: str
    role: Role
    organisation_id: int | None


class Outcome(StrEnum):
    SIGNED_IN = "signed-in"
    FAILED = "failed"  # wrong username or password, or deactivated
    LIMITED = "limited"  # too many failures lately
    CODE_REQUIRED = "code-required"  # the password was right; the code is missing
    CODE_WRONG = "code-wrong"


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    user_id: int | None = None
    issued: service.IssuedToken | None = None
    enrol: bool = False  # signed in with the password only, to enrol
    password_stamp: str = ""  # app.console.second_step binds a pending sign-in to it


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def attempt(request: Request, username: str, password: str, otp: str | None) -> Attempt:
    """Check the password (and the code, for a user with two-factor login) and issue a
    token. Failures are committed even though the request fails, or the rate limit
    would never count them."""
    now: datetime = request.app.state.clock()
    address, settings = _address(request), request.app.state.settings
    with request.app.state.sessionmaker() as session, session.begin():
        try:
            user = service.authenticate(session, settings, username, password, address, now)
        except service.TooManyAttempts:
            _audit_refusal(session, username, address, limited=True, now=now)
            return Attempt(Outcome.LIMITED)
        if user is None:
            _audit_refusal(session, username, address, limited=False, now=now)
            return Attempt(Outcome.FAILED)
        return _second_factor(session, settings, user, otp, address, now)


def attempt_code(request: Request, user_id: int, password_stamp: str, otp: str) -> Attempt:
    """The console's second step: the code for a sign-in whose password was right."""
    now: datetime = request.app.state.clock()
    address, settings = _address(request), request.app.state.settings
    with request.app.state.sessionmaker() as session, session.begin():
        user = session.get(User, user_id)
        if user is None or not user.active or stamp(user) != password_stamp:
            return Attempt(Outcome.FAILED)  # deactivated or a new password since
        try:
            service.check_rate_limit(session, settings, user.username, address, now)
        except service.TooManyAttempts:
            _audit_refusal(session, user.username, address, limited=True, now=now)
            return Attempt(Outcome.LIMITED)
        return _second_factor(session, settings, user, otp or None, address, now)


def stamp(user: User) -> str:
    """Changes with the password: a pending sign-in does not survive a password reset."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _second_factor(session: Session, settings: Settings, user: User, otp: str | None,
                   address: str, now: datetime) -> Attempt:
    if two_factor.enabled(user):
        if not otp:
            return Attempt(Outcome.CODE_REQUIRED, user.id, password_stamp=stamp(user))
        if not two_factor.verify(session, settings, user, otp, now):
            # Counted like a wrong password: guessing codes meets the same limit.
            service.record_failure(session, user.username, address, now)
            audit.record(session, user, "auth.2fa.failed", now, address=address)
            return Attempt(Outcome.CODE_WRONG, user.id, password_stamp=stamp(user))
    service.complete_login(session, user, now)
    enrol = two_factor.must_enrol(session, user)
    issued = service.issue_token(session, settings, user, now)
    if enrol:
        audit.record(session, user, "auth.login", now, address=address, to_enrol_two_factor=True)
    else:
        audit.record(session, user, "auth.login", now, address=address)
    return Attempt(Outcome.SIGNED_IN, user.id, issued, enrol=enrol)


def _audit_refusal(session: Session, username: str, address: str, *, limited: bool,
                   now: datetime) -> None:
    """Every refused sign-in, in the hash-chained audit log."""
    audit.record_system(session, "auth.login_refused" if limited else "auth.login_failed",
                        now, username=username[:64], address=address)


def login(request: Request, username: str, password: str,
          otp: str | None = None) -> service.IssuedToken:
    return answer(attempt(request, username, password, otp))


def answer(found: Attempt) -> service.IssuedToken:
    """The API's answer to an attempt: the token, or the HTTP error saying why not."""
    if found.outcome is Outcome.LIMITED:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            "too many failed logins; try again later",
                            headers={"Retry-After": "900"})
    if found.outcome is Outcome.CODE_REQUIRED:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, TWO_FACTOR_REQUIRED,
                            headers={"WWW-Authenticate": "Bearer",
                                     TWO_FACTOR_HEADER: "required"})
    if found.outcome is Outcome.CODE_WRONG:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong or used two-factor code",
                            headers={"WWW-Authenticate": "Bearer",
                                     TWO_FACTOR_HEADER: "required"})
    if found.issued is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password",
                            headers={"WWW-Authenticate": "Bearer"})
    return found.issued


@router.post("/token", responses={
    401: {"description": "Wrong username or password; or, with the header "
                         "`X-Two-Factor: required`, the two-factor code is missing or wrong"},
    429: {"description": "Too many failed logins lately"}})
def token(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()],
          otp: Annotated[str | None, Form(max_length=64, description=(
              "the 6-digit code of the authenticator app, or a recovery code"))] = None
          ) -> Token:
    found = attempt(request, form.username, form.password, otp)
    issued = answer(found)
    return Token(access_token=issued.token, expires_at=issued.expires_at,
                 enrol_two_factor=found.enrol)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, session: SessionDep, user: AnyUser,
           bearer: Annotated[str | None, Depends(oauth2_scheme)]) -> None:
    """End this token's session now (audited)."""
    service.revoke_token(session, user, bearer or "", request.app.state.clock())


@router.get("/me")
def me(user: CurrentUser) -> Me:
    return Me(username=user.username, role=user.role, organisation_id=user.organisation_id)


class TwoFactorEnrolment(BaseModel):
    """Scan ``qr_svg`` (or type ``secret``) into an authenticator app, then confirm."""

    otpauth_uri: str
    secret: str
    qr_svg: str


class TwoFactorCode(BaseModel):
    code: str = Field(min_length=1, max_length=64)


class RecoveryCodes(BaseModel):
    """Shown this once: each signs in once instead of a code, e.g. after losing the phone."""

    recovery_codes: list[str]


@router.post("/2fa/enrol", responses={409: {"description": "Two-factor login is already on"}})
def enrol_two_factor(request: Request, session: SessionDep,
                     user: EnrollingUser) -> TwoFactorEnrolment:
    """Begin (or begin again) enrolling: a new secret, in force once confirmed."""
    try:
        found = two_factor.begin(session, request.app.state.settings, user)
    except two_factor.TwoFactorError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return TwoFactorEnrolment(otpauth_uri=found.uri, secret=found.secret, qr_svg=found.svg)


@router.post("/2fa/confirm", response_model=RecoveryCodes, responses={
    400: {"description": "The code is wrong or used, or there is no enrolment to confirm"}})
def confirm_two_factor(body: TwoFactorCode, request: Request, session: SessionDep,
                       user: EnrollingUser) -> Any:
    """The first code from the app puts two-factor login in force; the answer holds the
    ten recovery codes, never shown again. Other sessions of the user go on; sign in
    again with a code for full access if this token was for enrolling only."""
    try:
        codes = two_factor.confirm(session, request.app.state.settings, user, body.code,
                                   request.app.state.clock())
    except two_factor.TwoFactorError as exc:
        # Answered, not raised: the session then commits, and with it the failure's audit.
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_400_BAD_REQUEST)
    return RecoveryCodes(recovery_codes=codes)


@router.post("/2fa/disable", status_code=status.HTTP_204_NO_CONTENT, response_model=None,
             responses={400: {"description": "The code is wrong or was already used"},
                        409: {"description": "Two-factor login is required for you"}})
def disable_two_factor(body: TwoFactorCode, request: Request, session: SessionDep,
                       user: CurrentUser) -> JSONResponse | None:
    """Turn two-factor login off, where neither the role nor the organisation requires it;
    with a code from the app (or a recovery code), so a stolen token cannot."""
    try:
        two_factor.disable(session, request.app.state.settings, user, body.code,
                           request.app.state.clock())
    except two_factor.WrongCode as exc:
        # Answered, not raised: the session then commits, and with it the failure's audit.
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_400_BAD_REQUEST)
    except two_factor.TwoFactorError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return None
