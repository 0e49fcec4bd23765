"""``hotline simulate telegram``: a chat with the bot through the real webhook, in-process.

Each message is posted as Telegram posts an Update, with the webhook secret; what the
webhook answers at once (an erase confirmation) is printed, then the outbox is run
with a sender that prints what it would send to ``sendMessage`` instead of calling
Telegram. An operator's reply can follow, through the same outbox. Everything it
records is rolled back unless ``keep`` is set.
"""

import itertools
import secrets
from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app import pipeline
from app.cases.models import Channel
from app.config import Settings
from app.messaging import outbox
from app.webhooks.simulation import AppFactory, show_case, simulated_app

Say = Callable[[str], None]
SIMULATED_TOKEN = "0:simulated-bot-no-request-leaves-this-process"


class PrintingSender:
    """The outbox's Telegram sender, showing what would go to sendMessage."""

    def __init__(self, say: Say) -> None:
        self.say = say
        self.sent: list[tuple[str, str]] = []

    def send(self, address: str, body: str, *, origin: str | None = None) -> str | None:
        self.sent.append((address, body))
        self.say(f"outbox sends to chat {address}:\n{body}")
        return None


def simulate_telegram(create_app: AppFactory, settings: Settings, chat: int,
                      messages: list[str], say: Say, *,
                      language_code: str | None = None, operator_reply: str | None = None,
                      at: datetime | None = None, keep: bool = False) -> None:
    secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
    settings = settings.model_copy(update={
        "outbox_worker": False, "telegram_webhook_secret": secret,
        "telegram_bot_token": SIMULATED_TOKEN})  # the printing sender never uses it
    sender = PrintingSender(say)
    update_ids = itertools.count(secrets.randbelow(10**9))  # a fresh id each run, as --keep
    with simulated_app(create_app, settings, at, keep) as app, TestClient(app) as client:
        for text in messages:
            say(f'chat {chat} writes: "{text}"')
            answer = client.post("/telegram/webhook",
                                 json=update(next(update_ids), chat, text, language_code),
                                 headers={"X-Telegram-Bot-Api-Secret-Token": secret})
            answer.raise_for_status()
            _show_answer(answer.json(), say)
            _deliver(app, sender, settings)
        pseudonym = pipeline.pseudonym(settings, Channel.TELEGRAM, str(chat))
        if show_case(app, pseudonym, operator_reply, say):
            _deliver(app, sender, settings)


def update(update_id: int, chat: int, text: str, language_code: str | None) -> dict[str, object]:
    """An Update as Telegram sends one for a text in a private chat."""
    sender: dict[str, object] = {"id": chat, "is_bot": False, "first_name": "Simulated"}
    if language_code:
        sender["language_code"] = language_code
    return {"update_id": update_id,
            "message": {"message_id": update_id, "date": 0, "text": text, "from": sender,
                        "chat": {"id": chat, "type": "private", "first_name": "Simulated"}}}


def _show_answer(answer: dict[str, object], say: Say) -> None:
    if answer.get("method") == "sendMessage":
        say(f"webhook answers with sendMessage:\n{answer['text']}")


def _deliver(app: FastAPI, sender: PrintingSender, settings: Settings) -> None:
    before = len(sender.sent)
    outbox.deliver_due(app.state.sessionmaker, {Channel.TELEGRAM: sender}, settings,
                       app.state.clock())
    if len(sender.sent) == before:
        sender.say("the hotline sends nothing")
