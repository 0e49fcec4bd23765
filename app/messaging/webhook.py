"""Twilio messaging webhooks: an inbound SMS or WhatsApp message, and the delivery status
of ours.

Signed like the voice webhooks (403 otherwise). An inbound message is handled in one
transaction together with the reply stored under its MessageSid, so a retried webhook
returns the same reply and records nothing twice. If the database cannot be reached,
the message goes to the local journal (encrypted) and is replayed once it is back.

A message's ``Body`` arrives without control characters (``app.telephony.fields``): a
NUL a sender's phone put in is dropped, and the message is recorded and answered.

WhatsApp comes through Twilio on this same webhook, with ``From`` and ``To`` written
``whatsapp:+…``: the intake takes the channel from the address, and the reply in the
TwiML goes back on the channel the message came on.
"""

import hashlib
import logging
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy import select
from twilio.twiml.messaging_response import MessagingResponse

from app import recovery
from app.config import Settings
from app.detection.country import caller_country
from app.messaging import conversations, intake
from app.messaging.models import Conversation, Outbox
from app.privacy import crypto
from app.telephony import fields, lane
from app.telephony.models import reply_once
from app.telephony.signature import TwilioDep, TwilioRequest

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/twilio/sms", tags=["twilio"])

# Twilio's MessageStatus values in the order they happen; a late callback never goes back.
# (delivery_unknown and partially_delivered are valid too, and change nothing recorded.)
DELIVERY_ORDER = ("accepted", "scheduled", "queued", "sending", "sent", "receiving",
                  "received", "delivered", "read", "undelivered", "failed", "canceled")
OPTED_OUT_ERROR = "21610"


def _xml(body: str) -> Response:
    return Response(body, media_type="application/xml")


@router.post("", response_class=Response)
async def inbound_sms(request: Request, tw: TwilioDep) -> Response:
    """A text to the hotline (SMS or WhatsApp): the reply, if any, is in the TwiML."""
    return await lane.run(request, _inbound, request, tw)


def _inbound(request: Request, tw: TwilioRequest) -> Response:
    message = intake.Inbound(sid=tw.field("MessageSid"), from_=tw.field("From"),
                             body=tw.form.get("Body", ""),
                             from_country=tw.optional("FromCountry"),
                             opt_out_type=tw.optional("OptOutType"),
                             to=tw.optional("To"),
                             # only how many: a MediaUrl is never read, kept or logged
                             media=intake.media_count(tw.optional("NumMedia")))
    key = hashlib.sha256(f"sms\x1f{message.sid}".encode()).hexdigest()
    now: datetime = request.app.state.clock()
    return _xml(recovery.database_or_journal(
        request.app, lambda: _in_database(request, message, key, now),
        lambda: _in_journal(request, message, key, now)))


def _in_database(request: Request, message: intake.Inbound, key: str, now: datetime) -> str:
    directory = request.app.state.directory.get()  # before the transaction: it may reload
    settings = request.app.state.settings
    return reply_once(request.app.state.sessionmaker, key, lambda session: _twiml(
        *intake.handle(session, settings, directory, message, now)), at=now)


def _in_journal(request: Request, message: intake.Inbound, key: str, now: datetime) -> str:
    """Keep the message, encrypted, for the database; reply without knowing the
    conversation: that a person will write back, in the language the text is in."""
    settings: Settings = request.app.state.settings
    # The dialled line from the snapshot in memory: the database is down.
    dialled = request.app.state.directory.current.line(message.line)
    country = (caller_country(message.from_, message.from_country).country
               or (dialled.country if dialled else None))
    body = _twiml(intake.reply_without_database(message, settings, country))
    request.app.state.journal.append({
        "v": 1, "channel": message.channel.value, "key": key, "at": now.isoformat(),
        "sid": message.sid, "number": crypto.encrypt(settings.encryption_key, message.from_),
        "body": crypto.encrypt(settings.encryption_key, message.body),
        "from_country": message.from_country, "opt_out_type": message.opt_out_type,
        "to": message.to, "media": message.media,
        "reply": body})
    return body


def _twiml(*replies: str | None) -> str:
    """Each reply its own message, sent in order."""
    response = MessagingResponse()
    for reply in replies:
        if reply is not None:
            response.message(reply)
    return str(response)


@router.post("/status", response_class=Response)
async def sms_status(request: Request, tw: TwilioDep) -> Response:
    """Delivery of a message we sent: recorded on its outbox row."""
    return await lane.run(request, _status, request, tw)


def _status(request: Request, tw: TwilioRequest) -> Response:
    # Nobody waits on a delivery report: a status Twilio never sends is refused, not kept.
    if (unknown := fields.unknown_value(tw.form, ("MessageStatus", "SmsStatus"))) is not None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, unknown)
    sid, delivery = tw.field("MessageSid"), tw.field("MessageStatus")
    error = tw.optional("ErrorCode")
    now: datetime = request.app.state.clock()
    with request.app.state.sessionmaker() as session, session.begin():
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
