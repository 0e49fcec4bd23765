"""A scripted person chatting with the hotline's bot, as Telegram posts their updates."""

import itertools
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from app import channels
from app.config import Settings
from app.messaging import outbox
from app.messaging.outbox import DeliveryReport
from tests.conftest import make_settings
from tests.fake_telegram import TOKEN

SECRET = "test-telegram-webhook-secret_0123456789"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK = "/telegram/webhook"
# Not digits a test phone number could be read from (the log guard looks for them).
_update_ids = itertools.count(861_234_001)


def telegram_settings(database_url: str, api_url: str, **overrides: object) -> Settings:
    return make_settings(database_url, telegram_bot_token=TOKEN,
                         telegram_webhook_secret=SECRET, telegram_api_url=api_url,
                         **overrides)


def deliver(app: FastAPI) -> DeliveryReport:
    """One pass of the outbox, with the senders the registry builds from the settings."""
    settings: Settings = app.state.settings
    return outbox.deliver_due(app.state.sessionmaker, channels.senders(settings), settings,
                              app.state.clock())


@dataclass
class Chat:
    """A private chat with the bot. Telegram sends the person's names with every message:
    they are here so the tests can show none of it is kept."""

    client: TestClient
    chat_id: int
    language_code: str | None = None
    person: dict[str, Any] = field(default_factory=lambda: {
        "first_name": "Gulnara", "last_name": "Karimova", "username": "gulnara_k1987"})
    last: dict[str, Any] = field(default_factory=dict)

    def update(self, text: str | None = None, **message: Any) -> dict[str, Any]:
        update_id = next(_update_ids)
        sender = {"id": self.chat_id, "is_bot": False, **self.person}
        if self.language_code:
            sender["language_code"] = self.language_code
        body: dict[str, Any] = {
            "message_id": update_id % 1000, "date": 1795420800, "from": sender,
            "chat": {"id": self.chat_id, "type": "private", **self.person}} | message
        if text is not None:
            body["text"] = text
        return {"update_id": update_id, "message": body}

    def send(self, text: str | None = None, **message: Any) -> dict[str, Any]:
        """Write to the bot; the webhook's answer (what Telegram is asked to do at once)."""
        self.last = self.update(text, **message)
        return self.resend()

    def resend(self) -> dict[str, Any]:
        """Telegram retrying the last update, same update_id."""
        response = post(self.client, self.last)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


def post(client: TestClient, update: Any, secret: str | None = SECRET) -> Response:
    headers = {HEADER: secret} if secret is not None else {}
    return client.post(WEBHOOK, json=update, headers=headers)
