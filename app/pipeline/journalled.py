"""A text kept in the journal while the database is down, and its replay once it is back.

Any text channel's adapter journals its ``Inbound`` with ``record`` and replays it with
``replay``: the address and the text are encrypted as the database keeps them, never in
clear on disk. The replay runs the intake as if the message had just arrived; the person
already had the journal's short reply, so the intake's own replies go out by the outbox.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from app.cases.models import Channel
from app.config import Settings
from app.pipeline import Inbound, intake
from app.privacy import crypto
from app.webhooks.journal import Record
from app.webhooks.replay import ReplayContext

VERSION = 2  # 1: the SMS webhook's records from before channels were adapters


def record(settings: Settings, inbound: Inbound, key: str, at: datetime, reply: str
           ) -> Record:
    """The journal record of ``inbound``, answered with ``reply`` under ``key``."""
    key_ = settings.encryption_key
    return {"v": VERSION, "channel": inbound.channel.value, "key": key, "at": at.isoformat(),
            "provider_id": inbound.provider_id,
            "address": crypto.encrypt(key_, inbound.address),
            "text": crypto.encrypt(key_, inbound.text), "media": inbound.media,
            "country": inbound.country, "language_hint": inbound.language_hint,
            "line": inbound.line, "opt_out": inbound.opt_out,
            "reply_to": crypto.encrypt(key_, inbound.reply_to) if inbound.reply_to else None,
            "reply": reply}


def inbound_of(settings: Settings, entry: Record) -> Inbound:
    """The ``Inbound`` a version-2 record was written from."""
    key = settings.encryption_key
    return Inbound(channel=Channel(entry["channel"]), provider_id=entry["provider_id"],
                   address=crypto.decrypt(key, entry["address"]),
                   text=crypto.decrypt(key, entry["text"]), media=entry.get("media", 0),
                   country=entry.get("country"), language_hint=entry.get("language_hint"),
                   line=entry.get("line"), opt_out=entry.get("opt_out"),
                   reply_to=crypto.decrypt(key, entry["reply_to"]) if entry.get("reply_to")
                   else None)


def replay(session: Session, context: ReplayContext, entry: Record, at: datetime) -> None:
    """A journalled text through the intake, its replies to the outbox."""
    replay_inbound(session, context, inbound_of(context.settings, entry), at)


def replay_inbound(session: Session, context: ReplayContext, inbound: Inbound, at: datetime
                   ) -> None:
    intake.handle(session, context.settings, context.directory(), inbound, at,
                  reply_later=True, replayed=True)
