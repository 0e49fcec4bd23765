"""The operators' API: their organisation's queue and the cases in it.

Another organisation's case answers 404 for every verb, exactly like a case that does
not exist, so an operator cannot even learn that it exists. Every view and change is
written to the audit log, in the same transaction, by the service that does it
(``app.operator_queue.service``, ``app.operator_queue.work``, ``app.cases.search``).
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel

from app import errors
from app.cases import claims, referrals, timeline
from app.cases import search as case_search
from app.cases.models import Case, CasePriority, CaseStatus, Channel, CloseStatus
from app.cases.tools_schemas import EarlierCaseOut, HistoryOut, ReferralOut
from app.db import MAX_INTEGER_ID
from app.deps import NowDep, SessionDep, SettingsDep
from app.operator_queue import service as queue_service
from app.routing.needs import Need
from app.users.deps import Operator
from app.users.models import User

router = APIRouter(prefix="/api/cases", tags=["cases"], responses=errors.SIGNED_IN)


class CaseOut(BaseModel):
    id: uuid.UUID
    reference: str
    status: CaseStatus
    priority: CasePriority
    caller_country: str | None
    language: str | None
    need: Need | None
    child: bool
    created_at: datetime
    claimed_by_me: bool
    claimed: bool
    claim_expires_at: datetime | None
    opted_out: bool
    reporting_consent: bool  # counted in exports to partners
    escalation_level: int = 0  # 1: on-duty operators alerted; 2: the regional hub's too
    escalated_at: datetime | None = None

    @classmethod
    def of(cls, case: Case, user: User, now: datetime) -> "CaseOut":
        live = case.status is CaseStatus.CLAIMED and bool(
            case.claim_expires_at and case.claim_expires_at > now)
        return cls(id=case.id, reference=case.reference, status=case.status,
                   priority=case.priority, caller_country=case.caller_country,
                   language=case.language, need=case.need, child=case.child,
                   created_at=case.created_at, claimed=live,
                   claimed_by_me=live and case.claimed_by_id == user.id,
                   claim_expires_at=case.claim_expires_at if live else None,
                   opted_out=case.opted_out_at is not None,
                   reporting_consent=case.reporting_consent,
                   escalation_level=case.escalation_level, escalated_at=case.escalated_at)


class CaseFoundOut(CaseOut):
    """A case in a list: the queue's fields, and how it came in and ended."""

    channel: Channel | None
    close_status: CloseStatus | None
    closed_at: datetime | None

    @classmethod
    def found(cls, case: Case, user: User, now: datetime) -> "CaseFoundOut":
        return cls(**CaseOut.of(case, user, now).model_dump(), channel=case.channel,
                   close_status=case.close_status, closed_at=case.closed_at)


class CaseDetailOut(CaseFoundOut):
    earlier_cases: list[EarlierCaseOut]  # the same caller's other cases with us
    referral: ReferralOut | None  # the referral to answer, or the decline that sent it back
    history: list[HistoryOut]


@contextmanager
def http_errors() -> Iterator[None]:
    """Service exceptions as HTTP answers: 404 for unknown or foreign, 409 for conflicts."""
    try:
        yield
    except claims.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case") from None
    except claims.Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None


@router.get("")
def list_cases(
        request: Request, response: Response, session: SessionDep, user: Operator,
        now: NowDep,
        reference: Annotated[str | None, Query(max_length=16)] = None,
        case_status: Annotated[CaseStatus | None, Query(alias="status")] = None,
        created_from: Annotated[date | None, Query(alias="from")] = None,
        created_to: Annotated[date | None, Query(alias="to")] = None,
        language: Annotated[str | None, Query(max_length=8)] = None,
        channel: Channel | None = None, priority: CasePriority | None = None,
        limit: Annotated[int, Query(ge=1, le=case_search.MAX_PAGE)] = case_search.PAGE,
        offset: Annotated[int, Query(ge=0, le=MAX_INTEGER_ID)] = 0,
) -> list[CaseFoundOut]:
    """Without filters, the organisation's open cases: child first, then urgent, then
    normal; oldest first. With any filter, a search of all its cases, closed ones too,
    newest first, a page at a time (``X-Next-Offset`` names the next page). ``from`` and
    ``to`` are days of creation in the organisation's time zone."""
    filters = case_search.Filters(reference=reference, status=case_status,
                                  created_from=created_from, created_to=created_to,
                                  language=language, channel=channel, priority=priority)
    if not filters.names() and "limit" not in request.query_params and (
            "offset" not in request.query_params):
        cases = queue_service.view_queue(session, user, now)
        return [CaseFoundOut.found(c, user, now) for c in cases]
    try:
        page = case_search.find(session, user, filters, now, limit=limit, offset=offset)
    except case_search.InvalidSearch as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    if page.next_offset is not None:
        response.headers["X-Next-Offset"] = str(page.next_offset)
    return [CaseFoundOut.found(c, user, now) for c in page.cases]


@router.post("/claim-next", responses={404: errors.problem("The queue is empty")})
def claim_next(session: SessionDep, settings: SettingsDep, now: NowDep,
               user: Operator) -> CaseOut:
    case = queue_service.claim_next(session, settings, user, now)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the queue is empty")
    return CaseOut.of(case, user, now)


# A case id is a UUID in the path itself, so GET /claim-next is a wrong method (405),
# not a malformed id.
@router.get("/{case_id:uuid}", responses=errors.problems(404))
def get_case(case_id: uuid.UUID, session: SessionDep, settings: SettingsDep, now: NowDep,
             user: Operator) -> CaseDetailOut:
    with http_errors():
        case = queue_service.view_case(session, user, case_id, now)
    earlier = case_search.view_earlier(session, user, case, now)
    referral = referrals.view(session, settings, case)
    return CaseDetailOut(
        **CaseFoundOut.found(case, user, now).model_dump(),
        earlier_cases=[EarlierCaseOut.of(c) for c in earlier],
        referral=ReferralOut.of(referral) if referral else None,
        history=[HistoryOut.of(e) for e in timeline.entries(session, case.id,
                                                            case.organisation_id)])


@router.post("/{case_id:uuid}/claim", responses=errors.problems(404, 409))
def claim(case_id: uuid.UUID, session: SessionDep, settings: SettingsDep, now: NowDep,
          user: Operator) -> CaseOut:
    with http_errors():
        case = queue_service.claim(session, settings, user, case_id, now)
    return CaseOut.of(case, user, now)


@router.post("/{case_id:uuid}/release", responses=errors.problems(404, 409))
def release(case_id: uuid.UUID, session: SessionDep, now: NowDep,
            user: Operator) -> CaseOut:
    with http_errors():
        case = queue_service.release(session, user, case_id, now)
    return CaseOut.of(case, user, now)
