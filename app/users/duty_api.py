"""``/api/me/duty``: an operator goes on or off duty, and the phone they are reached on.

Answers show the phone masked only; the number itself never leaves the service except
to Twilio.
"""

from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from app import errors
from app.deps import NowDep, SessionDep, SettingsDep
from app.users import duty
from app.users.deps import Operator

router = APIRouter(prefix="/api/me", tags=["duty"], responses=errors.SIGNED_IN)


class DutyIn(BaseModel):
    # Strict: the schema says boolean, so 0 or "yes" is refused, not read as one.
    on_duty: bool = Field(strict=True)
    # No length limit here: a refused field is echoed back in the 422, the number with it.
    phone: str | None = Field(default=None,
                              description="E.164 (+…), or whatsapp:+… for alerts by WhatsApp; "
                              "optional when one is stored or when going off duty")


class DutyOut(BaseModel):
    on_duty: bool
    since: datetime | None
    phone_masked: str | None

    @classmethod
    def of(cls, state: duty.DutyState) -> "DutyOut":
        return cls(on_duty=state.on_duty, since=state.since, phone_masked=state.phone_masked)


@router.get("/duty")
def get_duty(settings: SettingsDep, user: Operator) -> DutyOut:
    return DutyOut.of(duty.state(settings, user))


@router.put("/duty", responses=errors.problems(400))
def put_duty(body: DutyIn, session: SessionDep, settings: SettingsDep, now: NowDep,
             user: Operator) -> DutyOut:
    try:
        changed = duty.set_duty(session, settings, user, body.on_duty,
                                body.phone, now)
    except duty.DutyError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return DutyOut.of(changed)
