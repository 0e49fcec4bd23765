"""The audit log: who looked at or changed what, and when. Append-only.

Rows are never updated or deleted: the ORM refuses it here, and the migration adds
database triggers that refuse it for anyone else. ``detail`` holds identifiers and
field names, never case contents or caller data.

Each entry is sealed with a keyed hash of its fields and of the entry before it
(``app.audit.chain``), so an edit made despite the triggers (by whoever owns the database)
is found by ``hotline audit verify``. ``prev_hash`` is unique: the chain cannot fork.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Uuid, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from app.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))  # kept if the user is removed
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40), index=True)
    case_id: Mapped[Any | None] = mapped_column(Uuid, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), index=True, unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64))


def _refuse(_mapper: Mapper[Any], _connection: Any, _target: AuditEvent) -> None:
    raise PermissionError("the audit log is append-only")


event.listen(AuditEvent, "before_update", _refuse)
event.listen(AuditEvent, "before_delete", _refuse)
