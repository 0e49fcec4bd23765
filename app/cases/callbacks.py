"""Call-backs a caller asked for, worked without their number ever reaching a person.

The number stays encrypted in ``callback_requests``; operators see it masked (country code
and last two digits). Calling back is a masked call (``app.channels.voice.callback``): Twilio
rings the operator's own phone, then the caller, and both displays show the hotline's
number. Each try is one ``CallbackAttempt``; what came of it is recorded once by
``finish``, however often Twilio retries a webhook. Never commits.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.cases import claims, history
from app.cases.models import CallbackAttempt, CallbackOutcome, CallbackRequest, Case
from app.config import Settings
from app.detection.country import parse_number
from app.privacy import crypto
from app.sending import SendError
from app.twilio import paths
from app.twilio.rest import Outbound
from app.users.models import User

logger = logging.getLogger(__name__)

MASK = "•"
# Outcomes that end an attempt. Only those reached after the caller's phone was dialled
# count as a try at the caller (``CallbackRequest.attempts``).
FINAL = frozenset({CallbackOutcome.OPERATOR_NO_ANSWER, CallbackOutcome.NO_ANSWER,
                   CallbackOutcome.NOT_SAFE, CallbackOutcome.COMPLETED, CallbackOutcome.FAILED})
CALLER_DIALLED = frozenset({CallbackOutcome.DIALLING_CALLER, CallbackOutcome.CONNECTED})


class NoDutyPhone(claims.Conflict):
    """The operator has no phone of their own on their duty profile to be rung on."""


class NotCallable(claims.Conflict):
    """The call-back is done, or its number was erased (purged, or the caller was called)."""


@dataclass(frozen=True)
class CallbackView:
    id: int
    requested_at: datetime
    language: str | None
    number_masked: str | None  # None once done or purged
    attempts: int
    last_attempt_at: datetime | None
    last_outcome: str | None
    pending: bool
    completed_at: datetime | None


def mask(number: str) -> str:
    """``+77010000014`` -> ``+7 ••• ••• •• 14``: the country code and the last two digits,
    grouped as the number is written, so an operator can tell two requests apart and a
    caller can recognise their own number, and nobody can dial it."""
    parsed = parse_number(number)
    if parsed is None:
        return MASK * 4
    written = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    prefix = f"+{parsed.country_code}"
    rest = re.sub(r"[^\d ]", " ", written.removeprefix(prefix)).split()
    digits = sum(len(group) for group in rest)
    shown, seen = [], 0
    for group in rest:
        masked = "".join(c if seen + i >= digits - 2 else MASK for i, c in enumerate(group))
        seen += len(group)
        if len(group) > 2 and seen == digits:  # the last two digits stand apart
            masked = f"{masked[:-2]} {masked[-2:]}"
        shown.append(masked)
    return " ".join([prefix, *shown])


def caller_id(settings: Settings) -> str | None:
    """The hotline's number that both phones show; None if there is none to show."""
    for candidate in (settings.voice_caller_id, settings.sms_sender):
        number = parse_number(candidate) if candidate.startswith("+") else None
        if number is not None and phonenumbers.is_possible_number(number):
            return candidate
    return None


def _rows(session: Session, case: Case) -> list[CallbackRequest]:
    return list(session.scalars(select(CallbackRequest).where(CallbackRequest.case_id == case.id)
                                .order_by(CallbackRequest.created_at, CallbackRequest.id)))


def _view(settings: Settings, row: CallbackRequest) -> CallbackView:
    number = (crypto.decrypt(settings.encryption_key, row.number_encrypted)
              if row.number_encrypted else None)
    return CallbackView(id=row.id, requested_at=row.created_at, language=row.language,
                        number_masked=mask(number) if number else None, attempts=row.attempts,
                        last_attempt_at=row.last_attempt_at, last_outcome=row.last_outcome,
                        pending=row.completed_at is None and number is not None,
                        completed_at=row.completed_at)


