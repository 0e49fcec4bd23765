"""Twilio messaging webhooks: an inbound SMS, and the delivery status of ours.

Signed like the voice webhooks (403 otherwise). An inbound message is handled in one
transaction together with the reply stored under its MessageSid, so a retried webhook
returns the same reply and records nothing twice.
"""

import hashlib
import logging
from datetime import datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from twilio.twiml.messaging_response import MessagingResponse

from app.messaging import conversations, intake
from app.messaging.models import Conversation, Outbox
from app.telephony.models import WebhookReply
from app.telephony.signature import TwilioDep

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/twilio/sms", tags=["twilio"])

# Twilio's MessageStatus values in the order they happen; a late callback never goes back.
DELIVERY_ORDER = ("accepted", "scheduled", "queued", "sending", "sent", "receiving",
                  "received", "delivered", "read", "undelivered", "failed", "canceled")
OPTED_OUT_ERROR = "21610"


def _xml(body: str) -> Response:
    return Response(body, media_type="application/xml")


@router.post("", response_class=Response)
def inbound_sms(request: Request, tw: TwilioDep) -> Response:
    """An SMS to the hotline: the reply, if any, is in the TwiML."""
    message = intake.Inbound(sid=tw.field("MessageSid"), from_=tw.field("From"),
                             body=tw.form.get("Body", ""),
                             from_country=tw.optional("FromCountry"),
                             opt_out_type=tw.optional("OptOutType"))
    key = hashlib.sha256(f"sms\x1f{message.sid}".encode()).hexdigest()
    now: datetime = request.app.state.clock()
    directory = request.app.state.directory.get()  # before the transaction: it may reload
    with request.app.state.sessionmaker() as session, session.begin():
        stored = session.get(WebhookReply, key)
        if stored is not None:
            return _xml(stored.body)
        reply = intake.handle(session, request.app.state.settings, directory, message, now)
        response = MessagingResponse()
        if reply is not None:
            response.message(reply)
        body = str(response)
        session.add(WebhookReply(key=key, body=body, created_at=now))
    return _xml(body)


@router.post("/status", response_class=Response)
def sms_status(request: Request, tw: TwilioDep) -> Response:
    """Delivery of a message we sent: recorded on its outbox row."""
    sid, status = tw.field("MessageSid"), tw.field("MessageStatus").lower()
    error = tw.optional("ErrorCode")
    now: datetime = request.app.state.clock()
    with request.app.state.sessionmaker() as session, session.begin():
        row = session.scalars(select(Outbox).where(Outbox.twilio_sid == sid)).one_or_none()
        if row is not None:
            if _rank(status) > _rank(row.delivery_status):
                row.delivery_status = status
            if error:
                row.last_error = f"twilio {error}"[:120]
            if error == OPTED_OUT_ERROR:
                conversation = session.get_one(Conversation, row.conversation_id)
                conversations.set_opted_out(session, conversation, now)
    return _xml(str(MessagingResponse()))


def _rank(status: str | None) -> int:
    return DELIVERY_ORDER.index(status) if status in DELIVERY_ORDER else -1
