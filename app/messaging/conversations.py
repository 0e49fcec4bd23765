"""Storing conversations: numbers only encrypted, bodies only encrypted, both erasable.

Never commits: the webhook or worker that calls these owns the transaction.

What we send is stored as sent: a reply goes through ``for_channel`` (by SMS in GSM-7
wherever the language allows, see ``app.segments.sms_safe``) before it is
recorded, so the operator's thread shows the very text the caller got.
"""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from app import db
from app.cases.models import CallbackRequest, Case, Channel, Contact, ContactOutcome
from app.config import Settings
from app.messaging.models import (
    Author,
    Conversation,
    ConversationState,
    Direction,
    Message,
    Outbox,
    OutboxStatus,
)
from app.monitoring import metrics
from app.privacy import crypto
from app.privacy.pseudonym import ANONYMOUS_PREFIX
from app.segments import FOLDED_LANGUAGES, sms_safe

OPEN_OUTBOX = (OutboxStatus.PENDING, OutboxStatus.SENDING)
# No address Twilio sends from is longer (E.164 is at most 16 characters, "whatsapp:+…" 25).
# A longer From cannot be replied to, and its ciphertext would not fit number_encrypted.
MAX_ADDRESS_BYTES = 64


class CannotReply(Exception):
    """The caller cannot be written to: erased, purged, closed or opted out."""


# Built once: every text asks them (``app.cases.service`` says why that matters).
LATEST = (select(Conversation).where(Conversation.caller_pseudonym == bindparam("pseudonym"),
                                     Conversation.channel == bindparam("channel"))
          .order_by(Conversation.created_at.desc()).limit(1))
ENDED = (ConversationState.ERASED, ConversationState.CLOSED)
CURRENT = LATEST.where(Conversation.state.not_in(ENDED))
# The one in progress first (false sorts before true on both databases), else the latest;
# with its contact and case, which a step of the dialogue reads next.
CURRENT_OR_LATEST = (select(Conversation, Contact, Case)
                     .join(Contact, Contact.id == Conversation.contact_id)
                     .outerjoin(Case, Case.id == Conversation.case_id)
                     .where(Conversation.caller_pseudonym == bindparam("pseudonym"),
                            Conversation.channel == bindparam("channel"))
                     .order_by(Conversation.state.in_(ENDED), Conversation.created_at.desc())
                     .limit(1))


def current(session: Session, pseudonym: str, channel: Channel) -> Conversation | None:
    """The caller's conversation still in progress on this channel, if any."""
    return session.scalars(CURRENT, {"pseudonym": pseudonym, "channel": channel}
                           ).one_or_none()


@dataclass(frozen=True)
class Found:
    conversation: Conversation
    contact: Contact
    case: Case | None


def current_or_latest(session: Session, pseudonym: str, channel: Channel) -> Found | None:
    """The caller's conversation in progress on this channel; if none, their latest one
    (whose opt-out a new conversation keeps): both in one question, with the
    conversation's contact and case."""
    row = session.execute(CURRENT_OR_LATEST, {"pseudonym": pseudonym, "channel": channel}
                          ).one_or_none()
    return None if row is None else Found(*row)


def latest(session: Session, pseudonym: str, channel: Channel) -> Conversation | None:
    """The caller's most recent conversation on this channel."""
    return session.scalars(LATEST, {"pseudonym": pseudonym, "channel": channel}
                           ).one_or_none()


def for_channel(body: str, channel: Channel, language: str | None) -> str:
    """The text as it is sent: by SMS through ``sms_safe`` (Turkic letters folded only for
    a reply in a Turkic Latin language); on WhatsApp, which has no segments, as written."""
    if channel is not Channel.SMS:
        return body
    return sms_safe(body, fold_letters=language in FOLDED_LANGUAGES)


def outgoing(conversation: Conversation, body: str) -> str:
    return for_channel(body, conversation.channel, conversation.language)


def start(session: Session, contact: Contact, previous: Conversation | None, *,
          now: datetime) -> Conversation:
    """A new conversation on the contact's channel (``app.pipeline.contact`` made it),
    remembering an opt-out of the caller's ``previous`` (``latest``) one they have not yet
    revoked; the contact's ``line`` is the hotline address written to, which its replies
    leave from.

    Not flushed here: it is written with the step's next flush, with its contact and
    first message, so every field the step may read is given here. Its contact's row goes
    first in that flush: with no relationship between them, SQLAlchemy writes mappers in
    the order of their names (``app.cases`` before ``app.messaging``); PostgreSQL checks
    the foreign key at once, so the tests on it would catch another order."""
    conversation = Conversation(
        id=uuid.uuid4(), channel=contact.channel, caller_pseudonym=contact.caller_pseudonym,
        caller_country=contact.caller_country, line=contact.line,
        state=ConversationState.LANGUAGE, contact_id=contact.id, created_at=now,
        last_inbound_at=now, opted_out_at=previous.opted_out_at if previous else None,
        child=False, unanswered=0)
    session.add(conversation)
    return conversation


