"""What a voice step records about the call, kept apart from where it is recorded.

The steps in ``voice`` talk to a ``Line``: ``DatabaseLine`` writes to the contact's rows
at once; ``JournalLine``, used while the database is unreachable, reads the call's state
from the request (the URLs carry language, need and child) and writes down each change
as an operation for the journal. ``adapter.replay`` later plays those operations on a
``DatabaseLine``: the same code records a call in both modes.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from app import pipeline
from app.cases import service as cases
from app.cases.models import Channel, Contact, ContactOutcome
from app.config import Settings
from app.detection.numbers import e164
from app.organisations.models import Organisation
from app.privacy import crypto
from app.routing.needs import Need
from app.routing.snapshot import Directory, HotlineNumber

Operation = list[Any]  # [method name, keyword arguments]


class CallGone(LookupError):
    """The responder's leg names a contact or attempt the database does not have."""


@dataclass(frozen=True)
class WhisperInfo:
    responder_languages: tuple[str, ...]  # the organisation's, its main language first
    language: str | None
    need: Need | None
    child: bool


class Line(Protocol):
    # Read-only for the steps: they change the call's state through ``set``.
    @property
    def id(self) -> uuid.UUID: ...  # the caller's contact
    @property
    def country(self) -> str | None: ...
    @property
    def language(self) -> str | None: ...
    @property
    def need(self) -> Need | None: ...
    @property
    def child(self) -> bool: ...

    def set(self, **values: Any) -> None: ...
    def attempt(self, n: int, slug: str, reasons: str) -> None: ...
    def finish(self, n: int, status: str, bridged: bool) -> bool: ...
    def accept(self, n: int) -> None: ...
    def queue(self) -> None: ...
    def callback(self, number: str) -> None: ...
    def end(self, duration: int) -> None: ...
    def whisper(self, n: int) -> WhisperInfo: ...


def contact_id(sid: str) -> uuid.UUID:
    """A contact's id follows from its CallSid, so a URL can name it without the database."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"twilio:{sid}")


@dataclass
class Caller:
    """Who is calling, from the request alone: never the number itself."""

    sid: str
    pseudonym: str
    country: str | None
    line: str | None = None  # the hotline number dialled (E.164)

    @classmethod
    def of(cls, settings: Settings, sid: str, from_: str, from_country: str | None,
           line: str | None = None, dialled: HotlineNumber | None = None) -> "Caller":
        """The caller's own number says the country when it can; a withheld or unknown
        one takes the dialled national line's (a Tajik SIM on the Russian line is still
        a Tajik caller: routing follows the person, not the number they found)."""
        return cls(sid, pipeline.pseudonym(settings, Channel.VOICE, from_),
                   pipeline.country(Channel.VOICE, from_, from_country, dialled), line)


class DatabaseLine:
    """Changes go straight to the contact's rows, at ``at``."""

    def __init__(self, session: Session, contact: Contact, at: datetime,
                 settings: Settings) -> None:
        self.session, self.contact, self.at, self.settings = session, contact, at, settings
        self.directory: Directory | None = None  # set by the caller before queue()

    @classmethod
    def for_caller(cls, session: Session, caller: Caller, at: datetime,
                   settings: Settings) -> "DatabaseLine":
        contact = cases.get_contact(session, caller.sid)
        if contact is None:
            return cls.for_new_caller(session, caller, at, settings)
        return cls(session, contact, at, settings)

    @classmethod
    def for_new_caller(cls, session: Session, caller: Caller, at: datetime,
                       settings: Settings) -> "DatabaseLine":
        """A call whose CallSid was just looked for and not found: no second look."""
        contact = pipeline.contact(session, channel=Channel.VOICE, provider_id=caller.sid,
                                   pseudonym=caller.pseudonym, country=caller.country,
                                   line=caller.line, at=at,
                                   contact_id=contact_id(caller.sid), known_new=True)
        return cls(session, contact, at, settings)

    @classmethod
    def for_contact(cls, session: Session, contact: uuid.UUID, at: datetime,
                    settings: Settings) -> "DatabaseLine":
        row = session.get(Contact, contact)
        if row is None:
            raise CallGone("the responder's leg names an unknown contact")
        return cls(session, row, at, settings)

    @property
    def id(self) -> uuid.UUID:
        return self.contact.id

    @property
    def country(self) -> str | None:
        return self.contact.caller_country

    @property
    def language(self) -> str | None:
        return self.contact.language

    @property
    def need(self) -> Need | None:
        return self.contact.need

    @property
    def child(self) -> bool:
        return self.contact.child

    def set(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self.contact, name, _typed(name, value))

    def attempt(self, n: int, slug: str, reasons: str) -> None:
        cases.record_attempt(self.session, self.contact, n,
                             pipeline.organisation_id(self.session, slug, self.directory),
                             reasons, at=self.at)

    def finish(self, n: int, status: str, bridged: bool) -> bool:
        row = cases.finish_attempt(self.session, self.contact, n, status, at=self.at)
        return self.contact.outcome is ContactOutcome.CONNECTED and row is not None

    def accept(self, n: int) -> None:
        cases.accept_attempt(self.session, self.contact, n, at=self.at)

    def queue(self) -> None:
        assert self.directory is not None, "queue() needs the directory snapshot"
        pipeline.enqueue(self.session, self.directory, self.contact, self.at)

    def callback(self, number: str) -> None:
        assert self.directory is not None, "callback() needs the directory snapshot"
        case = pipeline.enqueue(self.session, self.directory, self.contact, self.at)
        # The step gives E.164 already; a journal written before it checked may not.
        if (e164_number := e164(number)) is None:
            return
        cases.request_callback(self.session, self.contact, case, e164_number,
                               self.settings.encryption_key,
                               self.settings.callback_retention_days, at=self.at)

    def end(self, duration: int) -> None:
        cases.end_contact(self.contact, self.contact.started_at + timedelta(seconds=duration),
                          duration)

    def whisper(self, n: int) -> WhisperInfo:
        row = cases.get_attempt(self.session, self.contact, n)
        if row is None:
            raise CallGone("whisper for an attempt that was never dialled")
        return WhisperInfo(self._languages_of(row.organisation_id), self.contact.language,
                           self.contact.need, self.contact.child)

    def _languages_of(self, organisation_id: int) -> tuple[str, ...]:
        # From the snapshot when it has the organisation: the row would also load its
        # hours and exceptions, three queries while the responder's phone rings.
        responder = (self.directory.by_organisation_id(organisation_id)
                     if self.directory is not None else None)
        if responder is not None:
            return responder.languages
        return tuple(self.session.get_one(Organisation, organisation_id).languages)