def view(session: Session, settings: Settings, user: User, case: Case, now: datetime
         ) -> list[CallbackView]:
    """The case's call-back requests, numbers masked; any operator of the case's
    organisation may read them. Audited when there are any (as a thread is: nothing shown
    is nothing viewed)."""
    views = [_view(settings, row) for row in _rows(session, case)]
    if views:
        audit.record(session, user, "case.callbacks.view", now, case_id=case.id,
                     pending=sum(v.pending for v in views))
    return views


def _request(session: Session, case: Case, callback_id: int) -> CallbackRequest:
    row = session.scalars(select(CallbackRequest).where(
        CallbackRequest.id == callback_id, CallbackRequest.case_id == case.id)).one_or_none()
    if row is None:
        raise claims.NotFound(str(callback_id))
    return row


def complete(session: Session, settings: Settings, user: User, case: Case, callback_id: int,
             now: datetime) -> CallbackView:
    """The operator marks the call-back done (reached another way, or no longer wanted):
    the number is no longer needed, so it is erased."""
    claims.require_claim(case, user, now)
    claims.touch(settings, case, now)
    row = _request(session, case, callback_id)
    row.completed_at = row.completed_at or now
    row.number_encrypted = None
    audit.record(session, user, "case.callback.done", now, case_id=case.id, callback_id=row.id)
    history.record(session, case.id, "callback.done", now, user_id=user.id,
                   organisation_id=case.organisation_id, callback_id=row.id)
    return _view(settings, row)


@dataclass(frozen=True)
class Dialling:
    """A call-back about to be placed: the attempt, and the operator's phone to ring."""

    attempt: CallbackAttempt
    operator_phone: str


def callable_request(session: Session, user: User, case: Case, callback_id: int,
                     now: datetime) -> CallbackRequest:
    """The request, if this operator may call it back now; otherwise why not, as an error."""
    claims.require_claim(case, user, now)
    row = _request(session, case, callback_id)
    if row.completed_at is not None or row.number_encrypted is None:
        raise NotCallable("the call-back is done or its number was erased")
    _duty_phone(user)
    return row


def _duty_phone(user: User) -> str:
    """The operator's own phone (encrypted), to be rung first; refused if there is none."""
    if not user.duty_phone_encrypted:
        raise NoDutyPhone("no phone on your duty profile: add your own phone number to it "
                          "to be rung for call-backs")
    return user.duty_phone_encrypted


def start(session: Session, settings: Settings, user: User, case: Case, callback_id: int,
          now: datetime) -> Dialling:
    """A new attempt at calling the caller back through the operator's own phone (needs the
    claim; audited). The caller is dialled only once the operator answers and presses 1."""
    row = callable_request(session, user, case, callback_id, now)
    claims.touch(settings, case, now)
    attempt = CallbackAttempt(callback_id=row.id, case_id=case.id, user_id=user.id,
                              outcome=CallbackOutcome.DIALLING_OPERATOR, started_at=now)
    session.add(attempt)
    session.flush()
    row.last_outcome = attempt.outcome.value  # under way: the case page says so
    audit.record(session, user, "case.callback.call", now, case_id=case.id,
                 callback_id=row.id, attempt_id=attempt.id)
    return Dialling(attempt, crypto.decrypt(settings.encryption_key, _duty_phone(user)))


def placed(attempt: CallbackAttempt, operator_call_sid: str) -> None:
    attempt.operator_call_sid = operator_call_sid


def get_attempt(session: Session, attempt_id: int) -> CallbackAttempt | None:
    return session.get(CallbackAttempt, attempt_id)


def request_of(session: Session, attempt: CallbackAttempt) -> CallbackRequest:
    return session.get_one(CallbackRequest, attempt.callback_id)


def number_to_call(session: Session, settings: Settings, attempt: CallbackAttempt
                   ) -> str | None:
    """The caller's number, decrypted only to be put into the TwiML Twilio dials."""
    row = request_of(session, attempt)
    if row.completed_at is not None or row.number_encrypted is None:
        return None
    return crypto.decrypt(settings.encryption_key, row.number_encrypted)