def remember_number(conversation: Conversation, settings: Settings, number: str,
                    now: datetime) -> None:
    """Keep the number to reply to, encrypted, until the retention period after the last
    message from the caller. A From too long to be an address is not kept."""
    if len(number.encode()) <= MAX_ADDRESS_BYTES:
        conversation.number_encrypted = crypto.encrypt(settings.encryption_key, number)
        conversation.number_purge_after = now + timedelta(
            days=settings.sms_number_retention_days)
    conversation.last_inbound_at = now


def record(session: Session, conversation: Conversation, settings: Settings, *,
           direction: Direction, author: Author, body: str, now: datetime,
           sid: str | None = None) -> Message:
    message = Message(conversation_id=conversation.id, case_id=conversation.case_id,
                      direction=direction, author=author, twilio_sid=sid, created_at=now,
                      body_encrypted=crypto.encrypt(settings.encryption_key, body))
    session.add(message)  # written with the step's next flush: one statement fewer
    metrics.count_on_commit(session, metrics.MESSAGES.labels(conversation.channel.value,
                                                             direction.value))
    return message


def attach_case(session: Session, conversation: Conversation, case: Case) -> None:
    conversation.case_id = case.id
    if conversation.opted_out_at is not None:
        case.opted_out_at = conversation.opted_out_at
    session.execute(update(Message).where(Message.conversation_id == conversation.id)
                    .values(case_id=case.id))


def set_opted_out(session: Session, conversation: Conversation, at: datetime | None) -> None:
    """Record STOP (``at``) or START (None) on the conversation and its case."""
    conversation.opted_out_at = at
    if conversation.case_id is not None:
        session.get_one(Case, conversation.case_id).opted_out_at = at
    if at is not None:
        _cancel_outbox(session, [conversation.id])


def erase_caller(session: Session, pseudonym: str, now: datetime) -> int:
    """The erase word: every message body and contact detail of this caller, gone now.

    The anonymised case fields stay, under a fresh random pseudonym: the caller's next
    message starts a new conversation and case as if they had never written, and no
    operator sees it linked to the erased ones (``cases.search.earlier_cases``). A block
    keeps the pseudonym it was made for, and so do the contacts it turned away. Returns
    how many contacts were forgotten (0: nothing was left of this caller).
    """
    ids = list(session.scalars(select(Conversation.id)
                               .where(Conversation.caller_pseudonym == pseudonym)))
    session.execute(update(Conversation).where(Conversation.id.in_(ids))
                    .values(number_encrypted=None, number_purge_after=None))
    session.execute(update(Conversation).where(
        Conversation.id.in_(ids),
        Conversation.state.not_in(ENDED)).values(state=ConversationState.ERASED, erased_at=now))
    session.execute(update(Message).where(Message.conversation_id.in_(ids),
                                          Message.body_encrypted.is_not(None))
                    .values(body_encrypted=None, erased_at=now))
    _cancel_outbox(session, ids)
    session.execute(update(CallbackRequest).where(CallbackRequest.case_id.in_(
        select(Case.id).where(Case.caller_pseudonym == pseudonym))).values(number_encrypted=None))
    return _forget_pseudonym(session, pseudonym)


def _forget_pseudonym(session: Session, pseudonym: str) -> int:
    """Move the caller's conversations, contacts and cases to one fresh random pseudonym
    (prefixed like a withheld number's: it matches no number ever again); they still
    count as one person in the statistics."""
    forgotten = ANONYMOUS_PREFIX + secrets.token_hex(29)
    session.execute(update(Conversation).where(Conversation.caller_pseudonym == pseudonym)
                    .values(caller_pseudonym=forgotten))
    session.execute(update(Case).where(Case.caller_pseudonym == pseudonym)
                    .values(caller_pseudonym=forgotten))
    return db.rowcount(session.execute(update(Contact).where(
        Contact.caller_pseudonym == pseudonym, Contact.outcome != ContactOutcome.BLOCKED)
        .values(caller_pseudonym=forgotten)))


