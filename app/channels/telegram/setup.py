"""``hotline telegram setup``: tell Telegram where to deliver the bot's messages.

One ``setWebhook`` call: the service's ``/telegram/webhook`` at ``HOTLINE_PUBLIC_URL``,
the webhook secret Telegram is to send back with every update, message updates only
(edits, callbacks and the rest would be dropped anyway), and updates that waited while
no webhook was set kept, not dropped: each may be a person asking for help. Running it
again sets the same; nothing else of the bot is changed. The token is never printed.
"""

from collections.abc import Callable

from app.channels.telegram import bot_api, webhook
from app.config import Settings

Print = Callable[[str], None]
ALLOWED_UPDATES = ["message"]


class SetupError(Exception):
    """The command cannot do its work: the reason is for the person running it."""


def webhook_url(settings: Settings) -> str:
    return f"{settings.public_url}{webhook.router.prefix}/webhook"


def set_webhook(settings: Settings, say: Print) -> None:
    """Point the bot at this service; SetupError if it cannot be done."""
    api = bot_api.make_api(settings)
    if api is None:
        raise SetupError("HOTLINE_TELEGRAM_BOT_TOKEN is not set: create a bot with "
                         "@BotFather and set its token first")
    url = webhook_url(settings)
    if not url.startswith("https://"):
        raise SetupError(f"Telegram delivers only to https:// addresses, and "
                         f"HOTLINE_PUBLIC_URL makes it {url}")
    try:
        api.call("setWebhook", {"url": url, "secret_token": settings.telegram_webhook_secret,
                                "allowed_updates": ALLOWED_UPDATES,
                                "drop_pending_updates": False})
    except bot_api.BotApiError as error:
        raise SetupError(f"Telegram refused setWebhook ({error})") from None
    say(f"Telegram now delivers the bot's messages to {url}, with the webhook secret "
        f"(HOTLINE_TELEGRAM_WEBHOOK_SECRET); updates: {', '.join(ALLOWED_UPDATES)}; "
        "updates waiting since the last webhook kept")