ONWARD = (CallbackOutcome.DIALLING_OPERATOR, CallbackOutcome.DIALLING_CALLER,
          CallbackOutcome.CONNECTED)


def advance(session: Session, attempt: CallbackAttempt, outcome: CallbackOutcome) -> None:
    """Dialling the operator, then the caller, then connected: only ever forward, and not
    after the end, so a retried webhook changes nothing. The case page shows it."""
    if attempt.outcome in ONWARD and ONWARD.index(outcome) > ONWARD.index(attempt.outcome):
        attempt.outcome = outcome
        request_of(session, attempt).last_outcome = outcome.value


def abandon(attempt: CallbackAttempt, now: datetime) -> None:
    """The request went (done or purged) while the operator's phone rang: the attempt ends
    without a try at the caller, and the request is left as it is."""
    if attempt.outcome not in FINAL:
        attempt.outcome = CallbackOutcome.FAILED
        attempt.ended_at = now


def finish(session: Session, attempt: CallbackAttempt, outcome: CallbackOutcome,
           now: datetime) -> bool:
    """Record how the attempt ended, once: False if it had already ended.

    A caller not reached or not safe keeps the request pending, with the try counted; a
    conversation that took place erases the number. The operator not answering is no try
    at the caller and is not counted."""
    if attempt.outcome in FINAL:
        return False
    counted = attempt.outcome in CALLER_DIALLED
    attempt.outcome = outcome
    attempt.ended_at = now
    row = request_of(session, attempt)
    row.last_outcome = outcome.value
    if counted:
        row.attempts += 1
        row.last_attempt_at = now
    if outcome is CallbackOutcome.COMPLETED:
        row.number_encrypted = None
        row.completed_at = row.completed_at or now
    case = session.get_one(Case, attempt.case_id)
    audit.record_system(session, "case.callback.outcome", now,
                        organisation_id=case.organisation_id, case_id=case.id,
                        callback_id=row.id, attempt_id=attempt.id, outcome=outcome.value)
    history.record(session, case.id, "callback.attempt", now, user_id=attempt.user_id,
                   organisation_id=case.organisation_id, callback_id=row.id,
                   attempt_id=attempt.id, outcome=outcome.value)
    return True


# --- placing the call (the API and the console share this) ---------------------------


class NotConfigured(Exception):
    """No Twilio account or no hotline number to show: calls cannot be placed."""


def webhook_url(settings: Settings, path: str, attempt_id: int) -> str:
    """The masked call's webhook ``path`` for one attempt (``app.channels.voice.callback``)."""
    return f"{settings.public_url}{paths.CALLBACK}{path}?a={attempt_id}"


def place(session: Session, settings: Settings, outbound: Outbound | None, user: User,
          case: Case, callback_id: int, now: datetime) -> CallbackAttempt:
    """Ring the operator's own phone for a call-back (the API and the console share this).
    An attempt Twilio refused comes back ended as ``failed``; nothing is counted."""
    # What the operator can mend (claim, a phone on the profile) is said before what only
    # an administrator can.
    callable_request(session, user, case, callback_id, now)
    hotline = caller_id(settings)
    if outbound is None or hotline is None:
        raise NotConfigured("outbound calls are not configured")
    dialling = start(session, settings, user, case, callback_id, now)
    attempt = dialling.attempt
    try:
        sid = outbound.call(dialling.operator_phone, hotline,
                            webhook_url(settings, "/operator", attempt.id),
                            webhook_url(settings, "/operator/status", attempt.id))
    except SendError as exc:
        logger.warning("call-back attempt %s: Twilio refused the call (%s)", attempt.id,
                       exc.code)
        finish(session, attempt, CallbackOutcome.FAILED, now)
        return attempt
    placed(attempt, sid)
    return attempt
