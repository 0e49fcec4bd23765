"""``/api/users``: admins list users, deactivate and reactivate them, reset passwords and
change roles; ``/api/auth/password``: anyone changes their own password. An organisation's
admin sees and manages only its users; a user out of reach answers 404."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from app import errors
from app.deps import NowDep, SessionDep
from app.organisations.models import Organisation
from app.users import lifecycle, service, two_factor
from app.users.deps import Admin, AnyUser
from app.users.models import Role, User

router = APIRouter(tags=["users"], responses=errors.SIGNED_IN)
Username = Annotated[str, Path(max_length=64)]


class UserOut(BaseModel):
    username: str
    role: Role
    organisation: str | None
    active: bool
    must_change_password: bool
    two_factor: bool
    last_login_at: datetime | None


class PasswordIn(BaseModel):
    password: str = Field(min_length=service.MIN_PASSWORD_LENGTH, max_length=200)
    one_time: bool = Field(default=True, strict=True, description="the user must choose "
                           "their own password at next sign-in")


class RoleIn(BaseModel):
    role: Role
    organisation: str | None = Field(default=None, description="the organisation's id (slug); "
                                     "an organisation's admin keeps users in their own")


class OwnPasswordIn(BaseModel):
    current_password: str = Field(max_length=200)
    new_password: str = Field(min_length=service.MIN_PASSWORD_LENGTH, max_length=200)


def _out(session: SessionDep, user: User) -> UserOut:
    slug = session.scalar(select(Organisation.slug).where(
        Organisation.id == user.organisation_id)) if user.organisation_id else None
    return UserOut(username=user.username, role=user.role, organisation=slug,
                   active=user.active, must_change_password=user.must_change_password,
                   two_factor=user.totp_confirmed_at is not None,
                   last_login_at=user.last_login_at)


def _target(session: SessionDep, admin: User, username: str) -> User:
    try:
        return lifecycle.find(session, admin, username)
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


def _refused(exc: Exception) -> HTTPException:
    code = (status.HTTP_403_FORBIDDEN if isinstance(exc, lifecycle.NotAllowed)
            else status.HTTP_422_UNPROCESSABLE_CONTENT)
    return HTTPException(code, str(exc))


@router.get("/api/users")
def list_users(session: SessionDep, admin: Admin) -> list[UserOut]:
    return [_out(session, user) for user in lifecycle.manageable(session, admin)]


@router.post("/api/users/{username}/deactivate", responses=errors.problems(404))
def deactivate(username: Username, now: NowDep, session: SessionDep,
               admin: Admin) -> UserOut:
    """Signs the user out everywhere at once; reactivating does not revive those sessions."""
    user = _target(session, admin, username)
    try:
        lifecycle.deactivate(session, admin, user, now)
    except lifecycle.NotAllowed as exc:
        raise _refused(exc) from None
    return _out(session, user)


@router.post("/api/users/{username}/reactivate", responses=errors.problems(404))
def reactivate(username: Username, now: NowDep, session: SessionDep,
               admin: Admin) -> UserOut:
    user = _target(session, admin, username)
    lifecycle.reactivate(session, admin, user, now)
    return _out(session, user)


@router.post("/api/users/{username}/two-factor/reset", responses=errors.problems(404))
def reset_two_factor(username: Username, now: NowDep, session: SessionDep,
                     admin: Admin) -> UserOut:
    """After a lost phone: the user's sessions end; they enrol again at the next sign-in."""
    user = _target(session, admin, username)
    try:
        two_factor.reset(session, admin, user, now)
    except lifecycle.NotAllowed as exc:
        raise _refused(exc) from None
    return _out(session, user)


@router.post("/api/users/{username}/password", responses=errors.problems(400, 404))
def reset_password(username: Username, body: PasswordIn, now: NowDep,
                   session: SessionDep, admin: Admin) -> UserOut:
    user = _target(session, admin, username)
    lifecycle.reset_password(session, admin, user, body.password, now,
                             one_time=body.one_time)
    return _out(session, user)


@router.post("/api/users/{username}/role", responses=errors.problems(400, 404))
def set_role(username: Username, body: RoleIn, now: NowDep, session: SessionDep,
             admin: Admin) -> UserOut:
    user = _target(session, admin, username)
    try:
        lifecycle.set_role(session, admin, user, body.role, body.organisation,
                           now)
    except (lifecycle.NotAllowed, LookupError, service.UserError) as exc:
        raise _refused(exc) from None
    return _out(session, user)


@router.post("/api/auth/password", status_code=status.HTTP_204_NO_CONTENT,
             responses={**errors.problems(400), 403: errors.problem(
                 "The current password is wrong")})
def change_own_password(body: OwnPasswordIn, request: Request, session: SessionDep, now: NowDep,
                        user: AnyUser) -> None:
    """Choose a new password (also the way out of a one-time password an admin set)."""
    if not service.password_matches(user, body.current_password):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the current password is wrong")
    lifecycle.change_own_password(session, user, body.new_password, now,
                                  keep_session=request.state.auth_token_id)
