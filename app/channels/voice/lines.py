"""What a voice step records about the call, kept apart from where it is recorded.

The steps in ``voice`` talk to a ``Line``: ``DatabaseLine`` writes to the contact's rows
at once; ``JournalLine``, used while the database is unreachable, reads the call's state
from the request (the URLs carry language, need and child) and writes down each change
as an operation for the journal. ``adapter.replay`` later plays those operations on a
``DatabaseLine``: the same code records a call in both modes.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from app import pipeline
from app.cases import service as cases
from app.cases.models import AttemptResult, Channel, Contact, ContactOutcome
from app.channels.voice import rows
from app.channels.voice.rows import AttemptRow, CallRow
from app.config import Settings
from app.detection.numbers import e164
from app.monitoring import metrics
from app.organisations.models import Organisation
from app.privacy import crypto
from app.routing.needs import Need
from app.routing.snapshot import Directory, HotlineNumber

Operation = list[Any]  # [method name, keyword arguments]
UNANSWERED = {"no-answer": AttemptResult.NO_ANSWER, "busy": AttemptResult.BUSY,
              "failed": AttemptResult.FAILED, "canceled": AttemptResult.CANCELED}


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
    """Changes go straight to the contact's rows, at ``at``, each as one plain statement
    (``rows``); only opening a case and recording a call-back go through the ORM."""

    def __init__(self, session: Session, row: CallRow, at: datetime,
                 settings: Settings, read: dict[int, AttemptRow | None] | None = None
                 ) -> None:
        self.session, self.row, self.at, self.settings = session, row, at, settings
        self.connection = session.connection()  # the session's transaction, begun here
        self.directory: Directory | None = None  # set by the caller before queue()
        # A routing attempt read with the contact (the step's URL named it), used once.
        self._read = read or {}

    @classmethod
    def find(cls, session: Session, sid: str, at: datetime, settings: Settings,
             attempt: int | None = None) -> "DatabaseLine | None":
        """The line of a call the database already has, by its CallSid; with the
        routing attempt ``attempt`` read in the same statement, for a step about it."""
        return cls._read_by(session, "twilio_sid", sid, at, settings, attempt)

    @classmethod
    def _read_by(cls, session: Session, key: str, value: object, at: datetime,
                 settings: Settings, attempt: int | None) -> "DatabaseLine | None":
        found = rows.read_call(session.connection(), key, value, attempt)
        if found is None:
            return None
        row, attempt_row = found
        read = {attempt: attempt_row} if attempt is not None else None
        return cls(session, row, at, settings, read)

    @classmethod
    def for_caller(cls, session: Session, caller: Caller, at: datetime,
                   settings: Settings) -> "DatabaseLine":
        return (cls.find(session, caller.sid, at, settings)
                or cls.for_new_caller(session, caller, at, settings))

    @classmethod
    def for_new_caller(cls, session: Session, caller: Caller, at: datetime,
                       settings: Settings) -> "DatabaseLine":
        """A call whose CallSid was just looked for and not found: no second look."""
        row = CallRow.new(contact_id(caller.sid), caller.pseudonym, caller.country, at)
        rows.add_call(session.connection(), row, caller.sid, caller.line)
        cases.count_new_contact(session, Channel.VOICE)
        return cls(session, row, at, settings)

    @classmethod
    def for_contact(cls, session: Session, contact: uuid.UUID, at: datetime,
                    settings: Settings, attempt: int | None = None) -> "DatabaseLine":
        line = cls._read_by(session, "id", contact, at, settings, attempt)
        if line is None:
            raise CallGone("the responder's leg names an unknown contact")
        return line

    @property
    def id(self) -> uuid.UUID:
        return self.row.id

    @property
    def country(self) -> str | None:
        return self.row.caller_country

    @property
    def language(self) -> str | None:
        return self.row.language

    @property
    def need(self) -> Need | None:
        return self.row.need

    @property
    def child(self) -> bool:
        return self.row.child

    def set(self, **values: Any) -> None:
        self._write({name: _typed(name, value) for name, value in values.items()})

    def _write(self, values: dict[str, Any]) -> None:
        """One UPDATE of the columns that change; none if nothing does (a repeated menu)."""
        changes = {k: v for k, v in values.items() if getattr(self.row, k, None) != v}
        if not changes:
            return
        if "outcome" in changes:
            cases.count_outcome(self.session, self.row.channel, self.row.outcome,
                                changes["outcome"])
        rows.update_contact(self.connection, self.row.id, changes)
        for name, value in changes.items():
            if hasattr(self.row, name):
                setattr(self.row, name, value)

    def _attempt(self, n: int) -> AttemptRow | None:
        if n in self._read:
            return self._read.pop(n)
        return rows.attempt(self.connection, self.row.id, n)

    def attempt(self, n: int, slug: str, reasons: str) -> None:
        rows.add_attempt(self.connection, self.row.id, n,
                         pipeline.organisation_id(self.session, slug, self.directory),
                         reasons, self.at)

    def finish(self, n: int, status: str, bridged: bool) -> bool:
        """Record Twilio's DialCallStatus; answered but not accepted counts as declined.
        Whether the caller was connected: the responder pressed 1 in the whisper."""
        row = self._attempt(n)
        if row is None:
            return False
        if row.ended_at is None:
            if row.result is AttemptResult.ACCEPTED:
                result = AttemptResult.COMPLETED
                self.set(outcome=ContactOutcome.CONNECTED)
            elif status in ("answered", "completed"):
                result = AttemptResult.DECLINED
            else:
                result = UNANSWERED.get(status, AttemptResult.FAILED)
            rows.end_attempt(self.connection, row.id, result, self.at)
            metrics.count_on_commit(self.session, metrics.DIAL_ATTEMPTS.labels(result.value))
        return self.row.outcome is ContactOutcome.CONNECTED

    def accept(self, n: int) -> None:
        row = self._attempt(n)
        if row is not None and row.result is AttemptResult.DIALLING:
            rows.answer_attempt(self.connection, row.id, AttemptResult.ACCEPTED, self.at)
            if self.row.answered_at is None:
                self._write({"answered_at": self.at})

    def queue(self) -> None:
        assert self.directory is not None, "queue() needs the directory snapshot"
        directory = self.directory
        self._with_contact(lambda contact: pipeline.enqueue(self.session, directory,
                                                            contact, self.at))

    def callback(self, number: str) -> None:
        assert self.directory is not None, "callback() needs the directory snapshot"
        # The step gives E.164 already; a journal written before it checked may not.
        e164_number = e164(number)
        directory, settings = self.directory, self.settings

        def record(contact: Contact) -> None:
            case = pipeline.enqueue(self.session, directory, contact, self.at)
            if e164_number is not None:
                cases.request_callback(self.session, contact, case, e164_number,
                                       settings.encryption_key,
                                       settings.callback_retention_days, at=self.at)

        self._with_contact(record)

    def _with_contact(self, work: Callable[[Contact], object]) -> None:
        """``work`` on the contact as the ORM's object, for the services that take one:
        read afresh (plain statements changed its row since), and written back before
        any further plain statement."""
        contact = self.session.get_one(Contact, self.row.id, populate_existing=True)
        work(contact)
        self.session.flush()
        self.row = CallRow.of(contact)

    def end(self, duration: int) -> None:
        """From the status callback: the call is over; nothing answered means abandoned."""
        changes: dict[str, Any] = {}
        if self.row.ended_at is None:
            changes |= {"ended_at": self.row.started_at + timedelta(seconds=duration),
                        "duration_seconds": duration}
        if self.row.outcome is ContactOutcome.IN_PROGRESS:
            changes["outcome"] = ContactOutcome.ABANDONED
        self._write(changes)

    def whisper(self, n: int) -> WhisperInfo:
        row = self._attempt(n)
        if row is None:
            raise CallGone("whisper for an attempt that was never dialled")
        return WhisperInfo(self._languages_of(row.organisation_id), self.row.language,
                           self.row.need, self.row.child)

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
