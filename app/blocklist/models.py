"""Blocks of abusive callers, by pseudonym, for a bounded period.

A block holds the caller's pseudonym copied from the case an admin named, never a number
typed in: nobody can put an arbitrary person on the list, and the list means nothing
without the pseudonym key. The reason is scrubbed of numbers and stored encrypted, as
case notes are. Rows are kept after a block ends (``until`` passed or lifted), so the
audit trail can name them.
"""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class CallerBlock(Base):
    __tablename__ = "caller_blocks"
    __table_args__ = (Index("ix_caller_blocks_lookup", "caller_pseudonym", "until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    caller_pseudonym: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    reason_encrypted: Mapped[str] = mapped_column(Text)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def active(self, now: datetime) -> bool:
        return self.lifted_at is None and now < self.until
