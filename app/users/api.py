"""``POST /api/auth/token``: the OAuth2 password flow, with a two-factor code as ``otp``
where the user has one, rate-limited per account and address; and enrolling in two-factor
login (``/api/auth/2fa``)."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, status
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from app import errors
from app.deps import AddressDep, NowDep, SessionDep, SessionFactoryDep, SettingsDep
from app.users import service, signin, two_factor
from app.users.deps import AnyUser, CurrentUser, EnrollingUser, oauth2_scheme
from app.users.models import Role

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=errors.problems(503))
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


def answer(found: signin.Attempt) -> service.IssuedToken:
    """The API's answer to an attempt: the token, or the HTTP error saying why not."""
    if found.outcome is signin.Outcome.LIMITED:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            "too many failed logins; try again later",
                            headers={"Retry-After": "900"})
    if found.outcome is signin.Outcome.CODE_REQUIRED:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, TWO_FACTOR_REQUIRED,
                            headers={"WWW-Authenticate": "Bearer",
                                     TWO_FACTOR_HEADER: "required"})
    if found.outcome is signin.Outcome.CODE_WRONG:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong or used two-factor code",
                            headers={"WWW-Authenticate": "Bearer",
                                     TWO_FACTOR_HEADER: "required"})
    if found.issued is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password",
                            headers={"WWW-Authenticate": "Bearer"})
    return found.issued


@router.post("/token", responses={
    **errors.problems(400),
    401: errors.problem("Wrong username or password; or, with the header "
                        "`X-Two-Factor: required`, the two-factor code is missing or wrong"),
    429: errors.problem("Too many failed logins lately")})
def token(sessions: SessionFactoryDep, settings: SettingsDep, now: NowDep, address: AddressDep,
          form: Annotated[OAuth2PasswordRequestForm, Depends()],
          otp: Annotated[str | None, Form(max_length=64, description=(
              "the 6-digit code of the authenticator app, or a recovery code"))] = None
          ) -> Token:
    found = signin.attempt(sessions, settings, now, address, form.username, form.password,
                           otp)
    issued = answer(found)
    return Token(access_token=issued.token, expires_at=issued.expires_at,
                 enrol_two_factor=found.enrol)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT,
             responses=errors.problems(401))
def logout(session: SessionDep, now: NowDep, user: AnyUser,
           bearer: Annotated[str | None, Depends(oauth2_scheme)]) -> None:
    """End this token's session now (audited)."""
    service.revoke_token(session, user, bearer or "", now)


@router.get("/me", responses=errors.problems(401, 403))
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


@router.post("/2fa/enrol", responses={**errors.problems(401, 403),
                                      409: errors.problem("Two-factor login is already on")})
def enrol_two_factor(session: SessionDep, settings: SettingsDep,
                     user: EnrollingUser) -> TwoFactorEnrolment:
    """Begin (or begin again) enrolling: a new secret, in force once confirmed."""
    try:
        found = two_factor.begin(session, settings, user)
    except two_factor.TwoFactorError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return TwoFactorEnrolment(otpauth_uri=found.uri, secret=found.secret, qr_svg=found.svg)


@router.post("/2fa/confirm", response_model=RecoveryCodes, responses={
    **errors.problems(401, 403),
    400: errors.problem("The body is unreadable, the code is wrong or used, or there is no "
                        "enrolment to confirm")})
def confirm_two_factor(body: TwoFactorCode, session: SessionDep, settings: SettingsDep,
                       now: NowDep, user: EnrollingUser) -> Any:
    """The first code from the app puts two-factor login in force; the answer holds the
    ten recovery codes, never shown again. Other sessions of the user go on; sign in
    again with a code for full access if this token was for enrolling only."""
    try:
        codes = two_factor.confirm(session, settings, user, body.code, now)
    except two_factor.TwoFactorError as exc:
        # Answered, not raised: the session then commits, and with it the failure's audit.
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_400_BAD_REQUEST)
    return RecoveryCodes(recovery_codes=codes)


@router.post("/2fa/disable", status_code=status.HTTP_204_NO_CONTENT, response_model=None,
             responses={**errors.problems(401, 403),
                        400: errors.problem("The body is unreadable, or the code is wrong or "
                                            "was already used"),
                        409: errors.problem("Two-factor login is required for you")})
def disable_two_factor(body: TwoFactorCode, session: SessionDep, settings: SettingsDep,
                       now: NowDep, user: CurrentUser) -> JSONResponse | None:
    """Turn two-factor login off, where neither the role nor the organisation requires it;
    with a code from the app (or a recovery code), so a stolen token cannot."""
    try:
        two_factor.disable(session, settings, user, body.code, now)
    except two_factor.WrongCode as exc:
        # Answered, not raised: the session then commits, and with it the failure's audit.
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_400_BAD_REQUEST)
    except two_factor.TwoFactorError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return None
