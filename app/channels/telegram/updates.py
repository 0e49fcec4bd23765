"""A Telegram Update, read for what the intake needs and nothing more.

Only a new message in a private chat with the bot, from a person, carrying text (or a
caption) or an attachment, goes to the intake. Edits, group and channel posts, button
callbacks, messages of bots and service notices (a pinned message, a changed title)
are answered 200 and dropped: nobody is waiting for a reply to them.

``/start``, sent by Telegram's apps when a person opens the bot or restarts it after
blocking it, is read as their opting in again, with nothing written: the intake then
asks its first question (in the app's language if it has it).

Of the message only the chat id, the text, whether something is attached and the app's
language are read. The sender's names, username and any shared contact's phone number
travel in the same JSON; they are never read, so they cannot be stored or logged. An
attachment is counted, never fetched.
"""

import json
import re
from dataclasses import dataclass
from typing import Any, TypeGuard

# The kinds of attachment a message can carry (one per message; an album is several
# messages). "contact" holds a phone number: it is counted like the others, not read.
ATTACHMENTS = ("photo", "video", "audio", "voice", "video_note", "document", "animation",
               "sticker", "contact", "location", "venue", "poll", "dice", "story")
# What Telegram's apps send when a person opens the bot, or restarts it after blocking it:
# "/start", maybe addressed ("/start@hotline_bot") or with a deep link's payload.
START = re.compile(r"/start(@\w+)?(\s.*)?", re.IGNORECASE | re.DOTALL)
MAX_ID = 2**63  # Telegram's ids fit a signed 64-bit integer; a larger one is not theirs
MAX_LANGUAGE_CODE = 35  # the longest IETF tag Telegram could send; longer is not one


class Malformed(ValueError):
    """Not a Telegram Update: the webhook answers 400 (not JSON) or 422 (wrong shape)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class PrivateMessage:
    """What the intake gets of a message: who (the chat) and what, never a name."""

    chat_id: int
    text: str
    media: int            # 1 if something is attached, else 0: counted, never fetched
    language_code: str | None  # the person's app language, a hint for detection
    start: bool = False   # the /start command: the bot opened, or unblocked and restarted


@dataclass(frozen=True)
class Update:
    update_id: int
    message: PrivateMessage | None  # None: nothing for the intake


def parse(body: bytes) -> Update:
    """The Update in a webhook's body; Malformed if it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Malformed(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise Malformed(422, "an Update is a JSON object")
    update_id = data.get("update_id")
    if not _is_int(update_id) or not 0 <= update_id < MAX_ID:
        raise Malformed(422, "update_id is missing or not a non-negative 64-bit integer")
    return Update(update_id, _private_message(data.get("message")))


def _private_message(message: Any) -> PrivateMessage | None:
    if not isinstance(message, dict):
        return None  # an edit, a callback, a channel post... or no message at all
    chat, sender = message.get("chat"), message.get("from")
    if not isinstance(chat, dict) or chat.get("type") != "private" or not _is_id(chat.get("id")):
        return None
    if not isinstance(sender, dict) or sender.get("is_bot") is not False:
        return None
    text = message.get("text", message.get("caption", ""))
    media = int(any(kind in message for kind in ATTACHMENTS))
    if not isinstance(text, str) or not (text or media):
        return None  # a service notice: nothing was written or sent
    language = _language(sender.get("language_code"))
    if START.fullmatch(text):  # its deep-link payload, if any, is dropped unread
        return PrivateMessage(chat["id"], "", media, language, start=True)
    return PrivateMessage(chat["id"], text, media, language)


def _language(code: Any) -> str | None:
    """The language subtag of the app's IETF tag ("pt-br" -> "pt"); None if not one."""
    if not isinstance(code, str) or not 0 < len(code) <= MAX_LANGUAGE_CODE:
        return None
    primary = code.split("-")[0].lower()
    return primary if primary.isascii() and primary.isalpha() else None


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_id(value: object) -> TypeGuard[int]:
    return _is_int(value) and -MAX_ID < value < MAX_ID