def pending_replies(session: Session, case_id: uuid.UUID) -> int:
    """Replies to the case's caller still waiting in the outbox (not yet with Twilio)."""
    return session.scalar(select(func.count(Outbox.id)).where(
        Outbox.conversation_id.in_(select(Conversation.id)
                                   .where(Conversation.case_id == case_id)),
        Outbox.status.in_(OPEN_OUTBOX))) or 0


def close_for_case(session: Session, case_id: uuid.UUID, *,
                   keep_for_outbox: bool = False) -> None:
    """The case is closed: forget the numbers to reply to; a new message starts afresh.

    ``keep_for_outbox``: replies still waiting are sent, so a conversation with any keeps
    its number until the outbox has sent them or given up (``forget_number_when_done``);
    the retention date still bounds it."""
    ids = list(session.scalars(select(Conversation.id).where(Conversation.case_id == case_id)))
    session.execute(update(Conversation).where(Conversation.id.in_(ids))
                    .values(state=ConversationState.CLOSED))
    if not keep_for_outbox:
        _cancel_outbox(session, ids)
    for conversation_id in ids:
        forget_number_when_done(session, conversation_id)


def forget_number_when_done(session: Session, conversation_id: uuid.UUID) -> None:
    """Erase a closed conversation's number once no reply to it is waiting any more."""
    session.execute(update(Conversation).where(
        Conversation.id == conversation_id, Conversation.state == ConversationState.CLOSED,
        ~select(Outbox.id).where(Outbox.conversation_id == conversation_id,
                                 Outbox.status.in_(OPEN_OUTBOX)).exists())
        .values(number_encrypted=None, number_purge_after=None))


def _cancel_outbox(session: Session, conversation_ids: list[uuid.UUID]) -> None:
    session.execute(update(Outbox).where(Outbox.conversation_id.in_(conversation_ids),
                                         Outbox.status.in_(OPEN_OUTBOX))
                    .values(status=OutboxStatus.CANCELLED, lease_until=None))


def for_case(session: Session, case_id: uuid.UUID) -> Conversation | None:
    return session.scalars(select(Conversation).where(Conversation.case_id == case_id)
                           .order_by(Conversation.created_at.desc()).limit(1)).one_or_none()


def queue_reply(session: Session, settings: Settings, case: Case, body: str, now: datetime,
                author: Author = Author.OPERATOR) -> Outbox:
    """An operator's reply to the caller of this case, through the durable outbox."""
    conversation = for_case(session, case.id)
    if conversation is None or conversation.number_encrypted is None:
        raise CannotReply("no number to reply to: the caller erased it or it was purged")
    if conversation.opted_out_at is not None:
        raise CannotReply("the caller texted STOP; Twilio delivers nothing until START")
    return send_later(session, settings, conversation, body, now, author)


def send_later(session: Session, settings: Settings, conversation: Conversation, body: str,
               now: datetime, author: Author) -> Outbox:
    """Record an outgoing message and hand it to the outbox, which sends it by the REST
    API (not in a webhook's TwiML); recorded as it will be sent."""
    message = record(session, conversation, settings, direction=Direction.OUT,
                     author=author, body=outgoing(conversation, body), now=now)
    session.flush()  # the message's id, for the outbox
    outbox = Outbox(message_id=message.id, conversation_id=conversation.id,
                    status=OutboxStatus.PENDING, next_attempt_at=now, created_at=now)
    session.add(outbox)
    session.flush()
    return outbox


@dataclass(frozen=True)
class ThreadEntry:
    at: datetime
    direction: Direction
    author: Author
    body: str | None  # None once erased or purged
    delivery: str | None


def thread(session: Session, settings: Settings, case: Case,
           organisation_id: int) -> list[ThreadEntry]:
    """The case's messages, decrypted, for its own organisation only."""
    if case.organisation_id != organisation_id:
        raise PermissionError("this case belongs to another organisation")
    rows = session.execute(
        select(Message, Outbox).outerjoin(Outbox, Outbox.message_id == Message.id)
        .where(Message.case_id == case.id).order_by(Message.created_at, Message.id)).all()
    return [ThreadEntry(at=m.created_at, direction=m.direction, author=m.author,
                        body=crypto.decrypt(settings.encryption_key, m.body_encrypted)
                        if m.body_encrypted else None,
                        delivery=(o.delivery_status or o.status.value) if o else None)
            for m, o in rows]
