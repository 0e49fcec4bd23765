"""What operators record on a case: screening, notes and referrals.

Notes are scrubbed of phone numbers, e-mail addresses and document numbers before they
are stored, and stored encrypted. A note belongs to the organisation that wrote it: after
a referral the receiving organisation sees it only if it was shared.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.cases.screening import (
    AgeBand,
    CallerType,
    Gender,
    RecruitmentMethod,
    ReferralType,
    RelationshipToTrafficker,
    Screening,
    TraffickingStatus,
)
from app.db import Base, UTCDateTime, db_enum, utcnow


class CaseScreening(Base):
    """The anonymised HTCDS screening of a case; one row per case, validated by
    ``app.cases.screening.Screening`` on the way in."""

    __tablename__ = "case_screenings"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                               primary_key=True)
    gender: Mapped[Gender] = mapped_column(db_enum(Gender, 40))
    age_band: Mapped[AgeBand] = mapped_column(db_enum(AgeBand, 40))
    citizenship: Mapped[list[str]] = mapped_column(JSON, default=list)
    country_of_exploitation: Mapped[str | None] = mapped_column(String(2))
    trafficking_status: Mapped[TraffickingStatus] = mapped_column(db_enum(TraffickingStatus, 40))
    exploitation_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    control_methods: Mapped[list[str]] = mapped_column(JSON, default=list)
    recruitment_method: Mapped[RecruitmentMethod] = mapped_column(db_enum(RecruitmentMethod, 40))
    relationship_to_trafficker: Mapped[RelationshipToTrafficker] = mapped_column(
        db_enum(RelationshipToTrafficker, 40))
    ilo_indicators: Mapped[list[str]] = mapped_column(JSON, default=list)
    referral_made: Mapped[ReferralType | None] = mapped_column(db_enum(ReferralType, 40))
    caller_type: Mapped[CallerType] = mapped_column(db_enum(CallerType, 40))
    interpreter_used: Mapped[bool | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_schema(self) -> Screening:
        return Screening.model_validate({name: getattr(self, name)
                                         for name in Screening.model_fields})

    def update_from(self, screening: Screening, now: datetime) -> None:
        for name, value in screening.model_dump(mode="json").items():
            setattr(self, name, value)
        self.updated_at = now


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


class ReferralStatus(StrEnum):
    PENDING = "pending"    # waiting for the receiving organisation
    ACCEPTED = "accepted"
    DECLINED = "declined"  # the case went back to the sender


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
    status: Mapped[ReferralStatus] = mapped_column(
        db_enum(ReferralStatus), default=ReferralStatus.PENDING,
        server_default=ReferralStatus.PENDING.value)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decline_reason_encrypted: Mapped[str | None] = mapped_column(Text)  # scrubbed first
