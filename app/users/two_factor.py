"""Two-factor login: TOTP (RFC 6238) from an authenticator app, and one-time recovery codes.

The secret is stored encrypted (``HOTLINE_ENCRYPTION_KEY``) and counts only once the user
has confirmed it with a first code. A code is good for the current 30-second step or the
one on either side (a phone's clock drifts), and only once: the step a login used is kept,
and a code of that step or an earlier one is refused. Recovery codes are stored as argon2
hashes only, shown once, and each works once. Never commits; changes are audited here.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.config import Settings
from app.db import rowcount
from app.organisations.models import Organisation
from app.privacy import crypto
from app.users import lifecycle, service
from app.users.models import AuthToken, RecoveryCode, Role, User

ISSUER = "Hotline"
STEP_SECONDS = 30
VALID_WINDOW = 1  # steps either side of now
RECOVERY_CODES = 10
# No 0/o, 1/l/i: read off paper and typed on a phone.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class TwoFactorError(ValueError):
    """The change cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class Enrolment:
    """What the user's authenticator app needs: the secret, as a URI and as a QR code."""

    secret: str
    uri: str
    svg: str


def enabled(user: User) -> bool:
    return user.totp_confirmed_at is not None and user.totp_secret_encrypted is not None


def required(session: Session, user: User) -> bool:
    """Admins and coordinators always; operators when their organisation says so."""
    if user.role in (Role.ADMIN, Role.COORDINATOR):
        return True
    if user.organisation_id is None:
        return False
    organisation = session.get(Organisation, user.organisation_id)
    return bool(organisation and organisation.require_2fa)


def must_enrol(session: Session, user: User) -> bool:
    """Signed in with the password only and allowed nothing but enrolling."""
    return not enabled(user) and required(session, user)


def begin(session: Session, settings: Settings, user: User) -> Enrolment:
    """A new secret, not yet in force (confirm() makes it so)."""
    if enabled(user):
        raise TwoFactorError("two-factor login is already on: turn it off first")
    secret = pyotp.random_base32()
    user.totp_secret_encrypted = crypto.encrypt(settings.encryption_key, secret)
    user.totp_confirmed_at = None
    user.totp_last_step = None
    session.flush()
    return enrolment_of(secret, user.username)


def pending(settings: Settings, user: User) -> Enrolment | None:
    """The enrolment begun and not yet confirmed, to show its QR code again."""
    if enabled(user) or user.totp_secret_encrypted is None:
        return None
    return enrolment_of(_secret(settings, user), user.username)


def enrolment_of(secret: str, username: str) -> Enrolment:
    # The issuer and the username only: nothing about the organisation or the hotline's
    # address ends up in the authenticator app of a phone that may be searched.
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathFillImage)
    svg = image.to_string(encoding="unicode")
    return Enrolment(secret=secret, uri=uri, svg=svg)


def confirm(session: Session, settings: Settings, user: User, code: str,
            now: datetime) -> list[str]:
    """Put the pending secret in force with a first valid code; the new recovery codes
    (in clear, to be shown once). Raises TwoFactorError for a wrong code."""
    if enabled(user) or user.totp_secret_encrypted is None:
        raise TwoFactorError("there is no enrolment to confirm: begin one first")
    step = _matching_step(settings, user, code, now)
    if step is None:
        audit.record(session, user, "auth.2fa.failed", now, stage="enrolment")
        raise TwoFactorError("the code is wrong or has been used: try the next one")
    user.totp_last_step = step
    user.totp_confirmed_at = now
    codes = _new_recovery_codes(session, user, now)
    audit.record(session, user, "auth.2fa.enrolled", now)
    return codes


def verify(session: Session, settings: Settings, user: User, code: str,
           now: datetime) -> bool:
    """A login's second factor: a TOTP code not used before, or an unused recovery code.
    A failure is not audited here: the login is (app.users.api)."""
    if not enabled(user):
        return False
    compact = code.replace(" ", "").strip()
    if len(compact) == 6 and compact.isdigit():
        step = _matching_step(settings, user, compact, now)
        if step is None:
            return False
        user.totp_last_step = step
        return True
    return _use_recovery_code(session, user, code, now)


