"""Telegram while the database is down: the update is journalled encrypted, the person is
told someone will write, and once the database is back it lands once and the intake's
replies leave through the outbox."""

import json
import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.cases.models import Channel
from app.messaging import texts
from app.messaging.models import Conversation, Message, Outbox
from tests.channels.telegram.chat import SECRET, Chat, deliver
from tests.fake_telegram import TOKEN
from tests.webhooks.test_degraded_mode import journal_text, running_hotline

CHAT_ID = 5550009876
RUSSIAN = "Здравствуйте, мне нужна помощь"


def test_an_update_in_an_outage_is_answered_journalled_encrypted_and_lands_once(
        fresh_database_url, audio_dir, tmp_path, telegram):
    with running_hotline(fresh_database_url, audio_dir, tmp_path,
                         telegram_bot_token=TOKEN, telegram_webhook_secret=SECRET,
                         telegram_api_url=telegram.base_url) as (app, database), \
            TestClient(app) as client:
        database.down()
        chat = Chat(client, CHAT_ID, language_code="ru")
        answer = chat.send(RUSSIAN)
        assert answer == {"method": "sendMessage", "chat_id": CHAT_ID,
                          "text": texts.text("ru", "confirmed", number="112")}
        written = journal_text(app)
        [record] = [json.loads(line) for line in written.splitlines()]
        assert record["channel"] == "telegram"
        for clear in (str(CHAT_ID), RUSSIAN, "Gulnara", "gulnara_k1987", "confirmed"):
            assert clear not in written

        database.up()
        time.sleep(app.state.settings.journal_retry_seconds)
        assert chat.resend() == answer  # replayed first, then the stored answer
        assert journal_text(app) == ""
        assert chat.resend() == answer
        deliver(app)

    assert telegram.sent() == [(str(CHAT_ID), texts.text("ru", "need"))]
    with database.session() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert (conversation.channel, conversation.language) == (Channel.TELEGRAM, "ru")
        assert session.scalar(select(func.count()).select_from(Message)) == 2
        assert session.scalar(select(func.count()).select_from(Outbox)) == 1
