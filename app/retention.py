"""Erasing what is past its retention date, from inside the service every interval.

``hotline purge`` does the same once, for cron. Each pass is one transaction of
conditional UPDATEs and a DELETE (``conversations.purge_expired``): whatever an earlier
or concurrent pass erased no longer matches, so running it again, or in several
processes at once, erases nothing twice. On PostgreSQL a pass first takes a
transaction-level advisory lock and skips if another process holds it, so concurrent
passes never wait on each other's rows; SQLite lets one writer in at a time anyway.
Only counts are logged.
"""

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.config import Settings
from app.messaging.conversations import PurgeReport, purge_expired
from app.workers import PeriodicWorker

logger = logging.getLogger(__name__)
LOCK_KEY = 0x686F746C70757267  # "hotlpurg": one key for every process of the service
FIRST_PASS_DELAY_SECONDS = 60  # let start-up finish first


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
