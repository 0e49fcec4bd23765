"""A sign-in whose password was right, waiting for its two-factor code.

Kept in the browser, not the database: a short-lived cookie encrypted and authenticated
with the encryption key (Fernet, whose token carries its own time), holding the user's id
and a stamp of their password hash. It lets the second step ask for the code only: it
never signs anyone in by itself, a password reset voids it, and every wrong code counts
towards the login limit like a wrong password.
"""

from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from fastapi import Request, Response

from app.config import Settings
from app.console import auth
from app.privacy import crypto
from app.users.deps import cookie_name, secure_cookies

PENDING_COOKIE = "hotline_login_pending"
PENDING_SECONDS = 300


@dataclass(frozen=True)
class Pending:
    user_id: int
    password_stamp: str


def _fernet(settings: Settings) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in crypto.keys_of(settings.encryption_key)])


def set_pending(response: Response, settings: Settings, pending: Pending, now: datetime
                ) -> None:
    value = f"{pending.user_id}:{pending.password_stamp}".encode()
    token = _fernet(settings).encrypt_at_time(value, int(now.timestamp())).decode()
    response.set_cookie(cookie_name(settings, PENDING_COOKIE), token, max_age=PENDING_SECONDS,
                        path=auth.login_cookie_path(settings), httponly=True,
                        samesite="strict", secure=secure_cookies(settings))


def read_pending(request: Request, settings: Settings, now: datetime) -> Pending | None:
    """The pending sign-in, if its cookie is genuine and younger than five minutes."""
    token = request.cookies.get(cookie_name(settings, PENDING_COOKIE), "")
    try:
        value = _fernet(settings).decrypt_at_time(token.encode(), PENDING_SECONDS,
                                                  int(now.timestamp())).decode()
        user_id, stamp = value.split(":", 1)
        return Pending(int(user_id), stamp)
    except (InvalidToken, ValueError):
        return None


def clear_pending(response: Response, settings: Settings) -> None:
    auth.clear_login_cookie(response, settings, PENDING_COOKIE)