@dataclass
class JournalLine:
    """The call's state from the request; each change written down as an operation."""

    caller: Caller | None  # None on the responder's leg
    settings: Settings
    directory: Directory
    query: dict[str, str]
    language: str | None = None
    need: Need | None = None
    child: bool = False
    operations: list[Operation] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.language = self.query.get("lang") or None
        self.need = _need(self.query.get("need"))
        self.child = self.query.get("child") == "1"

    @property
    def id(self) -> uuid.UUID:
        if self.caller is None:
            return uuid.UUID(self.query["c"])
        return contact_id(self.caller.sid)

    @property
    def country(self) -> str | None:
        return self.caller.country if self.caller else None

    def _note(self, name: str, **arguments: Any) -> None:
        self.operations.append([name, arguments])

    def set(self, **values: Any) -> None:
        for name, value in values.items():
            if name in ("language", "need", "child"):
                setattr(self, name, _typed(name, value))
        self._note("set", **{k: getattr(v, "value", v) for k, v in values.items()})

    def attempt(self, n: int, slug: str, reasons: str) -> None:
        self._note("attempt", n=n, slug=slug, reasons=reasons)

    def finish(self, n: int, status: str, bridged: bool) -> bool:
        # Whether the responder pressed 1 was recorded elsewhere (maybe in another
        # process); Twilio's DialBridged says whether the two were connected.
        self._note("finish", n=n, status=status, bridged=bridged)
        return bridged

    def accept(self, n: int) -> None:
        self._note("accept", n=n)

    def queue(self) -> None:
        self._note("queue")

    def callback(self, number: str) -> None:
        self._note("callback", number_encrypted=crypto.encrypt(self.settings.encryption_key,
                                                               number))

    def end(self, duration: int) -> None:
        self._note("end", duration=duration)

    def whisper(self, n: int) -> WhisperInfo:
        responder = self.directory.by_slug(self.query.get("o", ""))
        languages = responder.languages if responder else ()
        return WhisperInfo(languages, self.language, self.need, self.child)


def _need(text: str | None) -> Need | None:
    try:
        return Need(text) if text else None
    except ValueError:
        return None


def _typed(name: str, value: Any) -> Any:
    if name == "need":
        return _need(value) if isinstance(value, str) else value
    if name == "outcome" and isinstance(value, str):
        return ContactOutcome(value)
    return value
