"""A call's rows, read and written with plain statements built once.

Every voice step reads its contact's few columns and most change one or two of them or
of a routing attempt. Through the ORM, loading the object, tracking it and flushing its
changes cost more than the statements themselves: about half of a step's database time
(docs/benchmarks.md). Here each is one Core statement built once with bind parameters
(SQLAlchemy caches its compiled form on the statement object), run on the session's
connection, in the step's transaction. What the steps do more rarely (a case opened, a
call-back recorded) stays with the ORM (``app.channels.voice.lines``).
"""

import uuid
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from app.cases.models import AttemptResult, Channel, Contact, ContactOutcome, RoutingAttempt
from app.routing.needs import Need

CONTACTS = cast(Table, Contact.__table__)  # a Table: mapped classes declare a FromClause
ATTEMPTS = cast(Table, RoutingAttempt.__table__)


@dataclass
class CallRow:
    """The contact's columns a voice step reads (and, through the line, changes)."""

    id: uuid.UUID
    channel: Channel
    caller_pseudonym: str
    caller_country: str | None
    language: str | None
    need: Need | None
    child: bool
    outcome: ContactOutcome
    case_id: uuid.UUID | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None

    @classmethod
    def of(cls, contact: Contact) -> "CallRow":
        """The same columns of a contact the ORM holds."""
        return cls(*(getattr(contact, f.name) for f in fields(cls)))

    @classmethod
    def new(cls, contact: uuid.UUID, pseudonym: str, country: str | None, at: datetime
            ) -> "CallRow":
        """A call just come in: nothing chosen yet (``Contact``'s defaults)."""
        return cls(contact, Channel.VOICE, pseudonym, country, language=None, need=None,
                   child=False, outcome=ContactOutcome.IN_PROGRESS, case_id=None,
                   started_at=at, answered_at=None, ended_at=None)


@dataclass(frozen=True)
class AttemptRow:
    id: int
    organisation_id: int
    result: AttemptResult
    ended_at: datetime | None


_CALL = [CONTACTS.c[f.name] for f in fields(CallRow)]
_ATTEMPT = [ATTEMPTS.c[f.name] for f in fields(AttemptRow)]


def _call(key: str) -> Select[Any]:
    return select(*_CALL).where(CONTACTS.c[key] == bindparam("key"))


def _call_and_attempt(key: str) -> Select[Any]:
    """The contact and one of its routing attempts (None's if it has none by that
    number) in one statement, for the steps about a responder rung."""
    attempt = CONTACTS.outerjoin(ATTEMPTS, and_(ATTEMPTS.c.contact_id == CONTACTS.c.id,
                                                ATTEMPTS.c.attempt == bindparam("attempt")))
    return (select(*_CALL, *_ATTEMPT).select_from(attempt)
            .where(CONTACTS.c[key] == bindparam("key")))


# By CallSid on the caller's leg, by the contact's id (in the URL) on the responder's.
CALL = {key: _call(key) for key in ("twilio_sid", "id")}
CALL_AND_ATTEMPT = {key: _call_and_attempt(key) for key in ("twilio_sid", "id")}
NEW_CALL = insert(CONTACTS)
ATTEMPT = select(*_ATTEMPT).where(ATTEMPTS.c.contact_id == bindparam("contact"),
                                  ATTEMPTS.c.attempt == bindparam("attempt"))
# A replay may record an attempt that a first run of the same step did: it stays as is.
NEW_ATTEMPT = {
    "postgresql": postgresql.insert(ATTEMPTS).on_conflict_do_nothing(
        index_elements=["contact_id", "attempt"]),
    "sqlite": sqlite.insert(ATTEMPTS).on_conflict_do_nothing(
        index_elements=["contact_id", "attempt"]),
}
# In an UPDATE, a bind parameter may not take a column's own name: hence "new_".
ATTEMPT_ANSWERED = (update(ATTEMPTS).where(ATTEMPTS.c.id == bindparam("row"))
                    .values(result=bindparam("new_result"),
                            answered_at=bindparam("new_answered_at")))
ATTEMPT_ENDED = (update(ATTEMPTS).where(ATTEMPTS.c.id == bindparam("row"))
                 .values(result=bindparam("new_result"), ended_at=bindparam("new_ended_at")))


def read_call(connection: Connection, key: str, value: object, attempt: int | None = None
              ) -> tuple[CallRow, AttemptRow | None] | None:
    """The contact whose ``key`` ("twilio_sid" or "id") is ``value``, with its routing
    attempt ``attempt`` if asked for and recorded; None if there is no such contact."""
    if attempt is None:
        row = connection.execute(CALL[key], {"key": value}).one_or_none()
        return (CallRow(*cast(tuple[Any, ...], row)), None) if row is not None else None
    row = connection.execute(CALL_AND_ATTEMPT[key], {"key": value, "attempt": attempt}
                             ).one_or_none()
    if row is None:
        return None
    call, found = row[:len(_CALL)], row[len(_CALL):]
    return CallRow(*call), (AttemptRow(*found) if found[0] is not None else None)


def add_call(connection: Connection, row: CallRow, sid: str, line: str | None) -> None:
    """The contact of a new call; a second one for the same CallSid (a concurrent retry)
    fails on the unique SID."""
    connection.execute(NEW_CALL, asdict(row) | {"twilio_sid": sid, "line": line})


@cache
def _contact_update(columns: frozenset[str]) -> Update:
    # One statement per set of columns changed together: the steps use a handful.
    return (update(CONTACTS).where(CONTACTS.c.id == bindparam("contact"))
            .values({name: bindparam(f"new_{name}") for name in sorted(columns)}))


def update_contact(connection: Connection, contact: uuid.UUID, changes: dict[str, Any]
                   ) -> None:
    connection.execute(_contact_update(frozenset(changes)),
                       {"contact": contact} | {f"new_{k}": v for k, v in changes.items()})


def attempt(connection: Connection, contact: uuid.UUID, n: int) -> AttemptRow | None:
    row = connection.execute(ATTEMPT, {"contact": contact, "attempt": n}).one_or_none()
    return AttemptRow(*cast(tuple[Any, ...], row)) if row is not None else None


def add_attempt(connection: Connection, contact: uuid.UUID, n: int, organisation_id: int,
                reason: str, at: datetime) -> None:
    connection.execute(NEW_ATTEMPT[connection.dialect.name], {
        "contact_id": contact, "attempt": n, "organisation_id": organisation_id,
        "reason": reason[:300], "result": AttemptResult.DIALLING, "started_at": at})


def answer_attempt(connection: Connection, row: int, result: AttemptResult, at: datetime
                   ) -> None:
    connection.execute(ATTEMPT_ANSWERED, {"row": row, "new_result": result,
                                          "new_answered_at": at})


def end_attempt(connection: Connection, row: int, result: AttemptResult, at: datetime
                ) -> None:
    connection.execute(ATTEMPT_ENDED, {"row": row, "new_result": result, "new_ended_at": at})
