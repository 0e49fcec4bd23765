"""Responder organisations, their weekly opening hours and dated exceptions to them."""

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow


class RingMode(StrEnum):
    """How an organisation's duty numbers are rung: all at once (the first to accept takes
    the call and Twilio stops the others) or one after another. ``on_duty`` rings the
    phones of the operators on duty now, all at once, and the duty numbers (all at once)
    while nobody is on duty."""

    SIMULTANEOUS = "simultaneous"
    IN_ORDER = "in_order"
    ON_DUTY = "on_duty"


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
    ring_mode: Mapped[str] = mapped_column(String(20), default=RingMode.SIMULTANEOUS,
                                           server_default=RingMode.SIMULTANEOUS.value)
    active: Mapped[bool] = mapped_column(default=True)
    # Operators must use two-factor login too (admins and coordinators always must).
    require_2fa: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    hours: Mapped[list["OpeningHours"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", lazy="selectin",
        order_by="(OpeningHours.weekday, OpeningHours.opens_at)",
    )
    exceptions: Mapped[list["OpeningException"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", lazy="selectin",
        order_by="OpeningException.day",
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


class OpeningException(Base):
    """One date's exception to the weekly hours, in the organisation's time zone.

    ``closed``: a holiday (no ``intervals``) or a closure during ``intervals``. Else the
    organisation is open during ``intervals`` that day instead of the weekday's hours.
    ``intervals`` are "HH:MM-HH:MM" texts, as in the directory file.
    """

    __tablename__ = "opening_exceptions"
    __table_args__ = (
        UniqueConstraint("organisation_id", "day", name="uq_opening_exceptions_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    closed: Mapped[bool]
    intervals: Mapped[list[str]] = mapped_column(JSON, default=list)
    name: Mapped[str | None] = mapped_column(String(100))

    organisation: Mapped[Organisation] = relationship(back_populates="exceptions", lazy="raise")


class NationalLine(Base):
    """One of the hotline's own numbers (the ``To`` of a call or text): the country it
    serves, the languages its menu offers first, and the number replies leave from."""

    __tablename__ = "national_lines"
    __table_args__ = (
        CheckConstraint("length(country) = 2", name="country_alpha2"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    country: Mapped[str] = mapped_column(String(2))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    sms_sender: Mapped[str | None] = mapped_column(String(64))  # None: the number itself
    label: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CountryInformation(Base):
    """One message of the information line for one country and language, in order: what
    a caller there needs (embassies, local rules, emergency numbers). A country with no
    rows in a language gets the generic messages."""

    __tablename__ = "country_information"
    __table_args__ = (
        CheckConstraint("length(country) = 2", name="country_alpha2"),
        UniqueConstraint("country", "language", "position",
                         name="uq_country_information_message"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
