"""The privacy budget ledger: every differentially private release and what it cost.

A release is stored with its figures, so asking the same question again the same day
returns the same noisy answer instead of spending budget on a fresh draw (averaging
fresh draws would wear the noise away).
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, String, UniqueConstraint
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
