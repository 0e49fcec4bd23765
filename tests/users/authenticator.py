"""An authenticator app for tests: enrol a user in two-factor login and read its codes.

Users whose role or organisation requires two-factor login cannot do anything but enrol
until they have; the sign-in helpers (tests/users/people.py, tests/console/helpers.py)
enrol them here, directly (no recovery codes, no audit entry), and sign in with a code.
The tests' clock stands still, so each code is the next unused step of the window.
"""

from datetime import datetime

import pyotp
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.privacy import crypto
from app.users import two_factor
from app.users.models import User


def enrol(session: Session, settings: Settings, user: User, now: datetime) -> str:
    """Two-factor login in force for the user; the secret (what the QR code holds)."""
    secret = pyotp.random_base32()
    user.totp_secret_encrypted = crypto.encrypt(settings.encryption_key, secret)
    user.totp_confirmed_at = now
    user.totp_last_step = None
    session.flush()
    return secret


def enrol_if_required(session: Session, app: FastAPI, username: str) -> None:
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is not None and not two_factor.enabled(user) and two_factor.required(session, user):
        enrol(session, app.state.settings, user, app.state.clock())
    # Always ended: SQLite's transactions here take the write lock from their first read,
    # and the sign-in that follows must write.
    session.commit()


def code(secret: str, now: datetime, last_step: int | None = None) -> str:
    """The code for the first step of the window (now ±1) not used yet."""
    current = int(now.timestamp()) // two_factor.STEP_SECONDS
    for step in range(current - 1, current + 2):
        if last_step is None or step > last_step:
            return pyotp.TOTP(secret).generate_otp(step)
    raise AssertionError("every code of this moment is used: move the clock on")


def code_for(app: FastAPI, username: str) -> str | None:
    """The next code of the user's authenticator, or None if they have no two-factor."""
    with app.state.sessionmaker() as session:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None or not two_factor.enabled(user):
            return None
        secret = crypto.decrypt(app.state.settings.encryption_key,
                                user.totp_secret_encrypted or "")
        return code(secret, app.state.clock(), user.totp_last_step)
