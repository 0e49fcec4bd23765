"""What operators record on a case: notes and referrals.

Notes are scrubbed of phone numbers, e-mail addresses and document numbers before they
are stored, and stored encrypted. A note belongs to the organisation that wrote it: after
a referral the receiving organisation sees it only if it was shared.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class CaseNote(Base):
    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                               index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text_encrypted: Mapped[str] = mapped_column(Text)
    removed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # counts by kind
    shared: Mapped[bool] = mapped_column(default=False)  # visible to referral partners
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Referral(Base):
    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                               index=True)
    from_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    to_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    service: Mapped[str] = mapped_column(String(40))  # HTCDS spl_Type
    reason_encrypted: Mapped[str] = mapped_column(Text)
    share_notes: Mapped[bool] = mapped_column(default=False)
    referred_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
