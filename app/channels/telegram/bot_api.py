"""Telegram's Bot API: the only place the service talks to Telegram on its own.

Two methods are used: ``sendMessage`` (the outbox's replies, through ``TelegramSender``)
and ``setWebhook`` (``hotline telegram setup``). The bot's token is part of every URL
(``{api}/bot{token}/{method}``), so no URL, exception text or response of a request is
ever logged or kept: failures are reported by HTTP status and Telegram's error code only.
"""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from app.config import Settings
from app.sending import SendError

TIMEOUT_SECONDS = 15
# Telegram's 403 descriptions for a chat that will never take a message from the bot
# again: the person blocked it, or deleted their account.
GONE = ("bot was blocked by the user", "user is deactivated")


class BotApiError(Exception):
    """Telegram refused a call, or could not be reached (``status`` 0)."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"telegram {status}: {description}" if status else description)
        self.status = status
        self.description = description

    @property
    def retryable(self) -> bool:
        """Too many requests, Telegram's own trouble, or the network: try again later."""
        return self.status in (0, 429) or self.status >= 500

    @property
    def chat_gone(self) -> bool:
        return self.status == 403 and any(why in self.description.lower() for why in GONE)


@dataclass(frozen=True)
class BotApi:
    base_url: str                   # https://api.telegram.org, or a local fake in tests
    token: str = field(repr=False)  # never in a traceback or a log line

    def call(self, method: str, payload: dict[str, Any]) -> Any:
        """POST ``payload`` as JSON; Telegram's ``result``, or BotApiError."""
        request = urllib.request.Request(
            f"{self.base_url}/bot{self.token}/{method}", method="POST",
            data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                answer = _json(response.read())
        except urllib.error.HTTPError as error:  # its text and URL hold the token: dropped
            answer = _json(_body(error))
            raise BotApiError(error.code, str(answer.get("description", ""))) from None
        except (OSError, ValueError) as error:  # refused, timed out, not HTTP
            raise BotApiError(0, type(error).__name__) from None
        if not answer.get("ok"):
            raise BotApiError(int(answer.get("error_code") or 0),
                              str(answer.get("description", "")))
        return answer.get("result")


def _body(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read()
    except OSError:  # the connection broke while the error was read
        return b""


def _json(raw: bytes) -> dict[str, Any]:
    """Telegram's answer as an object; an empty one when it is not JSON (a proxy's page)."""
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class TelegramSender:
    """The outbox's ``TextSender`` for Telegram: one ``sendMessage`` per reply."""

    def __init__(self, api: BotApi) -> None:
        self.api = api

    def send(self, address: str, body: str, *, origin: str | None = None) -> str | None:
        """Send ``body`` to the chat ``address``. Returns None: Telegram's message ids
        count per chat, so one would not identify the message among all chats."""
        try:
            self.api.call("sendMessage", {"chat_id": address, "text": body})
        except BotApiError as error:
            raise SendError(f"telegram {error.status}", retryable=error.retryable,
                            opted_out=error.chat_gone) from None
        return None


def make_api(settings: Settings) -> BotApi | None:
    """The bot's API once a token is configured; None without one."""
    if not settings.telegram_bot_token:
        return None
    return BotApi(settings.telegram_api_url, settings.telegram_bot_token)


def make_sender(settings: Settings) -> TelegramSender | None:
    """The outbox's sender; None without a bot token (Telegram replies wait)."""
    api = make_api(settings)
    return TelegramSender(api) if api is not None else None
