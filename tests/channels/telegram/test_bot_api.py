"""The Bot API client and the outbox's Telegram sender, against a local fake of the Bot
API (a real HTTP server on 127.0.0.1), never Telegram."""

import logging
import socket
from collections.abc import Iterator

import pytest

from app.channels.telegram import bot_api
from app.sending import SendError
from tests.conftest import make_settings
from tests.fake_telegram import (
    BLOCKED,
    CHAT_NOT_FOUND,
    DEACTIVATED,
    SERVER_ERROR,
    TOKEN,
    TOO_MANY,
    FakeBotApi,
    fake_telegram,
)

CHAT = "100000042"


@pytest.fixture
def telegram() -> Iterator[FakeBotApi]:
    with fake_telegram() as fake:
        yield fake


def sender_for(fake: FakeBotApi, token: str = TOKEN) -> bot_api.TelegramSender:
    return bot_api.TelegramSender(bot_api.BotApi(fake.base_url, token))


def test_a_reply_is_one_send_message_to_the_chat(telegram):
    assert sender_for(telegram).send(CHAT, "Мы вам напишем") is None  # no id worth keeping
    assert telegram.sent() == [(CHAT, "Мы вам напишем")]


@pytest.mark.parametrize("answer", [TOO_MANY, SERVER_ERROR])
def test_flood_limits_and_telegrams_own_errors_are_tried_again(telegram, answer):
    telegram.answer_next(answer)
    with pytest.raises(SendError) as caught:
        sender_for(telegram).send(CHAT, "hello")
    assert caught.value.retryable and not caught.value.opted_out
    assert caught.value.code == f"telegram {answer.status}"


def test_an_unreachable_api_is_tried_again():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # closed once the block ends: connections refused
    sender = bot_api.TelegramSender(bot_api.BotApi(f"http://127.0.0.1:{port}", TOKEN))
    with pytest.raises(SendError) as caught:
        sender.send(CHAT, "hello")
    assert caught.value.retryable and caught.value.code == "telegram 0"


@pytest.mark.parametrize("answer", [BLOCKED, DEACTIVATED])
def test_a_person_who_blocked_the_bot_or_left_telegram_has_opted_out(telegram, answer):
    telegram.answer_next(answer)
    with pytest.raises(SendError) as caught:
        sender_for(telegram).send(CHAT, "hello")
    assert caught.value.opted_out and not caught.value.retryable


@pytest.mark.parametrize(("token", "answer"), [(TOKEN, CHAT_NOT_FOUND), ("1:wrong", None)])
def test_other_refusals_are_permanent(telegram, token, answer):
    if answer is not None:
        telegram.answer_next(answer)
    with pytest.raises(SendError) as caught:
        sender_for(telegram, token).send(CHAT, "hello")
    assert not caught.value.retryable and not caught.value.opted_out


def test_the_token_and_chat_appear_in_no_error_and_no_log(telegram, caplog):
    caplog.set_level(logging.DEBUG)
    telegram.answer_next(BLOCKED, SERVER_ERROR)
    sender = sender_for(telegram)
    errors = []
    for _ in range(2):
        with pytest.raises(SendError) as caught:
            sender.send(CHAT, "hello")
        errors.append(caught.value)
    shown = " ".join([*map(str, errors), *map(repr, errors), repr(sender.api),
                      *(r.getMessage() for r in caplog.records)])
    assert TOKEN not in shown and TOKEN.split(":")[1] not in shown and CHAT not in shown


def test_no_sender_and_no_api_without_a_bot_token(database_url):
    settings = make_settings(database_url)
    assert bot_api.make_sender(settings) is None and bot_api.make_api(settings) is None
    configured = make_settings(database_url, telegram_bot_token=TOKEN,
                               telegram_api_url="http://127.0.0.1:9/")
    api = bot_api.make_api(configured)
    assert api is not None and api.base_url == "http://127.0.0.1:9"
