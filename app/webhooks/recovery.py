"""Bringing the journal into the database once it is reachable again.

Each journal record is applied in one transaction together with the webhook reply it
gave, under the webhook's own reply key: a record already applied (by this process,
another one, or before a crash) is skipped, and a provider's retry of that webhook gets
the reply the person already had. A record is applied by the replay of its "channel",
as the channels registry (``app.channels``) gives them to ``app.main``, which keeps them
in ``app.state.replays``: this plumbing knows no channel.
"""

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy import exc
from sqlalchemy.orm import Session

from app.db import UNAVAILABLE
from app.routing.cache import DirectoryCache
from app.routing.snapshot import Directory
from app.webhooks.journal import Journal, Record
from app.webhooks.replay import Replay, ReplayContext
from app.webhooks.replies import WebhookReply

logger = logging.getLogger(__name__)
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
    sessions = app.state.webhook_sessionmaker
    return journal.try_replay(lambda record: apply(app, record, sessions),
                              WEBHOOK_REPLAY_SECONDS)


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


def apply(app: FastAPI, record: Record, sessions: Callable[[], Session] | None = None
          ) -> bool:
    """Apply one record unless it already is; True if it was applied now. ``sessions``:
    the webhooks' in a webhook's lane; by default the app's, which work on any thread
    (the webhooks' engine may await its driver on the event loop: ``app.webhooks.lane``)."""
    make_session = sessions or app.state.sessionmaker
    try:
        with make_session() as session, session.begin():
            if session.get(WebhookReply, record["key"]) is not None:
                return False
            at = datetime.fromisoformat(record["at"])
            _replay_of(app, record)(session, context(app), record, at)
            session.add(WebhookReply(key=record["key"], body=record["reply"], created_at=at))
        return True
    except exc.IntegrityError:
        # Applied at the same moment by another process (the reply key is unique).
        with make_session() as session:
            if session.get(WebhookReply, record["key"]) is not None:
                return False
        raise


def _replay_of(app: FastAPI, record: Record) -> Replay:
    replays: Mapping[str, Replay] = app.state.replays
    try:
        return replays[record["channel"]]
    except KeyError:  # set aside by the journal, not lost: a channel removed since?
        raise ValueError(f"no channel {record['channel']!r} to replay the record") from None


def context(app: FastAPI) -> ReplayContext:
    return ReplayContext(app.state.settings, lambda: _directory(app))


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
