"""Users from their creation on: create, list, deactivate, reactivate, reset a password,
change a role. Never commits; every change is audited here, once, whoever asks (API, console, CLI).

Deactivating deletes every token of the user at once, so a later reactivation means
signing in again, never old sessions coming back. An admin of an organisation manages that
organisation's users only; an admin of no organisation (the hotline's) manages everyone.
``actor`` None is the command line on the server, which is trusted like a hotline admin.
"""

from datetime import datetime
from typing import TypedDict, Unpack

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.db import rowcount
from app.organisations.models import Organisation
from app.users import service
from app.users.models import AuthToken, Role, User


class NotAllowed(PermissionError):
    """The actor may not do this to that user; the message says why."""


class UserChange(TypedDict, total=False):
    """What an audit entry about a user records besides who the user is."""

    tokens_revoked: int
    one_time: bool
    role: str
    before: list[str | int | None]  # [role, organisation id]
    after: list[str | int | None]


class UserAudit(UserChange):
    """The detail of an audit entry about a user."""

    user_id: int
    username: str


def manageable(session: Session, actor: User | None) -> list[User]:
    query = select(User).order_by(User.username)
    if actor is not None and actor.organisation_id is not None:
        query = query.where(User.organisation_id == actor.organisation_id)
    return list(session.scalars(query))


def find(session: Session, actor: User | None, username: str) -> User:
    """The user, if the actor may manage them; LookupError otherwise (the same for a user
    of another organisation as for none, as with cases)."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None or not _may_manage(actor, user):
        raise LookupError(f"no user {username!r}")
    return user


def create(session: Session, actor: User | None, username: str, password: str, role: Role,
           organisation_slug: str | None, now: datetime, *, one_time: bool) -> User:
    """A new user (``app.users.service.create_user`` checks the name, password and
    organisation). ``one_time``: whoever typed the password knows it, so the user chooses
    their own at first sign-in, as after a reset."""
    user = service.create_user(session, username, password, role, organisation_slug)
    user.must_change_password = one_time
    _audit(session, actor, "user.create", now, user, role=role.value, one_time=one_time)
    return user


def deactivate(session: Session, actor: User | None, user: User, now: datetime) -> int:
    """Sign the user out everywhere for good; returns how many sessions ended."""
    if actor is not None and actor.id == user.id:
        raise NotAllowed("you cannot deactivate yourself")
    _keep_one_hotline_admin(session, user)
    user.active = False
    revoked = rowcount(session.execute(delete(AuthToken).where(AuthToken.user_id == user.id)))
    _audit(session, actor, "user.deactivate", now, user, tokens_revoked=revoked)
    return revoked


def reactivate(session: Session, actor: User | None, user: User, now: datetime) -> None:
    user.active = True
    _audit(session, actor, "user.reactivate", now, user)


def reset_password(session: Session, actor: User | None, user: User, password: str,
                   now: datetime, *, one_time: bool) -> None:
    """A new password; ``one_time``: the user must choose their own at next sign-in. Every
    session of the user ends, so whoever knew the old password is out."""
    user.password_hash = service.hash_password(password)
    user.must_change_password = one_time
    session.execute(delete(AuthToken).where(AuthToken.user_id == user.id))
    _audit(session, actor, "user.password_reset", now, user, one_time=one_time)


def change_own_password(session: Session, user: User, new_password: str, now: datetime,
                        keep_session: int | None = None) -> None:
    """Every other session of the user ends (whoever knew the old password is out); the
    one the change was made from, ``keep_session``, goes on."""
    user.password_hash = service.hash_password(new_password)
    user.must_change_password = False
    ended = rowcount(session.execute(delete(AuthToken).where(
        AuthToken.user_id == user.id, AuthToken.id != (keep_session or 0))))
    audit.record(session, user, "user.password_change", now, sessions_ended=ended)


def set_role(session: Session, actor: User | None, user: User, role: Role,
             organisation_slug: str | None, now: datetime) -> None:
    organisation_id = _organisation_for(session, actor, role, organisation_slug,
                                        user.organisation_id)
    if user.role is Role.ADMIN and (role is not Role.ADMIN or organisation_id is not None):
        _keep_one_hotline_admin(session, user)
    before = (user.role.value, user.organisation_id)
    user.role, user.organisation_id = role, organisation_id
    _audit(session, actor, "user.role", now, user, before=list(before),
           after=[role.value, organisation_id])


def _organisation_for(session: Session, actor: User | None, role: Role, slug: str | None,
                      current: int | None) -> int | None:
    if actor is not None and actor.organisation_id is not None:
        if role is Role.COORDINATOR:
            raise NotAllowed("coordinators see the whole hotline: ask a hotline admin")
        return actor.organisation_id  # an organisation's admin keeps users in it
    if slug:
        found = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
        if found is None:
            raise LookupError(f"no organisation {slug!r}")
        return found
    if role is Role.OPERATOR and current is None:
        raise service.UserError("an operator needs an organisation")
    return current if role is Role.OPERATOR else None


def _may_manage(actor: User | None, user: User) -> bool:
    return actor is None or actor.organisation_id is None or (
        actor.organisation_id == user.organisation_id)


def _keep_one_hotline_admin(session: Session, user: User) -> None:
    if user.role is not Role.ADMIN or user.organisation_id is not None:
        return
    others = session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.organisation_id.is_(None), User.active.is_(True),
        User.id != user.id)) or 0
    if others == 0:
        raise NotAllowed("this is the hotline's last active admin: make another first")


def _audit(session: Session, actor: User | None, action: str, now: datetime, user: User,
           **change: Unpack[UserChange]) -> None:
    detail: UserAudit = {"user_id": user.id, "username": user.username, **change}
    if actor is None:
        audit.record_system(session, action, now, organisation_id=user.organisation_id,
                            via="command line", **detail)
    else:
        audit.record(session, actor, action, now, **detail)
