"""SMS and WhatsApp through Twilio, as the registry (``app.channels``) sees them.

Both arrive on one webhook (``webhook``), so the SMS adapter carries the router and
WhatsApp's has an empty one; each has its own outbox sender, as Twilio wants WhatsApp's
addresses written ``whatsapp:+…`` (``sender``). A WhatsApp channel of another provider
would replace ``WHATSAPP`` with its own folder.
"""

from datetime import datetime

from fastapi import APIRouter
from sqlalchemy.orm import Session

from app.cases.models import Channel
from app.channels.sms import sender, webhook
from app.channels.sms.cli import add_commands
from app.pipeline import Inbound, journalled
from app.privacy import crypto
from app.webhooks.adapter import Adapter
from app.webhooks.journal import Record
from app.webhooks.replay import ReplayContext


def replay(session: Session, context: ReplayContext, record: Record, at: datetime) -> None:
    """A journalled text through the intake; also the records written before channels
    were adapters (version 1: Twilio's fields, ``number`` with its ``whatsapp:``)."""
    if record.get("v", 1) >= journalled.VERSION:
        journalled.replay(session, context, record, at)
        return
    journalled.replay_inbound(session, context, _inbound_v1(context, record), at)


def _inbound_v1(context: ReplayContext, record: Record) -> Inbound:
    key = context.settings.encryption_key
    return webhook.inbound_of(
        record["sid"], crypto.decrypt(key, record["number"]), crypto.decrypt(key, record["body"]),
        from_country=record.get("from_country"), opt_out_type=record.get("opt_out_type"),
        to=record.get("to"), media=record.get("media", 0))


ADAPTER = Adapter(name=Channel.SMS.value, router=webhook.router, channels=(Channel.SMS,),
                  replay=replay, sender=sender.sms_sender, commands=add_commands)
WHATSAPP = Adapter(name=Channel.WHATSAPP.value, router=APIRouter(),
                   channels=(Channel.WHATSAPP,), replay=replay, sender=sender.whatsapp_sender)
