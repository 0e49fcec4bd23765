"""Blocking a caller from a case, lifting a block, and asking whether a caller is blocked.

A block applies to the whole hotline, whichever organisation asked for it: the webhooks
check it before any routing. It ends by itself at ``until`` or when an admin lifts it.
Every block and lift is audited with the block and case ids, never the pseudonym.
Never commits.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, select
from sqlalchemy.orm import Session, aliased

from app.audit import service as audit
from app.blocklist.models import CallerBlock
from app.cases.models import Case
from app.cases.scrub import Scrubbed, scrub
from app.config import Settings
from app.privacy import crypto
from app.privacy.pseudonym import ANONYMOUS_PREFIX
from app.users.models import User

REFERENCE = re.compile(r"HL-[A-Z0-9]{6}", re.ASCII)
MIN_DAYS, MAX_DAYS = 1, 365
MAX_REASON = 500
# The service's own words; the console's catalog translates them.
NO_CASE = "no case has this reference"
WITHHELD = "the caller's number was withheld: there is no caller to block"
ALREADY = "this caller is already blocked: lift that block first to change it"
BAD_DAYS = f"the period must be from {MIN_DAYS} to {MAX_DAYS} days"
NO_REASON = "a reason is required"
LONG_REASON = f"the reason must have at most {MAX_REASON} characters"
NO_BLOCK = "no such block"
ENDED = "this block has already ended"


class BlockError(Exception):
    """Why a block or lift was refused; the message says it to the admin."""


class NotFound(BlockError):
    pass


class Conflict(BlockError):
    pass


class Invalid(BlockError):
    pass


@dataclass(frozen=True)
class BlockView:
    """A block as admins see it: never the pseudonym."""

    id: int
    case_reference: str
    reason: str
    until: datetime
    created_at: datetime
    created_by: str
    lifted_at: datetime | None
    lifted_by: str | None


# Built once: every call and text asks it (``app.cases.service`` says why that matters).
ACTIVE_BLOCK = (select(CallerBlock.id).where(CallerBlock.caller_pseudonym == bindparam("pseudonym"),
                                             CallerBlock.lifted_at.is_(None),
                                             CallerBlock.until > bindparam("now"))
                .order_by(CallerBlock.created_at).limit(1))


def active_block(session: Session, pseudonym: str, now: datetime) -> CallerBlock | None:
    """The caller's block in force now (the earliest, should two admins have raced)."""
    # Every call and message asks, and almost nobody is blocked: the id alone, on the
    # session's connection, costs a step far less than loading an ORM object would; the
    # block itself is loaded only for the few who are.
    found = session.connection().scalar(ACTIVE_BLOCK, {"pseudonym": pseudonym, "now": now})
    return session.get_one(CallerBlock, found) if found is not None else None


def is_blocked(session: Session, pseudonym: str, now: datetime) -> bool:
    return active_block(session, pseudonym, now) is not None


def block(session: Session, settings: Settings, admin: User, reference: str, days: int,
          reason: str, now: datetime) -> tuple[CallerBlock, Scrubbed]:
    """Block the caller of the case with this reference for ``days`` days."""
    cleaned = _checked_reason(reason)
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise Invalid(BAD_DAYS)
    case = _case(session, reference.strip().upper())
    if case is None:
        raise NotFound(NO_CASE)
    if case.caller_pseudonym.startswith(ANONYMOUS_PREFIX):
        raise Conflict(WITHHELD)  # a fresh random pseudonym each call: it never matches
    if is_blocked(session, case.caller_pseudonym, now):
        raise Conflict(ALREADY)
    row = CallerBlock(caller_pseudonym=case.caller_pseudonym, case_id=case.id,
                      reason_encrypted=crypto.encrypt(settings.encryption_key, cleaned.text),
                      until=now + timedelta(days=days), created_at=now,
                      created_by_id=admin.id)
    session.add(row)
    session.flush()
    audit.record(session, admin, "caller.block", now, case_id=case.id, block_id=row.id,
                 days=days, until=row.until.isoformat())
    return row, cleaned


def _case(session: Session, reference: str) -> Case | None:
    # The shape first: PostgreSQL refuses to compare text holding NUL (a 500), say,
    # rather than finding nothing.
    if not REFERENCE.fullmatch(reference):
        return None
    return session.scalars(select(Case).where(Case.reference == reference)).one_or_none()


def _checked_reason(reason: str) -> Scrubbed:
    text = reason.strip()
    if not text:
        raise Invalid(NO_REASON)
    if len(text) > MAX_REASON:
        raise Invalid(LONG_REASON)
    # An admin may paste a number or an e-mail into the reason: it is not kept.
    return scrub(text)


def lift(session: Session, admin: User, block_id: int, now: datetime) -> CallerBlock:
    """End an active block now."""
    row = session.get(CallerBlock, block_id)
    if row is None:
        raise NotFound(NO_BLOCK)
    if not row.active(now):
        raise Conflict(ENDED)
    row.lifted_at, row.lifted_by_id = now, admin.id
    audit.record(session, admin, "caller.unblock", now, case_id=row.case_id, block_id=row.id)
    return row


def active_blocks(session: Session, settings: Settings, now: datetime) -> list[BlockView]:
    """Blocks in force now, the one ending first on top."""
    return _views(session, settings, [CallerBlock.lifted_at.is_(None), CallerBlock.until > now])


def view(session: Session, settings: Settings, block_id: int) -> BlockView:
    found = _views(session, settings, [CallerBlock.id == block_id])
    if not found:
        raise NotFound(NO_BLOCK)
    return found[0]


def _views(session: Session, settings: Settings,
           where: list[ColumnElement[bool]]) -> list[BlockView]:
    creator, lifter = aliased(User), aliased(User)
    rows = session.execute(
        select(CallerBlock, Case.reference, creator.username, lifter.username)
        .join(Case, Case.id == CallerBlock.case_id)
        .join(creator, creator.id == CallerBlock.created_by_id)
        .outerjoin(lifter, lifter.id == CallerBlock.lifted_by_id)
        .where(*where).order_by(CallerBlock.until, CallerBlock.id)).all()
    return [BlockView(id=row.id, case_reference=reference,
                      reason=crypto.decrypt(settings.encryption_key, row.reason_encrypted),
                      until=row.until, created_at=row.created_at, created_by=created_by,
                      lifted_at=row.lifted_at, lifted_by=lifted_by)
            for row, reference, created_by, lifted_by in rows]
