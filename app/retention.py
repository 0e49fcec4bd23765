"""Erasing what is past its retention date, from inside the service every interval.

``hotline purge`` does the same once, for cron. Each pass is one transaction of
conditional UPDATEs and a DELETE (``purge_expired``): whatever an earlier
or concurrent pass erased no longer matches, so running it again, or in several
processes at once, erases nothing twice. On PostgreSQL a pass first takes a
transaction-level advisory lock and skips if another process holds it, so concurrent
passes never wait on each other's rows; SQLite lets one writer in at a time anyway.
Only counts are logged.
"""

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, text, update
from sqlalchemy.orm import Session

from app import db
from app.cases.models import CallbackRequest
from app.config import Settings
from app.messaging.conversations import OPEN_OUTBOX
from app.messaging.models import Conversation, Message, Outbox, OutboxKind
from app.webhooks.replies import WebhookReply
from app.workers import PeriodicWorker

logger = logging.getLogger(__name__)
LOCK_KEY = 0x686F746C70757267  # "hotlpurg": one key for every process of the service
FIRST_PASS_DELAY_SECONDS = 60  # let start-up finish first


# Twilio retries a webhook within minutes; a stored reply is not needed for long.
WEBHOOK_REPLY_RETENTION = timedelta(days=2)
# An escalation alert holds an operator's own phone number and the case it was about; once
# sent, failed or cancelled, a couple of days is enough to answer "did the alert go out?"
# (the case history and audit keep that it did, without the number).
ALERT_RETENTION = timedelta(days=2)


@dataclass(frozen=True)
class PurgeReport:
    numbers: int
    bodies: int
    callback_numbers: int
    webhook_replies: int
    alerts: int = 0


def purge_expired(session: Session, settings: Settings, now: datetime) -> PurgeReport:
    """Erase numbers and bodies past their retention date; case fields stay."""
    numbers = db.rowcount(session.execute(update(Conversation).where(
        Conversation.number_encrypted.is_not(None), Conversation.number_purge_after < now)
        .values(number_encrypted=None, number_purge_after=None)))
    cutoff = now - timedelta(days=settings.message_retention_days)
    bodies = db.rowcount(session.execute(update(Message).where(
        Message.body_encrypted.is_not(None), Message.created_at < cutoff)
        .values(body_encrypted=None, erased_at=now)))
    callbacks = db.rowcount(session.execute(update(CallbackRequest).where(
        CallbackRequest.number_encrypted.is_not(None), CallbackRequest.purge_after < now)
        .values(number_encrypted=None)))
    replies = db.rowcount(session.execute(delete(WebhookReply).where(
        WebhookReply.created_at < now - WEBHOOK_REPLY_RETENTION)))
    alerts = db.rowcount(session.execute(update(Outbox).where(
        Outbox.kind == OutboxKind.ALERT, Outbox.status.not_in(OPEN_OUTBOX),
        Outbox.recipient_encrypted.is_not(None), Outbox.created_at < now - ALERT_RETENTION)
        .values(recipient_encrypted=None, body_encrypted=None)))
    return PurgeReport(numbers=numbers, bodies=bodies, callback_numbers=callbacks,
                       webhook_replies=replies, alerts=alerts)


def purge_once(make_session: Callable[[], Session], settings: Settings,
               now: datetime) -> PurgeReport | None:
    """One pass in its own transaction; None if another process is purging right now."""
    with make_session() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql" and not session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_KEY}):
            logger.info("purge skipped: another process is purging")
            return None
        report = purge_expired(session, settings, now)
    logger.info("purge erased %d numbers, %d message bodies, %d callback numbers, "
                "%d stored webhook replies and %d sent alerts' addresses", report.numbers,
                report.bodies, report.callback_numbers, report.webhook_replies, report.alerts,
                extra={"purged": dataclasses.asdict(report)})
    return report


def purge_worker(make_session: Callable[[], Session], settings: Settings,
                 clock: Callable[[], datetime]) -> PeriodicWorker | None:
    """The periodic purge, or None if ``HOTLINE_PURGE_INTERVAL_MINUTES`` is 0."""
    if not settings.purge_interval_minutes:
        return None
    interval = settings.purge_interval_minutes * 60
    return PeriodicWorker("purge", lambda: purge_once(make_session, settings, clock()),
                          interval, first_delay=min(interval, FIRST_PASS_DELAY_SECONDS))
