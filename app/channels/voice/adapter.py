"""The voice channel as the registry (``app.channels``) sees it: Twilio's voice webhooks,
the masked call-backs and the prompts' audio; the replay of a call's journalled steps;
``hotline simulate call|callback``."""

import uuid
from datetime import datetime

from fastapi import APIRouter
from sqlalchemy.orm import Session

from app.cases.models import Contact
from app.channels.voice import audio, callback, voice
from app.channels.voice.cli import add_commands
from app.channels.voice.lines import Caller, DatabaseLine
from app.privacy import crypto
from app.webhooks.adapter import Adapter
from app.webhooks.journal import NotYet, Record
from app.webhooks.replay import ReplayContext

NAME = "voice"
OPERATIONS = frozenset({"set", "attempt", "finish", "accept", "queue", "callback", "end"})


def replay(session: Session, context: ReplayContext, record: Record, at: datetime) -> None:
    """Play the operations a ``JournalLine`` wrote down on a ``DatabaseLine``."""
    settings = context.settings
    if record["contact"]:  # the responder's leg: the caller's contact must be in first
        contact = uuid.UUID(record["contact"])
        if session.get(Contact, contact) is None:
            raise NotYet(f"contact of {record['key'][:12]} not replayed yet")
        line = DatabaseLine.for_contact(session, contact, at, settings)
    else:
        caller = Caller(record["sid"], record["pseudonym"], record["country"],
                        record.get("line"))  # records written before lines have none
        line = DatabaseLine.for_caller(session, caller, at, settings)
    line.directory = context.directory()
    for name, arguments in record["operations"]:
        if name not in OPERATIONS:
            raise ValueError(f"unknown journal operation {name!r}")
        if name == "callback":
            line.callback(crypto.decrypt(settings.encryption_key,
                                         arguments["number_encrypted"]))
        else:
            getattr(line, name)(**arguments)


def _router() -> APIRouter:
    router = APIRouter()
    for part in (voice.router, callback.router, audio.router):
        router.include_router(part)
    return router


ADAPTER = Adapter(name=NAME, router=_router(), channels=(), replay=replay,
                  commands=add_commands)
