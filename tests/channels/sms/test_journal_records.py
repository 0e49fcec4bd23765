"""Texts journalled during an outage land once the database is back: those written now
(the core's ``Inbound``) and those written before channels were adapters (Twilio's
fields, still in the journal of a service upgraded mid-outage)."""

import hashlib

import pytest
from sqlalchemy import func, select

from app.cases.models import Channel, Contact
from app.channels.sms.webhook import inbound_of
from app.messaging.models import Conversation, Message, Outbox
from app.pipeline import journalled
from app.privacy import crypto
from app.webhooks import recovery
from tests.conftest import WEEKDAY_MORNING
from tests.messaging.texting import new_message_sid

NUMBER = "+77010000771"
HOTLINE = "+77270009999"


def version_1(settings, sid: str, from_: str, body: str, to: str) -> dict:
    """A record exactly as the SMS webhook journalled texts before this change."""
    key = settings.encryption_key
    return {"v": 1, "channel": "whatsapp" if from_.startswith("whatsapp:") else "sms",
            "key": hashlib.sha256(f"sms\x1f{sid}".encode()).hexdigest(),
            "at": WEEKDAY_MORNING.isoformat(), "sid": sid,
            "number": crypto.encrypt(key, from_), "body": crypto.encrypt(key, body),
            "from_country": None, "opt_out_type": None, "to": to, "media": 0,
            "reply": "<Response />"}


@pytest.mark.parametrize(("prefix", "channel"), [("", Channel.SMS),
                                                 ("whatsapp:", Channel.WHATSAPP)])
def test_a_text_journalled_before_channels_were_adapters_still_lands_once(
        app, settings, session, demo_directory, prefix, channel):
    record = version_1(settings, new_message_sid(), prefix + NUMBER,
                       "Сәлеметсіз бе, маған көмек керек", prefix + HOTLINE)
    assert recovery.apply(app, record)
    assert not recovery.apply(app, record)  # a second replay changes nothing
    conversation = session.scalars(select(Conversation)).one()
    assert conversation.channel is channel and conversation.language == "kk"
    assert conversation.line == HOTLINE
    # Replies go where they went before: on WhatsApp, to the whatsapp: address.
    assert crypto.decrypt(settings.encryption_key, conversation.number_encrypted) == (
        prefix + NUMBER)
    contact = session.scalars(select(Contact)).one()
    assert (contact.channel, contact.caller_country) == (channel, "KZ")
    assert session.scalar(select(func.count()).select_from(Message)) == 2  # in, and reply
    assert session.scalar(select(func.count()).select_from(Outbox)) == 1  # the reply


def test_a_journalled_text_keeps_no_address_or_words_in_clear(app, settings, session,
                                                              demo_directory):
    inbound = inbound_of(new_message_sid(), "whatsapp:" + NUMBER, "мне нужна помощь",
                         to="whatsapp:" + HOTLINE)
    record = journalled.record(settings, inbound, "k" * 64, WEEKDAY_MORNING, "<Response />")
    written = repr(record)
    assert NUMBER not in written and NUMBER.lstrip("+") not in written
    assert "помощь" not in written
    assert journalled.inbound_of(settings, record) == inbound
    assert recovery.apply(app, record)
    conversation = session.scalars(select(Conversation)).one()
    assert conversation.channel is Channel.WHATSAPP and conversation.language == "ru"
