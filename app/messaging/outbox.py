"""The durable outbox: every message we send on our own, on any text channel, goes
through it.

A worker leases a due row (committed before sending), sends it through the sender of its
conversation's channel (a ``TextSender``: ``app.channels`` registers one per channel),
and records the result. If the provider is down the row is retried with exponential
backoff; if the process dies mid-send the lease lapses and another pass sends it. That
makes delivery at-least-once: a crash in the instant after the provider accepted a
message and before we recorded it can send it twice, which is better for a person
waiting for an answer than never. A row of a channel with no sender (not configured)
waits.

A reply is sent exactly as stored: it was rendered for its channel (GSM-7 where the
language allows) when it was queued (``conversations.send_later``), so the case's thread
shows what the caller got.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import monotonic
from typing import Protocol

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app import db
from app.cases.models import Channel
from app.config import Settings
from app.messaging import conversations
from app.messaging.models import Conversation, Message, Outbox, OutboxKind, OutboxStatus
from app.organisations.models import NationalLine
from app.privacy import crypto
from app.sending import SendError
from app.workers import PeriodicWorker

__all__ = ["SendError", "TextSender"]  # SendError: where senders of every channel find it

logger = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=15)
MAX_RETRY = timedelta(minutes=30)
BATCH = 20
# Alerts to an operator's own phone have no conversation: they go out by SMS.
ALERT_CHANNEL = Channel.SMS


class TextSender(Protocol):
    """One channel's way of sending a text to a person (``app.channels`` registers them)."""

    def send(self, address: str, body: str, *, origin: str | None = None) -> str | None:
        """Send ``body`` to ``address`` (as the channel's inbound gave it), from ``origin``
        (the hotline address the person wrote to, or the line's sender; None: the
        channel's default); return the provider's message id, or None if it gives none.
        Raises ``SendError``; ``opted_out=True`` when the person blocked the hotline."""
        ...


Senders = Mapping[Channel, TextSender]


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


def _sendable(senders: Senders) -> ColumnElement[bool]:
    """Rows of a channel that has a sender; the others wait for one to be configured."""
    channels = list(senders)
    alerts = (Outbox.conversation_id.is_(None) if ALERT_CHANNEL in senders
              else Outbox.id.is_(None))
    return or_(alerts, Outbox.conversation_id.in_(
        select(Conversation.id).where(Conversation.channel.in_(channels))))


def deliver_due(make_session: Callable[[], Session], senders: Senders, settings: Settings,
                now: datetime) -> DeliveryReport:
    """Send every message that is due now, each in its own lease, through the sender of
    its channel."""
    report = DeliveryReport()
    with make_session() as session:
        ids = list(session.scalars(select(Outbox.id).where(_due(now), _sendable(senders))
                                   .order_by(Outbox.next_attempt_at, Outbox.id).limit(BATCH)))
    started = monotonic()
    for outbox_id in ids:
        # Each message is leased from the moment it is taken, not from the start of the
        # batch: a provider may take 15 s a message, and a lease born expired would let
        # another process's worker send the same message at the same time. Whole seconds,
        # so a quick pass records exactly the time it was given (tests and simulations
        # fix it).
        at = now + timedelta(seconds=int(monotonic() - started))
        _deliver_one(make_session, senders, settings, outbox_id, at, report)
    return report


@dataclass(frozen=True)
class _Leased:
    to: str | None
    body: str | None
    attempts: int
    channel: Channel
    origin: str | None = None  # None: the channel's default sender


def reply_origin(session: Session, conversation: Conversation) -> str | None:
    """Where a conversation's replies leave from: its line's own sender, else the address
    the person wrote to; None for conversations from before lines were recorded (the
    channel's default sender). The channel's sender writes it in its provider's form."""
    if conversation.line is None:
        return None
    sender = session.scalar(select(NationalLine.sms_sender)
                            .where(NationalLine.number == conversation.line))
    return sender or conversation.line


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
                       body=_decrypted(key, row.body_encrypted), attempts=row.attempts,
                       channel=ALERT_CHANNEL)
    conversation = session.get_one(Conversation, row.conversation_id)
    message = session.get_one(Message, row.message_id)
    blocked = conversation.opted_out_at is not None or conversation.number_encrypted is None
    return _Leased(
        to=None if blocked else crypto.decrypt(key, conversation.number_encrypted or ""),
        body=crypto.decrypt(key, message.body_encrypted) if message.body_encrypted else None,
        attempts=row.attempts, channel=conversation.channel,
        origin=reply_origin(session, conversation))


def _decrypted(key: str, token: str | None) -> str | None:
    try:
        return crypto.decrypt(key, token) if token else None
    except crypto.InvalidToken:  # written under a key since replaced: cancelled, not sent
        return None


def _deliver_one(make_session: Callable[[], Session], senders: Senders, settings: Settings,
                 outbox_id: int, now: datetime, report: DeliveryReport) -> None:
    with make_session() as session, session.begin():
        leased = _lease(session, settings, outbox_id, now)
        if leased is not None and (leased.to is None or leased.body is None):
            _finish(session, outbox_id, OutboxStatus.CANCELLED, error="no number or body")
            report.cancelled.append(outbox_id)
            return
    if leased is None:
        return
    try:
        sid = senders[leased.channel].send(leased.to or "", leased.body or "",
                                           origin=leased.origin)
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

    def __init__(self, make_session: sessionmaker[Session], senders: Senders,
                 settings: Settings, clock: Callable[[], datetime]) -> None:
        super().__init__("outbox", lambda: deliver_due(make_session, senders, settings, clock()),
                         settings.outbox_poll_seconds)
