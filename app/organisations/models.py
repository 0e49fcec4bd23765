"""Responder organisations and their weekly opening hours."""

from datetime import datetime, time
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow


class Service(StrEnum):
    SHELTER = "shelter"
    LEGAL_AID = "legal_aid"
    PSYCHOSOCIAL = "psychosocial"
    MEDICAL = "medical"
    INFORMATION = "information"


class Organisation(Base):
    """A responder NGO (or a regional hub) that the hotline can route callers to.

    Duty numbers are the organisation's own lines, never a caller's.
    """

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint("length(country) = 2", name="country_alpha2"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    always_open: Mapped[bool] = mapped_column(default=False)
    is_hub: Mapped[bool] = mapped_column(default=False)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    duty_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    hours: Mapped[list["OpeningHours"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", lazy="selectin",
        order_by="(OpeningHours.weekday, OpeningHours.opens_at)",
    )


class OpeningHours(Base):
    """One opening interval on one weekday (0 = Monday) in the organisation's time zone.

    ``closes_at`` at or before ``opens_at`` means the interval runs past midnight.
    """

    __tablename__ = "opening_hours"
    __table_args__ = (
        UniqueConstraint("organisation_id", "weekday", "opens_at",
                         name="uq_opening_hours_interval"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    opens_at: Mapped[time] = mapped_column(Time)
    closes_at: Mapped[time] = mapped_column(Time)

    organisation: Mapped[Organisation] = relationship(back_populates="hours", lazy="raise")
