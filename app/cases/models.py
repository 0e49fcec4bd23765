"""Contacts (one call or message conversation) and the cases operators work on.

No column holds a caller's phone number or name: callers are linked only through
``caller_pseudonym``, a keyed hash (see ``app.privacy.pseudonym``).
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, db_enum, utcnow
from app.organisations.models import Organisation
from app.routing.needs import Need


class Channel(StrEnum):
    VOICE = "voice"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"  # a chat with the hotline's bot; stored as text: no migration


class ContactOutcome(StrEnum):
    IN_PROGRESS = "in_progress"
    CONNECTED = "connected"
    CALLBACK_REQUESTED = "callback_requested"
    NO_RESPONDER = "no_responder"
    INFORMATION_GIVEN = "information_given"
    QUEUED = "queued"
    ABANDONED = "abandoned"
    BLOCKED = "blocked"  # a blocked caller, turned away: not a person the hotline served


class CaseStatus(StrEnum):
    QUEUED = "queued"
    CLAIMED = "claimed"
    REFERRED = "referred"
    CLOSED = "closed"


class CloseStatus(StrEnum):
    """HTCDS cas_Status values for a closed case."""

    CLOSED = "Closed"
    CLOSED_REFERRED = "ClosedReferred"


class CasePriority(StrEnum):
    """Queue priority; ``rank`` orders the queue (child first, then urgent, then normal)."""

    CHILD = "child"
    URGENT = "urgent"
    NORMAL = "normal"

    @property
    def rank(self) -> int:
        return list(CasePriority).index(self)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_queue", "organisation_id", "status", "priority", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[CaseStatus] = mapped_column(db_enum(CaseStatus), default=CaseStatus.QUEUED)
    priority: Mapped[CasePriority] = mapped_column(db_enum(CasePriority),
                                                   default=CasePriority.NORMAL)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    caller_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    caller_country: Mapped[str | None] = mapped_column(String(2))
    language: Mapped[str | None] = mapped_column(String(8))
    need: Mapped[Need | None] = mapped_column(db_enum(Need))
    child: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[Channel | None] = mapped_column(db_enum(Channel))  # of the first contact
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The caller texted STOP: Twilio refuses to deliver until they text START.
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # One operator works a case at a time; an idle claim lapses at claim_expires_at.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_status: Mapped[CloseStatus | None] = mapped_column(db_enum(CloseStatus))
    # The person agreed that their anonymised data may be counted beyond the hotline:
    # exports to partners include only such cases (app.stats.export).
    reporting_consent: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Escalation of an unclaimed child or urgent case: 1 = the organisation's on-duty
    # operators were alerted, 2 = the regional hub's too. Raised by one conditional UPDATE,
    # so two processes never alert twice (app.operator_queue.escalation).
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(lazy="raise")
    contacts: Mapped[list["Contact"]] = relationship(back_populates="case", lazy="raise")


class Contact(Base):
    """One inbound call or message conversation, keyed by Twilio's SID for idempotency."""

    __tablename__ = "contacts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    channel: Mapped[Channel] = mapped_column(db_enum(Channel))
    twilio_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    caller_country: Mapped[str | None] = mapped_column(String(2))
    language: Mapped[str | None] = mapped_column(String(8))
    need: Mapped[Need | None] = mapped_column(db_enum(Need))
    child: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[ContactOutcome] = mapped_column(db_enum(ContactOutcome),
                                                    default=ContactOutcome.IN_PROGRESS)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    line: Mapped[str | None] = mapped_column(String(20))  # the hotline number it came in on
    media: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # count only

    case: Mapped[Case | None] = relationship(back_populates="contacts", lazy="raise")


class AttemptResult(StrEnum):
    DIALLING = "dialling"
    ACCEPTED = "accepted"      # the responder pressed 1 in the whisper
    DECLINED = "declined"      # answered but did not accept
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELED = "canceled"
    COMPLETED = "completed"    # accepted and the conversation ended


class RoutingAttempt(Base):
    """One responder tried for one call, and what came of it."""

    __tablename__ = "routing_attempts"
    __table_args__ = (UniqueConstraint("contact_id", "attempt", name="uq_routing_attempts_step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    reason: Mapped[str] = mapped_column(String(300))
    result: Mapped[AttemptResult] = mapped_column(db_enum(AttemptResult),
                                                  default=AttemptResult.DIALLING)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CallbackRequest(Base):
    """A caller's consent to be called back; the number is kept only encrypted, until
    ``purge_after`` or until the callback is done, whichever comes first."""

    __tablename__ = "callback_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"),
                                                  unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    number_encrypted: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    purge_after: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(8))  # the caller's, for the question
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(20))  # CallbackOutcome


class CallbackOutcome(StrEnum):
    DIALLING_OPERATOR = "dialling_operator"
    OPERATOR_NO_ANSWER = "operator_no_answer"  # the operator did not answer or press 1
    DIALLING_CALLER = "dialling_caller"
    NO_ANSWER = "no_answer"                    # the caller's phone did not answer
    NOT_SAFE = "not_safe"                      # answered, but did not press 1
    CONNECTED = "connected"                    # talking
    COMPLETED = "completed"                    # talked; the number is erased
    FAILED = "failed"                          # Twilio refused or the call failed


class CallbackAttempt(Base):
    """One masked call-back: Twilio rings the operator, then the caller; neither sees the
    other's number. Keyed by both legs' CallSids so status callbacks are idempotent."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(
        ForeignKey("callback_requests.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[CallbackOutcome] = mapped_column(
        db_enum(CallbackOutcome), default=CallbackOutcome.DIALLING_OPERATOR)
    operator_call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    caller_call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseEvent(Base):
    """The case's history as operators see it: what happened and when, never content.
    ``detail`` holds ids, references, levels and names of organisations, nothing a caller
    said."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                               index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
