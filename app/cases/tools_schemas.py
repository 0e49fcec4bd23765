"""API shapes of the case tools: a caller's earlier cases, the referral, the history, the
sender's referral status lines. No caller's number or name in any of them."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from app.cases import referrals, timeline
from app.cases.casework import ReferralStatus
from app.cases.models import Case, CaseStatus, CloseStatus


class EarlierCaseOut(BaseModel):
    """Another case of the same caller with this organisation: a reference to look up."""

    id: uuid.UUID
    reference: str
    status: CaseStatus
    close_status: CloseStatus | None
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, case: Case) -> "EarlierCaseOut":
        return cls(id=case.id, reference=case.reference, status=case.status,
                   close_status=case.close_status, created_at=case.created_at,
                   closed_at=case.closed_at)


class ReferralOut(BaseModel):
    id: int
    status: ReferralStatus
    service: str
    reason: str  # scrubbed before it was stored
    from_organisation: str
    to_organisation: str
    incoming: bool  # true: referred to this organisation; false: declined, back with us
    created_at: datetime
    responded_at: datetime | None
    decline_reason: str | None

    @classmethod
    def of(cls, view: referrals.ReferralView) -> "ReferralOut":
        return cls(**vars(view))


class HistoryOut(BaseModel):
    at: datetime
    kind: str
    by: str | None
    about: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, entry: timeline.Entry) -> "HistoryOut":
        return cls(**vars(entry))


class SentReferralOut(BaseModel):
    reference: str
    to_organisation: str
    status: referrals.SentStatus
    referred_at: datetime
    responded_at: datetime | None
