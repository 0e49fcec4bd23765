"""Replies already given to Twilio, so a retried webhook changes nothing twice."""

from collections.abc import Callable
from datetime import datetime
from typing import cast

from sqlalchemy import String, Table, Text, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import UNAVAILABLE, Base, UTCDateTime, utcnow


class WebhookReply(Base):
    __tablename__ = "webhook_replies"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the step
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


REPLIES = cast(Table, WebhookReply.__table__)  # a Table: mapped classes declare a FromClause
# Built once, as the webhooks' queries are (``app.cases.service`` says why that matters).
KEEP_REPLY = insert(REPLIES)


def _same(body: str) -> str:
    return body


def reply_once(make_session: Callable[[], Session], key: str, answer: Callable[[Session], str],
               at: datetime | None = None, *, seal: Callable[[str], str] = _same,
               unseal: Callable[[str], str] = _same) -> str:
    """``answer``'s reply, stored under ``key`` with what it changed in one transaction; or,
    for a webhook Twilio retried (onto this or another request or process), the reply given
    the first time. ``seal`` turns the reply into what is stored (``unseal`` back): a reply
    that dials an operator's own phone is stored encrypted.

    The step runs without first asking whether it was answered: retries are rare, and the
    question cost every step a statement (bench/load.py). A retry's transaction fails on
    the reply's unique key (or earlier, on the state the first run left) and is rolled back
    whole, the step's writes and live events with it; the stored reply is then given. Only
    a database out of reach is not asked again: the journal takes the step at once."""
    try:
        with make_session() as session, session.begin():
            body = answer(session)
            # What the step changed through the ORM, then its reply: a Core INSERT on
            # the connection, not an object the unit of work must sort and write at
            # commit (every step writes one, and none reads it back).
            session.flush()
            session.connection().execute(KEEP_REPLY, {"key": key, "body": seal(body),
                                                      "created_at": at or utcnow()})
        return body
    except UNAVAILABLE:
        raise
    except Exception:
        with make_session() as session:
            stored = stored_reply(session, key)
        if stored is None:
            raise
        return unseal(stored)


def stored_reply(session: Session, key: str) -> str | None:
    # The body alone, not the ORM object: the ORM's loading costs more than the query.
    return session.scalar(select(WebhookReply.body).where(WebhookReply.key == key))
