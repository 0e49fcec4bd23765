"""The privacy budget ledger (every differentially private release and what it cost) and
the stored figures of settled months (``StatsRollup``, ``StatsChange``, see
``app.stats.rollup``).

A release is stored with its figures, so asking the same question again the same day
returns the same noisy answer instead of spending budget on a fresh draw (averaging
fresh draws would wear the noise away).
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class StatsRelease(Base):
    __tablename__ = "stats_releases"
    __table_args__ = (UniqueConstraint("query_key", "day", name="uq_stats_releases_query_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query_key: Mapped[str] = mapped_column(String(64))  # sha256 of the normalised query
    day: Mapped[date] = mapped_column(Date)
    epsilon: Mapped[float] = mapped_column(Float)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class StatsRollup(Base):
    """The figures of one month up to ``settled_until`` (see ``app.stats.rollup``), valid
    while the month's ``StatsChange.changes`` is still the ``changes`` they were built at."""

    __tablename__ = "stats_rollups"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM, UTC
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # contacts, cases, quality
    settled_until: Mapped[datetime] = mapped_column(UTCDateTime)
    changes: Mapped[int] = mapped_column(Integer)
    body: Mapped[Any] = mapped_column(JSON)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatsChange(Base):
    """How many times a settled record dated in the month was inserted, changed in a counted
    column or deleted; kept by database triggers (migration 0007)."""

    __tablename__ = "stats_changes"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    changes: Mapped[int] = mapped_column(Integer)
