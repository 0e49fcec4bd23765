"""Replies already given to Twilio, so a retried webhook changes nothing twice."""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import String, Text, exc, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UTCDateTime, utcnow


class WebhookReply(Base):
    __tablename__ = "webhook_replies"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the step
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def _same(body: str) -> str:
    return body


def reply_once(make_session: Callable[[], Session], key: str, answer: Callable[[Session], str],
               at: datetime | None = None, *, seal: Callable[[str], str] = _same,
               unseal: Callable[[str], str] = _same) -> str:
    """The reply stored under ``key``, or ``answer``'s, stored with what it changed in one
    transaction. When the same webhook, retried by Twilio onto another request or
    process, was answered meanwhile, the reply given there wins (the key is unique).
    ``seal`` turns the reply into what is stored (``unseal`` back): a reply that dials an
    operator's own phone is stored encrypted."""
    try:
        with make_session() as session, session.begin():
            stored = stored_reply(session, key)
            if stored is not None:
                return unseal(stored)
            body = answer(session)
            session.add(WebhookReply(key=key, body=seal(body), created_at=at or utcnow()))
        return body
    except exc.IntegrityError:
        with make_session() as session:
            stored = stored_reply(session, key)
        if stored is None:
            raise
        return unseal(stored)


def stored_reply(session: Session, key: str) -> str | None:
    # The body alone, not the ORM object: asked on every webhook, and the ORM's loading
    # costs more than the query (bench/load.py).
    return session.scalar(select(WebhookReply.body).where(WebhookReply.key == key))
