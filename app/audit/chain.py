"""The audit log's hash chain: each entry sealed together with the entry before it.

``entry_hash`` is HMAC-SHA256, under ``HOTLINE_AUDIT_KEY``, of the entry's canonical form:
its fields (id, time, user, role, organisation, action, case, detail) and ``prev_hash``, the
previous entry's ``entry_hash``, as JSON with sorted keys. Keyed rather than plain SHA-256
because the chain is there to catch whoever can write to the database despite the
append-only triggers, and that person could recompute a plain chain after an edit; without
the key, kept with the service's other secrets and never in the database, they cannot.

Entries are chained when their transaction commits, not when they are recorded, so the
lock that keeps appends in one line is held for the last milliseconds of a request only:
on PostgreSQL a transaction-level advisory lock, taken just before the entries are written
and released by the commit, so concurrent requests and processes append one after another
and each links to the entry actually last; SQLite lets one writer in at a time anyway. The
unique ``prev_hash`` makes a fork impossible even so. Ids are taken inside the lock, so id
order is chain order.

The key travels with the session: whoever makes sessions (``app.main``, the command line)
puts ``sealing(settings.audit_key)`` in their ``Session.info``. Two apps in one process
(the tests) each seal with their own settings' key, which a module-wide key could not do.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, SessionTransaction

from app.audit.models import AuditEvent
from app.config import get_settings

GENESIS = "0" * 64  # prev_hash of the first entry
LOCK_KEY = 0x686F746C61756474  # "hotlaudt": one key for every process of the service
PENDING = "audit_pending"  # Session.info: entries recorded, chained at commit
KEY = "audit_key"  # Session.info: the key this session's entries are sealed with
CONTENT_CHANGED = "content changed: its fields no longer match the hash it was sealed with"
LINK_CHANGED = ("link broken: its link to the entry before it was changed; its own fields "
                "are intact")


def sealing(audit_key: str) -> dict[str, bytes]:
    """The ``Session.info`` that makes a session seal its entries with ``audit_key``."""
    return {KEY: audit_key.encode()}


def key_of(session: Session) -> bytes:
    """The session's key; a session made without one (a test's, a one-off script's) seals
    with the key of the settings its environment gives."""
    key = session.info.get(KEY)
    return key if isinstance(key, bytes) else get_settings().audit_key.encode()


def as_stored(detail: dict[str, Any]) -> dict[str, Any]:
    """``detail`` as the JSON column gives it back (tuples as lists, keys as strings), so
    the hash sealed now is the one recomputed from the database."""
    stored: dict[str, Any] = json.loads(json.dumps(detail))
    return stored


def _timestamp(at: datetime) -> str:
    # Both backends give back aware UTC datetimes to the microsecond (app.db.UTCDateTime),
    # whatever offset the time was recorded with.
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(entry: Any) -> bytes:
    """The bytes sealed for an entry (an AuditEvent or a row with the same attributes)."""
    fields = {"id": entry.id, "at": _timestamp(entry.at), "username": entry.username,
              "role": entry.role, "organisation_id": entry.organisation_id,
              "action": entry.action,
              "case_id": None if entry.case_id is None else str(entry.case_id),
              "detail": entry.detail, "prev_hash": entry.prev_hash}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def seal(entry: Any, key: bytes) -> str:
    return hmac.new(key, canonical(entry), hashlib.sha256).hexdigest()


def queue(session: Session, entry: AuditEvent) -> None:
    """Chain and write ``entry`` when the session commits (see the module's docstring)."""
    session.info.setdefault(PENDING, []).append(entry)


def append(session: Session, entries: list[AuditEvent], key: bytes) -> None:
    """Link ``entries`` after the last entry, in order, and add them to the session."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    # Every other write first (explicitly: autoflush may be off): a transaction then waits
    # for the lock already holding every row lock it needs, and the lock's holder only
    # inserts audit rows, so no lock cycle can form.
    session.flush()
    if postgresql:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    last = session.execute(select(AuditEvent.id, AuditEvent.entry_hash)
                           .order_by(AuditEvent.id.desc()).limit(1)).first()
    last_id, previous = (last.id, last.entry_hash) if last else (0, GENESIS)
    for entry in entries:
        entry.id = last_id = _next_id(session, postgresql, last_id)
        entry.prev_hash = previous
        entry.entry_hash = previous = seal(entry, key)
        session.add(entry)


def _next_id(session: Session, postgresql: bool, last_id: int) -> int:
    # The id is sealed, so it is taken before the insert: from PostgreSQL's sequence, which
    # the column's default keeps using; SQLite takes the next after the last anyway.
    if not postgresql:
        return last_id + 1
    taken: int = session.scalar(text(
        "SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))"))
    return taken


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if pending:
        append(session, pending, key_of(session))


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    # Entries of a transaction that rolled back were never written: they must not land
    # with the next one.
    if transaction.parent is None:
        session.info.pop(PENDING, None)


@dataclass(frozen=True)
class Break:
    entry_id: int
    at: datetime
    action: str
    reason: str


@dataclass(frozen=True)
class Verdict:
    checked: int  # entries found intact, in order, before any break
    head: str  # entry_hash of the last intact entry (GENESIS if none)
    head_id: int | None
    broken: Break | None


_COLUMNS = (AuditEvent.id, AuditEvent.at, AuditEvent.username, AuditEvent.role,
            AuditEvent.organisation_id, AuditEvent.action, AuditEvent.case_id,
            AuditEvent.detail, AuditEvent.prev_hash, AuditEvent.entry_hash)


def verify(session: Session, key: bytes) -> Verdict:
    """Recompute the whole chain in id order; the first entry that does not hold."""
    checked, previous, previous_id, unlinked = 0, GENESIS, None, None
    rows = session.execute(select(*_COLUMNS).order_by(AuditEvent.id)
                           .execution_options(yield_per=1000))
    for row in rows:
        if not hmac.compare_digest(seal(row, key), row.entry_hash):
            rows.close()
            return Verdict(checked, previous, previous_id,
                           Break(row.id, row.at, row.action, _altered(row, previous, key)))
        if row.prev_hash != previous:
            unlinked = row
            break
        checked, previous, previous_id = checked + 1, row.entry_hash, row.id
    rows.close()
    if unlinked is None:
        return Verdict(checked, previous, previous_id, None)
    reason = _unlinked(session, unlinked.prev_hash, previous_id)
    return Verdict(checked, previous, previous_id,
                   Break(unlinked.id, unlinked.at, unlinked.action, reason))


def _altered(row: Any, previous: str, key: bytes) -> str:
    """Which part of an entry that fails its seal was changed."""
    relinked = SimpleNamespace(**{**row._mapping, "prev_hash": previous})
    if hmac.compare_digest(seal(relinked, key), row.entry_hash):
        return LINK_CHANGED
    return CONTENT_CHANGED


def _unlinked(session: Session, prev_hash: str, previous_id: int | None) -> str:
    """Why an intact entry does not follow the one before it. Its own seal holds, so its
    ``prev_hash`` is what was recorded: the entry it was sealed after is gone, or elsewhere."""
    after = "the start" if previous_id is None else f"entry #{previous_id}"
    if prev_hash == GENESIS:
        return f"link broken: it was sealed as the first entry, yet follows {after}"
    found = session.scalar(select(AuditEvent.id).where(AuditEvent.entry_hash == prev_hash))
    if found is not None:
        return f"link broken: it was sealed after entry #{found}, yet follows {after}"
    return f"entry missing: one or more entries between {after} and this one were removed"