class WrongCode(TwoFactorError):
    """The code given to confirm an action is wrong or was used already."""


def disable(session: Session, settings: Settings, user: User, code: str,
            now: datetime) -> None:
    """The user turns two-factor login off (only where it is not required), with a code
    from the app or a recovery code: a stolen session alone cannot turn it off."""
    if required(session, user):
        raise TwoFactorError("two-factor login is required for you and cannot be turned off")
    if not enabled(user) and user.totp_secret_encrypted is None:
        return
    if enabled(user) and not verify(session, settings, user, code, now):
        audit.record(session, user, "auth.2fa.failed", now, during="disable")
        raise WrongCode("that code is wrong or was already used")
    _clear(session, user)
    audit.record(session, user, "auth.2fa.disabled", now)


def reset(session: Session, actor: User | None, user: User, now: datetime) -> None:
    """An admin (or the command line, ``actor`` None) clears another user's two-factor
    login, e.g. after a lost phone: every session of the user ends, and at the next
    sign-in they enrol again (if it is required) with the password only."""
    if actor is not None and actor.id == user.id:
        raise lifecycle.NotAllowed("you cannot reset your own two-factor login: "
                                   "ask another admin")
    if actor is not None and (actor.role is not Role.ADMIN
                              or not lifecycle._may_manage(actor, user)):
        raise LookupError(f"no user {user.username!r}")
    _clear(session, user)
    ended = rowcount(session.execute(delete(AuthToken).where(AuthToken.user_id == user.id)))
    detail: lifecycle.UserAudit = {"user_id": user.id, "username": user.username,
                                   "tokens_revoked": ended}
    if actor is None:
        audit.record_system(session, "auth.2fa.reset", now,
                            organisation_id=user.organisation_id, via="command line",
                            **detail)
    else:
        audit.record(session, actor, "auth.2fa.reset", now, **detail)


def remaining_recovery_codes(session: Session, user: User) -> int:
    return len(_unused_codes(session, user))


def _secret(settings: Settings, user: User) -> str:
    return crypto.decrypt(settings.encryption_key, user.totp_secret_encrypted or "")


def _matching_step(settings: Settings, user: User, code: str, now: datetime) -> int | None:
    """The time step within the window whose code this is, if not used already."""
    code = code.replace(" ", "").strip()
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(_secret(settings, user))
    current = int(now.timestamp()) // STEP_SECONDS
    last = user.totp_last_step if user.totp_last_step is not None else -1
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        # Every candidate is compared, so timing does not tell which step matched.
        if secrets.compare_digest(totp.generate_otp(step), code) and step > last:
            return step
    return None


def _new_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=service.hash_secret(code),
                                 created_at=now) for code in codes)
    session.flush()
    return codes


def _recovery_code() -> str:
    letters = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"


def normalise_recovery_code(code: str) -> str:
    """As printed (xxxx-xxxx), whatever case, spaces or dash the user typed."""
    letters = "".join(c for c in code.lower() if c.isalnum())
    return f"{letters[:4]}-{letters[4:]}" if len(letters) == 8 else ""


def _unused_codes(session: Session, user: User) -> list[RecoveryCode]:
    return list(session.scalars(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))))


def _use_recovery_code(session: Session, user: User, code: str, now: datetime) -> bool:
    typed = normalise_recovery_code(code)
    if not typed:
        return False
    unused = _unused_codes(session, user)
    for row in unused:
        if service.secret_matches(row.code_hash, typed):
            row.used_at = now
            audit.record(session, user, "auth.2fa.recovery_used", now,
                         remaining=len(unused) - 1)
            return True
    return False


def _clear(session: Session, user: User) -> None:
    user.totp_secret_encrypted = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
