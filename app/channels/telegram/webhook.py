"""``POST /telegram/webhook``: a Telegram Update, into the same intake as SMS and WhatsApp.

Telegram sends back, in ``X-Telegram-Bot-Api-Secret-Token``, the secret given to it by
``hotline telegram setup``; a request without it (or with no bot configured) is refused
with 403 before its body is read. Each update is handled once: its reply is stored under
a hash of its ``update_id`` in the same transaction as what it changed, so Telegram's
retry of an update changes nothing and gets the same answer.

The intake's replies go out through the durable outbox (``sendMessage``, with retries),
so the webhook answers at once. The only reply in the webhook's own answer is one the
outbox cannot send: the erase word's confirmation (the chat id is already forgotten) or
the one text a blocked sender gets (no conversation is kept). Telegram performs a method
given in the answer (``{"method": "sendMessage", ...}``); as that answer holds the chat
id, it is stored encrypted. While the database is down the update goes to the local
journal, encrypted, answered with "a person will write back", and is replayed later.
"""

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from sqlalchemy.orm import Session

from app.cases.models import Channel
from app.channels.telegram import updates
from app.config import Settings
from app.deps import SettingsDep
from app.errors import problem
from app.pipeline import Inbound, intake, journalled
from app.privacy import crypto
from app.routing.snapshot import Directory
from app.webhooks import lane, recovery
from app.webhooks.deps import Webhook, WebhookDep
from app.webhooks.replies import reply_once

router = APIRouter(prefix="/telegram", tags=["telegram"])
NOTHING = "{}"  # an answer Telegram takes as "received", with nothing to do
REFUSED = "not a request from Telegram for this bot"


async def check_secret(settings: SettingsDep, token: Annotated[
        str | None, Header(alias="X-Telegram-Bot-Api-Secret-Token")] = None) -> None:
    """403 unless the request carries this bot's secret (constant-time); always 403 while
    no bot is configured, so the route's existence says nothing."""
    secret = settings.telegram_webhook_secret
    if not (settings.telegram_bot_token and secret and token is not None
            and hmac.compare_digest(token.encode(), secret.encode())):
        raise HTTPException(status.HTTP_403_FORBIDDEN, REFUSED)


@router.post("/webhook", response_class=Response, dependencies=[Depends(check_secret)],
             responses={400: problem("The body is not JSON"), 403: problem(
                 "Not from Telegram for this bot: no or another secret, or no bot set up")})
async def telegram_update(request: Request, hook: WebhookDep) -> Response:
    """One Update from Telegram; the answer is JSON Telegram may act on."""
    try:
        update = updates.parse(await request.body())
    except updates.Malformed as error:
        raise HTTPException(error.status, error.detail) from None
    if update.message is None:
        return _json(NOTHING)  # not for the intake: nothing recorded
    inbound = inbound_of(update.update_id, update.message)
    key = reply_key(update.update_id)

    def in_database() -> str:
        snapshot = hook.directory.get()  # before the transaction: it may reload
        return reply_once(
            hook.sessions, key,
            lambda session: _handle(session, hook.settings, snapshot, inbound, hook.now),
            at=hook.now, seal=_sealer(hook.settings), unseal=_unsealer(hook.settings))

    def in_journal() -> str:
        return _journal(hook, inbound, key)

    return _json(await lane.run(hook.lane, recovery.database_or_journal, hook.app,
                                in_database, in_journal))


def inbound_of(update_id: int, message: updates.PrivateMessage) -> Inbound:
    return Inbound(channel=Channel.TELEGRAM, address=str(message.chat_id),
                   # prefixed: update ids are small numbers, unique only per bot; contacts
                   # and messages keep provider ids in unique columns shared by channels
                   provider_id=f"telegram-{update_id}", text=message.text, media=message.media,
                   language_hint=message.language_code,
                   opt_out="START" if message.start else None)


def reply_key(update_id: int) -> str:
    return hashlib.sha256(f"telegram\x1f{update_id}".encode()).hexdigest()


def _handle(session: Session, settings: Settings, directory: Directory, inbound: Inbound,
            now: datetime) -> str:
    """The intake, its replies into the outbox; the answer says what only it can send."""
    replies = intake.handle(session, settings, directory, inbound, now, reply_later=True)
    return answer(inbound.address, replies)


def answer(chat_id: str, replies: list[str]) -> str:
    """The webhook's answer: nothing, or Telegram asked to send the one reply."""
    if not replies:
        return NOTHING
    return json.dumps({"method": "sendMessage", "chat_id": int(chat_id),
                       "text": "\n\n".join(replies)}, ensure_ascii=False)


def _journal(hook: Webhook, inbound: Inbound, key: str) -> str:
    """Keep the update, encrypted, for the database (replayed by ``journalled.replay``);
    meanwhile tell the person that someone will write back, in the language their text
    (or their app) is in."""
    # No country: a chat id says nothing of where the person is, and the bot is no line.
    reply = intake.reply_without_database(inbound, hook.settings, None)
    body = answer(inbound.address, [reply] if reply else [])
    hook.journal.append(journalled.record(hook.settings, inbound, key, hook.now,
                                          _sealer(hook.settings)(body)))
    return body


def _sealer(settings: Settings) -> Callable[[str], str]:
    return lambda body: crypto.encrypt(settings.encryption_key, body)


def _unsealer(settings: Settings) -> Callable[[str], str]:
    return lambda body: crypto.decrypt(settings.encryption_key, body)


def _json(body: str) -> Response:
    return Response(body, media_type="application/json")
