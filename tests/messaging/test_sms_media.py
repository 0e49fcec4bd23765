"""Pictures and recordings (MMS, WhatsApp media): counted, never fetched or kept, and a
message without words gets asked for words."""

import logging

import pytest
from sqlalchemy import select

from app.cases.models import Contact
from app.messaging import texts
from app.messaging.models import Conversation, ConversationState
from tests.channels.voice.test_voice_safety import dump_all_tables
from tests.messaging.texting import Texter, by_sms

pytestmark = pytest.mark.usefixtures("demo_directory")
MEDIA_URL = "https://api.twilio.com/2010-04-01/Accounts/AC00/Messages/MM00/Media/ME0123456789"
FIRST = "Сәлеметсіз бе, маған көмек керек"


def media(count: int) -> dict[str, str]:
    """Twilio's fields for ``count`` attachments."""
    fields = {"NumMedia": str(count)}
    for n in range(count):
        fields |= {f"MediaUrl{n}": f"{MEDIA_URL}{n}", f"MediaContentType{n}": "image/jpeg"}
    return fields


def contact_of(session) -> Contact:
    session.expire_all()
    return session.scalars(select(Contact)).one()


def test_a_picture_without_words_is_asked_for_words_and_never_kept(client, settings, session,
                                                                   caplog):
    caplog.set_level(logging.DEBUG)
    t = Texter(client, settings, "+77010000401")
    assert t.send("", **media(1)) == texts.text("kk", "media")  # the number's language
    assert contact_of(session).media == 1
    conversation = session.scalars(select(Conversation)).one()
    assert (conversation.state, conversation.menu) == (ConversationState.LANGUAGE, None)
    assert MEDIA_URL not in dump_all_tables(session) and MEDIA_URL not in caplog.text
    assert t.send(FIRST) == texts.text("kk", "need")  # then read as a first message


def test_words_with_pictures_are_handled_and_the_pictures_counted(client, settings, session):
    t = Texter(client, settings, "+77010000402")
    assert t.send(FIRST, **media(2)) == texts.text("kk", "need")
    assert t.send("", **media(1)) == texts.text("kk", "media")  # the dialogue waits
    assert t.send("2") == texts.text("kk", "child")
    assert contact_of(session).media == 3


def test_a_recording_mid_intake_is_answered_in_the_chosen_language(client, settings):
    t = Texter(client, settings, "+905300000401")
    t.send("Merhaba, yardıma ihtiyacım var")
    assert t.send(" ", **media(1)) == by_sms("tr", "media")


def test_a_nonsense_media_count_counts_nothing(client, settings, session):
    t = Texter(client, settings, "+77010000403")
    assert t.send(FIRST, NumMedia="many") == texts.text("kk", "need")
    assert contact_of(session).media == 0


def test_while_the_database_is_down_a_picture_is_still_asked_for_words(settings):
    from app.channels.sms.webhook import inbound_of
    from app.pipeline.intake import reply_without_database

    inbound = inbound_of("SM" + "0" * 32, "+905300000403", "", media=1)
    assert reply_without_database(inbound, settings, "TR") == by_sms("tr", "media")
