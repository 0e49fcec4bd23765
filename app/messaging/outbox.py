"""The durable outbox: every SMS or WhatsApp message we send on our own goes through it.

A worker leases a due row (committed before sending), sends it through the
``Outbound`` interface (which also places call-backs), and records the result. If
Twilio is down the row is retried with exponential backoff; if the process dies
mid-send the lease lapses and another pass sends it. That makes delivery
at-least-once: a crash in the instant after Twilio accepted a message and before we
recorded it can send it twice, which is better for a person waiting for an answer than
never.

A reply is sent exactly as stored: it was rendered for its channel (GSM-7 where the
language allows) when it was queued (``conversations.send_later``), so the case's thread
shows what the caller got.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import monotonic
from typing import Protocol

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from app import db
from app.cases.models import Channel
from app.config import Settings
from app.detection.country import channel_prefix, strip_channel
from app.messaging import conversations
from app.messaging.models import Conversation, Message, Outbox, OutboxKind, OutboxStatus
from app.organisations.models import NationalLine
from app.privacy import crypto
from app.workers import PeriodicWorker

logger = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=15)
MAX_RETRY = timedelta(minutes=30)
BATCH = 20
OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient"
CALL_RING_SECONDS = 30  # the operator's own phone: then it counts as not answered


class SendError(Exception):
    """Twilio did not take the message. ``retryable`` says whether trying later can help."""

    def __init__(self, code: str, *, retryable: bool) -> None:
        super().__init__(code)
        self.code = code
        self.retryable = retryable

    @property
    def opted_out(self) -> bool:
        return self.code == str(OPTED_OUT)


class Outbound(Protocol):
    """What the service sends or places on its own: messages, and masked call-backs."""

    def send(self, to: str, body: str, status_callback: str, origin: str | None = None
             ) -> str:
        """Hand one message to the provider, from ``origin`` (a number, ``whatsapp:+…`` or a
        Messaging Service SID; None: the hotline's configured sender); return its message
        SID or raise SendError."""
        ...

    def call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        """Ring ``to`` showing ``from_``; when it answers, Twilio fetches ``url`` for what
        to do. Returns the call's SID or raises SendError."""
        ...


class TwilioOutbound:
    """Twilio's REST API. The only place the service talks to Twilio on its own."""

    def __init__(self, account_sid: str, auth_token: str, sender: str,
                 http_client: HttpClient | None = None) -> None:
        if http_client is None:
            quiet = logging.getLogger("app.messaging.twilio_http")
            quiet.setLevel(logging.WARNING)  # its INFO lines would show request details
            http_client = TwilioHttpClient(timeout=15, logger=quiet)
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.sender = sender

    def send(self, to: str, body: str, status_callback: str, origin: str | None = None
             ) -> str:
        try:
            message = self.client.messages.create(to=to, body=body,
                                                  status_callback=status_callback,
                                                  **self._origin(to, origin or self.sender))
        except TwilioRestException as exc:
            retryable = exc.status == 429 or exc.status >= 500
            raise SendError(str(exc.code or exc.status), retryable=retryable) from None
        except (TwilioException, OSError) as exc:  # network trouble: try again later
            raise SendError(type(exc).__name__, retryable=True) from None
        return str(message.sid)

    def call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        try:
            call = self.client.calls.create(
                to=to, from_=from_, url=url, status_callback=status_callback,
                status_callback_event=["answered", "completed"], timeout=CALL_RING_SECONDS)
        except TwilioRestException as exc:
            raise SendError(str(exc.code or exc.status), retryable=False) from None
        except (TwilioException, OSError) as exc:
            raise SendError(type(exc).__name__, retryable=True) from None
        return str(call.sid)

    @staticmethod
    def _origin(to: str, sender: str) -> dict[str, str]:
        """Send on the channel the person wrote on: Twilio delivers to ``whatsapp:+…`` only
        from the hotline's WhatsApp address. A Messaging Service picks from its own pool."""
        if sender.startswith("MG"):
            return {"messaging_service_sid": sender}
        if channel_prefix(to) == "whatsapp":
            return {"from_": "whatsapp:" + strip_channel(sender)}
        return {"from_": strip_channel(sender)}


# The names from before calls were placed too.
SmsSender = Outbound
TwilioSmsSender = TwilioOutbound


def make_sender(settings: Settings) -> Outbound | None:
    """Twilio's REST API once there is an account; None without one (messages wait in the
    outbox, call-backs answer 503). Messages go out only once there is a sender too."""
    if settings.twilio_account_sid:
        return TwilioOutbound(settings.twilio_account_sid, settings.twilio_auth_token,
                              settings.sms_sender)
    return None


def sends_messages(outbound: Outbound) -> bool:
    """Whether messages can go out: Twilio's needs the hotline's sender (a fake always can)."""
    return not isinstance(outbound, TwilioOutbound) or bool(outbound.sender)


def backoff(attempts: int) -> timedelta:
    """15 s, 30 s, 1 min, 2 min ... capped at 30 min."""
    doublings: int = 2 ** max(attempts - 1, 0)  # int ** int is typed Any (could be a float)
    return min(FIRST_RETRY * doublings, MAX_RETRY)


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)


def _due(now: datetime) -> ColumnElement[bool]:
    return or_((Outbox.status == OutboxStatus.PENDING) & (Outbox.next_attempt_at <= now),
               (Outbox.status == OutboxStatus.SENDING) & (Outbox.lease_until < now))


