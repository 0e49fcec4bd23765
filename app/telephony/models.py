"""Replies already given to Twilio, so a retried webhook changes nothing twice."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class WebhookReply(Base):
    __tablename__ = "webhook_replies"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the step
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
