"""SMS conversations, their messages and the outbox of messages still to send.

A conversation is keyed by the caller's pseudonym, never by the number. The number
needed to reply is kept only encrypted and only until the case closes, the caller
erases it or the retention period ends; message bodies are encrypted at rest.
"""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.cases.models import Channel
from app.db import Base, UTCDateTime, db_enum, utcnow
from app.routing.needs import Need


class ConversationState(StrEnum):
    LANGUAGE = "language"  # the language menu was sent; waiting for a number
    NEED = "need"          # waiting for the need
    CHILD = "child"        # case open; waiting to know whether a child is involved
    OPEN = "open"          # intake done: messages go to the operators
    ERASED = "erased"      # the caller sent the erase word
    CLOSED = "closed"      # the case was closed

    @property
    def active(self) -> bool:
        return self not in (ConversationState.ERASED, ConversationState.CLOSED)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_caller", "caller_pseudonym", "channel", "state"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    channel: Mapped[Channel] = mapped_column(db_enum(Channel))
    caller_pseudonym: Mapped[str] = mapped_column(String(64))
    caller_country: Mapped[str | None] = mapped_column(String(2))
    state: Mapped[ConversationState] = mapped_column(db_enum(ConversationState))
    language: Mapped[str | None] = mapped_column(String(8))
    menu: Mapped[str | None] = mapped_column(String(80))  # languages by menu number
    need: Mapped[Need | None] = mapped_column(db_enum(Need))
    child: Mapped[bool] = mapped_column(default=False)
    unanswered: Mapped[int] = mapped_column(Integer, default=0)  # replies not understood
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"), unique=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    number_encrypted: Mapped[str | None] = mapped_column(String(400))
    number_purge_after: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_inbound_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    line: Mapped[str | None] = mapped_column(String(20))  # the hotline number written to


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class Author(StrEnum):
    CALLER = "caller"
    AUTO = "auto"          # intake replies
    OPERATOR = "operator"


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    direction: Mapped[Direction] = mapped_column(db_enum(Direction, 3))
    author: Mapped[Author] = mapped_column(db_enum(Author))
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    body_encrypted: Mapped[str | None] = mapped_column(Text)  # None once erased or purged
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxStatus(StrEnum):
    PENDING = "pending"      # waiting for its next attempt
    SENDING = "sending"      # leased by a worker; a lapsed lease means it died mid-send
    SENT = "sent"            # accepted by Twilio
    FAILED = "failed"        # gave up: permanent error or too many attempts
    CANCELLED = "cancelled"  # the caller opted out or erased their number first


class OutboxKind(StrEnum):
    REPLY = "reply"  # a message of a caller's conversation
    ALERT = "alert"  # an escalation alert to an on-duty operator's own phone


class Outbox(Base):
    """One outgoing SMS until Twilio has it; delivery then follows its status callback.

    A reply belongs to a message of a conversation, whose number it is sent to; an alert
    has neither, and carries its own recipient and body, both encrypted."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(db_enum(OutboxKind), default=OutboxKind.REPLY,
                                             server_default=OutboxKind.REPLY.value)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    recipient_encrypted: Mapped[str | None] = mapped_column(String(400))  # alerts only
    body_encrypted: Mapped[str | None] = mapped_column(Text)              # alerts only
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[OutboxStatus] = mapped_column(db_enum(OutboxStatus),
                                                 default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(120))  # codes only, never PII
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
