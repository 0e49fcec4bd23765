"""Twilio messaging webhooks: an inbound SMS or WhatsApp message, and the delivery status
of ours.

Signed like the voice webhooks (403 otherwise). An inbound message becomes an
``app.pipeline.Inbound`` and goes through the text intake in one transaction together
with the reply stored under its MessageSid, so a retried webhook returns the same reply
and records nothing twice. If the database cannot be reached, the message goes to the
local journal (encrypted, ``app.pipeline.journalled``) and is replayed once it is back.

A message's ``Body`` arrives without control characters (``app.twilio.fields``): a NUL
a sender's phone put in is dropped, and the message is recorded and answered.

WhatsApp comes through Twilio on this same webhook, with ``From`` and ``To`` written
``whatsapp:+…``: the channel is taken from that prefix here, the core gets the bare
number, and the reply in the TwiML goes back on the channel the message came on.
"""

import hashlib
import logging
from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.messaging_response import MessagingResponse

from app import errors, pipeline
from app.cases.models import Channel
from app.deps import Clock, ClockDep, WebhookSessionsDep
from app.detection.country import channel_prefix, line_number, strip_channel
from app.messaging import conversations
from app.messaging.models import Conversation, Outbox
from app.pipeline import intake, journalled
from app.twilio import fields, paths
from app.twilio.rest import OPTED_OUT
from app.twilio.signature import TwilioDep, TwilioRequest
from app.webhooks import lane, recovery
from app.webhooks.deps import LaneDep, Webhook, WebhookDep
from app.webhooks.replies import reply_once

logger = logging.getLogger(__name__)
router = APIRouter(prefix=paths.SMS, tags=["twilio"], responses=errors.WEBHOOK)

# Twilio's MessageStatus values in the order they happen; a late callback never goes back.
# (delivery_unknown and partially_delivered are valid too, and change nothing recorded.)
DELIVERY_ORDER = ("accepted", "scheduled", "queued", "sending", "sent", "receiving",
                  "received", "delivered", "read", "undelivered", "failed", "canceled")
OPTED_OUT_ERROR = str(OPTED_OUT)
MAX_MEDIA = 10  # Twilio's own limit of attachments to one message


def _xml(body: str) -> Response:
    return Response(body, media_type="application/xml")


@router.post("", response_class=Response)
async def inbound_sms(tw: TwilioDep, hook: WebhookDep) -> Response:
    """A text to the hotline (SMS or WhatsApp): the reply, if any, is in the TwiML."""
    return await lane.run(hook.lane, _inbound, hook, tw)


def inbound_of(sid: str, from_: str, body: str, *, from_country: str | None = None,
               opt_out_type: str | None = None, to: str | None = None, media: int = 0
               ) -> pipeline.Inbound:
    """Twilio's fields as the core's ``Inbound``: WhatsApp when Twilio writes the sender
    as ``whatsapp:+…``, else SMS; the addresses without that prefix, but replies go to
    ``From`` as Twilio wrote it."""
    channel = Channel.WHATSAPP if channel_prefix(from_) == "whatsapp" else Channel.SMS
    address = strip_channel(from_)
    return pipeline.Inbound(channel=channel, address=address, provider_id=sid, text=body,
                            media=media, country=from_country or None, line=line_number(to),
                            opt_out=opt_out_type,
                            reply_to=from_ if from_ != address else None)


def _inbound(hook: Webhook, tw: TwilioRequest) -> Response:
    message = inbound_of(tw.field("MessageSid"), tw.field("From"), tw.form.get("Body", ""),
                         from_country=tw.optional("FromCountry"),
                         opt_out_type=tw.optional("OptOutType"), to=tw.optional("To"),
                         # only how many: a MediaUrl is never read, kept or logged
                         media=media_count(tw.optional("NumMedia")))
    key = hashlib.sha256(f"sms\x1f{message.provider_id}".encode()).hexdigest()
    return _xml(recovery.database_or_journal(
        hook.app, lambda: _in_database(hook, message, key),
        lambda: _in_journal(hook, message, key)))


def media_count(num_media: str | None) -> int:
    """Twilio's ``NumMedia`` as a count (0 when absent or not a number)."""
    count = int(num_media) if num_media and num_media.strip().isdecimal() else 0
    return min(count, MAX_MEDIA)


def _in_database(hook: Webhook, message: pipeline.Inbound, key: str) -> str:
    directory = hook.directory.get()  # before the transaction: it may reload
    return reply_once(hook.sessions, key, lambda session: _twiml(
        *intake.handle(session, hook.settings, directory, message, hook.now)), at=hook.now)


def _in_journal(hook: Webhook, message: pipeline.Inbound, key: str) -> str:
    """Keep the message, encrypted, for the database; reply without knowing the
    conversation: that a person will write back, in the language the text is in."""
    # The dialled line from the snapshot in memory: the database is down.
    dialled = hook.directory.current.line(message.line)
    country = pipeline.country(message.channel, message.address, message.country, dialled)
    body = _twiml(intake.reply_without_database(message, hook.settings, country))
    hook.journal.append(journalled.record(hook.settings, message, key, hook.now, body))
    return body


def _twiml(*replies: str | None) -> str:
    """Each reply its own message, sent in order."""
    response = MessagingResponse()
    for reply in replies:
        if reply is not None:
            response.message(reply)
    return str(response)


@router.post("/status", response_class=Response)
async def sms_status(tw: TwilioDep, sessions: WebhookSessionsDep, clock: ClockDep,
                     threads: LaneDep) -> Response:
    """Delivery of a message we sent: recorded on its outbox row."""
    return await lane.run(threads, _status, tw, sessions, clock)


def _status(tw: TwilioRequest, sessions: Callable[[], Session], clock: Clock) -> Response:
    # Nobody waits on a delivery report: a status Twilio never sends is refused, not kept.
    if (unknown := fields.unknown_value(tw.form, ("MessageStatus", "SmsStatus"))) is not None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, unknown)
    sid, delivery = tw.field("MessageSid"), tw.field("MessageStatus")
    error = tw.optional("ErrorCode")
    now = clock()
    with sessions() as session, session.begin():
        row = session.scalars(select(Outbox).where(Outbox.twilio_sid == sid)).one_or_none()
        if row is not None:
            if _rank(delivery) > _rank(row.delivery_status):
                row.delivery_status = delivery
            if error:
                row.last_error = f"twilio {error}"[:120]
            if error == OPTED_OUT_ERROR:
                conversation = session.get_one(Conversation, row.conversation_id)
                conversations.set_opted_out(session, conversation, now)
    return _xml(str(MessagingResponse()))


def _rank(status: str | None) -> int:
    return DELIVERY_ORDER.index(status) if status in DELIVERY_ORDER else -1
