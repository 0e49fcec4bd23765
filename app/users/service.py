"""Creating users, checking passwords, issuing and resolving tokens. Never commits."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.config import Settings
from app.organisations.models import Organisation
from app.users.models import AuthToken, LoginFailure, Role, User

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Verifying against this when the user does not exist costs the same time as a real check,
# so response times do not tell which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UserError(ValueError):
    """A user cannot be created as asked; the message says why."""


class TooManyAttempts(Exception):
    """Login refused for a while: too many failures for this account or address."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return hash_secret(password)


def hash_secret(secret: str) -> str:
    """Argon2, for passwords and recovery codes alike."""
    return _hasher.hash(secret)


def secret_matches(secret_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def use_hasher(hasher: PasswordHasher) -> None:
    """Other argon2 costs. Only the tests call this: they sign in thousands of times, and
    check that secrets are hashed and verified, not how slowly."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


def create_user(session: Session, username: str, password: str, role: Role,
                organisation_slug: str | None) -> User:
    password_hash = hash_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} already exists")
    organisation_id = None
    if role is Role.OPERATOR and not organisation_slug:
        raise UserError("an operator needs --org, the organisation they work for")
    if organisation_slug:
        organisation_id = session.scalar(
            select(Organisation.id).where(Organisation.slug == organisation_slug))
        if organisation_id is None:
            raise UserError(f"no organisation {organisation_slug!r} "
                            "(`hotline directory list --json` lists them)")
    user = User(username=username, password_hash=password_hash, role=role,
                organisation_id=organisation_id)
    session.add(user)
    session.flush()
    return user


def _window_start(settings: Settings, now: datetime) -> datetime:
    return now - timedelta(minutes=settings.login_window_minutes)


def check_rate_limit(session: Session, settings: Settings, username: str, address: str,
                     now: datetime) -> None:
    """Raises TooManyAttempts if the account or the address failed too often recently."""
    since = _window_start(settings, now)
    by_account = session.scalar(select(func.count()).where(
        LoginFailure.username == username.lower(), LoginFailure.at >= since)) or 0
    by_address = session.scalar(select(func.count()).where(
        LoginFailure.address == address, LoginFailure.at >= since)) or 0
    if (by_account >= settings.login_max_failures_per_account
            or by_address >= settings.login_max_failures_per_address):
        raise TooManyAttempts


def record_failure(session: Session, username: str, address: str, now: datetime) -> None:
    """A wrong password or a wrong second-factor code: both count towards the limit."""
    session.add(LoginFailure(username=username.lower()[:64], address=address[:64], at=now))


def authenticate(session: Session, settings: Settings, username: str, password: str,
                 address: str, now: datetime) -> User | None:
    """The active user with this password, or None. Raises TooManyAttempts first if the
    account or the address has failed too often recently. The password alone does not
    clear the failures: complete_login() does, once any second factor is right too, or
    a right password would reset the count of wrong codes."""
    check_rate_limit(session, settings, username, address, now)
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if not _password_matches(user.password_hash if user else _DUMMY_HASH, password) or (
            user is None or not user.active):
        record_failure(session, username, address, now)
        return None
    return user


def complete_login(session: Session, user: User, now: datetime) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.username == user.username.lower()))
    user.last_login_at = now


def password_matches(user: User, password: str) -> bool:
    return _password_matches(user.password_hash, password)


def _password_matches(password_hash: str, password: str) -> bool:
    return secret_matches(password_hash, password)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    csrf_token: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, settings: Settings, user: User, now: datetime
                ) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    issued = IssuedToken(token=token, csrf_token=secrets.token_urlsafe(24),
                         expires_at=now + timedelta(hours=settings.session_hours))
    session.add(AuthToken(token_hash=_digest(token), user_id=user.id, created_at=now,
                          csrf_token=issued.csrf_token, expires_at=issued.expires_at))
    return issued


def resolve_token(session: Session, token: str, now: datetime) -> tuple[User, AuthToken] | None:
    row = session.scalars(select(AuthToken).where(AuthToken.token_hash == _digest(token))
                          ).one_or_none()
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return user, row


def revoke_token(session: Session, user: User, token: str, now: datetime) -> None:
    """Sign out this session (audited)."""
    session.execute(delete(AuthToken).where(AuthToken.token_hash == _digest(token)))
    audit.record(session, user, "auth.logout", now)


def list_users(session: Session) -> list[User]:
    """Every user, by username, for the admins' console page."""
    return list(session.scalars(select(User).order_by(User.username)))
