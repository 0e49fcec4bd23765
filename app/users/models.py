"""People who use the console and API, their sessions, and failed logins.

An operator belongs to exactly one organisation and sees only its cases; a coordinator
sees aggregates only; an admin manages the directory, users and the audit log.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, db_enum, utcnow


class Role(StrEnum):
    OPERATOR = "operator"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role != 'operator' OR organisation_id IS NOT NULL",
                        name="operator_has_organisation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(db_enum(Role))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"),
                                                        index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # On duty: rung for calls when the organisation's ring mode is on_duty, alerted on
    # escalations, and called first by a masked call-back. The phone is the operator's own,
    # kept encrypted; it never reaches a caller's display (Twilio shows the hotline's).
    on_duty: Mapped[bool] = mapped_column(default=False, server_default=false())
    duty_phone_encrypted: Mapped[str | None] = mapped_column(String(400))
    duty_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when an admin gives a one-time password: nothing but changing it is allowed.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Two-factor login (TOTP): the secret is encrypted; it counts only once confirmed by a
    # first code. The last time step used makes each code good for one login.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(400))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(Base):
    """One single-use recovery code for a lost authenticator; only its hash is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuthToken(Base):
    """A bearer token or console session. Only its SHA-256 is stored."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))  # for console forms
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LoginFailure(Base):
    """One failed login, for rate limiting per account and per address."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
