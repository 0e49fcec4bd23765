"""Bringing the journal into the database once it is reachable again.

Each journal record is applied in one transaction together with the webhook reply it
gave, under the webhook's own reply key: a record already applied (by this process,
another one, or before a crash) is skipped, and a Twilio retry of that webhook gets the
reply the caller already heard. Voice records replay the operations a ``JournalLine``
wrote down on a ``DatabaseLine``; SMS records go through the intake as if they had just
arrived, and the intake's answer is sent through the outbox.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy import exc
from sqlalchemy.orm import Session

from app.cases.models import Contact
from app.db import UNAVAILABLE
from app.journal import Journal, NotYet, Record
from app.messaging import intake
from app.privacy import crypto
from app.routing.cache import DirectoryCache
from app.routing.snapshot import Directory
from app.telephony.lines import Caller, DatabaseLine
from app.telephony.models import WebhookReply

logger = logging.getLogger(__name__)
OPERATIONS = frozenset({"set", "attempt", "finish", "accept", "queue", "callback", "end"})
# How long a webhook may spend replaying before it answers. Twilio waits 15 s for a reply;
# the journal of a long outage takes minutes to replay, so that is left to the background
# worker while the webhooks go on answering into the journal behind it.
WEBHOOK_REPLAY_SECONDS = 1.0


def catch_up(app: FastAPI) -> bool:
    """Replay what is pending before the database serves new steps, so a call's
    journalled steps land before its later ones; False if some is left (too much to
    replay within ``WEBHOOK_REPLAY_SECONDS``, or another thread is replaying). Raises if
    the database is still down."""
    journal: Journal = app.state.journal
    if not journal.pending:
        return True
    return journal.try_replay(lambda record: apply(app, record), WEBHOOK_REPLAY_SECONDS)


def database_or_journal(app: FastAPI, in_database: Callable[[], str],
                        in_journal: Callable[[], str]) -> str:
    """A webhook's answer: from the database once what is pending has caught up, or, while
    it cannot be reached or the journal is still being replayed, from the snapshot into
    the journal (after what is pending, so the order of a call's steps is kept)."""
    journal: Journal = app.state.journal
    if journal.database_usable:
        try:
            if catch_up(app):
                return in_database()
        except UNAVAILABLE:
            journal.database_down()
            logger.warning("database unreachable: answering from the snapshot, journalling")
    return in_journal()


def apply(app: FastAPI, record: Record) -> bool:
    """Apply one record unless it already is; True if it was applied now."""
    make_session = app.state.sessionmaker
    try:
        with make_session() as session, session.begin():
            if session.get(WebhookReply, record["key"]) is not None:
                return False
            at = datetime.fromisoformat(record["at"])
            if record["channel"] == "voice":
                _apply_voice(session, app, record, at)
            else:
                _apply_message(session, app, record, at)
            session.add(WebhookReply(key=record["key"], body=record["reply"], created_at=at))
        return True
    except exc.IntegrityError:
        # Applied at the same moment by another process (the reply key is unique).
        with make_session() as session:
            if session.get(WebhookReply, record["key"]) is not None:
                return False
        raise


def _apply_voice(session: Session, app: FastAPI, record: Record, at: datetime) -> None:
    settings = app.state.settings
    if record["contact"]:  # the responder's leg: the caller's contact must be in first
        contact = uuid.UUID(record["contact"])
        if session.get(Contact, contact) is None:
            raise NotYet(f"contact of {record['key'][:12]} not replayed yet")
        line = DatabaseLine.for_contact(session, contact, at, settings)
    else:
        caller = Caller(record["sid"], record["pseudonym"], record["country"],
                        record.get("line"))  # records written before lines have none
        line = DatabaseLine.for_caller(session, caller, at, settings)
    line.directory = _directory(app)
    for name, arguments in record["operations"]:
        if name not in OPERATIONS:
            raise ValueError(f"unknown journal operation {name!r}")
        if name == "callback":
            line.callback(crypto.decrypt(settings.encryption_key,
                                         arguments["number_encrypted"]))
        else:
            getattr(line, name)(**arguments)


def _apply_message(session: Session, app: FastAPI, record: Record, at: datetime) -> None:
    settings = app.state.settings
    inbound = intake.Inbound(
        sid=record["sid"], from_=crypto.decrypt(settings.encryption_key, record["number"]),
        body=crypto.decrypt(settings.encryption_key, record["body"]),
        from_country=record.get("from_country"), opt_out_type=record.get("opt_out_type"),
        to=record.get("to"), media=record.get("media", 0))
    # The caller already had the journal's short reply; the intake's own goes out by SMS.
    intake.handle(session, settings, _directory(app), inbound, at, reply_later=True)


def _directory(app: FastAPI) -> Directory:
    """Queue replayed contacts by the directory of now (the database is back)."""
    cache: DirectoryCache = app.state.directory
    if not cache.current.responders:
        cache.refresh()
    return cache.get()


def catch_up_in_background(app: FastAPI) -> None:
    """One pass of the background worker (``app.main``): files left by a crash or by other
    processes at start, then whatever is pending, every few seconds."""
    journal: Journal = app.state.journal
    journal.look_for_others()
    if not journal.pending:
        return
    try:
        applied = journal.replay(lambda record: apply(app, record))
    except UNAVAILABLE:
        journal.database_down()
        return
    if applied:
        logger.info("journal caught up", extra={"records": applied})
