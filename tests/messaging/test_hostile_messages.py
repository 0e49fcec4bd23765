"""Hostile but real text: what a sender's phone puts in a message is cleaned, never refused."""

import pytest
from sqlalchemy import select

from app.messaging import texts
from app.messaging.models import Direction, Message
from app.privacy import crypto
from tests.messaging.texting import Texter

pytestmark = pytest.mark.usefixtures("demo_directory")

NUMBER = "+79000000131"  # fictitious


@pytest.mark.parametrize("address", [NUMBER, f"whatsapp:{NUMBER}"])
def test_control_characters_are_stripped_and_the_message_is_recorded_and_answered(
        client, settings, session, address):
    # NUL made PostgreSQL refuse the row and the webhook answered 400: the message was lost.
    t = Texter(client, settings, address)
    reply = t.send("Здравствуйте,\x00 мне нужна\x07\x1b помощь\r\nу меня забрали\x7f паспорт\x85")
    assert reply == texts.text("ru", "need")
    inbound = session.scalars(select(Message).where(Message.direction == Direction.IN)).one()
    assert crypto.decrypt(settings.encryption_key, inbound.body_encrypted) == (
        "Здравствуйте, мне нужна помощь\nу меня забрали паспорт")


def test_a_message_of_nothing_but_control_characters_is_still_answered(client, settings,
                                                                       session):
    replies = Texter(client, settings, NUMBER).send_all("\x00\x00\x1b")
    assert replies  # the language menu: there is nothing to read a language from
    assert session.scalars(select(Message).where(Message.direction == Direction.IN)).one()


def test_a_whatsapp_profile_name_with_a_nul_does_not_lose_the_message(client, settings,
                                                                     session):
    t = Texter(client, settings, f"whatsapp:{NUMBER}")
    reply = t.send("Здравствуйте, мне нужна помощь", ProfileName="Profile\x00name\x1b")
    assert reply == texts.text("ru", "need")
    assert session.scalars(select(Message).where(Message.direction == Direction.IN)).one()
