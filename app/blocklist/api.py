"""``/api/blocklist``: admins block an abusive caller from a case, list and lift blocks.

Admins only; operators and coordinators get 403.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field

from app import errors
from app.blocklist import service
from app.blocklist.service import BlockView
from app.db import MAX_INTEGER_ID
from app.deps import NowDep, SessionDep, SettingsDep
from app.users.deps import Admin

router = APIRouter(prefix="/api/blocklist", tags=["blocklist"], responses=errors.SIGNED_IN)
BlockId = Annotated[int, Path(ge=1, le=MAX_INTEGER_ID)]
ERROR_STATUS = {service.NotFound: status.HTTP_404_NOT_FOUND,
                service.Conflict: status.HTTP_409_CONFLICT,
                service.Invalid: status.HTTP_422_UNPROCESSABLE_CONTENT}


class BlockIn(BaseModel):
    case_reference: str = Field(min_length=1, max_length=16,
                                description="the case the caller was abusive in, e.g. HL-ABC123")
    days: int = Field(ge=service.MIN_DAYS, le=service.MAX_DAYS,
                      description="how long the block lasts; it then ends by itself")
    reason: str = Field(min_length=1, max_length=service.MAX_REASON,
                        description="why; phone numbers, e-mails and document numbers "
                                    "are removed. Name nobody.")


class BlockOut(BaseModel):
    id: int
    case_reference: str
    reason: str
    until: datetime
    created_at: datetime
    created_by: str
    lifted_at: datetime | None
    lifted_by: str | None
    removed: dict[str, int] = Field(default_factory=dict,
                                    description="what was taken out of the reason, by kind")

    @classmethod
    def of(cls, found: BlockView, removed: dict[str, int] | None = None) -> "BlockOut":
        return cls(**vars(found), removed=removed or {})


def _refused(exc: service.BlockError) -> HTTPException:
    return HTTPException(ERROR_STATUS[type(exc)], str(exc))


@router.post("", status_code=status.HTTP_201_CREATED,
             responses={**errors.problems(400), 404: errors.problem("No case has this reference"),
                        409: errors.problem("The number was withheld, or the caller is "
                                            "already blocked")})
def block_caller(session: SessionDep, settings: SettingsDep, now: NowDep, admin: Admin,
                 body: BlockIn) -> BlockOut:
    """Block the caller of a case, hotline-wide, for 1 to 365 days.

    The block holds the case's caller pseudonym, never a number. It applies to every
    organisation, whichever asked for it: the caller hears (voice) or reads once (SMS,
    WhatsApp) that the line cannot take their call, and is not routed; no case is opened.
    While the database is unreachable blocks cannot be checked and calls go through.
    404: no such case; 409: the number was withheld, or the caller is already blocked.
    """
    try:
        row, cleaned = service.block(session, settings, admin, body.case_reference,
                                     body.days, body.reason, now)
    except service.BlockError as exc:
        raise _refused(exc) from None
    return BlockOut.of(service.view(session, settings, row.id), cleaned.summary())


@router.get("")
def list_blocks(session: SessionDep, settings: SettingsDep, now: NowDep,
                _admin: Admin) -> list[BlockOut]:
    """Blocks in force now: case reference, reason, until, who; never the pseudonym."""
    return [BlockOut.of(found) for found in service.active_blocks(session, settings, now)]


@router.post("/{block_id}/lift", responses={404: errors.problem("No such block"),
                                            409: errors.problem("The block has already ended")})
def lift_block(session: SessionDep, settings: SettingsDep, now: NowDep, admin: Admin,
               block_id: BlockId) -> BlockOut:
    """End a block now: the caller is routed again from their next call or message.
    404: no such block; 409: it has already ended."""
    try:
        row = service.lift(session, admin, block_id, now)
    except service.BlockError as exc:
        raise _refused(exc) from None
    return BlockOut.of(service.view(session, settings, row.id))
