"""Signing in, for the API's token and the console's form alike: the password, the
two-factor code, the rate limit, and the audit entry of every attempt, refused ones too
(``auth.login``, ``auth.login_failed``, ``auth.login_refused``, ``auth.2fa.failed``).
Each attempt runs in a transaction of its own, committed whatever the request then does.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.config import Settings
from app.users import service, two_factor
from app.users.models import User

Sessions = Callable[[], Session]


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


def attempt(sessions: Sessions, settings: Settings, now: datetime, address: str,
            username: str, password: str, otp: str | None) -> Attempt:
    """Check the password (and the code, for a user with two-factor login) and issue a
    token. In a transaction of its own (``sessions``): failures are committed even though
    the request fails, or the rate limit would never count them."""
    with sessions() as session, session.begin():
        try:
            user = service.authenticate(session, settings, username, password, address, now)
        except service.TooManyAttempts:
            _audit_refusal(session, username, address, limited=True, now=now)
            return Attempt(Outcome.LIMITED)
        if user is None:
            _audit_refusal(session, username, address, limited=False, now=now)
            return Attempt(Outcome.FAILED)
        return _second_factor(session, settings, user, otp, address, now)


def attempt_code(sessions: Sessions, settings: Settings, now: datetime, address: str,
                 user_id: int, password_stamp: str, otp: str) -> Attempt:
    """The console's second step: the code for a sign-in whose password was right."""
    with sessions() as session, session.begin():
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