def deliver_due(make_session: Callable[[], Session], sender: SmsSender, settings: Settings,
                now: datetime) -> DeliveryReport:
    """Send every message that is due now, each in its own lease."""
    report = DeliveryReport()
    with make_session() as session:
        ids = list(session.scalars(select(Outbox.id).where(_due(now))
                                   .order_by(Outbox.next_attempt_at, Outbox.id).limit(BATCH)))
    started = monotonic()
    for outbox_id in ids:
        # Each message is leased from the moment it is taken, not from the start of the
        # batch: Twilio may take 15 s a message, and a lease born expired would let another
        # process's worker send the same message at the same time. Whole seconds, so a
        # quick pass records exactly the time it was given (tests and simulations fix it).
        at = now + timedelta(seconds=int(monotonic() - started))
        _deliver_one(make_session, sender, settings, outbox_id, at, report)
    return report


@dataclass(frozen=True)
class _Leased:
    to: str | None
    body: str | None
    attempts: int
    origin: str | None = None  # None: the hotline's configured sender


def reply_origin(session: Session, conversation: Conversation) -> str | None:
    """Where a conversation's replies leave from: its line's sms_sender, else the number
    the person wrote to (on WhatsApp its ``whatsapp:`` address); None for conversations
    from before lines were recorded (the configured sender)."""
    if conversation.line is None:
        return None
    sender = session.scalar(select(NationalLine.sms_sender)
                            .where(NationalLine.number == conversation.line))
    if sender is not None and sender.startswith("MG"):
        return sender
    number = sender or conversation.line
    return f"whatsapp:{number}" if conversation.channel is Channel.WHATSAPP else number


def _lease(session: Session, settings: Settings, outbox_id: int, now: datetime
           ) -> _Leased | None:
    """Take the row for this worker, atomically; None if another worker has it."""
    taken = db.rowcount(session.execute(
        update(Outbox).where(Outbox.id == outbox_id, _due(now))
        .values(status=OutboxStatus.SENDING, lease_until=now + LEASE,
                attempts=Outbox.attempts + 1)))
    if taken != 1:
        return None
    row = session.get_one(Outbox, outbox_id)
    key = settings.encryption_key
    if row.kind is OutboxKind.ALERT:  # to an operator's own phone: no conversation
        return _Leased(to=_decrypted(key, row.recipient_encrypted),
                       body=_decrypted(key, row.body_encrypted), attempts=row.attempts)
    conversation = session.get_one(Conversation, row.conversation_id)
    message = session.get_one(Message, row.message_id)
    blocked = conversation.opted_out_at is not None or conversation.number_encrypted is None
    return _Leased(
        to=None if blocked else crypto.decrypt(key, conversation.number_encrypted or ""),
        body=crypto.decrypt(key, message.body_encrypted) if message.body_encrypted else None,
        attempts=row.attempts, origin=reply_origin(session, conversation))


def _decrypted(key: str, token: str | None) -> str | None:
    try:
        return crypto.decrypt(key, token) if token else None
    except crypto.InvalidToken:  # written under a key since replaced: cancelled, not sent
        return None


def _deliver_one(make_session: Callable[[], Session], sender: SmsSender, settings: Settings,
                 outbox_id: int, now: datetime, report: DeliveryReport) -> None:
    with make_session() as session, session.begin():
        leased = _lease(session, settings, outbox_id, now)
        if leased is not None and (leased.to is None or leased.body is None):
            _finish(session, outbox_id, OutboxStatus.CANCELLED, error="no number or body")
            report.cancelled.append(outbox_id)
            return
    if leased is None:
        return
    callback = f"{settings.public_url}/twilio/sms/status"
    try:
        sid = sender.send(leased.to or "", leased.body or "", callback, leased.origin)
    except SendError as exc:
        _record_failure(make_session, settings, outbox_id, leased.attempts, exc, now, report)
        return
    with make_session() as session, session.begin():
        _finish(session, outbox_id, OutboxStatus.SENT, twilio_sid=sid, sent_at=now)
    report.sent.append(outbox_id)


def _record_failure(make_session: Callable[[], Session], settings: Settings, outbox_id: int,
                    attempts: int, exc: SendError, now: datetime, report: DeliveryReport
                    ) -> None:
    logger.warning("outbox %s: attempt %s failed (%s)", outbox_id, attempts, exc.code)
    with make_session() as session, session.begin():
        row = session.get_one(Outbox, outbox_id)
        if exc.opted_out and row.kind is OutboxKind.REPLY:
            conversation = session.get_one(Conversation, row.conversation_id)
            conversations.set_opted_out(session, conversation, now)
            conversations.forget_number_when_done(session, conversation.id)
            report.cancelled.append(outbox_id)
        elif exc.retryable and attempts < settings.outbox_max_attempts:
            _finish(session, outbox_id, OutboxStatus.PENDING, error=exc.code,
                    next_attempt_at=now + backoff(attempts))
            report.retrying.append(outbox_id)
        else:
            _finish(session, outbox_id, OutboxStatus.FAILED, error=exc.code)
            report.failed.append(outbox_id)


def _finish(session: Session, outbox_id: int, status: OutboxStatus, *, error: str | None = None,
            **values: object) -> None:
    row = session.get_one(Outbox, outbox_id)
    row.status = status
    row.lease_until = None
    if error is not None:
        row.last_error = error[:120]
    for name, value in values.items():
        setattr(row, name, value)
    if status is not OutboxStatus.PENDING and row.conversation_id is not None:
        # A reply that outlived its case's closing kept the number until now.
        session.flush()
        conversations.forget_number_when_done(session, row.conversation_id)


class OutboxWorker(PeriodicWorker):
    """Runs deliver_due every few seconds in a background thread of the service."""

    def __init__(self, make_session: sessionmaker[Session], sender: SmsSender,
                 settings: Settings, clock: Callable[[], datetime]) -> None:
        super().__init__("outbox", lambda: deliver_due(make_session, sender, settings, clock()),
                         settings.outbox_poll_seconds)
