"""The on-duty toggle on the queue page, and who of the organisation is on duty now.

The operator's phone is never put in a page: the form shows it masked as a hint and an
empty field to change it.
"""

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from app.config import Settings
from app.console import auth, flash
from app.console.errors import ConsoleRoute
from app.deps import NowDep, SettingsDep
from app.users import duty
from app.users.models import User

router = APIRouter(route_class=ConsoleRoute)


@dataclass(frozen=True)
class DutyPanel:
    me: duty.DutyState
    on_duty: list[tuple[str, datetime | None]]  # (username, since), longest first


def panel(session: Session, settings: Settings, user: User) -> DutyPanel:
    colleagues = duty.on_duty_operators(session, user.organisation_id or 0)
    return DutyPanel(duty.state(settings, user),
                     [(person.username, person.duty_since) for person in colleagues])


@router.post("/duty")
def set_duty(session: auth.ConsoleDb, settings: SettingsDep, now: NowDep,
             user: auth.OperatorUser, form: auth.Form) -> Response:
    going_on = auth.field(form, "on_duty") == "1"
    try:
        duty.set_duty(session, settings, user, going_on,
                      auth.field(form, "phone") or None, now)
    except duty.DutyError:
        # The code only: what was typed never goes into the URL, logs or history.
        code = "duty-phone" if auth.field(form, "phone").strip() else "duty-no-phone"
        return flash.redirect("/console", error=code)
    return flash.redirect("/console", done="duty-on" if going_on else "duty-off")
