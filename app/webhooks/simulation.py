"""The whole service in-process for ``hotline simulate ...``: every channel's simulator
plays its dialogue against the real endpoints on a transaction rolled back at the end.

The service itself (``app.main.create_app``) is handed in by the command line, the one
layer above every channel, so no channel imports the service that mounts it.
"""

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import db
from app.audit import chain
from app.cases.models import Case
from app.config import Settings
from app.messaging import conversations
from app.messaging.models import Conversation
from app.organisations import service as organisations
from app.organisations.models import Organisation

AppFactory = Callable[[Settings], FastAPI]


def new_sid(prefix: str) -> str:
    """A SID as Twilio's look (two letters, 32 hex digits), fresh on every run: a fixed one
    would make a second ``--keep`` run on the same database replay the first."""
    return prefix + secrets.token_hex(16)



@contextmanager
def simulated_app(create_app: AppFactory, settings: Settings, at: datetime | None,
                  keep: bool) -> Iterator[FastAPI]:
    """The whole service in-process, on one transaction rolled back at the end (kept with
    ``keep``), at the time ``at`` if given."""
    url = settings.effective_database_url()
    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.connect() as connection:
        transaction = connection.begin()
        # One shared connection: no background purge may use it behind the dialogue's back.
        app = create_app(settings.model_copy(update={"purge_interval_minutes": 0}))
        sealed = chain.sealing(settings.audit_key)  # as the app's own sessions are
        app.state.sessionmaker = lambda: Session(bind=connection, info=sealed,
                                                 join_transaction_mode="create_savepoint")
        app.state.webhook_sessionmaker = app.state.sessionmaker
        if at is not None:
            app.state.clock = lambda: at
        with app.state.sessionmaker() as session:
            organisations.load_demo_if_empty(session)
            session.commit()
        try:
            yield app
        finally:
            (transaction.commit if keep else transaction.rollback)()
    engine.dispose()


def show_case(app: FastAPI, pseudonym: str, operator_reply: str | None,
              say: Callable[[str], None]) -> bool:
    """Say which queue the person's latest case is in and queue the operator's reply to
    it, if any, in a transaction of its own; True if a reply now waits in the outbox."""
    with app.state.sessionmaker() as session:
        if not _show_case(session, app.state.settings, pseudonym, operator_reply,
                          app.state.clock(), say):
            return False
        session.commit()
    return bool(operator_reply)


def _show_case(session: Session, settings: Settings, pseudonym: str,
               operator_reply: str | None, now: datetime, say: Callable[[str], None]) -> bool:
    case = session.scalars(
        select(Case).join(Conversation, Conversation.case_id == Case.id)
        .where(Conversation.caller_pseudonym == pseudonym)
        .order_by(Case.created_at.desc()).limit(1)).one_or_none()
    if case is None:
        say("no case yet: the intake is not finished")
        return False
    organisation = session.get_one(Organisation, case.organisation_id)
    say(f"case {case.reference} is in the queue of {organisation.name} "
        f"[{organisation.slug}]: priority {case.priority}, language {case.language}, "
        f"need {case.need}")
    if operator_reply:
        say(f'operator replies: "{operator_reply}"')
        conversations.queue_reply(session, settings, case, operator_reply, now)
    return True
